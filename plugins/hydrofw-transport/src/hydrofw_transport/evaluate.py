"""All Tc criteria of a batch of sweeps (see :mod:`.criteria` for the definitions and the
error model): levels, tangent criteria with their model error, zero resistance, steps."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.signal import find_peaks

from .batch import LocalFit, Padded, local_linear, take
from .criteria import (
    Inflection,
    NormalLine,
    inflection_fit,
    level_crossing,
    noise_sigma_rows,
    parabola_vertex,
    steepest_index,
)
from .normal_state import normal_state
from .params import TcParams

__all__ = ["evaluate"]

_SQRT12 = np.sqrt(12.0)


def evaluate(p: Padded, params: TcParams) -> dict[str, Any]:
    """Every criterion for every row of ``p``: arrays keyed by ``tc`` column name (plus
    private ``_``-prefixed masks used for flags)."""
    if params.noise_ohm is None:
        sigma = noise_sigma_rows(p)
    else:
        sigma = np.full(len(p.count), params.noise_ohm)
    fit = local_linear(p, params.smoothing_points)
    return _criteria(p, fit, normal_state(p, fit, sigma, params), sigma, params)


def _steps(
    p: Padded, slope: np.ndarray, ratio: np.ndarray, prominence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Number of dR/dT peaks (steps) per row, indices of the upper and lower of the two
    largest, and R_s/R_n at the slope minimum between them (NaN/-1 for single steps).

    Rows whose slope exceeds ``prominence`` x its maximum in one contiguous run have one step
    (vectorised); the others are examined with ``scipy.signal.find_peaks`` (height and
    prominence >= ``prominence`` x maximum)."""
    n = len(p.count)
    s_all = np.where(p.valid & np.isfinite(slope), slope, -np.inf)
    top = s_all.max(axis=1)
    active = s_all >= prominence * top[:, None]
    runs = (active[:, 1:] & ~active[:, :-1]).sum(axis=1) + active[:, 0]
    count = np.where(top > 0, 1, 0).astype(np.int64)
    upper = np.full(n, -1)
    lower = np.full(n, -1)
    plateau = np.full(n, np.nan)
    for row in np.flatnonzero((runs >= 2) & (top > 0)):
        s = s_all[row, : p.count[row]]
        padded = np.concatenate(([0.0], np.where(np.isfinite(s), s, 0.0), [0.0]))
        peaks, _ = find_peaks(
            padded, height=prominence * top[row], prominence=prominence * top[row]
        )
        peaks = peaks - 1
        count[row] = max(len(peaks), 1)
        if len(peaks) >= 2:
            best = np.sort(peaks[np.argsort(s[peaks])[-2:]])
            lower[row], upper[row] = best
            trough = best[0] + int(np.argmin(s[best[0] : best[1] + 1]))
            plateau[row] = ratio[row, trough]
    return count, upper, lower, plateau


def _peak(
    p: Padded, slope: np.ndarray, index: np.ndarray, slope_err: np.ndarray, inf: Inflection
) -> tuple[np.ndarray, np.ndarray]:
    """dR/dT peak temperature and error: the cubic's inflection where it is usable, else the
    parabola through the smoothed slopes around ``index``."""
    fallback, fallback_err = parabola_vertex(p.t, slope, index, slope_err)
    with np.errstate(invalid="ignore"):
        err = np.sqrt(inf.variance(inf.grad_t))
    return np.where(inf.ok, inf.t, fallback), np.where(inf.ok, err, fallback_err)


def _raw_slopes(p: Padded) -> np.ndarray:
    """Finite-difference dR/dT of each interval (rows x points-1), NaN in the padding."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diff(p.r, axis=1) / np.diff(p.t, axis=1)


def _interpolation_error(
    raw_slope: np.ndarray, index: np.ndarray, spacing: np.ndarray
) -> np.ndarray:
    """Sampling error of a temperature found by linear interpolation inside interval ``index``
    of width h: h / sqrt(12) (a position known only to lie somewhere in the interval) times
    min(1, |change of the finite-difference slope to the neighbouring intervals| / |slope|),
    which is ~h^2 |R''| / (sqrt(12) |R'|) for a resolved transition and h / sqrt(12) for a
    drop that happens between two points."""
    mid = take(raw_slope, index)
    left = take(raw_slope, np.maximum(index - 1, 0))
    right = take(raw_slope, index + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        change = np.fmax(np.abs(mid - left), np.abs(right - mid))
        relative = np.minimum(np.abs(change) / np.abs(mid), 1.0)
    return spacing / _SQRT12 * np.where(np.isfinite(relative), relative, 1.0)


def _tangent(
    p: Padded,
    fit: LocalFit,
    line: NormalLine,
    sigma: np.ndarray,
    steep: np.ndarray,
    fraction: float,
    *,
    narrow: bool,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """dR/dT peak, onset and zero-tangent temperatures with their statistical errors, from the
    cubic inflection fit over the points whose slope exceeds ``fraction`` of the peak. Where
    the cubic is unusable (too few points) the tangent is the local linear fit at the steepest
    point or, with ``narrow``, the raw central difference there (less smoothing bias)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        value_err = sigma / np.sqrt(take(fit.n, steep))
        e_s = sigma / np.sqrt(take(fit.sxx, steep))
    inf = inflection_fit(p, fit.slope, steep, sigma, fraction)
    peak = _peak(p, fit.slope, steep, e_s, inf)
    fallback_r, fallback_s = take(fit.value, steep), take(fit.slope, steep)
    if narrow:
        lo, hi = np.maximum(steep - 1, 0), np.minimum(steep + 1, p.count - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            central = (take(p.r, hi) - take(p.r, lo)) / (take(p.t, hi) - take(p.t, lo))
        fallback_r = take(p.r, steep)
        fallback_s = np.where(np.isfinite(central) & (hi > lo), central, fallback_s)
    t_s = np.where(inf.ok, inf.t, take(p.t, steep))
    r_s = np.where(inf.ok, inf.r, fallback_r)
    s_s = np.where(inf.ok, inf.s, fallback_s)
    a0 = line.a - line.b * line.t_ref
    with np.errstate(invalid="ignore", divide="ignore"):
        d = s_s - line.b
        onset = (a0 - r_s + s_s * t_s) / d
        grad = -inf.grad_r + (t_s - onset)[:, None] * inf.grad_s + s_s[:, None] * inf.grad_t
        local = np.where(
            inf.ok,
            inf.variance(grad / d[:, None]),
            (value_err**2 + ((t_s - onset) * e_s) ** 2) / d**2,
        )
        line_var = (line.a_err**2 + ((onset - line.t_ref) * line.b_err) ** 2) / d**2
        zero_t = t_s - r_s / s_s
        grad0 = inf.grad_t - inf.grad_r / s_s[:, None] + (r_s / s_s**2)[:, None] * inf.grad_s
        zero_err = np.where(
            inf.ok, np.sqrt(inf.variance(grad0)), np.hypot(value_err / s_s, r_s * e_s / s_s**2)
        )
    return {
        "tc_dRdT_k": peak,
        "tc_onset_k": (onset, np.sqrt(local + line_var)),
        "tc_zero_tangent_k": (zero_t, zero_err),
    }


def _criteria(
    p: Padded, fit: LocalFit, line: NormalLine, sigma: np.ndarray, params: TcParams
) -> dict[str, Any]:
    with np.errstate(invalid="ignore", divide="ignore"):
        rn = line.value(p.t)
        below = p.t <= line.t_low[:, None]  # the transition lies below the normal state
        ratio = np.where(below, fit.value / rn, np.nan)
        raw_ratio = np.where(below, p.r / rn, np.nan)
        slope_err = sigma[:, None] / np.sqrt(fit.sxx)
    out: dict[str, Any] = {}
    raw_slope = _raw_slopes(p)
    for level, name in ((0.9, "tc_90_k"), (0.5, "tc_50_k"), (0.1, "tc_10_k")):
        c = level_crossing(p.t, raw_ratio, level)
        s_at = np.maximum(take(fit.slope, c.index), take(fit.slope, c.index + 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            dr = np.hypot(sigma, level * line.error(c.t))
            err = np.hypot(dr / np.abs(s_at), _interpolation_error(raw_slope, c.index, c.spacing))
        out[name], out[f"{name}_err"] = c.t, np.where(c.found, err, np.nan)
    steep = steepest_index(fit, ratio)
    main = _tangent(p, fit, line, sigma, steep, params.peak_window_fraction, narrow=False)
    tight = _tangent(
        p, fit, line, sigma, steep, 0.5 * (1.0 + params.peak_window_fraction), narrow=True
    )
    wide = _tangent(
        p, fit, line, sigma, steep, max(0.3, 1.5 * params.peak_window_fraction - 0.5),
        narrow=False,
    )
    for name, (value, err) in main.items():
        # model error of the cubic: the larger change when the fit window is narrowed or
        # widened (on noisy sweeps the smoothing biases the tangent; see the plugin docs)
        with np.errstate(invalid="ignore"):
            shift = np.fmax(
                np.nan_to_num(np.abs(value - tight[name][0])),
                np.nan_to_num(np.abs(value - wide[name][0])),
            )
        out[name], out[f"{name}_err"] = value, np.hypot(err, shift)
    with np.errstate(invalid="ignore"):
        threshold = np.maximum(params.zero_fraction * rn, params.noise_factor * sigma[:, None])
        zero = level_crossing(p.t, np.where(below, p.r - threshold, np.nan), 0.0)
        s_z = np.maximum(take(fit.slope, zero.index), np.finfo(float).tiny)
        span = take(p.t, p.count - 1) - p.t[:, 0] if p.t.shape[1] else 0.0
        out["tc_zero_k"] = zero.t
        out["tc_zero_k_err"] = np.where(
            zero.found,
            np.minimum(
                np.hypot(sigma / s_z, _interpolation_error(raw_slope, zero.index, zero.spacing)),
                span,
            ),
            np.nan,
        )
    out["width_k"] = out["tc_90_k"] - out["tc_10_k"]
    out["width_k_err"] = np.hypot(out["tc_90_k_err"], out["tc_10_k_err"])
    out["normal_state_ohm"] = line.value(out["tc_50_k"])
    out["normal_state_ohm_err"] = line.error(out["tc_50_k"])
    out["normal_slope_ohm_per_k"] = line.b
    out["noise_ohm"] = sigma
    out["normal_window_low_k"], out["normal_window_high_k"] = line.t_low, line.t_high
    n_steps, upper, lower, plateau = _steps(p, fit.slope, ratio, params.step_prominence)
    two = upper >= 0
    for name, index in (("tc_step_upper_k", upper), ("tc_step_lower_k", lower)):
        index = np.maximum(index, 0)
        step_fit = inflection_fit(p, fit.slope, index, sigma, params.peak_window_fraction)
        peak, err = _peak(p, fit.slope, index, take(slope_err, index), step_fit)
        out[name], out[f"{name}_err"] = np.where(two, peak, np.nan), np.where(two, err, np.nan)
    out["step_upper_fraction"] = np.where(two, 1.0 - plateau, np.nan)
    out["n_steps"] = n_steps
    first = np.where(p.valid[:, :3], p.r[:, :3], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        lowest = first.sum(axis=1) / p.valid[:, :3].sum(axis=1)  # mean R of the 3 coldest points
    out["residual_ohm"] = np.where(zero.found, np.nan, lowest)
    out["_zero_found"] = zero.found
    out["_transition"] = np.isfinite(out["tc_90_k"])
    return out
