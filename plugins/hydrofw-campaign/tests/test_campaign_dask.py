"""`hydrofw run --executor dask`: the per-file reading runs on a dask.distributed LocalCluster of
2 worker processes and gives the same raw tables as the local executor. Only ingest is
distributed (the analysis runs in the calling process either way), so the campaigns are run
without campaign.toml: ingest alone, which is what the executor changes."""

from __future__ import annotations

import shutil

import pytest
from hydrofw_campaign.example import write_example_campaign

import hydrofw

pytest.importorskip("dask.distributed")


def test_dask_executor_gives_the_local_results(tmp_path):
    local = tmp_path / "local"
    write_example_campaign(local, seed=5, small=True)
    (local / "campaign.toml").unlink()
    distributed = tmp_path / "dask"
    shutil.copytree(local, distributed)
    expected = hydrofw.run(local)
    got = hydrofw.run(distributed, executor="dask")
    assert expected["rows_added"]["spectrum"] > 100 and expected["rows_added"]["transport"] > 10
    assert got["rows_added"] == expected["rows_added"]
    assert got["failed"] == expected["failed"] == []
    a, b = hydrofw.open_store(local / "store"), hydrofw.open_store(distributed / "store")
    for table in ("spectrum", "transport"):
        ours = a.table(table).sort_by("id")
        theirs = b.table(table).sort_by("id")
        # ids are content hashes of the rows: equal ids, equal data
        assert ours.column("id").equals(theirs.column("id")), table
