"""TecMag ``.tnt`` files (TNMR / NTNMR, magic ``TNT1.000`` to ``TNT1.008``).

Layout: 8-byte magic, then tagged sections (4-byte tag, uint32 flag, uint32 length, payload):
``TMAG`` (acquisition header, decoded with nmrglue's ``TNTTMAG`` record layout), ``DATA``
(complex64 little endian, ``actual_npts`` in Fortran order), ``TMG2``, ``PSEQ``, ...
The file is parsed from bytes (zip members work).

Conventions: every point of acquisition dimensions 2-4 becomes a row (``increment`` in
Fortran order); ``observe_frequency_hz = ob_freq[0] * 1e6``; ``dwell_s = dwell[0]`` and
``spectral_width_hz = 1 / dwell[0]`` (TNMR's ``sw`` is the half width, +-sw, kept in
``parameters``); ``n_scans = actual_scans`` (``scans`` when none were completed).
``acquired_at``: the Unix ``start_time`` when it agrees with the ``date`` text to within a
time-zone offset (14 h), else the ``date`` text (cleaned of trailing bytes) read as UTC and
flagged ``acquired_at_local_time``. ``magnet_field`` is kept in ``parameters`` and flagged
``magnet_field_not_recorded`` when the nucleus does not resonate at ``ob_freq`` in that field
(TNMR writes a default of 2.11 T).

Arrayed experiments: TNMR keeps the stepped values (delay lists such as ``vdlist`` or
``de1:1``) as tables in the ``PSEQ`` section, stored as pairs of length-prefixed strings (name,
then whitespace-separated tokens with SI suffixes: ``50u``, ``1.5m``). The table with one
value per row becomes the array variable (``array_table=`` picks one by name when several
fit); values with time suffixes are converted to seconds (``array_unit="s"``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import struct
from collections.abc import Iterator

import numpy as np
from nmrglue.fileio.tecmag import TNTTMAG

import hydrofw
from hydrofw.errors import FormatError
from hydrofw.header_values import to_count
from hydrofw.ids import file_sha256
from hydrofw.nuclei import NUCLEI
from hydrofw.nuclei import nucleus as nucleus_data
from hydrofw.source import Source

from .normalize import (
    Acquisition,
    ArrayAxis,
    resolve_nucleus,
    spectra,
    utc_from_epoch,
    utc_from_wall_clock,
)
from .rawdata import check_plausible

__all__ = ["sniff", "read"]

_MAGIC = re.compile(rb"^TNT1\.00[0-8]$")
_SECTION = struct.Struct("<4sII")
_DATE_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%m/%d/%Y %H:%M:%S")
_REQUIRED = (b"TMAG", b"DATA")
_ZONE_SLACK_S = 14 * 3600
_FIELD_TOLERANCE = 0.02
_TABLE_NAME = re.compile(rb"^[A-Za-z_][A-Za-z0-9_:.]{0,62}$")
_TABLE_TOKEN = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(ns|us|ms|s|n|u|m)?$")
_SI_EXPONENT = {"n": -9, "ns": -9, "u": -6, "us": -6, "m": -3, "ms": -3, "s": 0}
_MAX_TABLE_BYTES = 1 << 20
_MAX_OTHER_BYTES = 64 << 20


def sniff(source: Source) -> float:
    """0.99 for a file starting with ``TNT1.00x``, 0.2 for another ``.tnt`` file."""
    if source.is_dir():
        return 0.0
    if _MAGIC.match(source.head(8)):
        return 0.99
    return 0.2 if source.suffix == ".tnt" else 0.0


def _sections(raw: bytes, where: str) -> dict[str, tuple[int, int]]:
    """Offset and length of every tagged section up to the first that does not fit."""
    if not _MAGIC.match(raw[:8]):
        raise FormatError(where, f"not a TecMag file: magic {raw[:8]!r}, expected TNT1.00x")
    sections: dict[str, tuple[int, int]] = {}
    pos = 8
    while pos + _SECTION.size <= len(raw):
        tag, _flag, length = _SECTION.unpack_from(raw, pos)
        pos += _SECTION.size
        if pos + length > len(raw):
            if tag in _REQUIRED:
                raise FormatError(
                    where, f"section {tag!r} runs past the end of the file (truncated)"
                )
            break  # older TNMR versions end with a PSEQ section of another layout
        sections[tag.decode("latin-1")] = (pos, length)
        pos += length
    return sections


def _text(value: bytes) -> str:
    """A fixed-width string field up to its first NUL (TNMR leaves old bytes behind it)."""
    return value.split(b"\x00", 1)[0].decode("latin-1").strip()


def _acquired_at(tmag: np.void) -> tuple[dt.datetime | None, tuple[str, ...]]:
    """UTC acquisition time and its flags (see the module docstring)."""
    wall = utc_from_wall_clock(_text(bytes(tmag["date"])), _DATE_FORMATS)
    start = utc_from_epoch(float(tmag["start_time"]))
    if start is not None and (wall is None or abs((start - wall).total_seconds()) <= _ZONE_SLACK_S):
        return start, ()
    return wall, ("acquired_at_local_time",) if wall is not None else ()


def _parameters(tmag: np.void) -> dict[str, str]:
    params = {}
    for name in TNTTMAG.names:
        if name.startswith("space"):
            continue
        value = tmag[name]
        if isinstance(value, bytes | np.bytes_):
            params[name] = _text(bytes(value))
        elif np.ndim(value):
            items = [_text(bytes(v)) if isinstance(v, bytes | np.bytes_) else str(v) for v in value]
            params[name] = " ".join(items)
        else:
            params[name] = str(value)
    return params


def _int32_at(raw: bytes, pos: int) -> int:
    return int.from_bytes(raw[pos : pos + 4], "little", signed=True) if pos + 4 <= len(raw) else -1


def _table_values(content: bytes) -> tuple[list[float], bool] | None:
    """Numeric values of a table's text and whether they carried time suffixes; None when the
    text is not a list of numbers."""
    try:
        tokens = content.decode("ascii").split()
    except UnicodeDecodeError:
        return None
    values, timed = [], False
    for token in tokens:
        m = _TABLE_TOKEN.match(token)
        if m is None:
            return None
        exponent = _SI_EXPONENT.get(m.group(2) or "", 0)
        timed = timed or m.group(2) is not None
        values.append(float(f"{m.group(1)}e{exponent}") if exponent else float(m.group(1)))
    return (values, timed) if values else None


def pseq_tables(raw: bytes) -> dict[str, tuple[list[float], bool]]:
    """Multi-valued tables of the PSEQ section: name -> (values, values are times in s)."""
    start = raw.find(b"PSEQ")
    if start < 0:
        return {}
    tables: dict[str, tuple[list[float], bool]] = {}
    pos = start + 4
    while pos + 8 <= len(raw):
        n_name = _int32_at(raw, pos)
        name = raw[pos + 4 : pos + 4 + n_name] if 0 < n_name < 64 else b""
        if name and _TABLE_NAME.match(name):
            at = pos + 4 + n_name
            n_content = _int32_at(raw, at)
            if 0 < n_content <= _MAX_TABLE_BYTES and at + 4 + n_content <= len(raw):
                parsed = _table_values(raw[at + 4 : at + 4 + n_content])
                if parsed is not None:
                    if len(parsed[0]) > 1:
                        tables[name.decode("ascii")] = parsed
                    pos = at + 4 + n_content
                    continue
        pos += 1
    return tables


def _array_axis(raw: bytes, rows: int, wanted: str | None, where: str) -> ArrayAxis | None:
    """The PSEQ table with one value per row (see the module docstring)."""
    tables = pseq_tables(raw)
    if wanted is not None:
        if wanted not in tables:
            known = ", ".join(sorted(tables)) or "none"
            raise FormatError(where, f"no PSEQ table {wanted!r} (tables: {known})")
        candidates = {wanted: tables[wanted]}
    else:
        candidates = {k: v for k, v in tables.items() if len(v[0]) == rows}
    if rows < 2 or len(candidates) != 1:
        return None
    ((name, (values, timed)),) = candidates.items()
    return ArrayAxis(name, values[:rows], "s" if timed else None)


def _read_limit(source: Source) -> int:
    """Bytes a ``.tnt`` file may hold: the DATA its TMAG header announces, plus the other
    sections (text, PSEQ tables, bounded by :data:`_MAX_OTHER_BYTES`)."""
    head = source.head(8 + _SECTION.size + TNTTMAG.itemsize)
    if len(head) < 8 + _SECTION.size + TNTTMAG.itemsize or head[8:12] != b"TMAG":
        return _MAX_OTHER_BYTES
    tmag = np.frombuffer(head, TNTTMAG, count=1, offset=8 + _SECTION.size)[0]
    total = math.prod(max(int(n), 0) for n in tmag["actual_npts"])
    return total * 8 + _MAX_OTHER_BYTES


def _proton_bases_hz(tmag: np.void) -> list[float]:
    """1H frequencies of the magnet from channels 2-4 whose nucleus is 1H (``base_freq``)."""
    bases = []
    for label, mhz in zip(tmag["nuclei"][1:], tmag["base_freq"][1:], strict=False):
        if _text(bytes(label)) in ("1H", "H1") and 0 < float(mhz) < math.inf:
            bases.append(float(mhz) * 1e6)
    return bases


def _field_flags(found: str, field_t: float, observe_hz: float) -> tuple[str, ...]:
    expected_hz = nucleus_data(found).larmor_frequency_hz(field_t)
    if field_t > 0 and abs(observe_hz / expected_hz - 1.0) < _FIELD_TOLERANCE:
        return ()
    return ("magnet_field_not_recorded",)


def read(
    source: Source, nucleus: str | None = None, array_table: str | None = None
) -> Iterator[hydrofw.Spectrum]:
    """Rows of a ``.tnt`` file, one per point of dimensions 2-4; ``nucleus`` overrides the
    header, ``array_table`` names the PSEQ table holding the arrayed values."""
    where = source.path
    raw = source.read_bytes(limit=_read_limit(source))
    sections = _sections(raw, where)
    for tag in (t.decode() for t in _REQUIRED):
        if tag not in sections:
            raise FormatError(where, f"no {tag} section (truncated or not an acquisition file)")
    offset, length = sections["TMAG"]
    if length != TNTTMAG.itemsize:
        raise FormatError(where, f"TMAG section of {length} bytes, expected {TNTTMAG.itemsize}")
    tmag = np.frombuffer(raw, TNTTMAG, count=1, offset=offset)[0]
    shape = [int(n) for n in tmag["actual_npts"]]
    if any(n < 1 for n in shape):
        raise FormatError(where, f"acquisition size actual_npts={shape} is not positive")
    offset, length = sections["DATA"]
    total = math.prod(shape)
    if length != total * 8:
        raise FormatError(
            where, f"DATA holds {length} bytes, actual_npts={shape} needs {total * 8}"
        )
    values = np.frombuffer(raw, "<f4", count=2 * total, offset=offset)
    check_plausible(values, values.dtype, where, "the TecMag format (little-endian float32)")
    cube = values.view("<c8").reshape(shape, order="F")
    data = cube.reshape(shape[0], -1, order="F").T.astype(np.complex128)
    observe_hz = float(tmag["ob_freq"][0]) * 1e6
    dwell_s = float(tmag["dwell"][0])
    if not (0 < observe_hz < math.inf and 0 < dwell_s < math.inf):
        raise FormatError(where, f"ob_freq={observe_hz / 1e6} MHz, dwell={dwell_s} s must be > 0")
    found, flags = resolve_nucleus(
        _text(bytes(tmag["nuclei"][0])),
        observe_hz,
        where,
        override=nucleus,
        proton_bases_hz=_proton_bases_hz(tmag),
    )
    if found in NUCLEI:
        flags += _field_flags(found, float(tmag["magnet_field"]), observe_hz)
    acquired_at, date_flags = _acquired_at(tmag)
    actual_scans = to_count(int(tmag["actual_scans"]), where=where, key="actual_scans")
    temperature_k = float(tmag["actual_temperature"])
    acq = Acquisition(
        format="tecmag",
        source_path=source.path,
        source_sha256=file_sha256(raw),
        nucleus=found,
        observe_frequency_hz=observe_hz,
        spectral_width_hz=1.0 / dwell_s,
        parameters=_parameters(tmag),
        n_scans=actual_scans
        if actual_scans > 0
        else to_count(int(tmag["scans"]), where=where, key="scans"),
        acquired_at=acquired_at,
        pulse_program=_text(bytes(tmag["sequence"])) or None,
        receiver_gain=float(tmag["receiver_gain"]),
        temperature_k=temperature_k if temperature_k > 0 else None,
        flags=flags + date_flags,
    )
    axis = _array_axis(raw, data.shape[0], array_table, where)
    yield from spectra(acq, data, axis=axis)
