"""Scaled convergence tests of batched Levenberg-Marquardt fits (as scipy least_squares).

A fit has converged when one of three scale-free criteria holds (MINPACK's, per row):

- ``ftol``: an accepted step lowered the cost by at most ``ftol`` times the cost;
- ``xtol``: the step is small against the parameters in the Jacobian's own scaling,
  ||D dx|| <= xtol (xtol + ||D x||) with D = sqrt(diag(J^T J)) (``x_scale="jac"``), so
  parameters of any unit (Hz, seconds, angstrom, amplitudes of 1e9) are judged alike;
- ``gtol``: the residual is orthogonal to every Jacobian column to within ``gtol``
  (max_j |J_j . r| / (||J_j|| ||r||) <= gtol), a zero-gradient test independent of scale.

A fit that meets none of them within the iteration limit, or ends with non-finite values, has
failed; nothing else (such as an ill-conditioned but finite J^T J) is a failure.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FTOL", "XTOL", "GTOL", "gradient_converged", "step_converged", "cost_converged"]

FTOL = 1e-8
XTOL = 1e-8
GTOL = 1e-8


def gradient_converged(jac: np.ndarray, resid: np.ndarray, gtol: float = GTOL) -> np.ndarray:
    """Rows (B,) whose residual (B, n) is orthogonal to each Jacobian column (B, n, k) within
    ``gtol`` (cosine of the angle); a zero residual or a zero column counts as orthogonal."""
    g = np.abs(np.einsum("bnk,bn->bk", jac, resid))
    norms = (
        np.sqrt(np.einsum("bnk,bnk->bk", jac, jac))
        * np.sqrt(np.einsum("bn,bn->b", resid, resid))[:, None]
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.where(norms > 0, g / np.where(norms > 0, norms, 1.0), 0.0)
    return np.all(cosine <= gtol, axis=1)


def step_converged(
    step: np.ndarray, x: np.ndarray, scale: np.ndarray, xtol: float = XTOL
) -> np.ndarray:
    """Rows whose step (B, k) is below ``xtol`` relative to x (B, k), both scaled by ``scale``
    (B, k), the square root of the diagonal of J^T J."""
    dx = np.linalg.norm(scale * step, axis=1)
    size = np.linalg.norm(scale * x, axis=1)
    return dx <= xtol * (xtol + size)


def cost_converged(
    cost_before: np.ndarray, cost_after: np.ndarray, accepted: np.ndarray, ftol: float = FTOL
) -> np.ndarray:
    """Rows where an accepted step changed the cost by at most ``ftol`` of it."""
    return accepted & (np.abs(cost_before - cost_after) <= ftol * np.abs(cost_before))
