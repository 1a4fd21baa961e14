"""Where the normal state is: the automatic window of the normal-state line R_n(T).

The transition is first located by its relative slope dR/dT / (|R_s| + 0.1 max |R_s|), which a
superconducting drop dominates even on a steep metallic background (the warmest peak reaching
``step_prominence`` of the largest, so the upper step of a two-step transition wins); for a
logistic step this gives T90 and the width W = T90 - T10 (W = 2.2 R_s / (dR/dT) at the
midpoint). The line is fitted on [T90 + 2 W, T90 + 5 W] (at least ``normal_points`` points),
T90 and W are measured against it, and the line is refitted once on the window they give. The
window hugs the transition, so that a curved metallic normal state (R ~ R0 + A T^2) is
extrapolated over a short distance only.
"""

from __future__ import annotations

import attrs
import numpy as np

from .batch import LocalFit, Padded, take
from .criteria import NormalLine, level_crossing, normal_line
from .params import TcParams

__all__ = ["normal_state", "fraction_temperature"]


def _auto_window(p: Padded, start: np.ndarray, width: np.ndarray, points: int) -> np.ndarray:
    """Normal-state window: the points at or above ``start`` up to ``start + 3 width``, and at
    least the first ``points`` of them; rows with fewer than 3 points above ``start`` (or no
    estimate) use their ``points`` warmest points instead."""
    valid = p.valid
    with np.errstate(invalid="ignore"):
        above = valid & (p.t >= start[:, None])
        near = p.t <= (start + 3.0 * width)[:, None]
    rank = np.cumsum(above, axis=1)
    window = above & (near | (rank <= points))
    from_top = valid & ((p.count[:, None] - np.arange(p.t.shape[1])[None, :]) <= points)
    fallback = above.sum(axis=1) < 3
    return np.where(fallback[:, None], from_top, window)


def _highest_peak(values: np.ndarray, fraction: float) -> np.ndarray:
    """Per row, the index of the maximum of the warmest contiguous run of points where
    ``values`` reaches ``fraction`` of the row maximum."""
    width = values.shape[1]
    j = np.arange(width)[None, :]
    top = values.max(axis=1, keepdims=True)
    above = values >= fraction * top
    last = width - 1 - np.argmax(above[:, ::-1], axis=1)
    gap = np.maximum.accumulate(np.where(above, -1, j), axis=1)
    start = take(gap, last) + 1
    block = (j >= start[:, None]) & (j <= last[:, None])
    return np.argmax(np.where(block, values, -np.inf), axis=1)


def _transition_guess(p: Padded, fit: LocalFit, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """First estimate of T90 and of the 10-90 % width from the relative slope
    dR/dT / (|R_s| + 0.1 max |R_s|) (smoothed values), which a superconducting drop dominates
    even on a steep metallic background: its warmest peak reaching ``fraction`` of the largest
    (the upper step of a multi-step transition). For a logistic step the width is
    2.2 R_s / (dR/dT) at the midpoint."""
    scale = np.nanmax(np.abs(np.where(p.valid, fit.value, 0.0)), axis=1, initial=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = fit.slope / (np.abs(fit.value) + 0.1 * scale[:, None])
    relative = np.where(np.isfinite(relative), relative, -np.inf)
    if relative.shape[1] == 0:
        nan = np.full(len(p.count), np.nan)
        return nan, nan
    g = _highest_peak(relative, fraction)
    r_g, s_g, t_g = take(fit.value, g), take(fit.slope, g), take(p.t, g)
    with np.errstate(invalid="ignore", divide="ignore"):
        width = np.where(s_g > 0, 2.2 * np.abs(r_g) / s_g, np.nan)
    return t_g + 0.5 * width, width


def _merge(use_b: np.ndarray, a: NormalLine, b: NormalLine) -> NormalLine:
    return NormalLine(
        **{f.name: np.where(use_b, getattr(b, f.name), getattr(a, f.name))
           for f in attrs.fields(NormalLine)}
    )  # fmt: skip


def fraction_temperature(p: Padded, line: NormalLine, level: float) -> np.ndarray:
    """Highest temperature below the normal-state window where R / R_n(T) crosses ``level``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(p.t <= line.t_low[:, None], p.r / line.value(p.t), np.nan)
    return level_crossing(p.t, ratio, level).t


def normal_state(p: Padded, fit: LocalFit, sigma: np.ndarray, params: TcParams) -> NormalLine:
    """The normal-state line of every row (``normal_window_k`` when given, else automatic)."""
    if params.normal_window_k is not None:
        lo, hi = params.normal_window_k
        return normal_line(p, (p.t >= lo) & (p.t <= hi), sigma)
    t90, width = _transition_guess(p, fit, params.step_prominence)
    line = normal_line(p, _auto_window(p, t90 + 2.0 * width, width, params.normal_points), sigma)
    t90 = fraction_temperature(p, line, 0.9)
    width = t90 - fraction_temperature(p, line, 0.1)
    refined = normal_line(p, _auto_window(p, t90 + 2.0 * width, width, params.normal_points), sigma)
    use = np.isfinite(width) & (width > 0) & (refined.n >= 3)
    return _merge(use, line, refined)
