"""The campaign pipeline ``hydrofw run`` runs after ingest (hook ``hydrofw_campaign_ingested``).

Every analysis step is a processor of an installed plugin, called by name through
``hydrofw.process`` (this plugin imports no other plugin):

1. metadata: the ``campaign`` and ``cell`` tables from ``campaign.toml``;
2. spectra: raw FIDs -> ``nmr.fid_to_spectrum`` -> ``nmr.reference`` (each cell with its own
   reference and 63Cu shielding correction) -> ``nmr.lineshape``;
3. relaxation: T1/T2 series -> ``relaxation.build`` -> ``relaxation.fit`` -> ``nmr.diffusion``;
4. molecular H2: solid echoes -> ``nmr.fid_to_spectrum`` (echo top) -> ``nmr.pake_fit``;
5. spin counting: 1H and 139La lineshapes -> ``nmr.quantify`` (H/La);
6. transport: ``transport.tc``;
7. time series per cell and ``campaign.kinetics``.

Before any of it, the campaign's console facts are applied to the raw rows: each cell's clock
zone to the timestamps the readers flag ``acquired_at_local_time`` and its nucleus to rows whose
header named none. The 63Cu/65Cu FIDs of each cell give the DAC shielding of every session
(table ``dac_shielding``, :mod:`hydrofw_campaign.copper`), applied to the shifts of the same
cell and session.

Parameters of a step: its defaults (:data:`STEP_DEFAULTS`), then ``[pipeline.params."<step>"]``,
then the cell's ``[cells.pipeline.params."<step>"]``. A layer that sets any key of a parameter
group (:data:`PARAM_GROUPS`, e.g. the spin density of ``nmr.diffusion``: a number density or a
lattice) replaces the whole group of the layers below. Everything is validated by
:func:`validate_campaign` before any raw file is read. A step whose processor is not installed
is skipped and named in the summary; a step that fails on some rows is retried per dataset, the
failing ones are named in the summary (``step_failures``) and the rest of the campaign
completes. Every result row gets ``cell``, ``campaign`` and ``days_since_synthesis``; all
tables are written to the store (content-derived ids).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import hydrofw
from hydrofw.errors import CampaignError, HydrofwError, PluginError
from hydrofw.memory import release_free_memory
from hydrofw.registry import get_registry
from hydrofw.schema import conform, empty
from hydrofw.store import Store

from .config import (
    COPPER_NUCLEI,
    STEP_PROCESSORS,
    CampaignConfig,
    CellConfig,
    check_pipeline,
    load_campaign,
)
from .copper import Sessions, Shielding, session_shieldings
from .copper import to_table as shielding_table
from .percell import (
    CAMPAIGN_TABLES,
    CellRaw,
    cell_fingerprints,
    cell_of_source,
    light,
    previous_rows,
    raw_rows_by_cell,
    relative_to_raw,
    reusable_cells,
    rows_of,
)
from .timeseries import SECONDS_PER_DAY

__all__ = [
    "CampaignResults",
    "run_pipeline",
    "validate_campaign",
    "step_params",
    "merge_params",
    "apply_console_facts",
    "STEP_DEFAULTS",
    "PARAM_GROUPS",
    "LA_DETECTION",
    "REFERENCE_FLAGS",
]

#: Default parameters of each step; campaign.toml's [pipeline.params] override them.
#: ``solid_echo`` and ``cu_reference`` are ``nmr.fid_to_spectrum`` of the solid echoes and of
#: the 63Cu Lenz-lens FIDs.
STEP_DEFAULTS: dict[str, dict[str, Any]] = {
    "nmr.fid_to_spectrum": {"phase": "auto"},
    "cu_reference": {"phase": "auto"},
    # Voigt: mobile (Lorentzian) and dipolar-broadened (Gaussian) lines alike
    "nmr.lineshape": {"model": "voigt"},
    "nmr.reference": {},
    "relaxation.build": {},
    "relaxation.fit": {},
    "nmr.diffusion": {
        "lattice_constant_angstrom": 5.10,
        "formula_units_per_cell": 4,
        "spins_per_formula_unit": 10.0,
        "closest_distance_angstrom": 1.0,
    },
    "solid_echo": {"echo": "top", "phase": "auto"},
    "nmr.pake_fit": {"n_distances": 2, "central_line": True},
    # every 1H FID of an NMR cell: metal hydride + molecular H2 (+ broad precursor line)
    # a digitally filtered FID's sample at t = 0 holds half the onset step, its height set by
    # where the ADC sampled the pulse's end: left out (the model extrapolates across it)
    "nmr.decompose": {"skip_origin_point": True},
    "nmr.quantify": {},
    # a wider inflection window than the processor's default (0.8) halves the smoothing bias
    # of the onset tangent on noisy sweeps (measured on the example campaign: 0.20 K -> 0.04 K)
    "transport.tc": {"peak_window_fraction": 0.6},
    "campaign.kinetics": {},
}

_DENSITY = frozenset(
    {
        "number_density_cm3",
        "number_density_cm3_err",
        "lattice_constant_angstrom",
        "lattice_constant_angstrom_err",
        "formula_units_per_cell",
        "spins_per_formula_unit",
        "spins_per_formula_unit_err",
    }
)

#: Groups of parameters that belong together: a layer (campaign, cell) that sets any key of a
#: group drops every key of that group from the layers below, so alternatives never collide.
PARAM_GROUPS: dict[str, tuple[frozenset[str], ...]] = {
    "nmr.diffusion": (_DENSITY, frozenset({"larmor_frequency_hz", "field_t"})),
    "nmr.lineshape": tuple(
        frozenset({f"{what}_range_hz", f"{what}_range_ppm"})
        for what in ("peak", "integral", "noise")
    ),
    "nmr.reference": (
        frozenset({"method", "reference_line_hz", "reference_line_hz_err", "reference_line_ppm"}),
    ),
}

#: Default ``relaxation.build`` window start (us after t = 0) of 1H T1 series: molecular H2
#: in the cell (two Pake doublets, gone within tens of microseconds) and a dipolar-broadened
#: precursor line (~50 kHz, gone within ~15 us) have their own T1 and would bias the metal
#: hydride's T1 if counted; the hydride line (1-5 kHz) keeps most of its signal here.
H2_SKIP_US = 60.0

#: Default upper bound (Hz) of the narrow 1H line in ``nmr.decompose``: metal-hydride lines are
#: 1-5 kHz wide; a wider "narrow" line would trade amplitude with the broad precursor line.
HYDRIDE_FWHM_MAX_HZ = 20e3

#: campaign.toml's la_detection -> nmr.quantify's detection names.
LA_DETECTION = {
    "all_transitions": "full",
    "central_transition_hard": "central_transition_nonselective",
    "central_transition_selective": "central_transition_selective",
}

#: Spectrum flags of the referencing that are copied onto the lineshape rows.
REFERENCE_FLAGS = ("shift_implausible", "nearest_session", "no_cu_reference")


@attrs.define
class CampaignResults:
    """Tables produced by one pipeline run, by table name, notes on skipped steps and the
    rows a step could not process (``failures``)."""

    tables: dict[str, pa.Table] = attrs.field(factory=dict)
    notes: list[str] = attrs.field(factory=list)
    failures: list[dict[str, Any]] = attrs.field(factory=list)
    #: cells of campaign.toml analysed by this run, and those whose rows an earlier run gave
    cells_analysed: list[str] = attrs.field(factory=list)
    cells_reused: list[str] = attrs.field(factory=list)
    #: (source path, pulse program) of raw acquisitions no experiment rule classifies
    unanalysed: list[tuple[str, str]] = attrs.field(factory=list)

    def add(self, name: str, table: pa.Table | None, *, check: bool = True) -> None:
        """Add rows to table ``name`` (``check``: conformed to its schema first; off for rows
        already conformed, e.g. without their array columns)."""
        if table is None or table.num_rows == 0:
            return
        if name in self.tables:
            table = pa.concat_tables(
                [self.tables[name], conform(table, name) if check else table],
                promote_options="default",
            )
        self.tables[name] = table

    def merge(self, other: CampaignResults) -> None:
        """Add the tables, notes (each once) and failures of ``other``."""
        for name, table in other.tables.items():
            self.add(name, table)
        self.notes.extend(n for n in other.notes if n not in self.notes)
        self.failures.extend(other.failures)
        self.unanalysed = sorted(dict([*self.unanalysed, *other.unanalysed]).items())


# ----------------------------------------------------------------------------- parameters
def merge_params(step: str, *layers: Mapping[str, Any]) -> dict[str, Any]:
    """Layers of parameters, later ones winning; a layer that sets a key of one of the step's
    :data:`PARAM_GROUPS` removes the whole group of the earlier layers first."""
    merged: dict[str, Any] = {}
    for layer in layers:
        for group in PARAM_GROUPS.get(step, ()):
            if group & set(layer):
                for key in group:
                    merged.pop(key, None)
        merged.update(layer)
    return merged


def step_params(
    config: CampaignConfig, step: str, cell: str | None = None, **fixed: Any
) -> dict[str, Any]:
    """Parameters of ``step`` (for ``cell``): defaults, campaign, cell, what the pipeline fixes."""
    own = config.cell(cell).params.get(step, {}) if cell is not None else {}
    return merge_params(
        step, STEP_DEFAULTS.get(step, {}), config.pipeline.params.get(step, {}), own, fixed
    )


def _params(config: CampaignConfig, step: str, **fixed: Any) -> dict[str, Any]:
    """Campaign-wide parameters of ``step`` (no cell layer)."""
    return step_params(config, step, None, **fixed)


def _fixed_quantify(config: CampaignConfig) -> dict[str, Any]:
    q = config.quantification
    fixed: dict[str, Any] = {
        "numerator": "1H",
        "denominator": "139La",
        "p_exponent": q.gamma_exponent,
        "denominator_detection": LA_DETECTION[q.la_detection],
    }
    # one run gives both: with a calibration nmr.quantify fills the first-principles and the
    # calibrated columns; ``method`` only chooses which of them ``ratio`` (and the time series)
    # holds
    if q.calibration_h_over_la is not None:
        fixed.update(reference_ratio=q.calibration_h_over_la, reference="before_synthesis")
        if q.method == "calibrated":
            fixed["mode"] = "calibrated"
    return fixed


def _fixed_kinetics(config: CampaignConfig) -> dict[str, Any]:
    k = config.kinetics
    return {
        "quantities": list(k.quantities),
        "window_start_days": k.window_start_days,
        "window_end_days": k.window_end_days,
        "max_relative_error": k.max_relative_error,
    }


def _diffusion_params(config: CampaignConfig, cell: str | None) -> dict[str, Any]:
    params = step_params(config, "nmr.diffusion", cell)
    if "field_t" not in params and "larmor_frequency_hz" not in params:
        if config.campaign.proton_frequency_hz is not None:
            params["larmor_frequency_hz"] = config.campaign.proton_frequency_hz
    return params


def _static_params(config: CampaignConfig, step: str, cell: str | None) -> dict[str, Any]:
    """The parameters a step runs with that do not depend on the data (for validation)."""
    if step == "nmr.diffusion":
        return _diffusion_params(config, cell)
    fixed: dict[str, Any] = {}
    if step == "nmr.reference":
        fixed["proton_tms_frequency_hz"] = config.campaign.proton_frequency_hz or 1e8
    elif step == "relaxation.build":
        fixed["kind"] = "T2_hahn_echo"
    elif step == "nmr.quantify":
        fixed = _fixed_quantify(config)
    elif step == "campaign.kinetics":
        fixed = _fixed_kinetics(config)
    return step_params(config, step, cell, **fixed)


def validate_campaign(config: CampaignConfig) -> list[str]:
    """Check every step's parameters, campaign-wide and per cell, against the installed
    processors' parameter classes (before any raw file is read); notes on skipped steps.

    Raises :class:`CampaignError` naming the campaign.toml table of the problem."""
    check_pipeline(config)
    registry = get_registry()
    notes = []
    steps = (
        dict.fromkeys(STEP_DEFAULTS)
        | dict.fromkeys(config.pipeline.params)
        | {s: None for c in config.cells for s in c.params}
    )
    default_where = f"{config.root / 'campaign.toml'}: pipeline"
    for step in steps:
        name = STEP_PROCESSORS.get(step, step)
        try:
            proc = registry.processor(name)
        except PluginError:
            notes.append(f"step {step} will be skipped: no installed plugin provides {name}")
            continue
        for cell in (None, *config.cells):
            cell_id = None if cell is None else cell.id
            if cell is not None and step not in cell.params:
                continue
            where = (
                cell.locations.get(step, default_where)
                if cell is not None
                else config.pipeline.locations.get(step, default_where)
            )
            try:
                proc.params(**_static_params(config, step, cell_id))
            except (TypeError, ValueError, HydrofwError) as exc:
                what = f"step {step!r}" + (f" of cell {cell_id!r}" if cell_id else "")
                raise CampaignError(f"{where}: {what}: {exc}") from None
    return notes


# ----------------------------------------------------------------------------- helpers
def _have(name: str) -> bool:
    try:
        get_registry().processor(name)
    except PluginError:
        return False
    return True


def _describe(rows: pa.Table) -> list[str]:
    for column in ("source_path", "relaxation_id", "spectrum_id", "id"):
        if column in rows.column_names:
            return sorted({str(v) for v in rows.column(column).to_pylist() if v is not None})
    return []


def _run_step(
    results: CampaignResults,
    step: str,
    table: pa.Table,
    params: Mapping[str, Any],
    *,
    group_by: str = "id",
) -> pa.Table:
    """``hydrofw.process`` of ``step`` (its processor) on ``table``; an empty table when the
    processor is not installed. When the batch fails, each ``group_by`` group is processed on
    its own: failing groups are named in ``results.failures`` and left out, the rest is kept."""
    name = STEP_PROCESSORS.get(step, step)
    if not _have(name):
        note = f"step {step} skipped: no installed plugin provides {name}"
        if note not in results.notes:
            results.notes.append(note)
        return pa.table({})
    try:
        return hydrofw.process(name, table, **params)
    except HydrofwError as exc:
        if table.num_rows <= 1 or group_by not in table.column_names:
            _failure(results, step, table, exc)
            return empty(get_registry().processor(name).output_table)
    keys = table.column(group_by).to_pylist()
    out = []
    for key in dict.fromkeys(keys):
        rows = _where(table, np.array([k == key for k in keys]))
        try:
            out.append(hydrofw.process(name, rows, **params))
        except HydrofwError as exc:
            _failure(results, step, rows, exc)
    out = [t for t in out if t.num_rows]
    if not out:
        return empty(get_registry().processor(name).output_table)
    return pa.concat_tables(out, promote_options="default")


def _failure(results: CampaignResults, step: str, rows: pa.Table, exc: Exception) -> None:
    cells = sorted({str(c) for c in rows.column("cell").to_pylist()}) if "cell" in (
        rows.column_names
    ) else []
    sources = _describe(rows)
    message = " ".join(str(exc).split())
    results.failures.append(
        {"step": step, "cells": cells, "rows": rows.num_rows, "inputs": sources, "error": message}
    )
    shown = ", ".join(Path(s).name if "/" in s else s[:12] for s in sources[:3])
    more = f" and {len(sources) - 3} more" if len(sources) > 3 else ""
    results.notes.append(
        f"step {step} failed on {rows.num_rows} row(s) of cell {', '.join(cells) or '?'} "
        f"({shown}{more}): {message}; left out, the rest of the campaign continues"
    )


def _per_cell(
    results: CampaignResults,
    config: CampaignConfig,
    step: str,
    table: pa.Table,
    params_for: Any = None,
    *,
    group_by: str = "id",
) -> pa.Table:
    """``step`` on ``table`` with each cell's parameters (one call when no cell has its own)."""
    if table.num_rows == 0:
        return table
    params_for = params_for or (lambda cell: step_params(config, step, cell))
    cells = _column(table, "cell")
    own = {c.id for c in config.cells if step in c.params}
    batches: list[tuple[str | None, np.ndarray]] = []
    if not own & set(cells):
        batches.append((None, np.ones(table.num_rows, bool)))
    else:
        batches += [(c, cells == c) for c in dict.fromkeys(cells)]
    out = [
        _run_step(results, step, _where(table, mask), params_for(cell), group_by=group_by)
        for cell, mask in batches
    ]
    out = [t for t in out if t.num_rows]
    if not out:
        return pa.table({})
    return out[0] if len(out) == 1 else pa.concat_tables(out, promote_options="default")


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    if name in table.column_names:
        i = table.column_names.index(name)
        return table.set_column(i, table.schema.field(i), values.cast(table.schema.field(i).type))
    return table.append_column(name, values)


def _epoch_s(column: pa.ChunkedArray) -> np.ndarray:
    """Seconds since 1970 (NaN for nulls) of a timestamp column."""
    as_us = pc.cast(column, pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return np.asarray(pc.fill_null(as_us.cast(pa.float64()), np.nan), dtype=float) / 1e6


def attach_campaign(table: pa.Table, config: CampaignConfig, path_column: str) -> pa.Table:
    """Set ``cell`` (by the cell's ``raw_folder``), ``campaign`` on rows read from ``raw/``."""
    cells = [
        cell_of_source(config, path, cell)
        for path, cell in zip(
            table.column(path_column).to_pylist(), table.column("cell").to_pylist(), strict=True
        )
    ]
    table = _set(table, "cell", pa.array(cells, pa.string()))
    return _set(table, "campaign", pa.array([config.campaign.campaign] * table.num_rows))


def _known_cell(config: CampaignConfig, cell: str | None) -> CellConfig | None:
    return next((c for c in config.cells if c.id == cell), None)


def apply_console_facts(table: pa.Table, config: CampaignConfig) -> pa.Table:
    """Each cell's ``[cells.acquisition]`` on its raw rows: the clock zone turns timestamps
    flagged ``acquired_at_local_time`` (a console wall clock the reader stored as if UTC) into
    true UTC (flag replaced by ``acquired_at_console_timezone``); ``nucleus`` replaces a nucleus
    the reader had to infer (flag ``nucleus_inferred``, formerly ``nucleus_guessed`` ->
    ``nucleus_from_campaign``)."""
    if table.num_rows == 0 or not any(
        c.acquisition.timezone or c.acquisition.nucleus for c in config.cells
    ):
        return table
    cells = table.column("cell").to_pylist()
    flags = [list(f or []) for f in table.column("flags").to_pylist()]
    times = table.column("acquired_at").to_pylist()
    nuclei = table.column("nucleus").to_pylist()
    changed = False
    for i, cell_id in enumerate(cells):
        cell = _known_cell(config, cell_id)
        if cell is None:
            continue
        tz = cell.acquisition.tzinfo
        if tz is not None and "acquired_at_local_time" in flags[i] and times[i] is not None:
            wall = times[i].replace(tzinfo=None)
            times[i] = wall.replace(tzinfo=tz).astimezone(dt.UTC)
            flags[i] = [
                "acquired_at_console_timezone" if f == "acquired_at_local_time" else f
                for f in flags[i]
            ]
            changed = True
        own = cell.acquisition.nucleus
        inferred = {"nucleus_inferred", "nucleus_guessed"}
        if own is not None and (nuclei[i] is None or inferred & set(flags[i])):
            nuclei[i] = own
            flags[i] = ["nucleus_from_campaign" if f in inferred else f for f in flags[i]]
            if "nucleus_from_campaign" not in flags[i]:
                flags[i].append("nucleus_from_campaign")
            changed = True
    if not changed:
        return table
    table = _set(table, "acquired_at", pa.array(times, pa.timestamp("us", tz="UTC")))
    table = _set(table, "nucleus", pa.array(nuclei, pa.string()))
    return _set(table, "flags", pa.array(flags, pa.list_(pa.string())))


def with_days(table: pa.Table, config: CampaignConfig) -> pa.Table:
    """Fill ``days_since_synthesis`` from ``acquired_at`` and each cell's synthesis time."""
    if table.num_rows == 0 or "acquired_at" not in table.column_names:
        return table
    synth = {
        c.id: c.cell.synthesized_at.timestamp()
        for c in config.cells
        if c.cell.synthesized_at is not None
    }
    start = np.array([synth.get(c, np.nan) for c in table.column("cell").to_pylist()], float)
    days = (_epoch_s(table.column("acquired_at")) - start) / SECONDS_PER_DAY
    return _set(table, "days_since_synthesis", pa.array(days, from_pandas=True))


def classify(spectra: pa.Table, config: CampaignConfig) -> list[str | None]:
    """Experiment kind of each spectrum row by the campaign's ``[experiments]`` rules."""
    rows = spectra.select(["pulse_program", "source_path", "experiment", "nucleus"]).to_pylist()
    return [
        config.classify(
            pulse_program=r["pulse_program"],
            path=relative_to_raw(r["source_path"], config.raw_dir),
            title=r["experiment"],
            nucleus=r["nucleus"],
        )
        for r in rows
    ]


def _where(table: pa.Table, mask: np.ndarray) -> pa.Table:
    return table.filter(pa.array(mask, pa.bool_()))


def _column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_pylist(), dtype=object)


def _sessions(table: pa.Table, config: CampaignConfig) -> Sessions:
    """The measuring sessions of every cell, from the acquisition times of ``table``."""
    zones = {c.id: c.acquisition.tzinfo for c in config.cells}
    return Sessions.from_times(
        table.column("cell").to_pylist(), table.column("acquired_at").to_pylist(), zones
    )


# ----------------------------------------------------------------------------- stages
def _metadata(config: CampaignConfig, results: CampaignResults) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    campaign = attrs.evolve(
        config.campaign, root=str(config.root), created_at=now, config_version=config.version
    )
    results.add("campaign", hydrofw.to_table([campaign]))
    results.add("cell", hydrofw.to_table([c.cell for c in config.cells]))


def _copper(
    results: CampaignResults,
    config: CampaignConfig,
    fids: pa.Table,
    sessions: Sessions,
) -> dict[tuple[str, str], Shielding]:
    """The Cu Lenz-lens FIDs -> spectra -> lines -> sigma_DAC per cell and session."""
    if fids.num_rows == 0:
        return {}
    spectra = _per_cell(results, config, "cu_reference", fids)
    if spectra.num_rows == 0:
        return {}
    proton = config.campaign.proton_frequency_hz
    if proton is not None:  # a ppm axis against Xi: the line sits at the Cu Knight shift
        referenced = _run_step(
            results, "nmr.reference", spectra, {"proton_tms_frequency_hz": proton}
        )
        spectra = referenced if referenced.num_rows else spectra
    results.add("spectrum", spectra)
    lines = _per_cell(results, config, "nmr.lineshape", spectra)
    if lines.num_rows == 0:
        return {}
    results.add("lineshape", with_days(lines, config))
    positions = _line_positions_from_fids(results, config, fids, lines)
    values, notes = session_shieldings(config, positions, sessions)
    results.notes.extend(notes)
    table = shielding_table(list(values.values()), config.campaign.campaign)
    if table.num_rows:
        results.add("dac_shielding", with_days(conform(table, "dac_shielding"), config))
    return values


def _line_positions_from_fids(
    results: CampaignResults, config: CampaignConfig, fids: pa.Table, lines: pa.Table
) -> pa.Table:
    """The Cu lines' positions from a time-domain fit of their FIDs (``nmr.decompose``, one
    line, through the cell's receiver model): the spectrum's peak carries the phase and
    baseline errors of a console's dead time, ring-down and analog filter, which the
    time-domain model does not (its offsets agree with the spectra's on digital consoles,
    with errors of ~0.5 Hz instead of 5-25 Hz). ``peak_hz`` / ``peak_hz_err`` of each line
    are replaced where the fit of the same FID (cell, acquisition time) succeeded."""
    if not _have("nmr.decompose"):
        return lines
    fits = _per_cell(
        results,
        config,
        "nmr.decompose",
        fids,
        lambda c: step_params(config, "nmr.decompose", c, components=("hydride",)),
    )
    if fits.num_rows == 0:
        return lines
    good = {}
    for r in fits.select(["cell", "acquired_at", "hydride_offset_hz", "hydride_offset_hz_err",
                          "flags"]).to_pylist():
        bad = {"fit_failed", "too_short", "too_noisy", "no_noise_estimate"} & set(r["flags"] or [])
        off, err = r["hydride_offset_hz"], r["hydride_offset_hz_err"]
        if not bad and off is not None and err is not None and np.isfinite(off) and err > 0:
            good[(r["cell"], r["acquired_at"])] = (off, err)
    keys = zip(lines.column("cell").to_pylist(), lines.column("acquired_at").to_pylist(),
               strict=True)
    found = [good.get(k) for k in keys]
    if not any(found):
        return lines
    peak = [f[0] if f else v for f, v in zip(found, lines.column("peak_hz").to_pylist(),
                                              strict=True)]
    err = [f[1] if f else v for f, v in zip(found, lines.column("peak_hz_err").to_pylist(),
                                            strict=True)]
    lines = _set(lines, "peak_hz", pa.array(peak, pa.float64()))
    return _set(lines, "peak_hz_err", pa.array(err, pa.float64()))


def _reference_params(
    config: CampaignConfig, cell: str, nucleus: str, shielding: Shielding | None
) -> tuple[dict[str, Any], list[str]]:
    """``nmr.reference`` parameters of one cell, nucleus and session, and the flags to add."""
    ref = config.reference(nucleus, cell)
    fixed: dict[str, Any] = {"proton_tms_frequency_hz": config.campaign.proton_frequency_hz}
    flags: list[str] = []
    if ref.frequency_hz is not None and ref.kind in ("external", "internal_cu"):
        fixed.update(method="external", reference_line_hz=ref.frequency_hz)
    if ref.kind == "internal_cu" and not ref.measured_cu:
        fixed.update(
            copper_dac_hz=ref.cu_dac_frequency_hz,
            copper_dac_hz_err=ref.cu_dac_frequency_err_hz,
            copper_ambient_hz=ref.cu_ambient_frequency_hz,
            copper_ambient_hz_err=ref.cu_ambient_frequency_err_hz,
        )
    elif ref.measured_cu and shielding is not None:
        fixed.update(
            copper_dac_hz=shielding.cu_frequency_hz,
            copper_dac_hz_err=shielding.cu_frequency_hz_err,
            copper_ambient_hz=shielding.cu_ambient_frequency_hz,
            copper_ambient_hz_err=shielding.cu_ambient_frequency_hz_err,
        )
        flags += list(shielding.flags)
    elif ref.measured_cu:
        flags.append("no_cu_reference")
    if ref.compound:
        fixed["reference_compound"] = ref.compound
    return step_params(config, "nmr.reference", cell, **fixed), flags


def _add_flags(table: pa.Table, extra: list[str]) -> pa.Table:
    if not extra or table.num_rows == 0:
        return table
    old = table.column("flags").to_pylist() if "flags" in table.column_names else None
    rows = old or [None] * table.num_rows
    merged = [list(f or []) + [x for x in extra if x not in (f or [])] for f in rows]
    return _set(table, "flags", pa.array(merged, pa.list_(pa.string())))


def _reference(
    results: CampaignResults,
    config: CampaignConfig,
    spectra: pa.Table,
    shielding: Mapping[tuple[str, str], Shielding],
    sessions: Sessions,
) -> pa.Table:
    """``nmr.reference`` per cell, nucleus and (for a measured 63Cu reference) session."""
    out = []
    cells, nuclei = _column(spectra, "cell"), _column(spectra, "nucleus")
    sessions_of = np.asarray(
        [
            sessions.name(c, t)
            for c, t in zip(cells, spectra.column("acquired_at").to_pylist(), strict=True)
        ],
        dtype=object,
    )
    missing: set[str] = set()
    for cell, nuc in sorted({(c, n) for c, n in zip(cells, nuclei, strict=True)}, key=str):
        group = (cells == cell) & (nuclei == nuc)
        measured = _known_cell(config, cell) is not None and config.reference(nuc, cell).measured_cu
        days = sorted(set(sessions_of[group]), key=str) if measured else [None]
        for day in days:
            mask = group & (sessions_of == day) if measured else group
            value = shielding.get((cell, day)) if measured and day is not None else None
            if _known_cell(config, cell) is not None:
                params, flags = _reference_params(config, cell, nuc, value)
            else:  # a folder of raw/ that no cell claims: the campaign's reference
                proton = config.campaign.proton_frequency_hz
                params = step_params(config, "nmr.reference", proton_tms_frequency_hz=proton)
                flags = []
            if "no_cu_reference" in flags:
                missing.add(str(cell))
            rows = _run_step(results, "nmr.reference", _where(spectra, mask), params)
            out.append(_add_flags(rows, flags))
    for cell in sorted(missing):
        results.notes.append(
            f"cell {cell}: internal_cu reference but no 63Cu/65Cu line was measured in the cell; "
            "its shifts are not corrected for the DAC shielding (flag no_cu_reference)"
        )
    out = [t for t in out if t.num_rows]
    return pa.concat_tables(out, promote_options="default") if out else empty("spectrum")


def _copy_reference_flags(
    results: CampaignResults, lines: pa.Table, spectra: pa.Table
) -> pa.Table:
    """Referencing flags of each spectrum onto its lineshape row; notes on implausible shifts."""
    if lines.num_rows == 0 or "spectrum_id" not in lines.column_names:
        return lines
    by_id = {
        i: [f for f in (flags or []) if f in REFERENCE_FLAGS]
        for i, flags in zip(
            spectra.column("id").to_pylist(), spectra.column("flags").to_pylist(), strict=True
        )
    }
    old = lines.column("flags").to_pylist()
    new = []
    for sid, flags in zip(lines.column("spectrum_id").to_pylist(), old, strict=True):
        f = list(flags or [])
        new.append(f + [x for x in by_id.get(sid, []) if x not in f])
    lines = _set(lines, "flags", pa.array(new, pa.list_(pa.string())))
    bad: dict[tuple[str, str], list[float]] = {}
    for row, f in zip(lines.select(["cell", "nucleus", "peak_ppm"]).to_pylist(), new, strict=True):
        if "shift_implausible" in f:
            bad.setdefault((str(row["cell"]), str(row["nucleus"])), []).append(
                row["peak_ppm"] if row["peak_ppm"] is not None else float("nan")
            )
    for (cell, nucleus), ppm in sorted(bad.items()):
        results.notes.append(
            f"cell {cell}: {len(ppm)} {nucleus} shift(s) near {np.nanmedian(ppm):,.0f} ppm lie "
            "outside the plausible range of the nucleus (flag shift_implausible): check "
            "field_t / proton_frequency_hz, the nucleus and the reference in campaign.toml"
        )
    return lines


def _spectra(
    results: CampaignResults,
    config: CampaignConfig,
    fids: pa.Table,
    shielding: Mapping[tuple[str, str], Shielding],
    sessions: Sessions,
) -> pa.Table:
    """FIDs -> referenced spectra (stored) -> lineshape (returned)."""
    spectra = _per_cell(results, config, "nmr.fid_to_spectrum", fids)
    if spectra.num_rows == 0:
        return empty("lineshape")
    spectra = _reference(results, config, spectra, shielding, sessions)
    results.add("spectrum", spectra)
    lines = _per_cell(results, config, "nmr.lineshape", spectra)
    if lines.num_rows == 0:
        return empty("lineshape")
    return with_days(_copy_reference_flags(results, lines, spectra), config)


def _echo_delay(
    config: CampaignConfig, cell: str | None, fmt: str | None, variable: str | None
) -> str:
    """Echo-delay convention of a cell's series: the cell's step parameter, its console facts,
    the campaign's step parameter, else by format (Varian ``tau`` arrays hold tau; Bruker
    vdlists and every other list are taken as written, the full echo time)."""
    c = _known_cell(config, cell)
    own = c.params.get("relaxation.build", {}) if c is not None else {}
    if "echo_delay" in own:
        return str(own["echo_delay"])
    if c is not None and c.acquisition.echo_delay is not None:
        return c.acquisition.echo_delay
    campaign = config.pipeline.params.get("relaxation.build", {})
    if "echo_delay" in campaign:
        return str(campaign["echo_delay"])
    return "tau" if fmt == "varian" and (variable or "").lower() == "tau" else "full"


def _relaxation(
    results: CampaignResults, config: CampaignConfig, series: pa.Table, kinds: np.ndarray
) -> None:
    for kind in ("T1_saturation_recovery", "T1_inversion_recovery", "T2_hahn_echo", "T2_cpmg"):
        rows = _where(series, kinds == kind)
        if rows.num_rows == 0:
            continue
        cells = _column(rows, "cell")
        echo = np.array(
            [
                _echo_delay(config, c, f, v)
                for c, f, v in zip(
                    cells, _column(rows, "format"), _column(rows, "array_variable"), strict=True
                )
            ],
            dtype=object,
        )
        nuclei = _column(rows, "nucleus")
        for cell, delay, nucleus in dict.fromkeys(zip(cells, echo, nuclei, strict=True)):
            group = _where(rows, (cells == cell) & (echo == delay) & (nuclei == nucleus))
            build = step_params(config, "relaxation.build", cell, kind=kind, echo_delay=delay)
            if kind.startswith("T1") and nucleus == "1H" and "skip_us" not in build:
                build["skip_us"] = H2_SKIP_US
            curves = _run_step(results, "relaxation.build", group, build, group_by="source_path")
            if curves.num_rows == 0:
                continue
            results.add("relaxation", curves)
            fits = _per_cell(results, config, "relaxation.fit", curves)
            results.add("relaxation_fit", with_days(fits, config))
    fits = results.tables.get("relaxation_fit")
    if fits is not None and _have("nmr.diffusion"):
        t1 = fits.filter(pc.is_valid(fits.column("t1_s")))
        if t1.num_rows:
            out = _per_cell(
                results, config, "nmr.diffusion", t1, lambda c: _diffusion_params(config, c)
            )
            _note_flagged(results, out, "nucleus_not_spin_half", "nmr.diffusion: eq. (1) needs "
                          "like spins I = 1/2; rows kept without D")
            results.add("diffusion", with_days(out, config))


def _note_flagged(results: CampaignResults, table: pa.Table, flag: str, why: str) -> None:
    if table.num_rows == 0 or "flags" not in table.column_names:
        return
    hit = [
        (r["cell"], r.get("nucleus"))
        for r, f in zip(
            table.select([c for c in ("cell", "nucleus") if c in table.column_names]).to_pylist(),
            table.column("flags").to_pylist(),
            strict=True,
        )
        if flag in (f or [])
    ]
    if hit:
        what = ", ".join(sorted({f"{c} {n}" for c, n in hit}))
        results.notes.append(f"{len(hit)} row(s) flagged {flag} ({what}): {why}")


def _molecular_h2(results: CampaignResults, config: CampaignConfig, echoes: pa.Table) -> None:
    spectra = _per_cell(results, config, "solid_echo", echoes)
    if spectra.num_rows == 0:
        return
    results.add("spectrum", spectra)
    fits = _per_cell(results, config, "nmr.pake_fit", spectra)
    results.add("pake_fit", with_days(fits, config))


def _decomposition(results: CampaignResults, config: CampaignConfig, fids: pa.Table) -> pa.Table:
    """Every 1H and 139La FID of the campaign -> ``nmr.decompose``, stored as
    ``decomposition``: 1H as metal hydride, molecular H2 and a broad precursor line (t = 0
    amplitudes, H2 fraction, r_n, r_nn); 139La as one line.
    The t = 0 amplitudes are modelled through the console's filter (a digital filter's
    ringing, an analog one's aliasing), which the first-points extrapolation of
    ``nmr.lineshape`` cannot do."""
    if fids.num_rows == 0:
        return empty("decomposition")
    nuclei = _column(fids, "nucleus")
    days = np.asarray(
        with_days(fids, config).column("days_since_synthesis").to_numpy(zero_copy_only=False),
        float,
    )
    # before the laser heating the cell holds the precursor and no molecular H2 (it forms as
    # the hydride desorbs): an H2 component there could only trade amplitude with the broad
    # precursor line, so those FIDs are fitted without it
    before = days < 0
    no_h2 = (nuclei != "1H") | before

    def one_line(cell: str | None) -> dict[str, Any]:
        # a 139La line: one component (a free broad line with no signal of its own would trade
        # amplitude with the line's width and go negative)
        return step_params(config, "nmr.decompose", cell, components=("hydride",))

    def proton(cell: str | None, **fixed: Any) -> dict[str, Any]:
        params = step_params(config, "nmr.decompose", cell, **fixed)
        params.setdefault("hydride_fwhm_max_hz", HYDRIDE_FWHM_MAX_HZ)
        return params

    out = [
        _per_cell(results, config, "nmr.decompose", _where(fids, ~no_h2), proton),
        _per_cell(
            results,
            config,
            "nmr.decompose",
            _where(fids, no_h2 & (nuclei == "1H")),
            lambda c: proton(c, components=("hydride", "broad")),
        ),
        _per_cell(
            results, config, "nmr.decompose", _where(fids, nuclei != "1H"), one_line
        ),
    ]
    out = [t for t in out if t.num_rows]
    if not out:
        return empty("decomposition")
    out = pa.concat_tables(out, promote_options="default")
    out = with_days(out, config)
    _note_flagged(results, out, "fit_failed", "nmr.decompose: components left NaN")
    results.add("decomposition", out)
    return out


def _quantification(
    results: CampaignResults, config: CampaignConfig, lines: pa.Table, decomposition: pa.Table
) -> None:
    """H/La from the 139La lines and the 1H decomposition (the metal hydride counted, the
    total 1H beside it); cells without a decomposition count the 1H lines' total."""
    nuclei = _column(lines, "nucleus")
    pair = _where(lines, (nuclei == "1H") | (nuclei == "139La"))
    if decomposition.num_rows:
        pair = pa.concat_tables([pair, decomposition], promote_options="permissive")
    if pair.num_rows:
        fixed = _fixed_quantify(config)
        out = _per_cell(
            results,
            config,
            "nmr.quantify",
            pair,
            lambda c: step_params(config, "nmr.quantify", c, **fixed),
            group_by="cell",
        )
        results.add("quantification", with_days(out, config))


def _transport(results: CampaignResults, config: CampaignConfig, transport: pa.Table) -> None:
    tc = _per_cell(results, config, "transport.tc", transport, group_by="source_path")
    results.add("tc", with_days(tc, config))


def unanalysed_experiments(
    spectra: pa.Table | None, config: CampaignConfig
) -> list[tuple[str, str]]:
    """(source path, pulse program) of every raw acquisition that no experiment rule classifies,
    one entry per source."""
    if spectra is None or spectra.num_rows == 0:
        return []
    raw = spectra.filter(pc.equal(spectra.column("domain"), "time"))
    if "history" in raw.column_names:
        raw = raw.filter(pc.equal(pc.list_value_length(raw.column("history")), 0))
    if raw.num_rows == 0:
        return []
    raw = attach_campaign(
        raw.select([c for c in raw.column_names if c not in ("re", "im", "parameters")]),
        config,
        "source_path",
    )
    kinds = np.asarray(classify(raw, config), dtype=object)
    out: dict[str, str] = {}
    for r, kind in zip(
        raw.select(["source_path", "pulse_program"]).to_pylist(), kinds, strict=True
    ):
        if kind is None:
            out.setdefault(str(r["source_path"]), str(r["pulse_program"] or "?"))
    return sorted(out.items())


def _raw_spectra(raw: pa.Table, config: CampaignConfig) -> pa.Table:
    """The time-domain rows of raw spectra (one cell's), cells attached and console facts
    applied."""
    raw = raw.filter(
        pc.and_(
            pc.equal(raw.column("domain"), "time"),
            pc.equal(pc.list_value_length(raw.column("history")), 0),
        )
    )
    return apply_console_facts(attach_campaign(raw, config, "source_path"), config)


def _nmr(results: CampaignResults, config: CampaignConfig, raw: pa.Table) -> None:
    kinds = np.asarray(classify(raw, config), dtype=object)
    nuclei = _column(raw, "nucleus")
    copper = np.isin(nuclei, COPPER_NUCLEI)
    # the Lenz-lens line: a Cu experiment classified as a reference, or as a plain FID
    cu = (kinds == "cu_reference") | ((kinds == "fid") & copper)
    sessions = _sessions(raw, config)
    shielding = _copper(results, config, _where(raw, cu), sessions)
    lines = _spectra(results, config, _where(raw, (kinds == "fid") & ~cu), shielding, sessions)
    results.add("lineshape", lines)
    counted = (kinds == "fid") & np.isin(nuclei, ("1H", "139La"))
    decomposition = _decomposition(results, config, _where(raw, counted))
    _relaxation(results, config, raw, kinds)
    _molecular_h2(results, config, _where(raw, kinds == "solid_echo"))
    if lines.num_rows:
        _quantification(results, config, lines, decomposition)


# ----------------------------------------------------------------------------- driver
def _keep(
    results: CampaignResults, store: Store, name: str, table: pa.Table, keep_arrays: bool
) -> None:
    """Write a cell's rows of table ``name`` to the store now; keep them in ``results`` without
    their arrays (unless ``keep_arrays``), so that one cell's arrays at most are in memory."""
    table = conform(table, name)
    store.write(table, name)
    results.add(name, table if keep_arrays else light(table), check=False)


def _cell_series(results: CampaignResults, config: CampaignConfig) -> None:
    """A cell's time series and its ``campaign.kinetics`` fit, from that cell's tables."""
    from .series import build_timeseries

    series = build_timeseries(results.tables, config)
    results.add("timeseries", series)
    if series.num_rows:
        params = _params(config, "campaign.kinetics", **_fixed_kinetics(config))
        results.add(
            "kinetics", _run_step(results, "campaign.kinetics", series, params, group_by="cell")
        )


def _analyse_cell(
    results: CampaignResults,
    store: Store,
    config: CampaignConfig,
    raw: CellRaw,
    keep_arrays: bool = False,
) -> dict[str, list[Any]]:
    """Every per-cell stage on one cell's raw rows (read from the store now, one cell in memory
    at a time); its tables go to the store and to ``results``. Returns the cell's notes and
    failures."""
    part = CampaignResults()
    where = rows_of(raw, "spectrum")
    if where is not None:
        rows = store.table("spectrum", where=where, raw=True)
        part.unanalysed = unanalysed_experiments(rows, config)
        spectra = _raw_spectra(rows, config)
        del rows
        if spectra.num_rows:
            _nmr(part, config, spectra)
    where = rows_of(raw, "transport")
    if where is not None:
        transport = attach_campaign(
            store.table("transport", where=where, raw=True), config, "source_path"
        )
        _transport(part, config, transport)
    _cell_series(part, config)
    for name, table in part.tables.items():
        _keep(results, store, name, table, keep_arrays)
    results.merge(attrs.evolve(part, tables={}))
    if raw.cell is not None:
        results.cells_analysed.append(raw.cell)
    outcome = {
        "notes": part.notes,
        "failures": part.failures,
        "unanalysed": [list(x) for x in part.unanalysed],
    }
    del part
    release_free_memory()  # what the cell's fits freed: the next cell starts from as little
    return outcome


def _reuse(
    results: CampaignResults,
    store: Store,
    previous: Mapping[str, Any],
    cells: list[str],
    keep_arrays: bool = False,
) -> None:
    """The rows, notes and failures of ``cells`` from the ``previous`` run (unchanged cells),
    copied to this run a chunk at a time."""
    for name, table in previous_rows(store, previous["run_id"], cells):
        _keep(results, store, name, table, keep_arrays)
    before = previous.get("cell_results") or {}
    for cell in cells:
        was = before.get(cell) or {}
        results.merge(CampaignResults(
            notes=list(was.get("notes", [])),
            failures=list(was.get("failures", [])),
            unanalysed=[(str(p), str(g)) for p, g in was.get("unanalysed", [])],
        ))
    results.cells_reused.extend(cells)


def _per_cell_stages(
    results: CampaignResults,
    store: Store,
    config: CampaignConfig,
    incremental: bool,
    keep_arrays: bool = False,
) -> dict[str, Any]:
    """Analyse every cell whose inputs changed since the previous run, reuse the others' rows
    (every cell analysed when ``incremental`` is off or the store keeps no runs); what to note
    in the run record."""
    cells = raw_rows_by_cell(store, config)
    fingerprints = cell_fingerprints(config, cells)
    keeps_runs = hasattr(store, "previous_record")
    previous = store.previous_record() if incremental and keeps_runs else None
    reused = reusable_cells(previous, fingerprints)
    if previous is not None and reused:
        _reuse(results, store, previous, reused, keep_arrays)
    outcome = {
        raw.cell: _analyse_cell(results, store, config, raw, keep_arrays)
        for raw in cells
        if raw.cell not in reused
    }
    before = (previous or {}).get("cell_results") or {}
    return {
        "cell_fingerprints": fingerprints,
        "cells_analysed": results.cells_analysed,
        "cells_reused": results.cells_reused,
        "cell_results": {c: outcome.get(c, before.get(c)) for c in fingerprints},
    }


def run_pipeline(
    store: Store, campaign_dir: Path, *, incremental: bool = True, keep_arrays: bool = False
) -> CampaignResults:
    """Run every stage on what the store holds for the campaign; write the results.

    Cells are analysed one at a time from their own raw rows, and each cell's tables are
    written to the store as soon as they are made; with ``incremental`` (and a store run that
    follows a committed one), a cell whose fingerprint did not change takes its rows from the
    previous run instead (:mod:`hydrofw_campaign.percell`). The returned tables hold every row
    without the array columns (:data:`~hydrofw_campaign.percell.BULKY_COLUMNS`; all columns
    with ``keep_arrays``): read a cell's arrays from the store."""
    config = load_campaign(campaign_dir)
    results = CampaignResults()
    results.notes.extend(validate_campaign(config))
    _metadata(config, results)
    for name in CAMPAIGN_TABLES & set(results.tables):
        store.write(results.tables[name], name)
    cells = _per_cell_stages(results, store, config, incremental, keep_arrays)
    if hasattr(store, "note"):  # a recorded run of the store: keep what every step ran with
        steps = dict.fromkeys([*STEP_DEFAULTS, *config.pipeline.params])
        store.note(parameters={
            "campaign": {s: _static_params(config, s, None) for s in steps},
            "cells": {c.id: {s: _static_params(config, s, c.id) for s in c.params}
                      for c in config.cells if c.params},
        }, **cells)
    if hasattr(store, "seal"):  # one part per table (the report reads cells' rows back)
        store.seal()
    return results


def report_from_store(store: Store, campaign_dir: Path, report_dir: Path) -> list[Path]:
    """Rebuild the report of a campaign from its store alone (no processing): the same as
    ``hydrofw report STORE`` (:func:`hydrofw_campaign.reportjob.campaign_report`)."""
    from .reportjob import campaign_report

    return campaign_report(store, campaign_dir, report_dir)[0]


def write_campaign_report(
    results: CampaignResults, campaign_dir: Path, report_dir: Path
) -> list[Path]:
    """The report of a pipeline run's tables alone (no store: no raw echoes or sweeps, no run
    record; the spectra drawn only from a run with ``keep_arrays``); ``hydrofw run`` uses
    :func:`hydrofw_campaign.reportjob.campaign_report`."""
    from .report import write_report

    config = load_campaign(campaign_dir)
    kinds = {c.id: c.cell.kind for c in config.cells}
    return write_report(
        results.tables,
        report_dir,
        cells_nmr=[c for c, k in kinds.items() if k == "nmr"],
        cells_transport=[c for c, k in kinds.items() if k == "transport"],
        synthesized_at={c.id: c.cell.synthesized_at for c in config.cells if c.cell.synthesized_at},
        title=f"{config.campaign.campaign}: campaign report",
        notes=results.notes,
    )


def count_rows(tables: Mapping[str, pa.Table]) -> dict[str, int]:
    """Rows per result table (for the run summary)."""
    return {name: t.num_rows for name, t in sorted(tables.items())}
