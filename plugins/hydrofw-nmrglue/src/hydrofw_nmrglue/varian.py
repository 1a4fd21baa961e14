"""Varian / Agilent VnmrJ experiments (Inova, VNMRS, ...): a ``*.fid`` folder with ``fid`` and
``procpar`` (and optionally ``text``).

``procpar`` is parsed from text: each parameter is a line ``name subtype basictype max min step
Ggroup Dgroup protection active intptr``, a value line ``count v1 v2 ...`` (strings quoted, one
per line after the first) and an enumeration line. ``fid`` is a 32-byte big-endian file header
(nblocks, ntraces, np, ebytes, tbytes, bbytes, vers_id, status, nbheaders) followed by blocks of
``nbheaders`` 28-byte block headers and ``ntraces * np`` values (int16, int32 or float32 by the
status bits), real and imaginary interleaved.

Conventions: one row per trace (arrayed experiments: ``arraydim`` rows); ``n_points = np / 2``;
``observe_frequency_hz = sfrq * 1e6``; ``spectral_width_hz = sw``; ``n_scans = nt`` (per row
when ``nt`` is arrayed); ``temperature_k = temp + 273.15`` only when ``temp`` is active;
``acquired_at`` from ``time_run`` (console wall clock, flagged ``acquired_at_local_time``).
The arrayed variable (``array``) gives ``array_value`` per row; delays (``d1``, ``tau*`` ...)
are in s, pulse widths (``pw``, ``p1``) converted from us to s.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator

import numpy as np

import hydrofw
from hydrofw.errors import FormatError
from hydrofw.ids import file_sha256
from hydrofw.source import Source, open_source

from .header import Header
from .normalize import Acquisition, ArrayAxis, resolve_nucleus, spectra, utc_from_wall_clock
from .rawdata import check_plausible

__all__ = ["sniff", "read", "parse_procpar"]

_FILE_HEADER = struct.Struct(">iiiiiihhi")
_BLOCK_HEADER_BYTES = 28
_S_32, _S_FLOAT, _S_COMPLEX = 0x4, 0x8, 0x10
_ZERO_CELSIUS_K = 273.15
_DELAY = re.compile(r"^(d\d+|tau.*|.*delay.*|.*time.*|vd|t\d+|relax.*)$", re.IGNORECASE)
_PULSE_US = re.compile(r"^(pw\d*|p\d+)$", re.IGNORECASE)
_TIME_FORMATS = ("%Y%m%dT%H%M%S",)
_DATE_FORMATS = ("%b %d %Y",)


def _experiment(source: Source) -> Source | None:
    if source.is_dir():
        return source if source.exists("fid") and source.exists("procpar") else None
    local = source.local_path
    if source.name == "fid" and local is not None:
        parent = open_source(local.parent)
        return parent if parent.exists("procpar") else None
    return None


def sniff(source: Source) -> float:
    """0.95 for a folder (often ``*.fid``) holding ``fid`` + ``procpar``, or that ``fid``."""
    exp = _experiment(source)
    if exp is None:
        return 0.0
    return 0.95 if not exp.exists("acqus") else 0.1


def parse_procpar(text: str, where: str) -> tuple[dict[str, list[str]], set[str], dict[str, int]]:
    """Values (as text) of every parameter, the names of active ones and their line numbers."""
    lines = text.splitlines()
    values: dict[str, list[str]] = {}
    active: set[str] = set()
    numbers: dict[str, int] = {}
    i = 0
    while i < len(lines):
        head = lines[i].split()
        if not head:
            i += 1
            continue
        if len(head) != 11 or i + 1 >= len(lines):
            raise FormatError(where, f"not a procpar parameter line: {lines[i][:60]!r}", line=i + 1)
        name, basictype, is_active = head[0], head[2], head[9]
        numbers[name] = i + 1
        count_line = lines[i + 1]
        try:
            count = int(count_line.split(maxsplit=1)[0])
        except (ValueError, IndexError):
            raise FormatError(
                where, f"{name}: bad value count {count_line[:40]!r}", line=i + 2
            ) from None
        if basictype == "2":
            strings = re.findall(r'"((?:[^"\\]|\\.)*)"', count_line)
            j = i + 2
            while len(strings) < count and j < len(lines):
                strings += re.findall(r'"((?:[^"\\]|\\.)*)"', lines[j])
                j += 1
            values[name] = strings
        else:
            values[name] = count_line.split()[1:]
            j = i + 2
        if is_active == "1":
            active.add(name)
        i = j + 1  # skip the enumeration line
    return values, active, numbers


def _file_header(raw: bytes, where: str) -> tuple[int, int, int, int, int, int, int]:
    if len(raw) < _FILE_HEADER.size:
        raise FormatError(where, f"{len(raw)} bytes: shorter than the 32-byte file header")
    nblocks, ntraces, np_, ebytes, tbytes, bbytes, _vers, status, nbheaders = (
        _FILE_HEADER.unpack_from(raw)
    )
    if min(nblocks, ntraces, np_) < 1 or ebytes not in (2, 4) or tbytes != np_ * ebytes:
        raise FormatError(
            where,
            f"implausible file header (nblocks={nblocks}, ntraces={ntraces}, np={np_}, "
            f"ebytes={ebytes}, tbytes={tbytes})",
        )
    if bbytes != ntraces * tbytes + nbheaders * _BLOCK_HEADER_BYTES:
        raise FormatError(where, f"block size {bbytes} disagrees with ntraces*tbytes + headers")
    return nblocks, ntraces, np_, ebytes, bbytes, status, nbheaders


def _traces(raw: bytes, where: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Complex traces ``(nblocks * ntraces, np / 2)`` and flags."""
    nblocks, ntraces, np_, ebytes, bbytes, status, nbheaders = _file_header(raw, where)
    dtype = np.dtype(">f4" if status & _S_FLOAT else ">i4" if status & _S_32 else ">i2")
    if dtype.itemsize != ebytes:
        raise FormatError(where, f"status {status:#x} disagrees with ebytes={ebytes}")
    complete = (len(raw) - _FILE_HEADER.size) // bbytes
    if complete < 1:
        raise FormatError(where, f"truncated: {len(raw)} bytes hold no complete data block")
    flags = ("incomplete_acquisition",) if complete < nblocks else ()
    blocks = np.frombuffer(raw, np.uint8, count=complete * bbytes, offset=_FILE_HEADER.size)
    payload = blocks.reshape(complete, bbytes)[:, nbheaders * _BLOCK_HEADER_BYTES :]
    values = np.ascontiguousarray(payload).view(dtype).reshape(complete * ntraces, np_)
    check_plausible(values, dtype, where, "the fid file header (status)")
    out = np.empty((values.shape[0], np_ // 2), dtype=np.complex128)
    out.real = values[:, 0::2]
    out.imag = values[:, 1::2]
    return out, flags


def _array_axis(procpar: dict[str, list[str]], rows: int) -> ArrayAxis | None:
    names = [n for n in (procpar.get("array") or [""])[0].strip("()").split(",") if n]
    if rows < 2 or len(names) != 1:
        return ArrayAxis(",".join(names)) if names and rows > 1 else None
    name = names[0]
    try:
        values = [float(v) for v in procpar.get(name, [])]
    except ValueError:
        return ArrayAxis(name)
    if len(values) != rows:
        return ArrayAxis(name)
    if _PULSE_US.match(name):
        return ArrayAxis(name, [v * 1e-6 for v in values], "s")
    return ArrayAxis(name, values, "s" if _DELAY.match(name) else None)


def _counts(values: list[str], header: Header, key: str) -> list[int]:
    """Integer values of an (arrayed) procpar parameter; a FormatError naming its line."""
    try:
        return [int(float(v)) for v in values]
    except (ValueError, OverflowError):
        raise FormatError(
            header.where,
            f"{key} holds non-numeric values {values[:3]!r}",
            line=header.lines.get(key),
        ) from None


def read(source: Source, nucleus: str | None = None) -> Iterator[hydrofw.Spectrum]:
    """Rows of a Varian/Agilent experiment, one per trace; ``nucleus`` overrides ``tn``."""
    exp = _experiment(source)
    if exp is None:
        raise FormatError(source.path, "not a Varian experiment (needs fid and procpar)")
    where = exp.describe("procpar")
    procpar, active, numbers = parse_procpar(exp.read_text("procpar"), where)
    header = Header({k: " ".join(v) for k, v in procpar.items()}, where, numbers)
    raw = exp.read_bytes("fid")
    data, flags = _traces(raw, exp.describe("fid"))
    sfrq_hz = header.positive("sfrq") * 1e6
    found, nucleus_flags = resolve_nucleus(header.text("tn"), sfrq_hz, where, override=nucleus)
    nt = _counts(procpar.get("nt", []), header, "nt")
    per_row = [{"n_scans": n} for n in nt] if len(nt) == data.shape[0] > 1 else None
    temp_c = header.optional_number("temp") if "temp" in active else None
    acquired_at = utc_from_wall_clock(header.text("time_run"), _TIME_FORMATS)
    if acquired_at is None:
        acquired_at = utc_from_wall_clock(header.text("date"), _DATE_FORMATS)
    experiment = exp.read_text("text").strip() if exp.exists("text") else ""
    acq = Acquisition(
        format="varian",
        source_path=exp.path,
        source_sha256=file_sha256(raw),
        nucleus=found,
        observe_frequency_hz=sfrq_hz,
        spectral_width_hz=header.positive("sw"),
        parameters=header.values,
        n_scans=nt[0] if nt else None,
        acquired_at=acquired_at,
        experiment=experiment.splitlines()[0].strip() if experiment else None,
        pulse_program=header.text("seqfil") or None,
        receiver_gain=header.optional_number("gain"),
        temperature_k=temp_c + _ZERO_CELSIUS_K if temp_c is not None else None,
        flags=nucleus_flags + flags + (("acquired_at_local_time",) if acquired_at else ()),
    )
    yield from spectra(acq, data, axis=_array_axis(procpar, data.shape[0]), per_row=per_row)
