"""Benchmark: the spectral chain (nmr.fid_to_spectrum -> nmr.reference -> nmr.lineshape) on
10,000 FIDs of 16,384 complex points (zero fill to 32,768, exponential apodization, manual
phase), against baselines run in the same process on the same data:

(a) the practical limit: a bare ``scipy.fft.fft(..., workers=-1)`` over the same 2-D array and
    dtype (complex array prepared outside the timing), at 16,384 and at the zero-filled 32,768;
(b) what users write today: a per-spectrum ``nmrglue.proc_base`` loop (em, zf_size, fft, ps),
    which does less than the chain (no DC, digital filter, SNR, referencing or lineshape).

The batch streams through the chain in chunks of rows to bound memory. Prints spectra/s,
ratios, the error single precision adds (relative to the noise) and peak memory; never asserts
timings.

    .venv/bin/python benchmarks/bench_spectral.py [--quick] [--precision single] [--auto-phase]
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable
from typing import Any

import nmrglue as ng
import numpy as np
import pyarrow as pa
import scipy.fft
from hydrofw_nmr.spectral.batching import pooled_empty
from hydrofw_nmr.spectral.simulate import fid, table

import hydrofw
from hydrofw.arrays import complex_2d, to_list_array

N_POINTS = 16384
ZERO_FILL = 32768
SW_HZ = 100e3
NOISE = 0.01
CHAIN = {"zero_fill": ZERO_FILL, "line_broadening_hz": 10.0, "phase": (0.0, 0.0)}


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _batch(rows: int, chunk: int = 1000) -> pa.Table:
    """``rows`` simulated 1H FIDs (one line, independent noise), filled chunk by chunk."""
    template = fid(N_POINTS, SW_HZ, [(1.0, 5000.0, 300.0)])
    rng = np.random.default_rng(0)
    re, im = pooled_empty(rows, N_POINTS), pooled_empty(rows, N_POINTS)
    for start in range(0, rows, chunk):
        part = slice(start, min(start + chunk, rows))
        m = part.stop - part.start
        re[part] = template.real + NOISE * rng.standard_normal((m, N_POINTS))
        im[part] = template.imag + NOISE * rng.standard_normal((m, N_POINTS))
    meta = table([template], SW_HZ).drop_columns(["re", "im"])
    out = meta.take(pa.array(np.zeros(rows, dtype=np.int64)))
    out = out.append_column("re", to_list_array(re)).append_column("im", to_list_array(im))
    ids = pa.array([f"row{i}" for i in range(rows)])
    return out.set_column(out.column_names.index("id"), "id", ids)


def _chain(batch: pa.Table, chunk: int, timings: dict[str, float], **fid_params: Any) -> pa.Table:
    """The three processors over ``batch`` chunk by chunk; accumulates seconds per step."""
    parts = []
    for start in range(0, batch.num_rows, chunk):
        t0 = time.perf_counter()
        spec = hydrofw.process("nmr.fid_to_spectrum", batch.slice(start, chunk), **fid_params)
        t1 = time.perf_counter()
        spec = hydrofw.process("nmr.reference", spec, proton_tms_frequency_hz=395e6)
        t2 = time.perf_counter()
        parts.append(hydrofw.process("nmr.lineshape", spec))
        del spec  # streaming: release the chunk's spectra before the next one is made
        t3 = time.perf_counter()
        for name, dt in (
            ("fid_to_spectrum", t1 - t0),
            ("reference", t2 - t1),
            ("lineshape", t3 - t2),
        ):
            timings[name] = timings.get(name, 0.0) + dt
    return pa.concat_tables(parts)


def _per_chunk(batch: pa.Table, chunk: int, dtype: type, fn: Callable[[np.ndarray], None]) -> float:
    """Seconds spent in ``fn`` over complex chunks of ``batch`` (conversion not timed)."""
    total = 0.0
    for start in range(0, batch.num_rows, chunk):
        data = complex_2d(batch.slice(start, chunk)).astype(dtype)
        t0 = time.perf_counter()
        fn(data)
        total += time.perf_counter() - t0
    return total


def _nmrglue_loop(data: np.ndarray) -> None:
    for row in data:  # the per-spectrum loop users write today
        s = ng.proc_base.em(row, lb=10.0 / SW_HZ)
        s = ng.proc_base.zf_size(s, ZERO_FILL)
        s = ng.proc_base.fft(s)
        ng.proc_base.ps(s, p0=0.0, p1=0.0)


def _single_precision_error(batch: pa.Table) -> tuple[float, float]:
    """Max |double - single| spectrum difference and max FWHM difference, both over noise."""
    part = batch.slice(0, 100)
    double = hydrofw.process("nmr.fid_to_spectrum", part, **CHAIN)
    single = hydrofw.process("nmr.fid_to_spectrum", part, precision="single", **CHAIN)
    diff = np.abs(complex_2d(double) - complex_2d(single)).max()
    lines_d = hydrofw.process("nmr.lineshape", double)
    lines_s = hydrofw.process("nmr.lineshape", single)
    sigma = float(np.min(lines_d.column("noise_sigma")))
    fwhm_diff = np.abs(
        np.asarray(lines_d.column("fwhm_hz")) - np.asarray(lines_s.column("fwhm_hz"))
    )
    return float(diff / sigma), float((fwhm_diff / np.asarray(lines_d.column("fwhm_hz_err"))).max())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2,000 FIDs instead of 10,000")
    ap.add_argument("--precision", choices=("double", "single"), default="double")
    ap.add_argument("--chunk", type=int, default=1000, help="rows per chunk through the chain")
    ap.add_argument("--auto-phase", action="store_true", help="also time phase='auto'")
    args = ap.parse_args()
    rows = 2000 if args.quick else 10_000
    dtype = np.complex64 if args.precision == "single" else np.complex128
    batch = _batch(rows, args.chunk)
    rss_input = _rss_mib()
    print(f"{rows} FIDs x {N_POINTS} points, {args.precision} precision, chunks of {args.chunk}")

    warm = batch.slice(0, args.chunk)  # FFT plans, memory pools, page faults
    _chain(warm, args.chunk, {}, precision=args.precision, **CHAIN)
    timings: dict[str, float] = {}
    t_chain = time.perf_counter()
    result = _chain(batch, args.chunk, timings, precision=args.precision, **CHAIN)
    t_chain = time.perf_counter() - t_chain
    rss_chain = _rss_mib()

    def bare(n: int) -> Callable[[np.ndarray], None]:
        return lambda data: scipy.fft.fft(data, n=n, axis=1, workers=-1, overwrite_x=True)

    t_fft = _per_chunk(batch, args.chunk, dtype, bare(N_POINTS))
    t_fft_zf = _per_chunk(batch, args.chunk, dtype, bare(ZERO_FILL))
    loop_rows = min(rows, 2000)
    t_loop = _per_chunk(batch.slice(0, loop_rows), args.chunk, np.complex128, _nmrglue_loop)

    rate = {
        "bare fft, 16k (the limit)": rows / t_fft,
        "bare fft, zero-filled 32k": rows / t_fft_zf,
        "nmrglue loop (em, zf, fft, ps)": loop_rows / t_loop,
        "hydrofw chain": rows / t_chain,
        "  fid_to_spectrum": rows / timings["fid_to_spectrum"],
        "  reference": rows / timings["reference"],
        "  lineshape": rows / timings["lineshape"],
    }
    for name, value in rate.items():
        print(f"  {name:34s} {value:10.0f} spectra/s")
    to_spectrum = timings["fid_to_spectrum"] + timings["reference"]
    print(f"  chain time / bare fft 16k          {t_chain / t_fft:6.2f}x")
    print(f"  chain time / bare fft 32k          {t_chain / t_fft_zf:6.2f}x")
    print(f"  fid_to_spectrum+reference / fft 32k {to_spectrum / t_fft_zf:5.2f}x")
    print(
        f"  chain speed / nmrglue loop         {rate['hydrofw chain'] / rate[list(rate)[2]]:6.1f}x"
    )
    print(
        f"  fid_to_spectrum+reference speed / nmrglue loop "
        f"{rows / to_spectrum / rate[list(rate)[2]]:5.1f}x"
    )
    if args.precision == "single":
        spec_err, fwhm_err = _single_precision_error(batch)
        print(
            f"  single precision: max |error| {spec_err:.1e} noise sigma; FWHM {fwhm_err:.1e} s.e."
        )
    if args.auto_phase:
        t_auto = time.perf_counter()
        _chain(warm, args.chunk, {}, precision=args.precision, **{**CHAIN, "phase": "auto"})
        auto_rate = warm.num_rows / (time.perf_counter() - t_auto)
        print(f"  chain with phase='auto'            {auto_rate:10.0f} spectra/s")
    print(
        f"  peak memory (max RSS): {rss_input:.0f} MiB after building the input "
        f"({batch.nbytes / 2**20:.0f} MiB), {rss_chain:.0f} MiB after the chain"
    )
    fwhm = np.asarray(result.column("fwhm_hz"))
    print(f"  check: median FWHM {np.median(fwhm):.1f} Hz (300 Hz line + 10 Hz broadening = 310)")


if __name__ == "__main__":
    main()
