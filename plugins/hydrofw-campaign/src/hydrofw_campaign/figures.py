"""The report's figures, after Figs. 1-6 of Zhou et al. (arXiv:2408.13419), drawn with matplotlib.

Each function takes plain arrays (prepared from the store by :mod:`hydrofw_campaign.report`)
and returns a ``matplotlib.figure.Figure``; :func:`save` writes it as PNG and SVG. The Agg
backend is used, so no display is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import attrs
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from hydrofw.atomic import atomic_path  # noqa: E402

__all__ = [
    "Curve",
    "Series",
    "before_after_spectra",
    "echo_decay",
    "relaxation_comparison",
    "stacked_spectra",
    "pake_fit",
    "time_series",
    "save",
]


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


def _norm(y: np.ndarray, peak: float | None = None) -> np.ndarray:
    """``y`` over ``peak`` (default: its own largest magnitude)."""
    peak = (np.nanmax(np.abs(y)) if y.size else 1.0) if peak is None else peak
    return y / peak if peak > 0 else y


def _zoom(ax: plt.Axes, curves: Sequence[Curve], pad: float = 0.6) -> None:
    """Limit the x axis to where the lines are (above 5 % of their maximum), padded."""
    lo, hi = np.inf, -np.inf
    for c in curves:
        strong = c.x[np.abs(c.y) >= 0.05 * np.nanmax(np.abs(c.y))]
        if strong.size:
            lo, hi = min(lo, strong.min()), max(hi, strong.max())
    if np.isfinite(lo) and hi > lo:
        width = hi - lo
        ax.set_xlim(hi + pad * width, lo - pad * width)  # ppm axes run right to left


def before_after_spectra(la: Sequence[Curve], h: Sequence[Curve], cell: str) -> Figure:
    """Fig. 1: 139La (left) and 1H (right) spectra before and after laser heating, in ppm."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    for ax, curves, title in ((axes[0], la, "$^{139}$La"), (axes[1], h, "$^{1}$H")):
        for i, c in enumerate(curves):
            ax.plot(c.x, _norm(c.y) + 1.1 * i, lw=1.0, label=c.label)
        _zoom(ax, curves, pad=0.3)
        if not curves:
            ax.invert_xaxis()
        ax.set_xlabel("shift (ppm)")
        ax.set_yticks([])
        ax.set_title(f"{title}, {cell}")
        ax.legend(fontsize=8, frameon=False)
    axes[0].set_ylabel("intensity (normalised, offset)")
    return fig


def echo_decay(curve: Curve, fit: Curve | None, t2_text: str) -> Figure:
    """Fig. 2: Hahn-echo amplitude against the full echo time 2*tau, with the T2 fit."""
    fig, ax = plt.subplots(figsize=(5, 3.6), constrained_layout=True)
    ax.errorbar(curve.x * 1e3, curve.y, yerr=curve.yerr, fmt="o", ms=4, label=curve.label)
    if fit is not None:
        ax.plot(fit.x * 1e3, fit.y, "-", label=fit.label)
    ax.set_xlabel("echo time 2$\\tau$ (ms)")
    ax.set_ylabel("echo amplitude (a.u.)")
    ax.set_title(f"$^1$H Hahn echo decay ({t2_text})")
    ax.legend(fontsize=8, frameon=False)
    return fig


def relaxation_comparison(
    t1: tuple[Curve, Curve | None], t2: tuple[Curve, Curve | None], title: str
) -> Figure:
    """Fig. 3: normalised saturation recovery (1 - M/M0 decaying) and echo decay on one
    logarithmic time axis, so T1 ~ T2 shows as overlapping curves."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
    for (data, fit), marker, transform in (
        (t1, "s", lambda y: 1.0 - y),
        (t2, "o", lambda y: y),
    ):
        scale = np.nanmax(fit.y) if fit is not None and np.nanmax(fit.y) > 0 else np.nanmax(data.y)
        ax.errorbar(
            data.x * 1e3,
            transform(data.y / scale),
            yerr=None if data.yerr is None else data.yerr / scale,
            fmt=marker,
            ms=4,
            label=data.label,
        )
        if fit is not None:
            ax.plot(fit.x * 1e3, transform(fit.y / scale), "-", label=fit.label)
    ax.set_xscale("log")
    ax.set_xlabel("delay (ms)")
    ax.set_ylabel("normalised magnetisation decay")
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    return fig


def stacked_spectra(la: Sequence[Curve], h: Sequence[Curve], h2: Curve | None, cell: str) -> Figure:
    """Fig. 4: 139La (a) and 1H (b) spectra stacked by days since synthesis, and (c) the
    molecular-H2 signal against days."""
    ncols = 3 if h2 is not None else 2
    fig, axes = plt.subplots(1, ncols, figsize=(4 * ncols, 4.4), constrained_layout=True)
    for ax, curves, title in ((axes[0], la, "a) $^{139}$La"), (axes[1], h, "b) $^{1}$H")):
        cmap = plt.get_cmap("viridis")
        # one scale per panel, so changes of intensity over the days stay visible
        peak = max((float(np.nanmax(np.abs(c.y))) for c in curves), default=1.0)
        for i, c in enumerate(curves):
            ax.plot(
                c.x, _norm(c.y, peak) * 0.9 + i, lw=0.9, color=cmap(i / max(len(curves) - 1, 1))
            )
        _zoom(ax, curves)
        for i, c in enumerate(curves):
            ax.text(ax.get_xlim()[0], i + 0.15, c.label, fontsize=7)
        if not curves:
            ax.invert_xaxis()
        ax.set_xlabel("shift (ppm)")
        ax.set_yticks([])
        ax.set_title(f"{title}, {cell}")
    if h2 is not None:
        ax = axes[2]
        ax.errorbar(h2.x, h2.y, yerr=h2.yerr, fmt="o", ms=4)
        ax.set_xlabel("days since laser heating")
        ax.set_ylabel("molecular H$_2$ signal (a.u.)")
        ax.set_title("c) H$_2$ signal")
    return fig


def pake_fit(data: Curve, fit: Curve | None, components: Sequence[Curve], title: str) -> Figure:
    """Fig. 5: the broad 1H line of molecular H2 with the fitted Pake doublets (model curve
    and/or markers of each doublet's horns)."""
    fig, ax = plt.subplots(figsize=(6, 3.8), constrained_layout=True)
    ax.plot(data.x, data.y, ".", ms=2, color="0.4", label=data.label)
    if fit is not None:
        ax.plot(fit.x, fit.y, "-", lw=1.5, label=fit.label)
    for c in components:
        ax.plot(c.x, c.y, "--", lw=1.0, label=c.label)
    ax.set_xlabel("frequency offset (kHz)")
    ax.set_ylabel("intensity (a.u.)")
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    return fig


def time_series(
    h_la: Sequence[Series], tc: Sequence[Series], levels: Sequence[tuple[str, float]]
) -> Figure:
    """Fig. 6: (a) H/La against days with the LaH10/LaH6/LaH3 levels, (b) Tc normalised to its
    first value against days; fitted kinetics drawn as lines."""
    ncols = 2 if tc else 1
    fig, axes = plt.subplots(
        1, ncols, figsize=(5.5 * ncols, 4), constrained_layout=True, squeeze=False
    )
    panels = [(axes[0, 0], h_la, "H/La", "a) hydrogen content")]
    if tc:
        panels.append((axes[0, 1], tc, "T$_c$ / T$_c$(first)", "b) normalised T$_c$"))
    for ax, series, ylabel, title in panels:
        for s in series:
            line = ax.errorbar(s.days, s.value, yerr=s.err, fmt="o", ms=4, label=s.label)
            if s.fit_days is not None and s.fit_value is not None:
                ax.plot(
                    s.fit_days,
                    s.fit_value,
                    "-",
                    color=line[0].get_color(),
                    lw=1.0,
                    label=s.fit_label or None,
                )
        ax.set_xlabel("days since laser heating")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=7, frameon=False, ncol=2)
    for name, value in levels:
        axes[0, 0].axhline(value, color="tab:red", lw=0.8, ls=":")
        axes[0, 0].text(
            axes[0, 0].get_xlim()[1], value, f" {name}", color="tab:red", va="center", fontsize=8
        )
    return fig


def save(fig: Figure, report_dir: Path, name: str) -> list[Path]:
    """Write ``name``.png (150 dpi) and ``name``.svg into ``report_dir``; close the figure."""
    paths = [report_dir / f"{name}.png", report_dir / f"{name}.svg"]
    try:
        for path in paths:
            with atomic_path(path) as tmp:
                fig.savefig(tmp, dpi=150, format=path.suffix[1:])
    finally:
        plt.close(fig)
    return paths
