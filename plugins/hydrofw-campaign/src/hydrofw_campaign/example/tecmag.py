"""A writer of TecMag TNMR ``.tnt`` files (``TNT1.005``), which nmrglue cannot write.

Layout (all little-endian), as TNMR writes it and :func:`nmrglue.tecmag.read` reads it:

* 8-byte magic ``TNT1.005``;
* tagged sections, each ``tag`` (4 bytes), a ``u32`` flag (1) and a ``u32`` payload length:
  ``TMAG`` (1024-byte acquisition header), ``DATA`` (complex64 points of all dimensions,
  first dimension fastest), ``TMG2`` (2048-byte display/processing header);
* ``PSEQ``: the pulse sequence, starting with the version text ``1.18 BIN`` in place of a
  length (TNMR's own quirk) and followed by the sequence's tables as pairs of
  length-prefixed strings ``[u32 n][name][u32 m][values]``. Arrayed delays are stored as a
  table of values with SI suffixes (``50u``, ``1.5m``), which
  :func:`nmrglue.tecmag.guess_tables` returns in seconds.

The header record layouts are nmrglue's own numpy dtypes (``TNTTMAG``, ``TNTTMG2``), so
every field this writer sets is read back unchanged. TNMR conventions kept: ``sw`` is the
half-width (+-sw, half of 1/dwell), ``offset_freq`` is in kHz, frequencies in MHz, ``date`` is
``YYYY/M/D HH:MM:SS`` and ``start_time`` Unix seconds (UTC here).
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs
import numpy as np
from nmrglue.fileio.tecmag import TNTTMAG, TNTTMG2

from hydrofw.errors import ValidationError

from .acquisition import Acquisition

__all__ = ["write_tnt", "tnt_bytes", "si_token", "TNT_MAGIC", "TNT_DELAY_TABLE"]

TNT_MAGIC = b"TNT1.005"
#: name of the PSEQ table holding the delays of an arrayed relaxation series
TNT_DELAY_TABLE = "vdlist"
_PSEQ_VERSION = b"1.18 BIN"
_TNT_NUCLEUS = {"1H": b"H1", "139La": b"La139", "63Cu": b"Cu63"}
_SI = ((1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"))


def si_token(seconds: float) -> str:
    """A delay as TNMR writes it in a table: ``1.5m``, ``50u`` (exact to 6 significant digits)."""
    if seconds == 0:
        return "0"
    for scale, suffix in _SI:
        if abs(seconds) >= scale:
            return f"{seconds / scale:.6g}{suffix}"
    return f"{seconds / 1e-9:.6g}n"


def _section(tag: bytes, payload: bytes) -> bytes:
    return tag + struct.pack("<II", 1, len(payload)) + payload


def _pascal(text: str) -> bytes:
    raw = text.encode("ascii")
    return struct.pack("<i", len(raw)) + raw


def _tmag(acq: Acquisition, shape: Sequence[int], field_t: float) -> bytes:
    head = np.zeros(1, dtype=TNTTMAG)[0]
    npts = np.array(list(shape) + [1] * (4 - len(shape)), dtype=np.int32)
    dwell = 1.0 / acq.spectral_width_hz
    head["npts"] = npts
    head["actual_npts"] = npts
    head["acq_points"] = npts[0]
    head["npts_start"] = npts
    head["scans"] = acq.n_scans
    head["actual_scans"] = acq.n_scans
    head["sadimension"] = 1
    head["magnet_field"] = field_t
    head["ob_freq"] = [acq.observe_frequency_hz / 1e6, 0, 0, 0]
    head["base_freq"] = [acq.base_frequency_hz / 1e6, 0, 0, 0]
    head["offset_freq"] = [(acq.observe_frequency_hz - acq.base_frequency_hz) / 1e3, 0, 0, 0]
    head["NMR_frequency"] = acq.observe_frequency_hz / 1e6
    head["obs_channel"] = 1
    head["sw"] = [acq.spectral_width_hz / 2, 0, 0, 0]  # TNMR: +-sw, half the sampling rate
    head["dwell"] = [dwell, 0, 0, 0]
    head["acq_time"] = npts[0] * dwell
    head["last_delay"] = acq.recycle_delay_s
    head["experiment_time"] = acq.duration_s
    head["receiver_gain"] = int(round(acq.receiver_gain))
    head["set_temperature"] = acq.temperature_k
    head["actual_temperature"] = acq.temperature_k
    start = acq.acquired_at.astimezone(dt.UTC)
    head["start_time"] = int(start.timestamp())
    head["finish_time"] = int(start.timestamp() + acq.duration_s)
    head["elapsed_time"] = int(acq.duration_s)
    head["date"] = f"{start.year}/{start.month}/{start.day} {start:%H:%M:%S}".encode()
    head["nuclei"] = [_TNT_NUCLEUS.get(acq.nucleus, acq.nucleus.encode()), b"", b"", b""]
    head["sequence"] = f"{acq.sequence}.tps".encode()
    return head.tobytes()


def _tmg2() -> bytes:
    head = np.zeros(1, dtype=TNTTMG2)[0]
    head["real_flag"] = 1
    head["imag_flag"] = 1
    head["axis_visible"] = 1
    head["auto_scale"] = 1
    head["line_display"] = 1
    return head.tobytes()


def tnt_bytes(
    acq: Acquisition, field_t: float, tables: Mapping[str, Sequence[str]] | None = None
) -> bytes:
    """The bytes of a ``.tnt`` file holding ``acq`` (data as complex64, arrays along dim 2)."""
    data = np.atleast_2d(np.asarray(acq.data))
    if data.ndim != 2:
        raise ValidationError(f"TNT writer takes 1-D or 2-D data, got shape {data.shape}")
    n_incr, n_points = data.shape
    shape = (n_points, n_incr)
    tables = dict(tables or {})
    if acq.delays_s is not None:
        if len(acq.delays_s) != n_incr:
            raise ValidationError(f"{len(acq.delays_s)} delays for {n_incr} increments")
        tables.setdefault(TNT_DELAY_TABLE, [si_token(d) for d in acq.delays_s])
    payload = data.astype("<c8").tobytes(order="C")  # increment k = contiguous block k
    pseq = _PSEQ_VERSION + b"".join(_pascal(k) + _pascal(" ".join(v)) for k, v in tables.items())
    return (
        TNT_MAGIC
        + _section(b"TMAG", _tmag(acq, shape, field_t))
        + _section(b"DATA", payload)
        + _section(b"TMG2", _tmg2())
        + b"PSEQ"
        + struct.pack("<I", 1)
        + pseq
    )


def write_tnt(
    path: Path, acq: Acquisition, field_t: float, tables: Mapping[str, Sequence[str]] | None = None
) -> Path:
    """Write ``acq`` to the TNMR file ``path`` (parents created); return ``path``.

    The data are scaled by the receiver gain into ADC-like units. ``tables`` adds sequence
    tables to PSEQ (values as text tokens); arrayed delays are added as ``vdlist``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    scaled = attrs.evolve(acq, data=np.asarray(acq.data) * (8.0 * acq.receiver_gain))
    path.write_bytes(tnt_bytes(scaled, field_t, tables))
    return path
