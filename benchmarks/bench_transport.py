"""Benchmark of the transport plugin: reading a large SIM921 log and batched Tc extraction.

Run: ``.venv/bin/python benchmarks/bench_transport.py [--quick]``.

1. Reading: a LabVIEW-like TSV log (``#`` header, elapsed time, T, R, ten cooling/warming
   legs) of 1,000,000 lines (200,000 with ``--quick``) is read by ``hydrofw.read(path,
   format="sim921")`` (parse, unit handling, sweep splitting, records, validated table) and, as
   the baseline in the same process, by ``pyarrow.csv.read_csv`` on the same file (parse only).
   The same for a LabVIEW-style tab log with a separate header file, current-reversal
   columns, repeated 'N/A' names and trailing empty fields (``format="delimited"``).
2. Tc: ``hydrofw.process("transport.tc", table)`` on 10,000 sweeps (2,000 with ``--quick``)
   of 200 points each, against a baseline per-sweep Python loop that computes only T50
   (``np.interp``) and the dR/dT maximum (``np.gradient``).

Prints rows (sweeps) per second, the ratios and the peak memory; never asserts timings. The
reads run alternately with their baseline (on a shared machine the load then hits both alike)
and report the ratio of the best times and the median of the per-pair ratios.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

import hydrofw
from hydrofw import TransportCurve, to_table


def _best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _interleaved(
    repeat: int, base: Callable[[], Any], ours: Callable[[], Any]
) -> tuple[float, float, float, Any]:
    """Best times of ``base`` and ``ours`` run alternately (a shared machine's load then hits
    both alike), the median of the per-pair ratios, and the last result of ``ours``."""
    t_base, t_ours, ratios, result = float("inf"), float("inf"), [], None
    for _ in range(repeat):
        start = time.perf_counter()
        base()
        b = time.perf_counter() - start
        start = time.perf_counter()
        result = ours()
        o = time.perf_counter() - start
        t_base, t_ours = min(t_base, b), min(t_ours, o)
        ratios.append(o / b)
    return t_base, t_ours, float(np.median(ratios)), result


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _logistic(t: np.ndarray, tc: np.ndarray | float, width: float = 3.0) -> np.ndarray:
    return (1.0 + 0.004 * (t - tc)) / (1.0 + np.exp(-(t - tc) / width))


def write_log(path: Path, lines: int, seed: int = 0) -> None:
    """Ten legs between 300 K and 10 K, 1 mK thermometer noise, 1 mOhm bridge noise."""
    rng = np.random.default_rng(seed)
    legs = 10
    per_leg = lines // legs
    t = np.concatenate(
        [np.linspace(300.0, 10.0, per_leg)[:: 1 if k % 2 == 0 else -1] for k in range(legs)]
    )
    t = t + rng.normal(0.0, 1e-3, t.size)
    r = _logistic(t, 150.0) + rng.normal(0.0, 1e-3, t.size)
    elapsed = np.arange(t.size) * 0.5
    body = "\n".join(f"{e:.1f}\t{a:.4f}\t{b:+.6E}" for e, a, b in zip(elapsed, t, r, strict=True))
    header = "# SIM921 log\n# Excitation: 100 uA\n# Frequency: 13.7 Hz\nTime (s)\tT (K)\tR (Ohm)\n"
    path.write_text(header + body + "\n", encoding="ascii")


def bench_read(path: Path, lines: int, repeat: int) -> None:
    def ours() -> pa.Table:
        return hydrofw.read(path, format="sim921")

    def baseline() -> pa.Table:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(skip_rows=3),
            parse_options=pacsv.ParseOptions(delimiter="\t"),
        )

    ours()  # warm-up: plugin discovery, imports
    t_base, t_ours, median, table = _interleaved(repeat, baseline, ours)
    n_points = sum(len(v) for v in table.column("temperature_k").to_pylist())
    print(f"read {lines:,}-line SIM921 log ({path.stat().st_size / 2**20:.1f} MiB)")
    print(f"  pyarrow.csv.read_csv : {t_base:7.3f} s  {lines / t_base:12,.0f} rows/s")
    print(
        f"  hydrofw.read sim921  : {t_ours:7.3f} s  {lines / t_ours:12,.0f} rows/s  "
        f"({table.num_rows} sweeps, {n_points:,} points kept)"
    )
    print(
        f"  ratio hydrofw / pyarrow.csv time: {t_ours / t_base:.2f}x (best times), "
        f"{median:.2f}x (median of interleaved pairs)"
    )


def write_labview_log(folder: Path, lines: int, seed: int = 2) -> Path:
    """A LabVIEW-style tab log of current-reversal readings (date, time, T, V+, V-, I+, I-,
    then 12 repeated 'N/A' columns, two trailing empty fields) whose names sit in a separate
    header file, ten legs between 300 K and 10 K."""
    rng = np.random.default_rng(seed)
    legs = 10
    per_leg = lines // legs
    t = np.concatenate(
        [np.linspace(300.0, 10.0, per_leg)[:: 1 if k % 2 == 0 else -1] for k in range(legs)]
    )
    r = _logistic(t, 150.0) + rng.normal(0.0, 1e-3, t.size)
    names = ["Date", "Time", "T (K)", "V+ (V)", "V- (V)", "I+ (A)", "I- (A)"] + ["N/A"] * 12
    (folder / "labview_header.txt").write_text("\t".join(names) + "\n", encoding="ascii")
    seconds = np.arange(t.size) // 2
    clock = [f"{(s // 3600) % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in seconds]
    tail = "\t".join(["0.000000E+0"] * 12) + "\t\t"
    body = "\n".join(
        f"2025/03/07\t{c}\t{a:.6E}\t{1e-4 * b + 3e-6:.6E}\t{-1e-4 * b + 3e-6:.6E}\t"
        f"1.000000E-4\t-1.000000E-4\t{tail}"
        for c, a, b in zip(clock, t, r, strict=True)
    )
    path = folder / "labview.txt"
    path.write_text(body + "\n", encoding="ascii")
    return path


def bench_read_labview(path: Path, lines: int, repeat: int) -> None:
    def ours() -> pa.Table:
        return hydrofw.read(path, format="delimited", header_file="labview_header.txt")

    def baseline() -> pa.Table:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(delimiter="\t"),
        )

    ours()
    t_base, t_ours, median, table = _interleaved(repeat, baseline, ours)
    print(f"read {lines:,}-line LabVIEW log, header file, current reversal, 21 fields/row")
    print(f"  pyarrow.csv.read_csv : {t_base:7.3f} s")
    print(f"  hydrofw.read delimited: {t_ours:7.3f} s  ({table.num_rows} sweeps)")
    print(
        f"  ratio hydrofw / pyarrow.csv time: {t_ours / t_base:.2f}x (best times), "
        f"{median:.2f}x (median of interleaved pairs)"
    )


def sweep_table(n_sweeps: int, points: int, seed: int = 1) -> tuple[pa.Table, np.ndarray]:
    rng = np.random.default_rng(seed)
    tc = rng.uniform(70.0, 160.0, n_sweeps)
    t = np.linspace(40.0, 220.0, points)
    records = [
        TransportCurve(
            temperature_k=t,
            resistance_ohm=_logistic(t, tc[k]) + rng.normal(0.0, 1e-3, points),
            sweep="cooling",
            sweep_index=k,
        )
        for k in range(n_sweeps)
    ]
    return to_table(records), tc


def naive_loop(table: pa.Table) -> list[tuple[float, float]]:
    """Per-sweep T50 (half of the warmest reading) and dR/dT maximum, one sweep at a time."""
    out = []
    for t_list, r_list in zip(
        table.column("temperature_k").to_numpy(zero_copy_only=False),
        table.column("resistance_ohm").to_numpy(zero_copy_only=False),
        strict=True,
    ):
        order = np.argsort(t_list)
        t, r = t_list[order], r_list[order]
        t50 = float(np.interp(0.5 * r[-1], r, t))
        t_peak = float(t[np.argmax(np.gradient(r, t))])
        out.append((t50, t_peak))
    return out


def bench_tc(n_sweeps: int, repeat: int) -> None:
    table, tc = sweep_table(n_sweeps, 200)
    t_ours, out = _best_of(repeat, lambda: hydrofw.process("transport.tc", table))
    t_base, _ = _best_of(repeat, lambda: naive_loop(table))
    t50 = np.array(out.column("tc_50_k").to_pylist(), dtype=float)
    print(f"Tc of {n_sweeps:,} sweeps x 200 points")
    rate_base, rate_ours = n_sweeps / t_base, n_sweeps / t_ours
    print(f"  naive per-sweep loop (T50, dR/dT only): {t_base:7.3f} s  {rate_base:10,.0f} sweeps/s")
    print(f"  transport.tc (all criteria + errors)  : {t_ours:7.3f} s  {rate_ours:10,.0f} sweeps/s")
    print(f"  ratio transport.tc / naive loop time: {t_ours / t_base:.2f}x")
    print(f"  |T50 - true Tc| max: {np.max(np.abs(t50 - tc)):.3f} K")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under a minute)")
    args = parser.parse_args(argv)
    lines = 200_000 if args.quick else 1_000_000
    sweeps = 2_000 if args.quick else 10_000
    repeat = 3 if args.quick else 5
    warnings.simplefilter("ignore")  # unrelated plugins may warn while loading
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sim921_log.tsv"
        write_log(path, lines)
        bench_read(path, lines, repeat)
        bench_read_labview(write_labview_log(Path(folder), lines), lines, repeat)
    print(
        f"  peak RSS so far: {_peak_rss_mib():.0f} MiB; Arrow pool peak: "
        f"{pa.default_memory_pool().max_memory() / 2**20:.0f} MiB"
    )
    bench_tc(sweeps, repeat)
    print(
        f"  peak RSS: {_peak_rss_mib():.0f} MiB; Arrow pool peak: "
        f"{pa.default_memory_pool().max_memory() / 2**20:.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
