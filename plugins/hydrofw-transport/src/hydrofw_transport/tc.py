"""Processor ``transport.tc``: superconducting transition temperatures of every R(T) sweep.

``hydrofw.process("transport.tc", transport_table, **params)`` returns the ``tc`` table, one row
per sweep in input order, computed for all sweeps at once: the sweeps are padded into 2-D
arrays sorted by temperature (:mod:`.batch`; the stored sweep keeps its measured order), the
normal state is located (:mod:`.normal_state`) and every criterion evaluated
(:mod:`.evaluate`, definitions and errors in :mod:`.criteria`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from hydrofw.errors import ProcessingError

from .batch import Padded, pad_sorted
from .evaluate import evaluate
from .holds import trim_rows
from .lag import thermal_lag
from .params import TcParams

__all__ = ["TcParams", "process"]

_METHOD = (
    "transport.tc: onset by tangents at the warmest step; T90/T50/T10 on the full drop of "
    "R / R_n(T), R_n extrapolated linearly from above the transition; holds dropped"
)


def _flags(
    p: Padded, out: dict[str, Any], params: TcParams, first: list[list[str]]
) -> list[list[str]]:
    flags: list[list[str]] = [list(f) for f in first]
    few = p.count < params.min_points
    for row in np.flatnonzero(few):
        flags[row].append("too_few_points")
    for row in np.flatnonzero(~few & ~out["_transition"]):
        flags[row].append("no_transition")
    for row in np.flatnonzero(~few & out["_transition"] & ~out["_zero_found"]):
        flags[row].append("zero_resistance_not_reached")
    for row in np.flatnonzero(out["n_steps"] >= 2):
        flags[row].append("multi_step")
    for row in np.flatnonzero(out["normal_window_high_k"] - out["normal_window_low_k"] <= 0):
        flags[row].append("normal_state_window_degenerate")
    return flags


def _notes(out: dict[str, Any], params: TcParams) -> list[str]:
    zf, nf, w = params.zero_fraction, params.noise_factor, params.smoothing_points
    return [
        f"R_n(T) line fitted on {lo:.4g}-{hi:.4g} K; T90/T50/T10 where R / R_n(T) "
        f"crosses 0.9/0.5/0.1 (highest crossing); smoothing: local linear fit over {w} points; "
        f"onset: tangent at the dR/dT peak (cubic fit) x R_n(T); zero: R < max({zf:g} R_n, "
        f"{nf:g} sigma_R), sigma_R = {s:.3g} ohm; steps: {int(k)}"
        for lo, hi, s, k in zip(
            out["normal_window_low_k"], out["normal_window_high_k"], out["noise_ohm"],
            out["n_steps"], strict=True,
        )
    ]  # fmt: skip


_FLOAT_COLUMNS = (
    "tc_onset_k", "tc_90_k", "tc_50_k", "tc_10_k", "tc_zero_k", "tc_dRdT_k", "width_k",
    "tc_zero_tangent_k", "tc_step_upper_k", "tc_step_lower_k",
)  # fmt: skip
_PLAIN_COLUMNS = (
    "normal_state_ohm", "normal_state_ohm_err", "normal_slope_ohm_per_k", "noise_ohm",
    "normal_window_low_k", "normal_window_high_k", "step_upper_fraction", "residual_ohm",
)  # fmt: skip


def _nullable(values: np.ndarray, blank: np.ndarray) -> pa.Array:
    values = np.asarray(values, dtype=np.float64)
    return pa.array(values, mask=~np.isfinite(values) | blank)


def _list_offsets(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    arr = col.combine_chunks()
    if arr.null_count:
        raise ProcessingError("transport table holds null temperature or resistance lists")
    return arr.offsets.to_numpy(), arr.values.to_numpy(zero_copy_only=False)


def process(table: pa.Table, params: TcParams) -> pa.Table:
    """The ``tc`` table of a ``transport`` table (one row per sweep, same order)."""
    t_off, t_flat = _list_offsets(table.column("temperature_k"))
    r_off, r_flat = _list_offsets(table.column("resistance_ohm"))
    if not np.array_equal(np.diff(t_off), np.diff(r_off)):
        raise ProcessingError("temperature_k and resistance_ohm lists differ in length")
    trimmed = trim_rows(
        t_off - t_off[0],
        t_flat[t_off[0] : t_off[-1]],
        r_flat[r_off[0] : r_off[-1]],
        params.hold_band_fraction,
    )
    p = pad_sorted(trimmed.offsets, trimmed.t, trimmed.r)
    out = evaluate(p, params, trimmed.sigma_t_k)
    blank = p.count < params.min_points
    ids = table.column("id")
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "id": ids,
        "cell": table.column("cell"),
        "campaign": table.column("campaign"),
        "acquired_at": table.column("acquired_at"),
        "method": pa.array([_METHOD] * table.num_rows),
        "input_ids": pa.array([[i] for i in ids.to_pylist()], pa.list_(pa.string())),
        "transport_id": ids,
        "sweep": table.column("sweep"),
        "n_points": pa.array(p.count.astype(np.int64)),
    }
    for name in _FLOAT_COLUMNS:
        columns[name] = _nullable(out[name], blank)
        columns[f"{name}_err"] = _nullable(out[f"{name}_err"], blank)
    for name in _PLAIN_COLUMNS:
        columns[name] = _nullable(out[name], blank)
    columns["n_steps"] = pa.array(np.where(blank, 0, out["n_steps"]).astype(np.int64))
    for name in ("step_temperatures_k", "step_temperatures_k_err", "step_fractions"):
        columns[name] = pa.array(
            [
                [] if b else [float(v) for v in values]
                for values, b in zip(out[name], blank, strict=True)
            ],
            pa.list_(pa.float64()),
        )
    lag = thermal_lag(table, out["tc_50_k"], out["tc_50_k_err"])
    columns["thermal_lag_k"] = _nullable(lag.lag_k, blank)
    columns["thermal_lag_k_err"] = _nullable(lag.lag_k_err, blank)
    columns["lag_partner_id"] = pa.array(lag.partner_id, pa.string())
    columns["criterion_notes"] = pa.array(_notes(out, params))
    columns["flags"] = pa.array(_flags(p, out, params, trimmed.flags), pa.list_(pa.string()))
    return pa.table(columns)
