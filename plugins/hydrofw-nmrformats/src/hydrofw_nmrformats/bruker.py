"""Bruker XWIN-NMR / TopSpin 1-4 experiments: ``acqus`` + ``fid`` or ``ser`` (+ ``pdata/N``).

Conventions:

- Complex points ``n_points = TD // 2`` exactly: the padding of each row to a 1024-byte block
  (``ser`` files, older ``fid`` files) is dropped, never reshaped into the data.
- Data type and byte order from ``DTYPA`` (0: int32, 2: float64) and ``BYTORDA`` (0: little,
  1: big endian); values are stored as written (no ``NC`` scaling), as nmrglue returns them.
- ``group_delay_points``: ``GRPDLY`` when the header gives it (>= 0), else the DECIM/DSPFVS
  table of the digital filter (nmrglue's ``bruker_dsp_table``), 0 for an analog receiver.
- Pseudo-2D ``ser`` files give one row per increment; the array variable comes from
  ``vdlist`` (``vd``, s), ``vplist`` (``vp``, s), ``vclist`` (``vc``, count) or ``vtlist``
  (``vt``, K). ``DATE`` is a Unix time, so ``acquired_at`` is exact UTC.
- ``processed=True`` adds the processed spectra ``pdata/N/1r`` (+ ``1i``) as frequency-domain
  rows on a ppm axis (``OFFSET``, ``SW_p``, ``SF`` of ``procs``); missing files are skipped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

import attrs
import numpy as np
from nmrglue.fileio.bruker import bruker_dsp_table

import hydrofw
from hydrofw.errors import FormatError
from hydrofw.ids import file_sha256
from hydrofw.nuclei import NUCLEI, normalize_nucleus
from hydrofw.source import MAX_READ_BYTES, Source, open_source, read_margin

from .header import Header
from .jcamp_text import parse_records
from .normalize import Acquisition, ArrayAxis, resolve_nucleus, spectra, utc_from_epoch
from .rawdata import check_plausible

__all__ = ["sniff", "read", "read_header", "bruker_dtype", "group_delay_points"]

_BLOCK_BYTES = 1024
_LISTS = (
    ("vdlist", "vd", "s"),
    ("vplist", "vp", "s"),
    ("vclist", "vc", None),
    ("vtlist", "vt", "K"),
)
_LIST_DEFAULT_SCALE = {"vd": 1.0, "vp": 1e-6, "vc": 1.0, "vt": 1.0}
_SUFFIX_SCALE = {"s": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
_LIST_ITEM = re.compile(r"^([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\s*([smun]?)$")


def bruker_dtype(header: Header, dtype_key: str = "DTYPA", order_key: str = "BYTORDA") -> np.dtype:
    """numpy dtype of Bruker binary data: ``DTYPA``/``DTYPP`` 0 int32, 2 float64; byte order
    ``BYTORDA``/``BYTORDP`` 0 little, 1 big endian."""
    code = header.optional_integer(dtype_key) or 0
    order = header.integer(order_key)
    if code not in (0, 2) or order not in (0, 1):
        raise FormatError(
            header.where,
            f"unsupported data type {dtype_key}={code} / {order_key}={order}",
            line=header.lines.get(dtype_key if code not in (0, 2) else order_key),
        )
    return np.dtype(("<" if order == 0 else ">") + ("i4" if code == 0 else "f8"))


def _experiment(source: Source) -> Source | None:
    """The experiment folder of ``source`` (itself, or the folder of its ``fid``, ``ser`` or
    ``acqus`` file)."""
    if source.is_dir():
        if source.exists("acqus") and (source.exists("fid") or source.exists("ser")):
            return source
        return None
    local = source.local_path
    if source.name in ("fid", "ser", "acqus") and local is not None:
        parent = open_source(local.parent)
        if parent.exists("acqus") and (parent.exists("fid") or parent.exists("ser")):
            return parent
    return None


def _incomplete(source: Source) -> bool:
    """A folder holding a Bruker ``acqus`` but neither ``fid`` nor ``ser``."""
    return (
        source.is_dir()
        and source.exists("acqus")
        and source.head(16, "acqus").startswith(b"##")
        and not (source.exists("fid") or source.exists("ser"))
    )


def sniff(source: Source) -> float:
    """0.95 for an experiment folder (``acqus`` + ``fid``/``ser``) or its ``fid``, ``ser`` or
    ``acqus`` file; 0.2 for a folder with ``acqus`` but no data file (so that reading it says
    what is missing)."""
    exp = _experiment(source)
    if exp is None:
        return 0.2 if _incomplete(source) else 0.0
    return 0.95 if exp.head(16, "acqus").startswith(b"##") else 0.3


def read_header(exp: Source, name: str) -> Header:
    """A Bruker JCAMP parameter file (``acqus``, ``acqu2s``, ``procs``) keyed without ``$``."""
    where = exp.describe(name)
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for record in parse_records(exp.read_text(name), where):
        key = record.label.lstrip("$")
        values[key] = record.value
        lines[key] = record.line
    if not values:
        raise FormatError(where, "empty parameter file")
    return Header(values, where, lines)


def _proton_bases_hz(acqus: Header) -> list[float]:
    """1H (TMS) frequencies of the magnet implied by channels 2-8 (``BFn`` / Xi of ``NUCn``);
    an unused channel (``off``) keeps the 1H base frequency."""
    bases = []
    for n in range(2, 9):
        bf = acqus.optional_number(f"BF{n}")
        label = (acqus.text(f"NUC{n}") or "").strip()
        if bf is None or bf <= 0:
            continue
        if label.lower() in ("off", ""):
            bases.append(bf * 1e6)
            continue
        try:
            xi = NUCLEI[normalize_nucleus(label)].xi_percent / 100.0
        except hydrofw.errors.ValidationError:
            continue
        bases.append(bf * 1e6 / xi)
    return bases


def group_delay_points(acqus: Header) -> float | None:
    """Digital-filter group delay in points: GRPDLY, else the DECIM/DSPFVS table, 0 when
    DIGMOD=0 (analog filter); None when the header cannot tell. Keys without ``$``."""
    grpdly = acqus.optional_number("GRPDLY")
    if grpdly is not None and grpdly >= 0:
        return grpdly
    if acqus.optional_integer("DIGMOD") == 0:
        return 0.0
    dspfvs, decim = acqus.optional_number("DSPFVS"), acqus.optional_number("DECIM")
    if dspfvs is None or decim is None:
        return None
    return bruker_dsp_table.get(int(dspfvs), {}).get(int(decim))


def _read_list(exp: Source, filename: str, variable: str) -> list[float] | None:
    """Values of a Bruker list file, in s for delays and pulses, K for temperatures."""
    if not exp.exists(filename):
        return None
    where = exp.describe(filename)
    values = []
    for number, line in enumerate(exp.read_text(filename).splitlines(), start=1):
        text = line.split("#")[0].strip()
        if not text:
            continue
        m = _LIST_ITEM.match(text)
        if m is None:
            raise FormatError(where, f"not a list value: {text!r}", line=number)
        scale = _SUFFIX_SCALE[m.group(2)] if m.group(2) else _LIST_DEFAULT_SCALE[variable]
        values.append(float(m.group(1)) * scale)
    return values


def _array_axis(exp: Source, rows: int) -> ArrayAxis | None:
    if rows < 2:
        return None
    for filename, variable, unit in _LISTS:
        values = _read_list(exp, filename, variable)
        if values is not None and len(values) >= rows:
            return ArrayAxis(variable, values[:rows], unit)
    return None


def _indirect_rows(exp: Source) -> int | None:
    """Number of FIDs announced by ``acqu2s``/``acqu3s`` (product of their TD), or None."""
    rows = None
    for name in ("acqu2s", "acqu3s"):
        if exp.exists(name):
            rows = (rows or 1) * max(read_header(exp, name).count("TD"), 1)
            if rows > MAX_READ_BYTES:
                raise FormatError(exp.describe(name), f"TD gives {rows} increments; implausible")
    return rows


def _row_layout(
    size: int, row_bytes: int, announced: int | None, where: str, is_ser: bool
) -> tuple[int, int, tuple[str, ...]]:
    """(rows, stride in bytes, flags) for a data file of ``size`` bytes."""
    padded = math.ceil(row_bytes / _BLOCK_BYTES) * _BLOCK_BYTES
    if not is_ser:
        if size < row_bytes:
            raise FormatError(where, f"truncated: holds {size} bytes, TD needs {row_bytes}")
        return 1, row_bytes, ("trailing_bytes",) if size > padded else ()
    if announced is not None:
        for stride in (padded, row_bytes):
            if size == announced * stride:
                return announced, stride, ()
    if size > 0 and size % padded == 0 and (announced is None or size // padded < announced):
        flags = () if announced is None else ("incomplete_acquisition",)
        return size // padded, padded, flags
    raise FormatError(
        where,
        f"holds {size} bytes, not a whole number of {announced or '?'} rows of {row_bytes} "
        f"bytes (padded to {padded}); truncated or the header is wrong",
    )


def _complex_rows(
    raw: bytes, dtype: np.dtype, rows: int, stride: int, td: int, real_only: bool, where: str
) -> np.ndarray:
    values = np.frombuffer(raw, dtype=dtype, count=rows * stride // dtype.itemsize)
    values = values.reshape(rows, stride // dtype.itemsize)[:, :td]
    check_plausible(values, dtype, where, "DTYPA/BYTORDA")
    if real_only:
        return values.astype(np.complex128)
    out = np.empty((rows, td // 2), dtype=np.complex128)
    out.real = values[:, 0::2]
    out.imag = values[:, 1::2]
    return out


def read(
    source: Source, nucleus: str | None = None, processed: bool = False
) -> Iterator[hydrofw.Spectrum]:
    """Rows of a Bruker experiment (one per FID); ``nucleus`` overrides ``NUC1``."""
    exp = _experiment(source)
    if exp is None:
        if _incomplete(source):
            raise FormatError(
                source.describe("acqus"),
                "the experiment has acqus but no fid or ser: the acquisition data were not "
                "written or not copied",
            )
        raise FormatError(source.path, "not a Bruker experiment (needs acqus and fid or ser)")
    acqus = read_header(exp, "acqus")
    is_ser = exp.exists("ser")
    name = "ser" if is_ser else "fid"
    where = exp.describe(name)
    td = acqus.size("TD", limit=MAX_READ_BYTES)
    aq_mod = acqus.optional_integer("AQ_mod")
    real_only = aq_mod == 0
    if not real_only and td % 2:
        raise FormatError(
            acqus.where, f"TD={td} is not a positive even point count", line=acqus.lines.get("TD")
        )
    dtype = bruker_dtype(acqus)
    announced = _indirect_rows(exp) if is_ser else None
    row_bytes = td * dtype.itemsize
    expected = math.ceil(row_bytes / _BLOCK_BYTES) * _BLOCK_BYTES * (announced or 1)
    unknown_rows = is_ser and announced is None
    raw = exp.read_bytes(name, limit=None if unknown_rows else expected + read_margin(expected))
    rows, stride, layout_flags = _row_layout(len(raw), row_bytes, announced, where, is_ser)
    data = _complex_rows(raw, dtype, rows, stride, td, real_only, where)
    sfo1_hz = acqus.positive("SFO1") * 1e6
    bf1 = acqus.optional_number("BF1")
    found, nucleus_flags = resolve_nucleus(
        acqus.text("NUC1"),
        bf1 * 1e6 if bf1 is not None and bf1 > 0 else sfo1_hz,
        acqus.where,
        override=nucleus,
        proton_bases_hz=_proton_bases_hz(acqus),
    )
    flags = nucleus_flags + layout_flags
    flags += ("real_only",) if real_only else ()
    flags += () if "END" in acqus else ("truncated",)  # acqus cut before its ##END=
    flags += ("sequential_acquisition",) if aq_mod == 2 else ()
    temperature_k = acqus.optional_number("TE")
    acq = Acquisition(
        format="bruker",
        source_path=exp.path,
        source_sha256=file_sha256(raw),
        nucleus=found,
        observe_frequency_hz=sfo1_hz,
        spectral_width_hz=acqus.positive("SW_h"),
        parameters=_parameters(exp, acqus),
        n_scans=acqus.optional_count("NS"),
        acquired_at=utc_from_epoch(acqus.optional_number("DATE")),
        experiment=_title(exp),
        pulse_program=acqus.text("PULPROG") or None,
        receiver_gain=acqus.optional_number("RG"),
        temperature_k=temperature_k if temperature_k is not None and temperature_k > 0 else None,
        group_delay_points=group_delay_points(acqus),
        flags=flags,
    )
    yield from spectra(acq, data, axis=_array_axis(exp, rows))
    if processed:
        yield from _processed(exp, acq)


def _parameters(exp: Source, acqus: Header) -> dict[str, str]:
    params = dict(acqus.values)
    for name in ("acqu2s", "acqu3s"):
        if exp.exists(name):
            params.update({f"{name}.{k}": v for k, v in read_header(exp, name).values.items()})
    return params


def _title(exp: Source) -> str | None:
    for rel in ("pdata/1/title", "title"):
        if exp.exists(rel) and not exp.child(rel).is_dir():
            text = exp.read_text(rel).strip()
            return text.splitlines()[0].strip() if text else None
    return None


def _processed_part(exp: Source, rel: str, dtype: np.dtype, si: int) -> bytes:
    """Raw bytes of a processed file (``1r``/``1i``) holding at least ``si`` points."""
    raw = exp.read_bytes(rel, limit=si * dtype.itemsize + read_margin(si * dtype.itemsize))
    if len(raw) < si * dtype.itemsize:
        raise FormatError(
            exp.describe(rel),
            f"truncated: holds {len(raw)} bytes, SI={si} needs {si * dtype.itemsize}",
        )
    return raw


def _processed(exp: Source, acq: Acquisition) -> Iterator[hydrofw.Spectrum]:
    """Frequency-domain rows of ``pdata/N/1r`` (+ ``1i``) for every processing number N.

    Values are scaled by ``2**NC_proc``; the ppm axis starts at ``OFFSET`` and steps by
    ``-SW_p / SF / SI``; ``reference_frequency_hz = SF * 1e6``.
    """
    if not exp.exists("pdata"):
        return
    procnos = sorted((p for p in exp.listdir("pdata") if p.isdigit()), key=int)
    for procno in procnos:
        folder = f"pdata/{procno}"
        if not (exp.exists(f"{folder}/procs") and exp.exists(f"{folder}/1r")):
            continue
        procs = read_header(exp, f"{folder}/procs")
        si = procs.size("SI", limit=MAX_READ_BYTES)
        dtype = bruker_dtype(procs, dtype_key="DTYPP", order_key="BYTORDP")
        scale = 2.0 ** (procs.optional_number("NC_proc") or 0.0)
        real_raw = _processed_part(exp, f"{folder}/1r", dtype, si)
        data = np.frombuffer(real_raw, dtype=dtype, count=si) * scale + 0j
        has_imag = exp.exists(f"{folder}/1i")
        if has_imag:
            imag_raw = _processed_part(exp, f"{folder}/1i", dtype, si)
            data.imag = np.frombuffer(imag_raw, dtype=dtype, count=si) * scale
        sf_mhz = procs.positive("SF")
        sw_hz = procs.positive("SW_p")
        processed = attrs.evolve(
            acq,
            source_sha256=file_sha256(real_raw),
            spectral_width_hz=sw_hz,
            reference_frequency_hz=sf_mhz * 1e6,
            parameters={**acq.parameters, **{f"procs.{k}": v for k, v in procs.values.items()}},
            flags=acq.flags + (() if has_imag else ("real_only",)),
        )
        yield from spectra(
            processed,
            data[np.newaxis, :],
            domain="frequency",
            x_start=procs.number("OFFSET"),
            x_step=-(sw_hz / sf_mhz) / si,
            x_unit="ppm",
            id_salt=folder,
        )
