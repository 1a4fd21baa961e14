"""Benchmark of the physics processors against same-process baselines (ratios, not timings).

1. Batched relaxation fit: N saturation-recovery curves of 16 delays (default 10,000), fitted by
   ``hydrofw_nmr.physics`` as one batch, against a Python loop of ``scipy.optimize.curve_fit``
   over the same curves (same model, same sigma). Reports the speed ratio, the largest relative
   difference of T1 and of its standard error, and peak memory (tracemalloc).
2. Pake lineshape: the closed form with exact bin masses convolved with the broadening, against
   a numerical orientation average that reaches the same accuracy (1e-3 of the maximum, after
   broadening) with the fewest orientations. Reports both errors and the speed ratio.

Run: ``.venv/bin/python benchmarks/bench_physics.py [--quick]``. Times are the best of a few
runs (the machine may be shared); never asserts timings.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from hydrofw_nmr.physics import get_model, model_function
from hydrofw_nmr.physics.batch_fit import fit_batch
from hydrofw_nmr.physics.dipolar import dipolar_coupling_hz, pake_lineshape, pake_powder_average
from scipy.optimize import curve_fit

import hydrofw
from hydrofw import RelaxationCurve, to_table

N_DELAYS = 16
NOISE = 0.01


def _timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[Any, float]:
    """Result and best wall time (s) over ``repeat`` runs (no tracing: it slows Python code)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def _peak_mib(fn: Callable[[], Any]) -> float:
    """Peak memory (MiB) traced by tracemalloc during one run of ``fn`` (numpy included)."""
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def _curves(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.tile(np.geomspace(1e-4, 0.2, N_DELAYS), (n, 1))
    t1 = rng.uniform(2e-3, 0.05, n)
    m0 = rng.uniform(0.5, 2.0, n)
    y = model_function("saturation_recovery")(t, m0[:, None], t1[:, None])
    return t, y + rng.normal(0.0, NOISE, y.shape), t1


def bench_relaxation(n: int) -> None:
    t, y, _ = _curves(n)
    sigma = np.full_like(y, NOISE)
    model = get_model("saturation_recovery")
    f = model_function("saturation_recovery")

    def batched() -> Any:
        return fit_batch(model, t, y, sigma)

    def loop() -> tuple[np.ndarray, np.ndarray]:
        values, errors = np.empty((n, 2)), np.empty((n, 2))
        for i in range(n):
            p0 = (y[i].max(), float(np.median(t[i])))
            p, cov = curve_fit(f, t[i], y[i], p0=p0, sigma=sigma[i], maxfev=10000)
            values[i], errors[i] = p, np.sqrt(np.diag(cov))
        return values, errors

    table = to_table(
        [
            RelaxationCurve(
                nucleus="1H",
                kind="T1_saturation_recovery",
                delay_s=t[i],
                amplitude=y[i],
                amplitude_err=sigma[i],
                cell=f"c{i % 7}",
            )
            for i in range(n)
        ]
    )

    def processor() -> Any:
        return hydrofw.process("relaxation.fit", table)

    fit, t_batch = _timed(batched, repeat=5)
    (ref, ref_err), t_loop = _timed(loop, repeat=2)
    out, t_proc = _timed(processor, repeat=3)
    mem_batch, mem_proc = _peak_mib(batched), _peak_mib(processor)
    t1 = fit.column("t1_s")
    dev = np.max(np.abs(t1 / ref[:, 1] - 1.0))
    dev_err = np.max(np.abs(fit.error("t1_s") / ref_err[:, 1] - 1.0))
    same_proc = np.max(np.abs(np.asarray(out.column("t1_s").to_pylist()) / t1 - 1.0))
    print(f"relaxation fit: {n} saturation-recovery curves x {N_DELAYS} delays")
    print(f"  batched fit_batch          {t_batch:8.3f} s   peak {mem_batch:7.1f} MiB")
    print(f"  hydrofw.process(table)     {t_proc:8.3f} s   peak {mem_proc:7.1f} MiB")
    print(f"  curve_fit loop (baseline)  {t_loop:8.3f} s")
    print(f"  speed ratio loop/batched   {t_loop / t_batch:8.1f} x")
    print(f"  speed ratio loop/process   {t_loop / t_proc:8.1f} x (table in/out, validation)")
    print(
        f"  max |T1/T1_scipy - 1| = {dev:.2e}; max |err/err_scipy - 1| = {dev_err:.2e}; "
        f"converged {fit.converged.mean():.4f}; processor vs batch {same_proc:.1e}"
    )


def _orientations_for(
    freq: np.ndarray, d_hz: float, fwhm: float, truth: np.ndarray, tol: float
) -> int:
    n = 250
    while n < 4_000_000:
        avg = pake_powder_average(freq, d_hz, broadening_fwhm_hz=fwhm, n_orientations=n)
        if np.max(np.abs(avg - truth)) <= tol * truth.max():
            return n
        n *= 2
    return n


def bench_pake(quick: bool) -> None:
    d_hz = float(dipolar_coupling_hz(1.0))
    n_points = 2001 if quick else 8001
    freq = np.linspace(-2.5 * d_hz, 2.5 * d_hz, n_points)
    print(f"Pake lineshape: d/2pi = {d_hz / 1e3:.2f} kHz (r = 1 A), {n_points} points, Gaussian")
    for fwhm in (0.1 * d_hz, 0.03 * d_hz):
        truth = pake_lineshape(freq, d_hz, broadening_fwhm_hz=fwhm, oversample=64)

        def closed_form(fwhm: float = fwhm) -> np.ndarray:
            return pake_lineshape(freq, d_hz, broadening_fwhm_hz=fwhm)

        closed, t_closed = _timed(closed_form, repeat=5)
        err_closed = np.max(np.abs(closed - truth)) / truth.max()
        n_orient = _orientations_for(freq, d_hz, fwhm, truth, 1e-3)

        def average(fwhm: float = fwhm, n: int = n_orient) -> np.ndarray:
            return pake_powder_average(freq, d_hz, broadening_fwhm_hz=fwhm, n_orientations=n)

        avg, t_avg = _timed(average, repeat=2)
        mem_closed, mem_avg = _peak_mib(closed_form), _peak_mib(average)
        err_avg = np.max(np.abs(avg - truth)) / truth.max()
        print(
            f"  FWHM {fwhm / 1e3:6.2f} kHz: closed form {t_closed * 1e3:8.2f} ms "
            f"(error {err_closed:.1e}, peak {mem_closed:.1f} MiB); "
            f"orientation average {n_orient} orientations "
            f"{t_avg * 1e3:9.1f} ms (error {err_avg:.1e}, peak {mem_avg:.1f} MiB); "
            f"ratio {t_avg / t_closed:7.1f} x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 curves and a short Pake axis")
    args = parser.parse_args()
    bench_relaxation(1_000 if args.quick else 10_000)
    bench_pake(args.quick)


if __name__ == "__main__":
    main()
