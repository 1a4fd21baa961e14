"""Reader of SRS SIM921 AC resistance bridge logs (format ``sim921``).

The SIM921 has no file format: labs log ``RVAL?`` (and a thermometer's ``TVAL?``) from LabVIEW,
Python, PyMeasure or QCoDeS into CSV, TSV or whitespace tables with an optional comment header.
This reader finds the header, the delimiter and the temperature, resistance and time columns
(:mod:`.columns`), decodes bridge settings written in the header (:mod:`.header`), turns reply
strings and overload markers into numbers or NaN (:mod:`.values`), and yields one
``TransportCurve`` per cooling or warming sweep (:mod:`.curves`).

Options (all keyword):
``columns``  mapping role -> column name or 0-based index, roles ``temperature``,
             ``resistance``, ``time``, ``date`` (joined with a time-of-day ``time``),
             ``excitation`` (A, per point), ``frequency`` (Hz).
``units``    mapping role -> unit text (``{"resistance": "kOhm", "temperature": "mK"}``) for
             columns whose header carries no (or a wrong) unit.
``timezone`` IANA zone of naive date-times (default ``"UTC"``, flagged).
``min_span_k``, ``smoothing_points``: sweep splitting (see :class:`.curves.SweepOptions`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hydrofw.errors import FormatError, HydrofwError
from hydrofw.ids import file_sha256
from hydrofw.records import TransportCurve
from hydrofw.source import Source

from .columns import ROLES, ColumnMap, identify_columns
from .curves import Trace, curves_from_trace, sweep_options
from .delimited import TextLog, line_of_row, parse_columns, split_log
from .header import bridge_settings, header_parameters
from .timebase import start_time_from_header, time_axis
from .values import to_float

__all__ = ["sniff", "read", "FORMAT", "EXTENSIONS"]

FORMAT = "sim921"
EXTENSIONS = (".csv", ".tsv", ".txt", ".dat", ".log")
_SNIFF_BYTES = 16384
_INSTRUMENT = "SRS SIM921"


def sniff(source: Source) -> float:
    """Confidence that ``source`` is an R(T) log: a text table with a temperature and a
    resistance column (0 for folders, binary files, MultiVu files and other tables)."""
    if source.is_dir():
        return 0.0
    head = source.head(_SNIFF_BYTES)
    if not head or head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"[Header]"):
        return 0.0
    cut = head.rfind(b"\n")
    if cut > 0 and len(head) == _SNIFF_BYTES:
        head = head[: cut + 1]
    try:
        log = split_log(head, source.path)
        cmap = identify_columns(log.headers, source.path)
    except HydrofwError:
        return 0.0
    score = 0.55
    text = head.lower()
    if b"sim921" in text or b"rval" in text:
        score += 0.3
    if cmap.resistance.unit is not None:
        score += 0.05
    if source.suffix in EXTENSIONS:
        score += 0.05
    return min(score, 0.95)


def _column_error(
    log: TextLog,
    cmap: ColumnMap,
    role: str,
    row: int,
    text: str | None,
    expected: str = "a number nor an overload/missing marker",
) -> FormatError:
    col = getattr(cmap, role)
    return FormatError(
        log.where,
        f"column {col.header!r} ({role}) holds {text!r}, which is neither {expected}",
        line=line_of_row(log, row),
    )


def _numeric(
    log: TextLog, cmap: ColumnMap, role: str, array: pa.Array
) -> tuple[np.ndarray, np.ndarray]:
    """SI values of a numeric column and its overload mask."""
    clean = to_float(array)
    if clean.bad_row is not None:
        raise _column_error(log, cmap, role, clean.bad_row, clean.bad_text)
    unit = cmap.unit(role)
    return clean.values * unit.scale + unit.offset, clean.overload


def _time(
    log: TextLog, cmap: ColumnMap, arrays: Mapping[int, pa.Array], timezone: str
) -> tuple[np.ndarray | None, bool, tuple[str, ...]]:
    """Seconds of every row (Unix seconds when absolute), whether absolute, and flags. A
    ``date`` column is joined with a time-of-day ``time`` column, or stands alone."""
    role = "time" if cmap.time is not None else "date"
    column = getattr(cmap, role)
    if column is None:
        return None, False, ()
    values = arrays[column.index]
    if cmap.date is not None and cmap.time is not None and pa.types.is_string(values.type):
        day = arrays[cmap.date.index].cast(pa.string())
        values = pc.binary_join_element_wise(day, values, " ")
    axis = time_axis(values, column.unit, timezone)
    if axis.bad_row is not None:
        raise _column_error(
            log,
            cmap,
            role,
            axis.bad_row,
            str(values[axis.bad_row].as_py()),
            expected="a number nor a date-time",
        )
    return axis.seconds, axis.absolute, axis.flags


def _median(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else None


def _temperature(log: TextLog, cmap: ColumnMap, arrays: Mapping[int, pa.Array]) -> np.ndarray:
    """Temperatures in K; a column without any, or with negative kelvins, is refused."""
    temperature_k, _ = _numeric(log, cmap, "temperature", arrays[cmap.temperature.index])
    if not np.isfinite(temperature_k).any():
        raise FormatError(log.where, f"column {cmap.temperature.header!r} holds no temperatures")
    negative = np.flatnonzero(temperature_k < 0)
    if negative.size:
        raise FormatError(
            log.where,
            f"column {cmap.temperature.header!r} holds negative temperatures; if it is in "
            f"degrees Celsius or a raw sensor value, say so with units={{'temperature': 'C'}} "
            f"or columns={{...}}",
            line=line_of_row(log, int(negative[0])),
        )
    return temperature_k


def _trace(
    data: bytes,
    where: str,
    columns: Mapping[str, str | int] | None,
    units: Mapping[str, str] | None,
    timezone: str,
) -> Trace:
    """The whole log as one :class:`Trace` (SI units, settings from the header)."""
    log = split_log(data, where)
    cmap = identify_columns(log.headers, where, columns, units)
    roles = [r for r in ROLES if getattr(cmap, r) is not None]
    arrays = parse_columns(log, [getattr(cmap, r).index for r in roles])
    temperature_k = _temperature(log, cmap, arrays)
    resistance_ohm, overload = _numeric(log, cmap, "resistance", arrays[cmap.resistance.index])
    parameters = header_parameters(log.preamble)
    settings = bridge_settings(parameters)
    time_s, absolute, time_flags = _time(log, cmap, arrays, timezone)
    excitation_a = settings.excitation_a
    if cmap.excitation is not None:
        excitation_a = _median(_numeric(log, cmap, "excitation", arrays[cmap.excitation.index])[0])
    frequency_hz = settings.frequency_hz
    if cmap.frequency is not None:
        frequency_hz = _median(_numeric(log, cmap, "frequency", arrays[cmap.frequency.index])[0])
    return Trace(
        temperature_k=temperature_k,
        resistance_ohm=resistance_ohm,
        overload=overload,
        time_s=time_s,
        time_absolute=absolute,
        start=None if absolute else start_time_from_header(parameters, timezone),
        excitation_a=excitation_a,
        frequency_hz=frequency_hz,
        instrument=_INSTRUMENT,
        parameters={**parameters, **settings.decoded},
        flags=(*cmap.flags, *settings.flags, *time_flags),
    )


def read(
    source: Source,
    *,
    columns: Mapping[str, str | int] | None = None,
    units: Mapping[str, str] | None = None,
    timezone: str = "UTC",
    min_span_k: float = 2.0,
    smoothing_points: int = 9,
) -> Iterator[TransportCurve]:
    """Yield one ``TransportCurve`` per sweep of a SIM921 log (see module docstring)."""
    options = sweep_options("sim921", min_span_k, smoothing_points)
    data = source.read_bytes()
    with ThreadPoolExecutor(max_workers=1) as pool:  # hash the file while it is parsed
        digest = pool.submit(file_sha256, data)
        trace = _trace(data, source.path, columns, units, timezone)
        sha256 = digest.result()
    yield from curves_from_trace(
        trace, source_path=source.path, source_sha256=sha256, format=FORMAT, options=options
    )
