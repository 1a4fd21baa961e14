"""`hydrofw run --executor dask`: the per-file reading runs on a dask.distributed LocalCluster of
2 worker processes and gives the same store as the local executor."""

from __future__ import annotations

import shutil

import pytest
from hydrofw_campaign.example import write_example_campaign

import hydrofw

pytest.importorskip("dask.distributed")


def test_dask_executor_gives_the_local_results(tmp_path):
    local = tmp_path / "local"
    write_example_campaign(local, seed=5, small=True)  # fewer sessions: two runs stay quick
    distributed = tmp_path / "dask"
    shutil.copytree(local, distributed)
    expected = hydrofw.run(local)
    got = hydrofw.run(distributed, executor="dask")
    assert got["rows_added"] == expected["rows_added"]
    assert got["results"] == expected["results"]
    a, b = hydrofw.open_store(local / "store"), hydrofw.open_store(distributed / "store")
    for table in ("spectrum", "transport", "lineshape", "quantification", "tc", "kinetics"):
        ours = a.table(table).sort_by("id")
        theirs = b.table(table).sort_by("id")
        assert ours.column("id").equals(theirs.column("id")), table
    ka = a.table("kinetics").sort_by("id").column("x_inf").to_pylist()
    kb = b.table("kinetics").sort_by("id").column("x_inf").to_pylist()
    assert ka == kb
