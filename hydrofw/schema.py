"""Table schemas: language-neutral JSON definitions turned into ``pyarrow.Schema`` objects.

A schema file (``schemas/<table>.json``) holds ``name``, integer ``version``, ``description`` and
``fields``; each field has ``name``, ``type``, ``nullable``, ``unit`` and ``description``. Types
are Arrow type names (``"float64"``, ``"string"``, ``"timestamp[us, UTC]"``) or nested objects
(``{"list": T}``, ``{"large_list": T}``, ``{"map": [K, V]}``, ``{"struct": [field, ...]}``).

Every table hydrofw writes carries schema metadata ``hydrofw.schema`` and
``hydrofw.schema_version``; :func:`conform` validates, casts and stamps a table, and
:func:`upgrade` migrates a table written with an older version (see :mod:`hydrofw.migrations`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa

from .errors import SchemaError, SchemaVersionError

__all__ = [
    "FieldDef",
    "TableSchema",
    "SCHEMA_KEY",
    "VERSION_KEY",
    "get_schema",
    "schema_names",
    "register_schema",
    "conform",
    "identify",
    "upgrade",
    "schema_dir",
]

SCHEMA_KEY = b"hydrofw.schema"
VERSION_KEY = b"hydrofw.schema_version"

_PRIMITIVES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "large_string": pa.large_string(),
    "bool": pa.bool_(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "binary": pa.binary(),
}
_TIMESTAMP = re.compile(r"^timestamp\[(s|ms|us|ns)(?:,\s*(?:tz=)?([^\]]+))?\]$")


def parse_type(spec: Any, where: str = "") -> pa.DataType:
    """Build an Arrow type from its JSON spelling (see module docstring)."""
    if isinstance(spec, str):
        if spec in _PRIMITIVES:
            return _PRIMITIVES[spec]
        m = _TIMESTAMP.match(spec)
        if m:
            return pa.timestamp(m.group(1), tz=m.group(2).strip() if m.group(2) else None)
    elif isinstance(spec, dict) and len(spec) == 1:
        ((kind, inner),) = spec.items()
        if kind == "list":
            return pa.list_(parse_type(inner, where))
        if kind == "large_list":
            return pa.large_list(parse_type(inner, where))
        if kind == "map" and isinstance(inner, list) and len(inner) == 2:
            return pa.map_(parse_type(inner[0], where), parse_type(inner[1], where))
        if kind == "struct" and isinstance(inner, list):
            return pa.struct(
                [pa.field(f["name"], parse_type(f["type"], where), True) for f in inner]
            )
    raise SchemaError(f"schema {where}: unknown type specification {spec!r}")


@attrs.frozen
class FieldDef:
    """One column of a table schema."""

    name: str
    type: pa.DataType
    nullable: bool
    unit: str | None
    description: str

    def arrow(self) -> pa.Field:
        meta = {"description": self.description}
        if self.unit:
            meta["unit"] = self.unit
        return pa.field(self.name, self.type, nullable=self.nullable, metadata=meta)


@attrs.frozen
class TableSchema:
    """A versioned table definition loaded from JSON."""

    name: str
    version: int
    description: str
    fields: tuple[FieldDef, ...]
    changes: Mapping[str, str] = attrs.field(factory=dict, eq=False, hash=False)
    #: columns identifying a row (the store keeps the first row of each key)
    key: tuple[str, ...] = ("id",)

    @property
    def arrow(self) -> pa.Schema:
        """The ``pyarrow.Schema``, stamped with ``hydrofw.schema``/``hydrofw.schema_version``."""
        return _arrow_schema(self)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> FieldDef:
        for f in self.fields:
            if f.name == name:
                return f
        raise SchemaError(f"table {self.name!r} has no field {name!r}")

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], where: str = "") -> TableSchema:
        try:
            name = str(doc["name"])
            version = int(doc["version"])
            fields = tuple(
                FieldDef(
                    name=str(f["name"]),
                    type=parse_type(f["type"], f"{where}:{f['name']}"),
                    nullable=bool(f.get("nullable", True)),
                    unit=f.get("unit"),
                    description=str(f.get("description", "")),
                )
                for f in doc["fields"]
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SchemaError(f"schema {where or doc!r}: malformed definition ({exc})") from None
        if len({f.name for f in fields}) != len(fields):
            raise SchemaError(f"schema {where}: duplicate field names")
        key = tuple(doc.get("key", ["id"]))
        missing = [k for k in key if k not in {f.name for f in fields}]
        if missing or not key:
            raise SchemaError(f"schema {where}: key names unknown fields {missing}")
        return cls(
            name, version, str(doc.get("description", "")), fields, doc.get("changes", {}), key
        )


@cache
def _arrow_schema(schema: TableSchema) -> pa.Schema:
    return pa.schema(
        [f.arrow() for f in schema.fields],
        metadata={SCHEMA_KEY: schema.name.encode(), VERSION_KEY: str(schema.version).encode()},
    )


def schema_dir() -> Path:
    """Folder of the bundled schema files (installed wheel or source checkout)."""
    packaged = resources.files("hydrofw") / "_schemas"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "schemas"


_registry: dict[tuple[str, int], TableSchema] = {}
_current: dict[str, int] = {}


def register_schema(source: TableSchema | Mapping[str, Any] | str | Path) -> TableSchema:
    """Register a schema (a plugin's own table, or an older version kept for migrations).

    The highest registered version of a name becomes its current version.
    """
    if isinstance(source, TableSchema):
        schema = source
    elif isinstance(source, Mapping):
        schema = TableSchema.from_json(source)
    else:
        path = Path(source)
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise SchemaError(f"{path}: cannot load schema ({exc})") from None
        schema = TableSchema.from_json(doc, str(path))
    _registry[(schema.name, schema.version)] = schema
    if schema.version > _current.get(schema.name, 0):
        _current[schema.name] = schema.version
    return schema


def _load_bundled() -> None:
    if _current:
        return
    root = schema_dir()
    for path in sorted(root.glob("*.json")) + sorted((root / "history").glob("*.json")):
        register_schema(path)


def schema_names() -> list[str]:
    """Names of every known table."""
    _load_bundled()
    return sorted(_current)


def get_schema(name: str, version: int | None = None) -> TableSchema:
    """The schema of table ``name`` (current version unless ``version`` is given)."""
    _load_bundled()
    if name not in _current:
        raise SchemaError(f"unknown table {name!r} (known: {', '.join(sorted(_current))})")
    v = _current[name] if version is None else version
    try:
        return _registry[(name, v)]
    except KeyError:
        raise SchemaVersionError(f"table {name!r} has no schema version {v}") from None


def identify(table: pa.Table | pa.Schema) -> tuple[str, int] | None:
    """(name, version) from a table's hydrofw metadata, or None when it carries none."""
    meta = (table.schema if isinstance(table, pa.Table) else table).metadata or {}
    if SCHEMA_KEY not in meta:
        return None
    try:
        return meta[SCHEMA_KEY].decode(), int(meta.get(VERSION_KEY, b"1"))
    except ValueError:
        raise SchemaError(
            f"corrupt hydrofw.schema_version metadata: {meta[VERSION_KEY]!r}"
        ) from None


def upgrade(table: pa.Table, where: str = "table") -> pa.Table:
    """Migrate a table written with an older schema version to the current one.

    A table from a *newer* hydrofw is refused with :class:`SchemaVersionError`.
    """
    from .migrations import migrate  # local: migrations import this module

    found = identify(table)
    if found is None:
        return table
    name, version = found
    current = get_schema(name).version
    if version > current:
        raise SchemaVersionError(
            f"{where}: table {name!r} was written with schema version {version}, newer than the "
            f"version {current} this hydrofw knows; upgrade hydrofw to read it"
        )
    while version < current:
        table = migrate(name, version, table)
        version += 1
    return table


def conform(table: pa.Table, name: str, *, where: str | None = None) -> pa.Table:
    """Validate ``table`` against schema ``name`` and return it cast, ordered and stamped.

    Missing nullable columns are added as nulls; missing required columns, nulls in required
    columns and uncastable types are :class:`SchemaError`. Extra columns are kept at the end.
    """
    where = where or f"table {name!r}"
    table = upgrade(table, where)
    schema = get_schema(name)
    found = identify(table)
    if found is not None and found[0] != name:
        raise SchemaError(f"{where}: holds table {found[0]!r}, expected {name!r}")
    n = table.num_rows
    columns: list[pa.ChunkedArray | pa.Array] = []
    for fd in schema.fields:
        if fd.name not in table.column_names:
            if not fd.nullable:
                raise SchemaError(f"{where}: required column {fd.name!r} is missing")
            columns.append(pa.nulls(n, fd.type))
            continue
        col = table.column(fd.name)
        if not col.type.equals(fd.type):
            try:
                col = col.cast(fd.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
                raise SchemaError(
                    f"{where}: column {fd.name!r} has type {col.type}, expected {fd.type} ({exc})"
                ) from None
        if not fd.nullable and col.null_count:
            raise SchemaError(f"{where}: required column {fd.name!r} holds {col.null_count} nulls")
        columns.append(col)
    fields = [fd.arrow() for fd in schema.fields]
    extras = [c for c in table.column_names if c not in schema.names]
    for c in extras:
        columns.append(table.column(c))
        fields.append(table.schema.field(c))
    meta = dict(schema.arrow.metadata)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=meta))


def empty(name: str) -> pa.Table:
    """An empty table of schema ``name``."""
    return get_schema(name).arrow.empty_table()


def iter_schema_docs(names: Iterable[str] | None = None) -> Iterable[TableSchema]:
    """Current schemas, for documentation generators."""
    for n in names or schema_names():
        yield get_schema(n)
