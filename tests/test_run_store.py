"""`hydrofw run` records a run: edit campaign.toml, run again, and every default view (Store.table,
the documented Parquet paths, `hydrofw export`) shows only the new results; the old run stays
readable by id and `hydrofw runs` lists both with their campaign.toml hash."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import hydrofw
from hydrofw import Reader, hookimpl
from hydrofw.cli import main
from hydrofw.registry import Registry
from hydrofw.schema import conform


def _read(source):
    value = float(Path(source.path).read_text())
    yield hydrofw.Spectrum(
        nucleus="1H",
        observe_frequency_hz=4e8,
        spectral_width_hz=1e4,
        re=np.full(2, value),
        im=np.zeros(2),
        source_path=source.path,
    )


class Campaign:
    """A reader of `.spec` files and a campaign step whose result depends on campaign.toml."""

    @hookimpl
    def hydrofw_register_readers(self, register):
        register(Reader(name="dot-spec", table="spectrum", read=_read,
                        sniff=lambda s: 1.0 if s.name.endswith(".spec") else 0.0))

    broken = False

    @hookimpl
    def hydrofw_campaign_ingested(self, store, campaign_dir, report_dir, summary):
        if self.broken:
            store.write(pa.table({"id": ["x"]}), "timeseries")  # not a valid timeseries table
        scale = tomllib.loads((campaign_dir / "campaign.toml").read_text())["scale"]
        raw = store.table("spectrum").sort_by("id")
        ids = [hashlib.sha256(f"{i}:{scale}".encode()).hexdigest()[:32]
               for i in raw.column("id").to_pylist()]
        values = [r[0] * scale for r in raw.column("re").to_pylist()]
        table = conform(pa.table({
            "id": ids, "cell": raw.column("cell"), "quantity": ["x"] * raw.num_rows,
            "days_since_synthesis": [float(i) for i in range(raw.num_rows)], "value": values,
        }), "timeseries")
        store.write(table, "timeseries")  # what the campaign pipeline does
        summary["results"] = {"timeseries": table.num_rows}


@pytest.fixture
def campaign(monkeypatch, tmp_path):
    import hydrofw.registry as reg_mod

    reg = Registry(entry_points=False)
    reg.add_plugin(Campaign(), "campaign")
    monkeypatch.setattr(reg_mod, "_REGISTRY", reg)
    root = tmp_path / "camp"
    for cell, values in {"DAC1": (1.0, 2.0), "DAC2": (3.0,)}.items():
        (root / "raw" / cell).mkdir(parents=True)
        for i, v in enumerate(values):
            (root / "raw" / cell / f"s{i}.spec").write_text(str(v))
    (root / "campaign.toml").write_text("scale = 10.0\n")
    return root


def _values(table: pa.Table) -> list[float]:
    return sorted(table.column("value").to_pylist())


def test_edit_campaign_toml_and_run_again(campaign, capsys):
    duckdb = pytest.importorskip("duckdb")
    pl = pytest.importorskip("polars")
    first = hydrofw.run(campaign)
    (campaign / "campaign.toml").write_text("scale = 100.0\n")
    second = hydrofw.run(campaign)
    assert second["rows_added"] == {"spectrum": 0}  # raw tables: append-idempotent
    assert (first["datasets_read"], second["datasets_read"], second["datasets_reused"]) == (3, 0, 3)
    store = hydrofw.open_store(campaign / "store")
    new, old = [100.0, 200.0, 300.0], [10.0, 20.0, 30.0]
    assert _values(store.table("timeseries")) == new
    assert _values(store.table("timeseries", run=first["run_id"])) == old
    glob = f"{campaign}/store/timeseries/*.parquet"
    got = duckdb.sql(f"select value from read_parquet('{glob}')").fetchall()
    assert sorted(r[0] for r in got) == new
    assert sorted(pl.read_parquet(glob)["value"].to_list()) == new
    everything = duckdb.sql(f"select count(*) from read_parquet('{campaign}/store/*/*.parquet', "
                            "union_by_name=true)").fetchall()
    assert everything == [(3 + 3,)]  # three raw spectra and the latest three results only

    records = {r["run_id"]: r for r in store.runs()}
    a, b = records[first["run_id"]], records[second["run_id"]]
    assert (a["status"], a["latest"], b["status"], b["latest"]) == (
        "committed", False, "committed", True)
    assert b["campaign_toml_sha256"] == hashlib.sha256(b"scale = 100.0\n").hexdigest()
    assert a["campaign_toml"] == {"scale": 10.0} and b["campaign_toml"] == {"scale": 100.0}
    assert b["previous_run"] == a["run_id"] and b["tables"] == {"timeseries": 3}
    assert b["ingest"]["datasets"] == 3 and b["results"] == {"timeseries": 3}
    assert [p["name"] for p in b["plugins"]] == ["hydrofw", "campaign"]
    assert b["plugins"][0]["version"] == hydrofw.__version__ == b["hydrofw_version"]
    assert b["started_utc"] < b["committed_utc"]

    out = campaign / "latest.parquet"
    assert main(["export", str(campaign / "store"), "--table", "timeseries", "--to", str(out)]) == 0
    assert sorted(pq.read_table(out).column("value").to_pylist()) == new  # plain Parquet
    assert main(["export", str(campaign / "store"), "--table", "timeseries", "--run",
                 first["run_id"], "--to", str(campaign / "old.parquet")]) == 0
    assert sorted(pq.read_table(campaign / "old.parquet").column("value").to_pylist()) == old
    capsys.readouterr()
    assert main(["runs", str(campaign / "store")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"* {second['run_id']}  committed")
    assert main(["runs", str(campaign / "store"), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_a_run_whose_campaign_step_fails_changes_no_default_view(campaign, monkeypatch):
    good = hydrofw.run(campaign)
    (campaign / "campaign.toml").write_text("scale = 2.0\n")
    monkeypatch.setattr(Campaign, "broken", True)
    with pytest.raises(hydrofw.errors.SchemaError):
        hydrofw.run(campaign)
    store = hydrofw.open_store(campaign / "store")
    assert store.latest_run() == good["run_id"]
    assert _values(store.table("timeseries")) == [10.0, 20.0, 30.0]
    assert [r["status"] for r in store.runs()] == ["committed", "failed"]


def test_incremental_ingest_reads_only_new_or_changed_datasets(campaign):
    first = hydrofw.run(campaign)
    assert (first["datasets_read"], first["datasets_reused"]) == (3, 0)
    spec = campaign / "raw" / "DAC1" / "s0.spec"
    st = spec.stat()
    os.utime(spec, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touched, same bytes
    (campaign / "raw" / "DAC2" / "s1.spec").write_text("4.0")  # a new session
    (campaign / "raw" / "DAC1" / "s1.spec").write_text("5.0")  # edited in place
    (campaign / "raw" / "DAC2" / "bad.spec").write_text("not a number")
    second = hydrofw.run(campaign)
    assert (second["datasets_read"], second["datasets_reused"]) == (3, 2)  # new, edited, bad
    assert second["rows_added"] == {"spectrum": 2} and len(second["failed"]) == 1
    store = hydrofw.open_store(campaign / "store")
    record = store.run_record(second["run_id"])
    assert [Path(p).name for p in record["datasets_read"]] == ["s1.spec", "bad.spec", "s1.spec"]
    assert record["datasets_reused"] == 2
    # the results cover every dataset, reused or read (the raw table holds them all)
    assert _values(store.table("timeseries")) == [10.0, 20.0, 30.0, 40.0, 50.0]
    third = hydrofw.run(campaign)  # the bad file is read (and reported) every time
    assert (third["datasets_read"], third["datasets_reused"]) == (1, 4)
    assert [Path(p).name for p, _ in third["failed"]] == ["bad.spec"]
    full = hydrofw.run(campaign, incremental=False)
    assert (full["datasets_read"], full["rows_added"]) == (5, {"spectrum": 0})
    shutil.rmtree(campaign / "store" / ".index")  # e.g. a run killed before its index entries
    again = hydrofw.run(campaign)
    assert (again["datasets_read"], again["rows_added"]) == (5, {"spectrum": 0})
    assert _values(store.table("timeseries")) == [10.0, 20.0, 30.0, 40.0, 50.0]


def test_ingest_writes_a_batch_of_datasets_as_one_part_and_finds_a_bad_one(campaign, tmp_path):
    from hydrofw.errors import StoreError
    from hydrofw.pipeline import Dataset, _WriteBatch

    hydrofw.run(campaign)
    store = hydrofw.open_store(campaign / "store")
    (part,) = store.raw_parts("spectrum")  # three datasets, one write
    paths = pq.read_table(part, columns=["source_path"]).column(0).to_pylist()
    assert paths == sorted(paths) and len(paths) == 3

    class Refusing:
        """A store that refuses any table holding a row of ``bad.spec``."""

        def __init__(self):
            self.parts = []

        def write(self, table, name=None):
            if any(p.endswith("bad.spec") for p in table.column("source_path").to_pylist()):
                raise StoreError("bad.spec: refused")
            self.parts.append(table.num_rows)
            return table.num_rows

    class Index:
        noted: list = []

        def add(self, ds, table, rows):
            self.noted.append((ds.path.name, table, rows))

    def dataset(name):
        path = tmp_path / name
        path.write_text("1.0")
        table = hydrofw.to_table(list(_read(type("S", (), {"path": str(path)}))))
        return Dataset(path, "dot-spec", None), table

    sink, index, added, failed = Refusing(), Index(), {}, []
    batch = _WriteBatch(sink, added, failed, index)
    for name in ("a.spec", "bad.spec", "c.spec"):
        batch.add(*dataset(name))
    batch.flush()
    assert sink.parts == [1, 1] and added == {"spectrum": 2}  # the good ones, one by one
    assert [(p.name, why) for p, why in failed] == [("bad.spec", "bad.spec: refused")]
    assert index.noted == [("a.spec", "spectrum", 1), ("c.spec", "spectrum", 1)]
