"""Line profiles and a Levenberg-Marquardt least-squares fit vectorised over rows.

Profiles are peak-height normalised, with a constant offset ``c`` (x in any unit, widths FWHM):

* ``lorentzian(x, a, x0, w, c) = a / (1 + (2 (x - x0) / w)**2) + c``
* ``gaussian(x, a, x0, w, c) = a exp(-4 ln2 (x - x0)**2 / w**2) + c``
* ``voigt(x, a, x0, wl, wg, c)``: the convolution of a Lorentzian (FWHM ``wl``) and a Gaussian
  (FWHM ``wg``), scaled to height ``a``; its FWHM is ``0.5346 wl + sqrt(0.2166 wl**2 + wg**2)``
  (Olivero & Longbothum 1977, 0.02 %).

:func:`fit_rows` fits one model to every row at once (same number of points per row) with
forward-difference Jacobians, and returns values, standard errors (covariance scaled by the
reduced chi-square, as :func:`hydrofw.fitting.fit_curve`) and the reduced chi-square.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs
import numpy as np
from scipy.special import voigt_profile

from hydrofw.errors import ValidationError

from ..convergence import FTOL, GTOL, XTOL, cost_converged, gradient_converged, step_converged

__all__ = ["MODELS", "lorentzian", "gaussian", "voigt", "voigt_fwhm", "RowFits", "fit_rows"]

_LN2 = math.log(2.0)


def lorentzian(
    x: np.ndarray, a: np.ndarray, x0: np.ndarray, w: np.ndarray, c: np.ndarray
) -> np.ndarray:
    """Lorentzian of height ``a``, centre ``x0``, FWHM ``w`` on offset ``c``."""
    return a / (1.0 + (2.0 * (x - x0) / w) ** 2) + c


def gaussian(
    x: np.ndarray, a: np.ndarray, x0: np.ndarray, w: np.ndarray, c: np.ndarray
) -> np.ndarray:
    """Gaussian of height ``a``, centre ``x0``, FWHM ``w`` on offset ``c``."""
    return a * np.exp(-4.0 * _LN2 * ((x - x0) / w) ** 2) + c


def voigt(
    x: np.ndarray, a: np.ndarray, x0: np.ndarray, wl: np.ndarray, wg: np.ndarray, c: np.ndarray
) -> np.ndarray:
    """Voigt profile of height ``a`` (Lorentzian FWHM ``wl``, Gaussian FWHM ``wg``)."""
    sigma = np.abs(wg) / (2.0 * math.sqrt(2.0 * _LN2))
    gamma = np.abs(wl) / 2.0
    return a * voigt_profile(x - x0, sigma, gamma) / voigt_profile(0.0, sigma, gamma) + c


def voigt_fwhm(wl: np.ndarray, wg: np.ndarray) -> np.ndarray:
    """FWHM of a Voigt profile from its Lorentzian and Gaussian FWHMs."""
    return 0.5346 * wl + np.sqrt(0.2166 * wl**2 + wg**2)


MODELS: dict[str, Callable[..., np.ndarray]] = {
    "lorentzian": lorentzian,
    "gaussian": gaussian,
    "voigt": voigt,
}


@attrs.frozen
class RowFits:
    """Fit results of many rows: arrays (rows, parameters) and (rows,)."""

    values: np.ndarray
    stderr: np.ndarray
    covariance: np.ndarray
    reduced_chi2: np.ndarray
    success: np.ndarray


def _jacobian(
    model: Callable[..., np.ndarray], x: np.ndarray, p: np.ndarray, f0: np.ndarray
) -> np.ndarray:
    jac = np.empty(f0.shape + (p.shape[1],))
    for j in range(p.shape[1]):  # one column per parameter, all rows at once
        h = 1e-7 * np.maximum(np.abs(p[:, j]), 1e-3)
        q = p.copy()
        q[:, j] += h
        jac[..., j] = (model(x, *(q[:, i : i + 1] for i in range(q.shape[1]))) - f0) / h[:, None]
    return jac


def fit_rows(
    model: str,
    x: np.ndarray,
    y: np.ndarray,
    p0: np.ndarray,
    sigma: np.ndarray,
    weight: np.ndarray | None = None,
    *,
    max_iterations: int = 200,
    positive: tuple[int, ...] = (),
    ftol: float = FTOL,
    xtol: float = XTOL,
    gtol: float = GTOL,
) -> RowFits:
    """Fit ``MODELS[model]`` to every row of ``y`` (rows, points) against ``x`` (same shape).

    ``sigma`` (rows,) is the noise per point; ``weight`` (0/1, same shape as y) masks points;
    parameters listed in ``positive`` (widths) are kept > 0. Convergence uses the scaled
    ``ftol``/``xtol``/``gtol`` criteria of :mod:`hydrofw_nmr.convergence` (as
    ``scipy.optimize.least_squares``); ``success`` is False only for rows that met none of them
    within ``max_iterations``, ended with non-finite values or errors, or have a parameter the
    model does not depend on.
    """
    if model not in MODELS:
        raise ValidationError(f"model must be one of {tuple(MODELS)}, got {model!r}")
    fn = MODELS[model]
    p = np.array(p0, dtype=float)
    rows, k = p.shape
    w = (np.ones_like(y) if weight is None else weight) / np.maximum(sigma, 1e-300)[:, None]

    def evaluate(q: np.ndarray, xs: np.ndarray) -> np.ndarray:
        return fn(xs, *(q[:, i : i + 1] for i in range(k)))

    def chi2(q: np.ndarray, xs: np.ndarray, ys: np.ndarray, ws: np.ndarray) -> np.ndarray:
        r = (evaluate(q, xs) - ys) * ws
        return np.einsum("rn,rn->r", r, r)

    lam = np.full(rows, 1e-3)
    current = chi2(p, x, y, w)
    d_scale = np.zeros_like(p)
    converged = np.zeros(rows, dtype=bool)
    active = np.arange(rows)
    for _ in range(max_iterations):  # Levenberg-Marquardt on the rows not yet converged
        pa_, xa, ya, wa = p[active], x[active], y[active], w[active]
        f0 = evaluate(pa_, xa)
        jac = _jacobian(fn, xa, pa_, f0) * wa[..., None]
        resid = (ya - f0) * wa
        jt = jac.transpose(0, 2, 1)
        jtj = jt @ jac
        jtr = (jt @ resid[..., None])[..., 0]
        diag = np.einsum("rkk->rk", jtj)
        d_scale[active] = np.maximum(d_scale[active], np.sqrt(diag))  # x_scale="jac"
        at_zero_grad = gradient_converged(jac, resid, gtol)
        damped = jtj + (lam[active, None] * np.maximum(d_scale[active] ** 2, 1e-300))[
            ..., None
        ] * np.eye(k)
        try:
            step = np.linalg.solve(damped, jtr[..., None])[..., 0]
        except np.linalg.LinAlgError:  # a degenerate row must not stop the others
            step = (np.linalg.pinv(damped) @ jtr[..., None])[..., 0]
        trial = pa_ + step
        for i in positive:
            trial[:, i] = np.where(trial[:, i] > 0, trial[:, i], 0.5 * pa_[:, i])
        new = chi2(trial, xa, ya, wa)
        better = np.isfinite(new) & (new <= current[active])
        done = (
            at_zero_grad
            | cost_converged(current[active], new, better, ftol)
            | step_converged(trial - pa_, pa_, d_scale[active], xtol)
            | (current[active] == 0.0)
        )
        p[active] = np.where(better[:, None], trial, pa_)
        current[active] = np.where(better, new, current[active])
        lam[active] = np.where(better, lam[active] * 0.3, lam[active] * 10.0)
        converged[active[done]] = True
        active = active[~(done | (lam[active] > 1e16))]
        if active.size == 0:
            break
    jac = _jacobian(fn, x, p, evaluate(p, x)) * w[..., None]
    dof = np.maximum((w > 0).sum(axis=1) - k, 1)
    red = current / dof
    # covariance from the column-scaled J^T J (parameters of any unit), scaled by reduced chi2
    norms = np.sqrt(np.einsum("rnk,rnk->rk", jac, jac))
    scale = np.where(norms > 0, norms, 1.0)
    unit = jac / scale[:, None, :]
    cov = np.linalg.pinv(unit.transpose(0, 2, 1) @ unit) / (scale[:, :, None] * scale[:, None, :])
    cov = cov * red[:, None, None]
    err = np.sqrt(np.clip(np.einsum("rkk->rk", cov), 0.0, None))
    determined = np.all(norms > 0, axis=1)
    ok = converged & determined & np.all(np.isfinite(err), axis=1) & np.isfinite(red)
    ok &= np.all(np.isfinite(p), axis=1)
    return RowFits(values=p, stderr=err, covariance=cov, reduced_chi2=red, success=ok)
