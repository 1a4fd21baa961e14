"""Benchmark of ``nmr.decompose``: the batched fit against a per-spectrum scipy loop.

B synthetic 1H FIDs (default 64, ``--quick`` 12; 1024 points at SW = 1 MHz, analog console):
half hydride + H2 (two Pake doublets), half hydride + broad line, SNR 200. Both runs use the
same stages (start grid, held shapes, significance tests, distance grid) of
``hydrofw_nmr.physics.decompose``; only the optimiser differs:

- batched: the variable-projection Levenberg-Marquardt of ``decompose_fit``, every spectrum a
  row of one numpy batch;
- baseline: ``scipy.optimize.least_squares`` (trf, bounds, x_scale="jac") on the same projected
  residual, one spectrum at a time.

Both are run with tight tolerances (1e-12) so that the optimum, not the stopping rule, is
compared: reports the largest relative difference of every amplitude and nonlinear parameter
(and whether it is below 1e-6) and the speed ratio. Never asserts timings.

Run: ``.venv/bin/python benchmarks/bench_decompose.py [--quick]``.
"""

from __future__ import annotations

import argparse
import functools
import time

import numpy as np
from hydrofw_nmr.physics import decompose as dec
from hydrofw_nmr.physics import decompose_fit as fit
from hydrofw_nmr.physics.fid_model import component_signal
from scipy import optimize

SW, N = 1e6, 1024
SHAPE = {
    "hydride_fwhm_hz": np.array([3e3]),
    "r_n_angstrom": np.array([0.75]),
    "r_nn_angstrom": np.array([1.24]),
    "h2_fwhm_hz": np.array([8e3]),
    "broad_fwhm_hz": np.array([45e3]),
}
TOL = {"ftol": 1e-12, "xtol": 1e-12, "gtol": 1e-12}


def _traces(b: int) -> np.ndarray:
    t = np.arange(N)[None] / SW
    rng = np.random.default_rng(5)
    out = []
    for k in range(b):
        amps = (0.6, 0.25, 0.15, 0.0) if k % 2 == 0 else (0.7, 0.0, 0.0, 0.3)
        s = sum(
            a * component_signal(n, t, SHAPE, np.array([1e3 + 50 * k]))[0]
            for a, n in zip(amps, ("hydride", "h2_n", "h2_nn", "broad"), strict=True)
        )
        noise = (rng.normal(size=N) + 1j * rng.normal(size=N)) / 200
        out.append(s * np.exp(0.3j) + noise)
    return np.array(out)


def scipy_loop(prob, theta0, free, lower, upper, *, max_iter=100, **_tol) -> fit.FitState:  # noqa: ANN001
    """The baseline optimiser: least_squares on the projected residual, spectrum by spectrum."""
    b = theta0.shape[0]
    theta, coef = theta0.copy(), np.zeros((b, fit.N_LINEAR))
    cost, ok = np.zeros(b), np.zeros(b, bool)
    lo_all, hi_all = fit.to_internal(lower), fit.to_internal(upper)
    for r in range(b):
        sub = prob.rows(np.array([r]))
        j = np.flatnonzero(free[r])
        u0 = fit.to_internal(theta0[r : r + 1])[0]

        def resid(x: np.ndarray, j=j, u0=u0, sub=sub) -> np.ndarray:  # noqa: ANN001
            u = u0.copy()
            u[j] = x
            th = fit.to_natural(u[None])
            return sub.project(th, sub.columns(th))[1][0]

        if j.size:
            lo, hi = lo_all[r, j], hi_all[r, j]
            sol = optimize.least_squares(
                resid,
                np.clip(u0[j], lo, hi),
                bounds=(lo, hi),
                x_scale="jac",
                method="trf",
                jac="3-point",
                max_nfev=50 * max_iter,
                **TOL,
            )
            u = u0.copy()
            u[j] = sol.x
            ok[r] = sol.success
        else:
            u, ok[r] = u0, True
        theta[r] = fit.to_natural(u[None])[0]
        c, _, cst = sub.project(theta[r : r + 1], sub.columns(theta[r : r + 1]))
        coef[r], cost[r] = c[0], cst[0]
    return fit.FitState(theta, coef, cost, ok, np.zeros(b, int))


def _run(data: np.ndarray, optimiser) -> tuple[dec.Decomposition, float]:  # noqa: ANN001
    original = dec.levenberg_marquardt
    dec.levenberg_marquardt = optimiser
    try:
        start = time.perf_counter()
        res = dec.decompose_traces(data, 1 / SW, np.zeros(len(data)), digital=False)
        return res, time.perf_counter() - start
    finally:
        dec.levenberg_marquardt = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--spectra", type=int, default=None)
    args = parser.parse_args()
    b = args.spectra or (12 if args.quick else 64)
    data = _traces(b)
    batched, t_batch = _run(data, functools.partial(fit.levenberg_marquardt, **TOL))
    loop, t_loop = _run(data, scipy_loop)
    held_same = bool(np.array_equal(batched.held, loop.held))
    k = len(fit.NONLINEAR)
    amp = np.abs(batched.coef[:, :4] - loop.coef[:, :4]).max() / np.abs(batched.coef[:, :4]).max()
    est = ~batched.held
    rel_theta = np.abs(batched.theta - loop.theta) / np.maximum(np.abs(loop.theta), 1e-300)
    theta_dev = float(np.max(np.where(est, rel_theta, 0.0)))
    # a weakly determined width stops where the cost is flat to 1e-12: judge it by its error
    theta_err = np.sqrt(np.einsum("bii->bi", batched.cov))[:, :k]
    in_sigma = np.abs(batched.theta - loop.theta) / np.where(theta_err > 0, theta_err, np.inf)
    sigma_dev = float(np.max(np.where(est, in_sigma, 0.0)))
    worst = fit.NONLINEAR[int(np.argmax(np.max(np.where(est, rel_theta, 0.0), axis=0)))]
    err_b = np.sqrt(np.einsum("bii->bi", batched.cov))[:, k : k + 4]
    err_l = np.sqrt(np.einsum("bii->bi", loop.cov))[:, k : k + 4]
    err_dev = float(np.nanmax(np.abs(err_b - err_l) / err_l))
    print(f"spectra: {b} x {N} points (half hydride + H2, half hydride + broad), SNR 200")
    print(f"same stages/held parameters in both runs: {held_same}")
    print(
        f"max relative difference: amplitudes {amp:.2e}, nonlinear {theta_dev:.2e} ({worst}), "
        f"amplitude errors {err_dev:.2e}  (<= 1e-6: {max(amp, theta_dev, err_dev) <= 1e-6})"
    )
    print(f"max nonlinear difference in standard errors: {sigma_dev:.2e}")
    print(
        f"batched {t_batch:.2f} s, scipy loop {t_loop:.2f} s, speed ratio {t_loop / t_batch:.1f}x"
    )


if __name__ == "__main__":
    main()
