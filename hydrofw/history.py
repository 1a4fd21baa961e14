"""Appending processing steps to the ``history`` column, vectorised over all rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["append_history"]


def append_history(
    table: pa.Table, step: str, plugin: str, version: str, params_json: str
) -> pa.Table:
    """Return ``table`` with one ``{step, plugin, version, params_json}`` entry appended to the
    ``history`` list of every row (no per-row Python loop)."""
    idx = table.column_names.index("history")
    field = table.schema.field(idx)
    hist = table.column(idx).combine_chunks()
    if isinstance(hist, pa.ChunkedArray):  # empty table
        hist = pa.concat_arrays(hist.chunks) if hist.num_chunks else pa.array([], field.type)
    n = len(hist)
    struct_type = field.type.value_type
    entry = pa.array(
        [{"step": step, "plugin": plugin, "version": version, "params_json": params_json}],
        type=struct_type,
    )
    old_offsets = hist.offsets.to_numpy().astype(np.int64)
    old_values = hist.values.slice(old_offsets[0], old_offsets[-1] - old_offsets[0])
    old_offsets = old_offsets - old_offsets[0]
    old_total = int(old_offsets[-1])
    new_offsets = old_offsets + np.arange(n + 1, dtype=np.int64)
    appended = new_offsets[1:] - 1
    take = np.empty(old_total + n, dtype=np.int64)
    keep = np.ones(old_total + n, dtype=bool)
    keep[appended] = False
    take[keep] = np.arange(old_total)
    take[appended] = old_total + np.arange(n)
    values = pa.concat_arrays([old_values, pa.repeat(entry[0], n).cast(struct_type)])
    values = values.take(pa.array(take))
    new = pa.ListArray.from_arrays(pa.array(new_offsets.astype(np.int32)), values)
    return table.set_column(idx, field, new.cast(field.type))
