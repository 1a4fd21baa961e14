"""Typed, strict access to one table of a parsed TOML document.

:class:`TomlTable` hands out values with a type check and an optional range check, and
:meth:`TomlTable.finish` refuses keys nobody asked for. Every problem is a
:class:`hydrofw.errors.CampaignError` whose message is ``FILE:LINE: dotted.key: problem``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from hydrofw.errors import CampaignError

from .tomlkeys import KeyLines, KeyPath

__all__ = ["TomlTable", "REQUIRED", "dotted", "positive", "one_of"]

REQUIRED: Any = object()

_TYPE_NAMES = {
    str: "a string",
    float: "a number",
    int: "an integer",
    bool: "true or false",
    dt.datetime: "a date-time with a time zone (e.g. 2026-01-12T14:30:00Z)",
    list: "an array",
    dict: "a table",
}


def dotted(path: KeyPath) -> str:
    """``cells[1].culet_um`` style name of a key path."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if part.replace("_", "").replace("-", "").isalnum() else f'"{part}"'
            out += f".{text}" if out else text
    return out


class TomlTable:
    """One TOML table (``data``) at ``path`` inside the document ``file``."""

    def __init__(self, data: Mapping[str, Any], path: KeyPath, file: Path, lines: KeyLines) -> None:
        self.data = dict(data)
        self.path = path
        self.file = file
        self.lines = lines
        self._used: set[str] = set()

    # -- errors -------------------------------------------------------------------------------
    def where(self, key: str | int | None = None) -> str:
        path = self.path if key is None else self.path + (key,)
        line = self.lines.line(path)
        loc = f"{self.file}:{line}" if line is not None else str(self.file)
        name = dotted(path)
        return f"{loc}: {name}" if name else loc

    def fail(self, key: str | int | None, problem: str) -> NoReturn:
        raise CampaignError(f"{self.where(key)}: {problem}")

    # -- access -------------------------------------------------------------------------------
    def has(self, key: str) -> bool:
        return key in self.data

    def get(
        self,
        key: str,
        kind: type,
        default: Any = REQUIRED,
        check: Callable[[Any], str | None] | None = None,
    ) -> Any:
        """The value of ``key`` as ``kind``; ``check(value)`` returns a problem text or None."""
        self._used.add(key)
        if key not in self.data:
            if default is REQUIRED:
                close = difflib.get_close_matches(key, [str(k) for k in self.data], n=1)
                if close:
                    self.fail(close[0], f"unknown key {close[0]!r} (did you mean {key!r}?)")
                self.fail(None, f"required key {key!r} is missing")
            return default
        value = self.data[key]
        value = self._convert(key, value, kind)
        if check is not None:
            problem = check(value)
            if problem:
                self.fail(key, f"{problem} (got {value!r})")
        return value

    def _convert(self, key: str, value: Any, kind: type) -> Any:
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if kind is dt.datetime:
            if not isinstance(value, dt.datetime) or value.tzinfo is None:
                self.fail(key, f"expected {_TYPE_NAMES[dt.datetime]}, got {value!r}")
            return value.astimezone(dt.UTC)
        if kind is int and isinstance(value, bool):
            self.fail(key, f"expected {_TYPE_NAMES[int]}, got {value!r}")
        if not isinstance(value, kind):
            self.fail(key, f"expected {_TYPE_NAMES.get(kind, kind.__name__)}, got {value!r}")
        return value

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """An array of strings (a single string is accepted as a one-element array)."""
        value = self.get(key, object, None)
        if value is None:
            return default
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, f"expected an array of strings, got {value!r}")
        return tuple(value)

    def table(self, key: str) -> TomlTable | None:
        """The sub-table ``key`` (None when absent)."""
        value = self.get(key, dict, None)
        return (
            None if value is None else TomlTable(value, self.path + (key,), self.file, self.lines)
        )

    def tables(self, key: str) -> list[TomlTable]:
        """The array of tables ``key`` (empty when absent)."""
        value = self.get(key, list, [])
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.fail(key, f"expected an array of tables ([[{key}]]), item {i} is {item!r}")
            out.append(TomlTable(item, self.path + (key, i), self.file, self.lines))
        return out

    def keys(self) -> list[str]:
        """Every key of the table, marked as used (for tables keyed by free names)."""
        self._used.update(self.data)
        return list(self.data)

    def finish(self, allowed_hint: str = "") -> None:
        """Refuse keys that were never asked for (typos, unsupported options)."""
        unknown = [k for k in self.data if k not in self._used]
        if unknown:
            known = ", ".join(sorted(self._used))
            hint = allowed_hint or (f"known keys: {known}" if known else "this table takes no keys")
            self.fail(unknown[0], f"unknown key {unknown[0]!r} ({hint})")


def positive(value: float) -> str | None:
    """Check: strictly positive and finite."""
    return None if math.isfinite(value) and value > 0 else "must be positive and finite"


def one_of(*choices: str) -> Callable[[str], str | None]:
    """Check: one of ``choices``."""

    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check
