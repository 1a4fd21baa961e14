"""The report's tables: which columns of each result table are shown, formatted as text with
``1.449(3)`` errors and a numeric sort key per cell. Shared by ``index.html`` and ``summary.md``.

Known tables have a chosen set of columns; any other result table (e.g. ``decomposition`` or
``dac_shielding`` written by newer steps) is shown with all its scalar columns, each ``x``
paired with ``x_err`` when present. Headers carry the unit from the schema's field metadata.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pyarrow as pa

from .uformat import format_value, sort_key

__all__ = ["Cell", "TableView", "result_tables", "flag_rows", "SECTIONS"]


@attrs.frozen
class Cell:
    text: str
    sort: str


@attrs.frozen
class TableView:
    """One table as shown: heading, source table name, headers and formatted rows."""

    heading: str
    name: str
    headers: list[str]
    rows: list[list[Cell]]
    #: rows of the table in all (more than ``rows`` past :data:`MAX_TABLE_ROWS`)
    total: int = 0


#: rows of a table the report shows (the first in cell, nucleus/quantity, day order); the
#: store and the exports hold every row
MAX_TABLE_ROWS = 2000


#: (heading, table, row filter column=value or None, [(column, error column)])
SECTIONS: tuple[tuple[str, str, list[tuple[str, str | None]]], ...] = (
    (
        "Kinetics (linear rate and exponential approach)",
        "kinetics",
        [
            ("cell", None),
            ("quantity", None),
            ("unit", None),
            ("n_points", None),
            ("window_start_days", None),
            ("window_end_days", None),
            ("rate_per_day", "rate_per_day_err"),
            ("x0", "x0_err"),
            ("x_inf", "x_inf_err"),
            ("tau_days", "tau_days_err"),
            ("aic_linear", None),
            ("aic_exponential", None),
            ("preferred_model", None),
            ("constrained", None),
        ],
    ),
    (
        "H/La (spin counting)",
        "quantification",
        [
            ("cell", None),
            ("days_since_synthesis", None),
            ("ratio", "ratio_err"),
            ("mode", None),
            ("counted", None),
            ("ratio_total_first_principles", "ratio_total_first_principles_err"),
            ("ratio_total_calibrated", "ratio_total_calibrated_err"),
            ("h2_fraction", "h2_fraction_err"),
            ("snr_numerator", "snr_numerator_err"),
            ("snr_denominator", "snr_denominator_err"),
            ("denominator_detection", None),
        ],
    ),
    (
        "Relaxation",
        "relaxation_fit",
        [
            ("cell", None),
            ("days_since_synthesis", None),
            ("kind", None),
            ("model", None),
            ("t1_s", "t1_s_err"),
            ("t2_s", "t2_s_err"),
            ("beta", "beta_err"),
            ("t1_over_t2", "t1_over_t2_err"),
            ("reduced_chi2", None),
            ("constrained", None),
        ],
    ),
    (
        "Diffusion coefficient (eq. 1)",
        "diffusion",
        [
            ("cell", None),
            ("days_since_synthesis", None),
            ("d_cm2_s", "d_cm2_s_err"),
            ("correlation_time_s", "correlation_time_s_err"),
            ("omega0_tau", "omega0_tau_err"),
            ("extreme_narrowing", None),
            ("convention", None),
        ],
    ),
    (
        "Molecular H2 (Pake fits)",
        "pake_fit",
        [
            ("cell", None),
            ("days_since_synthesis", None),
            ("distance_angstrom", "distance_angstrom_err"),
            ("weight", "weight_err"),
            ("central_fraction", "central_fraction_err"),
            ("broadening_hz", "broadening_hz_err"),
            ("reduced_chi2", None),
        ],
    ),
    (
        "1H decomposition (metal hydride + molecular H2)",
        "decomposition",
        [
            ("cell", None),
            ("days_since_synthesis", None),
            ("h2_fraction", "h2_fraction_err"),
            ("r_n_angstrom", "r_n_angstrom_err"),
            ("r_nn_angstrom", "r_nn_angstrom_err"),
            ("hydride_fwhm_hz", "hydride_fwhm_hz_err"),
            ("snr_total", "snr_total_err"),
            ("reduced_chi2", None),
        ],
    ),
    (
        "DAC shielding (63Cu)",
        "dac_shielding",
        [
            ("cell", None),
            ("days_since_synthesis", None),
            ("session", None),
            ("sigma_dac_ppm", "sigma_dac_ppm_err"),
            ("n_lines", None),
            ("source_session", None),
        ],
    ),
    (
        "Lineshapes",
        "lineshape",
        [
            ("cell", None),
            ("nucleus", None),
            ("days_since_synthesis", None),
            ("peak_ppm", "peak_ppm_err"),
            ("fwhm_hz", "fwhm_hz_err"),
            ("fwhm_ppm", "fwhm_ppm_err"),
            ("fit_model", None),
            ("snr_time", "snr_time_err"),
            ("reduced_chi2", None),
        ],
    ),
    (
        "Tc (cooling and warming sweeps)",
        "tc",
        [
            ("cell", None),
            ("days_since_synthesis", None),
            ("sweep", None),
            ("tc_onset_k", "tc_onset_k_err"),
            ("tc_90_k", "tc_90_k_err"),
            ("tc_50_k", "tc_50_k_err"),
            ("tc_10_k", "tc_10_k_err"),
            ("tc_zero_k", "tc_zero_k_err"),
            ("tc_dRdT_k", "tc_dRdT_k_err"),
            ("width_k", "width_k_err"),
            ("normal_state_ohm", "normal_state_ohm_err"),
        ],
    ),
)

#: bookkeeping columns not shown in generic tables
_HIDDEN = {"id", "campaign", "input_ids", "method", "history", "parameters", "flags", "factors"}
#: raw and bulky tables that are not result tables
_NOT_RESULTS = {"spectrum", "transport", "relaxation", "timeseries", "campaign", "cell"}
_SHORT = {"days_since_synthesis": "day"}


def _unit(table: pa.Table, column: str) -> str | None:
    i = table.schema.get_field_index(column)
    if i < 0:
        return None
    md = table.schema.field(i).metadata or {}
    unit = md.get(b"unit")
    return unit.decode() if unit else None


def _header(table: pa.Table, column: str) -> str:
    unit = _unit(table, column)
    name = _SHORT.get(column, column)
    return f"{name} ({unit})" if unit and column not in _SHORT else name


def _scalar(t: pa.DataType) -> bool:
    return not (pa.types.is_nested(t) or pa.types.is_binary(t))


def _is_number_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) and pa.types.is_floating(t.value_type)


def _generic_columns(table: pa.Table) -> list[tuple[str, str | None]]:
    names = table.column_names
    out: list[tuple[str, str | None]] = []
    for f in table.schema:
        n = f.name
        if n in _HIDDEN or n.endswith("_err") or n.endswith("_id") or n == "acquired_at":
            continue
        if not (_scalar(f.type) or _is_number_list(f.type)):
            continue
        out.append((n, f"{n}_err" if f"{n}_err" in names else None))
    first = [c for c in out if c[0] in ("cell", "nucleus", "days_since_synthesis")]
    return first + [c for c in out if c not in first]


def _sort_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(r: dict[str, Any]) -> tuple:
        d = r.get("days_since_synthesis")
        d = d if isinstance(d, int | float) and math.isfinite(d) else math.inf
        return (str(r.get("cell")), str(r.get("nucleus") or r.get("quantity") or ""), d)

    return sorted(rows, key=key)


def _view(heading: str, name: str, table: pa.Table, columns) -> TableView | None:
    columns = [
        (c, e if e in table.column_names else None) for c, e in columns if c in table.column_names
    ]
    if not columns or table.num_rows == 0:
        return None
    total = table.num_rows
    if total > MAX_TABLE_ROWS:  # the first rows in display order, only those formatted
        order = [k for k in ("cell", "nucleus", "quantity", "days_since_synthesis")
                 if k in table.column_names]
        keys = table.select(order).to_pylist()
        for i, r in enumerate(keys):
            r["_i"] = i
        table = table.take([r["_i"] for r in _sort_rows(keys)[:MAX_TABLE_ROWS]])
    rows = _sort_rows(
        table.select(
            list(
                dict.fromkeys(
                    [c for c, _ in columns]
                    + [e for _, e in columns if e]
                    + [
                        k
                        for k in ("cell", "nucleus", "quantity", "days_since_synthesis")
                        if k in table.column_names
                    ]
                )
            )
        ).to_pylist()
    )
    body = [
        [
            Cell(format_value(r.get(c), r.get(e) if e else None), sort_key(_first(r.get(c))))
            for c, e in columns
        ]
        for r in rows
    ]
    return TableView(heading, name, [_header(table, c) for c, _ in columns], body, total)


def _first(v: Any) -> Any:
    return v[0] if isinstance(v, list) and v else v


def result_tables(tables: Mapping[str, pa.Table]) -> list[TableView]:
    """The result tables present, known ones first with their chosen columns."""
    out: list[TableView] = []
    known = set()
    for heading, name, columns in SECTIONS:
        known.add(name)
        t = tables.get(name)
        if t is not None and (v := _view(heading, name, t, columns)) is not None:
            out.append(v)
    for name in sorted(tables):
        if name in known or name in _NOT_RESULTS:
            continue
        t = tables[name]
        v = _view(name.replace("_", " ").capitalize(), name, t, _generic_columns(t))
        if v is not None:
            out.append(v)
    return out


def flag_rows(tables: Mapping[str, pa.Table]) -> list[tuple[str, str, int, list[str]]]:
    """Every flag of every table: (table, flag, number of rows, ['cell day', ...])."""
    found: dict[tuple[str, str], list[str]] = {}
    for name in sorted(tables):
        t = tables[name]
        if "flags" not in t.column_names:
            continue
        cols = [c for c in ("cell", "days_since_synthesis", "source_path") if c in t.column_names]
        for r in t.select(["flags", *cols]).to_pylist():
            for flag in r.get("flags") or ():
                where = r.get("cell") or "?"
                d = r.get("days_since_synthesis")
                if isinstance(d, float) and math.isfinite(d):
                    where += f" day {d:.1f}"
                elif r.get("source_path"):
                    where += f" {str(r['source_path']).rsplit('/', 2)[-2:][0]}"
                found.setdefault((name, flag), []).append(where)
    return [(t, f, len(w), sorted(set(w))) for (t, f), w in sorted(found.items())]


def markdown(view: TableView) -> str:
    """A table view as a Markdown table."""
    head = "| " + " | ".join(view.headers) + " |"
    rule = "| " + " | ".join("---" for _ in view.headers) + " |"
    body = ["| " + " | ".join(c.text for c in row) + " |" for row in view.rows]
    more = [] if view.total <= len(view.rows) else [
        "", f"(the first {len(view.rows)} of {view.total} rows; the store holds all)"
    ]
    return "\n".join([head, rule, *body, *more])


def plain(items: Sequence[str]) -> str:
    return "\n".join(f"- {i}" for i in items)
