"""The report's figures, built from the result tables: Figs. 1-5 for every NMR cell, R(T) for
every transport cell, Fig. 6 and the campaign-wide series.

Every builder reads columns by name and returns nothing when its table (or column) is missing,
so a report shows whatever the run produced; tables that other steps may add (``decomposition``
fractions, ``dac_shielding``, more Tc criteria, hydride-only H/La) are picked up when present.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
from matplotlib.figure import Figure

from . import figures as F
from .figures import Criterion, Curve, Series
from .percell import BULKY_COLUMNS

__all__ = [
    "ReportFigure",
    "AxisCheck",
    "build_figures",
    "cell_figures",
    "campaign_figures",
    "LEVELS",
]

#: Reference stoichiometries drawn on the H/La panel (Fig. 6a).
LEVELS = (("LaH10", 10.0), ("LaH6", 6.0), ("LaH3", 3.0))


@attrs.define
class AxisCheck:
    """What one axes of a figure must show: the x span of its fitted lines (in axis units) and
    the ids of the rows drawn there (tests compare both against the tables)."""

    axes_index: int
    unit: str
    fitted: tuple[float, float] | None
    ids: list[str] = attrs.field(factory=list)


@attrs.define
class ReportFigure:
    """One figure of the report, before it is written."""

    key: str
    cell: str | None
    label: str
    caption: str
    figure: Figure
    checks: list[AxisCheck] = attrs.field(factory=list)


@attrs.define
class _Ctx:
    tables: Mapping[str, pa.Table]
    synth: Mapping[str, dt.datetime]
    _rows: dict[str, list[dict[str, Any]]] = attrs.field(factory=dict)
    _ids: dict[str, dict[str, dict[str, Any]]] = attrs.field(factory=dict)

    def rows(self, name: str) -> list[dict[str, Any]]:
        """Rows as dicts; the large array columns of raw tables are left out (see arr())."""
        if name not in self._rows:
            t = self.tables.get(name)
            if t is None:
                self._rows[name] = []
            else:
                keep = [n for n in t.column_names if n not in _BULKY]
                rows = t.select(keep).to_pylist()
                for i, r in enumerate(rows):
                    r["_i"] = i
                self._rows[name] = rows
        return self._rows[name]

    def arr(self, name: str, row: Mapping[str, Any], column: str) -> np.ndarray:
        """One array cell of a row (float), read from the Arrow table without a Python list."""
        table = self.tables[name]
        if column not in table.column_names:
            return np.zeros(0)
        value = table.column(column)[row["_i"]]
        if not value.is_valid:
            return np.zeros(0)
        return np.asarray(value.values.to_numpy(zero_copy_only=False), float)

    def by_id(self, name: str) -> dict[str, dict[str, Any]]:
        key = f"{name}#id"
        if key not in self._ids:
            self._ids[key] = {r["id"]: r for r in self.rows(name) if r.get("id")}
        return self._ids[key]

    def days(self, row: Mapping[str, Any]) -> float:
        d = row.get("days_since_synthesis")
        if _finite(d):
            return float(d)
        when, cell = row.get("acquired_at"), row.get("cell")
        if when is None or cell not in self.synth:
            return math.nan
        return (when - self.synth[cell]).total_seconds() / 86400.0


#: array and header columns of raw tables, read per row only when a figure needs them
_BULKY = BULKY_COLUMNS


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _f(x: Any) -> float:
    return float(x) if _finite(x) else math.nan


def _day_label(days: float) -> str:
    if not math.isfinite(days):
        return "day ?"
    return "before heating" if days < 0 else f"day {days:.1f}"


def _axis(r: Mapping[str, Any], n: int) -> np.ndarray:
    return r["x_start"] + r["x_step"] * np.arange(n)


def _u(value: float, err: float | None) -> str:
    from .uformat import format_uncertain

    return format_uncertain(value, err)


# ----------------------------------------------------------------------------- spectra (1, 4)
def _ppm_spectra(ctx: _Ctx, cell: str, nucleus: str) -> list[tuple[float, dict, dict | None]]:
    """(days, spectrum, lineshape or None) of the cell's referenced ppm spectra, by day; one
    spectrum per acquisition (the one with a lineshape fit when there are several)."""
    lines = {r.get("spectrum_id"): r for r in ctx.rows("lineshape") if r.get("cell") == cell}
    best: dict[Any, tuple[float, dict, dict | None]] = {}
    for r in ctx.rows("spectrum"):
        if (
            r.get("cell") != cell
            or r.get("nucleus") != nucleus
            or r.get("domain") != "frequency"
            or r.get("x_unit") != "ppm"
        ):
            continue
        if "shift_implausible" in (r.get("flags") or ()):
            continue  # a wrong reference would stretch the shared ppm axis (flag in the table)
        key = (r.get("acquired_at"), r.get("source_path"), r.get("increment"))
        entry = (ctx.days(r), r, lines.get(r["id"]))
        if key not in best or (best[key][2] is None and entry[2] is not None):
            best[key] = entry
    return sorted(best.values(), key=lambda e: e[0])


def _line(ls: dict | None) -> tuple[float, float]:
    if ls is None:
        return math.nan, math.nan
    return _f(ls.get("peak_ppm")), _f(ls.get("fwhm_ppm"))


def _spectrum_curve(ctx: _Ctx, label: str, r: dict) -> Curve:
    y = ctx.arr("spectrum", r, "re")
    return Curve(label, _axis(r, y.size), y)


def _fig1(ctx: _Ctx, cell: str) -> Iterator[ReportFigure]:
    panels = []
    for nucleus in ("139La", "1H"):
        series = _ppm_spectra(ctx, cell, nucleus)
        before = [e for e in series if e[0] < 0][:1]
        after = [e for e in series if e[0] >= 0][:1]
        panels.append(before + after)
    if not any(panels):
        return
    curves = [[_spectrum_curve(ctx, _day_label(d), r) for d, r, _ in p] for p in panels]
    extents = [F.line_extent([_line(ls) for _, _, ls in p]) for p in panels]
    fig = F.before_after_spectra(curves[0], curves[1], (extents[0], extents[1]), cell)
    after_h = [ls for d, _, ls in panels[0] if d >= 0 and ls]
    ratio = ""
    for q in ctx.rows("quantification"):
        if q.get("cell") == cell and _finite(q.get("ratio")) and ctx.days(q) >= 0:
            ratio = f" H/La after heating: {_u(q['ratio'], q.get('ratio_err'))}."
            break
    del after_h
    yield ReportFigure(
        f"{cell}_fig1_before_after",
        cell,
        "Fig. 1",
        f"{cell}: 139La (left) and 1H (right) spectra before (blue) and after (purple) laser "
        f"heating; shift axes cover the fitted lines (peak +- {F.LINE_HALF_WIDTHS} FWHM)." + ratio,
        fig,
        [AxisCheck(i, "ppm", extents[i], [r["id"] for _, r, _ in p]) for i, p in enumerate(panels)],
    )


def _kinetics_curve(
    ctx: _Ctx, cell: str, quantity: str, days_max: float
) -> tuple[np.ndarray, np.ndarray, str] | None:
    """The preferred kinetics model of a cell's quantity over its fit window."""
    for k in ctx.rows("kinetics"):
        if k.get("cell") != cell or k.get("quantity") != quantity:
            continue
        start = _f(k.get("window_start_days"))
        end = _f(k.get("window_end_days"))
        start = 0.0 if not math.isfinite(start) else max(start, 0.0)
        end = days_max if not math.isfinite(end) else end
        t = np.linspace(start, end, 200)
        if k.get("preferred_model") == "linear" and _finite(k.get("intercept")):
            rate = _f(k.get("rate_per_day"))
            return t, k["intercept"] - rate * t, "linear"
        if _finite(k.get("tau_days")) and _finite(k.get("x0")) and _finite(k.get("x_inf")):
            x0, xi, tau = k["x0"], k["x_inf"], k["tau_days"]
            return t, xi + (x0 - xi) * np.exp(-t / tau), "exponential"
    return None


def _series(ctx: _Ctx, cell: str, quantity: str, label: str, fit: bool = True) -> Series | None:
    rows = [
        r
        for r in ctx.rows("timeseries")
        if r.get("cell") == cell and r.get("quantity") == quantity and _finite(r.get("value"))
    ]
    rows = [r for r in rows if ctx.days(r) >= 0]
    if not rows:
        return None
    rows.sort(key=ctx.days)
    days = np.array([ctx.days(r) for r in rows])
    value = np.array([r["value"] for r in rows], float)
    err = np.array([_f(r.get("value_err")) for r in rows])
    model = _kinetics_curve(ctx, cell, quantity, float(days.max())) if fit else None
    return Series(
        label,
        days,
        value,
        np.nan_to_num(err),
        None if model is None else model[0],
        None if model is None else model[1],
        "" if model is None else model[2],
    )


def _fraction_series(ctx: _Ctx, cell: str) -> list[Series]:
    """Molecular-H2 share of the solid echo (timeseries ``h2_fraction_solid_echo``, Pake fit)
    and any ``*_fraction`` column of a ``decomposition`` table (every 1H FID), against days."""
    out = []
    s = _series(ctx, cell, "h2_fraction_solid_echo", "H$_2$ (solid-echo Pake fit)")
    if s is not None:
        out.append(s)
    rows = [r for r in ctx.rows("decomposition") if r.get("cell") == cell]
    if rows:
        cols = sorted(
            {
                k
                for r in rows
                for k, v in r.items()
                if k.endswith("_fraction") and _finite(v) and not k.endswith("_err")
            }
        )
        for col in cols:
            pts = sorted(
                (ctx.days(r), r[col], _f(r.get(f"{col}_err")))
                for r in rows
                if _finite(r.get(col)) and ctx.days(r) >= 0
            )
            if pts:
                d, v, e = (np.array(x, float) for x in zip(*pts, strict=True))
                name = col.removesuffix("_fraction").replace("_", " ")
                out.append(Series(f"{name} (decomposition)", d, v, np.nan_to_num(e)))
    return out


def _fig4(ctx: _Ctx, cell: str) -> Iterator[ReportFigure]:
    panels = [[e for e in _ppm_spectra(ctx, cell, n) if e[0] >= 0] for n in ("139La", "1H")]
    if not any(panels):
        return
    curves = [[_spectrum_curve(ctx, _day_label(d), r) for d, r, _ in p] for p in panels]
    extents = [F.line_extent([_line(ls) for _, _, ls in p]) for p in panels]
    peaks = [[_line(ls)[0] for _, _, ls in p] for p in panels]
    fractions = _fraction_series(ctx, cell)
    fig = F.stacked_spectra(
        curves[0], curves[1], (extents[0], extents[1]), (peaks[0], peaks[1]), fractions, cell
    )
    yield ReportFigure(
        f"{cell}_fig4_stacked",
        cell,
        "Fig. 4",
        f"{cell}: a) 139La and b) 1H spectra by day after laser heating (one intensity scale per "
        "panel); red lines through the fitted peak positions are a guide to the eye"
        + ("; c) molecular-H2 share of the 1H signal against days." if fractions else "."),
        fig,
        [AxisCheck(i, "ppm", extents[i], [r["id"] for _, r, _ in p]) for i, p in enumerate(panels)],
    )


#: nuclei of Figs. 1 and 4, and of the copper referencing lines (shown through sigma_DAC)
_PAPER_NUCLEI = ("139La", "1H")
_REFERENCE_NUCLEI = ("63Cu", "65Cu")


def _fig_other_nuclei(ctx: _Ctx, cell: str) -> Iterator[ReportFigure]:
    """Spectra of any other nucleus of a cell, stacked by acquisition."""
    nuclei = sorted(
        {
            r.get("nucleus")
            for r in ctx.rows("spectrum")
            if r.get("cell") == cell and r.get("domain") == "frequency" and r.get("x_unit") == "ppm"
        }
        - {None, *_PAPER_NUCLEI, *_REFERENCE_NUCLEI}
    )
    for nucleus in nuclei:
        series = _ppm_spectra(ctx, cell, nucleus)
        curves = [_spectrum_curve(ctx, _day_label(d), r) for d, r, _ in series]
        extent = F.line_extent([_line(ls) for _, _, ls in series])
        fig = F.spectra_stack(
            curves, extent, [_line(ls)[0] for _, _, ls in series], f"{nucleus}, {cell}"
        )
        safe = re.sub(r"[^A-Za-z0-9]", "", nucleus)
        yield ReportFigure(
            f"{cell}_spectra_{safe}",
            cell,
            f"{nucleus} spectra",
            f"{cell}: {nucleus} spectra by acquisition ({len(curves)}), red line through the "
            "fitted peaks.",
            fig,
            [AxisCheck(0, "ppm", extent, [r["id"] for _, r, _ in series])],
        )


# ----------------------------------------------------------------------------- relaxation (2, 3)
def _relaxation_pair(ctx: _Ctx, cell: str) -> tuple[dict | None, dict | None]:
    """The first T1 and T2 curves of a cell measured on the same day (or the first of each)."""
    curves = [r for r in ctx.rows("relaxation") if r.get("cell") == cell]
    key = lambda r: r.get("acquired_at") or dt.datetime.min.replace(tzinfo=dt.UTC)  # noqa: E731
    t1 = sorted((r for r in curves if str(r.get("kind", "")).startswith("T1")), key=key)
    t2 = sorted((r for r in curves if str(r.get("kind", "")).startswith("T2")), key=key)
    for a in t1:
        for b in t2:
            if a.get("acquired_at") and b.get("acquired_at"):
                if a["acquired_at"].date() == b["acquired_at"].date():
                    return a, b
    return (t1[0] if t1 else None), (t2[0] if t2 else None)


def _fit_of(ctx: _Ctx, curve: dict) -> dict | None:
    for r in ctx.rows("relaxation_fit"):
        if r.get("relaxation_id") == curve["id"] or curve["id"] in (r.get("input_ids") or ()):
            return r
    return None


def _model(curve: dict, fit: dict | None) -> Curve | None:
    """The fitted relaxation curve on a fine delay grid (single or stretched exponential)."""
    if fit is None or not _finite(fit.get("m0")):
        return None
    delays = np.asarray(curve["delay_s"], float)
    t_max = float(np.nanmax(delays)) * 1.05
    t_min = float(np.nanmin(delays[delays > 0])) / 2 if np.any(delays > 0) else t_max / 1e3
    # dense on a linear and on a logarithmic delay axis alike
    t = np.unique(np.concatenate([np.linspace(0.0, t_max, 150), np.geomspace(t_min, t_max, 150)]))
    m0, off = fit["m0"], _f(fit.get("offset"))
    off = off if math.isfinite(off) else 0.0
    if _finite(fit.get("t1_s")):
        y = m0 * (1.0 - np.exp(-t / fit["t1_s"])) + off
        return Curve(f"T$_1$ = {_u(fit['t1_s'] * 1e3, _f(fit.get('t1_s_err')) * 1e3)} ms", t, y)
    if _finite(fit.get("t2_s")):
        beta = _f(fit.get("beta"))
        beta = beta if math.isfinite(beta) else 1.0
        y = m0 * np.exp(-((t / fit["t2_s"]) ** beta)) + off
        return Curve(f"T$_2$ = {_u(fit['t2_s'] * 1e3, _f(fit.get('t2_s_err')) * 1e3)} ms", t, y)
    return None


def _data(curve: dict, label: str) -> Curve:
    err = curve.get("amplitude_err")
    return Curve(
        label,
        np.asarray(curve["delay_s"], float),
        np.asarray(curve["amplitude"], float),
        None if err is None else np.asarray(err, float),
    )


def _echoes(ctx: _Ctx, curve: dict) -> list[Curve]:
    """The raw echoes of a T2 series in the time domain: magnitude at 2 tau + t."""
    spectra = ctx.by_id("spectrum")
    out = []
    for delay, sid in zip(curve.get("delay_s") or (), curve.get("source_ids") or (), strict=False):
        s = spectra.get(sid)
        if s is None or s.get("domain") != "time":
            continue
        y = np.abs(ctx.arr("spectrum", s, "re") + 1j * ctx.arr("spectrum", s, "im"))
        if y.size:
            out.append(Curve(f"2tau = {delay * 1e3:.2f} ms", delay + _axis(s, y.size), y))
    return out


def _fig23(ctx: _Ctx, cell: str) -> Iterator[ReportFigure]:
    t1, t2 = _relaxation_pair(ctx, cell)
    t1_fit = _fit_of(ctx, t1) if t1 else None
    t2_fit = _fit_of(ctx, t2) if t2 else None
    if t2 is not None:
        model = _model(t2, t2_fit)
        text = model.label if model is not None else "no fit"
        echoes = _echoes(ctx, t2)
        fig = F.echo_train(echoes, _data(t2, "echo amplitude"), model, cell, text)
        day = _day_label(ctx.days(t2))
        yield ReportFigure(
            f"{cell}_fig2_echoes",
            cell,
            "Fig. 2",
            f"{cell}, {day}: a) 1H spin echoes in the time domain (magnitude), each drawn at its "
            f"echo time 2tau after the first pulse ({len(echoes)} delays), with the fitted T2 "
            f"envelope; b) echo amplitudes and the T2 fit ({text.replace('$', '')}).",
            fig,
        )
    if (t1 is None) != (t2 is None):  # one kind only: that curve and its fit
        curve = t1 if t1 is not None else t2
        fit = t1_fit if t1 is not None else t2_fit
        model = _model(curve, fit)
        kind = str(curve.get("kind") or "")
        yield ReportFigure(
            f"{cell}_fig3_relaxation",
            cell,
            "Fig. 3",
            f"{cell}: {curve.get('nucleus') or ''} {kind.replace('_', ' ')} "
            f"({_day_label(ctx.days(curve))}) with its fit"
            + (f" ({model.label.replace('$', '')})." if model is not None else " (no fit)."),
            F.relaxation_curve(
                _data(curve, kind.replace("_", " ")),
                model,
                f"{curve.get('nucleus') or ''} {kind.split('_')[0]}, {cell}",
            ),
        )
    if t1 is not None and t2 is not None:
        fig = F.relaxation_comparison(
            (_data(t1, "saturation recovery"), _model(t1, t1_fit)),
            (_data(t2, "Hahn echo"), _model(t2, t2_fit)),
            f"$^1$H T$_1$ and T$_2$, {cell}",
        )
        ratio = ""
        fit = t1_fit if t1_fit and _finite(t1_fit.get("t1_over_t2")) else t2_fit
        if fit and _finite(fit.get("t1_over_t2")):
            ratio = f" T1/T2 = {_u(fit['t1_over_t2'], fit.get('t1_over_t2_err'))}."
        yield ReportFigure(
            f"{cell}_fig3_t1_t2",
            cell,
            "Fig. 3",
            f"{cell}: saturation recovery (plotted as 1 - M/M0) and Hahn-echo decay, normalised, "
            "with single-exponential fits; T1 ~ T2 shows as overlapping curves." + ratio,
            fig,
        )


# ----------------------------------------------------------------------------- Pake (5)
def _pake_shapes(freq_hz: np.ndarray, fit: dict) -> list[np.ndarray] | None:
    """Unit-area broadened Pake doublets of the fitted couplings on ``freq_hz`` (from the nmr
    plugin's closed form when it is installed; None otherwise)."""
    try:
        from hydrofw_nmr.physics.dipolar import pake_lineshape
    except ImportError:
        return None
    out = []
    for d in fit.get("coupling_hz") or ():
        if not (_finite(d) and d > 0):
            return None
        out.append(
            pake_lineshape(
                freq_hz,
                d,
                broadening_fwhm_hz=max(_f(fit.get("broadening_hz")), 0.0),
                shape=fit.get("broadening_shape") or "gaussian",
                offset_hz=_f(fit.get("offset_hz")) if _finite(fit.get("offset_hz")) else 0.0,
            )
        )
    return out


def _lorentzian(freq_hz: np.ndarray, centre: float, fwhm: float) -> np.ndarray:
    half = 0.5 * fwhm
    return half / (math.pi * ((freq_hz - centre) ** 2 + half**2))


def _pake_model(
    freq: np.ndarray, y: np.ndarray, fit: dict
) -> tuple[Curve | None, list[Curve], float | None]:
    """The fitted model rebuilt from the stored parameters: each doublet's shape (coupling,
    broadening, centre) and the central line's width are the fit's; the amplitudes follow by
    linear least squares, as in the fit (variable projection). Returns the model, components
    (kHz axis) and the peak of the doublets alone."""
    shapes = _pake_shapes(freq, fit)
    if not shapes:
        return None, [], None
    weights = [_f(w) for w in fit.get("weight") or ()]
    if len(weights) != len(shapes) or not all(math.isfinite(w) for w in weights):
        weights = [1.0] * len(shapes)
    doublets = np.sum([w * s for w, s in zip(weights, shapes, strict=True)], axis=0)
    central = _f(fit.get("central_fwhm_hz"))
    step = abs(float(freq[1] - freq[0])) if freq.size > 1 else 1.0
    # the doublets' amplitude (and a constant baseline) from the points away from the narrow
    # central line, which a point-sampled Lorentzian would not match; then the central line's
    # amplitude from what is left near the centre
    if math.isfinite(central) and central > 0:
        centre = float(freq[np.argmax(y)])
        near = np.abs(freq - centre) < 5.0 * max(central, step)
    else:
        near = np.zeros(freq.size, bool)
    a = np.column_stack([doublets, np.ones_like(freq)])
    (amp, base), *_ = np.linalg.lstsq(a[~near], y[~near], rcond=None)
    basis = [doublets]
    coef = [amp]
    if near.any():
        line = _lorentzian(freq, centre, central)
        rest = y - amp * doublets - base
        coef.append(float(np.dot(line[near], rest[near]) / np.dot(line[near], line[near])))
        basis.append(line)
    basis.append(np.ones_like(freq))
    coef.append(base)
    a = np.column_stack(basis)
    coef = np.asarray(coef)
    khz = freq / 1e3
    model = Curve("fitted model", khz, a @ coef)
    comps = []
    dist = fit.get("distance_angstrom") or []
    derr = fit.get("distance_angstrom_err") or [None] * len(dist)
    names_r = ("r$_n$", "r$_{nn}$") if len(shapes) == 2 else tuple(f"r$_{k + 1}$" for k in range(9))
    order = np.argsort(np.asarray(fit.get("coupling_hz"), float))[::-1]  # largest coupling first
    for j, k in enumerate(order):
        r = f"{names_r[j]} = {_u(dist[j], derr[j])} Å" if j < len(dist) else ""
        comps.append(Curve(f"doublet {r}", khz, coef[0] * weights[k] * shapes[k] + coef[-1]))
    if len(basis) == 3:
        comps.append(Curve("central (lattice) line", khz, coef[1] * basis[1] + coef[-1]))
    doublets = coef[0] * basis[0] + coef[-1]
    return model, comps, float(np.max(doublets))


def _fig5(ctx: _Ctx, cell: str) -> Iterator[ReportFigure]:
    fits = sorted(
        (r for r in ctx.rows("pake_fit") if r.get("cell") == cell), key=lambda r: ctx.days(r)
    )
    spectra = ctx.by_id("spectrum")
    usable = [f for f in fits if "distance_unconstrained" not in (f.get("flags") or ())]
    for fit in reversed(usable or fits):  # the latest (resolved) fit whose spectrum is at hand
        spec = spectra.get(fit.get("spectrum_id"))
        if spec is None or spec.get("x_unit") != "Hz":
            continue
        y = ctx.arr("spectrum", spec, "re")
        freq = _axis(spec, y.size)
        model, comps, doublet_peak = _pake_model(freq, y, fit)
        couplings = [c for c in (fit.get("coupling_hz") or ()) if _finite(c)]
        off = _f(fit.get("offset_hz")) if _finite(fit.get("offset_hz")) else 0.0
        reach = 1.5 * max(couplings, default=0.0) + F.LINE_HALF_WIDTHS * max(
            _f(fit.get("broadening_hz")) if _finite(fit.get("broadening_hz")) else 0.0, 0.0
        )
        extent = ((off - reach) / 1e3, (off + reach) / 1e3) if reach > 0 else None
        if extent is None:
            extent = (freq.min() / 1e3, freq.max() / 1e3)
        note, y_top = "", None
        if doublet_peak is not None and doublet_peak > 0:
            y_top = 1.6 * doublet_peak
            if np.nanmax(y) > y_top:
                cf = fit.get("central_fraction")
                share = f", {100 * cf:.0f} % of the intensity" if _finite(cf) else ""
                note = (
                    f"central line{share}: clipped, its peak is "
                    f"{np.nanmax(y) / y_top:.0f}x the axis top"
                )
        dist = fit.get("distance_angstrom") or []
        derr = fit.get("distance_angstrom_err") or [None] * len(dist)
        dtext = ", ".join(f"{_u(d, e)} Å" for d, e in zip(dist, derr, strict=False))
        title = f"{cell}: molecular H$_2$, {_day_label(ctx.days(fit))}"
        fig = F.pake_fit(
            Curve("$^1$H solid echo", freq / 1e3, y), model, comps, extent, y_top, note, title
        )
        flags = ", ".join(fit.get("flags") or ()) or "none"
        dec = [
            r
            for r in ctx.rows("decomposition")
            if r.get("cell") == cell
            and _finite(r.get("r_n_angstrom"))
            and abs(ctx.days(r) - ctx.days(fit)) < 1.0
        ]
        if dec:
            r = dec[0]
            dtext += (
                " (decomposition of the FID that day: r_n = "
                f"{_u(r['r_n_angstrom'], r.get('r_n_angstrom_err'))} Å"
                + (
                    f", r_nn = {_u(r['r_nn_angstrom'], r.get('r_nn_angstrom_err'))} Å"
                    if _finite(r.get("r_nn_angstrom"))
                    else ""
                )
                + ")"
            )
        yield ReportFigure(
            f"{cell}_fig5_pake",
            cell,
            "Fig. 5",
            f"{cell}, {_day_label(ctx.days(fit))}: 1H spectrum (points) with the fitted "
            f"two-doublet Pake model (red) and its components; pair distances {dtext}; "
            f"the x axis covers the pattern's edges (+-1.5 d). "
            + (note + ". " if note else "")
            + ("" if model is not None else "The model curve needs the hydrofw-nmr plugin. ")
            + f"Flags: {flags}.",
            fig,
            [AxisCheck(0, "kHz", extent, [spec["id"]])],
        )
        return


# ----------------------------------------------------------------------------- transport
_CRITERION = re.compile(r"^tc_(.+)_k$")


def _criteria(tc: dict, temps: np.ndarray, res: np.ndarray) -> list[Criterion]:
    """Every ``tc_<c>_k`` of a tc row, with R read off the sweep at that temperature."""
    order = np.argsort(temps)
    out = []
    for col, value in tc.items():
        m = _CRITERION.match(col)
        if not m or not _finite(value):
            continue
        r = float(np.interp(value, temps[order], res[order])) if temps.size else math.nan
        out.append(Criterion(m.group(1).replace("dRdT", "dR/dT"), float(value), r))
    return out


def _fig_rt(ctx: _Ctx, cell: str) -> Iterator[ReportFigure]:
    sweeps = [r for r in ctx.rows("transport") if r.get("cell") == cell]
    if not sweeps:
        return
    sweeps.sort(key=ctx.days)
    tcs = {r.get("transport_id"): r for r in ctx.rows("tc") if r.get("cell") == cell}
    curves, days = [], []
    lo, hi = np.inf, -np.inf
    for s in sweeps:
        t = ctx.arr("transport", s, "temperature_k")
        r = ctx.arr("transport", s, "resistance_ohm")
        ok = np.isfinite(t) & np.isfinite(r)
        if not ok.any():
            continue
        curves.append(Curve(f"{s.get('sweep', '')} {_day_label(ctx.days(s))}", t[ok], r[ok]))
        days.append(ctx.days(s))
        lo, hi = min(lo, t[ok].min()), max(hi, t[ok].max())
    if not curves:
        return
    marked = []
    picks = [i for i, s in enumerate(sweeps) if s["id"] in tcs]
    for i in dict.fromkeys([picks[0], picks[-1]] if picks else []):
        s, c = sweeps[i], curves[i] if i < len(curves) else None
        if c is not None:
            marked.append((c, _criteria(tcs[s["id"]], c.x, c.y)))
    # panel b: the transition of the marked sweeps (every criterion) with its width again on
    # each side, so the criteria are told apart; panel a: the whole sweeps
    temps = [c.temperature_k for _, crits in marked for c in crits if np.isfinite(c.temperature_k)]
    zoom = None
    if temps:
        width = max(max(temps) - min(temps), 0.02 * max(temps), 0.5)
        zoom = (max(min(temps) - width, lo), min(max(temps) + width, hi))
    fig = F.resistance_sweeps(curves, days, marked, zoom, cell)
    names = sorted({c.name for _, crits in marked for c in crits})
    yield ReportFigure(
        f"{cell}_rt_sweeps",
        cell,
        "R(T)",
        f"{cell}: a) every R(T) sweep ({len(curves)}), coloured by day after laser heating; "
        f"b) the first and last analysed sweep with the Tc criteria marked "
        f"({', '.join(names) or 'none'}).",
        fig,
    )


def _fig_tc_criteria(ctx: _Ctx, cell: str) -> Iterator[ReportFigure]:
    """Tc of one transport cell by every criterion in the time series, against days."""
    quantities = sorted(
        {
            r["quantity"]
            for r in ctx.rows("timeseries")
            if r.get("cell") == cell and _CRITERION.match(str(r.get("quantity")))
        }
    )
    series = [
        s
        for q in quantities
        if (s := _series(ctx, cell, q, _CRITERION.match(q).group(1))) is not None  # type: ignore[union-attr]
    ]
    if not series:
        return
    fig = F.quantity_vs_days(series, "T$_c$ (K)", f"T$_c$ of {cell} by criterion")
    yield ReportFigure(
        f"{cell}_tc_criteria",
        cell,
        "Tc(t)",
        f"{cell}: Tc of every criterion against days (cooling sweeps), with the preferred "
        "kinetics model where fitted.",
        fig,
    )


# ----------------------------------------------------------------------------- campaign-wide
def _total_h_over_la(ctx: _Ctx, cell: str) -> Series | None:
    """H/La of all 1H (metal hydride + H2) beside the hydride-only ``ratio``, where the
    quantification has it (``ratio_total_<mode>`` of each row's mode)."""
    pts = []
    for q in ctx.rows("quantification"):
        if q.get("cell") != cell or q.get("counted") in (None, "total"):
            continue
        col = f"ratio_total_{q.get('mode')}"
        if _finite(q.get(col)) and ctx.days(q) >= 0:
            pts.append((ctx.days(q), q[col], _f(q.get(f"{col}_err"))))
    if not pts:
        return None
    d, v, e = (np.array(x, float) for x in zip(*sorted(pts), strict=True))
    return Series(f"{cell} (all $^1$H)", d, v, np.nan_to_num(e))


def _fig6(ctx: _Ctx, nmr: Sequence[str], transport: Sequence[str]) -> Iterator[ReportFigure]:
    # per cell: the counted H/La (the metal hydride by default) and all 1H beside it; the
    # other methods' series (h_over_la_calibrated, ...) are in the tables, not on the figure
    h_la = []
    for c in nmr:
        s = _series(ctx, c, "h_over_la", c)
        if s is not None:
            h_la.append(s)
        total = _total_h_over_la(ctx, c)
        if total is not None:
            h_la.append(total)
    tc = [s for c in transport if (s := _series(ctx, c, "tc_onset_normalised", c)) is not None]
    if not (h_la or tc):
        return
    fig = F.time_series(h_la, tc, LEVELS, "T$_c$(onset) / first")
    yield ReportFigure(
        "fig6_timeseries",
        None,
        "Fig. 6",
        "a) H/La of every NMR cell against days after laser heating (filled: the quantification's "
        "ratio; open: all 1H, metal hydride + H2, where counted apart), with the LaH10, LaH6 and "
        "LaH3 levels (red) and the preferred kinetics model (lines); b) onset Tc of every "
        "transport cell normalised to its first cooling sweep.",
        fig,
    )


def _shielding(ctx: _Ctx, cells: Sequence[str]) -> Iterator[ReportFigure]:
    """sigma_DAC of each NMR cell against days: the ``dac_shielding`` table when present,
    else the ``dac_shielding_ppm`` the referencing step wrote on each spectrum."""
    rows = ctx.rows("dac_shielding")
    col = None
    if rows:
        names = [k for k in rows[0] if k.endswith("_ppm") and not k.endswith("_err")]
        col = next(
            (k for k in names if "shielding" in k or "sigma" in k), names[0] if names else None
        )
    if col is None:  # no table: what the referencing wrote, when a correction was made
        rows = [r for r in ctx.rows("spectrum") if _finite(r.get("dac_shielding_ppm"))]
        col = "dac_shielding_ppm"
        if not any(r[col] != 0 for r in rows):
            return
    series = []
    for c in cells:
        pts = {}
        for r in rows:
            if r.get("cell") == c and _finite(r.get(col)):
                pts[round(ctx.days(r), 3)] = (r[col], _f(r.get(f"{col}_err")))
        if len(pts) >= 1:
            d = np.array(sorted(pts))
            v = np.array([pts[k][0] for k in sorted(pts)])
            e = np.array([pts[k][1] for k in sorted(pts)])
            series.append(Series(c, d, v, np.nan_to_num(e)))
    if not series:
        return
    fig = F.quantity_vs_days(
        series, "$\\sigma_{DAC}$ (ppm)", "DAC shielding from the $^{63}$Cu line"
    )
    source = "the dac_shielding table" if ctx.rows("dac_shielding") else "the referenced spectra"
    yield ReportFigure(
        "dac_shielding",
        None,
        "sigma_DAC",
        "Shielding sigma_DAC of each NMR cell's resonator (63Cu in the cell against ambient "
        f"63Cu) against days, from {source}.",
        fig,
    )


def cell_figures(
    tables: Mapping[str, pa.Table],
    cell: str,
    kind: str,
    synthesized_at: Mapping[str, dt.datetime],
) -> list[ReportFigure]:
    """The figures of one cell (``kind`` ``"nmr"`` or ``"transport"``), from tables that hold
    that cell's rows (other cells' rows are ignored)."""
    ctx = _Ctx(tables, synthesized_at)
    builds = (
        (_fig_rt, _fig_tc_criteria)
        if kind == "transport"
        else (_fig1, _fig23, _fig4, _fig5, _fig_other_nuclei)
    )
    return [f for build in builds for f in build(ctx, cell)]


def campaign_figures(
    tables: Mapping[str, pa.Table],
    *,
    cells_nmr: Sequence[str],
    cells_transport: Sequence[str],
    synthesized_at: Mapping[str, dt.datetime],
) -> list[ReportFigure]:
    """The campaign-wide figures (Fig. 6, sigma_DAC), from tables without arrays."""
    ctx = _Ctx(tables, synthesized_at)
    return [*_fig6(ctx, cells_nmr, cells_transport), *_shielding(ctx, cells_nmr)]


def build_figures(
    tables: Mapping[str, pa.Table],
    *,
    cells_nmr: Sequence[str],
    cells_transport: Sequence[str],
    synthesized_at: Mapping[str, dt.datetime],
) -> list[ReportFigure]:
    """Every figure of the report, NMR cells first, then transport cells, then campaign-wide."""
    out = [f for c in cells_nmr for f in cell_figures(tables, c, "nmr", synthesized_at)]
    out += [
        f for c in cells_transport for f in cell_figures(tables, c, "transport", synthesized_at)
    ]
    return out + campaign_figures(
        tables, cells_nmr=cells_nmr, cells_transport=cells_transport, synthesized_at=synthesized_at
    )
