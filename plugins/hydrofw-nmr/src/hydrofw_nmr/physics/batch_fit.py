"""Batched variable-projection Levenberg-Marquardt fit of many relaxation curves at once.

All curves of a batch are padded to a common length; padded points get weight 0, so curves of
different lengths share one set of numpy operations (no Python loop over curves). For each
curve the linear amplitudes are solved exactly by a weighted QR least-squares step at every
iterate; Levenberg-Marquardt steps act on the logarithm of the nonlinear parameters (times stay
positive) with the Kaufman variable-projection Jacobian. Starting values come from a log-spaced
grid search over the times, so no initial guess is needed.

At the optimum the full Jacobian in the natural parameters gives the covariance, scaled by the
reduced chi-square (scipy ``curve_fit`` with ``absolute_sigma=False``): the results equal a
``curve_fit`` of each curve to the fit tolerance.
"""

from __future__ import annotations

import itertools

import attrs
import numpy as np

from hydrofw.fitting import aic

from ..convergence import FTOL, GTOL, cost_converged, gradient_converged, step_converged
from .relaxation_models import RelaxationModel

__all__ = ["BatchFitResult", "fit_batch", "batched_covariance", "residual_bootstrap"]

_GRID_TIMES = 20
_GRID_BETAS = (0.35, 0.5, 0.7, 0.85, 1.0, 1.3)
_CHUNK = 4096


@attrs.frozen
class BatchFitResult:
    """Fit of B curves. Arrays have the batch as first axis; names follow ``model.natural_names``.

    ``values``/``stderr`` (B, q), ``covariance`` (B, q, q) scaled by ``reduced_chi2`` where
    ``dof > 0``; ``converged`` (B,) is False when no scaled criterion (ftol/xtol/gtol, as
    ``scipy.optimize.least_squares``) was met within the iteration limit or the values are not
    finite.
    """

    model: RelaxationModel
    values: np.ndarray
    stderr: np.ndarray
    covariance: np.ndarray
    chi2: np.ndarray
    dof: np.ndarray
    reduced_chi2: np.ndarray
    aic: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray

    def column(self, name: str) -> np.ndarray:
        """Values of natural parameter ``name`` over the batch."""
        return self.values[:, self.model.natural_names.index(name)]

    def error(self, name: str) -> np.ndarray:
        """Standard errors of natural parameter ``name`` over the batch."""
        return self.stderr[:, self.model.natural_names.index(name)]


def batched_covariance(jac: np.ndarray) -> np.ndarray:
    """(J^T J)^-1 for a stack of Jacobians (B, n, p), as R^-1 R^-T from a thin QR of J.

    A curve whose Jacobian is rank deficient (a diagonal element of R below eps * n * the
    largest) gets an infinite covariance, as :func:`hydrofw.fitting.covariance_from_jacobian`
    gives for the affected directions of one Jacobian.
    """
    _, r = _thin_qr(jac)
    diag = np.abs(np.einsum("bii->bi", r))
    p = r.shape[1]
    singular = np.any(
        diag <= np.finfo(float).eps * max(jac.shape[1:]) * diag.max(axis=1, keepdims=True), axis=1
    )
    r_safe = np.where(singular[:, None, None], np.eye(p), r)
    r_inv = np.stack(
        [_back_substitute(r_safe, np.broadcast_to(np.eye(p)[j], (len(r), p))) for j in range(p)],
        axis=2,
    )
    cov = np.einsum("bij,bkj->bik", r_inv, r_inv)
    return np.where(singular[:, None, None], np.inf, cov)


def _thin_qr(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """QR of a stack of tall, thin matrices (B, n, m) by Gram-Schmidt with one
    re-orthogonalisation (as accurate as Householder for the few columns used here, and much
    faster than a batched LAPACK call on tiny matrices). Zero columns give zero Q columns."""
    b, n, m = a.shape
    q = np.zeros_like(a)
    r = np.zeros((b, m, m))
    for j in range(m):
        v = a[:, :, j].copy()
        for _ in range(2 if j else 1):
            if j:
                coef = np.einsum("bnk,bn->bk", q[:, :, :j], v)
                v -= np.einsum("bnk,bk->bn", q[:, :, :j], coef)
                r[:, :j, j] += coef
        norm = np.sqrt(np.einsum("bn,bn->b", v, v))
        r[:, j, j] = norm
        q[:, :, j] = v / np.where(norm > 0, norm, 1.0)[:, None]
    return q, r


def _back_substitute(r: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve upper-triangular systems R c = rhs (B, m); NaN where R is singular."""
    m = rhs.shape[1]
    c = np.zeros_like(rhs)
    for i in range(m - 1, -1, -1):
        acc = rhs[:, i] - np.einsum("bk,bk->b", r[:, i, i + 1 :], c[:, i + 1 :])
        diag = r[:, i, i]
        c[:, i] = np.where(diag != 0, acc / np.where(diag != 0, diag, 1.0), np.nan)
    return c


def _solve_small(a: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve (B, k, k) systems for k <= 2 in closed form (LAPACK beyond); returns the solution
    and a mask of the solvable systems."""
    k = rhs.shape[1]
    if k == 1:
        det = a[:, 0, 0]
        ok = np.isfinite(det) & (det != 0)
        return np.where(ok[:, None], rhs / np.where(ok, det, 1.0)[:, None], 0.0), ok
    if k == 2:
        det = a[:, 0, 0] * a[:, 1, 1] - a[:, 0, 1] * a[:, 1, 0]
        ok = np.isfinite(det) & (det != 0)
        safe = np.where(ok, det, 1.0)
        x0 = (a[:, 1, 1] * rhs[:, 0] - a[:, 0, 1] * rhs[:, 1]) / safe
        x1 = (a[:, 0, 0] * rhs[:, 1] - a[:, 1, 0] * rhs[:, 0]) / safe
        return np.where(ok[:, None], np.stack([x0, x1], axis=1), 0.0), ok
    det = np.linalg.det(a)
    ok = np.isfinite(det) & (det != 0)
    out = np.zeros_like(rhs)
    if ok.any():
        out[ok] = np.linalg.solve(a[ok], rhs[ok][:, :, None])[:, :, 0]
    return out, ok


def _project(
    phi: np.ndarray, y: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted linear least squares for the amplitudes of every curve (singular ones: cost inf).

    Returns the amplitudes c (B, m), the weighted residual r = w (y - phi c) (B, n), the cost
    sum(r^2) (B,) and the orthonormal basis Q (B, n, m) of the weighted design matrix.
    """
    a = phi * w[:, :, None]
    b = y * w
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        q, r = _thin_qr(np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0))
        qtb = np.einsum("bnm,bn->bm", q, b)
        c = _back_substitute(r, qtb)
        resid = b - np.einsum("bnm,bm->bn", a, c)
        cost = np.einsum("bn,bn->b", resid, resid)
    return c, resid, np.where(np.isfinite(cost), cost, np.inf), q


def _grid_start(model: RelaxationModel, t: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Best nonlinear parameters (B, k) on a log-spaced grid spanning the sampled delays."""
    valid = w > 0
    positive = np.where(valid & (t > 0), t, np.inf)
    t_lo = positive.min(axis=1)
    t_hi = np.where(valid, t, -np.inf).max(axis=1)
    t_lo = np.where(np.isfinite(t_lo), t_lo, 1.0)
    t_hi = np.where(t_hi > t_lo, t_hi, t_lo * 10.0)
    fractions = np.linspace(0.0, 1.0, _GRID_TIMES)
    grid = np.exp(
        np.log(t_lo / 3.0)[:, None] + fractions[None, :] * np.log(9.0 * t_hi / t_lo)[:, None]
    )  # (B, G): from t_min/3 to 3 t_max
    if model.components == 2:
        combos = [(i, j) for i, j in itertools.combinations(range(_GRID_TIMES), 2)]
        candidates = [np.stack([grid[:, i], grid[:, j]], axis=1) for i, j in combos]
    elif model.stretched:
        candidates = [
            np.stack([grid[:, i], np.full(len(t), beta)], axis=1)
            for i in range(_GRID_TIMES)
            for beta in _GRID_BETAS
        ]
    else:
        candidates = [grid[:, i : i + 1] for i in range(_GRID_TIMES)]
    best_cost = np.full(len(t), np.inf)
    best = candidates[len(candidates) // 2].copy()
    yw = y * w
    total = np.einsum("bn,bn->b", yw, yw)
    for theta in candidates:
        with np.errstate(invalid="ignore", over="ignore"):
            phi, _ = model.basis(t, theta)
            q, _ = _thin_qr(np.nan_to_num(phi * w[:, :, None], nan=0.0, posinf=0.0, neginf=0.0))
        qtb = np.einsum("bnm,bn->bm", q, yw)
        cost = total - np.einsum("bm,bm->b", qtb, qtb)  # residual norm of the projection
        better = cost < best_cost
        best_cost = np.where(better, cost, best_cost)
        best[better] = theta[better]
    return best


def _lm(
    model: RelaxationModel,
    t: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    theta0: np.ndarray,
    max_iter: int,
    xtol: float,
    ftol: float = FTOL,
    gtol: float = GTOL,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Variable-projection Levenberg-Marquardt on u = log(theta) with the scaled convergence
    criteria of :mod:`hydrofw_nmr.convergence`. Returns theta, c, converged, iterations."""
    u = np.log(theta0)
    phi, dphi = model.basis(t, theta0)
    c, resid, cost, q = _project(phi, y, w)
    lam = np.full(len(t), 1e-3)
    d_scale = np.zeros_like(u)
    active = np.isfinite(cost)
    converged = np.zeros(len(t), dtype=bool)
    iterations = np.zeros(len(t), dtype=int)
    k = u.shape[1]
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        iterations[idx] += 1
        theta, wi, qi = np.exp(u[idx]), w[idx], q[idx]
        # d(weighted model)/du_j = w * (dphi_j c) * theta_j ; Kaufman: J = -P_perp (that)
        dmodel = np.einsum("bnmk,bm->bnk", dphi[idx], c[idx]) * theta[:, None, :] * wi[:, :, None]
        jac = np.einsum("bnm,bmk->bnk", qi, np.einsum("bnm,bnk->bmk", qi, dmodel)) - dmodel
        grad = np.einsum("bnk,bn->bk", jac, resid[idx])
        hess = np.einsum("bnk,bnl->bkl", jac, jac)
        diag = np.einsum("bkk->bk", hess)
        d_scale[idx] = np.maximum(d_scale[idx], np.sqrt(diag))  # x_scale="jac"
        at_zero_grad = gradient_converged(jac, resid[idx], gtol)
        damp = lam[idx, None] * np.maximum(d_scale[idx] ** 2, 1e-300)
        damped = hess + damp[:, :, None] * np.eye(k)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            step, ok = _solve_small(damped, -grad)
        step = np.clip(step, -2.0, 2.0)
        u_new = u[idx] + step
        phi_new, dphi_new = model.basis(t[idx], np.exp(u_new))
        c_new, resid_new, cost_new, q_new = _project(phi_new, y[idx], wi)
        accept = ok & (cost_new <= cost[idx]) & np.isfinite(cost_new)
        finished = (
            at_zero_grad
            | cost_converged(cost[idx], cost_new, accept, ftol)
            | step_converged(step, u[idx], d_scale[idx], xtol)
            | (cost[idx] == 0.0)
        )
        acc = idx[accept]
        u[acc], c[acc], resid[acc], cost[acc], q[acc], dphi[acc] = (
            u_new[accept],
            c_new[accept],
            resid_new[accept],
            cost_new[accept],
            q_new[accept],
            dphi_new[accept],
        )
        lam[idx] = np.where(accept, np.maximum(lam[idx] / 5.0, 1e-12), lam[idx] * 8.0)
        converged[idx[finished]] = True
        active[idx[finished | (lam[idx] > 1e16)]] = False
    return np.exp(u), c, converged, iterations


def fit_batch(
    model: RelaxationModel,
    t: np.ndarray,
    y: np.ndarray,
    sigma: np.ndarray | None = None,
    *,
    theta0: np.ndarray | None = None,
    max_iter: int = 200,
    xtol: float = 1e-9,
) -> BatchFitResult:
    """Fit ``model`` to B curves: delays ``t`` and amplitudes ``y`` (B, n), standard errors
    ``sigma`` (B, n) or None (unit weights). Points with ``sigma = inf`` are ignored (padding).

    ``theta0`` (B, k) overrides the grid-search start. The caller validates the data (finite,
    enough points); this function never raises or warns on a single bad curve (overflow with
    absurd magnitudes, singular designs): it reports NaN values and ``converged=False``.
    """
    with np.errstate(all="ignore"):
        return _fit_batch(model, t, y, sigma, theta0, max_iter, xtol)


def _fit_batch(
    model: RelaxationModel,
    t: np.ndarray,
    y: np.ndarray,
    sigma: np.ndarray | None,
    theta0: np.ndarray | None,
    max_iter: int,
    xtol: float,
) -> BatchFitResult:
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones_like(y) if sigma is None else 1.0 / np.asarray(sigma, dtype=float)
    y = np.where(w > 0, y, 0.0)
    n_batch = len(t)
    k = len(model.nonlinear)
    theta = np.empty((n_batch, k))
    c = np.empty((n_batch, len(model.linear)))
    converged = np.empty(n_batch, dtype=bool)
    iterations = np.empty(n_batch, dtype=int)
    for lo in range(0, n_batch, _CHUNK):
        sl = slice(lo, min(lo + _CHUNK, n_batch))
        start = _grid_start(model, t[sl], y[sl], w[sl]) if theta0 is None else theta0[sl]
        theta[sl], c[sl], converged[sl], iterations[sl] = _lm(
            model, t[sl], y[sl], w[sl], start, max_iter, xtol
        )
    return _finish(model, t, y, w, theta, c, converged, iterations)


def _finish(
    model: RelaxationModel,
    t: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    theta: np.ndarray,
    c: np.ndarray,
    converged: np.ndarray,
    iterations: np.ndarray,
) -> BatchFitResult:
    phi, dphi = model.basis(t, theta)
    resid = w * (y - np.einsum("bnm,bm->bn", phi, c))
    chi2 = np.einsum("bn,bn->b", resid, resid)
    n_points = np.count_nonzero(w > 0, axis=1)
    p = model.n_params
    dof = n_points - p
    # Jacobian of the weighted model in (theta, c), then in the natural parameters
    jac_internal = np.concatenate([np.einsum("bnmk,bm->bnk", dphi, c), phi], axis=2) * w[:, :, None]
    values, g = model.natural(theta, c)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        finite = np.all(np.isfinite(jac_internal), axis=(1, 2)) & np.all(
            np.isfinite(g), axis=(1, 2)
        )
        cov_internal = np.full((len(t), p, p), np.nan)
        if finite.any():
            cov_internal[finite] = batched_covariance(jac_internal[finite])
        cov = np.einsum("bij,bjk,blk->bil", g, cov_internal, g)
        red = np.where(dof > 0, chi2 / np.maximum(dof, 1), np.nan)
        cov = np.where((dof > 0)[:, None, None], cov * red[:, None, None], cov)
        stderr = np.sqrt(np.einsum("bii->bi", cov))
    aics = np.array([aic(float(x), int(n), p) for x, n in zip(chi2, n_points, strict=True)])
    return BatchFitResult(
        model=model,
        values=values,
        stderr=stderr,
        covariance=cov,
        chi2=chi2,
        dof=dof,
        reduced_chi2=red,
        aic=aics,
        converged=converged & np.all(np.isfinite(values), axis=1),
        iterations=iterations,
    )


def residual_bootstrap(
    model: RelaxationModel,
    t: np.ndarray,
    y: np.ndarray,
    sigma: np.ndarray | None,
    fit: BatchFitResult,
    n_resamples: int,
    seed: int,
) -> np.ndarray:
    """Bootstrap standard errors (B, q) of the natural parameters: the weighted residuals of each
    curve are resampled with replacement, added to its best-fit curve, and all B * n_resamples
    synthetic curves are refitted as one batch."""
    rng = np.random.default_rng(seed)
    w = np.ones_like(y) if sigma is None else 1.0 / np.asarray(sigma, dtype=float)
    valid = w > 0
    internal_theta = np.stack([_natural_to_theta(model, fit, name) for name in model.nonlinear], 1)
    phi, _ = model.basis(t, internal_theta)
    c, _, _, _ = _project(phi, y, w)  # amplitudes at the best-fit times (exact)
    fitted = np.einsum("bnm,bm->bn", phi, c)
    resid = np.where(valid, (y - fitted) * w, 0.0)
    n_valid = valid.sum(axis=1)
    b, n = y.shape
    # draw indices among each curve's valid points
    order = np.argsort(~valid, axis=1, kind="stable")  # valid points first
    draws = (rng.random((n_resamples, b, n)) * n_valid[None, :, None]).astype(int)
    picked = np.take_along_axis(
        np.broadcast_to(resid, (n_resamples, b, n)),
        np.take_along_axis(np.broadcast_to(order, (n_resamples, b, n)), draws, axis=2),
        axis=2,
    )
    with np.errstate(divide="ignore"):
        synthetic = fitted[None] + np.where(valid[None], picked / w[None], 0.0)
    t_rep = np.broadcast_to(t, (n_resamples, b, n)).reshape(-1, n)
    s_rep = None if sigma is None else np.broadcast_to(sigma, (n_resamples, b, n)).reshape(-1, n)
    start = np.broadcast_to(internal_theta, (n_resamples, *internal_theta.shape)).reshape(
        -1, internal_theta.shape[1]
    )
    refit = fit_batch(model, t_rep, synthetic.reshape(-1, n), s_rep, theta0=start)
    values = refit.values.reshape(n_resamples, b, -1)
    values = np.where(refit.converged.reshape(n_resamples, b)[:, :, None], values, np.nan)
    with np.errstate(invalid="ignore"):
        return np.nanstd(values, axis=0, ddof=1)


def _natural_to_theta(model: RelaxationModel, fit: BatchFitResult, name: str) -> np.ndarray:
    """Internal nonlinear parameter ``name`` recovered from the natural values."""
    if name in model.natural_names:
        return fit.column(name)
    # biexponential: internal (t_a, t_b) are stored as (t_fast, t_slow)
    return fit.column("t_fast_s" if name == "t_a_s" else "t_slow_s")
