"""The Parquet store: idempotent ingest, crash safety under SIGKILL, concurrent writers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pytest

import hydrofw
from hydrofw.errors import StoreError

WRITER = Path(__file__).with_name("store_writer.py")
sys.path.insert(0, str(WRITER.parent))
from store_writer import ROWS_PER_BATCH, batch  # noqa: E402


def _writer(root: Path, start: int, stop: int, points: int = 4096) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(root), str(start), str(stop), str(points)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_complete(store: hydrofw.Store, batches: range, points: int = 4096) -> None:
    table = store.table("spectrum")
    ids = table.column("id").to_pylist()
    assert len(ids) == len(set(ids)), "duplicate rows in the store"
    expected = {r.id for k in batches for r in batch(k, points)}
    assert set(ids) == expected


def test_ingest_is_idempotent(tmp_path):
    store = hydrofw.open_store(tmp_path / "store")
    t = hydrofw.to_table(batch(0, 64))
    assert store.write(t) == ROWS_PER_BATCH
    assert store.write(t) == 0
    assert store.write(hydrofw.to_table(batch(0, 64) + batch(1, 64))) == ROWS_PER_BATCH
    assert len(store.parts("spectrum")) == 2
    assert store.table("spectrum").num_rows == 2 * ROWS_PER_BATCH
    # a fresh Store object (new process view) agrees
    assert hydrofw.open_store(tmp_path / "store").write(t) == 0


def test_store_is_plain_parquet(tmp_path):
    store = hydrofw.open_store(tmp_path)
    store.write(hydrofw.to_table(batch(0, 32)))
    dataset = ds.dataset(tmp_path / "spectrum", format="parquet")  # no hydrofw involved
    assert dataset.to_table().num_rows == ROWS_PER_BATCH
    assert dataset.schema.metadata[b"hydrofw.schema"] == b"spectrum"
    assert store.dataset("spectrum").count_rows() == ROWS_PER_BATCH


def test_sigkill_mid_write_leaves_a_readable_store(tmp_path):
    root = tmp_path / "store"
    proc = _writer(root, 0, 30, points=16384)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until it is in the middle of its work
        line = proc.stdout.readline()
        if line and int(line.split()[1]) >= 3:
            break
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = hydrofw.open_store(root)
    survived = store.table("spectrum")  # readable, whatever the moment of the kill
    assert survived.num_rows % ROWS_PER_BATCH == 0 and survived.num_rows >= 4 * ROWS_PER_BATCH
    rerun = _writer(root, 0, 30, points=16384)  # the same job again: adds only what is missing
    rerun.wait(timeout=120)
    assert rerun.returncode == 0, rerun.stderr.read()
    _assert_complete(store, range(30), points=16384)
    assert {p.suffix for p in (root / "spectrum").iterdir()} == {".parquet"}  # parts only
    assert not list((root / ".tmp").iterdir())  # the killed writer's temp file is cleaned


def test_two_concurrent_writers_lose_nothing(tmp_path):
    root = tmp_path / "store"
    a = _writer(root, 0, 20)
    b = _writer(root, 10, 30)
    for p in (a, b):
        p.wait(timeout=120)
        assert p.returncode == 0, p.stderr.read()
    _assert_complete(hydrofw.open_store(root), range(30))


def test_compact_merges_parts_without_changing_content(tmp_path):
    store = hydrofw.open_store(tmp_path)
    for k in range(3):
        store.write(hydrofw.to_table(batch(k, 16)))
    before = sorted(store.table("spectrum").column("id").to_pylist())
    store.compact("spectrum")
    assert len(store.parts("spectrum")) == 1
    assert sorted(store.table("spectrum").column("id").to_pylist()) == before


def test_store_errors(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StoreError, match="is a file"):
        hydrofw.open_store(tmp_path / "afile")
    with pytest.raises(StoreError, match="no such store"):
        hydrofw.open_store(tmp_path / "missing", create=False)
    store = hydrofw.open_store(tmp_path / "s")
    (tmp_path / "s" / "spectrum").mkdir()
    (tmp_path / "s" / "spectrum" / "part-bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(StoreError, match="part-bad.parquet: unreadable store part"):
        store.table("spectrum")
    with pytest.raises(StoreError, match="unknown table"):
        store.table("nonsense")


def test_read_of_some_columns_and_rows_leaves_the_arrays_on_disk(tmp_path):
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from hydrofw.store import ROW_GROUP_BYTES, rows_per_group

    store = hydrofw.open_store(tmp_path)
    rows = [r.evolve(source_path=f"/raw/DAC{i % 4}/{i:03d}/fid")
            for k in range(3) for i, r in enumerate(batch(k, 4096), start=20 * k)]
    store.write(hydrofw.to_table(rows))
    (part,) = store.raw_parts("spectrum")
    meta = pq.ParquetFile(part).metadata
    # clustered by file, in row groups of about ROW_GROUP_BYTES (a row: 2 x 4096 doubles)
    assert pq.read_table(part, columns=["source_path"]).column(0).to_pylist() == sorted(
        r.source_path for r in rows
    )
    assert meta.num_row_groups == -(-len(rows) // (ROW_GROUP_BYTES // (2 * 4096 * 8 + 200)))
    assert rows_per_group(hydrofw.to_table(rows)) == meta.row_group(0).num_rows
    full = store.table("spectrum")
    light = [c for c in store.column_names("spectrum") if c not in ("re", "im")]
    assert "re" in store.column_names("spectrum") and "re" not in light
    assert store.table("spectrum", columns=light).equals(full.select(light))
    where = pc.field("source_path").isin(["/raw/DAC1/001/fid", "/raw/DAC1/041/fid"])
    some = store.table("spectrum", columns=["source_path", "increment"], where=where)
    assert sorted(some.column("increment").to_pylist()) == [1, 41]
    assert some.column_names == ["source_path", "increment"]
    with pytest.raises(StoreError, match="no column"):
        store.table("spectrum", columns=["no_such_column"])
