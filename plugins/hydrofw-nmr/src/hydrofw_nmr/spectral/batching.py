"""Batch plumbing shared by the spectral processors: row groups, checks, column updates.

Rows that share a shape (and whatever else a processor keys on) are processed together as one
2-D numpy array; results are written back in the input order. Only the number of groups is
looped over in Python, never the rows.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hydrofw.arrays import list_column_to_2d
from hydrofw.errors import ProcessingError

T = TypeVar("T")

__all__ = [
    "Rows",
    "WORKERS",
    "map_blocks",
    "workspace",
    "flag_lists",
    "pooled_empty",
    "axis_in_hz",
    "column_or",
    "row_groups",
    "float_rows",
    "describe_row",
    "check_finite_nonzero",
    "raise_for_bad_rows",
    "reassemble",
    "set_columns",
    "take_rows",
    "require_columns",
    "require_domain",
]


WORKERS = max(1, min(8, os.cpu_count() or 1))


def map_blocks(fn: Callable[[slice], T], n_rows: int, block_rows: int) -> list[T]:
    """``fn(rows)`` for consecutive slices of ``block_rows`` rows, on one thread per core.

    numpy and pocketfft release the GIL in their loops, so independent row blocks run in
    parallel; results come back in row order.
    """
    blocks = [slice(b, min(b + block_rows, n_rows)) for b in range(0, n_rows, block_rows)]
    if len(blocks) <= 1 or WORKERS == 1:
        return [fn(sl) for sl in blocks]
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(fn, blocks))


_WORKSPACE = threading.local()


def workspace(name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """A per-thread reusable array (uninitialised): block kernels call it instead of
    allocating fresh temporaries, which on Linux cost page faults every block. One array is
    kept per name and thread; a new shape or dtype replaces it."""
    arrays: dict[str, np.ndarray] = _WORKSPACE.__dict__.setdefault("arrays", {})
    arr = arrays.get(name)
    if arr is None or arr.shape != shape or arr.dtype != np.dtype(dtype):
        arr = arrays[name] = np.empty(shape, dtype=dtype)
    return arr


def flag_lists(names: Sequence[str], raised: np.ndarray) -> pa.ListArray:
    """``list<string>`` column from a boolean (rows, len(names)) matrix of raised flags."""
    counts = raised.sum(axis=1)
    offsets = np.zeros(raised.shape[0] + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    values = np.asarray(names, dtype=object)[np.nonzero(raised)[1]]
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values.tolist(), pa.string()))


def pooled_empty(rows: int, cols: int) -> np.ndarray:
    """Uninitialised float64 (rows, cols) array in Arrow's memory pool.

    The pool (mimalloc/jemalloc) keeps freed pages, so chunked processing reuses the memory of
    the previous chunk instead of faulting in fresh pages; the array converts to an Arrow list
    column without a copy (:func:`hydrofw.arrays.to_list_array`).
    """
    buffer = pa.allocate_buffer(rows * cols * 8)
    return np.frombuffer(buffer, dtype=np.float64).reshape(rows, cols)


def column_or(table: pa.Table, name: str, default: float) -> np.ndarray:
    """float64 values of column ``name`` with nulls (or a missing column) as ``default``."""
    if name not in table.column_names:
        return np.full(table.num_rows, default, dtype=float)
    col = pc.fill_null(table.column(name).cast(pa.float64()), default)
    return np.array(col.to_numpy(), dtype=float)


def axis_in_hz(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Per-row ``(x_start, x_step)`` in Hz offsets from the carrier; ppm axes are converted with
    the row's ``reference_frequency_hz`` (a :class:`ProcessingError` names a row without one).
    Time-domain rows (unit ``s``) are returned unchanged."""
    start = column_or(table, "x_start", 0.0)
    step = column_or(table, "x_step", 1.0)
    ppm = table.column("x_unit").to_numpy(zero_copy_only=False) == "ppm"
    ref = column_or(table, "reference_frequency_hz", np.nan)
    obs = column_or(table, "observe_frequency_hz", np.nan)
    missing = ppm & np.isnan(ref)
    if missing.any():
        row = describe_row(table, int(np.argmax(missing)))
        raise ProcessingError(f"{row}: ppm axis without reference_frequency_hz")
    return (
        np.where(ppm, ref * (1.0 + start * 1e-6) - obs, start),
        np.where(ppm, step * ref * 1e-6, step),
    )


def describe_row(table: pa.Table, i: int) -> str:
    """Human name of row ``i`` for error messages: its source path (and increment) or id."""

    def get(name: str) -> Any:
        return table.column(name)[i].as_py() if name in table.column_names else None

    where = get("source_path") or f"row id {get('id')}"
    increment = get("increment")
    return f"{where} (increment {increment})" if increment is not None else str(where)


class Rows:
    """A set of row indices of a table with the 2-D float views of two list columns."""

    def __init__(self, table: pa.Table, index: np.ndarray, re: np.ndarray, im: np.ndarray) -> None:
        self.table = table
        self.index = index
        self.re = re
        self.im = im

    @property
    def n_points(self) -> int:
        return int(self.re.shape[1])


def float_rows(table: pa.Table, index: np.ndarray, columns: tuple[str, str] = ("re", "im")) -> Rows:
    """2-D float views (zero copy when ``index`` covers the table in order) of ``columns``."""
    whole = index.size == table.num_rows and np.array_equal(index, np.arange(table.num_rows))
    sub = table if whole else table.take(pa.array(index))
    return Rows(
        table,
        index,
        list_column_to_2d(sub.column(columns[0])),
        list_column_to_2d(sub.column(columns[1])),
    )


def row_groups(table: pa.Table, keys: Sequence[np.ndarray]) -> Iterator[np.ndarray]:
    """Index arrays of the rows sharing the number of points of ``re`` and every key value."""
    lengths = pc.list_value_length(table.column("re")).to_numpy(zero_copy_only=False)
    stacked = np.column_stack([lengths.astype(float), *[np.asarray(k, float) for k in keys]])
    _, inverse = np.unique(stacked, axis=0, return_inverse=True)
    for g in range(int(inverse.max()) + 1 if inverse.size else 0):
        yield np.flatnonzero(inverse.ravel() == g)


def raise_for_bad_rows(table: pa.Table, index: np.ndarray, power: np.ndarray, what: str) -> None:
    """Raise :class:`ProcessingError` naming the first row whose data are non-finite (``power``
    NaN or infinite) or all zero (``power`` 0); ``power`` is the sum of squares per row."""
    bad = ~np.isfinite(power)
    if bad.any():
        row = describe_row(table, int(index[np.argmax(bad)]))
        raise ProcessingError(f"{row}: {what} holds NaN or infinite values")
    zero = power == 0
    if zero.any():
        raise ProcessingError(
            f"{describe_row(table, int(index[np.argmax(zero)]))}: {what} is all zeros"
        )


def check_finite_nonzero(table: pa.Table, rows: Rows, what: str, real_only: bool = False) -> None:
    """Raise :class:`ProcessingError` naming the row when data are empty, non-finite or zero
    (``real_only``: check the real part only, for processors that never read ``im``)."""
    if rows.n_points == 0:
        raise ProcessingError(f"{describe_row(table, int(rows.index[0]))}: {what} holds no points")
    power = np.einsum("ij,ij->i", rows.re, rows.re)
    if not real_only:
        power = power + np.einsum("ij,ij->i", rows.im, rows.im)
    raise_for_bad_rows(table, rows.index, power, what)


def reassemble(parts: list[tuple[np.ndarray, pa.Table]]) -> pa.Table:
    """Concatenate per-group output tables and restore the input row order."""
    if len(parts) == 1:
        return parts[0][1]
    order = np.concatenate([idx for idx, _ in parts])
    merged = pa.concat_tables([t for _, t in parts], promote_options="permissive")
    return merged.take(pa.array(np.argsort(order, kind="stable")))


def set_columns(table: pa.Table, values: dict[str, pa.Array | pa.ChunkedArray]) -> pa.Table:
    """``table`` with columns replaced (or appended when new)."""
    for name, arr in values.items():
        if name in table.column_names:
            i = table.column_names.index(name)
            table = table.set_column(i, pa.field(name, arr.type), arr)
        else:
            table = table.append_column(name, arr)
    return table


def take_rows(table: pa.Table, index: np.ndarray) -> pa.Table:
    """Rows ``index`` of ``table`` (the table itself when ``index`` is all rows in order)."""
    if index.size == table.num_rows and np.array_equal(index, np.arange(table.num_rows)):
        return table
    return table.take(pa.array(index))


def require_columns(table: pa.Table, names: Sequence[str], processor: str) -> None:
    """Raise :class:`ProcessingError` when ``table`` lacks one of ``names``."""
    missing = [n for n in names if n not in table.column_names]
    if missing:
        raise ProcessingError(f"{processor}: input table lacks column(s) {', '.join(missing)}")


def require_domain(table: pa.Table, domain: str, processor: str) -> None:
    """Raise :class:`ProcessingError` naming the first row whose ``domain`` is not ``domain``."""
    dom = table.column("domain").to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(dom != domain)
    if bad.size:
        raise ProcessingError(
            f"{processor}: {describe_row(table, int(bad[0]))} is a {dom[bad[0]]}-domain row; "
            f"expected {domain}-domain data"
        )
