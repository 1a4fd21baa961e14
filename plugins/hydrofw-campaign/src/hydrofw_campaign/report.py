"""The campaign report: ``index.html`` (one self-contained page), the figures as PNG beside it,
and ``summary.md`` (its plain-text twin).

Everything is drawn from the result tables of a pipeline run (the tables the store holds), so
the report can be rebuilt from a store alone (``hydrofw report STORE``). Figures, per NMR cell:
Fig. 1 (before/after heating), Fig. 2 (echoes in the time domain, T2 fit), Fig. 3 (T1 vs T2),
Fig. 4 (spectra by day, peak guide lines, H2 share), Fig. 5 (Pake fit); per transport cell:
R(T) sweeps with the Tc criteria, Tc by criterion against days; campaign-wide: Fig. 6 (H/La and
normalised Tc against days) and sigma_DAC against days. See :mod:`hydrofw_campaign.reportfigs`.

==========================  ====================================================================
file                        content
==========================  ====================================================================
``index.html``              metadata, every figure (embedded PNG), sortable tables, flags,
                            skipped/failed files, unanalysed experiments, run id and parameters
``<cell>_fig<n>_*.png``     the figures of each cell (``fig6_timeseries.png``: campaign-wide)
``summary.md``              the same content as text (figures linked)
==========================  ====================================================================
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import struct
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from hydrofw.atomic import atomic_path
from hydrofw.memory import release_free_memory

from . import figures as F
from .reportcache import CachedFigure, FigureCache, fingerprints_of
from .reportfigs import LEVELS, ReportFigure, campaign_figures, cell_figures
from .reporttables import Cell, flag_rows, markdown, result_tables
from .uformat import format_uncertain, format_value, sort_key

__all__ = ["write_report", "LEVELS", "ReportInputs", "run_info", "render_html", "DPI"]

#: resolution of the PNG figures
DPI = 100
#: figures embedded in ``index.html`` up to this many PNG bytes in all; past it (a campaign of
#: hundreds of cells) the page links the PNG files beside it instead of a page of that size
EMBED_LIMIT_BYTES = 32 * 1024 * 1024


@attrs.define
class ReportInputs:
    """What the report shows besides the result tables."""

    cells_nmr: Sequence[str]
    cells_transport: Sequence[str]
    synthesized_at: Mapping[str, dt.datetime]
    title: str
    notes: Sequence[str] = ()
    skipped: Sequence[tuple[str, str]] = ()
    failed: Sequence[tuple[str, str]] = ()
    unanalysed: Sequence[tuple[str, str]] = ()
    run: Mapping[str, Any] | None = None
    parameters: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    #: cell -> fingerprint of the run (a cell's figures are reused while it is unchanged)
    fingerprints: Mapping[str, str] = attrs.field(factory=dict)


def run_info(store: Any) -> dict[str, Any] | None:
    """The latest recorded run of a store (id and record), when the store records runs."""
    latest = getattr(store, "latest_run", None)
    if latest is None:
        return None
    try:
        run_id = latest()
        if run_id is None:
            return None
        record = store.run_record(run_id)
    except Exception as exc:  # noqa: BLE001 - a report is still written, the problem shown
        return {"id": "?", "error": f"run record unreadable: {exc}"}
    return {"id": run_id, **(record if isinstance(record, Mapping) else {})}


def _png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@attrs.frozen
class _Rendered:
    """A figure as written to ``path`` (its pixel size and bytes on disk)."""

    key: str
    cell: str | None
    label: str
    caption: str
    path: Path
    width: int
    height: int
    nbytes: int

    def src(self, embed: bool) -> str:
        """The image's ``src``: the PNG as a data URI (``embed``), else the file beside the
        page."""
        if not embed:
            return self.path.name
        return "data:image/png;base64," + base64.b64encode(self.path.read_bytes()).decode("ascii")


def _rendered(key: str, cell: str | None, label: str, caption: str, path: Path,
              head: bytes, nbytes: int) -> _Rendered:
    w, h = _png_size(head)
    return _Rendered(key, cell, label, caption, path, w, h, nbytes)


def _render(figs: Sequence[ReportFigure], report_dir: Path) -> list[_Rendered]:
    out = []
    for f in figs:
        try:
            data = F.png_bytes(f.figure, dpi=DPI)
        finally:
            f.figure.clear()
        path = F.save_png(data, report_dir / f"{f.key}.png")
        out.append(_rendered(f.key, f.cell, f.label, f.caption, path, data[:24], len(data)))
    return out


def _reused(cell: str, cached: Sequence[CachedFigure], report_dir: Path) -> list[_Rendered]:
    """The figures of an unchanged cell, from the PNG files an earlier report wrote."""
    out = []
    for f in cached:
        path = report_dir / f.file
        with path.open("rb") as fh:
            head = fh.read(24)
        out.append(_rendered(f.key, cell, f.label, f.caption, path, head, path.stat().st_size))
    return out


def _cell_figures(
    inp: ReportInputs,
    tables: Mapping[str, pa.Table],
    report_dir: Path,
    cell_tables: Callable[[str], Mapping[str, pa.Table]] | None,
) -> list[_Rendered]:
    """Every cell's figures: drawn anew, or taken from the files of an earlier report when the
    cell's fingerprint is unchanged (:mod:`hydrofw_campaign.reportcache`)."""
    from hydrofw.progress import progress_bar

    cache = FigureCache.load(report_dir)
    cells = [(c, "nmr") for c in inp.cells_nmr] + [(c, "transport") for c in inp.cells_transport]
    out: list[_Rendered] = []
    for cell, kind in progress_bar(cells, desc="report", unit="cell"):
        fingerprint = inp.fingerprints.get(cell)
        cached = cache.get(cell, fingerprint)
        if cached is not None:
            out += _reused(cell, cached, report_dir)
            continue
        own = tables if cell_tables is None else cell_tables(cell)
        figs = _render(cell_figures(own, cell, kind, inp.synthesized_at), report_dir)
        cache.put(cell, fingerprint,
                  [CachedFigure(f.key, f.label, f.caption, f.path.name) for f in figs])
        out += figs
        del own
        release_free_memory()
    cache.save([c for c, _ in cells])
    return out


def _rows(tables: Mapping[str, pa.Table], name: str) -> list[dict[str, Any]]:
    t = tables.get(name)
    if t is None:
        return []
    keep = [c for c in t.column_names if c not in ("re", "im", "parameters", "history")]
    return t.select(keep).to_pylist()


_CELL_COLUMNS = (
    ("cell", "cell"),
    ("kind", "kind"),
    ("culet (um)", "culet_um"),
    ("gasket", "gasket"),
    ("precursor", "precursor"),
    ("hydrogen source", "hydrogen_source"),
    ("synthesis pressure (GPa)", "synthesis_pressure_gpa"),
    ("synthesised at", "synthesized_at"),
    ("laser T (K)", "laser_temperature_k"),
    ("notes", "notes"),
)


def _first_last(series: Sequence[Mapping[str, Any]], quantity: str) -> str:
    """First and last post-synthesis value of one of a cell's time series."""
    rows = [
        r
        for r in series
        if r.get("quantity") == quantity
        and isinstance(r.get("days_since_synthesis"), float)
        and r["days_since_synthesis"] >= 0
    ]
    if not rows:
        return ""
    rows.sort(key=lambda r: r["days_since_synthesis"])
    a, b = rows[0], rows[-1]
    return (
        f"{format_uncertain(a['value'], a.get('value_err'))} (day {a['days_since_synthesis']:.1f})"
        f" -> {format_uncertain(b['value'], b.get('value_err'))} "
        f"(day {b['days_since_synthesis']:.1f})"
    )


@attrs.frozen
class _PerCell:
    """Row counts of every table and the time series, per cell (one pass over each table)."""

    counts: Mapping[str, Mapping[Any, int]]
    series: Mapping[Any, list[dict[str, Any]]]

    @classmethod
    def of(cls, tables: Mapping[str, pa.Table]) -> _PerCell:
        counts = {}
        for name, t in tables.items():
            if "cell" in t.column_names:
                vc = pc.value_counts(t.column("cell")).to_pylist()
                counts[name] = {v["values"]: v["counts"] for v in vc}
        series: dict[Any, list[dict[str, Any]]] = {}
        t = tables.get("timeseries")
        if t is not None:
            cols = [c for c in ("cell", "quantity", "value", "value_err", "days_since_synthesis")
                    if c in t.column_names]
            for r in t.select(cols).to_pylist():
                series.setdefault(r.get("cell"), []).append(r)
        return cls(counts, series)

    def count(self, name: str, cell: str) -> int:
        return self.counts.get(name, {}).get(cell, 0)


def _cell_summary(per_cell: _PerCell, cell: str, kind: str) -> str:
    count = per_cell.count
    series = per_cell.series.get(cell, [])
    if kind == "transport":
        parts = [f"{count('transport', cell)} R(T) sweeps, {count('tc', cell)} Tc evaluations"]
        fl = _first_last(series, "tc_onset_k")
        if fl:
            parts.append(f"onset Tc (K): {fl}")
    else:
        parts = [
            f"{count('lineshape', cell)} lineshape fits, "
            f"{count('relaxation_fit', cell)} relaxation fits, "
            f"{count('pake_fit', cell)} Pake fits, {count('quantification', cell)} H/La values"
        ]
        for q, name in (("h_over_la", "H/La"), ("h2_fraction", "H2 share")):
            fl = _first_last(series, q)
            if fl:
                parts.append(f"{name}: {fl}")
    return "; ".join(parts) + "."


def _status_line(inp: ReportInputs, n_cells: int, rendered: Sequence[_Rendered],
                 embed: bool) -> str:
    def names(items: Sequence[tuple[str, str]]) -> str:
        return ", ".join(Path(p).name for p, _ in items) or "none"

    linked = "" if embed else (
        f" (linked, not embedded: {sum(f.nbytes for f in rendered) / 2**20:.0f} MiB of PNG in "
        "all; keep them beside index.html)"
    )
    return (
        f"{n_cells} cells, {len(rendered)} figures{linked}. Failed: {names(inp.failed)}. "
        f"Skipped: {names(inp.skipped)}. Not analysed: "
        + (", ".join(f"{Path(p).name} ({prog})" for p, prog in inp.unanalysed) or "none")
        + "."
    )


def _campaign_meta(tables: Mapping[str, pa.Table]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    rows = _rows(tables, "campaign")
    c = rows[0] if rows else {}
    meta = [
        ("campaign", c.get("campaign")),
        ("field (T)", format_value(c.get("field_t"))),
        ("1H frequency (MHz)", format_value((c.get("proton_frequency_hz") or math.nan) / 1e6)),
        ("folder", c.get("root")),
        ("store built", format_value(c.get("created_at"))),
    ]
    return c, [(k, str(v)) for k, v in meta if v not in (None, "")]


def _run_meta(run: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    if not run:
        return [("run id", "not recorded (the store keeps no run records)")]
    out = [("run id", str(run.get("id")))]
    if run.get("status") == "running":  # written by the run itself, before its commit
        run = {**run, "status": "this run (the report is written before the run is committed)"}
    for k in (
        "status",
        "started_at",
        "finished_at",
        "committed_at",
        "executor",
        "campaign_toml_sha256",
        "hydrofw_version",
        "error",
    ):
        if run.get(k) not in (None, ""):
            out.append((k.replace("_", " "), str(run[k])))
    plugins = run.get("plugins")
    if isinstance(plugins, list) and plugins:
        out.append(
            (
                "plugins",
                ", ".join(
                    f"{p.get('name')} {p.get('version') or '?'}"
                    for p in plugins
                    if isinstance(p, Mapping)
                ),
            )
        )
    return out


def _html_context(
    tables: Mapping[str, pa.Table], inp: ReportInputs, rendered: Sequence[_Rendered]
) -> dict[str, Any]:
    from hydrofw import __version__

    campaign, campaign_meta = _campaign_meta(tables)
    cell_rows = {r.get("cell"): r for r in _rows(tables, "cell")}
    ids = list(dict.fromkeys([*inp.cells_nmr, *inp.cells_transport, *cell_rows]))
    per_cell = _PerCell.of(tables)
    embed = sum(f.nbytes for f in rendered) <= EMBED_LIMIT_BYTES
    by_cell: dict[Any, list[_Rendered]] = {}
    for f in rendered:
        by_cell.setdefault(f.cell, []).append(f)
    cells = []
    for cid in ids:
        r = cell_rows.get(cid, {"cell": cid})
        kind = r.get("kind") or ("nmr" if cid in inp.cells_nmr else "transport")
        cells.append(
            {
                "id": cid,
                "kind": kind,
                "row": [
                    Cell(format_value(r.get(col)), sort_key(r.get(col))) for _, col in _CELL_COLUMNS
                ],
                "summary": _cell_summary(per_cell, cid, kind),
                "figures": by_cell.get(cid, []),
            }
        )
    return {
        "title": inp.title,
        "campaign": campaign,
        "campaign_meta": campaign_meta,
        "status_line": _status_line(inp, len(cells), rendered, embed),
        "embed": embed,
        "cells": cells,
        "cell_headers": [h for h, _ in _CELL_COLUMNS],
        "campaign_figures": [f for f in rendered if f.cell is None],
        "result_tables": result_tables(tables),
        "failed": list(inp.failed),
        "skipped": list(inp.skipped),
        "unanalysed": list(inp.unanalysed),
        "notes": list(inp.notes),
        "flags": flag_rows(tables),
        "run_meta": _run_meta(inp.run),
        "parameters": [
            (step, json.dumps(p, sort_keys=True, default=str)) for step, p in inp.parameters.items()
        ],
        "version": __version__,
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    }


def render_html(context: Mapping[str, Any]) -> str:
    """``index.html`` from the package template (jinja2, autoescaped)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hydrofw_campaign", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("report.html.j2").render(**context)


def _summary_md(ctx: Mapping[str, Any], rendered: Sequence[_Rendered]) -> str:
    parts = [f"# {ctx['title']}", ""]
    parts += [f"- {k}: {v}" for k, v in ctx["campaign_meta"]]
    parts += [
        "",
        ctx["status_line"],
        "",
        "Values are given with one standard error in the last "
        "digits: 1.449(3) means 1.449 ± 0.003. Days count from each cell's laser-heating "
        "synthesis. `index.html` beside this file shows the same with the figures.",
        "",
    ]
    parts += [
        "## Cells",
        "",
        "| " + " | ".join(ctx["cell_headers"]) + " |",
        "| " + " | ".join("---" for _ in ctx["cell_headers"]) + " |",
    ]
    parts += ["| " + " | ".join(c.text for c in cell["row"]) + " |" for cell in ctx["cells"]]
    for cell in ctx["cells"]:
        parts += ["", f"### {cell['id']} ({cell['kind']})", "", cell["summary"], ""]
        parts += [f"- [{f.label}]({f.path.name}): {f.caption}" for f in cell["figures"]]
    parts += ["", "## Campaign figures", ""]
    parts += [f"- [{f.label}]({f.path.name}): {f.caption}" for f in ctx["campaign_figures"]]
    parts += ["", "## Results"]
    for view in ctx["result_tables"]:
        parts += ["", f"### {view.heading} (`{view.name}`)", "", markdown(view)]
    parts += ["", "## Flags and files", ""]
    for heading, items in (
        ("Failed files", [f"`{p}`: {w}" for p, w in ctx["failed"]]),
        ("Skipped files", [f"`{p}`: {w}" for p, w in ctx["skipped"]]),
        (
            "Ingested experiments no analysis rule took",
            [f"`{p}`: pulse program `{g}`" for p, g in ctx["unanalysed"]],
        ),
        ("Notes", list(ctx["notes"])),
        ("Flags", [f"{t}: `{f}` ({n} rows): {', '.join(w)}" for t, f, n, w in ctx["flags"]]),
    ):
        parts += [f"### {heading} ({len(items)})", ""]
        parts += [f"- {i}" for i in items] or ["none"]
        parts.append("")
    parts += ["## Run", ""] + [f"- {k}: {v}" for k, v in ctx["run_meta"]]
    parts += ["", "Parameters of each analysis step:", ""]
    parts += [f"- `{s}`: `{p}`" for s, p in ctx["parameters"]]
    return "\n".join(parts) + "\n"


def write_report(
    tables: Mapping[str, pa.Table],
    report_dir: Path,
    *,
    cells_nmr: Sequence[str],
    cells_transport: Sequence[str],
    synthesized_at: Mapping[str, dt.datetime],
    title: str,
    notes: Sequence[str] = (),
    skipped: Sequence[tuple[str, str]] = (),
    failed: Sequence[tuple[str, str]] = (),
    unanalysed: Sequence[tuple[str, str]] = (),
    run: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
    cell_tables: Callable[[str], Mapping[str, pa.Table]] | None = None,
) -> list[Path]:
    """Write the figures, ``index.html`` and ``summary.md`` into ``report_dir``; return the
    files written. PNG files of figures no longer produced are removed.

    ``tables`` need not hold array columns when ``cell_tables(cell)`` gives one cell's rows
    with them (read when that cell is drawn); a cell whose fingerprint in the ``run`` record
    is the one its figures were drawn for keeps them (:mod:`hydrofw_campaign.reportcache`)."""
    inp = ReportInputs(
        cells_nmr,
        cells_transport,
        synthesized_at,
        title,
        notes,
        skipped,
        failed,
        unanalysed,
        run,
        dict(parameters or {}),
        fingerprints_of(run),
    )
    report_dir.mkdir(parents=True, exist_ok=True)
    rendered = _cell_figures(inp, tables, report_dir, cell_tables)
    rendered += _render(
        campaign_figures(
            tables,
            cells_nmr=cells_nmr,
            cells_transport=cells_transport,
            synthesized_at=synthesized_at,
        ),
        report_dir,
    )
    keep = {f.path.name for f in rendered}
    for old in report_dir.glob("*.png"):  # figures of an earlier report that are gone now
        if old.name not in keep and (
            "_fig" in old.name
            or old.name.startswith(("fig", "dac_"))
            or old.name.endswith(("_rt_sweeps.png", "_tc_criteria.png"))
        ):
            old.unlink()
    ctx = _html_context(tables, inp, rendered)
    index, summary = report_dir / "index.html", report_dir / "summary.md"
    with atomic_path(index) as tmp:
        Path(tmp).write_text(render_html(ctx), encoding="utf-8")
    with atomic_path(summary) as tmp:
        Path(tmp).write_text(_summary_md(ctx, rendered), encoding="utf-8")
    return [*(f.path for f in rendered), index, summary]
