"""Helper process for the store tests: writes batches ``start..stop`` of synthetic spectra.

Usage: python store_writer.py STORE START STOP [POINTS]. Batch k holds 20 spectra whose content
depends only on k, so any two writers produce identical rows for the same batch.
"""

from __future__ import annotations

import sys

import numpy as np

import hydrofw

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


def main() -> None:
    root, start, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    points = int(sys.argv[4]) if len(sys.argv) > 4 else 4096
    store = hydrofw.open_store(root)
    for k in range(start, stop):
        store.write(hydrofw.to_table(batch(k, points)))
        print(k, flush=True)


if __name__ == "__main__":
    main()
