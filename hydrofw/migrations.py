"""Schema migrations: functions that lift a table from version N to N+1.

Each migration receives a table stamped with version N and returns one stamped with N+1. Older
store files are migrated when read; the files on disk are left as they were written.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from .errors import SchemaVersionError
from .schema import SCHEMA_KEY, VERSION_KEY

__all__ = ["migration", "migrate"]

Migration = Callable[[pa.Table], pa.Table]
_MIGRATIONS: dict[tuple[str, int], Migration] = {}


def migration(table: str, from_version: int) -> Callable[[Migration], Migration]:
    """Decorator registering a migration of ``table`` from ``from_version`` to the next."""

    def deco(fn: Migration) -> Migration:
        _MIGRATIONS[(table, from_version)] = fn
        return fn

    return deco


def migrate(name: str, version: int, table: pa.Table) -> pa.Table:
    """Apply the registered migration ``name`` v``version`` -> v``version+1``."""
    try:
        fn = _MIGRATIONS[(name, version)]
    except KeyError:
        raise SchemaVersionError(
            f"no migration for table {name!r} from schema version {version}"
        ) from None
    out = fn(table)
    meta = dict(out.schema.metadata or {})
    meta[SCHEMA_KEY] = name.encode()
    meta[VERSION_KEY] = str(version + 1).encode()
    return out.replace_schema_metadata(meta)


@migration("spectrum", 1)
def _spectrum_v1_to_v2(table: pa.Table) -> pa.Table:
    """v1 stored the observe frequency in MHz; v2 stores Hz and adds dwell_s and flags."""
    mhz = table.column("observe_frequency_mhz").cast(pa.float64())
    idx = table.column_names.index("observe_frequency_mhz")
    table = table.set_column(
        idx,
        pa.field("observe_frequency_hz", pa.float64(), nullable=False),
        pc.multiply(mhz, 1e6),
    )
    sw = table.column("spectral_width_hz").cast(pa.float64())
    is_time = pc.equal(table.column("domain"), "time")
    dwell = pc.if_else(is_time, pc.divide(1.0, sw), pa.scalar(None, pa.float64()))
    table = table.append_column(pa.field("dwell_s", pa.float64()), dwell)
    flags = pa.array([[] for _ in range(table.num_rows)], type=pa.list_(pa.string()))
    return table.append_column(pa.field("flags", pa.list_(pa.string())), flags)
