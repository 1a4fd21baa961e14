"""All Tc criteria of a batch of sweeps (see :mod:`.criteria` for the definitions and the
error model): levels, tangent criteria with their model error, zero resistance, steps."""

from __future__ import annotations

from typing import Any

import numpy as np

from .batch import LocalFit, Padded, local_linear, take
from .criteria import (
    Crossing,
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
from .steps import Steps, find_steps, step_fractions

__all__ = ["evaluate"]

_SQRT12 = np.sqrt(12.0)


def evaluate(p: Padded, params: TcParams, sigma_t_k: np.ndarray | None = None) -> dict[str, Any]:
    """Every criterion for every row of ``p``: arrays keyed by ``tc`` column name (plus
    private ``_``-prefixed masks used for flags). ``sigma_t_k``: thermometer noise per row
    (K); a temperature interpolated between two readings carries 0.5 sigma_T on top
    (between 1/sqrt(2) and 1 for two independent readings; sorting by the noisy temperature
    absorbs part of it: 0.5 is calibrated on the generated runs of the tests, where the 95 %
    intervals then cover 95-97 %) of the resistance terms."""
    if params.noise_ohm is None:
        sigma = noise_sigma_rows(p)
    else:
        sigma = np.full(len(p.count), params.noise_ohm)
    fit = local_linear(p, params.smoothing_points)
    steps = find_steps(p, fit, params.step_prominence, params.min_step_fraction, sigma)
    line = normal_state(p, fit, sigma, params, steps)
    out = _criteria(p, fit, line, sigma, params, steps)
    if sigma_t_k is not None:
        thermometer = 0.5 * sigma_t_k
        for name in ("tc_90_k", "tc_50_k", "tc_10_k", "tc_zero_k"):
            out[f"{name}_err"] = np.hypot(out[f"{name}_err"], thermometer)
        out["width_k_err"] = np.hypot(out["tc_90_k_err"], out["tc_10_k_err"])
    return out


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
    p: Padded,
    fit: LocalFit,
    line: NormalLine,
    sigma: np.ndarray,
    params: TcParams,
    steps: Steps,
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
        c = _bracketed(level_crossing(p.t, raw_ratio, level))
        s_at = np.maximum(take(fit.slope, c.index), take(fit.slope, c.index + 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            dr = np.hypot(sigma, level * line.error(c.t))
            err = np.hypot(dr / np.abs(s_at), _interpolation_error(raw_slope, c.index, c.spacing))
        out[name], out[f"{name}_err"] = c.t, np.where(c.found, err, np.nan)
    kept, fractions = step_fractions(p, fit, steps, ratio, params.min_step_fraction)
    n_steps = np.array([k.size for k in kept], dtype=np.int64)
    steep = steepest_index(fit, ratio)
    warmest = np.array([k[0] if k.size else -1 for k in kept], dtype=np.int64)
    # the onset belongs to the warmest step (where the drop begins); max dR/dT and the zero
    # tangent to the steepest point of the whole drop
    onset_at = np.where((n_steps >= 2) & (warmest >= 0), warmest, steep)
    for index, names in ((steep, ("tc_dRdT_k", "tc_zero_tangent_k")), (onset_at, ("tc_onset_k",))):
        out.update(_tangent_criteria(p, fit, line, sigma, index, params, names))
    with np.errstate(invalid="ignore"):
        threshold = np.maximum(params.zero_fraction * rn, params.noise_factor * sigma[:, None])
        zero = _bracketed(level_crossing(p.t, np.where(below, p.r - threshold, np.nan), 0.0))
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
    out.update(_step_columns(p, fit, sigma, slope_err, params, kept, fractions))
    out["n_steps"] = n_steps
    first = np.where(p.valid[:, :3], p.r[:, :3], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        lowest = first.sum(axis=1) / p.valid[:, :3].sum(axis=1)  # mean R of the 3 coldest points
    out["residual_ohm"] = np.where(zero.found, np.nan, lowest)
    out["_zero_found"] = zero.found
    # a transition: the drop passes R/R_n = 0.5 with points on both sides; otherwise no
    # criterion is a number (an edge of the sweep is never reported as a Tc)
    transition = np.isfinite(out["tc_50_k"])
    for name in _CRITERIA:
        out[name] = np.where(transition, out[name], np.nan)
        out[f"{name}_err"] = np.where(transition, out[f"{name}_err"], np.nan)
    out["_transition"] = transition
    out["n_steps"] = np.where(transition, np.maximum(out["n_steps"], 1), out["n_steps"])
    return out


_CRITERIA = (
    "tc_onset_k", "tc_90_k", "tc_50_k", "tc_10_k", "tc_zero_k", "tc_dRdT_k", "width_k",
    "tc_zero_tangent_k", "tc_step_upper_k", "tc_step_lower_k",
)  # fmt: skip
_EDGE_POINTS = 2


def _bracketed(c: Crossing) -> Crossing:
    """A crossing with fewer than ``_EDGE_POINTS`` points below it (the cold edge of the
    sweep) is not found: a level reached only by the last points is no measured crossing."""
    ok = c.found & (c.index >= _EDGE_POINTS - 1)
    return Crossing(np.where(ok, c.t, np.nan), c.index, c.spacing, ok)


def _tangent_criteria(
    p: Padded,
    fit: LocalFit,
    line: NormalLine,
    sigma: np.ndarray,
    index: np.ndarray,
    params: TcParams,
    names: tuple[str, ...],
) -> dict[str, np.ndarray]:
    """Tangent criteria ``names`` at ``index`` with their errors: the statistical error and,
    as model error of the cubic, the larger change when its fit window is narrowed or widened
    (on noisy sweeps the smoothing biases the tangent; see the plugin docs)."""
    frac = params.peak_window_fraction
    main = _tangent(p, fit, line, sigma, index, frac, narrow=False)
    tight = _tangent(p, fit, line, sigma, index, 0.5 * (1.0 + frac), narrow=True)
    wide = _tangent(p, fit, line, sigma, index, max(0.3, 1.5 * frac - 0.5), narrow=False)
    out: dict[str, np.ndarray] = {}
    for name in names:
        value, err = main[name]
        with np.errstate(invalid="ignore"):
            shift = np.fmax(
                np.nan_to_num(np.abs(value - tight[name][0])),
                np.nan_to_num(np.abs(value - wide[name][0])),
            )
        out[name], out[f"{name}_err"] = value, np.hypot(err, shift)
    return out


def _step_columns(
    p: Padded,
    fit: LocalFit,
    sigma: np.ndarray,
    slope_err: np.ndarray,
    params: TcParams,
    kept: list[np.ndarray],
    fractions: list[np.ndarray],
) -> dict[str, Any]:
    """Per-step dR/dT peak temperatures (warmest first) with errors and drop fractions; the
    upper and lower of the two steps carrying the largest fractions."""
    n = len(kept)
    depth = max((k.size for k in kept), default=0)
    temps = np.full((n, depth), np.nan)
    errs = np.full((n, depth), np.nan)
    for rank in range(depth):
        has = np.array([k.size > rank for k in kept])
        index = np.array([k[rank] if k.size > rank else 0 for k in kept], dtype=np.int64)
        step_fit = inflection_fit(p, fit.slope, index, sigma, params.peak_window_fraction)
        peak, err = _peak(p, fit.slope, index, take(slope_err, index), step_fit)
        temps[:, rank] = np.where(has, peak, np.nan)
        errs[:, rank] = np.where(has, err, np.nan)
    out: dict[str, Any] = {
        "n_steps": np.array([k.size for k in kept], dtype=np.int64),
        "step_temperatures_k": [temps[i, : k.size] for i, k in enumerate(kept)],
        "step_temperatures_k_err": [errs[i, : k.size] for i, k in enumerate(kept)],
        "step_fractions": fractions,
    }
    upper = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    upper_err = np.full(n, np.nan)
    lower_err = np.full(n, np.nan)
    upper_fraction = np.full(n, np.nan)
    for i, frac in enumerate(fractions):
        if frac.size >= 2:
            a, b = np.sort(np.argsort(frac)[-2:])  # warmest first: a is the upper step
            upper[i], lower[i] = temps[i, a], temps[i, b]
            upper_err[i], lower_err[i] = errs[i, a], errs[i, b]
            upper_fraction[i] = frac[a]
    out["tc_step_upper_k"], out["tc_step_upper_k_err"] = upper, upper_err
    out["tc_step_lower_k"], out["tc_step_lower_k_err"] = lower, lower_err
    out["step_upper_fraction"] = upper_fraction
    return out
