"""Time series of per-cell quantities against days since synthesis (table ``timeseries``).

One row is one value of one quantity of one cell: ``h_over_la``, ``la_shift_ppm``,
``tc_onset_k`` ... at ``days_since_synthesis`` (days, float; negative before the laser-heating
synthesis, e.g. for the LaH3 precursor measured before heating). Build rows with
:class:`TimeSeriesPoint` and :func:`hydrofw.to_table`; compute the day axis with
:func:`days_since_synthesis`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, ClassVar

import attrs
import numpy as np
import pyarrow as pa

from hydrofw.errors import ValidationError
from hydrofw.ids import content_id
from hydrofw.records import Record

__all__ = ["TimeSeriesPoint", "days_since_synthesis", "SECONDS_PER_DAY"]

SECONDS_PER_DAY = 86400.0


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValidationError(f"acquired_at must be a time-zone aware datetime, got {value!r}")
    return value.astimezone(dt.UTC)


def _hashable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _str_tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


@attrs.frozen(eq=True)
class TimeSeriesPoint(Record):
    """One value of ``quantity`` for ``cell`` at ``days_since_synthesis`` (d)."""

    __table__: ClassVar[str] = "timeseries"

    cell: str = attrs.field(converter=str)
    quantity: str = attrs.field(converter=str)
    days_since_synthesis: float = attrs.field(converter=float)
    value: float = attrs.field(converter=float)
    value_err: float | None = attrs.field(default=None, converter=_opt_float)
    unit: str | None = None
    campaign: str | None = None
    acquired_at: dt.datetime | None = attrs.field(default=None, converter=_aware)
    method: str | None = None
    input_ids: tuple[str, ...] | None = attrs.field(default=None, converter=_str_tuple)
    flags: tuple[str, ...] | None = attrs.field(default=None, converter=_str_tuple)
    id: str | None = None

    def __attrs_post_init__(self) -> None:
        if not np.isfinite(self.days_since_synthesis):
            raise ValidationError("days_since_synthesis must be finite")
        if self.value_err is not None and self.value_err < 0:
            raise ValidationError(f"value_err must not be negative, got {self.value_err}")
        if self.id is None:
            content = [
                (a.name, _hashable(getattr(self, a.name)))
                for a in attrs.fields(type(self))
                if a.name != "id"
            ]
            object.__setattr__(self, "id", content_id(self.__table__, content))


def _epoch_seconds(timestamps: Any) -> np.ndarray:
    """Seconds since 1970-01-01 UTC of aware datetimes, a pyarrow timestamp array (with a time
    zone) or numpy ``datetime64`` values (taken as UTC)."""
    if isinstance(timestamps, pa.ChunkedArray | pa.Array):
        if not pa.types.is_timestamp(timestamps.type) or timestamps.type.tz is None:
            raise ValidationError(
                "timestamps must be a time-zone aware Arrow timestamp column, "
                f"got {timestamps.type}"
            )
        if timestamps.null_count:
            raise ValidationError(f"timestamps hold {timestamps.null_count} nulls")
        micro = timestamps.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
        return np.asarray(micro.to_numpy(zero_copy_only=False), dtype=np.float64) / 1e6
    if isinstance(timestamps, np.ndarray) and np.issubdtype(timestamps.dtype, np.datetime64):
        return timestamps.astype("datetime64[us]").astype(np.int64).astype(np.float64) / 1e6
    items: Iterable[Any] = [timestamps] if isinstance(timestamps, dt.datetime) else timestamps
    out = []
    for t in items:
        if not isinstance(t, dt.datetime) or t.tzinfo is None:
            raise ValidationError(f"timestamp {t!r} is not a time-zone aware datetime")
        out.append(t.timestamp())
    return np.asarray(out, dtype=np.float64)


def days_since_synthesis(timestamps: Any, synthesized_at: dt.datetime) -> np.ndarray:
    """Days (float64, 86400 s each) from ``synthesized_at`` to each timestamp.

    ``timestamps``: one aware datetime, an iterable of them, a pyarrow timestamp array with a
    time zone, or numpy ``datetime64`` values (read as UTC). Naive datetimes are refused: a
    campaign spans time zones and daylight-saving changes, so only UTC-anchored times are safe.
    """
    if not isinstance(synthesized_at, dt.datetime) or synthesized_at.tzinfo is None:
        raise ValidationError(
            f"synthesized_at must be a time-zone aware datetime, got {synthesized_at!r}"
        )
    seconds = _epoch_seconds(timestamps)
    return (seconds - synthesized_at.timestamp()) / SECONDS_PER_DAY
