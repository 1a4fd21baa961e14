"""Recorded runs with the real campaign pipeline (slow: whole `hydrofw run`s of the example).

- SIGKILL `hydrofw run` at random moments (20 by default, ``HYDROFW_RUN_KILLS`` to change):
  after each kill the store reads and its default view is one whole committed run; a final run
  gives the same rows as an uninterrupted run of a copy of the campaign.
- Edit campaign.toml (the lineshape model) and run again: the default view holds the new model's
  rows only, the previous run's are readable by id.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest

import hydrofw
from hydrofw.cli import main

pytestmark = pytest.mark.slow
SEED = 20240827


def _hydrofw_run(root: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hydrofw.cli", "run", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HYDROFW_NO_PROGRESS": "1"},
    )


def _same(value: Any, root: str) -> Any:
    """A value comparable across two copies of a campaign: NaN equal to NaN, paths relative."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, str):
        return value.replace(root, "<campaign>")
    if isinstance(value, list):
        return [_same(v, root) for v in value]
    if isinstance(value, dict):
        return {k: _same(v, root) for k, v in value.items()}
    return value


def _view(root: Path) -> dict[str, list[dict]]:
    """Every table of the default view, rows sorted, the run's own timestamp left out."""
    store = hydrofw.open_store(root / "store", create=False)
    out = {}
    for name in store.tables():
        table = store.table(name)
        if "created_at" in table.column_names and name == "campaign":
            table = table.drop_columns(["created_at"])
        key = "id" if "id" in table.column_names else table.column_names[0]
        out[name] = _same(table.sort_by(key).to_pylist(), str(root))
    return out


def test_sigkill_hydrofw_run_at_random_moments(tmp_path):
    timing = tmp_path / "timing"
    assert main(["example", str(timing), "--seed", str(SEED)]) == 0
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    shutil.copytree(timing, killed)
    shutil.copytree(timing, reference)
    start = time.monotonic()  # how long one run takes, to spread the kills over it
    proc = _hydrofw_run(timing)
    _, err = proc.communicate(timeout=1800)
    assert proc.returncode == 0, err
    full_s = time.monotonic() - start
    rng = random.Random(7)
    kills = int(os.environ.get("HYDROFW_RUN_KILLS", "20"))
    for _ in range(kills):
        proc = _hydrofw_run(killed)
        time.sleep(rng.uniform(0.5, full_s))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        store = hydrofw.open_store(killed / "store")
        latest = store.latest_run()
        for name in store.tables():
            store.table(name)  # readable
        if latest is not None:
            record = store.run_record(latest)
            assert record["status"] == "committed"
            for name, rows in record["tables"].items():
                assert store.table(name, run=latest).num_rows == rows
    # the final run and the uninterrupted reference run side by side (same code, same moment)
    final, ref = _hydrofw_run(killed), _hydrofw_run(reference)
    for proc in (final, ref):
        _, err = proc.communicate(timeout=1800)
        assert proc.returncode == 0, err
    assert _view(killed) == _view(reference)


def test_edit_campaign_toml_and_run_again(tmp_path):
    root = tmp_path / "example"
    assert main(["example", str(root), "--seed", str(SEED)]) == 0
    first = hydrofw.run(root)
    with open(root / "campaign.toml", "a") as fh:
        fh.write('\n[pipeline.params."nmr.lineshape"]\nmodel = "lorentzian"\n')
    second = hydrofw.run(root)
    assert (second["datasets_read"], second["datasets_reused"]) == (0, first["datasets"])
    store = hydrofw.open_store(root / "store")
    models = store.table("lineshape").column("fit_model")
    assert pc.all(pc.equal(models, "lorentzian")).as_py()
    old = store.table("lineshape", run=first["run_id"]).column("fit_model")
    assert pc.all(pc.not_equal(old, "lorentzian")).as_py()
    assert store.table("lineshape").num_rows == old.length()
    record = store.run_record(second["run_id"])
    assert record["parameters"]["campaign"]["nmr.lineshape"]["model"] == "lorentzian"
    assert record["campaign_toml_sha256"] != store.run_record(first["run_id"])[
        "campaign_toml_sha256"
    ]
