"""The campaign report: the paper's Figs. 1-6 as PNG and SVG, and ``summary.md``.

Everything is drawn from the result tables of a pipeline run (the same tables the store
holds), so the report can be rebuilt from a store alone with :func:`write_report`.

=========================  ====================================================================
file                       content
=========================  ====================================================================
``fig1_before_after``      139La and 1H spectra of one cell before and after laser heating
``fig2_echo_decay``        1H Hahn-echo amplitudes against 2*tau with the T2 fit
``fig3_t1_t2``             saturation recovery and echo decay on one axis (T1 ~ T2)
``fig4_stacked``           139La and 1H spectra stacked by day, and the molecular-H2 fraction
``fig5_pake``              the broad 1H (H2) line with the fitted Pake horn positions
``fig6_timeseries``        H/La and normalised Tc against days, with the kinetics fits
``summary.md``             every fitted quantity with its error, per cell
=========================  ====================================================================
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from hydrofw.atomic import atomic_path

from . import figures
from .figures import Curve, Series
from .series import series_arrays

__all__ = ["write_report", "LEVELS"]

#: Reference stoichiometries drawn on the H/La panel (Fig. 6a).
LEVELS = (("LaH10", 10.0), ("LaH6", 6.0), ("LaH3", 3.0))


def _rows(tables: Mapping[str, pa.Table], name: str) -> list[dict[str, Any]]:
    table = tables.get(name)
    return table.to_pylist() if table is not None else []


def _days(row: dict[str, Any], synth: Mapping[str, dt.datetime]) -> float:
    when, cell = row.get("acquired_at"), row.get("cell")
    if when is None or cell not in synth:
        return math.nan
    return (when - synth[cell]).total_seconds() / 86400.0


def _spectra(
    tables: Mapping[str, pa.Table], cell: str, nucleus: str, synth: Mapping[str, dt.datetime]
) -> list[tuple[float, dict[str, Any]]]:
    """Referenced (ppm) frequency-domain spectra of a cell and nucleus, by day."""
    out = []
    for r in _rows(tables, "spectrum"):
        if (
            r["cell"] == cell
            and r["nucleus"] == nucleus
            and r["domain"] == "frequency"
            and r["x_unit"] == "ppm"
        ):
            out.append((_days(r, synth), r))
    return sorted(out, key=lambda dr: dr[0])


def _curve(label: str, r: dict[str, Any]) -> Curve:
    y = np.asarray(r["re"], float)
    x = r["x_start"] + r["x_step"] * np.arange(y.size)
    return Curve(label, x, y)


def _day_label(days: float) -> str:
    return "before heating" if days < 0 else f"day {days:.0f}"


def _fig_spectra(
    tables: Mapping[str, pa.Table], cell: str, synth: Mapping[str, dt.datetime], out: Path
) -> list[Path]:
    la, h = _spectra(tables, cell, "139La", synth), _spectra(tables, cell, "1H", synth)
    paths: list[Path] = []
    if not (la and h):
        return paths

    def before_after(series: list[tuple[float, dict[str, Any]]]) -> list[Curve]:
        before = [s for s in series if s[0] < 0][:1]
        after = [s for s in series if s[0] >= 0][:1]
        return [_curve(_day_label(d), r) for d, r in before + after]

    paths += figures.save(
        figures.before_after_spectra(before_after(la), before_after(h), cell),
        out,
        "fig1_before_after",
    )
    after = [(d, r) for d, r in la if d >= 0], [(d, r) for d, r in h if d >= 0]
    h2 = None
    ts = tables.get("timeseries")
    if ts is not None:
        days, value, err = series_arrays(ts, cell, "h2_fraction")
        if days.size:
            h2 = Curve("H2 fraction", days, value, err)
    paths += figures.save(
        figures.stacked_spectra(
            [_curve(_day_label(d), r) for d, r in after[0]],
            [_curve(_day_label(d), r) for d, r in after[1]],
            h2,
            cell,
        ),
        out,
        "fig4_stacked",
    )
    return paths


def _relaxation_pair(
    tables: Mapping[str, pa.Table], cell: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The first T1 and T2 curve of a cell measured on the same day (or the first of each)."""
    curves = [r for r in _rows(tables, "relaxation") if r["cell"] == cell]
    t1 = sorted((r for r in curves if r["kind"].startswith("T1")), key=lambda r: r["acquired_at"])
    t2 = sorted((r for r in curves if r["kind"].startswith("T2")), key=lambda r: r["acquired_at"])
    for a in t1:
        for b in t2:
            if a["acquired_at"].date() == b["acquired_at"].date():
                return a, b
    return (t1[0] if t1 else None), (t2[0] if t2 else None)


def _fit_of(tables: Mapping[str, pa.Table], curve: dict[str, Any]) -> dict[str, Any] | None:
    for r in _rows(tables, "relaxation_fit"):
        if curve["id"] in (r.get("input_ids") or ()) or r.get("relaxation_id") == curve["id"]:
            return r
    return None


def _model(curve: dict[str, Any], fit: dict[str, Any] | None) -> Curve | None:
    """The fitted single-exponential curve on a fine delay grid."""
    if fit is None or fit.get("m0") is None:
        return None
    t = np.linspace(0.0, max(curve["delay_s"]) * 1.05, 200)
    m0, off = fit["m0"], fit.get("offset") or 0.0
    if fit.get("t1_s"):
        y = m0 * (1.0 - np.exp(-t / fit["t1_s"])) + off
        return Curve(f"T1 = {fit['t1_s'] * 1e3:.3f}({_digits(fit['t1_s_err'] * 1e3)}) ms", t, y)
    if fit.get("t2_s"):
        y = m0 * np.exp(-((t / fit["t2_s"]) ** (fit.get("beta") or 1.0))) + off
        return Curve(f"T2 = {fit['t2_s'] * 1e3:.3f}({_digits(fit['t2_s_err'] * 1e3)}) ms", t, y)
    return None


def _digits(err: float | None) -> str:
    if err is None or not math.isfinite(err):
        return "?"
    return f"{err:.3f}"


def _fig_relaxation(tables: Mapping[str, pa.Table], cell: str, out: Path) -> list[Path]:
    t1, t2 = _relaxation_pair(tables, cell)
    paths: list[Path] = []
    pairs = []
    for curve, label in ((t1, "saturation recovery"), (t2, "Hahn echo")):
        if curve is None:
            pairs.append(None)
            continue
        data = Curve(
            label,
            np.asarray(curve["delay_s"]),
            np.asarray(curve["amplitude"]),
            np.asarray(curve["amplitude_err"]),
        )
        pairs.append((data, _model(curve, _fit_of(tables, curve))))
    if pairs[1] is not None:
        data, fit = pairs[1]
        text = fit.label if fit is not None else "no fit"
        paths += figures.save(figures.echo_decay(data, fit, text), out, "fig2_echo_decay")
    if pairs[0] is not None and pairs[1] is not None:
        paths += figures.save(
            figures.relaxation_comparison(pairs[0], pairs[1], f"$^1$H T$_1$ and T$_2$, {cell}"),
            out,
            "fig3_t1_t2",
        )
    return paths


def _fig_pake(tables: Mapping[str, pa.Table], cell: str, out: Path) -> list[Path]:
    fits = sorted(
        (r for r in _rows(tables, "pake_fit") if r["cell"] == cell), key=lambda r: r["acquired_at"]
    )
    spectra = {r["id"]: r for r in _rows(tables, "spectrum")}
    for fit in reversed(fits):  # the latest fit whose spectrum is at hand
        spec = spectra.get(fit.get("spectrum_id"))
        if spec is None:
            continue
        y = np.asarray(spec["re"], float)
        x_khz = (spec["x_start"] + spec["x_step"] * np.arange(y.size)) / 1e3
        data = Curve("1H solid echo", x_khz, y)
        # the narrow lattice line would hide the broad H2 signal: clip the plot to the broad part
        top = float(np.percentile(np.abs(y), 99.0)) * 1.5
        clipped = Curve(data.label, x_khz, np.clip(y, -top, top))
        horns = []
        for r, r_err, split in zip(
            fit["distance_angstrom"],
            fit["distance_angstrom_err"],
            fit["horn_splitting_hz"],
            strict=True,
        ):
            half = split / 2e3 + (fit.get("offset_hz") or 0.0) / 1e3
            horns.append(
                Curve(
                    f"horns of r = {r:.3f}({_digits(r_err)}) A",
                    np.array([-half, -half, np.nan, half, half]) + 0.0,
                    np.array([0, top, np.nan, 0, top]),
                )
            )
        title = f"{cell}: molecular H$_2$, day {fit.get('days_since_synthesis', 0):.0f}"
        return figures.save(figures.pake_fit(clipped, None, horns, title), out, "fig5_pake")
    return []


def _series(
    ts: pa.Table, kinetics: list[dict[str, Any]], cell: str, quantity: str, label: str
) -> Series | None:
    days, value, err = series_arrays(ts, cell, quantity)
    keep = days >= 0
    if not keep.any():
        return None
    fit_days = fit_value = None
    fit_label = ""
    for k in kinetics:
        if k["cell"] == cell and k["quantity"] == quantity and k.get("tau_days"):
            fit_days = np.linspace(0.0, float(days.max()), 200)
            x0, xi, tau = k["x0"], k["x_inf"], k["tau_days"]
            fit_value = xi + (x0 - xi) * np.exp(-fit_days / tau)
            fit_label = ""
    return Series(
        label, days[keep], value[keep], np.nan_to_num(err[keep]), fit_days, fit_value, fit_label
    )


def _fig_timeseries(tables: Mapping[str, pa.Table], cells: Sequence[str], out: Path) -> list[Path]:
    ts = tables.get("timeseries")
    if ts is None:
        return []
    kinetics = _rows(tables, "kinetics")
    h_la = [s for c in cells if (s := _series(ts, kinetics, c, "h_over_la", c)) is not None]
    tc = [s for c in cells if (s := _series(ts, kinetics, c, "tc_onset_normalised", c)) is not None]
    if not (h_la or tc):
        return []
    return figures.save(figures.time_series(h_la, tc, LEVELS), out, "fig6_timeseries")


# ----------------------------------------------------------------------------- summary.md
def _fmt(value: Any, err: Any = None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, int | float):
        return str(value)
    text = f"{value:.{digits}g}"
    if err is not None and isinstance(err, int | float) and math.isfinite(err):
        text += f" ± {err:.2g}"
    return text


def _table(rows: list[dict[str, Any]], columns: Sequence[tuple[str, str, str | None]]) -> str:
    head = "| " + " | ".join(c[0] for c in columns) + " |"
    rule = "| " + " | ".join("---" for _ in columns) + " |"
    body = [
        "| "
        + " | ".join(_fmt(r.get(col), r.get(err) if err else None) for _, col, err in columns)
        + " |"
        for r in rows
    ]
    return "\n".join([head, rule, *body])


def _summary(
    tables: Mapping[str, pa.Table], notes: Sequence[str], figures_: Sequence[Path], title: str
) -> str:
    def by(name: str, *keys: str) -> list[dict[str, Any]]:
        return sorted(_rows(tables, name), key=lambda r: tuple(str(r.get(k)) for k in keys))

    parts = [
        f"# {title}",
        "",
        "Generated by `hydrofw run`. Values are given ± one standard "
        "error. Days count from each cell's laser-heating synthesis.",
        "",
    ]
    parts += ["## Figures", ""] + [
        f"- [{p.name}]({p.name})" for p in figures_ if p.suffix == ".png"
    ]
    sections = [
        (
            "Kinetics (linear rate and exponential approach)",
            "kinetics",
            ("cell", "quantity"),
            [
                ("cell", "cell", None),
                ("quantity", "quantity", None),
                ("rate per day", "rate_per_day", "rate_per_day_err"),
                ("x0", "x0", "x0_err"),
                ("x_inf", "x_inf", "x_inf_err"),
                ("tau (d)", "tau_days", "tau_days_err"),
                ("AIC lin", "aic_linear", None),
                ("AIC exp", "aic_exponential", None),
                ("preferred", "preferred_model", None),
                ("asymptote constrained", "constrained", None),
            ],
        ),
        (
            "H/La (spin counting)",
            "quantification",
            ("cell", "days_since_synthesis"),
            [
                ("cell", "cell", None),
                ("day", "days_since_synthesis", None),
                ("H/La", "ratio", "ratio_err"),
                ("mode", "mode", None),
            ],
        ),
        (
            "Relaxation",
            "relaxation_fit",
            ("cell", "days_since_synthesis"),
            [
                ("cell", "cell", None),
                ("day", "days_since_synthesis", None),
                ("model", "model", None),
                ("T1 (s)", "t1_s", "t1_s_err"),
                ("T2 (s)", "t2_s", "t2_s_err"),
                ("T1/T2", "t1_over_t2", "t1_over_t2_err"),
                ("red. chi2", "reduced_chi2", None),
                ("constrained", "constrained", None),
            ],
        ),
        (
            "Diffusion coefficient (eq. 1, hbar)",
            "diffusion",
            ("cell", "days_since_synthesis"),
            [
                ("cell", "cell", None),
                ("day", "days_since_synthesis", None),
                ("D (cm2/s)", "d_cm2_s", "d_cm2_s_err"),
                ("omega0 tau", "omega0_tau", "omega0_tau_err"),
                ("extreme narrowing", "extreme_narrowing", None),
                ("convention", "convention", None),
            ],
        ),
        (
            "Molecular H2 (Pake fits)",
            "pake_fit",
            ("cell", "days_since_synthesis"),
            [
                ("cell", "cell", None),
                ("day", "days_since_synthesis", None),
                ("central fraction", "central_fraction", "central_fraction_err"),
                ("broadening (Hz)", "broadening_hz", "broadening_hz_err"),
                ("red. chi2", "reduced_chi2", None),
            ],
        ),
        (
            "Lineshapes",
            "lineshape",
            ("cell", "nucleus", "days_since_synthesis"),
            [
                ("cell", "cell", None),
                ("nucleus", "nucleus", None),
                ("day", "days_since_synthesis", None),
                ("shift (ppm)", "peak_ppm", "peak_ppm_err"),
                ("FWHM (Hz)", "fwhm_hz", "fwhm_hz_err"),
                ("SNR (time)", "snr_time", None),
            ],
        ),
        (
            "Tc (cooling and warming sweeps)",
            "tc",
            ("cell", "days_since_synthesis"),
            [
                ("cell", "cell", None),
                ("day", "days_since_synthesis", None),
                ("sweep", "sweep", None),
                ("onset (K)", "tc_onset_k", "tc_onset_k_err"),
                ("T50 (K)", "tc_50_k", "tc_50_k_err"),
                ("T90 (K)", "tc_90_k", "tc_90_k_err"),
                ("T10 (K)", "tc_10_k", "tc_10_k_err"),
                ("zero (K)", "tc_zero_k", "tc_zero_k_err"),
                ("width (K)", "width_k", "width_k_err"),
            ],
        ),
    ]
    for heading, name, keys, columns in sections:
        rows = by(name, *keys)
        if rows:
            parts += ["", f"## {heading}", "", _table(rows, columns)]
    pake = by("pake_fit", "cell", "days_since_synthesis")
    if pake:
        parts += ["", "Pake distances (angstrom), shortest first:", ""]
        for r in pake:
            dist = ", ".join(
                f"{d:.3f} ± {e:.2g}"
                for d, e in zip(r["distance_angstrom"], r["distance_angstrom_err"], strict=True)
            )
            parts.append(f"- {r['cell']} day {_fmt(r['days_since_synthesis'])}: {dist}")
    if notes:
        parts += ["", "## Notes", ""] + [f"- {n}" for n in notes]
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
) -> list[Path]:
    """Write the figures and ``summary.md`` into ``report_dir``; return the files written."""
    report_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    if cells_nmr:
        first = cells_nmr[0]
        paths += _fig_spectra(tables, first, synthesized_at, report_dir)
        paths += _fig_relaxation(tables, first, report_dir)
        paths += _fig_pake(tables, first, report_dir)
    paths += _fig_timeseries(tables, [*cells_nmr, *cells_transport], report_dir)
    summary = report_dir / "summary.md"
    with atomic_path(summary) as tmp:
        tmp.write_text(_summary(tables, notes, paths, title))
    return [*paths, summary]
