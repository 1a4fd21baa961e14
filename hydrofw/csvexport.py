"""CSV export of any table: scalar columns in ``<name>.csv``, array columns in long form.

``<name>.csv`` has one line per row with every scalar column; list-of-string columns (ids,
flags) are joined with ``;``, maps and nested values (``parameters``, ``factors``, ``history``)
are JSON. When the table has numeric array columns (a spectrum's ``re``/``im``, a sweep's
``temperature_k``/``resistance_ohm``, a relaxation curve's ``delay_s``/``amplitude``, Pake
distances), they go to ``<name>.arrays.csv`` in long form: one line per array element with the
row's ``id``, the element ``index``, ``x`` (for spectra: ``x_start + index * x_step``, in
``x_unit``) and one column per array column (empty where a row's array is shorter).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .atomic import atomic_path
from .errors import ExportError

__all__ = ["export_csv", "arrays_path", "numeric_arrays"]


def arrays_path(destination: str | os.PathLike[str]) -> Path:
    """Where the long-form array columns of ``destination`` go (``x.csv`` -> ``x.arrays.csv``)."""
    p = Path(destination)
    return p.with_name(f"{p.stem}.arrays{p.suffix or '.csv'}")


def numeric_arrays(schema: pa.Schema) -> list[str]:
    """Columns that are lists of numbers."""
    out = []
    for f in schema:
        t = f.type
        if (pa.types.is_list(t) or pa.types.is_large_list(t)) and (
            pa.types.is_floating(t.value_type) or pa.types.is_integer(t.value_type)
        ):
            out.append(f.name)
    return out


def _json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list) and value and isinstance(value[0], tuple):  # map as pairs
        value = dict(value)
    return json.dumps(value, sort_keys=True, default=str)


def _scalar_table(table: pa.Table, arrays: list[str]) -> pa.Table:
    cols, names = [], []
    for f in table.schema:
        if f.name in arrays:
            continue
        col = table.column(f.name)
        t = f.type
        if (pa.types.is_list(t) or pa.types.is_large_list(t)) and pa.types.is_string(t.value_type):
            col = pa.array(
                [None if v is None else ";".join(v) for v in col.to_pylist()], pa.string()
            )
        elif pa.types.is_nested(t):
            col = pa.array([_json(v) for v in col.to_pylist()], pa.string())
        cols.append(col)
        names.append(f.name)
    return pa.table(cols, names=names)


def _long_table(table: pa.Table, arrays: list[str]) -> pa.Table:
    lengths = np.zeros(table.num_rows, dtype=np.int64)
    for name in arrays:
        n = pc.fill_null(pc.list_value_length(table.column(name)), 0).to_numpy()
        lengths = np.maximum(lengths, n)
    row = np.repeat(np.arange(table.num_rows), lengths)
    index = np.concatenate([np.arange(n) for n in lengths]) if lengths.size else np.zeros(0, int)
    ids = (
        table.column("id").to_pylist()
        if "id" in table.column_names
        else list(range(table.num_rows))
    )
    out: dict[str, pa.Array] = {
        "id": pa.array([ids[i] for i in row], pa.string() if "id" in table.column_names else None),
        "index": pa.array(index, pa.int64()),
    }
    if {"x_start", "x_step"} <= set(table.column_names):
        start = np.asarray(pc.fill_null(table.column("x_start"), np.nan).to_numpy(), float)
        step = np.asarray(pc.fill_null(table.column("x_step"), np.nan).to_numpy(), float)
        out["x"] = pa.array(start[row] + step[row] * index)
    for name in arrays:
        values = np.full(row.size, np.nan)
        mask = np.ones(row.size, bool)
        pos = 0
        for i, v in enumerate(table.column(name).to_pylist()):
            n = int(lengths[i])
            if v:
                values[pos : pos + len(v)] = np.asarray(v, float)
                mask[pos : pos + len(v)] = False
            pos += n
        out[name] = pa.array(values, mask=mask)
    return pa.table(out)


def export_csv(table: pa.Table, destination: str | os.PathLike[str]) -> None:
    """Any table as CSV (see the module docstring for the two files and their layout)."""
    arrays = numeric_arrays(table.schema)
    for f in table.schema:
        t = f.type
        if (
            (pa.types.is_list(t) or pa.types.is_large_list(t))
            and f.name not in arrays
            and not (pa.types.is_string(t.value_type) or pa.types.is_struct(t.value_type))
        ):
            raise ExportError(
                f"{destination}: column {f.name!r} ({t}) has no CSV form (export it as parquet)"
            )
    table = table.combine_chunks()
    written = []
    try:
        with atomic_path(destination) as tmp:
            pacsv.write_csv(_scalar_table(table, arrays), tmp)
        written.append(Path(destination))
        if arrays:
            with atomic_path(arrays_path(destination)) as tmp:
                pacsv.write_csv(_long_table(table, arrays), tmp)
    except BaseException:
        for p in written:  # never half of an export
            p.unlink(missing_ok=True)
        raise
