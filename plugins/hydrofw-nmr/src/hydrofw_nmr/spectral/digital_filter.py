"""Bruker digital-filter group delay: how many points the FID is delayed by the DSP filter.

TopSpin >= 2 writes the delay as ``GRPDLY`` (points, fractional). Older data (XWIN-NMR,
``DSPFVS`` 10-13) only give the decimation ``DECIM`` and the firmware version ``DSPFVS``; the
delay then comes from the published table (Westler & Abildgaard), as tabulated in
``nmrglue.fileio.bruker.bruker_dsp_table``. ``GRPDLY = -1`` or a missing entry means "not set";
``DSPFVS >= 14`` without ``GRPDLY`` means no delay. The delay is removed as a time shift of
the FID, applied as a first-order phase ``exp(2j*pi*m*delay/N)`` (``m`` the signed frequency
index) after the Fourier transform, which is exact for fractional delays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from nmrglue.fileio.bruker import bruker_dsp_table

from hydrofw.errors import ValidationError

from .batching import column_or

__all__ = [
    "group_delay_from_header",
    "group_delay_from_table",
    "group_delays_from_headers",
    "header_numbers",
    "row_group_delays",
]

_NO_TABLE_FROM_DSPFVS = 14


def group_delay_from_table(decim: float, dspfvs: int) -> float:
    """Group delay (points) of old Bruker data from ``DECIM`` and ``DSPFVS``.

    Raises :class:`ValidationError` for a pair the table does not hold.
    """
    dspfvs = int(dspfvs)
    if dspfvs >= _NO_TABLE_FROM_DSPFVS:
        return 0.0
    table = bruker_dsp_table.get(dspfvs)
    if table is None:
        raise ValidationError(f"Bruker DSPFVS={dspfvs} is not in the digital-filter table")
    key = int(round(float(decim)))
    if key not in table or abs(float(decim) - key) > 1e-9:
        raise ValidationError(
            f"Bruker DECIM={decim} is not in the digital-filter table for DSPFVS={dspfvs}"
        )
    return float(table[key])


def group_delay_from_header(parameters: Mapping[str, str]) -> float | None:
    """Group delay (points) from one raw Bruker header, or None when it holds no filter keys."""
    column = pa.array([list(parameters.items())], pa.map_(pa.string(), pa.string()))
    value = float(group_delays_from_headers(column)[0])
    return None if np.isnan(value) else value


def header_numbers(
    parameters: pa.Array | pa.ChunkedArray, names: Sequence[str]
) -> dict[str, np.ndarray]:
    """Numeric values of raw-header keys for every row of a ``parameters`` (map) column.

    Keys match by bare name, case-insensitively (``GRPDLY``, ``acqus.GRPDLY``, ``$GRPDLY``);
    NaN where a row lacks the key. Vectorised over the flattened map, no per-row loop.
    """
    arr = parameters.combine_chunks() if isinstance(parameters, pa.ChunkedArray) else parameters
    offsets = np.asarray(arr.offsets)
    lo, hi = int(offsets[0]), int(offsets[-1])
    keys, items = arr.keys.slice(lo, hi - lo), arr.items.slice(lo, hi - lo)
    parents = np.repeat(np.arange(len(arr)), np.diff(offsets))
    bare = pc.utf8_upper(pc.replace_substring_regex(keys, r"^.*[.$]", ""))
    out = {}
    for name in names:
        hit = np.asarray(pc.equal(bare, name.upper()).fill_null(False))
        values = np.full(len(arr), np.nan)
        if hit.any():
            text = pc.utf8_trim_whitespace(items.filter(pa.array(hit)))
            try:
                values[parents[hit]] = np.asarray(text.cast(pa.float64()))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise ValidationError(
                    f"header key {name} holds a value that is not a number"
                ) from None
        out[name] = values
    return out


def group_delays_from_headers(parameters: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Group delay (points) of every row from its raw Bruker header; NaN without filter keys.

    ``GRPDLY`` when set (>= 0), else the ``DECIM``/``DSPFVS`` table (one lookup per distinct
    pair)."""
    h = header_numbers(parameters, ("GRPDLY", "DECIM", "DSPFVS"))
    gd = np.where(h["GRPDLY"] >= 0, h["GRPDLY"], np.nan)
    need = np.isnan(gd) & ~np.isnan(h["DECIM"]) & ~np.isnan(h["DSPFVS"])
    if need.any():
        pairs = np.column_stack([h["DECIM"][need], h["DSPFVS"][need]])
        unique, inverse = np.unique(pairs, axis=0, return_inverse=True)
        found = np.array(
            [
                0.0
                if decim <= 1 and dspfvs < _NO_TABLE_FROM_DSPFVS
                else group_delay_from_table(decim, int(dspfvs))
                for decim, dspfvs in unique
            ]
        )
        gd[need] = found[inverse.ravel()]
    return gd


def row_group_delays(table: pa.Table, override: float | None, step: str) -> np.ndarray:
    """Group delay (points) of every row of a spectrum table: ``override`` when given, else the
    ``group_delay_points`` column, else the raw Bruker header; 0 where none applies (an analog
    console). A header value that is not a number is a ``ValidationError`` naming ``step``."""
    if override is not None:
        return np.full(table.num_rows, float(override))
    gd = column_or(table, "group_delay_points", np.nan)
    missing = np.isnan(gd)
    if missing.any() and "parameters" in table.column_names:
        try:
            gd[missing] = group_delays_from_headers(table.column("parameters"))[missing]
        except ValidationError as exc:
            raise ValidationError(f"{step}: raw header: {exc}") from None
    return np.nan_to_num(gd, nan=0.0)
