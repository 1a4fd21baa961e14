"""Small helpers shared by the physics processors: column access, row labels, day keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from hydrofw.arrays import list_column_to_arrays

__all__ = [
    "values",
    "float_values",
    "arrays",
    "day_key",
    "row_label",
    "group_rows",
    "nearest_index",
    "table_from_rows",
]


def values(table: pa.Table, name: str) -> list[Any]:
    """Column ``name`` as a Python list, or a list of None when the table lacks it."""
    if name in table.column_names:
        return table.column(name).to_pylist()
    return [None] * table.num_rows


def float_values(table: pa.Table, name: str) -> np.ndarray:
    """Float column as a numpy array (NaN for nulls or a missing column)."""
    if name not in table.column_names:
        return np.full(table.num_rows, np.nan)
    col = table.column(name)
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=float)


def arrays(table: pa.Table, name: str) -> list[np.ndarray]:
    """One float64 numpy array per row of a list column (views, no copy)."""
    return [np.asarray(a, dtype=float) for a in list_column_to_arrays(table.column(name))]


def day_key(when: dt.datetime | None) -> str | None:
    """UTC calendar day (ISO date) of a timestamp, the unit of 'same cell, same day' pairing."""
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.date().isoformat()


def row_label(table_name: str, row_id: str | None, cell: str | None, extra: str = "") -> str:
    """Human label of an input row for error messages: table, short id, cell."""
    parts = [f"{table_name} row {str(row_id)[:12] if row_id else '?'}"]
    if cell:
        parts.append(f"cell {cell}")
    if extra:
        parts.append(extra)
    return ", ".join(parts)


def group_rows(keys: Sequence[tuple[Any, ...]]) -> dict[tuple[Any, ...], list[int]]:
    """Row indices per key, keys in order of first appearance."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    return groups


def nearest_index(target: dt.datetime | None, candidates: Sequence[dt.datetime | None]) -> int:
    """Index of the candidate closest in time to ``target`` (the first when times are unknown)."""
    if target is None or any(c is None for c in candidates):
        return 0
    gaps = [abs((c - target).total_seconds()) for c in candidates if c is not None]
    return int(np.argmin(gaps))


def table_from_rows(rows: list[dict[str, Any]], float_maps: Sequence[str] = ()) -> pa.Table:
    """Arrow table of result rows; ``float_maps`` columns hold dicts -> map<string, float64>."""
    maps = {name: [r.pop(name) for r in rows] for name in float_maps}
    table = pa.Table.from_pylist(rows)
    map_type = pa.map_(pa.string(), pa.float64())
    for name, dicts in maps.items():
        column = pa.array([None if d is None else list(d.items()) for d in dicts], map_type)
        table = table.append_column(name, column)
    return table
