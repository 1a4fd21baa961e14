"""Quantum Design MultiVu ``.dat`` files (PPMS, DynaCool, VersaLab, MPMS): header and data.

Layout: a ``[Header]`` section of comma-separated keyword lines (``TITLE``, ``BYAPP``,
``FILEOPENTIME``, ``INFO``, ``FIELDGROUP``, ...; ``;`` starts a comment), then ``[Data]``, one
line of column names and comma-separated rows. Rows may be shorter than the header (MultiVu
leaves out trailing empty fields) or end with a trailing comma; empty fields are missing values.
A last line without a line break (MultiVu stopped mid-write) is dropped and its byte offset
kept (``truncated_at``): readers flag ``truncated:<offset>``; a cut number is never a reading.

Time: ``FILEOPENTIME, <seconds>, <local date>, <local time>`` pairs the time-stamp clock with
the wall clock of the computer. MPMS and DynaCool MultiVu count Unix seconds (UTC); the PPMS
MultiVu files seen so far count from another origin (the two real files differ by years). When
the seconds agree with the wall clock as Unix time (within 14 h, in whole quarter hours) they
are taken as Unix seconds; otherwise every time stamp is anchored at the wall-clock file-open
time (minute resolution), in the user's ``timezone``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import numpy as np

from hydrofw.errors import FormatError, ParameterError

from .truncation import last_line_cut

__all__ = ["MultiVuFile", "parse_multivu", "is_multivu", "TimeAnchor", "time_anchor"]

_FILEOPEN = re.compile(
    r"(?P<sec>\d+(?:\.\d*)?)\s*,?\s*(?P<date>\d{1,2}/\d{1,2}/\d{4})\s*,?\s*"
    r"(?P<time>\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp][Mm])?)"
)
_MAX_UTC_OFFSET_S = 14 * 3600
_CLOCK_SLACK_S = 120


@attrs.frozen
class MultiVuFile:
    """Header (``keyword -> rest of line``, repeated keywords numbered ``KEY#n``), column
    names, numeric columns (NaN for empty fields), and for text columns the (line, text) of
    their first non-numeric cell."""

    where: str
    header: dict[str, str]
    names: tuple[str, ...]
    numeric: dict[str, np.ndarray]
    text_cells: dict[str, tuple[int, str]]
    truncated_at: int | None = None  # byte offset of a last line cut mid-write (dropped)

    @property
    def application(self) -> str:
        """``BYAPP`` (e.g. 'Resistivity, 2.1, 1.0', 'MPMS Measurement,2.1,Summary')."""
        return self.header.get("BYAPP", "")

    def info(self, name: str) -> str | None:
        """An ``INFO`` entry by name, e.g. ``info('APPNAME')``."""
        for key, value in self.header.items():
            if key.split("#")[0] == "INFO":
                fields = [f.strip() for f in value.split(",")]
                if fields and fields[0] == name:
                    return ", ".join(f for f in fields[1:] if f)
        return None


def is_multivu(head: bytes) -> bool:
    """True when the bytes start like a MultiVu file."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[Header]")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_multivu(data: bytes, where: str) -> MultiVuFile:
    """Parse a MultiVu file; :class:`FormatError` names the line of any malformed part."""
    if b"\x00" in data[:65536]:
        raise FormatError(where, "holds binary data (NUL bytes), not a MultiVu text file")
    if not is_multivu(data[:64]):
        raise FormatError(
            where, "does not start with [Header]: not a Quantum Design MultiVu file", line=1
        )
    truncated_at = last_line_cut(data)
    if truncated_at is not None:
        data = data[:truncated_at]
    lines = _decode(data).lstrip("\ufeff").splitlines()
    header: dict[str, str] = {}
    data_at = None
    for number, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if stripped == "[Data]":
            data_at = number
            break
        if not stripped or stripped.startswith(";"):
            continue
        keyword, _, rest = stripped.partition(",")
        key = keyword.strip()
        if key in header:
            key = f"{key}#{number}"
        header[key] = rest.strip()
    if data_at is None:
        raise FormatError(where, "has a [Header] but no [Data] section", line=len(lines) or None)
    if data_at >= len(lines) or not lines[data_at].strip():
        cut = "" if truncated_at is None else f" (the file ends mid-line at byte {truncated_at})"
        raise FormatError(where, f"has no column names after [Data]{cut}", line=data_at + 1)
    names = tuple(n.strip() for n in next(csv.reader([lines[data_at]])))
    while names and not names[-1]:
        names = names[:-1]
    rows = list(csv.reader(io.StringIO("\n".join(lines[data_at + 1 :]))))
    first = data_at + 2
    width = len(names)
    table: list[list[str]] = []
    numbers: list[int] = []
    for k, row in enumerate(rows):
        if not any(f.strip() for f in row):
            continue
        if len(row) > width:
            if any(f.strip() for f in row[width:]):
                raise FormatError(
                    where,
                    f"row has {len(row)} fields but the header names {width} columns",
                    line=first + k,
                )
            row = row[:width]
        table.append(row + [""] * (width - len(row)))
        numbers.append(first + k)
    numeric, text_cells = _numeric_columns(names, table, numbers)
    return MultiVuFile(where, header, names, numeric, text_cells, truncated_at)



def _numeric_columns(
    names: tuple[str, ...], table: list[list[str]], numbers: list[int]
) -> tuple[dict[str, np.ndarray], dict[str, tuple[int, str]]]:
    """Columns whose every non-empty cell is a number, as float64 (NaN for empty cells), and
    the first non-numeric cell (line, text) of every other column."""
    numeric: dict[str, np.ndarray] = {}
    text_cells: dict[str, tuple[int, str]] = {}
    if not table:
        return {n: np.empty(0) for n in names}, text_cells
    for name, cells in zip(names, zip(*table, strict=True), strict=True):
        text = np.array([c.strip() or "nan" for c in cells])
        try:
            numeric[name] = text.astype(np.float64)
        except ValueError:
            for k, cell in enumerate(text):
                try:
                    float(cell)
                except ValueError:
                    text_cells[name] = (numbers[k], str(cell))
                    break
    return numeric, text_cells


@attrs.frozen
class TimeAnchor:
    """``utc = seconds + offset_s`` (Unix seconds). ``flags`` say how the offset was found."""

    offset_s: float
    flags: tuple[str, ...] = ()


def _wall_clock(match: re.Match[str]) -> dt.datetime | None:
    text = f"{match.group('date')} {match.group('time').upper().replace(' ', '')}"
    for fmt in ("%m/%d/%Y %I:%M:%S%p", "%m/%d/%Y %I:%M%p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def time_anchor(mv: MultiVuFile, timezone: str = "UTC") -> TimeAnchor | None:
    """How to turn this file's time stamps into Unix seconds (None without ``FILEOPENTIME``)."""
    m = _FILEOPEN.search(mv.header.get("FILEOPENTIME", ""))
    if not m:
        return None
    seconds = float(m.group("sec"))
    wall = _wall_clock(m)
    if wall is None:
        return None
    as_unix = dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
    offset = (wall - as_unix).total_seconds()
    quarter = round(offset / 900.0) * 900.0
    if (
        abs(offset) <= _MAX_UTC_OFFSET_S + _CLOCK_SLACK_S
        and abs(offset - quarter) <= _CLOCK_SLACK_S
    ):
        return TimeAnchor(0.0, (f"multivu_unix_epoch_utc_offset_s:{quarter:+.0f}",))
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ParameterError(f"timezone {timezone!r} is not a known IANA time zone") from None
    wall_utc = wall.replace(tzinfo=zone).astimezone(dt.UTC).timestamp()
    return TimeAnchor(
        wall_utc - seconds,
        ("multivu_time_anchored_at_fileopentime", f"time_zone_assumed:{timezone}"),
    )
