"""Steps of a transition: the peaks of the smoothed dR/dT of each sweep.

A step is a peak of the smoothed slope (:func:`.batch.local_linear`) whose prominence reaches
``prominence`` x the row's largest slope (``scipy.signal.find_peaks``; a flat metallic
background dR/dT has no prominence and never counts) and half its own height above the
background slope (the row's median slope; a noise bump on the flank of a step is no step),
and whose drop above the background, prominence x FWHM, reaches ``min_fraction`` of the
row's largest resistance, with a FWHM below a quarter of the peak temperature (a bend of a
metallic R(T) spans a range comparable to its temperature and is no step). Its width is the full width at half
prominence (``scipy.signal.peak_widths``) in K; for a logistic step
R ~ 1 / (1 + exp(-(T - T_k)/w)) the dR/dT FWHM is 3.53 w and the 10-90 % width 4.39 w, so the
10-90 % width of a step is 1.25 x its FWHM. Once the normal state is known, each step gets the
fraction of the full drop it carries: the fall of R / R_n(T) between the slope minima that
separate it from its neighbours (1 above the warmest, 0 below the coldest); peaks carrying
less than ``min_fraction`` of the drop are merged into their neighbours (not counted).
"""

from __future__ import annotations

import attrs
import numpy as np
from scipy.signal import find_peaks, peak_widths

from .batch import LocalFit, Padded

__all__ = ["Steps", "find_steps", "step_fractions"]

_FWHM_TO_WIDTH = 4.394 / 3.525
_MAX_RELATIVE_FWHM = 0.25


@attrs.frozen
class Steps:
    """Per row: peak indices (warmest first), the warmest peak's index and its 10-90 % width
    estimate (K, NaN when no peak)."""

    peaks: list[np.ndarray]
    warmest: np.ndarray
    width_k: np.ndarray


def _interp_t(t: np.ndarray, position: float) -> float:
    k = int(np.clip(np.floor(position), 0, t.size - 2))
    return float(t[k] + (position - k) * (t[k + 1] - t[k]))


def find_steps(p: Padded, fit: LocalFit, prominence: float, min_fraction: float) -> Steps:
    """The dR/dT peaks of every row (see the module docstring)."""
    n_rows = len(p.count)
    peaks: list[np.ndarray] = []
    warmest = np.full(n_rows, -1, dtype=np.int64)
    width = np.full(n_rows, np.nan)
    for row in range(n_rows):
        n = int(p.count[row])
        s = fit.slope[row, :n]
        if n < 5 or not np.isfinite(s).any():
            peaks.append(np.zeros(0, dtype=np.int64))
            continue
        s = np.where(np.isfinite(s), s, np.nanmin(s))
        top = float(s.max())
        if top <= 0:
            peaks.append(np.zeros(0, dtype=np.int64))
            continue
        padded = np.concatenate(([min(s[0], 0.0)], s, [min(s[-1], 0.0)]))
        found, props = find_peaks(padded, prominence=prominence * top, height=0.0)
        # a step stands on its own: its prominence is at least half its height above the
        # background slope (the row's median); noise bumps on the flank of a step are not
        background = float(np.median(s))
        alone = props["prominences"] >= 0.5 * (padded[found] - background)
        found, prom = found[alone], props["prominences"][alone]
        t = p.t[row, :n]
        r_top = float(np.nanmax(np.abs(p.r[row, :n])))
        if found.size:
            _, _, left, right = peak_widths(padded, found, rel_height=0.5)
            fwhm = np.array([
                _interp_t(t, b - 1) - _interp_t(t, a - 1) for a, b in zip(left, right, strict=True)
            ])  # fmt: skip
            # the drop a peak carries above the background slope, ~ prominence x FWHM, must
            # reach min_fraction of the resistance (a bend of a metallic R(T) does not)
            # and a step is narrow: its FWHM below a quarter of its temperature
            big = (prom * np.maximum(fwhm, 0.0) >= min_fraction * r_top) & (
                fwhm < _MAX_RELATIVE_FWHM * np.abs(np.array([_interp_t(t, f - 1) for f in found]))
            )
            found, fwhm = found[big] - 1, fwhm[big]
        else:
            fwhm = np.zeros(0)
        inside = (found >= 0) & (found < n)
        found, fwhm = found[inside], fwhm[inside]
        order = np.argsort(-t[found])
        peaks.append(found[order].astype(np.int64))
        if found.size:
            warmest[row] = int(found[order[0]])
            width[row] = max(float(fwhm[order[0]]), 0.0) * _FWHM_TO_WIDTH
    return Steps(peaks, warmest, width)


def step_fractions(
    p: Padded, fit: LocalFit, steps: Steps, ratio: np.ndarray, min_fraction: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per row, the step peak indices that carry at least ``min_fraction`` of the drop
    (warmest first) and those fractions (``ratio`` = smoothed R / R_n, NaN above the normal
    window's lower edge)."""
    kept: list[np.ndarray] = []
    fractions: list[np.ndarray] = []
    for row, idx in enumerate(steps.peaks):
        idx = np.asarray(idx)
        n = int(p.count[row])
        s = fit.slope[row, :n]
        q = ratio[row, :n]
        idx = idx[np.isfinite(q[idx])] if idx.size else idx
        while True:
            if idx.size == 0:
                kept.append(idx)
                fractions.append(np.zeros(0))
                break
            asc = np.sort(idx)  # coldest first
            bounds = [1.0]  # the level above the warmest step
            for a, b in zip(asc[::-1][1:], asc[::-1][:-1], strict=True):  # (colder, warmer)
                seg = np.where(np.isfinite(s[a : b + 1]), s[a : b + 1], np.inf)
                trough = a + int(np.argmin(seg))
                bounds.append(float(np.clip(q[trough], 0.0, 1.0)))
            bounds.append(0.0)
            frac = -np.diff(np.asarray(bounds))
            warm_first = asc[::-1]
            small = frac < min_fraction
            if small.any() and small.sum() < warm_first.size:
                idx = warm_first[~small]
                continue
            kept.append(warm_first)
            fractions.append(frac)
            break
    return kept, fractions
