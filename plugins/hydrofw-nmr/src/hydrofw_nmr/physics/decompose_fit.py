"""Batched variable-projection fit of FIDs as a sum of components with one shared phase.

Model of trace b (complex, at the fitted points; :mod:`.fid_model` for the components):

    d_n = exp(i phi) [ sum_c a_c B_c(t_n; theta) + e_re + i e_im ] + noise

with real amplitudes a_c (each the component's signal at t = 0, so in the FID's units), a
complex receiver offset e, and nonlinear theta = (offset_hz, hydride_fwhm_hz, h2_fwhm_hz,
broad_fwhm_hz, r_n_angstrom, r_nn_angstrom, phase_rad, h2_offset_hz, h2_nn_fwhm_hz): the
hydride and the broad line share ``offset_hz``, molecular H2 (another shift) has its own; each
H2 doublet has its own Gaussian broadening (``h2_fwhm_hz`` the intramolecular r_n doublet,
``h2_nn_fwhm_hz`` the intermolecular one). For given theta
the amplitudes are the exact weighted least-squares solution (variable projection, real and
imaginary parts stacked); Levenberg-Marquardt searches theta (widths on a log scale, bounds
by projection) with forward-difference Jacobians of the projected residual, in which only the
components that depend on the perturbed parameter are recomputed. Every trace of a batch is
one row of numpy arrays; no Python loop runs over traces. Convergence uses the scaled criteria of
:mod:`hydrofw_nmr.convergence`.

At the optimum the covariance of (free theta, amplitudes) is (J^T J)^-1 from the full
central-difference Jacobian, columns scaled to unit norm (a pseudo-inverse: directions the data
do not constrain get an infinite variance), times the reduced chi-square.
"""

from __future__ import annotations

import math

import attrs
import numpy as np

from ..convergence import (
    FTOL,
    GTOL,
    XTOL,
    cost_converged,
    gradient_converged,
    step_converged,
)
from .fid_model import COMPONENTS, Acquisition, columns

__all__ = ["NONLINEAR", "Problem", "FitState", "levenberg_marquardt", "covariance", "LOG_SCALED"]

NONLINEAR = (
    "offset_hz",
    "hydride_fwhm_hz",
    "h2_fwhm_hz",
    "broad_fwhm_hz",
    "r_n_angstrom",
    "r_nn_angstrom",
    "phase_rad",
    "h2_offset_hz",
    "h2_nn_fwhm_hz",
)
LOG_SCALED = ("hydride_fwhm_hz", "h2_fwhm_hz", "broad_fwhm_hz", "h2_nn_fwhm_hz")
_DEPENDS = {
    "offset_hz": ("hydride", "broad"),
    "hydride_fwhm_hz": ("hydride",),
    "h2_fwhm_hz": ("h2_n", "h2_nn"),  # h2_nn: where the widths are tied
    "broad_fwhm_hz": ("broad",),
    "r_n_angstrom": ("h2_n",),
    "r_nn_angstrom": ("h2_nn",),
    "phase_rad": (),
    "h2_offset_hz": ("h2_n", "h2_nn"),
    "h2_nn_fwhm_hz": ("h2_nn",),
}
_LOG = np.array([n in LOG_SCALED for n in NONLINEAR])
#: magnitudes below which finite-difference steps stop shrinking: internal units (offsets in
#: Hz around kHz, log widths, angstrom, rad) and natural units (Hz, angstrom, rad)
_TYPICAL_INTERNAL = np.array([1e3 if n.endswith("offset_hz") else 1.0 for n in NONLINEAR])
_SMALLEST_NATURAL = np.array(
    [0.1 if n in ("r_n_angstrom", "r_nn_angstrom", "phase_rad") else 100.0 for n in NONLINEAR]
)
PHASE = NONLINEAR.index("phase_rad")
N_LINEAR = len(COMPONENTS) + 2  # amplitudes, then the receiver offset (re, im)


def to_internal(theta: np.ndarray) -> np.ndarray:
    return np.where(_LOG, np.log(np.where(_LOG, np.abs(theta), 1.0)), theta)


def to_natural(u: np.ndarray) -> np.ndarray:
    return np.where(_LOG, np.exp(np.where(_LOG, u, 0.0)), u)


@attrs.frozen(eq=False)
class Problem:
    """Traces (B, N) complex, per-point weights (B, N) (1/sigma on fitted points, 0 elsewhere),
    components in the model per trace (B, 4) and their acquisition. ``tied_widths``: both H2
    doublets take ``h2_fwhm_hz`` (``h2_nn_fwhm_hz`` is not used)."""

    acq: Acquisition
    data: np.ndarray
    weight: np.ndarray
    active: np.ndarray
    tied_widths: bool = False

    def rows(self, idx: np.ndarray) -> Problem:
        return Problem(
            attrs.evolve(self.acq, origin=self.acq.origin[idx]),
            self.data[idx],
            self.weight[idx],
            self.active[idx],
            self.tied_widths,
        )

    def columns(
        self, theta: np.ndarray, names: tuple[str, ...] = COMPONENTS
    ) -> dict[str, np.ndarray]:
        shape = {n: theta[:, j] for j, n in enumerate(NONLINEAR) if n != "phase_rad"}
        if self.tied_widths:
            shape["h2_nn_fwhm_hz"] = shape["h2_fwhm_hz"]
        return columns(names, self.acq, shape, theta[:, 0])

    def design(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        """Real design matrix (B, 2N, 6): real and imaginary parts stacked, weighted."""
        b, n = self.data.shape
        a = np.zeros((b, 2 * n, N_LINEAR))
        for j, name in enumerate(COMPONENTS):
            col = np.where(self.active[:, j : j + 1], cols[name], 0.0)
            a[:, :n, j], a[:, n:, j] = col.real, col.imag
        a[:, :n, -2] = 1.0
        a[:, n:, -1] = 1.0
        w = np.concatenate([self.weight, self.weight], axis=1)
        return a * w[:, :, None]

    def target(self, phase: np.ndarray) -> np.ndarray:
        """Weighted data rotated by -phase, real and imaginary parts stacked (B, 2N)."""
        y = self.data * np.exp(-1j * phase)[:, None]
        return np.concatenate([y.real * self.weight, y.imag * self.weight], axis=1)

    def project(
        self, theta: np.ndarray, cols: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Least-squares amplitudes (B, 6), weighted residual (B, 2N), cost (B,)."""
        a = self.design(cols)
        y = self.target(theta[:, PHASE])
        with np.errstate(all="ignore"):
            norms = np.sqrt(np.einsum("bnk,bnk->bk", a, a))
            zero = ~(norms > 0)
            scale = np.where(zero, 1.0, norms)
            gram = np.einsum("bnk,bnl->bkl", a, a) / (scale[:, :, None] * scale[:, None, :])
            gram[:, np.arange(N_LINEAR), np.arange(N_LINEAR)] += zero
            rhs = np.einsum("bnk,bn->bk", a, y) / scale
            try:
                coef = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0] / scale
            except np.linalg.LinAlgError:
                coef = (np.linalg.pinv(gram) @ rhs[:, :, None])[:, :, 0] / scale
            resid = y - np.einsum("bnk,bk->bn", a, coef)
            cost = np.einsum("bn,bn->b", resid, resid)
        bad = ~np.isfinite(cost)
        return coef, resid, np.where(bad, np.inf, cost)


@attrs.frozen
class FitState:
    """Outcome of :func:`levenberg_marquardt` for a batch."""

    theta: np.ndarray  #: (B, 9) natural nonlinear parameters
    coef: np.ndarray  #: (B, 6) amplitudes and receiver offset
    cost: np.ndarray  #: (B,) weighted residual sum of squares
    converged: np.ndarray  #: (B,) a scaled criterion was met
    iterations: np.ndarray


def _fd_steps(u: np.ndarray) -> np.ndarray:
    """Forward-difference steps in internal units (log widths, Hz, angstrom, rad)."""
    return 1e-7 * np.maximum(np.abs(u), _TYPICAL_INTERNAL[None, :])


def _jacobian(
    prob: Problem,
    u: np.ndarray,
    free: np.ndarray,
    cols: dict[str, np.ndarray],
    resid: np.ndarray,
) -> np.ndarray:
    """Forward-difference Jacobian (B, 2N, 9) of the projected residual in internal units;
    zero columns for held parameters."""
    b = u.shape[0]
    jac = np.zeros((b, resid.shape[1], len(NONLINEAR)))
    steps = _fd_steps(u)
    for j, name in enumerate(NONLINEAR):
        rows = np.flatnonzero(free[:, j])
        if rows.size == 0:
            continue
        sub = prob.rows(rows) if rows.size < b else prob
        u2 = u[rows].copy()
        u2[:, j] += steps[rows, j]
        theta2 = to_natural(u2)
        new = sub.columns(theta2, _DEPENDS[name]) if _DEPENDS[name] else {}
        merged = {k: (new[k] if k in new else v[rows]) for k, v in cols.items()}
        _, r2, _ = sub.project(theta2, merged)
        jac[rows, :, j] = (r2 - resid[rows]) / steps[rows, j][:, None]
    return jac


def levenberg_marquardt(
    prob: Problem,
    theta0: np.ndarray,
    free: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    max_iter: int = 100,
    ftol: float = FTOL,
    xtol: float = XTOL,
    gtol: float = GTOL,
) -> FitState:
    """Minimise the projected cost of every trace over its free nonlinear parameters
    (``free`` (B, 9) bool), within [lower, upper] (natural units, (B, 9))."""
    b = theta0.shape[0]
    lo, hi = to_internal(lower), to_internal(upper)
    u = np.clip(to_internal(theta0), lo, hi)
    cols = prob.columns(to_natural(u))
    coef, resid, cost = prob.project(to_natural(u), cols)
    lam = np.full(b, 1e-3)
    d_scale = np.zeros_like(u)
    converged = np.zeros(b, bool)
    iterations = np.zeros(b, int)
    active = np.isfinite(cost) & free.any(axis=1)
    converged[~free.any(axis=1) & np.isfinite(cost)] = True
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        iterations[idx] += 1
        sub = prob.rows(idx) if idx.size < b else prob
        sub_cols = {k: v[idx] for k, v in cols.items()}
        jac = _jacobian(sub, u[idx], free[idx], sub_cols, resid[idx])
        if not np.all(np.isfinite(jac)):
            jac = np.nan_to_num(jac, nan=0.0, posinf=0.0, neginf=0.0)
        grad = np.einsum("bnk,bn->bk", jac, resid[idx])
        hess = np.einsum("bnk,bnl->bkl", jac, jac)
        diag = np.einsum("bkk->bk", hess)
        d_scale[idx] = np.maximum(d_scale[idx], np.sqrt(diag))
        at_zero_grad = gradient_converged(jac, resid[idx], gtol)
        k = u.shape[1]
        held = ~free[idx]
        damp = lam[idx, None] * np.maximum(d_scale[idx] ** 2, 1e-30)
        system = hess + damp[:, :, None] * np.eye(k)
        system = np.where(held[:, :, None] | held[:, None, :], 0.0, system)
        system[:, np.arange(k), np.arange(k)] += held
        rhs = np.where(held, 0.0, -grad)
        with np.errstate(all="ignore"):
            try:
                step = np.linalg.solve(system, rhs[:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                step = (np.linalg.pinv(system) @ rhs[:, :, None])[:, :, 0]
        step = np.where(np.isfinite(step), step, 0.0)
        u_new = np.clip(u[idx] + step, lo[idx], hi[idx])
        taken = u_new - u[idx]
        theta_new = to_natural(u_new)
        cols_new = sub.columns(theta_new)
        coef_new, resid_new, cost_new = sub.project(theta_new, cols_new)
        accept = np.isfinite(cost_new) & (cost_new <= cost[idx])
        small_cost = cost_converged(cost[idx], cost_new, accept, ftol)
        small_step = step_converged(taken, u[idx], d_scale[idx], xtol)
        acc = idx[accept]
        u[acc] = u_new[accept]
        coef[acc], resid[acc], cost[acc] = coef_new[accept], resid_new[accept], cost_new[accept]
        for key in cols:
            cols[key][acc] = cols_new[key][accept]
        lam[idx] = np.where(accept, np.maximum(lam[idx] / 3.0, 1e-12), lam[idx] * 4.0)
        done = at_zero_grad | small_cost | small_step | (cost[idx] == 0.0)
        converged[idx[done]] = True
        active[idx[done | (lam[idx] > 1e16)]] = False
    theta = to_natural(u)
    ok = converged & np.all(np.isfinite(theta), axis=1) & np.isfinite(cost)
    return FitState(theta, coef, cost, ok, iterations)


def _central_columns(
    prob: Problem, theta: np.ndarray, coef: np.ndarray, j: int, free_j: np.ndarray
) -> np.ndarray:
    """d(weighted model, stacked)/d theta_j (B, 2N) by central differences, amplitudes fixed."""
    name = NONLINEAR[j]
    h = 1e-5 * np.maximum(np.abs(theta[:, j]), _SMALLEST_NATURAL[j])
    out = []
    for sign in (1.0, -1.0):
        th = theta.copy()
        th[:, j] += sign * h
        a = prob.design(prob.columns(th))
        model = np.einsum("bnk,bk->bn", a, coef)
        if name == "phase_rad":  # the data rotate by -phase: the model rotates by +phase
            n = prob.data.shape[1]
            z = (model[:, :n] + 1j * model[:, n:]) * np.exp(1j * sign * h)[:, None]
            model = np.concatenate([z.real, z.imag], axis=1)
        out.append(model)
    return np.where(free_j[:, None], (out[0] - out[1]) / (2.0 * h[:, None]), 0.0)


def covariance(
    prob: Problem, theta: np.ndarray, coef: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covariance (B, 15, 15) of (theta, amplitudes and offset) at the optimum, scaled by the
    reduced chi-square; held parameters and inactive components get zero rows (they are not
    estimated). Returns the covariance, chi2 and the degrees of freedom."""
    a = prob.design(prob.columns(theta))
    y = prob.target(theta[:, PHASE])
    resid = y - np.einsum("bnk,bk->bn", a, coef)
    chi2 = np.einsum("bn,bn->b", resid, resid)
    k = len(NONLINEAR)
    linear_on = np.concatenate([prob.active, np.ones((len(theta), 2), bool)], axis=1)
    on = np.concatenate([free, linear_on], axis=1)
    jac = np.concatenate(
        [np.stack([_central_columns(prob, theta, coef, j, free[:, j]) for j in range(k)], 2), a],
        axis=2,
    )
    jac = np.where(on[:, None, :], jac, 0.0)
    n_points = np.count_nonzero(prob.weight > 0, axis=1) * 2
    dof = n_points - on.sum(axis=1)
    with np.errstate(all="ignore"):
        norms = np.sqrt(np.einsum("bnk,bnk->bk", jac, jac))
        untouched = ~(norms > 0)
        scale = np.where(untouched, 1.0, norms)
        unit = jac / scale[:, None, :]
        gram = np.einsum("bnk,bnl->bkl", unit, unit)
        gram = np.where(np.isfinite(gram), gram, 0.0)
        ev, vec = np.linalg.eigh(gram)  # singular values of the scaled J: sqrt(ev)
        threshold = (np.finfo(float).eps * jac.shape[1]) ** 2 * ev[:, -1:]
        keep = ev > np.maximum(threshold, 1e-300)
        inv = np.where(keep, 1.0 / np.where(keep, ev, 1.0), 0.0)
        cov = np.einsum("bij,bj,bkj->bik", vec, inv, vec) / (scale[:, :, None] * scale[:, None, :])
        degenerate = (np.abs(vec) * (~keep)[:, None, :]).max(axis=2) > 1e-8
        bad = (untouched & on) | (degenerate & on)
        cov = np.where(bad[:, :, None] | bad[:, None, :], np.inf, cov)
        cov = np.where(on[:, :, None] & on[:, None, :], cov, 0.0)
        red = np.where(dof > 0, chi2 / np.maximum(dof, 1), np.nan)
        cov = cov * np.where(dof > 0, red, 1.0)[:, None, None]
    return cov, chi2, dof


def phase_start(prob: Problem, theta: np.ndarray) -> np.ndarray:
    """Zero-order phase of the hydride line: the angle of the data's projection on it."""
    col = prob.columns(theta, ("hydride",))["hydride"]
    w2 = prob.weight**2
    return np.angle(np.einsum("bn,bn->b", prob.data * w2, np.conj(col)))


def pi_wrap(phase: np.ndarray) -> np.ndarray:
    return (phase + math.pi) % (2.0 * math.pi) - math.pi
