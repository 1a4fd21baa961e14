"""Declarative descriptions of home-built console formats (TOML), validated on load.

A description has five tables (see ``docs/plugins/hydrofw-console.md`` for every key):

``[format]``  ``name`` (the reader becomes ``console.<name>``), ``description``.
``[match]``   ``extensions`` of the header file, optional ``magic`` (text the header starts with).
``[header]``  ``syntax`` (``key=value``, ``key: value``, ``jcamp``), ``comment``, ``end``
              (marker line after which data follow in the same file), ``encoding``,
              ``skip_lines`` (banner lines before the first key).
``[fields]``  our field -> ``{ key = "...", unit = "MHz", scale = 1.0 }`` or ``{ value = ... }``.
``[data]``    ``file`` (``"{stem}.dat"``, or ``"{name}"`` for the header file itself), ``dtype``,
              ``endianness``, ``layout`` (``interleaved``, ``separate``, ``real``), ``offset``
              (bytes, or ``"header"`` to start after the header), ``points`` (a header key or
              ``"file_size"``), optional ``rows`` key, ``scale`` key and ``[data.array]``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from hydrofw.errors import FormatError

from .header_syntax import SYNTAXES
from .units import UNITS

__all__ = ["FieldSpec", "ArraySpec", "DataSpec", "ConsoleFormat", "load_description", "FIELDS"]

#: Fields a description may map, with the SI unit their value must end up in (None: no unit).
FIELDS: dict[str, str | None] = {
    "nucleus": None,
    "observe_frequency_hz": "Hz",
    "spectral_width_hz": "Hz",
    "dwell_s": "s",
    "n_scans": None,
    "acquired_at": None,
    "experiment": None,
    "pulse_program": None,
    "receiver_gain": None,
    "temperature_k": "K",
}
_DTYPES = {"int16": "i2", "int32": "i4", "float32": "f4", "float64": "f8"}
_LAYOUTS = ("interleaved", "separate", "real")


@attrs.frozen
class FieldSpec:
    """Where a field comes from: a header ``key`` (scaled by ``unit`` then ``scale``) or a
    constant ``value``. ``format``/``timezone`` apply to ``acquired_at`` (strptime format;
    ``"UTC"`` or ``"local"``, the latter flagged ``acquired_at_local_time``)."""

    key: str | None = None
    value: Any = None
    unit: str | None = None
    scale: float = 1.0
    format: str | None = None
    timezone: str = "UTC"


@attrs.frozen
class ArraySpec:
    """An arrayed variable: a header ``key`` holding one value per row (comma or blank
    separated) in ``unit``, named ``variable``."""

    key: str
    variable: str
    unit: str | None = None


@attrs.frozen
class DataSpec:
    """Binary data layout."""

    file: str
    dtype: str
    endianness: str
    layout: str
    offset: int | str
    points: str
    rows: str | None = None
    scale_key: str | None = None
    array: ArraySpec | None = None

    @property
    def numpy_dtype(self) -> str:
        return ("<" if self.endianness == "little" else ">") + _DTYPES[self.dtype]


@attrs.frozen
class ConsoleFormat:
    """One validated console description."""

    name: str
    description: str
    origin: str
    extensions: tuple[str, ...]
    magic: str | None
    syntax: str
    comment: str
    end: str | None
    encoding: str
    skip_lines: int
    fields: Mapping[str, FieldSpec]
    data: DataSpec

    @property
    def reader_name(self) -> str:
        return f"console.{self.name}"


def _table(doc: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    value = doc.get(name)
    if not isinstance(value, dict):
        raise FormatError(where, f"description needs a [{name}] table")
    return value


def _choice(
    table: Mapping[str, Any],
    key: str,
    choices: tuple[str, ...],
    where: str,
    default: str | None = None,
) -> str:
    value = table.get(key, default)
    if value not in choices:
        raise FormatError(where, f"{key} = {value!r}: expected one of {', '.join(choices)}")
    return str(value)


def _count(table: Mapping[str, Any], key: str, where: str) -> int:
    value = table.get(key, 0)
    if not isinstance(value, int) or value < 0:
        raise FormatError(where, f"{key} = {value!r}: a count >= 0")
    return value


def _field(name: str, spec: Any, where: str) -> FieldSpec:
    if name not in FIELDS:
        raise FormatError(where, f"[fields] {name!r} is not a field (known: {', '.join(FIELDS)})")
    if not isinstance(spec, dict) or ("key" in spec) == ("value" in spec):
        raise FormatError(where, f"[fields] {name}: give exactly one of key = ... or value = ...")
    unknown = set(spec) - {f.name for f in attrs.fields(FieldSpec)}
    if unknown:
        raise FormatError(where, f"[fields] {name}: unknown keys {sorted(unknown)}")
    unit = spec.get("unit")
    if unit is not None:
        if unit not in UNITS:
            raise FormatError(
                where, f"[fields] {name}: unknown unit {unit!r} (known: {', '.join(UNITS)})"
            )
        if UNITS[unit][0] != FIELDS[name]:
            raise FormatError(
                where, f"[fields] {name}: unit {unit!r} is not a unit of {FIELDS[name]}"
            )
    try:
        return FieldSpec(**spec)
    except (TypeError, ValueError) as exc:
        raise FormatError(where, f"[fields] {name}: {exc}") from None


def _data(table: Mapping[str, Any], where: str) -> DataSpec:
    offset = table.get("offset", 0)
    if not (offset == "header" or (isinstance(offset, int) and offset >= 0)):
        raise FormatError(where, f'[data] offset = {offset!r}: a byte count or "header"')
    points = table.get("points")
    if not isinstance(points, str) or not points:
        raise FormatError(where, '[data] points: a header key or "file_size"')
    array = table.get("array")
    array_spec = None
    if array is not None:
        if not isinstance(array, dict) or "key" not in array or "variable" not in array:
            raise FormatError(where, "[data.array] needs key and variable")
        unit = array.get("unit")
        if unit is not None and unit not in UNITS:
            raise FormatError(where, f"[data.array] unknown unit {unit!r}")
        array_spec = ArraySpec(str(array["key"]), str(array["variable"]), unit)
    return DataSpec(
        file=str(table.get("file", "{name}")),
        dtype=_choice(table, "dtype", tuple(_DTYPES), where),
        endianness=_choice(table, "endianness", ("little", "big"), where, "little"),
        layout=_choice(table, "layout", _LAYOUTS, where, "interleaved"),
        offset=offset,
        points=points,
        rows=table.get("rows"),
        scale_key=table.get("scale"),
        array=array_spec,
    )


def load_description(path: str | Path, text: str | None = None) -> ConsoleFormat:
    """Load and validate a description from ``path`` (or from ``text``, ``path`` naming it)."""
    where = str(path)
    try:
        doc = tomllib.loads(text if text is not None else Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(where, f"cannot read description ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise FormatError(where, f"invalid TOML: {exc}") from None
    fmt, match, header = (_table(doc, t, where) for t in ("format", "match", "header"))
    fields = _table(doc, "fields", where)
    name = fmt.get("name")
    if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
        raise FormatError(where, f"[format] name = {name!r}: letters, digits, '-' and '_' only")
    specs = {k: _field(k, v, where) for k, v in fields.items()}
    for required in ("nucleus", "observe_frequency_hz"):
        if required not in specs:
            raise FormatError(where, f"[fields] must map {required}")
    if "spectral_width_hz" not in specs and "dwell_s" not in specs:
        raise FormatError(where, "[fields] must map spectral_width_hz or dwell_s")
    extensions = tuple(str(e).lower() for e in match.get("extensions", ()))
    if not extensions and not match.get("magic"):
        raise FormatError(where, "[match] needs extensions or magic")
    data = _data(_table(doc, "data", where), where)
    end = header.get("end")
    if data.file == "{name}" and end is None and data.offset == "header":
        raise FormatError(where, 'data in the header file need [header] end = "marker line"')
    return ConsoleFormat(
        name=name,
        description=str(fmt.get("description", "")),
        origin=where,
        extensions=extensions,
        magic=match.get("magic"),
        syntax=_choice(header, "syntax", SYNTAXES, where),
        comment=str(header.get("comment", "#")),
        end=end,
        encoding=str(header.get("encoding", "latin-1")),
        skip_lines=_count(header, "skip_lines", where),
        fields=specs,
        data=data,
    )
