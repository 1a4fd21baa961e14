"""The Parquet store: raw tables appended idempotently, derived tables written per recorded run.

Layout (see ``docs/store.md`` for the reasons)::

    <store>/spectrum/part-<hash>.parquet        raw table: every ingest appends new rows only
    <store>/runs/<run id>/run.json              the record of one run (hash, parameters, versions)
    <store>/runs/<run id>/<table>/part-*.parquet   the derived tables that run wrote
    <store>/latest -> runs/<run id>             the last committed run (switched in one rename)
    <store>/<table> -> latest/<table>           each derived table, through ``latest``
    <store>/.tmp/, <store>/.locks/              temporary files and locks, never in a table folder

A table folder holds nothing but complete Parquet parts, so every reader of the documented paths
(``<store>/<table>/*.parquet`` in DuckDB, polars, pandas or Spark, ``pyarrow.dataset``) sees the
raw rows and the results of the latest run only, never a temporary file or an older run. Writes
are atomic (temp file in ``.tmp/``, fsync, rename); a writer killed at any moment leaves only a
temp file the next writer of that table removes, and a run killed before its commit is never
pointed to. Each write takes a per-table lock and drops rows whose key is already stored (the
key is ``id``, a content hash, or the schema's ``key`` columns), so two processes writing at once
both keep their rows and nothing is stored twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .atomic import TMP_PREFIX, atomic_path
from .errors import HydrofwError, SchemaError, SchemaVersionError, StoreError
from .parquetmeta import with_column_metadata
from .schema import conform, empty, get_schema, identify, schema_names, upgrade

try:  # POSIX advisory locks; Windows falls back to an exclusive lock file
    import fcntl
except ImportError:  # pragma: no cover - exercised on Windows only
    fcntl = None  # type: ignore[assignment]

__all__ = ["Store", "StoreRun", "open_store", "row_keys"]

RUNS = "runs"
LATEST = "latest"
RECORD = "run.json"
#: the one part file of a derived table in a committed run (the same name in every run)
SEALED = "part-0.parquet"
_TMP = ".tmp"
_LOCKS = ".locks"
_RESERVED = {RUNS, LATEST, _TMP, _LOCKS}
#: errors pyarrow raises on a corrupt or truncated Parquet file, and what a migration of a part
#: lacking a field raises; all become a StoreError naming the part.
_PART_ERRORS = (
    OSError,
    pa.ArrowException,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
)


class Store:
    """A folder of Parquet tables. Create with :func:`open_store`."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._id_cache: dict[str, dict[str, frozenset[str]]] = {}

    # -- paths ------------------------------------------------------------------------------
    def _raw_dir(self, name: str) -> Path | None:
        """The raw folder of ``name`` (None when the name is a derived table's link)."""
        d = self.root / name
        return None if d.is_symlink() else d

    def _run_dir(self, run_id: str, name: str | None = None) -> Path:
        d = self.root / RUNS / run_id
        return d / name if name else d

    @staticmethod
    def _parts_in(d: Path | None) -> list[Path]:
        if d is None or not d.is_dir():
            return []
        return sorted(
            p for p in d.glob("*.parquet") if not p.name.startswith((".", "_")) and p.is_file()
        )

    def raw_parts(self, name: str) -> list[Path]:
        """Part files of the raw (append-only) table ``name``."""
        return self._parts_in(self._raw_dir(name))

    def parts(self, name: str, run: str | None = None) -> list[Path]:
        """Part files of a table: the raw parts and the latest run's (or run ``run``'s)."""
        if run is not None:
            return self._parts_in(self._run_dir(self._check_run(run), name))
        latest = self.latest_run()
        run_parts = self._parts_in(self._run_dir(latest, name)) if latest else []
        return self.raw_parts(name) + run_parts

    # -- locks and temporary files ------------------------------------------------------------
    @contextlib.contextmanager
    def _lock(self, key: str, *, wait: bool = True) -> Iterator[bool]:
        """An exclusive lock named ``key`` (yields False when ``wait`` is off and it is held)."""
        locks = self.root / _LOCKS
        locks.mkdir(parents=True, exist_ok=True)
        lock_path = locks / f"{key}.lock"
        if fcntl is not None:
            with open(lock_path, "a+b") as fh:
                flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
                try:
                    fcntl.flock(fh.fileno(), flags)
                except BlockingIOError:
                    yield False
                    return
                try:
                    yield True
                finally:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return
        deadline = time.monotonic() + 60.0  # pragma: no cover - Windows
        while True:  # pragma: no cover
            try:
                fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                break
            except FileExistsError:
                if not wait:
                    yield False
                    return
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"{lock_path}: store table is locked by another writer"
                    ) from None
                time.sleep(0.05)
        try:  # pragma: no cover
            yield True
        finally:  # pragma: no cover
            os.close(fd)
            os.unlink(lock_path)

    def _tmp_dir(self) -> Path:
        d = self.root / _TMP
        d.mkdir(parents=True, exist_ok=True)
        return d

    def _clean_tmp(self, key: str, folder: Path) -> None:
        """Remove temp files of dead writers of one table (called with its lock held, when no
        other writer of it can be active), including those of the older in-folder layout."""
        stale = list((self.root / _TMP).glob(f"{key}--*"))
        stale += list(folder.glob(f"{TMP_PREFIX}*")) if folder.is_dir() else []
        for p in stale:
            with contextlib.suppress(OSError):
                p.unlink()

    def _clean_abandoned_runs_tmp(self) -> None:
        """Remove temp files of runs whose process died (their run lock is free)."""
        folder = self.root / _TMP
        if not folder.is_dir():
            return
        for p in folder.glob("run-*--*"):
            run_id = p.name[4:].split("--")[0][: len(_new_run_id())]
            with self._lock(f"run-{run_id}", wait=False) as free:
                if free:
                    with contextlib.suppress(OSError):
                        p.unlink()

    def _write_part(self, key: str, part: Path, table: pa.Table) -> None:
        part.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._tmp_dir() / f"{key}--{uuid.uuid4().hex}.partial"
        with atomic_path(part, tmp=tmp) as path:
            # units and descriptions also as file key-value metadata, for DuckDB and polars
            pq.write_table(
                with_column_metadata(table),
                path,
                compression="zstd",
                row_group_size=rows_per_group(table),
            )

    # -- ids ----------------------------------------------------------------------------------
    def _ids_in(self, name: str, parts: list[Path]) -> frozenset[str]:
        out: set[str] = set()
        for part in parts:
            cache = self._id_cache.setdefault(str(part.parent), {})
            if part.name not in cache:
                try:
                    t = pq.read_table(part, columns=list(get_schema(name).key))
                    cache[part.name] = frozenset(row_keys(t, name).to_pylist())
                except _PART_ERRORS as exc:
                    raise StoreError(f"{part}: unreadable store part ({exc})") from None
            out |= cache[part.name]
        return frozenset(out)

    def ids(self, name: str) -> frozenset[str]:
        """Ids of every stored raw row of a table (cached per part file)."""
        return self._ids_in(name, self.raw_parts(name))

    # -- writing ------------------------------------------------------------------------------
    def _append(
        self, key: str, folder: Path, table: pa.Table, name: str, *, cluster: bool = False
    ) -> int:
        """Add the rows of ``table`` whose key ``folder`` does not hold yet; with ``cluster``,
        sorted by ``source_path`` so that a read of some files' rows (``where`` on
        ``source_path``) decodes only their row groups (see :func:`rows_per_group`)."""
        table = conform(table, name)
        if table.num_rows == 0:
            return 0
        with self._lock(key):
            self._clean_tmp(key, folder)
            stored = self._ids_in(name, self._parts_in(folder))
            ids = row_keys(table, name)
            _, first = _unique_first(ids)
            mask = pc.invert(pc.is_in(ids, value_set=pa.array(sorted(stored), pa.string())))
            new = table.filter(pc.and_(mask, first))
            if new.num_rows == 0:
                return 0
            if cluster and "source_path" in new.column_names:
                new = new.sort_by("source_path")
            new_ids = sorted(row_keys(new, name).to_pylist())
            digest = hashlib.sha256("\n".join(new_ids).encode()).hexdigest()[:32]
            part = folder / f"part-{digest}.parquet"
            self._write_part(key, part, new)
            self._id_cache.setdefault(str(folder), {})[part.name] = frozenset(new_ids)
            return new.num_rows

    def write(self, table: pa.Table, name: str | None = None) -> int:
        """Append the rows of ``table`` not stored yet to a raw table; return how many were added.

        Derived tables belong to a run: write them with ``store.run()`` (see :class:`StoreRun`).
        """
        name = _table_name(table, name)
        if name in _RESERVED or name.startswith((".", "_")):
            raise StoreError(f"{self.root}: {name!r} is reserved by the store, not a table name")
        folder = self._raw_dir(name)
        if folder is None:
            raise StoreError(
                f"{self.root / name}: {name!r} is a derived table written by runs; write it "
                "inside a run (with store.run() as run: run.write(table))"
            )
        return self._append(name, folder, table, name, cluster=True)

    @contextlib.contextmanager
    def run(self, **record: Any) -> Iterator[StoreRun]:
        """A recorded run: derived tables written through it become the default view only when
        the block ends without an exception (one atomic switch of ``latest``).

        ``record`` (campaign.toml hash, parameters, plugin versions...) is stored in
        ``runs/<id>/run.json`` with the run id, times and the tables written. A run that raises
        is recorded as ``failed`` and never becomes the latest; one killed stays ``running``
        in its record and is reported as ``abandoned`` by :meth:`runs`.
        """
        self._clean_abandoned_runs_tmp()
        run = StoreRun(self, _new_run_id(), record)
        with self._lock(f"run-{run.id}") as held:
            assert held
            run._save("running")
            try:
                yield run
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    run.record["error"] = f"{type(exc).__name__}: {exc}"
                    run._save("failed")
                raise
            run.commit()

    def compact(self, name: str) -> None:
        """Merge a raw table's parts into one (migrating older versions).

        A maintenance operation: a reader listing the folder at the very moment of the swap
        can see the merged part beside the old ones, so run it when nobody reads the table.
        """
        folder = self._raw_dir(name)
        if folder is None:
            raise StoreError(f"{self.root / name}: a derived table; runs are written once, "
                             "there is nothing to compact")
        with self._lock(name):
            old = self._parts_in(folder)
            if len(old) <= 1 and not self._needs_migration(old):
                return
            table = self._read(name, old)
            ids = sorted(row_keys(table, name).to_pylist())
            digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:32]
            part = folder / f"part-{digest}.parquet"
            self._write_part(name, part, table)
            for p in old:
                if p != part:
                    p.unlink()
            self._id_cache.pop(str(folder), None)

    # -- runs ---------------------------------------------------------------------------------
    def latest_run(self) -> str | None:
        """Id of the last committed run (None before the first)."""
        link = self.root / LATEST
        try:
            target = os.readlink(link)
        except (FileNotFoundError, OSError):
            return None
        return Path(target).name

    def _check_run(self, run_id: str) -> str:
        if not run_id or "/" in run_id or "\\" in run_id or run_id.startswith("."):
            raise StoreError(f"{self.root}: {run_id!r} is not a run id")
        if not (self.root / RUNS / run_id / RECORD).is_file():
            known = ", ".join(r["run_id"] for r in self.runs()[-5:]) or "none"
            raise StoreError(f"{self.root}: no run {run_id!r} (latest runs: {known})")
        return run_id

    def run_record(self, run_id: str | None = None) -> dict[str, Any]:
        """The record of run ``run_id`` (default: the latest), with its ``status``."""
        run_id = run_id or self.latest_run()
        if run_id is None:
            raise StoreError(f"{self.root}: no run recorded yet")
        path = self._run_dir(self._check_run(run_id)) / RECORD
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path}: unreadable run record ({exc})") from None
        if record.get("status") == "running":
            with self._lock(f"run-{run_id}", wait=False) as free:
                if free:
                    record["status"] = "abandoned"  # its process died before the commit
        return record

    def runs(self) -> list[dict[str, Any]]:
        """Records of every run, oldest first (``status``: committed, running, failed or
        abandoned; ``latest``: whether it is the default view)."""
        folder = self.root / RUNS
        if not folder.is_dir():
            return []
        latest = self.latest_run()
        out = []
        for d in sorted(folder.iterdir()):
            if (d / RECORD).is_file():
                rec = self.run_record(d.name)
                rec["latest"] = d.name == latest
                out.append(rec)
        return out

    def _linked(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_symlink() and p.name != LATEST)

    def _switch_latest(self, run_id: str, names: list[str]) -> None:
        _replace_link(self.root / LATEST, f"{RUNS}/{run_id}", self._tmp_dir())
        for name in names:  # derived tables at <store>/<table>, through `latest`
            path = self.root / name
            if not path.exists() and not path.is_symlink():
                _replace_link(path, f"{LATEST}/{name}", self._tmp_dir())

    # -- reading ------------------------------------------------------------------------------
    def raw_tables(self) -> list[str]:
        """Names of the raw (append-only) tables holding parts."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.name not in _RESERVED
            and not p.name.startswith((".", "_"))
            and not p.is_symlink()
            and self.raw_parts(p.name)
        )

    def tables(self, run: str | None = None) -> list[str]:
        """Names of the tables holding parts: raw tables and the latest run's (or ``run``'s)."""
        if not self.root.is_dir():
            return []
        names: set[str] = set()
        if run is None:
            names = set(self.raw_tables())
            run = self.latest_run()
        if run is not None:
            d = self._run_dir(run)
            if d.is_dir():
                names |= {p.name for p in d.iterdir() if p.is_dir() and self._parts_in(p)}
        return sorted(names)

    def _needs_migration(self, parts: list[Path]) -> bool:
        for p in parts:
            found = identify(_read_schema(p))
            if found is not None and found[1] != get_schema(found[0]).version:
                return True
        return False

    def _read(
        self,
        name: str,
        parts: list[Path],
        where: ds.Expression | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        tables = [_read_part(p, name, where, columns) for p in parts]
        if not tables:
            return empty(name) if columns is None else _pruned(empty(name), columns, name)
        try:
            table = pa.concat_tables(tables, promote_options="default")  # extra columns differ
        except pa.ArrowException as exc:
            raise StoreError(f"{parts[0].parent}: parts do not combine ({exc})") from None
        _, first = _unique_first(row_keys(table, name))
        return table.filter(first)

    def table(
        self,
        name: str,
        columns: list[str] | None = None,
        *,
        run: str | None = None,
        where: ds.Expression | None = None,
        raw: bool = False,
    ) -> pa.Table:
        """A whole table: raw rows and the latest run's rows, or only run ``run``'s, or only the
        raw rows (``raw``) (older schema versions migrated, duplicates dropped). ``where`` (a
        ``pyarrow.compute``
        expression, e.g. ``pc.field("cell") == "N1"``) keeps only matching rows, part by part,
        so that only those are ever in memory; ``columns`` are the only ones read from parts
        of the current schema version (a table's arrays stay on disk)."""
        if name not in schema_names():
            raise StoreError(f"{self.root}: unknown table {name!r}")
        if raw and run is not None:
            raise StoreError(f"{self.root}: table({name!r}): raw= and run= exclude each other")
        parts = self.raw_parts(name) if raw else self.parts(name, run=run)
        table = self._read(name, parts, where, columns or None)
        if columns:
            missing = [c for c in columns if c not in table.column_names]
            if missing:
                raise StoreError(f"{self.root}: table {name!r} has no column(s) {missing}")
            table = table.select(columns)
        return table

    def raw_columns(self, name: str, columns: list[str]) -> pa.Table:
        """Only ``columns`` of every raw row of ``name``, read part by part without the other
        columns (an index of a large table: ids and paths, never its arrays)."""
        out = []
        for part in self.raw_parts(name):
            try:
                out.append(pq.read_table(part, columns=columns))
            except _PART_ERRORS as exc:
                raise StoreError(f"{part}: unreadable store part ({exc})") from None
        if not out:
            return get_schema(name).arrow.empty_table().select(columns)
        return pa.concat_tables(out, promote_options="default")

    def chunks(
        self,
        name: str,
        *,
        run: str | None = None,
        where: ds.Expression | None = None,
        chunk_bytes: int = 64 * 1024 * 1024,
    ) -> Iterator[pa.Table]:
        """The rows of a table (or of run ``run``) that ``where`` keeps, part by part, about
        ``chunk_bytes`` at a time (row groups the filter excludes by their statistics are never
        decoded): copy or scan a large table without holding it. Rows come as stored (not
        migrated or deduplicated across parts: a run's sealed table holds each row once)."""
        for part in self.parts(name, run=run):
            held: list[pa.RecordBatch] = []
            size = 0
            try:
                for batch in ds.dataset(str(part), format="parquet").to_batches(filter=where):
                    if batch.num_rows:
                        held.append(batch)
                        size += batch.nbytes
                    if size >= chunk_bytes:
                        yield pa.Table.from_batches(held)
                        held, size = [], 0
            except _PART_ERRORS as exc:
                raise StoreError(f"{part}: unreadable store part ({exc})") from None
            if held:
                yield pa.Table.from_batches(held)

    def column_names(self, name: str, *, run: str | None = None, raw: bool = False) -> list[str]:
        """The columns of a table's parts (``raw``: its raw parts only), in order of first
        appearance, from the part footers alone: choose ``columns`` for :meth:`table`."""
        parts = self.raw_parts(name) if raw else self.parts(name, run=run)
        return _column_names(parts) or get_schema(name).arrow.names

    def dataset(self, name: str, *, run: str | None = None) -> ds.Dataset:
        """A lazy ``pyarrow.dataset`` over the table's parts (all must be the current version;
        run :meth:`compact` to migrate older parts). Every part's footer and schema is checked
        here; a part whose data pages are damaged fails later, when it is scanned."""
        parts = self.parts(name, run=run)
        schema = get_schema(name)
        for p in parts:
            found = identify(_read_schema(p))
            if found is not None and found[1] != schema.version:
                raise StoreError(
                    f"{p}: holds an older schema version; "
                    f"call Store.compact({name!r}) to migrate the table"
                )
            _check_fields(p, _read_schema(p), name)
        return ds.dataset([str(p) for p in parts], schema=schema.arrow, format="parquet")

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"


class StoreRun:
    """One recorded run of a store (from :meth:`Store.run`).

    Offers the store's reading and writing calls, scoped to the run: :meth:`write` adds to this
    run's derived tables, :meth:`table` returns the raw rows plus this run's rows (never those of
    an older run), so a campaign plugin given a run instead of the store needs no change.
    """

    def __init__(self, store: Store, run_id: str, record: Mapping[str, Any]) -> None:
        self.store = store
        self.id = run_id
        self.previous = store.latest_run()
        self.record: dict[str, Any] = {
            "run_id": run_id,
            "started_utc": _now(),
            "previous_run": self.previous,
            "hydrofw_version": _hydrofw_version(),
            "python": platform.python_version(),
            "platform": sys.platform,
            **dict(record),
        }
        self._written: dict[str, int] = {}

    @property
    def root(self) -> Path:
        return self.store.root

    @property
    def path(self) -> Path:
        """The run's folder (``<store>/runs/<id>``)."""
        return self.store._run_dir(self.id)

    def note(self, **items: Any) -> None:
        """Add entries to the run's record (parameters, what was reused...)."""
        self.record.update(items)
        self._save("running")

    def write(self, table: pa.Table, name: str | None = None) -> int:
        """Add ``table``'s rows to this run's table ``name`` (idempotent within the run)."""
        name = _table_name(table, name)
        if name in _RESERVED or name.startswith((".", "_")):
            raise StoreError(f"{self.root}: {name!r} is reserved by the store, not a table name")
        n = self.store._append(f"run-{self.id}-{name}", self.path / name, table, name)
        self._written[name] = self._written.get(name, 0) + n
        return n

    def tables(self) -> list[str]:
        """Raw tables and the tables this run wrote."""
        return sorted(set(self.store.raw_tables()) | set(self.store.tables(run=self.id)))

    def table(
        self,
        name: str,
        columns: list[str] | None = None,
        *,
        run: str | None = None,
        where: ds.Expression | None = None,
        raw: bool = False,
    ) -> pa.Table:
        """Raw rows of ``name`` and the rows this run wrote; with ``run``, only the rows of that
        (earlier) run, with ``raw`` only the raw rows, as :meth:`Store.table`. ``where`` filters
        part by part."""
        if run is not None or raw:
            return self.store.table(name, columns, run=run, where=where, raw=raw)
        if name not in schema_names():
            raise StoreError(f"{self.root}: unknown table {name!r}")
        parts = self.store.raw_parts(name) + self.store._parts_in(self.path / name)
        table = self.store._read(name, parts, where, columns or None)
        return table.select(columns) if columns else table

    def raw_columns(self, name: str, columns: list[str]) -> pa.Table:
        """See :meth:`Store.raw_columns`."""
        return self.store.raw_columns(name, columns)

    def column_names(self, name: str, *, raw: bool = False) -> list[str]:
        """See :meth:`Store.column_names` (the raw parts and this run's)."""
        parts = self.store.raw_parts(name)
        if not raw:
            parts += self.store._parts_in(self.path / name)
        return _column_names(parts) or get_schema(name).arrow.names

    def previous_record(self) -> dict[str, Any] | None:
        """The record of the run this one follows (the latest committed one when it started),
        None for a store's first run."""
        return self.store.run_record(self.previous) if self.previous else None

    def ids(self, name: str) -> frozenset[str]:
        return self.store.ids(name)

    def _save(self, status: str) -> None:
        self.record["status"] = status
        self.record["tables"] = dict(sorted(self._written.items()))
        path = self.path / RECORD
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.record, indent=2, sort_keys=True, default=str)
        tmp = self.store._tmp_dir() / f"run-{self.id}--{uuid.uuid4().hex}.partial"
        with atomic_path(path, tmp=tmp) as p:
            p.write_text(text)

    def seal(self) -> None:
        """Merge this run's parts of every table written so far into one part each (row groups
        by write, so a read of one cell's rows still skips the others'): call it when a run's
        many small writes are done and it reads its own tables back. Commit seals again."""
        for name in sorted(self._written):
            self._seal(name)

    def commit(self) -> None:
        """Make this run the default view (called by :meth:`Store.run` at the end)."""
        # Tables the store shows that this run did not produce get an empty part, so that
        # <store>/<table> never points at nothing and no older result stays visible.
        shown = set(self.store._linked())
        if self.previous:
            shown |= set(self.store.tables(run=self.previous))
        for name in sorted(shown - set(self._written)):
            schema = _empty_schema(self.store, name, self.previous)
            if schema is not None:
                part = self.path / name / SEALED
                self.store._write_part(f"run-{self.id}-{name}", part, schema.empty_table())
                self._written.setdefault(name, 0)
        for name in sorted(self._written):
            self._seal(name)
        self.record["committed_utc"] = _now()
        self._save("committed")
        self.store._switch_latest(self.id, sorted(self._written))

    def _seal(self, name: str) -> None:
        """Merge the run's parts of ``name`` into the one file ``part-0.parquet``.

        Every run names its only part of a table alike, so a glob reader that lists
        ``<store>/<table>/*.parquet`` just before ``latest`` switches and opens the file just
        after opens the new run's file: one whole run either way, never a missing file. The
        parts are streamed (one in memory at a time)."""
        folder = self.path / name
        parts = self.store._parts_in(folder)
        target = folder / SEALED
        if parts == [target]:
            return
        self.store._id_cache.pop(str(folder), None)  # the part names change
        if len(parts) == 1:
            os.replace(parts[0], target)
            return
        schemas = [_read_schema(p) for p in parts]
        try:
            schema = pa.unify_schemas(schemas, promote_options="default")
        except pa.ArrowException as exc:
            raise StoreError(f"{folder}: parts of this run do not combine ({exc})") from None
        schema = with_column_metadata(
            schema.with_metadata(schemas[0].metadata or {}).empty_table()
        ).schema
        key = f"run-{self.id}-{name}"
        tmp = self.store._tmp_dir() / f"{key}--{uuid.uuid4().hex}.partial"
        with atomic_path(target, tmp=tmp) as path, pq.ParquetWriter(
            path, schema, compression="zstd"
        ) as writer:
            for p in parts:
                t = pq.read_table(p)
                cols = [
                    t.column(f.name).cast(f.type) if f.name in t.column_names
                    else pa.nulls(t.num_rows, f.type)
                    for f in schema
                ]
                t = pa.Table.from_arrays(cols, schema=schema)
                writer.write_table(t, row_group_size=rows_per_group(t))
        for p in parts:
            if p != target:
                p.unlink()

    def __repr__(self) -> str:
        return f"StoreRun({str(self.root)!r}, {self.id!r})"


# ---------------------------------------------------------------------------- helpers
def _table_name(table: pa.Table, name: str | None) -> str:
    found = identify(table)
    name = name or (found[0] if found else None)
    if name is None:
        raise SchemaError("store.write(): table has no hydrofw.schema metadata; name it")
    return name


def _read_schema(part: Path) -> pa.Schema:
    try:
        return pq.read_schema(part)
    except _PART_ERRORS as exc:
        raise StoreError(f"{part}: unreadable store part ({exc})") from None


def _column_names(parts: list[Path]) -> list[str]:
    return list(dict.fromkeys(n for p in parts for n in _read_schema(p).names))


def _check_fields(part: Path, schema: pa.Schema, name: str) -> None:
    for fd in get_schema(name).fields:
        if fd.name not in schema.names:
            if not fd.nullable:
                raise StoreError(f"{part}: incomplete store part: required column {fd.name!r} "
                                 "is missing")
            continue
        found = schema.field(fd.name).type
        if not found.equals(fd.type):
            raise StoreError(
                f"{part}: store part column {fd.name!r} has type {found}, expected {fd.type}"
            )


def _read_part(
    part: Path, name: str, where: ds.Expression | None = None, columns: list[str] | None = None
) -> pa.Table:
    """One part (its rows matching ``where``), migrated and conformed; any failure is a
    StoreError naming the part. With ``columns``, a part of the current schema version is read
    with those columns and the key only (their types checked, missing nullable ones as nulls);
    an older part is read whole, migrated, then cut to them."""
    if columns is not None:
        schema = _read_schema(part)
        found = identify(schema)
        if found is not None and found == (name, get_schema(name).version):
            _check_fields(part, schema, name)
            keep = [c for c in dict.fromkeys([*get_schema(name).key, *columns])
                    if c in schema.names]
            try:
                t = pq.read_table(part, columns=keep, filters=where)
            except _PART_ERRORS as exc:
                raise StoreError(f"{part}: unreadable store part ({exc})") from None
            return _pruned(t, columns, name)
        return _pruned(_read_part(part, name, where), columns, name)
    try:
        t = pq.read_table(part, filters=where)
    except _PART_ERRORS as exc:
        raise StoreError(f"{part}: unreadable store part ({exc})") from None
    try:
        return conform(upgrade(t, str(part)), name, where=str(part))
    except SchemaVersionError:
        raise  # a part of a newer hydrofw: the message says to upgrade
    except SchemaError as exc:
        raise StoreError(f"{part}: incomplete store part ({exc})") from None
    except HydrofwError:
        raise
    except _PART_ERRORS as exc:  # a migration meeting a part that lacks a field
        raise StoreError(
            f"{part}: incomplete store part: cannot migrate it ({type(exc).__name__}: {exc})"
        ) from None


#: aimed size of a Parquet row group (bytes in memory): small enough that a filtered read of a
#: few datasets' rows skips most of a large part, large enough that row-group overhead is small
ROW_GROUP_BYTES = 4 * 1024 * 1024


def rows_per_group(table: pa.Table) -> int:
    """Rows per Parquet row group for ``table``: about :data:`ROW_GROUP_BYTES` each (at least
    one row). Row groups carry min/max statistics per column, which ``where`` filters use to
    skip the groups that hold no wanted row."""
    if table.num_rows == 0:
        return 1
    per_row = max(1, table.nbytes // table.num_rows)
    return max(1, min(table.num_rows, ROW_GROUP_BYTES // per_row))


def _pruned(table: pa.Table, columns: list[str], name: str) -> pa.Table:
    """``table`` cut to the key and ``columns`` (a nullable schema column it lacks as nulls; a
    column neither in it nor in the schema is left out, for the caller to report)."""
    fields = {fd.name: fd for fd in get_schema(name).fields}
    for c in columns:
        if c not in table.column_names and c in fields and fields[c].nullable:
            table = table.append_column(pa.field(c, fields[c].type), pa.nulls(table.num_rows,
                                                                            fields[c].type))
    keep = [c for c in dict.fromkeys([*get_schema(name).key, *columns]) if c in table.column_names]
    return table.select(keep)


def _empty_schema(store: Store, name: str, previous: str | None) -> pa.Schema | None:
    if name in schema_names():
        return get_schema(name).arrow
    parts = store._parts_in(store._run_dir(previous, name)) if previous else []
    return _read_schema(parts[0]) if parts else None


def _replace_link(path: Path, target: str, tmp_dir: Path) -> None:
    """Point the symlink ``path`` at ``target`` in one rename (readers see old or new)."""
    tmp = tmp_dir / f"link--{uuid.uuid4().hex}"
    try:
        os.symlink(target, tmp, target_is_directory=True)
    except OSError as exc:  # pragma: no cover - file systems without symlinks
        raise StoreError(f"{path}: the store needs symbolic links ({exc})") from None
    os.replace(tmp, path)


def _new_run_id() -> str:
    """Sortable by time: ``YYYYMMDDTHHMMSSffffffZ-<8 hex>``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _hydrofw_version() -> str:
    from . import __version__

    return __version__


def row_keys(table: pa.Table, name: str) -> pa.Array:
    """The key of every row (the ``id`` column, or the schema's key columns joined)."""
    key = get_schema(name).key
    if len(key) == 1:
        col = table.column(key[0])
        return col.combine_chunks().cast(pa.string())
    parts = [pc.fill_null(table.column(k).cast(pa.string()), "\x00") for k in key]
    return pc.binary_join_element_wise(*parts, "\x1f").combine_chunks()


def _unique_first(ids: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, pa.Array]:
    """(unique ids, boolean mask of the first occurrence of each id)."""
    arr = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    enc = pc.dictionary_encode(arr)
    codes = enc.indices.to_numpy(zero_copy_only=False)
    _, first_idx = np.unique(codes, return_index=True)
    mask = np.zeros(len(codes), dtype=bool)
    mask[first_idx] = True
    return enc.dictionary, pa.array(mask)


def open_store(root: str | os.PathLike[str], *, create: bool = True) -> Store:
    """Open (or create) the store at ``root``."""
    path = Path(root)
    if path.exists() and not path.is_dir():
        raise StoreError(f"{path}: is a file, not a store folder")
    if not path.exists():
        if not create:
            raise StoreError(f"{path}: no such store")
        path.mkdir(parents=True)
    return Store(path)
