"""Units and descriptions of every column as Parquet file key-value metadata.

The schemas keep ``unit`` and ``description`` as Arrow field metadata; pyarrow restores those
from the serialized Arrow schema a Parquet file carries, but other readers (DuckDB, polars,
Spark) see only the Parquet key-value metadata. :func:`with_column_metadata` copies each field's
entries there as ``hydrofw.unit.<column>`` and ``hydrofw.description.<column>``, so that e.g.
``select * from parquet_kv_metadata('f.parquet')`` in DuckDB lists them.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["with_column_metadata", "column_metadata", "KEYS"]

#: field metadata entries copied to the file's key-value metadata
KEYS = ("unit", "description")


def with_column_metadata(table: pa.Table) -> pa.Table:
    """``table`` with each field's unit and description also in the schema metadata."""
    meta = dict(table.schema.metadata or {})
    for field in table.schema:
        for key in KEYS:
            value = (field.metadata or {}).get(key.encode())
            if value is not None:
                meta[f"hydrofw.{key}.{field.name}".encode()] = value
    return table.replace_schema_metadata(meta)


def column_metadata(metadata: dict[bytes, bytes] | None, key: str = "unit") -> dict[str, str]:
    """{column: value} of one entry kind from file key-value metadata."""
    prefix = f"hydrofw.{key}.".encode()
    return {
        k[len(prefix) :].decode(): v.decode()
        for k, v in (metadata or {}).items()
        if k.startswith(prefix)
    }
