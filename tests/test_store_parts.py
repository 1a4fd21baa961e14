"""Every store read path (table, dataset, compact, ids/write, migration, runs) turns an unreadable
or incomplete part into a StoreError naming the part."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import hydrofw
from hydrofw.errors import StoreError
from hydrofw.schema import get_schema

sys.path.insert(0, str(Path(__file__).parent))
from store_writer import ROWS_PER_BATCH, batch, derived  # noqa: E402
from test_schema import _v1_spectrum_table  # noqa: E402


def _store_with(tmp_path: Path, bad_name: str, content: bytes | pa.Table) -> hydrofw.Store:
    store = hydrofw.open_store(tmp_path)
    store.write(hydrofw.to_table(batch(0, 16)))
    bad = tmp_path / "spectrum" / bad_name
    if isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        pq.write_table(content, bad)
    return store


def _truncated(tmp_path: Path) -> bytes:
    whole = tmp_path / "whole.parquet"
    pq.write_table(hydrofw.to_table(batch(1, 16)), whole)
    data = whole.read_bytes()
    whole.unlink()
    return data[: len(data) // 2]


def _every_read_path(store: hydrofw.Store, part: str) -> None:
    match = f"{part}: (unreadable|incomplete) store part"
    with pytest.raises(StoreError, match=match):
        store.table("spectrum")
    with pytest.raises(StoreError, match=match):
        store.dataset("spectrum")
    with pytest.raises(StoreError, match=match):
        store.compact("spectrum")
    with pytest.raises(StoreError, match=match):
        store.write(hydrofw.to_table(batch(2, 16)))  # the ids of stored rows are read first


@pytest.mark.parametrize("kind", ["garbage", "truncated", "empty file"])
def test_unreadable_part(tmp_path, kind):
    content = {"garbage": b"not parquet at all", "empty file": b""}.get(kind)
    store = _store_with(tmp_path, "part-bad.parquet", content or _truncated(tmp_path))
    _every_read_path(store, "part-bad.parquet")


def test_v1_part_lacking_a_field(tmp_path):
    v1 = _v1_spectrum_table().drop_columns(["observe_frequency_mhz"])
    store = _store_with(tmp_path, "part-v1.parquet", v1)
    for call in (lambda: store.table("spectrum"), lambda: store.compact("spectrum")):
        with pytest.raises(StoreError, match="part-v1.parquet: incomplete store part.*"
                           "observe_frequency_mhz"):
            call()
    with pytest.raises(StoreError, match="part-v1.parquet: holds an older schema version"):
        store.dataset("spectrum")


def test_current_part_lacking_a_required_field(tmp_path):
    t = hydrofw.to_table(batch(1, 16)).drop_columns(["nucleus"])
    store = _store_with(tmp_path, "part-short.parquet", t)
    _every_read_path_but_ids = [
        lambda: store.table("spectrum"),
        lambda: store.dataset("spectrum"),
        lambda: store.compact("spectrum"),
    ]
    for call in _every_read_path_but_ids:
        with pytest.raises(StoreError, match="part-short.parquet: incomplete store part.*nucleus"):
            call()


def test_part_of_the_wrong_type(tmp_path):
    t = hydrofw.to_table(batch(1, 16))
    i = t.column_names.index("re")
    t = t.set_column(i, "re", pa.array(["x"] * t.num_rows))
    store = _store_with(tmp_path, "part-type.parquet", t)
    with pytest.raises(StoreError, match="part-type.parquet: incomplete store part.*'re'"):
        store.table("spectrum")
    with pytest.raises(StoreError, match="part-type.parquet: store part column 're' has type"):
        store.dataset("spectrum")


def test_unreadable_part_and_record_of_a_run(tmp_path):
    store = hydrofw.open_store(tmp_path)
    with store.run() as run:
        run.write(derived(0, 0), "timeseries")
    (run.path / "timeseries" / "part-bad.parquet").write_bytes(b"PAR1 broken PAR1")
    for call in (
        lambda: store.table("timeseries"),
        lambda: store.table("timeseries", run=run.id),
        lambda: store.dataset("timeseries"),
    ):
        with pytest.raises(StoreError, match=f"runs/{run.id}/timeseries/part-bad.parquet"):
            call()
    (run.path / "run.json").write_text("{ no json")
    with pytest.raises(StoreError, match=f"{run.id}/run.json: unreadable run record"):
        store.runs()


def test_a_good_store_reads_through_every_path(tmp_path):
    """The same calls succeed on good parts (the errors above are not false alarms)."""
    store = hydrofw.open_store(tmp_path)
    for k in range(2):
        store.write(hydrofw.to_table(batch(k, 16)))
    assert store.dataset("spectrum").count_rows() == 2 * ROWS_PER_BATCH
    store.compact("spectrum")
    assert store.table("spectrum").num_rows == 2 * ROWS_PER_BATCH
    assert store.table("spectrum").schema.equals(get_schema("spectrum").arrow, False)
