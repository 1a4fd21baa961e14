"""Steps of a transition: the peaks of the smoothed dR/dT of each sweep.

A step is a peak of the smoothed slope (:func:`.batch.local_linear`) whose prominence
(``scipy.signal.find_peaks``) reaches ``prominence`` x the row's largest slope and 5 x the
noise of the smoothed slope (a flat metallic background dR/dT has no prominence), at least
half its own height above the background slope (the row's median slope: a noise bump on the
flank of a step is no step), whose drop above the background, prominence x FWHM, reaches
``min_fraction`` of the row's largest resistance, and whose FWHM is below a quarter of its
temperature (a bend of a metallic R(T) spans a range comparable to its temperature).

Its width is the full width at half prominence (``scipy.signal.peak_widths``) in K; for a
logistic step R ~ 1 / (1 + exp(-(T - T_k)/w)) the dR/dT FWHM is 3.53 w and the 10-90 % width
4.39 w, so the 10-90 % width of a step is 1.25 x its FWHM. Rows whose slope has a single peak
(no dip deeper than the threshold on either flank) are handled vectorised; the others go
through ``find_peaks`` one by one.

Once the normal state is known, each step gets the fraction of the full drop it carries: the
fall of R / R_n(T) between the slope minima that separate it from its neighbours (1 above the
warmest, 0 below the coldest); peaks carrying less than ``min_fraction`` of the drop are
merged into their neighbours (not counted).
"""

from __future__ import annotations

import attrs
import numpy as np
from scipy.signal import find_peaks, peak_widths

from .batch import LocalFit, Padded, take
from .criteria import row_median

__all__ = ["Steps", "find_steps", "step_fractions"]

_FWHM_TO_WIDTH = 4.394 / 3.525
_MAX_RELATIVE_FWHM = 0.25
_NOISE_PEAKS = 5.0


@attrs.frozen
class Steps:
    """Per row: peak indices (warmest first), the warmest peak's index and its 10-90 % width
    estimate (K, NaN when no peak)."""

    peaks: list[np.ndarray]
    warmest: np.ndarray
    width_k: np.ndarray


def _interp_t(t: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Temperatures at fractional indices ``position`` (linear between points)."""
    return np.interp(position, np.arange(t.size), t)


def find_steps(
    p: Padded,
    fit: LocalFit,
    prominence: float,
    min_fraction: float,
    sigma_ohm: np.ndarray | None = None,
) -> Steps:
    """The dR/dT peaks of every row (see the module docstring). With the bridge noise
    ``sigma_ohm`` (per row) a peak's prominence must also exceed 5 x the noise of the smoothed
    slope, sigma_R / sqrt(S_xx) at the row's median S_xx (noise bumps are no steps)."""
    n_rows = len(p.count)
    peaks: list[np.ndarray] = []
    warmest = np.full(n_rows, -1, dtype=np.int64)
    width = np.full(n_rows, np.nan)
    finite = np.isfinite(fit.slope) & p.valid
    tops = np.where(finite, fit.slope, -np.inf).max(axis=1) if fit.slope.shape[1] else []
    backgrounds = row_median(np.where(finite, fit.slope, np.nan))
    r_tops = np.where(p.valid, np.abs(p.r), 0.0).max(axis=1) if p.r.shape[1] else []
    floor = np.zeros(n_rows)
    if sigma_ohm is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            sxx = row_median(np.where(p.valid & (fit.sxx > 0), fit.sxx, np.nan))
            floor = np.nan_to_num(_NOISE_PEAKS * sigma_ohm / np.sqrt(sxx))
    fast = _single_peak(p, fit, prominence, min_fraction, backgrounds, r_tops, floor)
    for row in range(n_rows):
        n = int(p.count[row])
        top = float(tops[row]) if n else -np.inf
        if n < 5 or not top > 0:
            peaks.append(np.zeros(0, dtype=np.int64))
            continue
        if fast.unimodal[row]:
            if fast.ok[row]:
                peaks.append(np.array([fast.index[row]], dtype=np.int64))
                warmest[row] = fast.index[row]
                width[row] = fast.width_k[row]
            else:
                peaks.append(np.zeros(0, dtype=np.int64))
            continue
        s = fit.slope[row, :n]
        s = np.where(np.isfinite(s), s, -np.inf)
        s = np.where(np.isfinite(s), s, s[np.isfinite(s)].min())
        padded = np.concatenate(([min(s[0], 0.0)], s, [min(s[-1], 0.0)]))
        found, props = find_peaks(
            padded, prominence=max(prominence * top, float(floor[row])), height=0.0
        )
        # a step stands on its own: its prominence is at least half its height above the
        # background slope (the row's median); noise bumps on the flank of a step are not
        background = float(backgrounds[row])
        alone = props["prominences"] >= 0.5 * (padded[found] - background)
        found, prom = found[alone], props["prominences"][alone]
        t = p.t[row, :n]
        r_top = float(r_tops[row])
        if found.size:
            _, _, left, right = peak_widths(padded, found, rel_height=0.5)
            fwhm = _interp_t(t, right - 1) - _interp_t(t, left - 1)
            # the drop a peak carries above the background slope, ~ prominence x FWHM, must
            # reach min_fraction of the resistance (a bend of a metallic R(T) does not)
            # and a step is narrow: its FWHM below a quarter of its temperature
            big = (prom * np.maximum(fwhm, 0.0) >= min_fraction * r_top) & (
                fwhm < _MAX_RELATIVE_FWHM * np.abs(_interp_t(t, found - 1.0))
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


@attrs.frozen
class _Single:
    unimodal: np.ndarray
    ok: np.ndarray
    index: np.ndarray
    width_k: np.ndarray


def _single_peak(
    p: Padded,
    fit: LocalFit,
    prominence: float,
    min_fraction: float,
    backgrounds: np.ndarray,
    r_tops: np.ndarray,
    floor: np.ndarray,
) -> _Single:
    """The rows whose smoothed slope has one peak only (vectorised; no dip deeper than the
    prominence threshold on either flank of the maximum, so no second peak can reach it) with
    that peak's acceptance and 10-90 % width, computed as :func:`find_steps` does with
    ``find_peaks``/``peak_widths``; the other rows go through ``find_peaks``."""
    n_rows, width = fit.slope.shape
    valid = p.valid
    finite = valid & np.isfinite(fit.slope)
    if width < 3:
        empty = np.zeros(n_rows, dtype=bool)
        return _Single(empty, empty, np.zeros(n_rows, np.int64), np.full(n_rows, np.nan))
    s = np.where(finite, fit.slope, -np.inf)
    g = np.argmax(s, axis=1)
    top = take(s, g)
    thr = np.maximum(prominence * top, floor)
    j = np.arange(width)[None, :]
    rising = j <= g[:, None]
    left_max = np.maximum.accumulate(np.where(rising, s, -np.inf), axis=1)
    with np.errstate(invalid="ignore"):
        dip_left = np.where(rising & valid, left_max - s, 0.0).max(axis=1)
    falling = (j >= g[:, None]) & valid
    rev = np.where(falling, s, -np.inf)[:, ::-1]
    right_max = np.maximum.accumulate(rev, axis=1)[:, ::-1]
    with np.errstate(invalid="ignore"):
        dip_right = np.where(falling, right_max - s, 0.0).max(axis=1)
    unimodal = (finite.sum(axis=1) == p.count) & (dip_left <= thr) & (dip_right <= thr)
    unimodal &= (p.count >= 5) & (top > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        base_left = np.minimum(np.where(rising & valid, s, np.inf).min(axis=1), 0.0)
        base_right = np.minimum(np.where(falling, s, np.inf).min(axis=1), 0.0)
        prom = top - np.maximum(base_left, base_right)
        level = top - 0.5 * prom
        below = (s < level[:, None]) & valid
        left_i = np.where(below & rising, j, -1).max(axis=1)
        right_i = np.where(below & (j > g[:, None]), j, width).min(axis=1)
        s_l0, s_l1 = take(s, left_i), take(s, left_i + 1)
        pos_l = np.where(left_i >= 0, left_i + (level - s_l0) / (s_l1 - s_l0), 0.0)
        s_r0, s_r1 = take(s, right_i - 1), take(s, right_i)
        last = p.count - 1
        pos_r = np.where(right_i < p.count, right_i - 1 + (s_r0 - level) / (s_r0 - s_r1), last)
        fwhm = _t_at(p.t, pos_r, last) - _t_at(p.t, pos_l, last)
        t_g = take(p.t, g)
        ok = prom >= 0.5 * (top - backgrounds)
        ok &= (prom * np.maximum(fwhm, 0.0) >= min_fraction * r_tops) & (
            fwhm < _MAX_RELATIVE_FWHM * np.abs(t_g)
        )
        ok &= top >= 0.0
    return _Single(unimodal, ok & unimodal, g, np.maximum(fwhm, 0.0) * _FWHM_TO_WIDTH)


def _t_at(t: np.ndarray, position: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Temperatures at fractional indices (clipped into each row's valid points)."""
    position = np.clip(position, 0.0, np.maximum(last, 0))
    k = np.clip(np.floor(position).astype(np.int64), 0, np.maximum(last - 1, 0))
    frac = position - k
    t0, t1 = take(t, k), take(t, np.minimum(k + 1, last))
    return t0 + frac * (t1 - t0)


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
        if idx.size == 1 and np.isfinite(ratio[row, idx[0]]):
            kept.append(idx)
            fractions.append(np.ones(1))
            continue
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
