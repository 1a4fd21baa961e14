"""Scaled convergence (ftol/xtol/gtol as scipy least_squares): good fits pass, failed fits fail."""

from __future__ import annotations

import numpy as np
import pytest
from hydrofw_nmr.convergence import gradient_converged, step_converged
from hydrofw_nmr.physics import fit_batch, get_model, model_function
from hydrofw_nmr.spectral.profiles import fit_rows, lorentzian
from scipy import optimize


def _lines(scale: float, rows: int = 8, seed: int = 3) -> tuple[np.ndarray, ...]:
    """Lorentzians of height ``scale`` on 128 points (centre ~64, FWHM ~6), noise 1 % of it."""
    rng = np.random.default_rng(seed)
    x = np.tile(np.arange(128.0), (rows, 1))
    truth = np.column_stack(
        [
            np.full(rows, scale),
            64 + rng.normal(0, 2, rows),
            np.full(rows, 6.0),
            np.full(rows, 0.01 * scale),
        ]
    )
    y = lorentzian(x, *(truth[:, i : i + 1] for i in range(4)))
    sigma = np.full(rows, 0.01 * scale)
    return x, y + rng.normal(0, 1, y.shape) * sigma[:, None], truth, sigma


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e9])
def test_good_lineshape_fits_are_not_flagged(scale: float) -> None:
    """Heights of 1e9 next to widths of a few points made J^T J 'ill conditioned' in the
    unscaled test; the scaled criteria accept these fits, and they agree with scipy."""
    x, y, truth, sigma = _lines(scale)
    start = truth * np.array([1.3, 1.0, 0.6, 0.0]) + np.array([0, 1.5, 0, 0])
    fits = fit_rows("lorentzian", x, y, start, sigma, positive=(2,))
    assert fits.success.all()
    for r in range(len(y)):
        ref = optimize.least_squares(
            lambda p, r=r: (lorentzian(x[r], *p) - y[r]) / sigma[r],
            start[r],
            x_scale="jac",
            method="lm",
            xtol=1e-12,
            ftol=1e-12,
        ).x
        assert fits.values[r] == pytest.approx(ref, rel=1e-5, abs=1e-6 * scale)
    assert np.all(np.abs(fits.values[:, 2] - 6.0) < 5 * fits.stderr[:, 2])


def test_failed_lineshape_fits_are_flagged() -> None:
    x, y, truth, sigma = _lines(1.0, rows=3)
    y[1] = 0.01 * np.random.default_rng(0).normal(size=128)  # no line: the width is undetermined
    start = truth.copy()
    start[1, 0] = 0.0  # zero height: centre and width do not change the model at all
    fits = fit_rows("lorentzian", x, y, start, sigma, positive=(2,))
    assert fits.success[0] and fits.success[2]
    assert not fits.success[1]
    capped = fit_rows("lorentzian", x, y, truth * [2.0, 1.0, 3.0, 0.0], sigma, max_iterations=1)
    assert not capped.success.any()  # one iteration from a poor start meets no criterion


def test_relaxation_batch_convergence_with_large_amplitudes() -> None:
    t = np.tile(np.geomspace(1e-4, 10.0, 16), (5, 1))
    rng = np.random.default_rng(2)
    y = model_function("saturation_recovery")(t, 3e9, 0.4) + rng.normal(0, 3e7, t.shape)
    fit = fit_batch(get_model("saturation_recovery"), t, y, np.full_like(y, 3e7))
    assert fit.converged.all()
    assert np.allclose(fit.column("t1_s"), 0.4, rtol=0.1)
    assert np.allclose(fit.column("m0"), 3e9, rtol=0.05)
    stuck = fit_batch(
        get_model("saturation_recovery"),
        t,
        y,
        np.full_like(y, 3e7),
        theta0=np.full((5, 1), 1e-3),
        max_iter=1,
    )
    assert not stuck.converged.any()


def test_criteria_are_scale_free() -> None:
    jac = np.random.default_rng(1).normal(size=(2, 50, 3))
    resid = np.random.default_rng(2).normal(size=(2, 50))
    # the least-squares residual is orthogonal to the columns
    for b in range(2):
        coef, *_ = np.linalg.lstsq(jac[b], resid[b], rcond=None)
        resid[b] -= jac[b] @ coef
    scaled = jac * np.array([1e-9, 1.0, 1e9])
    assert gradient_converged(jac, resid).all() and gradient_converged(scaled, resid).all()
    assert not gradient_converged(jac, resid + jac[:, :, 0]).any()
    x = np.array([[1e9, 1e-6]])
    d = np.array([[1e-9, 1e6]])  # sqrt(diag(J^T J)) in those units
    assert step_converged(np.array([[1.0, 1e-15]]), x, d, 1e-8)
    assert not step_converged(np.array([[1e3, 0.0]]), x, d, 1e-8)
