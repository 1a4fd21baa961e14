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
from hydrofw.errors import FormatError, ValidationError
from hydrofw.header_values import to_count
from hydrofw.ids import file_sha256
from hydrofw.nuclei import NUCLEI, normalize_nucleus
from hydrofw.source import Source, open_source, read_margin

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


def _looks_like_fid_header(head: bytes) -> bool:
    """True when 32 bytes parse as a plausible Varian fid file header."""
    if len(head) < _FILE_HEADER.size:
        return False
    nblocks, ntraces, np_, ebytes, tbytes, bbytes, _v, _s, nbheaders = _FILE_HEADER.unpack_from(
        head
    )
    return (
        min(nblocks, ntraces, np_) >= 1
        and ebytes in (2, 4)
        and tbytes == np_ * ebytes
        and bbytes == ntraces * tbytes + nbheaders * _BLOCK_HEADER_BYTES
    )


def _incomplete(source: Source) -> bool:
    """A folder with a Varian ``fid`` but no ``procpar`` (and no Bruker ``acqus``)."""
    return (
        source.is_dir()
        and source.exists("fid")
        and not source.exists("procpar")
        and not source.exists("acqus")
        and _looks_like_fid_header(source.head(_FILE_HEADER.size, "fid"))
    )


def sniff(source: Source) -> float:
    """0.95 for a folder (often ``*.fid``) holding ``fid`` + ``procpar``, or that ``fid``; 0.2
    for a folder whose Varian ``fid`` lacks its ``procpar`` (reading it says so)."""
    exp = _experiment(source)
    if exp is None:
        return 0.2 if _incomplete(source) else 0.0
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


def _read_fid(exp: Source) -> bytes:
    """The ``fid`` file, read no further than its file header implies (plus a margin)."""
    where = exp.describe("fid")
    head = exp.head(_FILE_HEADER.size, "fid")
    nblocks, _nt, _np, _eb, bbytes, _st, _nbh = _file_header(head, where)
    expected = _FILE_HEADER.size + nblocks * bbytes
    return exp.read_bytes("fid", limit=expected + read_margin(expected))


def _traces(raw: bytes, where: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Complex traces ``(nblocks * ntraces, np / 2)`` and flags. Blocks beyond ``nblocks`` are
    not data of this acquisition: they are ignored and flagged ``trailing_bytes``."""
    nblocks, ntraces, np_, ebytes, bbytes, status, nbheaders = _file_header(raw, where)
    dtype = np.dtype(">f4" if status & _S_FLOAT else ">i4" if status & _S_32 else ">i2")
    if dtype.itemsize != ebytes:
        raise FormatError(where, f"status {status:#x} disagrees with ebytes={ebytes}")
    on_disk = (len(raw) - _FILE_HEADER.size) // bbytes
    if on_disk < 1:
        raise FormatError(where, f"truncated: {len(raw)} bytes hold no complete data block")
    complete = min(on_disk, nblocks)
    flags: tuple[str, ...] = ("incomplete_acquisition",) if complete < nblocks else ()
    if len(raw) > _FILE_HEADER.size + nblocks * bbytes:
        flags += ("trailing_bytes",)
    elif len(raw) > _FILE_HEADER.size + complete * bbytes:
        flags += ("truncated",)
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
    """Non-negative integer values of an (arrayed) procpar parameter, range-checked; a
    FormatError naming its line."""
    return [to_count(v, where=header.where, key=key, line=header.lines.get(key)) for v in values]


def _proton_bases_hz(header: Header) -> list[float]:
    """1H (TMS) frequencies of the magnet from the decoupler channels (``dfrq``/``dn``,
    ``dfrq2``/``dn2`` ...) and the lock (``lockfreq_``, 2H)."""
    pairs = [("dfrq", "dn"), ("dfrq2", "dn2"), ("dfrq3", "dn3"), ("lockfreq_", None)]
    bases = []
    for freq_key, nuc_key in pairs:
        mhz = header.optional_number(freq_key)
        label = header.text(nuc_key) if nuc_key else "2H"
        if mhz is None or mhz <= 0 or not label:
            continue
        try:
            xi = NUCLEI[normalize_nucleus(label.strip('"'))].xi_percent / 100.0
        except ValidationError:
            continue
        bases.append(mhz * 1e6 / xi)
    return bases


def read(source: Source, nucleus: str | None = None) -> Iterator[hydrofw.Spectrum]:
    """Rows of a Varian/Agilent experiment, one per trace; ``nucleus`` overrides ``tn``."""
    exp = _experiment(source)
    if exp is None:
        if _incomplete(source):
            raise FormatError(
                source.describe("procpar"),
                "the Varian experiment has a fid but no procpar: without it the frequencies, "
                "spectral width and nucleus are unknown (copy procpar along with fid)",
            )
        raise FormatError(source.path, "not a Varian experiment (needs fid and procpar)")
    where = exp.describe("procpar")
    procpar, active, numbers = parse_procpar(exp.read_text("procpar", limit=64 << 20), where)
    header = Header({k: " ".join(v) for k, v in procpar.items()}, where, numbers)
    raw = _read_fid(exp)
    data, flags = _traces(raw, exp.describe("fid"))
    sfrq_hz = header.positive("sfrq") * 1e6
    found, nucleus_flags = resolve_nucleus(
        header.text("tn"),
        sfrq_hz,
        where,
        override=nucleus,
        proton_bases_hz=_proton_bases_hz(header),
    )
    nt = _counts(procpar.get("nt", []), header, "nt")
    per_row = [{"n_scans": n} for n in nt] if len(nt) == data.shape[0] > 1 else None
    temp_c = header.optional_number("temp") if "temp" in active else None
    acquired_at = utc_from_wall_clock(header.text("time_run"), _TIME_FORMATS)
    if acquired_at is None:
        acquired_at = utc_from_wall_clock(header.text("date"), _DATE_FORMATS)
    experiment = exp.read_text("text", limit=1 << 20).strip() if exp.exists("text") else ""
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
