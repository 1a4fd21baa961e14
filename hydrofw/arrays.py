"""Zero-copy bridges between Arrow list columns and numpy arrays, for batch processors.

A column of equal-length ``list<float64>`` rows is viewed as a 2-D array (rows x points)
without copying; a 2-D array becomes a list column the same way. Ragged columns come back as
a list of 1-D views.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from .errors import ValidationError

__all__ = [
    "list_column_to_2d",
    "list_column_to_arrays",
    "to_list_array",
    "complex_2d",
    "equal_lengths",
]


def _single_chunk(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return col


def _offsets_values(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    arr = _single_chunk(col)
    if arr.null_count:
        raise ValidationError("array column holds null rows")
    offsets = arr.offsets.to_numpy()
    values = arr.values.to_numpy(zero_copy_only=False)
    return offsets, values


def equal_lengths(col: pa.ChunkedArray | pa.Array) -> bool:
    """True when every row of a list column has the same length."""
    offsets, _ = _offsets_values(col)
    lengths = np.diff(offsets)
    return bool(lengths.size == 0 or np.all(lengths == lengths[0]))


def list_column_to_2d(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """(rows, points) float view of an equal-length list column (no copy for one chunk)."""
    offsets, values = _offsets_values(col)
    lengths = np.diff(offsets)
    if lengths.size and not np.all(lengths == lengths[0]):
        raise ValidationError("rows differ in length; use list_column_to_arrays")
    n = int(lengths[0]) if lengths.size else 0
    return values[offsets[0] : offsets[0] + n * lengths.size].reshape(lengths.size, n)


def list_column_to_arrays(col: pa.ChunkedArray | pa.Array) -> list[np.ndarray]:
    """One 1-D view per row of a (possibly ragged) list column."""
    offsets, values = _offsets_values(col)
    return [values[offsets[i] : offsets[i + 1]] for i in range(offsets.size - 1)]


def to_list_array(
    data: np.ndarray | list[np.ndarray], type_: pa.DataType | None = None
) -> pa.Array:
    """``list<float64>`` array from a 2-D array (zero copy) or a list of 1-D arrays."""
    type_ = type_ or pa.list_(pa.float64())
    if isinstance(data, np.ndarray) and data.ndim == 2:
        rows, n = data.shape
        flat = np.ascontiguousarray(data, dtype=np.float64).reshape(-1)
        offsets = np.arange(0, rows * n + 1, n if n else 1, dtype=np.int32)[: rows + 1]
        if n == 0:
            offsets = np.zeros(rows + 1, dtype=np.int32)
    else:
        parts = [np.asarray(d, dtype=np.float64).reshape(-1) for d in data]
        lengths = np.array([p.size for p in parts], dtype=np.int64)
        offsets = np.zeros(len(parts) + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.concatenate(parts) if parts else np.empty(0)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, type=type_.value_type))


def complex_2d(table: pa.Table, re: str = "re", im: str = "im") -> np.ndarray:
    """complex128 (rows, points) array from the ``re``/``im`` columns of equal-length rows."""
    return list_column_to_2d(table.column(re)) + 1j * list_column_to_2d(table.column(im))
