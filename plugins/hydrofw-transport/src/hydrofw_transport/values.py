"""Numeric cells of a bridge log: SIM921 reply strings, SIM900 framing, overload markers.

A SIM921 answers ``RVAL?`` with one ASCII float (``+1.23456E+02``). Read through a SIM900
mainframe the reply may carry a ``MSG <port>,`` prefix or a definite-length block header
``#<n><len>`` (``#3012...``); both are stripped. Overload or out-of-range readings (``OVLD``,
``OVL``, ``OVERLOAD``, ``+9.9E37``, ``inf``) and missing ones (empty cell, ``NaN``, ``N/A``,
``TIMEOUT``) become NaN, counted separately so readers can flag them. Any other text in a
numeric column is an error naming the line.
"""

from __future__ import annotations

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["CleanColumn", "to_float", "OVERLOAD_MARKERS", "MISSING_MARKERS"]

OVERLOAD_MARKERS = (
    "OVLD", "OVL", "OVER", "OVERLOAD", "OL", "ORNG", "OVERRANGE", "OUT OF RANGE", "OOR", "INF",
    "+INF", "-INF", "INFINITY", "+OVL", "-OVL", "SAT", "SATURATED", "RANGE",
)  # fmt: skip
MISSING_MARKERS = (
    "", "NAN", "+NAN", "-NAN", "N/A", "NA", "NONE", "NULL", "-", "--", "---", "TIMEOUT", "ERR",
    "ERROR", "?",
)  # fmt: skip
#: Replies >= this magnitude are overflow sentinels (SCPI 9.9E37), not readings.
OVERFLOW_SENTINEL = 9.0e37
_FRAMING = (
    r"^\s*(?:MSG\s*\d+\s*,\s*)?"
    r"(?:#(?:1\d|2\d\d|3\d{3}|4\d{4}|5\d{5}|6\d{6}|7\d{7}|8\d{8}|9\d{9}))?\s*"
)
_FLOAT = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"


@attrs.frozen
class CleanColumn:
    """float64 values (NaN where not a reading), the mask of overloaded cells, the number of
    missing cells, and the first row holding unparseable text (None when all was understood)."""

    values: np.ndarray
    overload: np.ndarray
    n_missing: int
    bad_row: int | None = None
    bad_text: str | None = None
    bad: np.ndarray | None = None  # every unparseable cell (NaN in ``values``)


def to_float(array: pa.Array) -> CleanColumn:
    """Turn one parsed column (numeric or text) into float64 with marker handling."""
    if pa.types.is_null(array.type):
        return CleanColumn(np.full(len(array), np.nan), np.zeros(len(array), bool), len(array))
    if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
        values = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        n_missing = int(np.count_nonzero(np.isnan(values)))
        over = np.abs(values) >= OVERFLOW_SENTINEL
        if over.any():
            values = np.where(over, np.nan, values)
        return CleanColumn(values, over, n_missing)
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.string())
    text = pc.replace_substring_regex(pc.utf8_upper(array), _FRAMING, "")
    text = pc.utf8_trim_whitespace(text)
    text = pc.fill_null(text, "")
    overload = pc.is_in(text, value_set=pa.array(OVERLOAD_MARKERS)).to_numpy(zero_copy_only=False)
    missing = pc.is_in(text, value_set=pa.array(MISSING_MARKERS)).to_numpy(zero_copy_only=False)
    numeric = pc.match_substring_regex(text, _FLOAT).to_numpy(zero_copy_only=False)
    bad = ~(overload | missing | numeric)
    values = np.full(len(text), np.nan)
    if numeric.any():
        idx = np.flatnonzero(numeric)
        values[idx] = pc.cast(pc.take(text, pa.array(idx)), pa.float64()).to_numpy(
            zero_copy_only=False
        )
    over = np.abs(values) >= OVERFLOW_SENTINEL
    values[over] = np.nan
    if bad.any():
        row = int(np.argmax(bad))
        return CleanColumn(
            values, overload | over, int(np.count_nonzero(missing)), bad_row=row,
            bad_text=str(array[row].as_py()), bad=bad,
        )  # fmt: skip
    return CleanColumn(values, overload | over, int(np.count_nonzero(missing)))
