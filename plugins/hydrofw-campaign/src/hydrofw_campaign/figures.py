"""The report's figures, after Figs. 1-6 of Zhou et al. (arXiv:2408.13419), drawn with matplotlib.

Each function takes plain arrays (prepared from the result tables by
:mod:`hydrofw_campaign.reportfigs`) and returns a ``matplotlib.figure.Figure`` built without
pyplot (no global state, no display). Conventions: ppm axes decrease to the right; the x range
of a spectrum covers its fitted lines (peak +- :data:`LINE_HALF_WIDTHS` FWHM) with
:data:`MARGIN` of that width on each side, never the noise; at most five x ticks so that tick
labels do not collide.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from hydrofw.atomic import atomic_path

__all__ = [
    "Curve",
    "Series",
    "Criterion",
    "LINE_HALF_WIDTHS",
    "MARGIN",
    "line_extent",
    "padded",
    "before_after_spectra",
    "echo_train",
    "relaxation_comparison",
    "stacked_spectra",
    "pake_fit",
    "time_series",
    "resistance_sweeps",
    "quantity_vs_days",
    "png_bytes",
    "save_png",
]

#: a fitted line spans peak +- this many FWHM (a Gaussian is at 0.2 %, a Lorentzian at 10 %)
LINE_HALF_WIDTHS = 1.5
#: margin added on each side of the fitted lines' span, as a fraction of the span (<= 30 % total)
MARGIN = 0.12
_CMAP_DAYS = "viridis"


@attrs.frozen
class Curve:
    """One line: x, y (and optional y errors) with a legend label."""

    label: str
    x: np.ndarray
    y: np.ndarray
    yerr: np.ndarray | None = None


@attrs.frozen
class Series:
    """A time series of one cell: points with errors and an optional fitted model curve."""

    label: str
    days: np.ndarray
    value: np.ndarray
    err: np.ndarray
    fit_days: np.ndarray | None = None
    fit_value: np.ndarray | None = None
    fit_label: str = ""


@attrs.frozen
class Criterion:
    """A Tc criterion marked on an R(T) sweep: its name, temperature (K) and resistance (ohm)."""

    name: str
    temperature_k: float
    resistance_ohm: float


def line_extent(lines: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    """(low, high) covering every (peak, FWHM) line as peak +- LINE_HALF_WIDTHS FWHM; None if
    no line has finite values."""
    lo, hi = np.inf, -np.inf
    for peak, fwhm in lines:
        if np.isfinite(peak) and np.isfinite(fwhm) and fwhm > 0:
            lo = min(lo, peak - LINE_HALF_WIDTHS * fwhm)
            hi = max(hi, peak + LINE_HALF_WIDTHS * fwhm)
    return (float(lo), float(hi)) if hi > lo else None


def padded(extent: tuple[float, float], margin: float = MARGIN) -> tuple[float, float]:
    """``extent`` widened by ``margin`` of its width on each side."""
    lo, hi = extent
    pad = margin * (hi - lo)
    return lo - pad, hi + pad


def _strong_extent(curves: Sequence[Curve]) -> tuple[float, float] | None:
    """Fallback span where no fitted line is known: where the smoothed signal exceeds 20 % of
    its maximum (noise spikes are averaged away first)."""
    lo, hi = np.inf, -np.inf
    for c in curves:
        if c.y.size < 5:
            continue
        k = max(c.y.size // 100, 3)
        smooth = np.convolve(c.y, np.ones(k) / k, mode="same")
        strong = c.x[smooth >= 0.2 * np.nanmax(smooth)]
        if strong.size:
            lo, hi = min(lo, strong.min()), max(hi, strong.max())
    return (float(lo), float(hi)) if hi > lo else None


def _ppm_axis(ax, curves: Sequence[Curve], extent: tuple[float, float] | None) -> None:
    """x limits of a ppm axis: decreasing to the right, over the fitted lines plus margin."""
    extent = extent or _strong_extent(curves)
    if extent is not None:
        lo, hi = padded(extent)
        ax.set_xlim(hi, lo)
    elif not ax.xaxis_inverted():
        ax.invert_xaxis()
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.set_xlabel("shift (ppm)")


def _norm(y: np.ndarray, peak: float | None = None) -> np.ndarray:
    peak = (float(np.nanmax(np.abs(y))) if y.size else 1.0) if peak is None else peak
    return y / peak if peak > 0 else y


def _visible_peak(c: Curve, xlim: tuple[float, float]) -> float:
    lo, hi = min(xlim), max(xlim)
    inside = (c.x >= lo) & (c.x <= hi)
    y = c.y[inside] if inside.any() else c.y
    return float(np.nanmax(np.abs(y))) if y.size else 1.0


def _thin(x: np.ndarray, y: np.ndarray, xlim: tuple[float, float] | None, n: int = 1200):
    """The points within ``xlim`` (all when None), reduced to about ``n`` by keeping the
    minimum and maximum of each bin, so peaks and noise bands look the same but draw fast."""
    if xlim is not None:
        lo, hi = min(xlim), max(xlim)
        inside = (x >= lo) & (x <= hi)
        x, y = x[inside], y[inside]
    if x.size <= n:
        return x, y
    k = int(np.ceil(x.size / (n / 2)))
    m = (x.size // k) * k
    xb, yb = x[:m].reshape(-1, k), y[:m].reshape(-1, k)
    i_min, i_max = np.argmin(yb, axis=1), np.argmax(yb, axis=1)
    rows = np.arange(xb.shape[0])
    first = np.minimum(i_min, i_max)
    second = np.maximum(i_min, i_max)
    xs = np.column_stack([xb[rows, first], xb[rows, second]]).ravel()
    ys = np.column_stack([yb[rows, first], yb[rows, second]]).ravel()
    return xs, ys


def _new(
    ncols: int, width: float, height: float, nrows: int = 1, wspace_in: float = 0.75
) -> tuple[Figure, np.ndarray]:
    """A figure with fixed margins in inches (left for the y label, below for the x label,
    above for the title): no layout engine, which would cost a second text-layout pass."""
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    panel = (width - 0.8 - 0.2 - wspace_in * (ncols - 1)) / ncols
    fig.subplots_adjust(
        left=0.8 / width,
        right=1.0 - 0.2 / width,
        bottom=0.6 / height,
        top=1.0 - 0.35 / height,
        wspace=wspace_in / panel,
    )
    return fig, axes


def before_after_spectra(
    la: Sequence[Curve],
    h: Sequence[Curve],
    extents: tuple[tuple[float, float] | None, tuple[float, float] | None],
    cell: str,
) -> Figure:
    """Fig. 1: 139La (left) and 1H (right) spectra before (blue) and after (purple) laser
    heating, each normalised to its maximum within the plotted range and offset."""
    fig, axes = _new(2, 9.0, 3.6, wspace_in=0.3)
    colors = ("tab:blue", "tab:purple", "tab:green")
    for ax, curves, extent, title in (
        (axes[0, 0], la, extents[0], "$^{139}$La"),
        (axes[0, 1], h, extents[1], "$^{1}$H"),
    ):
        _ppm_axis(ax, curves, extent)
        for i, c in enumerate(curves):
            peak = _visible_peak(c, ax.get_xlim())
            x, y = _thin(c.x, c.y, ax.get_xlim())
            ax.plot(x, _norm(y, peak) + 1.1 * i, lw=1.0, color=colors[i % 3], label=c.label)
        ax.set_yticks([])
        ax.set_title(f"{title}, {cell}")
        if curves:
            ax.legend(fontsize=8, frameon=False, loc="upper left")
        else:
            ax.text(0.5, 0.5, "no spectrum", ha="center", transform=ax.transAxes)
    axes[0, 0].set_ylabel("intensity (normalised, offset)")
    return fig


def echo_train(
    echoes: Sequence[Curve], decay: Curve, fit: Curve | None, cell: str, fit_text: str
) -> Figure:
    """Fig. 2: (a) the 1H spin echoes in the time domain, each at its echo time 2 tau after the
    first pulse (magnitude), with the fitted T2 envelope; (b) echo amplitudes against 2 tau
    with the T2 fit on a logarithmic amplitude axis."""
    fig, axes = _new(2, 10.0, 3.8, wspace_in=1.0)
    ax = axes[0, 0]
    from matplotlib import colormaps

    colors = colormaps[_CMAP_DAYS](np.linspace(0.0, 0.85, max(len(echoes), 1)))
    for c, color in zip(echoes, colors, strict=False):
        ax.plot(*_thin(c.x * 1e3, c.y, None, 400), lw=0.8, color=color)
    ax.plot(decay.x * 1e3, decay.y, "o", ms=4, mfc="none", color="k", label="fitted echo amplitude")
    if fit is not None:
        ax.plot(fit.x * 1e3, fit.y, "--", color="tab:red", lw=1.0, label=f"T$_2$ fit: {fit_text}")
    ax.legend(fontsize=8, frameon=False)
    ax.set_xlabel("time after the first pulse (ms)")
    ax.set_ylabel("echo magnitude (a.u.)")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax.set_title(f"a) $^1$H spin echoes at increasing 2$\\tau$, {cell}")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    ax = axes[0, 1]
    ax.errorbar(decay.x * 1e3, decay.y, yerr=decay.yerr, fmt="o", ms=4, label=decay.label)
    if fit is not None:
        ax.plot(fit.x * 1e3, fit.y, "-", color="tab:red", lw=1.0, label=fit_text)
    positive = decay.y[decay.y > 0]
    if positive.size:
        ax.set_yscale("log")
        ax.set_ylim(positive.min() / 2.0, positive.max() * 1.5)
    ax.set_xlabel("echo time 2$\\tau$ (ms)")
    ax.set_ylabel("echo amplitude (a.u.)")
    ax.set_title("b) echo decay and T$_2$ fit")
    ax.legend(fontsize=8, frameon=False)
    return fig


def relaxation_comparison(
    t1: tuple[Curve, Curve | None], t2: tuple[Curve, Curve | None], title: str
) -> Figure:
    """Fig. 3: saturation recovery (as 1 - M/M0) and echo decay, normalised, on one logarithmic
    delay axis, so T1 ~ T2 shows as overlapping curves."""
    fig, axes = _new(1, 5.5, 3.8)
    ax = axes[0, 0]
    for (data, fit), marker, flip in ((t1, "s", True), (t2, "o", False)):
        top = float(np.nanmax(fit.y)) if fit is not None else float(np.nanmax(data.y))
        scale = top if top > 0 else 1.0

        def tf(y: np.ndarray, flip: bool = flip, scale: float = scale) -> np.ndarray:
            return 1.0 - y / scale if flip else y / scale

        ax.errorbar(
            data.x * 1e3,
            tf(data.y),
            yerr=None if data.yerr is None else data.yerr / scale,
            fmt=marker,
            ms=4,
            label=data.label,
        )
        if fit is not None:
            keep = fit.x > 0
            ax.plot(fit.x[keep] * 1e3, tf(fit.y[keep]), "-", label=fit.label)
    ax.set_xscale("log")
    ax.set_xlabel("delay (ms)")
    ax.set_ylabel("normalised magnetisation decay (1)")
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    return fig


def _stack_panel(
    ax, curves: Sequence[Curve], extent, peak_ppm: Sequence[float], title: str
) -> None:
    """Spectra stacked bottom (first) to top, one intensity scale, labelled, with a red guide
    line through the fitted peak positions."""
    from matplotlib import colormaps

    _ppm_axis(ax, curves, extent)
    xlim = ax.get_xlim()
    scale = max((_visible_peak(c, xlim) for c in curves), default=1.0)
    colors = colormaps[_CMAP_DAYS](np.linspace(0.0, 0.9, max(len(curves), 1)))
    for i, c in enumerate(curves):
        x, y = _thin(c.x, c.y, xlim)
        ax.plot(x, _norm(y, scale) * 0.9 + i, lw=0.8, color=colors[i])
        ax.annotate(c.label, xy=(0.015, i + 0.2), xycoords=("axes fraction", "data"), fontsize=7)
    # the guide runs through the top of each trace at its fitted peak position
    good = []
    for i, (c, p) in enumerate(zip(curves, peak_ppm, strict=False)):
        if np.isfinite(p) and c.x.size > 1:
            order = np.argsort(c.x)
            top = float(np.interp(p, c.x[order], c.y[order])) / scale * 0.9
            good.append((p, i + top))
    if len(good) > 1:
        ax.plot(
            [p for p, _ in good],
            [y for _, y in good],
            "-",
            color="tab:red",
            lw=1.0,
            label="fitted peak (guide to the eye)",
        )
        ax.legend(fontsize=7, frameon=False, loc="upper right")
    ax.set_ylim(-0.3, max(len(curves), 1) + 0.2)
    ax.set_yticks([])
    ax.set_title(title)
    if not curves:
        ax.text(0.5, 0.5, "no spectrum", ha="center", transform=ax.transAxes)


def spectra_stack(curves: Sequence[Curve], extent, peak_ppm: Sequence[float], title: str) -> Figure:
    """Spectra of one nucleus stacked by acquisition (any nucleus other than 1H and 139La)."""
    fig, axes = _new(1, 5.5, 1.2 + 0.35 * max(len(curves), 3))
    _stack_panel(axes[0, 0], curves, extent, peak_ppm, title)
    return fig


def relaxation_curve(data: Curve, fit: Curve | None, title: str) -> Figure:
    """One relaxation curve (amplitude against delay, logarithmic delay axis) with its fit."""
    fig, axes = _new(1, 5.5, 3.8)
    ax = axes[0, 0]
    ax.errorbar(data.x * 1e3, data.y, yerr=data.yerr, fmt="o", ms=4, label=data.label)
    if fit is not None:
        keep = fit.x > 0
        ax.plot(fit.x[keep] * 1e3, fit.y[keep], "-", label=fit.label)
    ax.set_xscale("log")
    ax.set_xlabel("delay (ms)")
    ax.set_ylabel("amplitude (a.u.)")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    return fig


def stacked_spectra(
    la: Sequence[Curve],
    h: Sequence[Curve],
    extents: tuple[tuple[float, float] | None, tuple[float, float] | None],
    peaks: tuple[Sequence[float], Sequence[float]],
    h2: Sequence[Series],
    cell: str,
) -> Figure:
    """Fig. 4: 139La (a) and 1H (b) spectra stacked by day after laser heating (one intensity
    scale per panel), red guide lines through the fitted peak positions, and (c) the molecular
    H2 share of the 1H signal (and any other decomposition fractions) against days."""
    ncols = 3 if h2 else 2
    fig, axes = _new(ncols, 4.2 * ncols, 5.0, wspace_in=0.3 if ncols == 2 else 0.9)
    for ax, curves, extent, peak_ppm, title in (
        (axes[0, 0], la, extents[0], peaks[0], f"a) $^{{139}}$La, {cell}"),
        (axes[0, 1], h, extents[1], peaks[1], f"b) $^{{1}}$H, {cell}"),
    ):
        _stack_panel(ax, curves, extent, peak_ppm, title)
    if h2:
        ax = axes[0, 2]
        for s in h2:
            ax.errorbar(s.days, s.value, yerr=s.err, fmt="o", ms=4, label=s.label)
            if s.fit_days is not None and s.fit_value is not None:
                ax.plot(s.fit_days, s.fit_value, "-", color="tab:red", lw=1.0)
        ax.set_xlabel("days since laser heating (d)")
        ax.set_ylabel("fraction of the $^1$H signal (1)")
        ax.set_title("c) molecular H$_2$")
        ax.legend(fontsize=7, frameon=False)
    return fig


def pake_fit(
    data: Curve,
    model: Curve | None,
    components: Sequence[Curve],
    x_extent_khz: tuple[float, float],
    y_top: float | None,
    clip_note: str,
    title: str,
) -> Figure:
    """Fig. 5: the 1H spectrum of molecular H2 (points), the fitted two-doublet Pake model
    (line) and its components (dashed), on a kHz axis over the pattern's edges. ``y_top``
    limits the intensity axis to the broad pattern; ``clip_note`` says what is cut off."""
    fig, axes = _new(1, 7.0, 4.2)
    ax = axes[0, 0]
    ax.plot(data.x, data.y, ".", ms=2.5, color="0.45", label=data.label)
    if model is not None:
        ax.plot(model.x, model.y, "-", lw=1.4, color="tab:red", label=model.label)
    styles = ("--", "-.", ":", (0, (5, 1, 1, 1)))
    for i, c in enumerate(components):
        ax.plot(c.x, c.y, linestyle=styles[i % len(styles)], lw=1.1, label=c.label)
    lo, hi = padded(x_extent_khz)
    ax.set_xlim(lo, hi)
    if y_top is not None:
        inside = (data.x >= lo) & (data.x <= hi)
        bottom = min(float(np.nanmin(data.y[inside])) if inside.any() else 0.0, 0.0)
        ax.set_ylim(bottom - 0.05 * y_top, y_top)
    if clip_note:
        ax.text(0.01, 0.98, clip_note, transform=ax.transAxes, fontsize=7, va="top")
    ax.xaxis.set_major_locator(MaxNLocator(nbins=7))
    ax.set_xlabel("frequency offset (kHz)")
    ax.set_ylabel("intensity (a.u.)")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    ax.set_title(title)
    ax.legend(fontsize=7, frameon=False, loc="upper right")
    return fig


#: a campaign-wide figure's legend past this many series is left out (hundreds of cells: the
#: legend would cover the axes and take most of the drawing time; the tables name the cells)
LEGEND_MAX_ENTRIES = 24


def _series_legend(ax: Any, n: int, **kwargs: Any) -> None:
    """A legend of ``n`` series, or a note in its place past :data:`LEGEND_MAX_ENTRIES`."""
    if n <= LEGEND_MAX_ENTRIES:
        ax.legend(**kwargs)
    else:
        ax.text(0.01, 0.99, f"{n} series, one color per cell (no legend past "
                f"{LEGEND_MAX_ENTRIES})", transform=ax.transAxes, fontsize=7, va="top")


def time_series(
    h_la: Sequence[Series],
    tc: Sequence[Series],
    levels: Sequence[tuple[str, float]],
    tc_label: str = "T$_c$ / T$_c$(first)",
) -> Figure:
    """Fig. 6: (a) H/La against days with the LaH10/LaH6/LaH3 levels (red), (b) Tc normalised
    to each cell's first value against days; fitted kinetics drawn as lines."""
    fig, axes = _new(2, 11.0, 4.2)
    panels = [
        (axes[0, 0], h_la, "H/La (1)", "a) hydrogen content"),
        (axes[0, 1], tc, f"{tc_label} (1)", "b) normalised T$_c$"),
    ]
    for ax, series, ylabel, title in panels:
        colors: dict[str, str] = {}
        for s in series:
            cell = s.label.split(" ")[0]
            extra = " (" in s.label  # e.g. all 1H beside the hydride-only H/La: open markers
            line = ax.errorbar(
                s.days,
                s.value,
                yerr=s.err,
                fmt="o",
                ms=3.5,
                label=s.label,
                color=colors.get(cell),
                mfc="none" if extra else None,
                alpha=0.6 if extra else 1,
            )
            colors.setdefault(cell, line[0].get_color())
            if s.fit_days is not None and s.fit_value is not None:
                ax.plot(s.fit_days, s.fit_value, "-", color=line[0].get_color(), lw=1.0)
        ax.set_xlabel("days since laser heating (d)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if series:
            _series_legend(ax, len(series), fontsize=7, frameon=False, ncol=2)
        else:
            ax.text(0.5, 0.5, "no data", ha="center", transform=ax.transAxes)
    ax = axes[0, 0]
    for name, value in levels:
        ax.axhline(value, color="tab:red", lw=0.8, ls=":")
        ax.annotate(
            name,
            xy=(1.0, value),
            xycoords=("axes fraction", "data"),
            color="tab:red",
            fontsize=8,
            ha="right",
            va="bottom",
        )
    return fig


def resistance_sweeps(
    sweeps: Sequence[Curve],
    days: Sequence[float],
    marked: Sequence[tuple[Curve, Sequence[Criterion]]],
    t_extent_k: tuple[float, float] | None,
    cell: str,
) -> Figure:
    """R(T) of a transport cell: (a) every sweep, coloured by day, with its T50 marked;
    (b) the first and last sweep with every Tc criterion marked."""
    from matplotlib import colormaps

    fig, axes = _new(2, 11.0, 4.2)
    ax = axes[0, 0]
    finite = [d for d in days if np.isfinite(d)]
    span = (min(finite), max(finite)) if finite else (0.0, 1.0)
    cmap = colormaps[_CMAP_DAYS]
    for c, d in zip(sweeps, days, strict=True):
        frac = (d - span[0]) / (span[1] - span[0]) if span[1] > span[0] else 0.0
        ax.plot(*_thin(c.x, c.y, None, 600), lw=0.8, color=cmap(0.9 * frac))
    ax.set_title(f"a) R(T) of {cell}, colour: day {span[0]:.0f} to {span[1]:.0f}")
    markers = ("v", "o", "s", "^", "D", "P", "X", "*")
    ax = axes[0, 1]
    for j, (c, crits) in enumerate(marked):
        ax.plot(*_thin(c.x, c.y, None), lw=1.0, label=c.label)
        for k, cr in enumerate(crits):
            if np.isfinite(cr.temperature_k) and np.isfinite(cr.resistance_ohm):
                ax.plot(
                    cr.temperature_k,
                    cr.resistance_ohm,
                    markers[k % len(markers)],
                    ms=7,
                    mfc="none",
                    mew=1.3,
                    color=f"C{k + 2}",
                    label=cr.name if j == 0 else None,
                )
    ax.set_title("b) T$_c$ criteria, first and last sweep")
    ax.legend(fontsize=7, frameon=False, ncol=2, loc="best")
    if t_extent_k is not None:  # the transition
        lo, hi = t_extent_k
        ax.set_xlim(lo, hi)
        r_max = [
            float(np.nanmax(c.y[(c.x >= lo) & (c.x <= hi)]))
            for c, _ in marked
            if np.any((c.x >= lo) & (c.x <= hi))
        ]
        if r_max:
            ax.set_ylim(-0.05 * max(r_max), 1.15 * max(r_max))
    for ax in axes[0]:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
        ax.set_xlabel("temperature (K)")
        ax.set_ylabel("resistance ($\\Omega$)")
    return fig


def quantity_vs_days(series: Sequence[Series], ylabel: str, title: str) -> Figure:
    """One quantity of several cells against days (e.g. sigma_DAC of each NMR cell)."""
    fig, axes = _new(1, 6.0, 3.8)
    ax = axes[0, 0]
    for s in series:
        ax.errorbar(s.days, s.value, yerr=s.err, fmt="o-", ms=3.5, lw=0.8, label=s.label)
    ax.set_xlabel("days since laser heating (d)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    _series_legend(ax, len(series), fontsize=7, frameon=False, ncol=2)
    return fig


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save_png(data: bytes, path: Path) -> Path:
    """Write PNG bytes atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
    return path
