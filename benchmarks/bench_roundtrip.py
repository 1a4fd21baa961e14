"""Arrow/Parquet round trip of many complex spectra against numpy.save/numpy.load.

Builds a ``spectrum`` table of N spectra of P complex points from 2-D numpy arrays (the zero-copy
path processors use), writes it with the Parquet exporter, reads it back and views ``re``/``im``
as 2-D arrays again. The baseline, run in the same process on the same arrays, is
``numpy.save`` + ``numpy.load`` of the re and im arrays. Prints times, the ratio, and peak
memory (numpy via tracemalloc, Arrow via its memory pool).

    python benchmarks/bench_roundtrip.py            # 10,000 x 16,384 (about 2.6 GB of data)
    python benchmarks/bench_roundtrip.py --quick    # 1,000 x 16,384
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import hydrofw
from hydrofw.arrays import list_column_to_2d, to_list_array
from hydrofw.schema import conform


def spectrum_table(re: np.ndarray, im: np.ndarray) -> pa.Table:
    n, p = re.shape
    cols = {
        "id": pa.array([f"{i:064x}" for i in range(n)]),
        "nucleus": pa.array(["1H"] * n),
        "domain": pa.array(["time"] * n),
        "observe_frequency_hz": pa.array(np.full(n, 395e6)),
        "spectral_width_hz": pa.array(np.full(n, 2e5)),
        "n_points": pa.array(np.full(n, p, dtype=np.int64)),
        "x_start": pa.array(np.zeros(n)),
        "x_step": pa.array(np.full(n, 5e-6)),
        "x_unit": pa.array(["s"] * n),
        "re": to_list_array(re),
        "im": to_list_array(im),
        "parameters": pa.array([[]] * n, pa.map_(pa.string(), pa.string())),
        "history": pa.nulls(n, hydrofw.get_schema("spectrum").field("history").type).fill_null(
            pa.scalar([], hydrofw.get_schema("spectrum").field("history").type)
        ),
    }
    return conform(pa.table(cols), "spectrum")


def timed(fn, repeat: int = 2):
    """(result, best wall time of ``repeat`` runs) so page-cache warm-up does not bias."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--spectra", type=int)
    ap.add_argument("--points", type=int, default=16384)
    args = ap.parse_args()
    n = args.spectra or (1000 if args.quick else 10000)
    p = args.points
    rng = np.random.default_rng(0)
    re = rng.normal(size=(n, p))
    im = rng.normal(size=(n, p))
    gb = 2 * re.nbytes / 1e9
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)

        def baseline():
            np.save(d / "re.npy", re)
            np.save(d / "im.npy", im)
            return np.load(d / "re.npy"), np.load(d / "im.npy")

        tracemalloc.start()
        (bre, bim), t_np = timed(baseline)
        _, np_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert np.array_equal(bre, re)
        del bre, bim

        pool = pa.default_memory_pool()
        tracemalloc.start()
        table, t_build = timed(lambda: spectrum_table(re, im))

        def arrow_trip():
            hydrofw.export("parquet", table, d / "s.parquet", compression="none")
            back = pq.read_table(d / "s.parquet")
            return list_column_to_2d(back.column("re")), list_column_to_2d(back.column("im"))

        (are, aim), t_pq = timed(arrow_trip)

        def bare_trip():
            pq.write_table(table, d / "b.parquet", compression="none")
            back = pq.read_table(d / "b.parquet")
            return list_column_to_2d(back.column("re")), list_column_to_2d(back.column("im"))

        _, t_bare = timed(bare_trip)
        _, hf_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert np.array_equal(are, re) and np.array_equal(aim, im)
        del are, aim
        _, t_zstd = timed(
            lambda: (
                hydrofw.export("parquet", table, d / "z.parquet"),
                pq.read_table(d / "z.parquet"),
            )
        )
    print(f"spectra: {n} x {p} complex points ({gb:.2f} GB of float64)")
    print(f"numpy.save + numpy.load           : {t_np:7.2f} s  ({gb / t_np:5.2f} GB/s)")
    print(f"Arrow table build (zero copy)     : {t_build:7.2f} s")
    print(
        f"Parquet write + read + 2-D views  : {t_pq:7.2f} s  ({gb / t_pq:5.2f} GB/s)"
        "  [exporter: atomic rename + fsync]"
    )
    print(f"  bare pq.write_table (no fsync)  : {t_bare:7.2f} s")
    print(f"  same with zstd compression      : {t_zstd:7.2f} s")
    print(f"ratio Parquet / numpy             : {t_pq / t_np:7.2f}")
    print(f"ratio (build + Parquet) / numpy   : {(t_build + t_pq) / t_np:7.2f}")
    print(f"ratio bare Parquet / numpy        : {t_bare / t_np:7.2f}")
    print(f"peak memory numpy path (tracemalloc): {np_peak / 1e9:.2f} GB")
    print(
        f"peak memory hydrofw path: numpy {hf_peak / 1e9:.2f} GB, "
        f"Arrow pool {pool.max_memory() / 1e9:.2f} GB (data itself {gb:.2f} GB)"
    )


if __name__ == "__main__":
    main()
