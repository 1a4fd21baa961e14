"""Splitting a temperature log into monotonic cooling and warming sweeps.

Method (vectorised except for a loop over level crossings): the finite temperatures are smoothed
by a centred moving average of ``smoothing_points`` (long traces: means of blocks of
``smoothing_points`` samples, turning points then resolved to one block); the smoothed trace is
reduced to the points
where it crosses a level of a grid with spacing ``min_span_k / 4`` (noise inside one level
disappears); a zig-zag pass over these crossings confirms a turning point only when the
temperature has reversed by at least ``min_span_k`` from the running extreme. Between two turning
points lies one sweep. Near an interior turning point, points within a band of the turning
temperature (the hold or overshoot of the controller; band = max(3 sigma_T, 0.05 min_span_k),
sigma_T the thermometer noise from second differences) are dropped. Rows without a finite
temperature belong to no sweep.
"""

from __future__ import annotations

import attrs
import numpy as np

from hydrofw.fitting import robust_sigma

__all__ = ["Sweep", "split_sweeps", "moving_average", "noise_sigma"]

_MIN_POINTS = 3
_NOISE_SAMPLE = 100_000
_BLOCKS_FROM = 2_000


@attrs.frozen
class Sweep:
    """Row indices (into the log's arrays, in measured order) of one sweep and its direction."""

    rows: np.ndarray
    direction: str


def moving_average(values: np.ndarray, points: int) -> np.ndarray:
    """Centred moving average over ``points`` (odd) samples; windows shrink at the ends."""
    n = values.size
    half = max(int(points) // 2, 0)
    if half == 0 or n < 3:
        return values.astype(np.float64, copy=True)
    if n < 2 * half + 1:
        idx = np.arange(n)
        lo, hi = np.clip(idx - half, 0, n), np.clip(idx + half + 1, 0, n)
        csum0 = np.concatenate(([0.0], np.cumsum(values, dtype=np.float64)))
        return (csum0[hi] - csum0[lo]) / (hi - lo)
    csum = np.concatenate(([0.0], np.cumsum(values, dtype=np.float64)))
    out = np.empty(n)
    width = 2 * half + 1
    out[half : n - half] = (csum[width:] - csum[: n - width + 1]) / width
    edge = np.arange(half)
    out[:half] = csum[edge + half + 1] / (edge + half + 1)  # shrinking windows at the ends
    out[n - half :] = (csum[n] - csum[n - 2 * half + edge]) / (2 * half - edge)
    return out


def noise_sigma(values: np.ndarray) -> float:
    """White-noise standard deviation of a smooth trace from its second differences
    (var(d2) = 6 sigma^2), robust to steps and outliers (MAD)."""
    if values.size < 5:
        return 0.0
    stride = max(values.size // _NOISE_SAMPLE, 1)  # every k-th triple: independent, cheaper
    mid = np.arange(1, values.size - 1, stride)
    d2 = values[mid + 1] - 2.0 * values[mid] + values[mid - 1]
    return float(robust_sigma(d2)) / np.sqrt(6.0)


def _turning_points(levels_idx: np.ndarray, values: np.ndarray, min_span_k: float) -> list[int]:
    """Positions (into ``values``) of the first sweep's start and every confirmed turning point."""
    direction = 0
    lo = hi = 0
    ext = 0
    points: list[int] = []
    for j in levels_idx[1:]:
        v = values[j]
        if direction == 0:
            if v < values[lo]:
                lo = j
            if v > values[hi]:
                hi = j
            if v - values[lo] >= min_span_k:
                direction, ext = 1, j
                points.append(int(lo))
            elif values[hi] - v >= min_span_k:
                direction, ext = -1, j
                points.append(int(hi))
        elif direction > 0:
            if v >= values[ext]:
                ext = j
            elif values[ext] - v >= min_span_k:
                points.append(int(ext))
                direction, ext = -1, j
        else:
            if v <= values[ext]:
                ext = j
            elif v - values[ext] >= min_span_k:
                points.append(int(ext))
                direction, ext = 1, j
    return points


def _smoothed(t: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed trace and the index (into ``t``) each smoothed value stands for: a centred
    moving average for short traces, means of consecutive blocks of ``points`` samples for
    long ones (``_BLOCKS_FROM`` blocks or more: the same smoothing at a fraction of the cost)."""
    blocks = t.size // points if points > 1 else 0
    if blocks < _BLOCKS_FROM:
        return moving_average(t, points), np.arange(t.size)
    smooth = t[: blocks * points].reshape(blocks, points).mean(axis=1)
    return smooth, np.arange(blocks) * points + points // 2


def split_sweeps(
    temperature_k: np.ndarray, *, min_span_k: float = 2.0, smoothing_points: int = 9
) -> list[Sweep]:
    """Cooling/warming sweeps of a temperature trace (see module docstring).

    Returns an empty list when the temperature never moves by ``min_span_k``.
    """
    finite_rows = np.flatnonzero(np.isfinite(temperature_k))
    t = temperature_k[finite_rows]
    if t.size < _MIN_POINTS:
        return []
    smooth, centre = _smoothed(t, smoothing_points)
    step = min_span_k / 4.0
    level = np.floor(smooth / step)
    last = smooth.size - 1
    crossings = np.concatenate(([0], np.flatnonzero(np.diff(level) != 0) + 1, [last]))
    starts = _turning_points(crossings, smooth, min_span_k)
    if not starts:
        return []
    bounds = [*starts, last]
    band = max(3.0 * noise_sigma(t), 0.05 * min_span_k)
    sweeps = []
    for k in range(len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        seg = smooth[a : b + 1]
        keep = np.ones(seg.size, dtype=bool)
        if k > 0:
            keep &= np.abs(seg - seg[0]) > band
        if k < len(bounds) - 2:
            keep &= np.abs(seg - seg[-1]) > band
        inner = np.flatnonzero(keep)
        if inner.size == 0:
            continue
        first = 0 if a + inner[0] == 0 else centre[a + inner[0]]
        stop = t.size if a + inner[-1] == last else centre[a + inner[-1]] + 1
        if stop - first < _MIN_POINTS:
            continue
        direction = "warming" if smooth[a + inner[-1]] > smooth[a + inner[0]] else "cooling"
        sweeps.append(Sweep(finite_rows[first:stop], direction))
    return sweeps
