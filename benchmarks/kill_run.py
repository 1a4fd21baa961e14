"""SIGKILL a real ``hydrofw run`` at random moments; after every kill the store must read, its
default view must be one committed run (or none), no raw row may be stored twice; a final run
must give the same rows as an uninterrupted run of the same campaign.

The campaign is the small example cut to three cells (N4, T1, T2: a full run of some 10-30 s),
so twenty kills take minutes, not hours. Each kill lands at a uniformly random time within the
duration of an uninterrupted run (process start included). Nothing here asserts; it prints one
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
        for k in range(args.kills):
            delay = rng.uniform(0.0, full_s)
            proc = _start(campaign)
            time.sleep(delay)
            finished = proc.poll() is not None
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            problems = _check(campaign / "store")
            failures += bool(problems)
            state = "had finished" if finished else "killed"
            print(f"kill {k + 1:2d} at {delay:5.1f} s ({state}): {'; '.join(problems) or 'ok'}")
        proc = _start(campaign)
        _, err = proc.communicate()
        if proc.returncode != 0:
            print(f"the final run failed:\n{err[-2000:]}")
            return 1
        final = _snapshot(campaign / "store")
        differ = [
            n
            for n in sorted(set(clean) | set(final))
            if n not in clean or n not in final or not clean[n].equals(final[n])
        ]
        print(
            f"final run against the uninterrupted one: "
            f"{'same rows in every table' if not differ else 'differs in ' + str(differ)}"
        )
        print(f"kills leaving a bad store: {failures} of {args.kills}")
        return 1 if failures or differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
