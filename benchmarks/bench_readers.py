"""Benchmark: Bruker experiments read into a hydrofw store vs a bare ``nmrglue.bruker.read`` loop.

Usage::

    .venv/bin/python benchmarks/bench_readers.py [--quick] [--copies N] [--experiment REL]

Makes N copies (default 2,000; ``--quick``: 200) of one real Bruker experiment from the real
data folder (``$HYDROFW_REAL_DATA`` or ``../shared/data/real``): every file is a hard link
except ``fid``, rewritten with its last point changed by the copy number, so every copy has its
own content hash and the store really holds N rows (identical copies would be deduplicated to
one row by the content-hash ids). Then, in this process:

1. baseline: ``nmrglue.bruker.read(folder)`` for every folder (data discarded);
2. ``hydrofw.read_records(folder, format="bruker")`` for every folder (records discarded);
3. the same records converted to Arrow and written to ``hydrofw.open_store(...)`` in batches;
4. like-for-like reference: the nmrglue loop plus a bare zstd Parquet write of the arrays in
   the same batches (what storing costs without hydrofw's metadata, ids and validation).

Prints wall times, the ratios to the baseline and the peak Python memory (tracemalloc, in a
separate pass over at most 200 folders so tracing does not distort the timings). Never asserts
timings.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import nmrglue as ng
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import hydrofw

DEFAULT_EXPERIMENT = "bruker/xwinnmr26-1h-400/1"
BATCH = 100
MEMORY_FOLDERS = 200


def real_data_dir() -> Path:
    env = os.environ.get("HYDROFW_REAL_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def make_copies(experiment: Path, root: Path, n: int) -> list[Path]:
    """``n`` copies of ``experiment`` under ``root``, each with a distinct ``fid``."""
    fid = np.frombuffer((experiment / "fid").read_bytes(), dtype=np.uint8).copy()
    folders = []
    for k in range(n):
        folder = root / f"exp{k:05d}"
        for src in experiment.rglob("*"):
            dst = folder / src.relative_to(experiment)
            if src.is_dir():
                dst.mkdir(parents=True, exist_ok=True)
            elif src.name != "fid" or src.parent != experiment:
                dst.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(src, dst)
        fid[-1] = k % 256
        fid[-2] = k // 256 % 256
        (folder / "fid").write_bytes(fid.tobytes())
        folders.append(folder)
    return folders


def nmrglue_loop(folders: Iterable[Path]) -> int:
    points = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for folder in folders:
            _dic, data = ng.bruker.read(str(folder))
            points += data.size
    return points


def nmrglue_parquet_loop(folders: list[Path], out_dir: Path) -> int:
    """Like-for-like baseline: nmrglue reads, the arrays go to zstd Parquet in the same batches
    (re/im list columns only: no metadata, no ids, no validation)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for start in range(0, len(folders), BATCH):
            arrays = [ng.bruker.read(str(f))[1] for f in folders[start : start + BATCH]]
            offsets = pa.array(np.cumsum([0] + [a.size for a in arrays]), pa.int32())
            flat = np.concatenate(arrays)
            table = pa.table(
                {
                    "re": pa.ListArray.from_arrays(offsets, pa.array(flat.real)),
                    "im": pa.ListArray.from_arrays(offsets, pa.array(flat.imag)),
                }
            )
            pq.write_table(table, out_dir / f"part-{start}.parquet", compression="zstd")
            rows += table.num_rows
    return rows


def hydrofw_read_loop(folders: Iterable[Path]) -> int:
    return sum(r.n_points for f in folders for r in hydrofw.read_records(f, format="bruker"))


def hydrofw_store_loop(folders: list[Path], store_dir: Path) -> int:
    store = hydrofw.open_store(store_dir)
    added = 0
    for start in range(0, len(folders), BATCH):
        batch = folders[start : start + BATCH]
        records = [r for f in batch for r in hydrofw.read_records(f, format="bruker")]
        added += store.write(hydrofw.to_table(records))
    return added


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def peak_mib(fn: Callable[[], int]) -> float:
    tracemalloc.start()
    fn()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 copies instead of 2,000")
    parser.add_argument("--copies", type=int, help="number of copies (overrides --quick)")
    parser.add_argument(
        "--experiment",
        default=DEFAULT_EXPERIMENT,
        help=f"Bruker experiment relative to the real data (default {DEFAULT_EXPERIMENT})",
    )
    args = parser.parse_args(argv)
    n = args.copies or (200 if args.quick else 2000)
    experiment = real_data_dir() / args.experiment
    if not (experiment / "acqus").is_file():
        print(f"bench_readers: no Bruker experiment at {experiment}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="hydrofw-bench-") as tmp:
        root = Path(tmp)
        folders = make_copies(experiment, root / "raw", n)
        hydrofw_read_loop(folders[:5])  # load plugins and warm caches outside the timings
        nmrglue_loop(folders[:5])
        t_ng, points_ng = timed(lambda: nmrglue_loop(folders))
        t_read, points_read = timed(lambda: hydrofw_read_loop(folders))
        t_store, rows = timed(lambda: hydrofw_store_loop(folders, root / "store"))
        t_pq, _ = timed(lambda: nmrglue_parquet_loop(folders, root / "pq"))
        subset = folders[:MEMORY_FOLDERS]
        mem_ng = peak_mib(lambda: nmrglue_loop(subset))
        mem_read = peak_mib(lambda: hydrofw_read_loop(subset))
        mem_store = peak_mib(lambda: hydrofw_store_loop(subset, root / "store-mem"))
        mem_pq = peak_mib(lambda: nmrglue_parquet_loop(subset, root / "pq-mem"))
    print(f"experiment: {args.experiment}  copies: {n}  rows stored: {rows}")
    print(
        f"points per experiment: nmrglue {points_ng // n}, hydrofw {points_read // n} "
        "(nmrglue pads to a 256-point block)"
    )
    print(f"{'method':44s} {'wall s':>8s} {'ms/exp':>8s} {'ratio':>7s} {'peak MiB':>9s}")
    for name, t, mem in (
        ("nmrglue.bruker.read loop (baseline)", t_ng, mem_ng),
        ("hydrofw.read_records (records only)", t_read, mem_read),
        (f"hydrofw -> store (batches of {BATCH})", t_store, mem_store),
        ("nmrglue + bare Parquet write (same batches)", t_pq, mem_pq),
    ):
        print(f"{name:44s} {t:8.2f} {1e3 * t / n:8.2f} {t / t_ng:7.2f} {mem:9.1f}")
    print(f"peak memory measured with tracemalloc over {min(n, MEMORY_FOLDERS)} experiments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
