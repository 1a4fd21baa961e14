"""Time columns of transport logs: ISO 8601, Unix or LabVIEW epoch seconds, elapsed time.

Conventions: absolute times are returned as float Unix seconds (UTC); naive date-times (no
offset written) are taken in the ``timezone`` the user names (IANA name, default ``UTC``) and
flagged. Numeric columns above 1e8 s are epoch seconds: Unix (since 1970-01-01 UTC) below 3e9,
LabVIEW (since 1904-01-01 UTC, 2,082,844,800 s earlier) above. Smaller numbers are elapsed
seconds (scaled by the column unit, e.g. ``Time (min)``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hydrofw.errors import ParameterError

from .units import Unit

__all__ = [
    "TimeAxis", "time_axis", "date_and_time_of_day", "start_time_from_header",
    "LABVIEW_EPOCH_OFFSET_S",
]  # fmt: skip

#: Seconds from the LabVIEW epoch (1904-01-01 UTC) to the Unix epoch (1970-01-01 UTC).
LABVIEW_EPOCH_OFFSET_S = 2_082_844_800.0
_EPOCH_MIN_S = 1e8
_LABVIEW_MIN_S = 3e9
_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%Y-%m-%d %H:%M",
)


@attrs.frozen
class TimeAxis:
    """``seconds``: Unix seconds when ``absolute``, else seconds since an unknown origin."""

    seconds: np.ndarray
    absolute: bool
    flags: tuple[str, ...] = ()
    bad_row: int | None = None


def _zone(timezone: str) -> str:
    try:
        pc.assume_timezone(pa.array([0], pa.timestamp("s")), timezone=timezone)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        raise ParameterError(f"timezone {timezone!r} is not a known IANA time zone") from None
    return timezone


def _timestamps_to_seconds(array: pa.Array, timezone: str) -> tuple[np.ndarray, tuple[str, ...]]:
    flags: tuple[str, ...] = ()
    if array.type.tz is None:
        array = pc.assume_timezone(
            array, timezone=_zone(timezone), ambiguous="earliest", nonexistent="earliest"
        )
        flags = (f"time_zone_assumed:{timezone}",)
    micro = array.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    seconds = micro.to_numpy(zero_copy_only=False).astype(np.float64) / 1e6
    if micro.null_count:
        seconds[~micro.is_valid().to_numpy(zero_copy_only=False)] = np.nan
    return seconds, flags


def _parse_text(array: pa.Array) -> pa.Array | None:
    """Date-times from text: ISO 8601 (``2024/05/01`` dates accepted), then a few other forms."""
    text = pc.utf8_trim_whitespace(array)
    text = pc.replace_substring_regex(text, r"^(\d{4})/(\d{2})/(\d{2})", r"\1-\2-\3")
    for target in (pa.timestamp("us", tz="UTC"), pa.timestamp("us")):
        try:
            return text.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    for fmt in _FORMATS:
        try:
            return pc.strptime(text, format=fmt, unit="us")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return None


def date_and_time_of_day(day: pa.Array, clock: pa.Array, timezone: str) -> TimeAxis | None:
    """Absolute seconds from a date column (``2025/03/07``, ``2025-03-07`` or parsed dates)
    and a time-of-day column parsed as Arrow times (LabVIEW writes them apart), without
    joining strings; None when the dates are not all plain dates (the caller then joins the
    text and parses it as date-times)."""
    try:
        if pa.types.is_date(day.type):
            midnight = day.cast(pa.timestamp("s"))
        elif pa.types.is_string(day.type) or pa.types.is_large_string(day.type):
            text = pc.replace_substring(pc.utf8_trim_whitespace(day), "/", "-")
            midnight = pc.strptime(text, format="%Y-%m-%d", unit="s")
        else:
            return None
        unit_s = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[clock.type.unit]
        since = clock.cast(pa.int64() if pa.types.is_time64(clock.type) else pa.int32())
        day_s = midnight.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.float64)
        clock_s = since.to_numpy(zero_copy_only=False).astype(np.float64) / unit_s
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, KeyError):
        return None
    if midnight.null_count or since.null_count:
        return None
    local = pa.array(np.round((day_s + clock_s) * 1e6).astype(np.int64), pa.timestamp("us"))
    seconds, flags = _timestamps_to_seconds(local, timezone)
    return TimeAxis(seconds, True, flags)


def _first_bad_row(array: pa.Array) -> int:
    """The first cell that is neither a number nor a date-time (in a column mixing numbers
    with one garbage cell, or date-times with one)."""
    numbers = 0
    for row, value in enumerate(array.to_pylist()):
        if value is None or not str(value).strip():
            continue
        try:
            float(str(value))
            numbers += 1
            continue
        except ValueError:
            pass
        if numbers or _parse_text(pa.array([value])) is None:
            return row
    return 0


def time_axis(array: pa.Array, unit: Unit | None, timezone: str = "UTC") -> TimeAxis:
    """Interpret a time column (see module docstring). ``bad_row`` is set when a text cell is
    neither a number nor a date-time."""
    if pa.types.is_timestamp(array.type):
        seconds, flags = _timestamps_to_seconds(array, timezone)
        return TimeAxis(seconds, True, flags)
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        try:
            array = pc.utf8_trim_whitespace(array).cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            parsed = _parse_text(array)
            if parsed is None:
                return TimeAxis(np.empty(0), False, bad_row=_first_bad_row(array))
            seconds, flags = _timestamps_to_seconds(parsed, timezone)
            return TimeAxis(seconds, True, flags)
    values = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
    scale = unit.scale if unit is not None else 1.0
    finite = values[np.isfinite(values)]
    typical = float(np.median(finite)) * scale if finite.size else 0.0
    if typical >= _LABVIEW_MIN_S:
        return TimeAxis(values * scale - LABVIEW_EPOCH_OFFSET_S, True, ("labview_epoch",))
    if typical >= _EPOCH_MIN_S:
        return TimeAxis(values * scale, True)
    return TimeAxis(values * scale, False)


_START_KEYS = (
    "start",
    "start time",
    "start_time",
    "started",
    "started at",
    "acquired",
    "acquired at",
    "acquired_at",
    "datetime",
    "date time",
    "timestamp",
    "date",
)


def _parse_datetime(text: str, timezone: str) -> dt.datetime | None:
    t = text.strip().replace("/", "-")
    t = re.sub(r"(\.\d{6})\d+", r"\1", t)
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    try:
        value = dt.datetime.fromisoformat(t)
    except ValueError:
        return None
    if value.tzinfo is None:
        seconds, _ = _timestamps_to_seconds(pa.array([value], pa.timestamp("us")), timezone)
        return dt.datetime.fromtimestamp(float(seconds[0]), dt.UTC)
    return value.astimezone(dt.UTC)


def start_time_from_header(
    parameters: Mapping[str, str], timezone: str = "UTC"
) -> dt.datetime | None:
    """The acquisition start written in a log header (``# Start: 2024-05-01T12:00:00Z``, or
    LabVIEW's separate ``Date``/``Time`` lines), as UTC; None when there is none."""
    lowered = {k.strip().lower(): v for k, v in parameters.items()}
    for key in _START_KEYS:
        if key not in lowered:
            continue
        value = lowered[key]
        if key == "date" and "time" in lowered:
            value = f"{value} {lowered['time']}"
        parsed = _parse_datetime(value, timezone)
        if parsed is not None:
            return parsed
    return None
