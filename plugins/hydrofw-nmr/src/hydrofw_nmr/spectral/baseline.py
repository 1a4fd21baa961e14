"""Baseline correction on automatically detected signal-free regions, vectorised over rows.

The baseline is a low-order polynomial (Legendre basis) or a cubic B-spline with equally
spaced knots, fitted by least squares to the points judged signal-free. Signal-free points
are found iteratively, starting from the median level: flag points whose residual exceeds
``threshold`` noise sigmas, widen the flagged runs by ``margin`` points on each side, fit the
rest, repeat. :func:`fit_baseline` also returns that mask and the noise sigma on it.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import legendre
from scipy.interpolate import BSpline
from scipy.ndimage import minimum_filter1d

from hydrofw.errors import ValidationError

from .numerics import mad_sigma, masked_noise_sigma

__all__ = ["BASELINE_MODELS", "basis", "fit_baseline"]

BASELINE_MODELS = ("none", "polynomial", "spline")


def basis(model: str, n_points: int, order: int) -> np.ndarray:
    """(n_points, n_functions) design matrix of a polynomial of degree ``order`` or a cubic
    B-spline with ``order`` interior knots."""
    if order < 0:
        raise ValidationError(f"baseline order must be >= 0, got {order}")
    u = np.linspace(-1.0, 1.0, n_points)
    if model == "polynomial":
        return legendre.legvander(u, order)
    if model == "spline":
        k = 3
        inner = np.linspace(-1.0, 1.0, order + 2)
        knots = np.concatenate([np.full(k, -1.0), inner, np.full(k, 1.0)])
        return BSpline.design_matrix(u, knots, k).toarray()
    raise ValidationError(f"baseline must be one of {BASELINE_MODELS}, got {model!r}")


def _solve(design: np.ndarray, values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-row weighted least squares: coefficients (rows, n_functions)."""
    normal = np.einsum("nk,rn,nl->rkl", design, weights, design)
    rhs = np.einsum("nk,rn->rk", design, weights * values)
    normal += np.eye(design.shape[1]) * 1e-12 * np.trace(normal, axis1=1, axis2=2)[:, None, None]
    return np.linalg.solve(normal, rhs[..., None])[..., 0]


def fit_baseline(
    values: np.ndarray,
    model: str = "polynomial",
    order: int = 3,
    *,
    threshold: float = 3.0,
    margin: int = 8,
    iterations: int = 6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Baseline of every row of the real 2-D array ``values``.

    Returns ``(baseline, signal_free, sigma)``: the fitted baseline, the boolean mask of the
    points used (signal-free), and the per-row noise sigma on those points.
    """
    values = np.atleast_2d(np.asarray(values, float))
    rows, n = values.shape
    design = basis(model, n, order)
    if n <= design.shape[1]:
        raise ValidationError(f"{n} points cannot support a baseline of {design.shape[1]} terms")
    # Start from the median level: unlike a first least-squares fit it ignores the lines.
    baseline = np.median(values, axis=1, keepdims=True) * np.ones((1, n))
    free = np.ones((rows, n), dtype=bool)
    for it in range(iterations):
        if it:
            baseline = _solve(design, values, free.astype(float)) @ design.T
        resid = values - baseline
        sigma = masked_noise_sigma(resid, free) if it else mad_sigma(resid)
        quiet = np.abs(resid) <= threshold * np.maximum(sigma, 1e-300)[:, None]
        new = minimum_filter1d(quiet, size=2 * margin + 1, axis=1) if margin else quiet
        too_few = new.sum(axis=1) < max(2 * design.shape[1], n // 20)
        new[too_few] = free[too_few]
        if np.array_equal(new, free):
            break
        free = new
    coef = _solve(design, values, free.astype(float))
    baseline = coef @ design.T
    return baseline, free, masked_noise_sigma(values - baseline, free)
