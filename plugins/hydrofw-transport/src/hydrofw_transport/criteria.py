"""Tc criteria on batches of temperature-sorted sweeps (rows of :class:`.batch.Padded`).

Conventions (R rises with T through the transition; every temperature in K, resistance in ohm):

* noise sigma_R: white-noise level of R from second differences (robust MAD), or given;
* R_s, dR/dT: local linear least-squares fit over ``smoothing_points`` neighbours;
* normal state R_n(T) = a + b (T - T_ref): least-squares line over the normal-state window;
* T_x (x = 90, 50, 10): highest temperature where the measured R / R_n(T) crosses x/100
  (linear interpolation between the bracketing points; smoothing would smear a transition
  that falls between two points);
* steepest point: max smoothed dR/dT among points with 0.05 < R_s/R_n < 0.95;
* dR/dT peak: inflection of a cubic fitted to the raw R around the steepest point
  (:func:`inflection_fit`), or the vertex of the parabola through the smoothed slopes there
  (:func:`parabola_vertex`) when the cubic has too few points;
* onset: intersection of R_n(T) with the tangent at the dR/dT peak; zero (tangent): that
  tangent at R = 0;
* zero resistance: highest temperature where the measured R falls below
  max(zero_fraction R_n(T), noise_factor sigma_R).

Errors are propagated to first order from sigma_R (through the cubic's covariance, the local
fits and the normal-state line's standard errors); :mod:`.evaluate` adds the sampling-density
and model terms.
"""

from __future__ import annotations

import attrs
import numpy as np

from .batch import LocalFit, Padded, take

__all__ = [
    "NormalLine",
    "Crossing",
    "noise_sigma_rows",
    "row_median",
    "normal_line",
    "level_crossing",
    "steepest_index",
    "parabola_vertex",
    "Inflection",
    "inflection_fit",
]

_SQRT12 = np.sqrt(12.0)


def noise_sigma_rows(p: Padded) -> np.ndarray:
    """White-noise sigma_R of each row: 1.4826 MAD of second differences / sqrt(6)."""
    if p.r.shape[1] < 3:
        return np.zeros(p.r.shape[0])
    d2 = p.r[:, 2:] - 2.0 * p.r[:, 1:-1] + p.r[:, :-2]
    med = row_median(d2)
    mad = row_median(np.abs(d2 - med[:, None]))
    return np.nan_to_num(1.4826 * mad / np.sqrt(6.0))


def row_median(values: np.ndarray) -> np.ndarray:
    """Median of the finite values of each row (NaN for rows without any), vectorised."""
    ordered = np.sort(values, axis=1)  # NaN sorts last
    n = np.isfinite(values).sum(axis=1)
    lo = take(ordered, np.maximum((n - 1) // 2, 0))
    hi = take(ordered, np.maximum(n // 2, 0))
    return np.where(n > 0, 0.5 * (lo + hi), np.nan)


@attrs.frozen
class NormalLine:
    """R_n(T) = a + b (T - t_ref) per row, with standard errors and the window used."""

    a: np.ndarray
    b: np.ndarray
    t_ref: np.ndarray
    a_err: np.ndarray
    b_err: np.ndarray
    n: np.ndarray
    t_low: np.ndarray
    t_high: np.ndarray

    def value(self, t: np.ndarray) -> np.ndarray:
        """R_n at ``t`` (rows x points or rows)."""
        if t.ndim == 2:
            return self.a[:, None] + self.b[:, None] * (t - self.t_ref[:, None])
        return self.a + self.b * (t - self.t_ref)

    def error(self, t: np.ndarray) -> np.ndarray:
        """Standard error of R_n at ``t`` (rows), from the fit's a and b errors."""
        return np.hypot(self.a_err, self.b_err * (t - self.t_ref))


def normal_line(p: Padded, window: np.ndarray, sigma_r: np.ndarray) -> NormalLine:
    """Least-squares line through the points of ``window`` (boolean rows x points), refitted
    once without the points lying more than max(3 sigma, 2 % R_n) below the first line (points
    of the transition that leaked into the window). Errors use the larger of the residual
    scatter and the noise sigma_R; rows with < 2 points get NaN."""
    first = _line(p, window & p.valid, sigma_r)
    with np.errstate(invalid="ignore"):
        drop = p.r - first.value(p.t) < -np.maximum(
            3.0 * sigma_r[:, None], 0.02 * np.abs(first.value(p.t))
        )
    return _line(p, window & p.valid & ~drop, sigma_r)


def _line(p: Padded, w: np.ndarray, sigma_r: np.ndarray) -> NormalLine:
    """Plain least-squares line through the points ``w``."""
    n = w.sum(axis=1).astype(np.float64)
    t = np.where(w, p.t, 0.0)
    r = np.where(w, p.r, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_ref = t.sum(axis=1) / n
        x = np.where(w, p.t - t_ref[:, None], 0.0)
        sxx = (x * x).sum(axis=1)
        a = r.sum(axis=1) / n
        b = np.where(sxx > 0, (x * r).sum(axis=1) / sxx, 0.0)
        resid = np.where(w, p.r - a[:, None] - b[:, None] * x, 0.0)
        dof = np.maximum(n - 2.0, 1.0)
        s = np.sqrt((resid * resid).sum(axis=1) / dof)
        s = np.maximum(s, sigma_r)
        a_err = s / np.sqrt(n)
        b_err = np.where(sxx > 0, s / np.sqrt(sxx), np.inf)
    bad = n < 2
    nan = np.full(n.shape, np.nan)
    low = np.where(w, p.t, np.inf).min(axis=1) if p.t.shape[1] else nan
    high = np.where(w, p.t, -np.inf).max(axis=1) if p.t.shape[1] else nan
    return NormalLine(
        np.where(bad, np.nan, a), np.where(bad, np.nan, b), np.nan_to_num(t_ref),
        np.where(bad, np.nan, a_err), np.where(bad, np.nan, b_err), n,
        np.where(bad, np.nan, low), np.where(bad, np.nan, high),
    )  # fmt: skip


@attrs.frozen
class Crossing:
    """Temperature where a curve crosses a level, the bracketing index and local spacing."""

    t: np.ndarray
    index: np.ndarray
    spacing: np.ndarray
    found: np.ndarray


def level_crossing(t: np.ndarray, y: np.ndarray, level: np.ndarray | float) -> Crossing:
    """Highest-temperature upward crossing of ``level`` by ``y`` (rows sorted by ``t``):
    the last i with y[i] < level <= y[i+1]; linear interpolation between i and i+1."""
    lev = np.asarray(level, dtype=np.float64)
    lev_lo = lev[:, :-1] if lev.ndim == 2 else lev
    lev_hi = lev[:, 1:] if lev.ndim == 2 else lev
    below = y[:, :-1] - lev_lo
    above = y[:, 1:] - lev_hi
    with np.errstate(invalid="ignore"):
        cross = (below < 0) & (above >= 0)
    found = np.asarray(cross.any(axis=1))
    width = cross.shape[1]
    index = width - 1 - np.argmax(cross[:, ::-1], axis=1) if width else np.zeros(len(t), int)
    d0 = take(below, index)
    d1 = take(above, index)
    t0 = take(t[:, :-1], index)
    t1 = take(t[:, 1:], index)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(d1 != d0, -d0 / (d1 - d0), 0.5)
    tc = t0 + frac * (t1 - t0)
    return Crossing(np.where(found, tc, np.nan), index, t1 - t0, found)


def steepest_index(fit: LocalFit, ratio: np.ndarray) -> np.ndarray:
    """Index of the largest smoothed dR/dT inside the transition (0.05 < R_s/R_n < 0.95);
    the largest anywhere when no point lies inside (a transition between two points)."""
    inside = (ratio > 0.05) & (ratio < 0.95) & np.isfinite(fit.slope)
    slope_in = np.where(inside, fit.slope, -np.inf)
    slope_all = np.where(np.isfinite(fit.slope), fit.slope, -np.inf)
    any_in = inside.any(axis=1)
    if slope_in.shape[1] == 0:
        return np.zeros(slope_in.shape[0], dtype=int)
    return np.where(any_in, np.argmax(slope_in, axis=1), np.argmax(slope_all, axis=1))


def parabola_vertex(
    t: np.ndarray, s: np.ndarray, index: np.ndarray, sigma_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Peak position of ``s`` near ``index`` by the parabola through three neighbours, and its
    standard error sqrt((h / sqrt 12)^2 + (sigma_s / (2 sqrt 2 h |c|))^2), with h the mean
    spacing and c the parabola's quadratic coefficient; falls back to the sampled point where the
    three points do not bracket a maximum."""
    i = np.clip(index, 1, max(t.shape[1] - 2, 1))
    x0, x1, x2 = take(t, i - 1), take(t, i), take(t, i + 1)
    y0, y1, y2 = take(s, i - 1), take(s, i), take(s, i + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        d01 = (y1 - y0) / (x1 - x0)
        d12 = (y2 - y1) / (x2 - x1)
        curv = (d12 - d01) / (x2 - x0)  # s''/2
        vertex = 0.5 * (x0 + x1) - d01 / (2.0 * curv)
        ok = (curv < 0) & np.isfinite(vertex) & (vertex >= x0) & (vertex <= x2)
        h = 0.5 * (x2 - x0)
        noise = sigma_s / (2.0 * np.sqrt(2.0) * h * np.abs(curv))
    peak = np.where(ok, vertex, take(t, index))
    err = np.hypot(h / _SQRT12, np.where(ok, noise, 0.0))
    return peak, err


@attrs.frozen
class Inflection:
    """Cubic least-squares fit R = c0 + c1 x + c2 x^2 + c3 x^3 (x = T - t0) to the raw points
    around a dR/dT peak, and the peak it implies: temperature ``t``, resistance ``r`` and slope
    ``s`` at the inflection, each as value plus gradient with respect to c (for error
    propagation with ``cov``). ``ok`` is False where the window is too small or the cubic has
    no maximum of dR/dT inside it."""

    t: np.ndarray
    r: np.ndarray
    s: np.ndarray
    grad_t: np.ndarray
    grad_r: np.ndarray
    grad_s: np.ndarray
    cov: np.ndarray
    ok: np.ndarray

    def variance(self, gradient: np.ndarray) -> np.ndarray:
        """g^T C g for a gradient (rows x 4) with respect to the cubic's coefficients."""
        return np.einsum("ni,nij,nj->n", gradient, self.cov, gradient)


def _peak_window(slope: np.ndarray, index: np.ndarray, fraction: float) -> np.ndarray:
    """Contiguous points around ``index`` whose slope is at least ``fraction`` of the slope at
    ``index`` (rows x points boolean)."""
    n, width = slope.shape
    j = np.broadcast_to(np.arange(width), (n, width))
    peak = take(slope, index)
    with np.errstate(invalid="ignore"):
        low = ~(slope >= fraction * peak[:, None])
    last_low = np.maximum.accumulate(np.where(low, j, -1), axis=1)
    next_low = np.minimum.accumulate(np.where(low, j, width)[:, ::-1], axis=1)[:, ::-1]
    left = take(last_low, index)
    right = take(next_low, index)
    return (j > left[:, None]) & (j < right[:, None])


def inflection_fit(
    p: Padded, slope: np.ndarray, index: np.ndarray, sigma: np.ndarray, fraction: float
) -> Inflection:
    """Fit a cubic to the raw R over the points where the smoothed slope stays above
    ``fraction`` of its value at ``index``; covariance scaled by max(residual, sigma_R)^2."""
    full = _peak_window(slope, index, fraction) & p.valid
    t0 = take(p.t, index)
    # gather the (contiguous) windows into a narrow rows x k block: far less arithmetic
    left = np.argmax(full, axis=1)
    span = max(int(full.sum(axis=1).max()), 1)
    cols = np.minimum(left[:, None] + np.arange(span)[None, :], p.t.shape[1] - 1)
    window = np.take_along_axis(full, cols, axis=1) & (
        np.arange(span)[None, :] < full.sum(axis=1)[:, None]
    )
    x = np.where(window, np.take_along_axis(p.t, cols, axis=1) - t0[:, None], 0.0)
    y = np.where(window, np.take_along_axis(p.r, cols, axis=1), 0.0)
    # fit in u = x / h (|u| <= 1) for conditioning, then scale the coefficients back
    h = np.abs(x).max(axis=1)
    h = np.where(h > 0, h, 1.0)
    u = x / h[:, None]
    w = window.astype(np.float64)
    sums, moments = [], []
    uk = w.copy()
    for k in range(7):  # sums of u^0..u^6 and of u^0..u^3 y over the window
        sums.append(uk.sum(axis=1))
        if k < 4:
            moments.append((uk * y).sum(axis=1))
        uk = uk * u
    powers = np.stack(sums, axis=1)
    ata = np.stack([powers[:, k : k + 4] for k in range(4)], axis=1)
    aty = np.stack(moments, axis=1)
    m = powers[:, 0]
    usable = m >= 6
    ata_safe = np.where(usable[:, None, None], ata, np.eye(4))
    det_ok = np.abs(np.linalg.det(ata_safe)) > 1e-300
    ata_safe = np.where(det_ok[:, None, None], ata_safe, np.eye(4))
    inv = np.linalg.inv(ata_safe)
    c_u = np.einsum("nij,nj->ni", inv, aty)
    cubic = c_u[:, :1] + u * (c_u[:, 1:2] + u * (c_u[:, 2:3] + u * c_u[:, 3:4]))
    resid = np.where(window, y - cubic, 0.0)
    to_x = h[:, None] ** -np.arange(4.0)[None, :]  # c_k(x) = c_k(u) / h^k
    c = c_u * to_x
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = (resid**2).sum(axis=1) / np.maximum(m - 4.0, 1.0)
        scale = np.maximum(s2, sigma**2)
        cov = inv * scale[:, None, None] * to_x[:, :, None] * to_x[:, None, :]
        c0, c1, c2, c3 = c.T
        xs = -c2 / (3.0 * c3)
        s = c1 - c2 * c2 / (3.0 * c3)
        r = c0 + c1 * xs + c2 * xs**2 + c3 * xs**3
        zero = np.zeros_like(c0)
        grad_t = np.stack([zero, zero, -1.0 / (3.0 * c3), c2 / (3.0 * c3**2)], axis=1)
        grad_s = np.stack([zero, zero + 1.0, -2.0 * c2 / (3.0 * c3), c2**2 / (3.0 * c3**2)], axis=1)
        grad_r = np.stack([zero + 1.0, xs, xs**2, xs**3], axis=1) + s[:, None] * grad_t
        x_lo = np.where(window, x, np.inf).min(axis=1)
        x_hi = np.where(window, x, -np.inf).max(axis=1)
    ok = usable & det_ok & (c3 < 0) & (xs >= x_lo) & (xs <= x_hi) & (s > 0)
    return Inflection(t0 + xs, r, s, grad_t, grad_r, grad_s, cov, ok)
