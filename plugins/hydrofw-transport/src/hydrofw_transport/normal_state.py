"""Where the normal state is: the automatic window of the normal-state line R_n(T).

The transition is first located by the warmest step (:mod:`.steps`: the warmest prominent
dR/dT peak, so the upper step of a multi-step transition wins, however small; a flat metallic
background slope has no prominence); its dR/dT width gives T90 ~ T_peak + W/2 and the width
W = T90 - T10 of that step. The line is fitted on [T90 + 2 W, T90 + 5 W] (at least
``normal_points`` points). For a single step, T90 and W are measured against it and the line
is refitted once on the window they give (a multi-step drop keeps the window of its warmest
step). The window hugs the transition, so that a curved metallic normal state (R ~ R0 + A T^2) is
extrapolated over a short distance only.
"""

from __future__ import annotations

import attrs
import numpy as np

from .batch import LocalFit, Padded, take
from .criteria import NormalLine, level_crossing, normal_line
from .params import TcParams
from .steps import Steps

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


def normal_state(
    p: Padded, fit: LocalFit, sigma: np.ndarray, params: TcParams, steps: Steps
) -> NormalLine:
    """The normal-state line of every row (``normal_window_k`` when given, else automatic,
    placed above the warmest step of ``steps``)."""
    if params.normal_window_k is not None:
        lo, hi = params.normal_window_k
        return normal_line(p, (p.t >= lo) & (p.t <= hi), sigma)
    width = steps.width_k
    t90 = take(p.t, steps.warmest) + 0.5 * width
    t90 = np.where(steps.warmest >= 0, t90, np.nan)
    line = normal_line(p, _auto_window(p, t90 + 2.0 * width, width, params.normal_points), sigma)
    single = np.array([len(k) == 1 for k in steps.peaks], dtype=bool)
    t90 = fraction_temperature(p, line, 0.9)
    width = t90 - fraction_temperature(p, line, 0.1)
    refined = normal_line(p, _auto_window(p, t90 + 2.0 * width, width, params.normal_points), sigma)
    use = single & np.isfinite(width) & (width > 0) & (refined.n >= 3)
    return _merge(use, line, refined)
