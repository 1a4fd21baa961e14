"""JCAMP-DX 4.24 / 5.x / 6.0 NMR files: FIDs and spectra, XYDATA and NTUPLES, AFFN and ASDF.

Every data block becomes a row, including each block of a ``DATA TYPE= LINK`` compound file
(nmrglue 0.12 returns only the last block). The number of points is the number of ordinates
decoded, never the header's ``NPOINTS`` / ``VAR_DIM``: when they disagree the row is flagged
``header_count_mismatch`` and a :class:`JcampHeaderWarning` is issued.

Conventions: ``observe_frequency_hz = .OBSERVE FREQUENCY * 1e6``; ``nucleus`` from
``.OBSERVE NUCLEUS`` (``^1H``); ``DATA TYPE`` containing ``FID`` gives ``domain="time"`` (x in
s), otherwise ``domain="frequency"`` with x in Hz or ppm as ``XUNITS`` says. The x axis runs
from ``FIRSTX`` to ``LASTX`` (the header ``DELTAX`` is checked, flag
``header_deltax_mismatch``). Ordinates are multiplied by ``YFACTOR`` (``FACTOR`` per column).
``spectral_width_hz``: 1/dwell for a FID, ``n * |step|`` (Hz) for a spectrum. Bruker exports
add ``$``-records (``$NS``, ``$DATE`` Unix time, ``$GRPDLY``/``$DECIM``/``$DSPFVS``, ``$RG``,
``$TE``) which fill the normalised fields. A real-only spectrum is flagged ``real_only``.

Compound files: blocks holding only a peak table or peak assignments (``##PEAK TABLE=``,
``##PEAK ASSIGNMENTS=``, ``##XYPOINTS=``) are no data rows; their tables are kept, as written,
in the ``parameters`` of every data row of the file (key ``block<k>.<LABEL>``, at most
:data:`_MAX_PEAK_TEXT` characters each, longer ones cut and flagged ``peak_table_cut``) and the
rows are flagged ``peak_tables_kept``. A file with no data block at all is an error. A block
opened by ``##TITLE=`` but never closed by ``##END=`` means a truncated file: an error naming
the line where that block starts.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator

import numpy as np

import hydrofw
from hydrofw.errors import FormatError
from hydrofw.ids import file_sha256
from hydrofw.source import Source

from .asdf import decode_table
from .bruker import group_delay_points
from .header import Header
from .jcamp_text import Record, parse_records
from .normalize import (
    Acquisition,
    resolve_nucleus,
    spectra,
    utc_from_epoch,
    utc_from_wall_clock,
)

__all__ = ["sniff", "read", "JcampHeaderWarning"]

_STARTS = (b"##TITLE=", b"##JCAMP-DX=", b"##JCAMPDX=")
_PARAMETERS = b"##DATATYPE=PARAMETERVALUES"
_DATA_KEYS = ("XYDATA", "DATATABLE", "PAGE", "PEAKTABLE", "XYPOINTS", "PEAKASSIGNMENTS")
_PEAK_KEYS = ("PEAKTABLE", "PEAKASSIGNMENTS", "XYPOINTS")
_MAX_PEAK_TEXT = 1 << 16
_MAX_FILE_BYTES = 256 << 20  # no JCAMP-DX header states a file size: a bound for text files
_WALL_FORMATS = ("%a %b %d %H:%M:%S %Y", "%Y/%m/%d %H:%M:%S", "%y/%m/%d %H:%M:%S", "%Y/%m/%d")
_DELTAX_TOLERANCE = 1e-3


class JcampHeaderWarning(UserWarning):
    """A JCAMP-DX header disagrees with the data it holds (the data win)."""


def sniff(source: Source) -> float:
    """0.9 for a file whose first bytes are ``##TITLE=`` or ``##JCAMP-DX=``; 0.05 for a
    Bruker parameter file (``##DATATYPE= Parameter Values``: ``acqus``, ``procs``)."""
    if source.is_dir():
        return 0.0
    head = source.head(512).lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    if any(head.startswith(s) for s in _STARTS):
        return 0.05 if _PARAMETERS in head.replace(b" ", b"") else 0.9
    return 0.2 if source.suffix in (".dx", ".jdx", ".jcamp") else 0.0


def _blocks(records: list[Record], where: str) -> list[list[Record]]:
    """Leaf blocks (``##TITLE=`` ... ``##END=``), LINK containers dropped."""
    stack: list[list[Record]] = []
    leaves: list[list[Record]] = []
    for rec in records:
        if rec.key == "TITLE":
            stack.append([])
        if not stack:
            continue
        stack[-1].append(rec)
        if rec.key == "END":
            block = stack.pop()
            kinds = [r.value.upper() for r in block if r.key == "DATATYPE"]
            if not (kinds and kinds[0].replace(" ", "") == "LINK"):
                leaves.append(block)
    if stack and any(len(block) > 1 for block in stack):
        opened = next(block for block in stack if len(block) > 1)
        raise FormatError(where, "block without ##END= (truncated file)", line=opened[0].line)
    if not leaves:
        raise FormatError(where, "no complete JCAMP-DX block (##TITLE= ... ##END=)")
    return leaves


def _header(block: list[Record], where: str) -> Header:
    """Normalised keys of the non-data records; ``$`` records also without the ``$``."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for rec in block:
        if rec.key in _DATA_KEYS:
            continue
        for key in (rec.key, rec.key[1:]) if rec.key.startswith("$") else (rec.key,):
            values.setdefault(key, rec.value)
            lines.setdefault(key, rec.line)
    return Header(values, where, lines)


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",")]


def _table_lines(rec: Record) -> tuple[list[str], int]:
    lines = rec.value.splitlines()
    return lines[1:], rec.line + 1


def _xydata(
    block: list[Record], header: Header, where: str
) -> tuple[np.ndarray, np.ndarray | None]:
    rec = next(r for r in block if r.key == "XYDATA")
    lines, first = _table_lines(rec)
    y, _x = decode_table(lines, where, first)
    return y * (header.optional_number("YFACTOR") or 1.0), None


def _ntuples(
    block: list[Record], header: Header, where: str
) -> tuple[np.ndarray, np.ndarray | None]:
    symbols = [s.upper() for s in _split(header.text("SYMBOL"))]
    factors = _split(header.text("FACTOR"))
    columns: dict[str, np.ndarray] = {}
    for rec in block:
        if rec.key != "DATATABLE":
            continue
        form = rec.value.splitlines()[0] if rec.value else ""
        symbol = form.split("(")[-1].split(".")[0].strip().upper() if "(" in form else ""
        if symbol not in symbols:
            raise FormatError(where, f"data table {form!r} names no ##SYMBOL column", line=rec.line)
        lines, first = _table_lines(rec)
        y, _x = decode_table(lines, where, first)
        index = symbols.index(symbol)
        try:
            factor = float(factors[index]) if index < len(factors) and factors[index] else 1.0
        except ValueError:
            raise FormatError(
                where,
                f"##FACTOR is not a list of numbers: {factors!r}",
                line=header.lines.get("FACTOR"),
            ) from None
        columns[symbol] = y * factor
    if "R" not in columns:
        raise FormatError(where, "NTUPLES block without a real (R) data table")
    return columns["R"], columns.get("I")


def _x_range(header: Header, ntuples: bool) -> tuple[float, float, str, float | None]:
    """(first x, last x, x unit, header step) in the file's units."""
    if not ntuples:
        first, last = header.number("FIRSTX"), header.number("LASTX")
        return first, last, (header.text("XUNITS") or "").upper(), header.optional_number("DELTAX")
    firsts, lasts, units = (_split(header.text(k)) for k in ("FIRST", "LAST", "UNITS"))
    try:
        return float(firsts[0]), float(lasts[0]), units[0].upper(), None
    except (ValueError, IndexError):
        raise FormatError(
            header.where, "##FIRST/##LAST hold no abscissa range", line=header.lines.get("FIRST")
        ) from None


def _acquired_at(header: Header) -> tuple[dt.datetime | None, tuple[str, ...]]:
    long_date = header.text("LONGDATE")
    if long_date:
        for fmt in ("%Y/%m/%d %H:%M:%S%z", "%Y/%m/%d %H:%M:%S.%f%z"):
            try:
                return dt.datetime.strptime(long_date.strip(), fmt).astimezone(dt.UTC), ()
            except ValueError:
                continue
    epoch = utc_from_epoch(header.optional_number("$DATE"))
    if epoch is not None:
        return epoch, ()
    text = " ".join(
        filter(None, (header.text("LONGDATE"), header.text("DATE"), header.text("TIME")))
    )
    wall = utc_from_wall_clock(text, _WALL_FORMATS)
    return wall, ("acquired_at_local_time",) if wall is not None else ()


def _is_data_block(block: list[Record]) -> bool:
    keys = {r.key for r in block}
    return "NTUPLES" in keys or "XYDATA" in keys


def _peak_parameters(blocks: list[list[Record]]) -> tuple[dict[str, str], tuple[str, ...]]:
    """Peak tables and assignments of the non-data blocks, as parameters, and the flags."""
    params: dict[str, str] = {}
    flags: tuple[str, ...] = ()
    for index, block in enumerate(blocks):
        if _is_data_block(block):
            continue
        for rec in block:
            if rec.key in _PEAK_KEYS or rec.key in ("TITLE", "DATATYPE"):
                value = rec.value
                if len(value) > _MAX_PEAK_TEXT:
                    value = value[:_MAX_PEAK_TEXT]
                    flags += ("peak_table_cut",) if "peak_table_cut" not in flags else ()
                params[f"block{index}.{rec.label}"] = value
        flags += ("peak_tables_kept",) if "peak_tables_kept" not in flags else ()
    return params, flags


def _block_rows(
    block: list[Record],
    index: int,
    raw_sha: str,
    where: str,
    nucleus: str | None,
    extra: tuple[dict[str, str], tuple[str, ...]] = ({}, ()),
) -> Iterator[hydrofw.Spectrum]:
    header = _header(block, where)
    ntuples = "NTUPLES" in header
    re_, im = (_ntuples if ntuples else _xydata)(block, header, where)
    n = re_.size
    if n < 2:
        raise FormatError(where, f"block {index} holds {n} points", line=block[0].line)
    flags: tuple[str, ...] = ()
    announced = (
        header.optional_number("NPOINTS") if not ntuples else _first_number(header, "VARDIM")
    )
    if announced is not None and int(announced) != n:
        flags += ("header_count_mismatch",)
        warnings.warn(
            f"{where}: block {index} announces {int(announced)} points but holds {n}; "
            "using the data",
            JcampHeaderWarning,
            stacklevel=4,
        )
    if im is not None and im.size != n:
        raise FormatError(
            where, f"block {index}: real and imaginary tables differ in length ({n} vs {im.size})"
        )
    if im is None:
        flags += ("real_only",)
        im = np.zeros(n)
    first, last, unit, header_step = _x_range(header, ntuples)
    step = (last - first) / (n - 1)
    if header_step is not None and abs(header_step - step) > _DELTAX_TOLERANCE * abs(step):
        flags += ("header_deltax_mismatch",)
    observe_hz = header.positive(".OBSERVEFREQUENCY") * 1e6
    is_fid = "FID" in (header.text("DATATYPE") or "").upper()
    if is_fid:
        domain, x_unit, sw_hz = "time", "s", 1.0 / abs(step)
    elif unit == "PPM":
        domain, x_unit, sw_hz = "frequency", "ppm", abs(step) * n * observe_hz / 1e6
    else:
        domain, x_unit, sw_hz = "frequency", "Hz", abs(step) * n
    found, nucleus_flags = resolve_nucleus(
        header.text(".OBSERVENUCLEUS"), observe_hz, where, override=nucleus
    )
    acquired_at, date_flags = _acquired_at(header)
    scans = header.optional_count(".AVERAGES") or header.optional_count("NS")
    temperature_k = header.optional_number("TE")
    acq = Acquisition(
        format="jcampdx",
        source_path=where,
        source_sha256=raw_sha,
        nucleus=found,
        observe_frequency_hz=observe_hz,
        spectral_width_hz=sw_hz,
        parameters={**{r.label: r.value for r in block if r.key not in _DATA_KEYS}, **extra[0]},
        n_scans=scans,
        acquired_at=acquired_at,
        experiment=header.text("TITLE") or None,
        pulse_program=header.text(".PULSESEQUENCE") or None,
        receiver_gain=header.optional_number("RG"),
        temperature_k=temperature_k if temperature_k is not None and temperature_k > 0 else None,
        group_delay_points=group_delay_points(header) if is_fid and "BYTORDA" in header else None,
        reference_frequency_hz=observe_hz if x_unit == "ppm" else None,
        flags=nucleus_flags + flags + date_flags + extra[1],
    )
    data = (re_ + 1j * im)[np.newaxis, :]
    yield from spectra(
        acq, data, domain=domain, x_start=first, x_step=step, x_unit=x_unit, id_salt=f"block{index}"
    )


def _first_number(header: Header, key: str) -> float | None:
    try:
        return float(_split(header.text(key))[0])
    except (ValueError, IndexError):
        return None


def read(source: Source, nucleus: str | None = None) -> Iterator[hydrofw.Spectrum]:
    """One row per data block of a JCAMP-DX file; ``nucleus`` overrides ``.OBSERVE NUCLEUS``."""
    where = source.path
    raw = source.read_bytes(limit=_MAX_FILE_BYTES)
    if not raw.strip():
        raise FormatError(where, "empty file")
    text = raw.decode("latin-1")
    records = list(parse_records(text, where))
    sha = file_sha256(raw)
    blocks = _blocks(records, where)
    data_blocks = [(k, b) for k, b in enumerate(blocks) if _is_data_block(b)]
    if not data_blocks:
        raise FormatError(
            where,
            f"no data block (XYDATA or NTUPLES) among its {len(blocks)} block(s): peak tables "
            "or assignments alone hold no spectrum",
        )
    extra = _peak_parameters(blocks)
    for index, block in data_blocks:
        yield from _block_rows(block, index, sha, where, nucleus, extra)
