"""Benchmark of the campaign report: time to rebuild ``index.html`` and every figure from a
store (``hydrofw report STORE``), split into reading the tables, building the figures and
rendering the PNGs.

Runs the example campaign once (or uses ``--campaign DIR`` that already holds a store), then
rebuilds its report ``--repeat`` times. Reports wall and CPU seconds of each part and the number
of figures. Never asserts timings.

Run: ``.venv/bin/python benchmarks/bench_report.py [--campaign DIR] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hydrofw_campaign import figures as F
from hydrofw_campaign.config import load_campaign
from hydrofw_campaign.reportfigs import build_figures
from hydrofw_campaign.reportjob import campaign_report

import hydrofw


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(t: tuple[float, float]) -> str:
    wall, cpu = time.perf_counter() - t[0], time.process_time() - t[1]
    return f"{wall:6.2f} s wall, {cpu:6.2f} s CPU"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--campaign", type=Path, help="campaign folder with a store (default: new example)"
    )
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    root = args.campaign
    if root is None:
        root = Path(tempfile.mkdtemp()) / "example"
        hydrofw.registry.get_registry().pm.hook.hydrofw_example_campaign(directory=root, seed=1)
        t = _clock()
        hydrofw.run(root)
        print(f"example campaign run:     {_since(t)}")
    store = hydrofw.open_store(root / "store")
    config = load_campaign(root)
    for i in range(args.repeat):
        t = _clock()
        tables = {n: store.table(n) for n in store.tables()}
        print(f"[{i}] read tables:          {_since(t)}")
        t = _clock()
        figs = build_figures(
            tables,
            cells_nmr=[c.id for c in config.cells if c.cell.kind == "nmr"],
            cells_transport=[c.id for c in config.cells if c.cell.kind == "transport"],
            synthesized_at={c.id: c.cell.synthesized_at for c in config.cells},
        )
        print(f"[{i}] build {len(figs):2d} figures:    {_since(t)}")
        t = _clock()
        for f in figs:
            F.png_bytes(f.figure)
        print(f"[{i}] render PNGs:          {_since(t)}")
        t = _clock()
        with tempfile.TemporaryDirectory() as out:
            files, _ = campaign_report(store, root, Path(out))
        print(f"[{i}] whole report ({len(files)} files): {_since(t)}")


if __name__ == "__main__":
    main()
