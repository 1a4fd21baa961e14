"""Cost of `hydrofw run` as a campaign grows: full run, re-run with nothing new, one new session.

A campaign at scale N holds the raw data of N example campaigns (seeds 1..N, each written by
`hydrofw example`, so every dataset has distinct content) side by side as cells
``<cell>_s<seed>`` under one ``raw/``. Each measurement is a fresh ``python -m hydrofw.cli run``
process (wall time, and its peak resident memory from ``getrusage``):

- ``full``: the first run into an empty store;
- ``nothing new``: the same command again (incremental: no dataset is read);
- ``one new session``: one session folder of another seed added, then run.

Without ``--analysis`` the campaign has no campaign.toml, so `hydrofw run` ingests and records
its run only (the store and ingest path); with it, the campaign.toml of seed 1 is used, which
describes the cells of seed 1 only (the other cells are ingested but not analysed).

    python benchmarks/bench_scale.py                 # scales 1, 10, 100
    python benchmarks/bench_scale.py --quick         # scales 1, 3
    python benchmarks/bench_scale.py --scales 1 10

Prints one line per measurement (``wall s``: the whole process; ``run s``: the command after
Python imports and plugin loading, a fixed cost of seconds) and the growth exponent b of
``run s`` ~ N^b between scales.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _hydrofw(*args: str) -> tuple[float, float, float]:
    """(wall s, s inside the command after imports and plugin loading, peak RSS MiB) of one
    CLI process."""
    start = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "HYDROFW_NO_PROGRESS": "1"},
    )
    wall = time.perf_counter() - start
    if res.returncode != 0:
        raise SystemExit(f"hydrofw {' '.join(args)} failed:\n{res.stderr[-2000:]}")
    inside_s, peak_kib = (float(x) for x in res.stdout.strip().splitlines()[-2:])
    return wall, inside_s, peak_kib / 1024


#: runs the CLI and prints its own peak RSS (KiB) last
_CHILD = (
    "import resource, sys, time\n"
    "from hydrofw.cli import main\n"
    "from hydrofw.registry import get_registry\n"
    "get_registry()\n"
    "t = time.perf_counter()\n"
    "rc = main(sys.argv[1:])\n"
    "print(time.perf_counter() - t)\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    "sys.exit(rc)\n"
)


def _example(cache: Path, seed: int) -> Path:
    where = cache / f"seed{seed}"
    if not where.exists():
        subprocess.run(
            [sys.executable, "-m", "hydrofw.cli", "example", str(where), "--seed", str(seed)],
            check=True,
            capture_output=True,
        )
    return where


def _campaign(root: Path, cache: Path, scale: int, analysis: bool) -> None:
    raw = root / "raw"
    raw.mkdir(parents=True)
    for seed in range(1, scale + 1):
        src = _example(cache, seed) / "raw"
        for cell in sorted(src.iterdir()):
            shutil.copytree(cell, raw / f"{cell.name}_s{seed}")
    if analysis:
        shutil.copy(_example(cache, 1) / "campaign.toml", root / "campaign.toml")
        shutil.copytree(_example(cache, 1) / "pressure", root / "pressure")
        for cell in (_example(cache, 1) / "raw").iterdir():  # seed 1 under its own names
            shutil.copytree(cell, raw / cell.name)


def _new_session(root: Path, cache: Path, seed: int) -> None:
    src = _example(cache, seed) / "raw"
    cell = sorted(p for p in src.iterdir() if p.is_dir())[0]
    session = sorted(p for p in cell.iterdir())[-1]
    dest = root / "raw" / f"{cell.name}_s1" / f"{session.name}_new{seed}"
    shutil.copytree(session, dest) if session.is_dir() else shutil.copy(session, dest)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--scales", type=int, nargs="*")
    ap.add_argument("--analysis", action="store_true", help="with seed 1's campaign.toml")
    ap.add_argument("--cache", help="folder for the generated examples (kept between runs)")
    args = ap.parse_args()
    scales = args.scales or ([1, 3] if args.quick else [1, 10, 100])
    cache = Path(args.cache or tempfile.gettempdir()) / "hydrofw-bench-scale-examples"
    cache.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[int, float]] = {}
    print(f"{'scale':>5} {'sessions':>8} {'measurement':<16} {'wall s':>8} {'run s':>8} "
          f"{'peak MiB':>9}")
    for scale in scales:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "campaign"
            _campaign(root, cache, scale, args.analysis)
            n = sum(1 for cell in (root / "raw").iterdir() for _ in cell.iterdir())
            for label in ("full", "nothing new", "one new session"):
                if label == "one new session":
                    _new_session(root, cache, scale + 1)
                wall, inside, peak = _hydrofw("run", str(root))
                results.setdefault(label, {})[scale] = inside
                print(f"{scale:>5} {n:>8} {label:<16} {wall:>8.2f} {inside:>8.2f} {peak:>9.0f}",
                      flush=True)
    for label, by_scale in results.items():
        pts = sorted(by_scale.items())
        for (s0, t0), (s1, t1) in zip(pts, pts[1:], strict=False):
            b = math.log(t1 / t0) / math.log(s1 / s0)
            print(f"growth of '{label}' (run s) from {s0}x to {s1}x: time ~ N^{b:.2f}")


if __name__ == "__main__":
    main()
