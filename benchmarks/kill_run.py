"""SIGKILL a real ``hydrofw run`` at random moments; after every kill the store must read, its
default view must be one committed run (or none), no raw row may be stored twice; a final run
must give the same rows as an uninterrupted run of the same campaign.

The campaign is the small example cut to three cells (N4, T1, T2: a full run of some 10-30 s),
so twenty kills take minutes, not hours. Each kill lands at a uniformly random time within the
duration of an uninterrupted run (process start included); a run that ended before its kill
(the incremental runs after a kill are shorter) is not counted. Nothing here asserts; it prints one
line per kill and a verdict, and exits 1 when a check failed.

    python benchmarks/kill_run.py            # 20 kills
    python benchmarks/kill_run.py --kills 5 --seed 7
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

CELLS = ("N4", "T1", "T2")


def _start(campaign: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "hydrofw.cli", "run", str(campaign), "-q"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _snapshot(store_dir: Path) -> dict[str, pa.Table]:
    """Every table of the store's default view, sorted by id (the campaign table, which holds
    its creation time, is left out)."""
    import hydrofw

    store = hydrofw.open_store(store_dir)
    out = {}
    for name in store.tables():
        if name == "campaign":
            continue
        table = store.table(name)
        out[name] = table.sort_by("id") if "id" in table.column_names else table
    return out


def _check(store_dir: Path) -> list[str]:
    """What is wrong with the store a kill left (empty: nothing)."""
    import hydrofw

    problems = []
    try:
        store = hydrofw.open_store(store_dir)
        for name in store.tables():
            table = store.table(name)
            if name in store.raw_tables():
                ids = table.column("id").to_pylist()
                if len(ids) != len(set(ids)):
                    problems.append(f"{name}: a raw row stored twice")
        latest = store.latest_run()
        if latest is not None and store.run_record(latest)["status"] != "committed":
            problems.append(f"latest run {latest} is not committed")
    except Exception as exc:  # noqa: BLE001 - any failure to read is what this looks for
        problems.append(f"{type(exc).__name__}: {exc}")
    return problems


def _difference(a: pa.Table | None, b: pa.Table | None) -> str:
    """How two tables differ ('' when equal): missing, row counts, or the columns that differ
    (float columns by their largest relative difference)."""
    import numpy as np

    if a is None or b is None:
        return "missing in one run"
    if a.num_rows != b.num_rows:
        return f"{a.num_rows} against {b.num_rows} rows"
    out = []
    for name in a.column_names:
        x = a.column(name)
        y = b.column(name) if name in b.column_names else None
        if y is None or x.equals(y):
            continue
        if pa.types.is_list(x.type) and pa.types.is_floating(x.type.value_type):
            same_lengths = pc.list_value_length(x).equals(pc.list_value_length(y))
            x, y = pc.list_flatten(x), pc.list_flatten(y)
            if not same_lengths:
                out.append(name)
                continue
        if pa.types.is_floating(x.type):  # NaN where both are NaN is the same value
            u = np.asarray(x.to_numpy(zero_copy_only=False), float)
            v = np.asarray(y.to_numpy(zero_copy_only=False), float)
            if np.array_equal(u, v, equal_nan=True):
                continue
            with np.errstate(all="ignore"):
                rel = np.nanmax(np.abs(u - v) / np.maximum(np.abs(u), 1e-300))
            out.append(f"{name} (rel {rel:.1e})")
        else:
            out.append(name)
    return ", ".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    from hydrofw_campaign.example import write_example_campaign

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        campaign = Path(tmp) / "campaign"
        write_example_campaign(campaign, seed=args.seed, small=True, cells=CELLS)
        start = time.perf_counter()
        proc = _start(campaign)
        _, err = proc.communicate()
        full_s = time.perf_counter() - start
        if proc.returncode != 0:
            print(f"the uninterrupted run failed:\n{err[-2000:]}")
            return 1
        clean = _snapshot(campaign / "store")
        shutil.rmtree(campaign / "store")
        shutil.rmtree(campaign / "report", ignore_errors=True)
        print(f"uninterrupted run: {full_s:.1f} s; tables {sorted(clean)}")
        failures = 0
        kills = attempts = 0
        while kills < args.kills and attempts < 3 * args.kills:
            attempts += 1
            delay = rng.uniform(0.0, full_s)
            proc = _start(campaign)
            time.sleep(delay)
            finished = proc.poll() is not None  # an incremental run can end before the kill
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += not finished
            problems = _check(campaign / "store")
            failures += bool(problems)
            state = "had finished" if finished else f"kill {kills}"
            print(f"try {attempts:2d} at {delay:5.1f} s ({state}): {'; '.join(problems) or 'ok'}")
        proc = _start(campaign)
        _, err = proc.communicate()
        if proc.returncode != 0:
            print(f"the final run failed:\n{err[-2000:]}")
            return 1
        final = _snapshot(campaign / "store")
        differ = {n: _difference(clean.get(n), final.get(n)) for n in sorted({*clean, *final})}
        differ = {n: d for n, d in differ.items() if d}
        print(
            f"final run against the uninterrupted one: "
            f"{'same rows in every table' if not differ else 'differs: ' + str(differ)}"
        )
        print(f"kills mid-run: {kills}; tries leaving a bad store: {failures} of {attempts}")
        return 1 if failures or differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
