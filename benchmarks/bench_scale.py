"""Cost of `hydrofw run` as a campaign grows: full run, re-run with nothing new, one new session.

A campaign at scale N holds the raw data of N example campaigns (seeds 1..N, each written by
`hydrofw example`, so every dataset has distinct content) side by side as cells
``<cell>_s<seed>`` under one ``raw/``. Each measurement is a fresh ``python -m hydrofw.cli run``
process (wall time, and its peak resident memory from ``getrusage``):

- ``full``: the first run into an empty store;
- ``nothing new``: the same command again (incremental: no dataset is read, no cell analysed);
- ``one new session``: one session folder of another seed added to cell ``<first cell>_s1``,
  then run (that cell is analysed again, every other one reused).

Without ``--analysis`` the campaign has no campaign.toml, so `hydrofw run` ingests and records
its run only (the store and ingest path); with it, a campaign.toml describes every copied cell:
the cells of each seed's own campaign.toml under their ``_s<seed>`` names (pressure CSVs
copied alike), the campaign-wide tables of seed 1, so every cell of every seed is analysed.
``--small`` uses the small example (fewer sessions per cell) as the 1x campaign; ``--cells`` keeps
only some of its cells (``--cells N4 T1``: one NMR and one transport cell per seed, so that 100x
fits in well under an hour); the new session goes to the first of them. ``--dask`` adds, at the
largest scale, a full run on a Dask LocalCluster (``--executor dask``) into a fresh store.

    python benchmarks/bench_scale.py                 # scales 1, 10, 100
    python benchmarks/bench_scale.py --quick         # scales 1, 3
    python benchmarks/bench_scale.py --analysis --small --scales 1 3 10
    python benchmarks/bench_scale.py --analysis --small --cells N4 T1 --scales 1 10 100 --dask

Prints one line per measurement (``wall s``: the whole process; ``run s``: the command after
Python imports and plugin loading, a fixed cost of seconds) and the growth exponent b of
``run s`` ~ N^b between scales.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
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


def _example(cache: Path, seed: int, small: bool) -> Path:
    where = cache / f"{'small' if small else 'full'}-seed{seed}"
    if not where.exists():
        from hydrofw_campaign.example import write_example_campaign

        write_example_campaign(where, seed=seed, small=small)
    return where


#: campaign.toml split before each ``[[cells]]`` table and before ``[experiments]``
_BLOCKS = re.compile(r"(?m)^(?=\[\[cells\]\]$|\[experiments\]$)")


def _cell_id(block: str) -> str:
    found = re.search(r'(?m)^id = "([^"]+)"', block)
    return found.group(1) if found else ""


def _cells_of_seed(toml: str, seed: int, keep: Sequence[str] | None) -> str:
    """The ``[[cells]]`` tables of one seed's campaign.toml (those in ``keep``), cells and
    pressure CSVs renamed ``<name>_s<seed>`` (the cell's raw folder, by default its id, is
    copied under that name)."""
    cells = [
        b for b in _BLOCKS.split(toml)
        if b.startswith("[[cells]]") and (keep is None or _cell_id(b) in keep)
    ]
    text = "".join(cells)
    text = re.sub(r'(?m)^id = "([^"]+)"', rf'id = "\1_s{seed}"', text)
    return re.sub(r'pressure/([^"/]+)\.csv"', rf'pressure/\1_s{seed}.csv"', text)


def _campaign_toml(
    root: Path, cache: Path, scale: int, small: bool, keep: Sequence[str] | None
) -> None:
    """campaign.toml of every seed's cells (campaign-wide tables of seed 1) and their CSVs."""
    blocks = _BLOCKS.split((_example(cache, 1, small) / "campaign.toml").read_text())
    head = blocks[0]
    tail = "".join(b for b in blocks if not b.startswith("[[cells]]"))[len(head):]
    cells = []
    (root / "pressure").mkdir()
    for seed in range(1, scale + 1):
        example = _example(cache, seed, small)
        cells.append(_cells_of_seed((example / "campaign.toml").read_text(), seed, keep))
        for csv in (example / "pressure").glob("*.csv"):
            shutil.copy(csv, root / "pressure" / f"{csv.stem}_s{seed}.csv")
    (root / "campaign.toml").write_text(head + "".join(cells) + tail)


def _campaign(
    root: Path, cache: Path, scale: int, analysis: bool, small: bool, keep: Sequence[str] | None
) -> None:
    raw = root / "raw"
    raw.mkdir(parents=True)
    for seed in range(1, scale + 1):
        src = _example(cache, seed, small) / "raw"
        for cell in sorted(src.iterdir()):
            if keep is None or cell.name in keep:
                shutil.copytree(cell, raw / f"{cell.name}_s{seed}")
    if analysis:
        _campaign_toml(root, cache, scale, small, keep)


def _new_session(
    root: Path, cache: Path, seed: int, small: bool, keep: Sequence[str] | None
) -> None:
    src = _example(cache, seed, small) / "raw"
    cell = (src / keep[0]) if keep else sorted(p for p in src.iterdir() if p.is_dir())[0]
    session = sorted(p for p in cell.iterdir())[-1]
    dest = root / "raw" / f"{cell.name}_s1" / f"{session.name}_new{seed}"
    shutil.copytree(session, dest) if session.is_dir() else shutil.copy(session, dest)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--scales", type=int, nargs="*")
    ap.add_argument(
        "--analysis", action="store_true", help="with a campaign.toml describing every cell"
    )
    ap.add_argument("--small", action="store_true", help="the small example as the 1x campaign")
    ap.add_argument("--cells", nargs="*", help="only these cells of each seed's example")
    ap.add_argument("--dask", action="store_true",
                    help="also a full run on a Dask LocalCluster at the largest scale")
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
            _campaign(root, cache, scale, args.analysis, args.small, args.cells)
            n = sum(1 for cell in (root / "raw").iterdir() for _ in cell.iterdir())
            labels = ["full", "nothing new", "one new session"]
            if args.dask and scale == max(scales):
                labels.append("full, dask")
            for label in labels:
                if label == "one new session":
                    _new_session(root, cache, scale + 1, args.small, args.cells)
                if label == "full, dask":
                    store = Path(tmp) / "store-dask"
                    wall, inside, peak = _hydrofw(
                        "run", str(root), "--store", str(store), "--report",
                        str(Path(tmp) / "report-dask"), "--executor", "dask")
                else:
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
