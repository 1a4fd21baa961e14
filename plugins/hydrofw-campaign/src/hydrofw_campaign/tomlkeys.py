"""Line numbers of keys in a TOML document (``tomllib`` keeps none), for error messages.

:class:`KeyLines` scans the text once and maps each key path, e.g. ``("cells", 1,
"culet_um")``, to the 1-based line where it is defined. Array-of-tables headers (``[[cells]]``)
count their occurrences, so indices match the parsed lists. Keys inside inline tables and
multi-line arrays are not indexed: :meth:`KeyLines.line` then returns the line of the nearest
enclosing key that is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["KeyLines", "KeyPath"]

KeyPath = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _split_key(text: str) -> list[str] | None:
    """Parts of a dotted TOML key (bare or quoted); None when ``text`` is not a key."""
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            return None
        if text[i] in "\"'":
            end = text.find(text[i], i + 1)
            if end < 0:
                return None
            parts.append(text[i + 1 : end])
            i = end + 1
        else:
            m = _BARE.match(text, i)
            if not m:
                return None
            parts.append(m.group(0))
            i = m.end()
        while i < n and text[i] in " \t":
            i += 1
        if i < n:
            if text[i] != ".":
                return None
            i += 1
    return parts or None


def _key_end(line: str) -> int:
    """Index of the ``=`` that ends the key of a key/value line (outside quotes), or -1."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "=":
            return i
        elif ch == "#":
            return -1
    return -1


def _bracket_depth(value: str) -> int:
    """Net ``[``/``{`` minus ``]``/``}`` outside strings and comments."""
    depth, quote = 0, ""
    for ch in value:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
    return depth


class KeyLines:
    """Map of key paths to line numbers of one TOML text."""

    def __init__(self, text: str) -> None:
        self.lines: dict[KeyPath, int] = {}
        counts: dict[tuple[str | int, ...], int] = {}
        table: KeyPath = ()
        depth = 0
        in_string = ""
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if in_string:
                if in_string in line:
                    in_string = ""
                continue
            if depth > 0:
                depth += _bracket_depth(line)
                continue
            if not line or line.startswith("#"):
                continue
            if line.startswith("[["):
                parts = _split_key(line[2 : line.find("]]")])
                if parts:
                    table = self._array_table(parts, counts)
                    self.lines.setdefault(table, number)
                continue
            if line.startswith("["):
                parts = _split_key(line[1 : line.find("]")])
                if parts:
                    table = self._resolve(parts, counts)
                    self.lines.setdefault(table, number)
                continue
            eq = _key_end(line)
            parts = _split_key(line[:eq]) if eq > 0 else None
            if not parts:
                continue
            for k in range(1, len(parts) + 1):
                self.lines.setdefault(table + tuple(parts[:k]), number)
            value = line[eq + 1 :].strip()
            for quote in ('"""', "'''"):
                if value.startswith(quote) and value.count(quote) == 1:
                    in_string = quote
            depth = _bracket_depth(value)

    def _resolve(self, parts: Sequence[str], counts: dict[KeyPath, int]) -> KeyPath:
        """Path of a header: each prefix that is an array of tables gets its current index."""
        path: KeyPath = ()
        for part in parts:
            path = path + (part,)
            if path in counts:
                path = path + (counts[path] - 1,)
        return path

    def _array_table(self, parts: Sequence[str], counts: dict[KeyPath, int]) -> KeyPath:
        parent = self._resolve(parts[:-1], counts)
        key = parent + (parts[-1],)
        counts[key] = counts.get(key, 0) + 1
        return key + (counts[key] - 1,)

    def line(self, path: KeyPath) -> int | None:
        """Line of ``path``, or of its nearest indexed ancestor; None when nothing matches."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None
