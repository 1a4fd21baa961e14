"""The Parquet store: one folder per table, immutable part files, idempotent by row key.

Layout: ``<store>/<table>/part-<hash>.parquet``. Each write takes a per-table lock, drops rows
whose key is already stored, and writes the rest as a new part atomically (temp file, fsync,
rename). The row key is ``id`` (a content hash) or the schema's ``key`` columns (campaign and
cell for the cell table); the first row written with a key is kept. A writer killed at any
moment leaves only a hidden temp file, which readers ignore and the next writer removes; two
processes writing at once both keep their rows. The folder is readable as it is by
``pyarrow.dataset``, DuckDB (``read_parquet('<store>/<table>/*.parquet')``), polars and Spark.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .atomic import TMP_PREFIX, atomic_path
from .errors import SchemaError, StoreError
from .schema import conform, empty, get_schema, identify, schema_names, upgrade

try:  # POSIX advisory locks; Windows falls back to an exclusive lock file
    import fcntl
except ImportError:  # pragma: no cover - exercised on Windows only
    fcntl = None  # type: ignore[assignment]

__all__ = ["Store", "open_store"]


class Store:
    """A folder of Parquet tables. Create with :func:`open_store`."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._id_cache: dict[str, dict[str, frozenset[str]]] = {}

    # -- paths and locks ----------------------------------------------------------------------
    def _dir(self, name: str) -> Path:
        return self.root / name

    def parts(self, name: str) -> list[Path]:
        """Part files of a table, oldest name first (hidden temp files excluded)."""
        d = self._dir(name)
        if not d.is_dir():
            return []
        return sorted(p for p in d.glob("*.parquet") if not p.name.startswith((".", "_")))

    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        d = self._dir(name)
        d.mkdir(parents=True, exist_ok=True)
        lock_path = d / ".lock"
        if fcntl is not None:
            with open(lock_path, "a+b") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            return
        deadline = time.monotonic() + 60.0  # pragma: no cover - Windows
        while True:  # pragma: no cover
            try:
                fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                break
            except FileExistsError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"{lock_path}: store table is locked by another writer"
                    ) from None
                time.sleep(0.05)
        try:  # pragma: no cover
            yield
        finally:  # pragma: no cover
            os.close(fd)
            os.unlink(lock_path)

    def _clean_tmp(self, name: str) -> None:
        """Remove temp files of writers that died (called with the table lock held, when no
        other writer of this table can be active)."""
        for p in self._dir(name).glob(f"{TMP_PREFIX}*"):
            with contextlib.suppress(OSError):
                p.unlink()

    # -- ids ----------------------------------------------------------------------------------
    def ids(self, name: str) -> frozenset[str]:
        """Ids of every stored row of a table (cached per part file)."""
        cache = self._id_cache.setdefault(name, {})
        out: set[str] = set()
        for part in self.parts(name):
            key = part.name
            if key not in cache:
                try:
                    keys = row_keys(pq.read_table(part, columns=list(get_schema(name).key)), name)
                except (OSError, pa.ArrowInvalid) as exc:
                    raise StoreError(f"{part}: unreadable store part ({exc})") from None
                cache[key] = frozenset(keys.to_pylist())
            out |= cache[key]
        return frozenset(out)

    # -- writing ------------------------------------------------------------------------------
    def write(self, table: pa.Table, name: str | None = None) -> int:
        """Add the rows of ``table`` that are not stored yet; return how many were added."""
        found = identify(table)
        name = name or (found[0] if found else None)
        if name is None:
            raise SchemaError("store.write(): table has no hydrofw.schema metadata; name it")
        table = conform(table, name)
        if table.num_rows == 0:
            return 0
        with self._lock(name):
            self._clean_tmp(name)
            stored = self.ids(name)
            ids = row_keys(table, name)
            _, first = _unique_first(ids)
            mask = pc.invert(pc.is_in(ids, value_set=pa.array(sorted(stored), pa.string())))
            keep = pc.and_(mask, first)
            new = table.filter(keep)
            if new.num_rows == 0:
                return 0
            new_ids = sorted(row_keys(new, name).to_pylist())
            digest = hashlib.sha256("\n".join(new_ids).encode()).hexdigest()[:32]
            part = self._dir(name) / f"part-{digest}.parquet"
            with atomic_path(part) as tmp:
                pq.write_table(new, tmp, compression="zstd")
            self._id_cache.setdefault(name, {})[part.name] = frozenset(new_ids)
            return new.num_rows

    def compact(self, name: str) -> None:
        """Merge a table's parts into one (migrating older versions); readers stay consistent."""
        with self._lock(name):
            old = self.parts(name)
            if len(old) <= 1 and not self._needs_migration(old):
                return
            table = self._read(name, old)
            ids = sorted(row_keys(table, name).to_pylist())
            digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:32]
            part = self._dir(name) / f"part-{digest}.parquet"
            with atomic_path(part) as tmp:
                pq.write_table(table, tmp, compression="zstd")
            for p in old:
                if p != part:
                    p.unlink()
            self._id_cache.pop(name, None)

    # -- reading ------------------------------------------------------------------------------
    def tables(self) -> list[str]:
        """Names of the tables that hold at least one part."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and self.parts(p.name))

    def _needs_migration(self, parts: list[Path]) -> bool:
        for p in parts:
            found = identify(pq.read_schema(p))
            if found is not None and found[1] != get_schema(found[0]).version:
                return True
        return False

    def _read(self, name: str, parts: list[Path]) -> pa.Table:
        tables = []
        for p in parts:
            try:
                t = pq.read_table(p)
            except (OSError, pa.ArrowInvalid) as exc:
                raise StoreError(f"{p}: unreadable store part ({exc})") from None
            tables.append(conform(upgrade(t, str(p)), name, where=str(p)))
        if not tables:
            return empty(name)
        table = pa.concat_tables(tables, promote_options="default")  # extra columns differ
        _, first = _unique_first(row_keys(table, name))
        return table.filter(first)

    def table(self, name: str, columns: list[str] | None = None) -> pa.Table:
        """The whole table (older schema versions migrated, duplicates dropped)."""
        if name not in schema_names():
            raise StoreError(f"{self.root}: unknown table {name!r}")
        table = self._read(name, self.parts(name))
        return table.select(columns) if columns else table

    def dataset(self, name: str) -> ds.Dataset:
        """A lazy ``pyarrow.dataset`` over the table's parts (all must be the current version;
        run :meth:`compact` to migrate older parts)."""
        parts = self.parts(name)
        if self._needs_migration(parts):
            raise StoreError(
                f"{self._dir(name)}: holds parts of an older schema version; "
                f"call Store.compact({name!r}) to migrate them"
            )
        schema = get_schema(name).arrow
        return ds.dataset([str(p) for p in parts], schema=schema, format="parquet")

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"


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
