"""Ragged R(T) sweeps as padded, temperature-sorted 2-D arrays, and windowed statistics on them.

Every sweep becomes one row of ``(n_sweeps, max_points)`` arrays, sorted by temperature, NaN
beyond its ``count`` of valid points (points with a non-finite T or R are left out). All
operations below are vectorised over rows; windows never reach into the padding.
"""

from __future__ import annotations

import attrs
import numpy as np

__all__ = ["Padded", "pad_sorted", "LocalFit", "local_linear", "window_bounds", "take"]


@attrs.frozen
class Padded:
    """Temperature-sorted sweeps: ``t``/``r`` (rows x points, NaN padded), valid ``count``."""

    t: np.ndarray
    r: np.ndarray
    count: np.ndarray

    @property
    def valid(self) -> np.ndarray:
        return np.arange(self.t.shape[1])[None, :] < self.count[:, None]


def pad_sorted(offsets: np.ndarray, t_flat: np.ndarray, r_flat: np.ndarray) -> Padded:
    """Build :class:`Padded` from list-column offsets and flat values (no per-row loop)."""
    n = offsets.size - 1
    lengths = np.diff(offsets)
    row = np.repeat(np.arange(n), lengths)
    t_flat = t_flat[offsets[0] : offsets[-1]]
    r_flat = r_flat[offsets[0] : offsets[-1]]
    keep = np.isfinite(t_flat) & np.isfinite(r_flat)
    row, t_k, r_k = row[keep], t_flat[keep], r_flat[keep]
    order = np.lexsort((t_k, row))
    row, t_k, r_k = row[order], t_k[order], r_k[order]
    count = np.bincount(row, minlength=n)
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    pos = np.arange(row.size) - start[row]
    width = max(int(count.max()) if count.size else 0, 1)  # >= 1 column: rows may be empty
    t = np.full((n, width), np.nan)
    r = np.full((n, width), np.nan)
    t[row, pos] = t_k
    r[row, pos] = r_k
    return Padded(t, r, count)


def take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[row, index[row]]`` for every row (index clipped into the row)."""
    idx = np.clip(index, 0, values.shape[1] - 1)[:, None]
    return np.take_along_axis(values, idx, axis=1)[:, 0]


def window_bounds(count: np.ndarray, width: int, points: int) -> tuple[np.ndarray, np.ndarray]:
    """[lo, hi) of the centred window of ``points`` samples around each position, clipped to
    the valid part of each row (shifted, not shrunk, at the ends when the row is long enough)."""
    half = points // 2
    i = np.arange(width)[None, :]
    n = count[:, None]
    lo = np.clip(i - half, 0, None)
    hi = lo + points
    over = hi > n
    lo = np.where(over, np.clip(n - points, 0, None), lo)
    hi = np.where(over, n, hi)
    return lo, hi


@attrs.frozen
class LocalFit:
    """Least-squares line through each window: ``value`` at the centre temperature, ``slope``
    (ohm/K), ``n`` points, ``sxx`` = sum (T - mean T)^2 (K^2) for the slope's variance."""

    value: np.ndarray
    slope: np.ndarray
    n: np.ndarray
    sxx: np.ndarray


def _window_sum(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    csum = np.zeros((values.shape[0], values.shape[1] + 1))
    np.cumsum(values, axis=1, out=csum[:, 1:])
    return np.take_along_axis(csum, hi, axis=1) - np.take_along_axis(csum, lo, axis=1)


def local_linear(p: Padded, points: int) -> LocalFit:
    """Local linear regression of R on T over ``points`` neighbours (odd, >= 3), every row and
    position at once (cumulative sums; temperatures centred per row for accuracy)."""
    valid = p.valid
    lo, hi = window_bounds(p.count, p.t.shape[1], points)
    centre = np.where(valid, p.t, 0.0).sum(axis=1, keepdims=True) / np.maximum(p.count[:, None], 1)
    x = np.where(valid, p.t - centre, 0.0)
    y = np.where(valid, p.r, 0.0)
    s1 = _window_sum(valid.astype(np.float64), lo, hi)
    sx = _window_sum(x, lo, hi)
    sy = _window_sum(y, lo, hi)
    sxx = _window_sum(x * x, lo, hi)
    sxy = _window_sum(x * y, lo, hi)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = sx / s1
        my = sy / s1
        cxx = sxx - s1 * mx * mx
        slope = (sxy - s1 * mx * my) / cxx
        value = my + slope * (x - mx)
    value = np.where(valid, value, np.nan)
    slope = np.where(valid, slope, np.nan)
    return LocalFit(value, slope, s1, cxx)
