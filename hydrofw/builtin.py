"""Exporters that ship with the core, registered through the same hooks as any plugin."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from .atomic import atomic_path
from .errors import ExportError
from .hookspec import hookimpl
from .registry import Exporter
from .schema import identify


def export_parquet(
    table: pa.Table,
    destination: str | os.PathLike[str],
    *,
    compression: str = "zstd",
    row_group_size: int | None = None,
) -> None:
    """Parquet with the schema metadata (``hydrofw.schema``), readable by DuckDB, polars, Spark."""
    with atomic_path(destination) as tmp:
        pq.write_table(table, tmp, compression=compression, row_group_size=row_group_size)


def export_arrow(table: pa.Table, destination: str | os.PathLike[str]) -> None:
    """Arrow IPC file format (Feather v2), schema metadata included."""
    with atomic_path(destination) as tmp, ipc.new_file(str(tmp), table.schema) as writer:
        writer.write_table(table)


def export_csv(table: pa.Table, destination: str | os.PathLike[str]) -> None:
    """CSV of a table of scalar columns (result tables). Array columns are refused."""
    nested = [f.name for f in table.schema if _is_array(f.type)]
    if nested:
        name = (identify(table) or ("table", 0))[0]
        raise ExportError(
            f"{destination}: CSV holds scalar columns only; table {name!r} has array or map "
            f"columns {', '.join(nested)} (export it as parquet or arrow)"
        )
    flat = table.select(
        [f.name for f in table.schema if not pa.types.is_list(f.type)]
    ).combine_chunks()
    lists = [f.name for f in table.schema if pa.types.is_list(f.type)]
    for name in lists:  # list<string> (ids, flags): joined with ';'
        joined = pa.array([";".join(v or []) for v in table.column(name).to_pylist()])
        flat = flat.append_column(name, joined)
    with atomic_path(destination) as tmp:
        pacsv.write_csv(flat, tmp)


def _is_array(t: pa.DataType) -> bool:
    if pa.types.is_map(t) or pa.types.is_struct(t):
        return True
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return not pa.types.is_string(t.value_type)
    return False


_EXPORTERS: list[tuple[str, Callable[..., None], tuple[str, ...], str]] = [
    ("parquet", export_parquet, (".parquet", ".pq"), "Apache Parquet (zstd), any table"),
    ("arrow", export_arrow, (".arrow", ".feather", ".ipc"), "Arrow IPC file, any table"),
    ("csv", export_csv, (".csv",), "CSV, tables of scalar columns (results)"),
]


@hookimpl
def hydrofw_register_exporters(register: Callable[[Exporter], None]) -> None:
    for name, fn, ext, desc in _EXPORTERS:
        register(Exporter(name=name, export=fn, extensions=ext, description=desc))


def exporter_for_path(path: str | os.PathLike[str]) -> str | None:
    """Name of the built-in exporter matching a file extension, or None."""
    suffix = Path(path).suffix.lower()
    for name, _fn, ext, _desc in _EXPORTERS:
        if suffix in ext:
            return name
    return None
