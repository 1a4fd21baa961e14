"""The library API: ``read``, ``process``, ``export`` (re-exported at the top level)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pyarrow as pa

from .errors import (
    ExportError,
    FormatError,
    HydrofwError,
    ParameterError,
    ProcessingError,
    UnknownFormatError,
    ValidationError,
)
from .history import append_history
from .ids import derive_ids
from .records import Record, to_table
from .registry import Reader, get_registry
from .schema import conform, empty, identify
from .source import Source, open_source

__all__ = ["read", "read_records", "process", "export", "choose_reader", "params_to_json"]


def choose_reader(source: Source, format: str | None = None) -> Reader:
    """The reader named ``format``, or the most confident sniffer of ``source``."""
    registry = get_registry()
    if format is not None:
        return registry.reader(format)
    ranked = registry.sniff(source)
    if not ranked:
        raise UnknownFormatError(source.path, sorted(registry.readers))
    return ranked[0][1]


def read_records(
    path: str | os.PathLike[str] | Source, format: str | None = None, **options: Any
) -> Iterator[Record]:
    """Stream the records a reader makes of ``path`` (file, folder or zip), hooks applied."""
    source = open_source(path)
    return _records(source, choose_reader(source, format), options)


def _records(source: Source, reader: Reader, options: dict[str, Any]) -> Iterator[Record]:
    """Records of an opened ``source`` by a chosen ``reader``; plugin hooks are isolated
    (:meth:`Registry.apply_record_hooks`), any reader failure becomes a hydrofw error naming
    the reader and its plugin."""
    registry = get_registry()
    where = Path(source.path)
    named = f"reader {reader.name!r}"
    plugin = f" (plugin {reader.plugin!r})"
    try:
        for record in reader.read(source, **options):
            yield registry.apply_record_hooks(record, where, reader.name)
    except HydrofwError:
        raise
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise ParameterError(f"{source.path}: reader {reader.name!r}: {exc}") from None
        raise FormatError(source.path, f"{named} failed: {exc}{plugin}") from exc
    except (OverflowError, pa.ArrowException) as exc:
        raise FormatError(source.path, f"{named}: a value is out of range: {exc}{plugin}") from exc
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # never leak a traceback (or an exit) from inside a parser
        if isinstance(exc, GeneratorExit):
            raise
        raise FormatError(
            source.path, f"{named} failed: {type(exc).__name__}: {exc}{plugin}"
        ) from exc


def read(path: str | os.PathLike[str], format: str | None = None, **options: Any) -> pa.Table:
    """Read raw instrument data into a validated table (``spectrum`` or ``transport``).

    ``format`` names a reader (see ``hydrofw plugins``); when None the format is sniffed.
    Arrayed acquisitions give one row per increment. The source is opened and sniffed once.
    """
    source = open_source(path)
    reader = choose_reader(source, format)
    records = list(_records(source, reader, options))
    if not records:
        return empty(reader.table)
    try:
        return to_table(records)
    except ValidationError as exc:
        raise FormatError(source.path, str(exc)) from None
    except (OverflowError, pa.ArrowException) as exc:
        raise FormatError(source.path, f"a value does not fit its column: {exc}") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if attrs.has(type(value)):
        return attrs.asdict(value)
    return str(value)


def params_to_json(params: Any) -> str:
    """Canonical JSON of a parameter object (stored in ``history``)."""
    data = attrs.asdict(params, recurse=True) if attrs.has(type(params)) else dict(params)
    return json.dumps(data, sort_keys=True, default=_json_default)


def process(name: str, table: pa.Table, **params: Any) -> pa.Table:
    """Run processor ``name`` on a whole table; parameters are validated by its params class.

    The output is validated against the processor's output schema, gets derived stable ids and,
    when it has a ``history`` column, a history step recording ``name`` and the parameters.
    """
    registry = get_registry()
    proc = registry.processor(name)
    try:
        p = proc.params(**params)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"processor {name!r}: {exc}") from None
    table = conform(table, proc.input_table, where=f"input of processor {name!r}")
    if table.num_rows == 0:
        return empty(proc.output_table)
    from .progress import step_progress

    try:
        with step_progress(name, table.num_rows):
            out = proc.process(table, p)
    except HydrofwError:
        raise
    except Exception as exc:
        raise ProcessingError(f"processor {name!r} failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(out, pa.Table):
        raise ProcessingError(f"processor {name!r} returned {type(out).__name__}, not a table")
    out = conform(out, proc.output_table, where=f"output of processor {name!r}")
    info = registry.plugins.get(proc.plugin)
    version = (info.version if info else None) or "unknown"
    params_json = params_to_json(p)
    ids = derive_ids(out.column("id").to_pylist(), name, params_json)
    out = out.set_column(
        out.column_names.index("id"), out.schema.field("id"), pa.array(ids, pa.string())
    )
    if "history" in out.column_names:
        out = append_history(out, name, proc.plugin, version, params_json)
    return out


def export(name: str, table: pa.Table, destination: str | os.PathLike[str], **options: Any) -> None:
    """Write ``table`` to ``destination`` with exporter ``name`` (parquet, arrow, csv, ...)."""
    exporter = get_registry().exporter(name)
    found = identify(table)
    table_name = found[0] if found else None
    if not exporter.accepts(table_name):
        raise ExportError(
            f"{destination}: exporter {name!r} accepts {', '.join(exporter.tables)}, "
            f"not table {table_name!r}"
        )
    if found:
        table = conform(table, found[0])
    try:
        exporter.export(table, destination, **options)
    except HydrofwError:
        raise
    except TypeError as exc:
        raise ParameterError(f"exporter {name!r}: {exc}") from None
    except OSError as exc:
        raise ExportError(f"{destination}: cannot write ({exc.strerror or exc})") from None
