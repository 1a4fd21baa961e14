"""Per-cell time series (table ``timeseries``) gathered from the pipeline's result tables.

Quantities (``quantity`` column, unit in ``unit``):

==========================  ======================================  ==========================
quantity                    from                                    value
==========================  ======================================  ==========================
``h_over_la``               ``quantification``                      ratio (H per La): what
                                                                    ``counted`` names (the
                                                                    metal hydride by default)
``h_over_la_<m>``           ``quantification``                      the same by method ``<m>``
                                                                    (first_principles,
                                                                    calibrated)
``h_over_la_total_<m>``     ``quantification``                      every 1H (hydride + H2)
``h2_fraction``             ``decomposition`` of 1H FIDs            n(H2) / (n(H2) + n(hydride))
``r_n_angstrom``,           ``decomposition`` of 1H FIDs            H2 distances, angstrom
``r_nn_angstrom``
``la_shift_ppm``            ``lineshape`` of 139La FIDs             Knight shift, ppm
``la_fwhm_hz``              ``lineshape`` of 139La FIDs             FWHM, Hz
``h_shift_ppm``             ``lineshape`` of 1H FIDs                shift, ppm
``h_fwhm_hz``               ``lineshape`` of 1H FIDs                FWHM, Hz
``h_integral``              ``lineshape`` of 1H FIDs                integral (a.u.)
``h2_fraction_solid_echo``  ``pake_fit``                            1 - central-line fraction
``t1_s``, ``t2_s``          ``relaxation_fit``                      s
``d_cm2_s``                 ``diffusion``                           cm^2/s
``tc_<c>_k``                ``tc`` (cooling sweeps)                 K
``tc_<c>_normalised``       ``tc`` (cooling sweeps)                 Tc / the cell's first
==========================  ======================================  ==========================

``<c>`` is every Tc criterion of ``transport.tc`` (:data:`TC_CRITERIA`): ``onset``, ``90``,
``50``, ``10`` and ``zero`` (``tc_onset_k``, ``tc_50_normalised``, ...). Each criterion is
normalised to the same criterion of the cell's first cooling sweep where it is defined; sweeps
where a criterion is NaN (no transition, zero resistance not reached) give no point for it.

Rows before the synthesis (negative days: the precursor) are kept; kinetics fits choose their
window.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

import hydrofw
from hydrofw.schema import empty

from .config import CampaignConfig
from .timeseries import TimeSeriesPoint

__all__ = ["build_timeseries", "QUANTITIES", "TC_CRITERIA", "TC_QUANTITIES"]

#: (table, quantity, value column, error column, unit, row filter on nucleus or None)
QUANTITIES: tuple[tuple[str, str, str, str | None, str | None, str | None], ...] = (
    ("quantification", "h_over_la", "ratio", "ratio_err", None, None),
    (
        "quantification",
        "h_over_la_first_principles",
        "ratio_first_principles",
        "ratio_first_principles_err",
        None,
        None,
    ),
    (
        "quantification",
        "h_over_la_calibrated",
        "ratio_calibrated",
        "ratio_calibrated_err",
        None,
        None,
    ),
    (
        "quantification",
        "h_over_la_total_first_principles",
        "ratio_total_first_principles",
        "ratio_total_first_principles_err",
        None,
        None,
    ),
    (
        "quantification",
        "h_over_la_total_calibrated",
        "ratio_total_calibrated",
        "ratio_total_calibrated_err",
        None,
        None,
    ),
    ("decomposition", "h2_fraction", "h2_fraction", "h2_fraction_err", None, "1H"),
    ("decomposition", "r_n_angstrom", "r_n_angstrom", "r_n_angstrom_err", "angstrom", "1H"),
    ("decomposition", "r_nn_angstrom", "r_nn_angstrom", "r_nn_angstrom_err", "angstrom", "1H"),
    ("lineshape", "la_shift_ppm", "peak_ppm", "peak_ppm_err", "ppm", "139La"),
    ("lineshape", "la_fwhm_hz", "fwhm_hz", "fwhm_hz_err", "Hz", "139La"),
    ("lineshape", "h_shift_ppm", "peak_ppm", "peak_ppm_err", "ppm", "1H"),
    ("lineshape", "h_fwhm_hz", "fwhm_hz", "fwhm_hz_err", "Hz", "1H"),
    ("lineshape", "h_integral", "integral", "integral_err", None, "1H"),
    ("relaxation_fit", "t1_s", "t1_s", "t1_s_err", "s", None),
    ("relaxation_fit", "t2_s", "t2_s", "t2_s_err", "s", None),
    ("diffusion", "d_cm2_s", "d_cm2_s", "d_cm2_s_err", "cm2/s", None),
)


#: Tc criteria of the ``tc`` table (column ``tc_<c>_k``) that become time series.
TC_CRITERIA: tuple[str, ...] = ("onset", "90", "50", "10", "zero")
#: every Tc time-series quantity, absolute (K) and normalised, criterion by criterion
TC_QUANTITIES: tuple[str, ...] = tuple(
    q for c in TC_CRITERIA for q in (f"tc_{c}_k", f"tc_{c}_normalised")
)


def _finite(value: Any) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


def _points(tables: Mapping[str, pa.Table]) -> Iterator[TimeSeriesPoint]:
    for table_name, quantity, col, err_col, unit, nucleus in QUANTITIES:
        table = tables.get(table_name)
        if table is None or col not in table.column_names:
            continue
        for row in table.to_pylist():
            if nucleus is not None and row.get("nucleus") != nucleus:
                continue
            value, days = row.get(col), row.get("days_since_synthesis")
            if not (_finite(value) and _finite(days) and row.get("cell")):
                continue
            err = row.get(err_col) if err_col else None
            yield TimeSeriesPoint(
                cell=row["cell"],
                quantity=quantity,
                days_since_synthesis=days,
                value=value,
                value_err=err if _finite(err) and err >= 0 else None,
                unit=unit,
                campaign=row.get("campaign"),
                acquired_at=row.get("acquired_at"),
                method=f"{table_name}.{col}",
                input_ids=[row["id"]],
            )
    yield from _h2_points(tables.get("pake_fit"))
    yield from _tc_points(tables.get("tc"))


def _h2_points(table: pa.Table | None) -> Iterator[TimeSeriesPoint]:
    """Molecular-H2 share of the 1H solid-echo signal: 1 - the central (lattice) fraction.
    Fits flagged ``distance_unconstrained`` (doublets too weak to resolve, amplitudes at their
    bound, errors meaningless) are left out of the series; they stay in ``pake_fit``."""
    if table is None:
        return
    for row in table.to_pylist():
        if "distance_unconstrained" in (row.get("flags") or ()):
            continue
        frac, days = row.get("central_fraction"), row.get("days_since_synthesis")
        if _finite(frac) and _finite(days) and row.get("cell"):
            err = row.get("central_fraction_err")
            yield TimeSeriesPoint(
                cell=row["cell"],
                quantity="h2_fraction_solid_echo",
                days_since_synthesis=days,
                value=1.0 - frac,
                value_err=err if _finite(err) else None,
                campaign=row.get("campaign"),
                acquired_at=row.get("acquired_at"),
                method="pake_fit: 1 - central_fraction",
                input_ids=[row["id"]],
            )


def _tc_points(table: pa.Table | None) -> Iterator[TimeSeriesPoint]:
    """Every Tc criterion of cooling sweeps, absolute and normalised to the same criterion of
    each cell's first cooling sweep where that criterion is defined."""
    if table is None:
        return
    rows = [
        r
        for r in table.to_pylist()
        if r.get("sweep") == "cooling" and _finite(r.get("days_since_synthesis")) and r.get("cell")
    ]
    rows.sort(key=lambda r: r["days_since_synthesis"])
    for criterion in TC_CRITERIA:
        yield from _criterion_points(rows, f"tc_{criterion}_k", f"tc_{criterion}_normalised")


def _criterion_points(
    rows: list[dict[str, Any]], column: str, normalised: str
) -> Iterator[TimeSeriesPoint]:
    """Points of one criterion (column ``column``, K) and of its ratio to the cell's first."""
    err_column = f"{column}_err"
    first: dict[str, dict[str, Any]] = {}
    for r in rows:
        if not _finite(r.get(column)):
            continue
        ref = first.setdefault(r["cell"], r)
        err = r.get(err_column) if _finite(r.get(err_column)) else None
        common = dict(
            cell=r["cell"],
            days_since_synthesis=r["days_since_synthesis"],
            campaign=r.get("campaign"),
            acquired_at=r.get("acquired_at"),
        )
        yield TimeSeriesPoint(
            quantity=column,
            value=r[column],
            value_err=err,
            unit="K",
            method=f"tc.{column}",
            input_ids=[r["id"]],
            **common,
        )
        ratio = r[column] / ref[column]
        ref_err = ref.get(err_column) if _finite(ref.get(err_column)) else None
        ratio_err = None
        if err is not None and ref_err is not None:
            # the first point is exactly 1 by construction; the others carry both errors
            rel = (err / r[column]) ** 2
            if r is not ref:
                rel += (ref_err / ref[column]) ** 2
            ratio_err = abs(ratio) * math.sqrt(rel)
        yield TimeSeriesPoint(
            quantity=normalised,
            value=ratio,
            value_err=ratio_err,
            method=f"tc.{column} / first cooling {column}",
            input_ids=[r["id"], ref["id"]],
            **common,
        )


def build_timeseries(tables: Mapping[str, pa.Table], config: CampaignConfig) -> pa.Table:
    """The ``timeseries`` table of every quantity above for every cell of ``config``."""
    cells = {c.id for c in config.cells}
    points = [p for p in _points(tables) if p.cell in cells]
    if not points:
        return empty("timeseries")
    ordered = sorted(points, key=lambda p: (p.cell, p.quantity, p.days_since_synthesis))
    return hydrofw.to_table(ordered)


def series_arrays(table: pa.Table, cell: str, quantity: str) -> tuple[np.ndarray, ...]:
    """(days, value, err) of one cell's quantity, sorted by day (err NaN where unknown)."""
    rows = [r for r in table.to_pylist() if r["cell"] == cell and r["quantity"] == quantity]
    rows.sort(key=lambda r: r["days_since_synthesis"])
    days = np.array([r["days_since_synthesis"] for r in rows], float)
    value = np.array([r["value"] for r in rows], float)
    err = np.array([np.nan if r["value_err"] is None else r["value_err"] for r in rows], float)
    return days, value, err
