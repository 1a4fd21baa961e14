"""Typed access to a raw text header (key -> value as text) with errors that name the file.

Every format keeps its untouched header as ``dict[str, str]`` (it becomes the ``parameters``
column); :class:`Header` reads numbers and strings out of it and raises
:class:`hydrofw.errors.FormatError` naming the file, the key and, when known, the line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from hydrofw.errors import FormatError

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
        try:
            number = float(value.split()[0])
        except (ValueError, IndexError):
            raise self._error(key, f"header key {key!r} is not a number: {value!r}") from None
        if not math.isfinite(number):
            raise self._error(key, f"header key {key!r} is not finite: {value!r}")
        return number

    def integer(self, key: str) -> int:
        """A required integer (written as ``8`` or ``8.0``)."""
        value = self.number(key)
        if not value.is_integer():
            raise self._error(key, f"header key {key!r} is not an integer: {value!r}")
        return int(value)

    def optional_integer(self, key: str) -> int | None:
        """An integer, or None when absent."""
        return None if self.optional_number(key) is None else self.integer(key)

    def positive(self, key: str) -> float:
        """A required number > 0."""
        value = self.number(key)
        if value <= 0:
            raise self._error(key, f"header key {key!r} must be positive, got {value!r}")
        return value
