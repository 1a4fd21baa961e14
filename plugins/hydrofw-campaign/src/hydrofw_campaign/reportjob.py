"""Write a campaign's report from a store (after ``hydrofw run``, or alone for
``hydrofw report STORE``): metadata from ``campaign.toml``, the step parameters in force, the
run record, and the ingested experiments that no ``[experiments]`` rule took."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .config import CampaignConfig, load_campaign
from .percell import BULKY_COLUMNS, RAW_TABLES, CellRaw, raw_rows_by_cell, rows_of
from .pipeline import unanalysed_experiments

__all__ = ["campaign_report", "unanalysed_experiments", "step_parameters"]


def step_parameters(config: CampaignConfig) -> dict[str, dict[str, Any]]:
    """Parameters of each analysis step: defaults overridden by ``[pipeline.params]``."""
    from .pipeline import STEP_DEFAULTS

    steps = dict.fromkeys([*STEP_DEFAULTS, *config.pipeline.params])
    out = {}
    for step in steps:
        merged = dict(STEP_DEFAULTS.get(step, {}))
        merged.update(config.pipeline.params.get(step, {}))
        out[step] = merged
    return out


def campaign_report(
    store: Any,
    campaign_dir: Path,
    report_dir: Path,
    *,
    tables: Mapping[str, pa.Table] | None = None,
    notes: Sequence[str] = (),
    skipped: Sequence[tuple[str, str]] = (),
    failed: Sequence[tuple[str, str]] = (),
    run: Mapping[str, Any] | None = None,
    unanalysed: Sequence[tuple[str, str]] | None = None,
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Write the report of ``campaign_dir`` from ``tables`` (default: every table of
    ``store``); returns the files written and the unanalysed experiments (``unanalysed``: as
    the pipeline found them cell by cell; default: the run record's, else found here)."""
    from .report import run_info, write_report

    config = load_campaign(campaign_dir)
    stored = set(store.tables())
    if tables is None:  # a rebuild: every table of the latest run, without its arrays
        latest = store.latest_run() if hasattr(store, "latest_run") else None
        tables = {
            name: _light_table(store, name, run=latest)
            for name in (store.tables(run=latest) if latest else ())
        }
    tables = dict(tables)
    # the raw rows the results were made from, without their arrays (a cell's, with them, are
    # read when that cell is drawn)
    for name in RAW_TABLES:
        if name not in stored:
            continue
        raw = _light_table(store, name, raw=True)
        mine = tables.get(name)
        tables[name] = (
            raw if mine is None else pa.concat_tables([mine, raw], promote_options="default")
        )
    if run is None:  # a rebuild: the files the run skipped or failed are in its record
        run = run_info(store)
        if run:
            skipped = skipped or [tuple(x) for x in run.get("skipped_files") or ()]
            failed = failed or [tuple(x) for x in run.get("failed_files") or ()]
            notes = notes or list(run.get("notes") or ())
            if unanalysed is None and "unanalysed_experiments" in run:
                unanalysed = [(str(p), str(g)) for p, g in run["unanalysed_experiments"]]
        if unanalysed is None:
            unanalysed = unanalysed_experiments(tables.get("spectrum"), config)
    else:
        if unanalysed is None:
            unanalysed = unanalysed_experiments(tables.get("spectrum"), config)
        if hasattr(store, "note"):  # a recorded run: keep them for a later rebuild
            store.note(
                skipped_files=[list(x) for x in skipped],
                failed_files=[list(x) for x in failed],
                unanalysed_experiments=[list(x) for x in unanalysed],
            )
    unanalysed = list(unanalysed)
    kinds = {c.id: c.cell.kind for c in config.cells}
    files = write_report(
        tables,
        report_dir,
        cells_nmr=[c for c, k in kinds.items() if k == "nmr"],
        cells_transport=[c for c, k in kinds.items() if k == "transport"],
        synthesized_at={c.id: c.cell.synthesized_at for c in config.cells if c.cell.synthesized_at},
        title=f"{config.campaign.campaign}: campaign report",
        notes=notes,
        skipped=skipped,
        failed=failed,
        unanalysed=unanalysed,
        run=run,
        parameters=step_parameters(config),
        cell_tables=_CellTables(store, config, stored),
    )
    return files, unanalysed


def _light_table(
    store: Any, name: str, *, raw: bool = False, run: str | None = None
) -> pa.Table:
    """The rows of a table without its array columns, read without them: its raw rows
    (``raw``) or those of run ``run``."""
    if raw:
        columns = [c for c in store.column_names(name, raw=True) if c not in BULKY_COLUMNS]
        return store.raw_columns(name, columns)
    columns = [c for c in store.column_names(name, run=run) if c not in BULKY_COLUMNS]
    return store.table(name, columns=columns, run=run)


class _CellTables:
    """One cell's rows of every table, with their arrays (what drawing the cell needs): the
    derived rows by ``cell``, the raw rows by the files of the cell's ``raw_folder``."""

    def __init__(self, store: Any, config: CampaignConfig, stored: set[str]) -> None:
        self.store, self.config = store, config
        # the tables with a ``cell`` column (a campaign-wide table has none: no cell figure
        # draws from it)
        self.names = [n for n in sorted(stored) if "cell" in store.column_names(n)]
        self._raw: dict[str | None, CellRaw] | None = None

    def __call__(self, cell: str) -> dict[str, pa.Table]:
        if self._raw is None:  # the raw rows' cells: read once, when a first cell is drawn
            self._raw = {r.cell: r for r in raw_rows_by_cell(self.store, self.config)}
        mine = pc.field("cell") == cell
        raw = self._raw.get(cell)
        out = {}
        for name in self.names:
            where = rows_of(raw, name) if raw is not None and name in RAW_TABLES else None
            out[name] = self.store.table(name, where=mine if where is None else mine | where)
        return out
