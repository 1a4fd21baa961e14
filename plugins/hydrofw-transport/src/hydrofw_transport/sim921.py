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
``delimiter``  the field delimiter (``"\t"``/``"tab"``, ``","``, ``";"``, ``"whitespace"``, any
             single character); default: detected.
``header_line`` 1-based number of the column-name line (default: the last text line before
             the data).
``header_file`` a file beside the data holding the column names (its last line, or one name
             per line) and optionally ``key: value`` settings; both files are named in the
             record (``source_path`` and ``parameters['header_file']`` with its sha256).
             When the data has no usable header, ``<stem>_header<ext>``, ``<stem>_header.txt``,
             ``<stem>.hdr`` and ``<stem>.header`` beside it are tried.
``skip_bad_lines`` drop lines with the wrong number of fields or text in a numeric column
             instead of failing; the record is flagged ``skipped_lines:<count>:<l1,l2,...>``
             (all numbers in ``parameters['skipped_lines']``).

Current reversal: with columns ``V+``, ``V-`` and ``I+``, ``I-`` (or one current column, or
the header's excitation), R = (V+ - V-) / (I+ - I-) (flag ``current_reversal``). A last line
cut mid-write is dropped (flag ``truncated:<byte offset>``); a cut number is never a reading.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hydrofw.errors import FormatError, HydrofwError, ParameterError
from hydrofw.ids import file_sha256
from hydrofw.records import TransportCurve
from hydrofw.source import Source

from .columns import ROLES, ColumnMap, identify_columns
from .curves import Trace, curves_from_trace, sweep_options
from .delimited import (
    TextLog,
    delimiter_option,
    line_of_row,
    lines_of_rows,
    parse_columns,
    split_log,
)
from .header import bridge_settings, header_parameters
from .header_file import header_file_names
from .timebase import date_and_time_of_day, start_time_from_header, time_axis
from .truncation import truncation_flag
from .values import to_float

__all__ = ["sniff", "read", "FORMAT", "EXTENSIONS"]

FORMAT = "sim921"
EXTENSIONS = (".csv", ".tsv", ".txt", ".dat", ".log")
_SNIFF_BYTES = 16384
_INSTRUMENT = "SRS SIM921"
_SHOWN_LINES = 20
_MAX_BAD_TIMES = 100  # skip_bad_lines: unreadable time cells dropped one parse at a time


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
        try:  # a data file whose column names sit in a header file beside it
            names, _, _ = header_file_names(source, None, None, auto=True)
            if names is None:
                return 0.0
            log = split_log(head, source.path, names=names)
            cmap = identify_columns(log.headers, source.path)
        except HydrofwError:
            return 0.0
    score = 0.55
    text = head.lower()
    if b"sim921" in text or b"rval" in text:
        score += 0.3
    if cmap.resistance is not None and cmap.resistance.unit is not None:
        score += 0.05
    if source.suffix in EXTENSIONS:
        score += 0.05
    return min(score, 0.95)


@attrs.define
class _Rows:
    """Rows dropped by ``skip_bad_lines`` (mask over the parsed rows) and the parse's skips."""

    log: TextLog
    skip: bool
    skipped_lines: tuple[int, ...]
    bad: np.ndarray | None = None

    def line(self, row: int) -> int | None:
        return line_of_row(self.log, row, self.skipped_lines)

    def drop(self, mask: np.ndarray) -> None:
        self.bad = mask if self.bad is None else self.bad | mask


def _column_error(
    rows: _Rows,
    cmap: ColumnMap,
    role: str,
    row: int,
    text: str | None,
    expected: str = "a number nor an overload/missing marker",
    option: bool = True,
) -> FormatError:
    col = getattr(cmap, role)
    hint = (
        "; pass skip_bad_lines=True to drop such lines (their numbers are reported in the "
        "record's flags)"
        if option
        else ""
    )
    return FormatError(
        rows.log.where,
        f"column {col.header!r} ({role}) holds {text!r}, which is neither {expected}{hint}",
        line=rows.line(row),
    )


def _numeric(
    rows: _Rows, cmap: ColumnMap, role: str, array: pa.Array
) -> tuple[np.ndarray, np.ndarray]:
    """SI values of a numeric column and its overload mask (unparseable cells: an error, or
    rows dropped with ``skip_bad_lines``)."""
    clean = to_float(array)
    if clean.bad is not None:
        if not rows.skip:
            raise _column_error(rows, cmap, role, clean.bad_row or 0, clean.bad_text)
        rows.drop(clean.bad)
    unit = cmap.unit(role)
    return clean.values * unit.scale + unit.offset, clean.overload


def _time(
    rows: _Rows, cmap: ColumnMap, arrays: Mapping[int, pa.Array], timezone: str
) -> tuple[np.ndarray | None, bool, tuple[str, ...]]:
    """Seconds of every row (Unix seconds when absolute), whether absolute, and flags. A
    ``date`` column is joined with a time-of-day ``time`` column, or stands alone."""
    role = "time" if cmap.time is not None else "date"
    column = getattr(cmap, role)
    if column is None:
        return None, False, ()
    values = arrays[column.index]
    if cmap.date is not None and cmap.time is not None and pa.types.is_time(values.type):
        fast = date_and_time_of_day(arrays[cmap.date.index], values, timezone)
        if fast is not None:
            return fast.seconds, True, fast.flags
    if pa.types.is_time(values.type):  # "10:00:02" parsed as a time of day
        values = values.cast(pa.string())
    if cmap.date is not None and cmap.time is not None and pa.types.is_string(values.type):
        day = arrays[cmap.date.index].cast(pa.string())
        values = pc.binary_join_element_wise(day, values, " ")
    axis = time_axis(values, column.unit, timezone)
    bad = np.zeros(len(values), dtype=bool)
    while axis.bad_row is not None:
        if not rows.skip or bad.sum() >= _MAX_BAD_TIMES:
            raise _column_error(
                rows, cmap, role, axis.bad_row, str(values[axis.bad_row].as_py()),
                expected="a number nor a date-time",
            )  # fmt: skip
        bad[axis.bad_row] = True  # skip_bad_lines: that row goes, the rest is parsed again
        values = pc.if_else(pa.array(bad), pa.nulls(len(values), values.type), values)
        axis = time_axis(values, column.unit, timezone)
    if bad.any():
        rows.drop(bad)
    return axis.seconds, axis.absolute, axis.flags


def _median(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else None


def _temperature(rows: _Rows, cmap: ColumnMap, arrays: Mapping[int, pa.Array]) -> np.ndarray:
    """Temperatures in K; a column without any, or with negative kelvins, is refused."""
    temperature_k, _ = _numeric(rows, cmap, "temperature", arrays[cmap.temperature.index])
    if not np.isfinite(temperature_k).any():
        raise FormatError(
            rows.log.where, f"column {cmap.temperature.header!r} holds no temperatures"
        )
    negative = np.flatnonzero(temperature_k < 0)
    if negative.size:
        raise FormatError(
            rows.log.where,
            f"column {cmap.temperature.header!r} holds negative temperatures; if it is in "
            f"degrees Celsius or a raw sensor value, say so with units={{'temperature': 'C'}} "
            f"or columns={{...}}",
            line=rows.line(int(negative[0])),
        )
    return temperature_k


def _resistance(
    rows: _Rows, cmap: ColumnMap, arrays: Mapping[int, pa.Array], excitation_a: float | None
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Resistance in ohm and overload mask: the resistance column, or current reversal
    R = (V+ - V-) / (I+ - I-) (one current column or the header excitation: / 2 I)."""
    if cmap.resistance is not None:
        r, over = _numeric(rows, cmap, "resistance", arrays[cmap.resistance.index])
        return r, over, ()
    assert cmap.voltage_plus is not None and cmap.voltage_minus is not None
    vp, o1 = _numeric(rows, cmap, "voltage_plus", arrays[cmap.voltage_plus.index])
    vm, o2 = _numeric(rows, cmap, "voltage_minus", arrays[cmap.voltage_minus.index])
    over = o1 | o2
    if cmap.current_plus is not None and cmap.current_minus is not None:
        ip, o3 = _numeric(rows, cmap, "current_plus", arrays[cmap.current_plus.index])
        im, o4 = _numeric(rows, cmap, "current_minus", arrays[cmap.current_minus.index])
        over |= o3 | o4
        delta_i = ip - im
        how = "current_reversal"
    else:
        if cmap.excitation is not None:
            i, o3 = _numeric(rows, cmap, "excitation", arrays[cmap.excitation.index])
            over |= o3
        elif excitation_a is not None:
            i = np.full(vp.size, excitation_a)
        else:
            raise FormatError(rows.log.where, "current reversal needs I+ and I- or a current")
        delta_i = 2.0 * np.abs(i)
        how = "current_reversal_single_current"
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (vp - vm) / delta_i
    r = np.where(np.isfinite(r) & (delta_i != 0), r, np.nan)
    return r, over, (how,)


def _line_list(lines: Sequence[int]) -> str:
    shown = ",".join(str(n) for n in lines[:_SHOWN_LINES])
    return shown + (",..." if len(lines) > _SHOWN_LINES else "")


def _trace(data: bytes, where: str, options: _Options, extra: Mapping[str, str]) -> Trace:
    """The whole log as one :class:`Trace` (SI units, settings from the header)."""
    log = split_log(
        data, where, delimiter=options.delimiter, header_line=options.header_line,
        names=options.names,
    )  # fmt: skip
    cmap = identify_columns(log.headers, where, options.columns, options.units)
    roles = [r for r in ROLES if getattr(cmap, r) is not None]
    parsed = parse_columns(
        log, [getattr(cmap, r).index for r in roles], skip_bad_lines=options.skip_bad_lines
    )
    rows = _Rows(log, options.skip_bad_lines, parsed.skipped_lines)
    arrays = parsed.columns
    parameters = {**header_parameters(log.preamble), **extra}
    settings = bridge_settings(parameters)
    temperature_k = _temperature(rows, cmap, arrays)
    resistance_ohm, overload, how = _resistance(rows, cmap, arrays, settings.excitation_a)
    time_s, absolute, time_flags = _time(rows, cmap, arrays, options.timezone)
    excitation_a = settings.excitation_a
    if cmap.excitation is not None:
        excitation_a = _median(_numeric(rows, cmap, "excitation", arrays[cmap.excitation.index])[0])
    frequency_hz = settings.frequency_hz
    if cmap.frequency is not None:
        frequency_hz = _median(_numeric(rows, cmap, "frequency", arrays[cmap.frequency.index])[0])
    flags = [*log.flags, *cmap.flags, *settings.flags, *time_flags, *how]
    skipped = list(parsed.skipped_lines)
    if rows.bad is not None and rows.bad.any():
        bad_rows = np.flatnonzero(rows.bad)
        skipped += [n for n in lines_of_rows(log, list(bad_rows), parsed.skipped_lines) if n]
        keep = ~rows.bad
        temperature_k, resistance_ohm, overload = (
            temperature_k[keep], resistance_ohm[keep], overload[keep]
        )  # fmt: skip
        time_s = None if time_s is None else time_s[keep]
    if skipped:
        skipped.sort()
        flags.append(f"skipped_lines:{len(skipped)}:{_line_list(skipped)}")
        parameters["skipped_lines"] = ",".join(str(n) for n in skipped)
    if log.truncated_at is not None:
        flags.append(truncation_flag(log.truncated_at))
    return Trace(
        temperature_k=temperature_k,
        resistance_ohm=resistance_ohm,
        overload=overload,
        time_s=time_s,
        time_absolute=absolute,
        start=None if absolute else start_time_from_header(parameters, options.timezone),
        excitation_a=excitation_a,
        frequency_hz=frequency_hz,
        instrument=options.instrument,
        parameters={**parameters, **settings.decoded},
        flags=tuple(flags),
    )


@attrs.frozen
class _Options:
    columns: Mapping[str, str | int] | None
    units: Mapping[str, str] | None
    timezone: str
    delimiter: str | None
    header_line: int | None
    names: tuple[str, ...] | None
    skip_bad_lines: bool
    instrument: str | None


def _header_line(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"header_line must be a 1-based line number, got {value!r}")
    return value


def read(
    source: Source,
    *,
    columns: Mapping[str, str | int] | None = None,
    units: Mapping[str, str] | None = None,
    timezone: str = "UTC",
    min_span_k: float = 2.0,
    smoothing_points: int = 9,
    delimiter: str | None = None,
    skip_bad_lines: bool = False,
    header_line: int | None = None,
    header_file: str | None = None,
) -> Iterator[TransportCurve]:
    """Yield one ``TransportCurve`` per sweep of a SIM921 log (see module docstring)."""
    yield from _read(
        source, FORMAT, _INSTRUMENT, columns=columns, units=units, timezone=timezone,
        min_span_k=min_span_k, smoothing_points=smoothing_points, delimiter=delimiter,
        skip_bad_lines=skip_bad_lines, header_line=header_line, header_file=header_file,
    )  # fmt: skip


def _read(
    source: Source,
    format: str,
    instrument: str | None,
    *,
    columns: Mapping[str, str | int] | None,
    units: Mapping[str, str] | None,
    timezone: str,
    min_span_k: float,
    smoothing_points: int,
    delimiter: str | None,
    skip_bad_lines: bool,
    header_line: int | None,
    header_file: str | None,
) -> Iterator[TransportCurve]:
    sweep = sweep_options(format, min_span_k, smoothing_points)
    delim = delimiter_option(delimiter)
    if not isinstance(skip_bad_lines, bool):
        raise ParameterError(f"skip_bad_lines must be true or false, got {skip_bad_lines!r}")
    names, header_path, header_sha = header_file_names(source, header_file, delim)
    extra: dict[str, str] = {}
    if header_path is not None and header_sha is not None:
        extra = {"header_file": header_path, "header_file_sha256": header_sha}
    options = _Options(
        columns, units, timezone, delim, _header_line(header_line), names, skip_bad_lines,
        instrument,
    )  # fmt: skip
    data = source.read_bytes()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:  # hash the file while it is parsed
            digest = pool.submit(file_sha256, data)
            trace = _trace(data, source.path, options, extra)
            sha256 = digest.result()
    except FormatError:
        if names is None and header_file is None:
            names, header_path, header_sha = header_file_names(source, None, delim, auto=True)
            if names is None:
                raise
            options = attrs.evolve(options, names=names)
            extra = {"header_file": str(header_path), "header_file_sha256": str(header_sha)}
            trace = _trace(data, source.path, options, extra)
            sha256 = file_sha256(data)
        else:
            raise
    yield from curves_from_trace(
        trace, source_path=source.path, source_sha256=sha256, format=format, options=sweep
    )
