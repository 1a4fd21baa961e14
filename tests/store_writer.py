"""Helper process for the store tests: the write path of ``hydrofw run``, on synthetic rows.

Usage: python store_writer.py STORE START STOP [POINTS] [--run GENERATION]

Writes raw batches ``START..STOP`` of synthetic spectra (``Store.write``, as ingest does); with
``--run`` it then opens a recorded run and writes the derived ``timeseries`` rows of the same
batches computed with "parameters" GENERATION (``StoreRun.write``, as the campaign pipeline
does), committing at the end. Batch k holds 20 rows whose content depends only on k (and the
generation), so any two writers produce identical rows for the same batch. Prints a line after
each batch written ("raw k" / "derived k") and "committed RUN_ID" at the end.
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pyarrow as pa

import hydrofw
from hydrofw.schema import conform

ROWS_PER_BATCH = 20


def batch(k: int, points: int) -> list[hydrofw.Spectrum]:
    rng = np.random.default_rng(k)
    data = rng.normal(size=(ROWS_PER_BATCH, 2, points))
    return [
        hydrofw.Spectrum(
            nucleus="1H",
            observe_frequency_hz=395e6,
            spectral_width_hz=2e5,
            re=d[0],
            im=d[1],
            increment=k * ROWS_PER_BATCH + i,
            cell=f"DAC{k % 4}",
        )
        for i, d in enumerate(data)
    ]


def derived(k: int, generation: int) -> pa.Table:
    """The ``timeseries`` rows of batch ``k`` as "parameters" ``generation`` make them."""
    rows = range(k * ROWS_PER_BATCH, (k + 1) * ROWS_PER_BATCH)
    ids = [hashlib.sha256(f"{generation}:{i}".encode()).hexdigest()[:32] for i in rows]
    table = pa.table(
        {
            "id": ids,
            "cell": [f"DAC{k % 4}"] * ROWS_PER_BATCH,
            "quantity": ["h_shift_ppm"] * ROWS_PER_BATCH,
            "days_since_synthesis": [float(i) for i in rows],
            "value": [float(i) * (1 + generation) for i in rows],
        }
    )
    return conform(table, "timeseries")


def derived_ids(batches: range, generation: int) -> set[str]:
    return {i for k in batches for i in derived(k, generation).column("id").to_pylist()}


def main() -> None:
    args = sys.argv[1:]
    generation = None
    if "--run" in args:
        i = args.index("--run")
        generation = int(args[i + 1])
        del args[i : i + 2]
    root, start, stop = args[0], int(args[1]), int(args[2])
    points = int(args[3]) if len(args) > 3 else 4096
    store = hydrofw.open_store(root)
    for k in range(start, stop):
        store.write(hydrofw.to_table(batch(k, points)))
        print("raw", k, flush=True)
    if generation is None:
        return
    with store.run(generation=generation, campaign_toml_sha256=f"gen{generation}") as run:
        for k in range(start, stop):
            run.write(derived(k, generation), "timeseries")
            print("derived", k, flush=True)
    print("committed", run.id, flush=True)


if __name__ == "__main__":
    main()
