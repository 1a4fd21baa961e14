"""Shared least squares: agreement with scipy.optimize.curve_fit, covariance, AIC, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import curve_fit

from hydrofw.errors import ValidationError
from hydrofw.fitting import aic, covariance_from_jacobian, fit_curve, fit_result_at


def _recovery(t, m0, t1):
    return m0 * (1.0 - np.exp(-t / t1))


def test_fit_curve_equals_curve_fit():
    rng = np.random.default_rng(1)
    t = np.geomspace(5e-5, 8e-3, 16)
    y = _recovery(t, 2.0, 1.5e-3) + rng.normal(0, 0.02, t.size)
    ours = fit_curve(_recovery, t, y, [1.0, 1e-3], names=["m0", "t1_s"])
    popt, pcov = curve_fit(_recovery, t, y, p0=[1.0, 1e-3])
    np.testing.assert_allclose(ours.values, popt, rtol=1e-6)
    np.testing.assert_allclose(ours.stderr, np.sqrt(np.diag(pcov)), rtol=1e-4)
    assert ours["t1_s"] == pytest.approx(1.5e-3, abs=3 * ours.err("t1_s"))
    assert ours.dof == 14 and ours.reduced_chi2 == pytest.approx(ours.chi2 / 14)


def test_fit_result_at_the_optimum_matches_the_fit():
    rng = np.random.default_rng(2)
    t = np.geomspace(5e-5, 8e-3, 16)
    y = _recovery(t, 2.0, 1.5e-3) + rng.normal(0, 0.02, t.size)
    fit = fit_curve(_recovery, t, y, [1.0, 1e-3], names=["m0", "t1_s"], sigma=0.02)
    at = fit_result_at(_recovery, t, y, fit.values, names=["m0", "t1_s"], sigma=0.02)
    np.testing.assert_allclose(at.stderr, fit.stderr, rtol=1e-4)
    assert at.chi2 == pytest.approx(fit.chi2) and at.aic == pytest.approx(fit.aic)


def test_covariance_survives_wildly_different_parameter_scales():
    # one parameter in Hz (~1e5), one in angstrom (~1), one amplitude (~1e-9)
    x = np.linspace(0.0, 1.0, 50)
    jac = np.column_stack([1e-5 * x, np.cos(3 * x), 1e9 * x**2])
    cov = covariance_from_jacobian(jac)
    assert np.all(np.isfinite(cov))
    np.testing.assert_allclose(cov, np.linalg.inv(jac.T @ jac), rtol=1e-6)
    degenerate = covariance_from_jacobian(np.column_stack([x, 2 * x, np.zeros_like(x)]))
    assert np.all(np.isinf(np.diag(degenerate)))


def test_aic_small_sample_correction():
    assert aic(10.0, 20, 3) == pytest.approx(20 * math.log(0.5) + 6 + 24 / 16)
    assert aic(0.0, 5, 1) == -math.inf


def test_bad_input():
    with pytest.raises(ValidationError, match="cannot constrain"):
        fit_curve(_recovery, [1.0], [1.0], [1.0, 1.0])
    with pytest.raises(ValidationError, match="NaN"):
        fit_curve(_recovery, [1.0, 2.0, 3.0], [1.0, np.nan, 2.0], [1.0, 1.0])
    with pytest.raises(ValidationError, match="sigma"):
        fit_curve(_recovery, [1.0, 2.0, 3.0], [1.0, 2.0, 2.0], [1.0, 1.0], sigma=0.0)
