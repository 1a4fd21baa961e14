"""Range-checked conversion of header values, the one place every reader turns header text
(or unpacked binary fields) into numbers before they reach a record and Arrow.

An integer that does not fit the Arrow type of its column (int64 by default, int32 where the
schema says so), a negative count, a non-finite or non-positive size: each is a
:class:`hydrofw.errors.FormatError` naming the file, the line (when known) and the key, with at
most a short quoted excerpt of the offending value (never the file's contents).
"""

from __future__ import annotations

import math
from typing import Any

from .errors import FormatError

__all__ = [
    "INT32",
    "INT64",
    "excerpt",
    "to_float",
    "to_int",
    "to_count",
    "to_size",
]

INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)

_EXCERPT_CHARS = 40


def excerpt(value: Any, limit: int = _EXCERPT_CHARS) -> str:
    """A short quoted excerpt of ``value`` for error messages (long values are cut)."""
    text = value.decode("latin-1", "replace") if isinstance(value, bytes) else str(value)
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _error(where: str, key: str, problem: str, line: int | None) -> FormatError:
    return FormatError(where, f"header key {key!r} {problem}", line=line)


def to_float(
    value: Any,
    *,
    where: str,
    key: str,
    line: int | None = None,
    positive: bool = False,
    minimum: float | None = None,
) -> float:
    """A finite float from text (first blank-separated word) or a number."""
    if isinstance(value, str | bytes):
        text = value.decode("latin-1", "replace") if isinstance(value, bytes) else value
        words = text.split()
        if not words:
            raise _error(where, key, "is empty", line)
        try:
            number = float(words[0])
        except ValueError:
            raise _error(where, key, f"is not a number: {excerpt(text)}", line) from None
    else:
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise _error(where, key, f"is not a number: {excerpt(value)}", line) from None
    if not math.isfinite(number):
        raise _error(where, key, f"is not finite: {excerpt(value)}", line)
    if positive and number <= 0:
        raise _error(where, key, f"must be positive, got {number!r}", line)
    if minimum is not None and number < minimum:
        raise _error(where, key, f"must be >= {minimum!r}, got {number!r}", line)
    return number


def to_int(
    value: Any,
    *,
    where: str,
    key: str,
    line: int | None = None,
    bounds: tuple[int, int] = INT64,
    minimum: int | None = None,
) -> int:
    """An integer (written ``8``, ``8.0`` or ``8e0``) within ``bounds`` and >= ``minimum``."""
    if isinstance(value, int) and not isinstance(value, bool):
        number: int = value
    else:
        text = value.decode("latin-1", "replace") if isinstance(value, bytes) else str(value)
        words = text.split()
        if not words:
            raise _error(where, key, "is empty", line)
        try:
            number = int(words[0])
        except ValueError:
            as_float = to_float(words[0], where=where, key=key, line=line)
            if not as_float.is_integer():
                raise _error(where, key, f"is not an integer: {excerpt(text)}", line) from None
            number = int(as_float)
    low, high = bounds
    if not low <= number <= high:
        kind = "int32" if bounds == INT32 else "int64" if bounds == INT64 else "its range"
        raise _error(
            where, key, f"value {excerpt(number, 24)} does not fit {kind} ({low}..{high})", line
        )
    if minimum is not None and number < minimum:
        raise _error(where, key, f"must be >= {minimum}, got {number}", line)
    return number


def to_count(
    value: Any,
    *,
    where: str,
    key: str,
    line: int | None = None,
    bounds: tuple[int, int] = INT64,
) -> int:
    """A non-negative integer count (scans, increments, blocks) fitting ``bounds``."""
    return to_int(value, where=where, key=key, line=line, bounds=bounds, minimum=0)


def to_size(
    value: Any,
    *,
    where: str,
    key: str,
    line: int | None = None,
    limit: int = 2**40,
) -> int:
    """A positive integer size (points, bytes) no larger than ``limit`` (default 1 TiB): a
    header asking for more is corrupt, not a reason to allocate."""
    number = to_int(value, where=where, key=key, line=line, minimum=1)
    if number > limit:
        raise _error(where, key, f"size {number} exceeds the limit of {limit}", line)
    return number
