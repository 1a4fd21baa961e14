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

Defaults of each step are below; ``[pipeline.params."<step>"]`` in ``campaign.toml`` overrides
them. A step whose processor is not installed is skipped and named in the summary. Every
result row gets ``cell``, ``campaign`` and ``days_since_synthesis``; all tables are written to
the store (idempotent: content-derived ids).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import hydrofw
from hydrofw.errors import PluginError
from hydrofw.registry import get_registry
from hydrofw.schema import conform, empty
from hydrofw.store import Store

from .config import CampaignConfig, check_pipeline, load_campaign
from .timeseries import SECONDS_PER_DAY

__all__ = ["CampaignResults", "run_pipeline", "STEP_DEFAULTS", "LA_DETECTION"]

#: Default parameters of each step; campaign.toml's [pipeline.params] override them.
STEP_DEFAULTS: dict[str, dict[str, Any]] = {
    "nmr.fid_to_spectrum": {"phase": "auto"},
    # Voigt: mobile (Lorentzian) and dipolar-broadened (Gaussian) lines alike
    "nmr.lineshape": {"model": "voigt"},
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
    "nmr.quantify": {},
    # a wider inflection window than the processor's default (0.8) halves the smoothing bias
    # of the onset tangent on noisy sweeps (measured on the example campaign: 0.20 K -> 0.04 K)
    "transport.tc": {"peak_window_fraction": 0.6},
    "campaign.kinetics": {},
}

#: campaign.toml's la_detection -> nmr.quantify's detection names.
LA_DETECTION = {
    "all_transitions": "full",
    "central_transition_hard": "central_transition_nonselective",
    "central_transition_selective": "central_transition_selective",
}


@attrs.define
class CampaignResults:
    """Tables produced by one pipeline run, by table name, and notes on skipped steps."""

    tables: dict[str, pa.Table] = attrs.field(factory=dict)
    notes: list[str] = attrs.field(factory=list)

    def add(self, name: str, table: pa.Table | None) -> None:
        if table is None or table.num_rows == 0:
            return
        if name in self.tables:
            table = pa.concat_tables(
                [self.tables[name], conform(table, name)], promote_options="default"
            )
        self.tables[name] = table


# ----------------------------------------------------------------------------- helpers
def _params(config: CampaignConfig, step: str, **fixed: Any) -> dict[str, Any]:
    """Step parameters: defaults, then campaign.toml, then what the pipeline fixes."""
    merged = dict(STEP_DEFAULTS.get(step, {}))
    merged.update(config.pipeline.params.get(step, {}))
    merged.update(fixed)
    return merged


def _have(name: str) -> bool:
    try:
        get_registry().processor(name)
    except PluginError:
        return False
    return True


def _process(results: CampaignResults, name: str, table: pa.Table, **params: Any) -> pa.Table:
    """``hydrofw.process`` or, when the processor is not installed, an empty output."""
    if not _have(name):
        results.notes.append(f"step {name} skipped: no installed plugin provides it")
        return pa.table({})
    return hydrofw.process(name, table, **params)


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    if name in table.column_names:
        i = table.column_names.index(name)
        return table.set_column(i, table.schema.field(i), values.cast(table.schema.field(i).type))
    return table.append_column(name, values)


def _epoch_s(column: pa.ChunkedArray) -> np.ndarray:
    """Seconds since 1970 (NaN for nulls) of a timestamp column."""
    as_us = pc.cast(column, pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return np.asarray(pc.fill_null(as_us.cast(pa.float64()), np.nan), dtype=float) / 1e6


def _relative_to_raw(path: str | None, raw_dir: Path) -> str | None:
    if not path:
        return None
    p = Path(path.split("!/")[0])
    try:
        return os.path.relpath(p.resolve(), raw_dir.resolve())
    except ValueError:
        return None


def attach_campaign(table: pa.Table, config: CampaignConfig, path_column: str) -> pa.Table:
    """Set ``cell`` (by the cell's ``raw_folder``), ``campaign`` on rows read from ``raw/``."""
    cells = []
    for path, cell in zip(
        table.column(path_column).to_pylist(), table.column("cell").to_pylist(), strict=True
    ):
        rel = _relative_to_raw(path, config.raw_dir)
        found = config.cell_for_path(rel) if rel and not rel.startswith("..") else None
        cells.append(found.id if found is not None else cell)
    table = _set(table, "cell", pa.array(cells, pa.string()))
    return _set(table, "campaign", pa.array([config.campaign.campaign] * table.num_rows))


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
            path=_relative_to_raw(r["source_path"], config.raw_dir),
            title=r["experiment"],
            nucleus=r["nucleus"],
        )
        for r in rows
    ]


def _where(table: pa.Table, mask: np.ndarray) -> pa.Table:
    return table.filter(pa.array(mask, pa.bool_()))


def _column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_pylist(), dtype=object)


# ----------------------------------------------------------------------------- stages
def _metadata(config: CampaignConfig, results: CampaignResults) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    campaign = attrs.evolve(
        config.campaign, root=str(config.root), created_at=now, config_version=config.version
    )
    results.add("campaign", hydrofw.to_table([campaign]))
    results.add("cell", hydrofw.to_table([c.cell for c in config.cells]))


def _reference(results: CampaignResults, config: CampaignConfig, spectra: pa.Table) -> pa.Table:
    """``nmr.reference`` per (cell, nucleus), each with its own reference configuration."""
    out = []
    cells, nuclei = _column(spectra, "cell"), _column(spectra, "nucleus")
    proton_hz = config.campaign.proton_frequency_hz
    for cell, nuc in sorted({(c, n) for c, n in zip(cells, nuclei, strict=True)}):
        rows = _where(spectra, (cells == cell) & (nuclei == nuc))
        ref = config.reference(nuc, cell)
        fixed: dict[str, Any] = {"proton_tms_frequency_hz": proton_hz}
        if ref.kind == "external":
            fixed.update(method="external", reference_line_hz=ref.frequency_hz)
        if ref.kind == "internal_cu":
            fixed.update(
                copper_dac_hz=ref.cu_dac_frequency_hz, copper_ambient_hz=ref.cu_ambient_frequency_hz
            )
            if ref.frequency_hz is not None:
                fixed.update(method="external", reference_line_hz=ref.frequency_hz)
        if ref.compound:
            fixed["reference_compound"] = ref.compound
        out.append(
            _process(results, "nmr.reference", rows, **_params(config, "nmr.reference", **fixed))
        )
    out = [t for t in out if t.num_rows]
    return pa.concat_tables(out, promote_options="default") if out else empty("spectrum")


def _spectra(results: CampaignResults, config: CampaignConfig, fids: pa.Table) -> pa.Table:
    """FIDs -> referenced spectra (stored) -> lineshape (returned)."""
    spectra = _process(
        results, "nmr.fid_to_spectrum", fids, **_params(config, "nmr.fid_to_spectrum")
    )
    if spectra.num_rows == 0:
        return empty("lineshape")
    spectra = _reference(results, config, spectra)
    results.add("spectrum", spectra)
    lines = _process(results, "nmr.lineshape", spectra, **_params(config, "nmr.lineshape"))
    if lines.num_rows == 0:
        return empty("lineshape")
    return with_days(lines, config)


def _relaxation(
    results: CampaignResults, config: CampaignConfig, series: pa.Table, kinds: np.ndarray
) -> None:
    for kind in ("T1_saturation_recovery", "T1_inversion_recovery", "T2_hahn_echo", "T2_cpmg"):
        rows = _where(series, kinds == kind)
        if rows.num_rows == 0:
            continue
        build = _params(config, "relaxation.build", kind=kind)
        curves = _process(results, "relaxation.build", rows, **build)
        if curves.num_rows == 0:
            continue
        results.add("relaxation", curves)
        fits = _process(results, "relaxation.fit", curves, **_params(config, "relaxation.fit"))
        results.add("relaxation_fit", with_days(fits, config))
    fits = results.tables.get("relaxation_fit")
    if fits is not None and _have("nmr.diffusion"):
        t1 = fits.filter(pc.is_valid(fits.column("t1_s")))
        if t1.num_rows:
            params = _params(config, "nmr.diffusion")
            if config.campaign.field_t and "field_t" not in params:
                params.setdefault("larmor_frequency_hz", config.campaign.proton_frequency_hz)
            results.add(
                "diffusion", with_days(hydrofw.process("nmr.diffusion", t1, **params), config)
            )


def _molecular_h2(results: CampaignResults, config: CampaignConfig, echoes: pa.Table) -> None:
    spectra = _process(results, "nmr.fid_to_spectrum", echoes, **_params(config, "solid_echo"))
    if spectra.num_rows == 0:
        return
    results.add("spectrum", spectra)
    fits = _process(results, "nmr.pake_fit", spectra, **_params(config, "nmr.pake_fit"))
    results.add("pake_fit", with_days(fits, config))


def _quantification(results: CampaignResults, config: CampaignConfig, lines: pa.Table) -> None:
    q = config.quantification
    fixed: dict[str, Any] = {
        "numerator": "1H",
        "denominator": "139La",
        "p_exponent": q.gamma_exponent,
        "denominator_detection": LA_DETECTION[q.la_detection],
    }
    if q.method == "calibrated" and q.calibration_h_over_la is not None:
        fixed.update(
            mode="calibrated", reference_ratio=q.calibration_h_over_la, reference="before_synthesis"
        )
    nuclei = _column(lines, "nucleus")
    pair = _where(lines, (nuclei == "1H") | (nuclei == "139La"))
    if pair.num_rows:
        out = _process(results, "nmr.quantify", pair, **_params(config, "nmr.quantify", **fixed))
        results.add("quantification", with_days(out, config))


def _transport(results: CampaignResults, config: CampaignConfig, transport: pa.Table) -> None:
    tc = _process(results, "transport.tc", transport, **_params(config, "transport.tc"))
    results.add("tc", with_days(tc, config))


# ----------------------------------------------------------------------------- driver
def run_pipeline(store: Store, campaign_dir: Path) -> CampaignResults:
    """Run every stage on what the store holds for the campaign; write the results."""
    from .series import build_timeseries

    config = load_campaign(campaign_dir)
    check_pipeline(config)
    results = CampaignResults()
    _metadata(config, results)

    if "spectrum" in store.tables():
        raw = store.table("spectrum")
        raw = raw.filter(
            pc.and_(
                pc.equal(raw.column("domain"), "time"),
                pc.equal(pc.list_value_length(raw.column("history")), 0),
            )
        )
        raw = attach_campaign(raw, config, "source_path")
        kinds = np.asarray(classify(raw, config), dtype=object)
        lines = _spectra(results, config, _where(raw, kinds == "fid"))
        results.add("lineshape", lines)
        _relaxation(results, config, raw, kinds)
        _molecular_h2(results, config, _where(raw, kinds == "solid_echo"))
        if lines.num_rows:
            _quantification(results, config, lines)
    if "transport" in store.tables():
        transport = attach_campaign(store.table("transport"), config, "source_path")
        _transport(results, config, transport)

    series = build_timeseries(results.tables, config)
    results.add("timeseries", series)
    if series.num_rows:
        k = config.kinetics
        params = _params(
            config,
            "campaign.kinetics",
            quantities=list(k.quantities),
            window_start_days=k.window_start_days,
            window_end_days=k.window_end_days,
            max_relative_error=k.max_relative_error,
        )
        results.add("kinetics", hydrofw.process("campaign.kinetics", series, **params))
    for name, table in results.tables.items():
        store.write(table, name)
    return results


def report_from_store(store: Store, campaign_dir: Path, report_dir: Path) -> list[Path]:
    """Rebuild the report of a campaign from its store alone (no processing)."""
    results = CampaignResults(tables={name: store.table(name) for name in store.tables()})
    return write_campaign_report(results, campaign_dir, report_dir)


def write_campaign_report(
    results: CampaignResults, campaign_dir: Path, report_dir: Path
) -> list[Path]:
    """Figures and summary.md of a pipeline run (see :mod:`hydrofw_campaign.report`)."""
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
