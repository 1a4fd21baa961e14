"""Exporters that ship with the core, registered through the same hooks as any plugin."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from .atomic import atomic_path
from .csdm import export_csdm
from .csvexport import export_csv
from .errors import ExportError
from .hookspec import hookimpl
from .parquetmeta import with_column_metadata
from .registry import Exporter


def export_parquet(
    table: pa.Table,
    destination: str | os.PathLike[str],
    *,
    compression: str = "zstd",
    row_group_size: int | None = None,
) -> None:
    """Parquet with the schema metadata (``hydrofw.schema``) and every column's unit and
    description (Arrow field metadata, and ``hydrofw.unit.<column>`` file key-value metadata
    for readers without Arrow: DuckDB, polars, Spark)."""
    with atomic_path(destination) as tmp:
        pq.write_table(
            with_column_metadata(table), tmp, compression=compression,
            row_group_size=row_group_size,
        )


def export_arrow(table: pa.Table, destination: str | os.PathLike[str]) -> None:
    """Arrow IPC file format (Feather v2), schema and field metadata included."""
    with atomic_path(destination) as tmp, ipc.new_file(str(tmp), table.schema) as writer:
        writer.write_table(table)


_EXPORTERS: list[tuple[str, Callable[..., None], tuple[str, ...], tuple[str, ...], str]] = [
    ("parquet", export_parquet, (".parquet", ".pq"), ("*",), "Apache Parquet (zstd), any table"),
    ("arrow", export_arrow, (".arrow", ".feather", ".ipc"), ("*",), "Arrow IPC file, any table"),
    (
        "csv",
        export_csv,
        (".csv",),
        ("*",),
        "CSV, any table; array columns in long form in <name>.arrays.csv",
    ),
    (
        "csdm",
        export_csdm,
        (".csdf",),
        ("spectrum",),
        "CSDM (csdmpy, mrsimulator), spectra; one .csdf per row",
    ),
]


@hookimpl
def hydrofw_register_exporters(register: Callable[[Exporter], None]) -> None:
    for name, fn, ext, tables, desc in _EXPORTERS:
        register(Exporter(name=name, export=fn, extensions=ext, tables=tables, description=desc))


def exporter_for_path(path: str | os.PathLike[str], *, strict: bool = False) -> str | None:
    """Name of the exporter (built-in or a plugin's) whose extensions match ``path``; None, or
    with ``strict`` an :class:`ExportError` listing the known extensions, when none does."""
    from .registry import get_registry

    suffix = Path(path).suffix.lower()
    known: dict[str, str] = {}
    for name, _fn, ext, _tables, _desc in _EXPORTERS:
        known.update(dict.fromkeys(ext, name))
    for name, exporter in sorted(get_registry().exporters.items()):
        for e in exporter.extensions:
            known.setdefault(e.lower() if e.startswith(".") else f".{e.lower()}", name)
    if suffix in known:
        return known[suffix]
    if strict:
        listing = ", ".join(f"{e} ({n})" for e, n in sorted(known.items()))
        raise ExportError(
            f"{path}: unknown output extension {suffix or '(none)'!r}; known: {listing} "
            "(or name an exporter with --exporter)"
        )
    return None
