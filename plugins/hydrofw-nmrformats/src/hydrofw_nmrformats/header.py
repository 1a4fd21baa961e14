"""Typed access to a raw text header (key -> value as text) with errors that name the file.

Every format keeps its untouched header as ``dict[str, str]`` (it becomes the ``parameters``
column); :class:`Header` reads numbers and strings out of it and raises
:class:`hydrofw.errors.FormatError` naming the file, the key and, when known, the line.
"""

from __future__ import annotations

from collections.abc import Mapping

from hydrofw.errors import FormatError
from hydrofw.header_values import INT64, to_count, to_float, to_int, to_size

__all__ = ["Header"]


class Header:
    """A raw header: ``values`` maps keys to text; ``lines`` maps keys to 1-based line numbers.

    ``where`` is the file named in error messages (e.g. ``"exp/10/acqus"``).
    """

    def __init__(
        self, values: Mapping[str, str], where: str, lines: Mapping[str, int] | None = None
    ) -> None:
        self.values = dict(values)
        self.where = where
        self.lines = dict(lines or {})

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def _error(self, key: str, problem: str) -> FormatError:
        return FormatError(self.where, problem, line=self.lines.get(key))

    def text(self, key: str, default: str | None = None) -> str | None:
        """The value of ``key`` with surrounding blanks and ``<...>`` brackets removed."""
        raw = self.values.get(key)
        if raw is None:
            return default
        value = raw.strip()
        if value.startswith("<") and value.endswith(">"):
            value = value[1:-1].strip()
        return value

    def require(self, key: str) -> str:
        """The text of ``key``; a :class:`FormatError` when the key is missing."""
        value = self.text(key)
        if value is None:
            raise self._error(key, f"header key {key!r} is missing")
        return value

    def number(self, key: str) -> float:
        """A required finite number."""
        value = self.optional_number(key)
        if value is None:
            raise self._error(key, f"header key {key!r} is missing")
        return value

    def optional_number(self, key: str) -> float | None:
        """A finite number, or None when the key is absent or empty."""
        value = self.text(key)
        if value is None or value == "":
            return None
        return to_float(value, where=self.where, key=key, line=self.lines.get(key))

    def integer(self, key: str, bounds: tuple[int, int] = INT64) -> int:
        """A required integer (written as ``8`` or ``8.0``) that fits ``bounds`` (int64)."""
        value = self.require(key)
        return to_int(value, where=self.where, key=key, line=self.lines.get(key), bounds=bounds)

    def optional_integer(self, key: str) -> int | None:
        """An integer, or None when absent or empty."""
        value = self.text(key)
        return None if value is None or value == "" else self.integer(key)

    def count(self, key: str) -> int:
        """A required non-negative integer count (scans, increments) fitting int64."""
        return to_count(self.require(key), where=self.where, key=key, line=self.lines.get(key))

    def optional_count(self, key: str) -> int | None:
        """A count, or None when absent or empty."""
        value = self.text(key)
        return None if value is None or value == "" else self.count(key)

    def size(self, key: str, limit: int = 2**40) -> int:
        """A required positive integer size (points, bytes) no larger than ``limit``."""
        value = self.require(key)
        return to_size(value, where=self.where, key=key, line=self.lines.get(key), limit=limit)

    def positive(self, key: str) -> float:
        """A required number > 0."""
        value = self.number(key)
        if value <= 0:
            raise self._error(key, f"header key {key!r} must be positive, got {value!r}")
        return value
