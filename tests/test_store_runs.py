"""Recorded runs in the store: derived tables per run, the latest run as every reader's default,
older runs by id, temp files invisible, SIGKILL at random moments, writers and readers at once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import hydrofw
from hydrofw.errors import StoreError

WRITER = Path(__file__).with_name("store_writer.py")
sys.path.insert(0, str(WRITER.parent))
from store_writer import ROWS_PER_BATCH, batch, derived, derived_ids  # noqa: E402

POINTS = 512


def _writer(root: Path, start: int, stop: int, generation: int | None) -> subprocess.Popen:
    cmd = [sys.executable, str(WRITER), str(root), str(start), str(stop), str(POINTS)]
    if generation is not None:
        cmd += ["--run", str(generation)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _ids(table) -> list[str]:
    return table.column("id").to_pylist()


def _run(store: hydrofw.Store, generation: int, batches: range) -> str:
    with store.run(generation=generation) as run:
        for k in batches:
            assert run.write(derived(k, generation), "timeseries") == ROWS_PER_BATCH
        assert set(_ids(run.table("timeseries"))) == derived_ids(batches, generation)
    return run.id


def test_latest_run_is_the_default_view_of_every_reader(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    pl = pytest.importorskip("polars")
    store = hydrofw.open_store(tmp_path)
    store.write(hydrofw.to_table(batch(0, 32)))
    first = _run(store, 0, range(3))
    second = _run(store, 1, range(2))  # "campaign.toml edited": other values, fewer rows
    new = derived_ids(range(2), 1)
    assert store.latest_run() == second
    assert set(_ids(store.table("timeseries"))) == new
    assert set(_ids(store.table("timeseries", run=first))) == derived_ids(range(3), 0)
    glob = f"{tmp_path}/timeseries/*.parquet"  # the documented paths
    assert {r[0] for r in duckdb.sql(f"select id from read_parquet('{glob}')").fetchall()} == new
    assert set(pl.read_parquet(glob)["id"].to_list()) == new
    assert set(_ids(ds.dataset(tmp_path / "timeseries", format="parquet").to_table())) == new
    assert set(_ids(pq.read_table(tmp_path / "timeseries"))) == new  # what pandas/Spark read
    old = f"{tmp_path}/runs/{first}/timeseries/*.parquet"
    assert {r[0] for r in duckdb.sql(f"select id from read_parquet('{old}')").fetchall()} == (
        derived_ids(range(3), 0)
    )
    # raw tables keep appending beside the runs; `<store>/*/*.parquet` sees no older run
    assert store.table("spectrum").num_rows == ROWS_PER_BATCH
    everything = duckdb.sql(f"select id from read_parquet('{tmp_path}/*/*.parquet', "
                            "union_by_name=true)").fetchall()
    assert len(everything) == ROWS_PER_BATCH + len(new)
    runs = store.runs()
    assert [r["run_id"] for r in runs] == [first, second]
    assert [r["status"] for r in runs] == ["committed", "committed"]
    assert [r["latest"] for r in runs] == [False, True]
    assert runs[1]["previous_run"] == first and runs[1]["generation"] == 1
    assert runs[1]["tables"] == {"timeseries": 2 * ROWS_PER_BATCH}
    assert store.tables() == ["spectrum", "timeseries"]


def test_a_failed_run_never_becomes_the_default(tmp_path):
    store = hydrofw.open_store(tmp_path)
    good = _run(store, 0, range(2))
    with pytest.raises(RuntimeError, match="step broke"), store.run(generation=1) as run:
        run.write(derived(0, 1), "timeseries")
        raise RuntimeError("step broke")
    assert store.latest_run() == good
    assert set(_ids(store.table("timeseries"))) == derived_ids(range(2), 0)
    record = store.run_record(run.id)
    assert record["status"] == "failed" and "step broke" in record["error"]


def test_a_table_the_new_run_lacks_reads_empty_not_stale(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    store = hydrofw.open_store(tmp_path)
    _run(store, 0, range(2))
    with store.run(generation=1) as run:
        run.write(hydrofw.to_table(batch(5, 16)), "spectrum")  # another table only
    assert store.table("timeseries").num_rows == 0
    glob = f"{tmp_path}/timeseries/*.parquet"
    assert duckdb.sql(f"select count(*) from read_parquet('{glob}')").fetchall() == [(0,)]
    assert store.run_record(run.id)["tables"] == {"spectrum": ROWS_PER_BATCH, "timeseries": 0}
    # a derived table goes through runs only
    with pytest.raises(StoreError, match="derived table written by runs"):
        store.write(derived(0, 0), "timeseries")
    with pytest.raises(StoreError, match="no run 'nope'"):
        store.table("timeseries", run="nope")


def test_temp_files_never_enter_a_table_folder(tmp_path, monkeypatch):
    duckdb = pytest.importorskip("duckdb")
    store = hydrofw.open_store(tmp_path)
    store.write(hydrofw.to_table(batch(0, 32)))
    real = pq.write_table

    def half_then_crash(table, where, **kw):
        real(table.slice(0, 3), where, **kw)
        seen.append(sorted(p.name for p in (tmp_path / "spectrum").iterdir()))
        seen.append(duckdb.sql(
            f"select count(*) from read_parquet('{tmp_path}/spectrum/*.parquet')").fetchall())
        raise OSError("disk full")

    seen: list = []
    monkeypatch.setattr("hydrofw.store.pq.write_table", half_then_crash)
    with pytest.raises(OSError, match="disk full"):
        store.write(hydrofw.to_table(batch(1, 32)))
    names, count = seen
    assert all(n.endswith(".parquet") and n.startswith("part-") for n in names) and len(names) == 1
    assert count == [(ROWS_PER_BATCH,)]  # mid-write, a glob reader sees the complete parts only
    assert sorted(os.listdir(tmp_path / "spectrum")) == names


def _check_after_kill(store: hydrofw.Store, rows: set) -> None:
    """Readable; the default view is exactly one committed run's rows; no duplicate raw row."""
    raw = _ids(store.table("spectrum"))
    assert len(raw) == len(set(raw)) and set(raw) <= rows
    latest = store.latest_run()
    view = set(_ids(store.table("timeseries")))
    if latest is None:
        assert view == set()
    else:
        generation = store.run_record(latest)["generation"]
        assert view == derived_ids(range(10), generation)
    for r in store.runs():
        assert r["status"] in {"committed", "abandoned"}


@pytest.mark.parametrize(
    "kills",
    [pytest.param(3, id="3-kills"), pytest.param(20, id="20-kills", marks=pytest.mark.slow)],
)
def test_sigkill_at_random_moments_of_the_run_write_path(tmp_path, kills):
    """Kill the ingest + run writer at random moments; every kill leaves a readable store whose
    default view is one whole run, and a final re-run gives the same rows as an uninterrupted
    run in a fresh store."""
    rng = random.Random(1234)
    root = tmp_path / "killed"
    all_raw = {r.id for k in range(10) for r in batch(k, POINTS)}
    for i in range(kills):
        proc = _writer(root, 0, 10, generation=i % 3)
        # a random point of the 21 steps (10 raw parts, 10 run parts, the commit), then a
        # random delay inside the next step
        for _ in range(rng.randrange(21)):
            proc.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.03))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _check_after_kill(hydrofw.open_store(root), all_raw)
    clean_root = tmp_path / "clean"
    done, clean = _writer(root, 0, 10, generation=7), _writer(clean_root, 0, 10, generation=7)
    for p in (done, clean):
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    killed, fresh = hydrofw.open_store(root), hydrofw.open_store(clean_root)
    for name in ("spectrum", "timeseries"):
        a = killed.table(name).sort_by("id")
        b = fresh.table(name).sort_by("id")
        assert a.equals(b), name
    # temp files of killed writers are gone (a link being switched at the kill may stay)
    assert all(p.name.startswith("link--") for p in (root / ".tmp").iterdir())
    statuses = [r["status"] for r in killed.runs()]
    assert statuses[-1] == "committed" and set(statuses) <= {"committed", "abandoned"}


def _duck(duckdb, glob: str) -> list[str]:
    return [r[0] for r in duckdb.sql(f"select id from read_parquet('{glob}')").fetchall()]


def _retrying(read, glob: str, races: list) -> list[str]:
    """A reader that opens a file twice per query and straddles a switch between the two opens
    gets an error, never a mix (docs/store.md); a live reader retries, as this one does."""
    for _ in range(5):
        try:
            return read(glob)
        except Exception as error:  # noqa: BLE001 - duckdb and polars raise their own types
            races.append(str(error)[:120])
    raise AssertionError(f"five reads in a row failed: {races[-5:]}")


def test_four_writers_and_duckdb_polars_readers_at_once(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    pl = pytest.importorskip("polars")
    root = tmp_path / "store"
    writers = [_writer(root, 3 * i, 3 * i + 8, generation=i) for i in range(4)]
    generations = {i: derived_ids(range(3 * i, 3 * i + 8), i) for i in range(4)}
    raw_glob, derived_glob = f"{root}/spectrum/*.parquet", f"{root}/timeseries/*.parquet"
    polls = derived_polls = 0
    races: list[str] = []
    while any(w.poll() is None for w in writers):
        if list((root / "spectrum").glob("*.parquet")) if (root / "spectrum").is_dir() else []:
            ids = _duck(duckdb, raw_glob)
            assert len(ids) == len(set(ids)) and len(ids) % ROWS_PER_BATCH == 0
            ids = pl.read_parquet(raw_glob)["id"].to_list()
            assert len(ids) == len(set(ids)) and len(ids) % ROWS_PER_BATCH == 0
            polls += 1
        if (root / "timeseries").exists():
            a = _retrying(lambda g: _duck(duckdb, g), derived_glob, races)
            b = _retrying(lambda g: pl.read_parquet(g)["id"].to_list(), derived_glob, races)
            for ids in (a, b):  # one whole run, never a mix, never a part of one
                assert len(ids) == len(set(ids)) and set(ids) in generations.values()
            derived_polls += 1
        time.sleep(0.01)
    for w in writers:
        assert w.returncode == 0, w.stderr.read()
    assert polls > 3, "the readers never overlapped the writers"
    store = hydrofw.open_store(root)
    raw = _ids(store.table("spectrum"))
    assert len(raw) == len(set(raw))
    assert set(raw) == {r.id for k in range(17) for r in batch(k, POINTS)}
    gen = store.run_record()["generation"]
    assert set(_ids(store.table("timeseries"))) == generations[gen]
    assert len(store.runs()) == 4 and all(r["status"] == "committed" for r in store.runs())
    assert len(races) <= max(2, derived_polls // 4), races  # a race with a commit is rare
    print(f"reader polls: raw {polls}, derived {derived_polls}, retried after a race {len(races)}")


def test_filtered_reads_and_the_previous_run(tmp_path):
    """``where`` reads matching rows part by part, ``raw_columns`` reads an index of a raw
    table, and a run reads the rows of the run it follows (per-cell reuse in campaigns)."""
    import pyarrow.compute as pc

    store = hydrofw.open_store(tmp_path)
    for k in range(2):
        store.write(hydrofw.to_table(batch(k, 16)))
    index = store.raw_columns("spectrum", ["id", "cell"])
    assert index.column_names == ["id", "cell"] and index.num_rows == 2 * ROWS_PER_BATCH
    one = store.table("spectrum", where=pc.field("cell") == "DAC1")
    assert one.num_rows == ROWS_PER_BATCH and set(one.column("cell").to_pylist()) == {"DAC1"}
    first = _run(store, 0, range(2))
    with store.run(generation=1) as run:
        assert run.previous_record()["run_id"] == first
        again = run.table("timeseries", run=first, where=pc.field("cell") == "DAC0")
        assert set(_ids(again)) == derived_ids(range(1), 0)
        assert run.table("timeseries").num_rows == 0  # nothing written by this run yet
    with hydrofw.open_store(tmp_path / "new").run() as run:
        assert run.previous_record() is None
