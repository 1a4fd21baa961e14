"""Which raw datasets a store already holds, so that ``hydrofw run`` reads only new or changed ones.

One entry per dataset read without error: its path, the reader, a *stat key* (names, sizes and
modification times of its files) and a *content hash* (SHA-256 of their names and bytes), the
table and the rows it gave. A dataset is reused (not read again) when its path and reader match an
entry and either the stat key matches (no byte read, as rsync's quick check) or, after a touch or
a copy, the content hash does. Anything else (new, edited, grown, another reader) is read again;
its rows are idempotent in the store. Entries live in ``<store>/.index/datasets/part-*.parquet``
(two levels down, so that no ``<store>/*/*.parquet`` glob meets them), written atomically like
table parts; a run killed before it writes its entries only re-reads those datasets next time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import StoreError
from .store import Store

__all__ = ["IngestIndex", "dataset_files", "stat_key", "content_hash"]

_DIR = ".index"
_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("reader", pa.string()),
        ("cell", pa.string()),
        ("stat_key", pa.string()),
        ("content_sha256", pa.string()),
        ("size_bytes", pa.int64()),
        ("table", pa.string()),
        ("rows", pa.int64()),
        ("ingested_utc", pa.string()),
    ]
)


class _Dataset(Protocol):
    path: Path
    reader: str
    cell: str | None


def dataset_files(path: Path) -> list[Path]:
    """The regular files of a dataset (the file itself, or every file under its folder; links
    are not followed), sorted."""
    if path.is_file():
        return [path]
    out = []
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            p = Path(folder) / name
            if p.is_file() and not p.is_symlink():
                out.append(p)
    return out


def stat_key(path: Path, files: Sequence[Path] | None = None) -> tuple[str, int]:
    """(hash of the relative names, sizes and mtimes of the dataset's files, total bytes)."""
    h = hashlib.sha256()
    total = 0
    for f in files if files is not None else dataset_files(path):
        st = f.stat()
        total += st.st_size
        rel = f.relative_to(path) if f != path else Path(f.name)
        h.update(f"{rel.as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32], total


def content_hash(path: Path, files: Sequence[Path] | None = None) -> str:
    """SHA-256 of the dataset's relative file names and bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    for f in files if files is not None else dataset_files(path):
        rel = f.relative_to(path) if f != path else Path(f.name)
        h.update(rel.as_posix().encode() + b"\0")
        with open(f, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    return h.hexdigest()


class IngestIndex:
    """The datasets a store holds (see module docstring)."""

    def __init__(self, store: Store, *, flush_every: int = 200) -> None:
        self.store = store
        #: entries are written every so many datasets: a long ingest killed midway keeps most
        self.flush_every = flush_every
        self.folder = store.root / _DIR / "datasets"
        self._known: dict[tuple[str, str], dict[str, Any]] | None = None
        self._pending: list[dict[str, Any]] = []

    def known(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The latest entry per (path, reader)."""
        if self._known is None:
            known: dict[tuple[str, str], dict[str, Any]] = {}
            parts = sorted(self.folder.glob("part-*.parquet")) if self.folder.is_dir() else []
            rows = []
            for part in parts:
                try:
                    rows += pq.read_table(part, schema=_SCHEMA).to_pylist()
                except (OSError, pa.ArrowException, ValueError) as exc:
                    raise StoreError(f"{part}: unreadable ingest index part ({exc})") from None
            for row in sorted(rows, key=lambda r: r["ingested_utc"]):
                known[(row["path"], row["reader"])] = row
            self._known = known
        return self._known

    def split(self, datasets: Iterable[_Dataset]) -> tuple[list[Any], list[Any]]:
        """(datasets to read, datasets unchanged since they were ingested)."""
        known = self.known()
        todo, reused = [], []
        for ds in datasets:
            entry = known.get((_key(ds.path), ds.reader))
            if entry is None:
                todo.append(ds)
                continue
            files = dataset_files(ds.path)
            skey, size = stat_key(ds.path, files)
            if skey == entry["stat_key"]:
                reused.append(ds)
            elif size == entry["size_bytes"] and content_hash(ds.path, files) == entry[
                "content_sha256"
            ]:
                reused.append(ds)
                self._pending.append(entry | {"stat_key": skey, "ingested_utc": _now()})
            else:
                todo.append(ds)
        return todo, reused

    def table_of(self, ds: _Dataset) -> str | None:
        """The table a known dataset's rows went to (None: unknown, or it gave no rows)."""
        entry = self.known().get((_key(ds.path), ds.reader))
        return None if entry is None else entry["table"]

    def add(self, ds: _Dataset, table: str | None, rows: int) -> None:
        """Note a dataset read without error (written by :meth:`flush`)."""
        files = dataset_files(ds.path)
        skey, size = stat_key(ds.path, files)
        self._pending.append(
            {
                "path": _key(ds.path),
                "reader": ds.reader,
                "cell": ds.cell,
                "stat_key": skey,
                "content_sha256": content_hash(ds.path, files),
                "size_bytes": size,
                "table": table,
                "rows": rows,
                "ingested_utc": _now(),
            }
        )
        if len(self._pending) >= self.flush_every:
            self.flush()

    def flush(self) -> int:
        """Write the pending entries as one part; return how many."""
        if not self._pending:
            return 0
        table = pa.Table.from_pylist(self._pending, schema=_SCHEMA)
        digest = hashlib.sha256(
            "\n".join(f"{r['path']}\0{r['stat_key']}" for r in self._pending).encode()
        ).hexdigest()[:32]
        with self.store._lock("index"):
            self.store._clean_tmp("index", self.folder)
            part = self.folder / f"part-{_now_compact()}-{digest}.parquet"
            self.store._write_part("index", part, table)
        n = len(self._pending)
        if self._known is not None:
            for row in self._pending:
                self._known[(row["path"], row["reader"])] = row
        self._pending = []
        return n


def _key(path: Path) -> str:
    return str(Path(path).resolve())


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _now_compact() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
