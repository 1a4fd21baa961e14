"""Per-cell work of the campaign pipeline: which raw rows belong to which cell, a fingerprint of
everything a cell's analysis depends on, and the rows of an earlier run to reuse.

Every analysis step of :mod:`hydrofw_campaign.pipeline` works within one cell (the Cu shielding
of a session, the calibration ``before_synthesis`` of ``nmr.quantify``, the T1 of
``nmr.diffusion``: all from the same cell), so a cell is analysed from its own raw rows alone, one
cell in memory at a time. A cell's *fingerprint* is the SHA-256 of

- the sorted ``id`` of its raw rows in every raw table (``spectrum``, ``transport``);
- the parsed campaign.toml with the other cells left out (the campaign-wide tables, the cell's
  own table, its pressure CSV as read, the campaign folder), so that editing one cell changes
  only its fingerprint and editing a campaign-wide setting changes every one;
- the versions of hydrofw and of every installed plugin, and a digest of the source files of
  hydrofw, of this plugin and of every package providing a processor (an edit of an
  editable install changes it without a new version).

A run notes the fingerprints in its record (``cell_fingerprints``); the next run takes the rows
of a cell whose fingerprint did not change from that run's derived tables instead of analysing
it again (content-derived ids: the same rows a new analysis gives). Campaign-level tables
(:data:`CAMPAIGN_TABLES`) and raw rows of no known cell are made anew every run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from hydrofw.registry import get_registry

from .config import CampaignConfig

__all__ = [
    "CAMPAIGN_TABLES",
    "RAW_TABLES",
    "CellRaw",
    "relative_to_raw",
    "cell_of_source",
    "raw_rows_by_cell",
    "rows_of",
    "cell_fingerprints",
    "reusable_cells",
    "previous_rows",
    "light",
    "BULKY_COLUMNS",
]

#: raw (ingested) tables whose rows belong to cells
RAW_TABLES = ("spectrum", "transport")
#: derived tables made for the whole campaign: never taken from an earlier run (the time series
#: and kinetics are per cell: a cell's series is built from that cell's rows alone)
CAMPAIGN_TABLES = frozenset({"campaign", "cell"})
#: the array and header columns of a row (a spectrum's points, a sweep, a header): left out of
#: the tables a run keeps in memory (:func:`light`); read from the store per cell when needed
BULKY_COLUMNS = frozenset(
    {"re", "im", "parameters", "history", "temperature_k", "resistance_ohm", "time_s"}
)
#: rows of an earlier run copied to the new one per store write (bytes in memory)
COPY_BATCH_BYTES = 64 * 1024 * 1024
#: the columns read to map raw rows to cells (never a row's arrays)
_INDEX_COLUMNS = ["id", "source_path", "cell"]


@attrs.frozen
class CellRaw:
    """The raw rows of one cell (``cell`` None: rows of no cell of campaign.toml): their ids
    per raw table."""

    cell: str | None
    ids: Mapping[str, tuple[str, ...]]
    #: the ``source_path`` of those rows per raw table (the filter that skips row groups)
    paths: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)

    @property
    def known(self) -> bool:
        """Whether campaign.toml describes the cell (only those are fingerprinted and reused)."""
        return self.cell is not None


def relative_to_raw(path: str | None, raw_dir: Path) -> str | None:
    """``path`` (a row's ``source_path``, maybe ``archive.zip!/member``) relative to ``raw/``;
    None without a path or on another drive."""
    if not path:
        return None
    p = path.split("!/")[0]
    raw = _real(str(raw_dir))
    quick = os.path.abspath(p)  # no file-system access: the common case, a file under raw/
    try:
        if quick == raw or quick.startswith(raw + os.sep):
            return os.path.relpath(quick, raw)
        return os.path.relpath(os.path.realpath(p), raw)  # through links, e.g. a linked raw/
    except ValueError:
        return None


@functools.lru_cache(maxsize=64)
def _real(folder: str) -> str:
    return os.path.realpath(folder)


def cell_of_source(config: CampaignConfig, path: str | None, own: str | None) -> str | None:
    """The cell of a raw row: the cell whose ``raw_folder`` holds its ``source_path``, else the
    cell the reader gave it (``own``)."""
    rel = relative_to_raw(path, config.raw_dir)
    found = config.cell_for_path(rel) if rel and not rel.startswith("..") else None
    return found.id if found is not None else own


def _cells_of(config: CampaignConfig, index: pa.Table) -> list[str | None]:
    """The cell of every row of ``index`` (columns ``source_path`` and ``cell``), each distinct
    (path, reader cell) pair resolved once."""
    pairs = list(zip(index.column("source_path").to_pylist(), index.column("cell").to_pylist(),
                     strict=True))
    known = {c.id for c in config.cells}
    found = {pair: cell_of_source(config, *pair) for pair in dict.fromkeys(pairs)}
    return [c if c in known else None for c in (found[p] for p in pairs)]


def raw_rows_by_cell(store: Any, config: CampaignConfig) -> list[CellRaw]:
    """The raw rows of every cell (campaign.toml's order, rows of no known cell last), from
    the ids, paths and reader cells of the raw tables alone."""
    ids: dict[str | None, dict[str, list[str]]] = {c.id: {} for c in config.cells}
    paths: dict[str | None, dict[str, set[str]]] = {}
    stored = set(store.tables())
    for name in RAW_TABLES:
        if name not in stored:
            continue
        index = store.raw_columns(name, _INDEX_COLUMNS)
        for row_id, path, cell in zip(
            index.column("id").to_pylist(),
            index.column("source_path").to_pylist(),
            _cells_of(config, index),
            strict=True,
        ):
            ids.setdefault(cell, {}).setdefault(name, []).append(row_id)
            # a row without a path: no path filter for this cell and table (it would miss it)
            paths.setdefault(cell, {}).setdefault(name, set()).add(path)
    return [
        CellRaw(
            cell,
            {name: tuple(sorted(v)) for name, v in by_table.items()},
            {
                name: tuple(sorted(v))
                for name, v in paths.get(cell, {}).items()
                if None not in v
            },
        )
        for cell, by_table in ids.items()
        if by_table
    ]


def rows_of(raw: CellRaw, name: str) -> pc.Expression | None:
    """The filter that reads a cell's rows of raw table ``name`` (None: it has none): its row
    ids, and its files' paths, whose row-group statistics let a read skip other cells' rows."""
    ids = raw.ids.get(name)
    if not ids:
        return None
    where = pc.field("id").isin(pa.array(ids, pa.string()))
    paths = raw.paths.get(name)
    if paths:
        where = pc.field("source_path").isin(pa.array(paths, pa.string())) & where
    return where


def _config_of_cell(config: CampaignConfig, cell: str) -> dict[str, Any]:
    """campaign.toml as parsed, with every cell but ``cell`` left out (fields that only say
    where a value was written, e.g. line numbers, are not part of it)."""
    own = tuple(c for c in config.cells if c.id == cell)
    return attrs.asdict(
        attrs.evolve(config, cells=own), filter=lambda field, _value: field.eq is not False
    )


def _package_digest(package: str) -> str | None:
    """SHA-256 of the relative names and bytes of a package's ``.py`` files (None when it is
    not a package of files): an edit of an installed plugin's code that kept its version (an
    editable install in development) still changes every fingerprint."""
    module = sys.modules.get(package)
    where = getattr(module, "__file__", None)
    if where is None:
        return None
    root = Path(where).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _versions() -> dict[str, Any]:
    """The version of hydrofw and of every installed plugin by name, and the source digest of
    hydrofw, this plugin and every package whose processors the analysis may call."""
    registry = get_registry()
    packages = {"hydrofw", __name__.split(".")[0]} | {
        str(getattr(proc.process, "__module__", "")).split(".")[0]
        for proc in registry.processors.values()
    }
    return {
        "plugins": {p["name"]: p.get("version") for p in registry.describe()},
        "sources": {name: _package_digest(name) for name in sorted(packages) if name},
    }


def cell_fingerprints(config: CampaignConfig, cells: Sequence[CellRaw]) -> dict[str, str]:
    """SHA-256 fingerprint of every known cell (see the module docstring)."""
    versions = _versions()
    out = {}
    for raw in cells:
        if raw.cell is None:
            continue
        content = {
            "raw_ids": dict(sorted(raw.ids.items())),
            "config": _config_of_cell(config, raw.cell),
            "versions": versions,
        }
        text = json.dumps(content, sort_keys=True, default=str)
        out[raw.cell] = hashlib.sha256(text.encode()).hexdigest()
    return out


def reusable_cells(
    previous: Mapping[str, Any] | None, fingerprints: Mapping[str, str]
) -> list[str]:
    """The cells whose fingerprint equals the one the ``previous`` run record noted."""
    if not previous or previous.get("status") != "committed":
        return []
    before = previous.get("cell_fingerprints") or {}
    return [cell for cell, fp in fingerprints.items() if before.get(cell) == fp]


def light(table: pa.Table) -> pa.Table:
    """``table`` without its :data:`BULKY_COLUMNS`."""
    return table.select([c for c in table.column_names if c not in BULKY_COLUMNS])


def previous_rows(
    store: Any, run_id: str, cells: Sequence[str]
) -> Iterator[tuple[str, pa.Table]]:
    """The rows of ``cells`` in every per-cell derived table of run ``run_id``, as (table name,
    rows) chunks of about :data:`COPY_BATCH_BYTES` (never a whole large table in memory)."""
    if not cells:
        return
    where = pc.field("cell").isin(pa.array(sorted(cells), pa.string()))
    for name in store.store.tables(run=run_id):
        if name in CAMPAIGN_TABLES:
            continue
        for chunk in store.store.chunks(
            name, run=run_id, where=where, chunk_bytes=COPY_BATCH_BYTES
        ):
            yield name, chunk
