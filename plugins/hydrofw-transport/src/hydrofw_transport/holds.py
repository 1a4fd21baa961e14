"""Holds and turning points inside one stored sweep, found before any Tc criterion is computed.

A sweep row of the ``transport`` table may still begin or end with a *hold*: the controller
sitting at base temperature (or at the top) while the logger keeps writing. Sorted by
temperature, a hold is a dense cluster of points at one temperature whose local dR/dT is noise
over a tiny temperature spread; a normal-state line or a dR/dT peak found there is meaningless.
A row may also reverse direction (a table built by hand from a whole log).

Method, per row in measured order (finite T and R only): the thermometer noise sigma_T comes
from second differences (:func:`.sweeps.noise_sigma`), the mean step h = span / points. Two
bands are tried, a tight one ``max(5 sigma_T, 2 h)`` and a wide one
``max(5 sigma_T, hold_band_fraction x span)`` (a hold that drifts or overshoots). Any run of
k + 1 consecutive points over which the temperature moves by less than the band, with k more
than 3 x the points a steady sweep puts in the band (k = 3 (band / h + 1) + 5), is a hold,
and holds are dropped (flag ``hold_points_removed:N``) unless they are most of the row in at least
five separate runs (a stepped measurement, flag ``stepped_sweep``, kept whole). A row whose temperature then reverses by more than ``max(10 band, 2 K)`` is cut into
legs by :func:`.sweeps.split_sweeps` and only the longest leg is kept (flag
``turning_point``).
"""

from __future__ import annotations

import attrs
import numpy as np

from .sweeps import noise_sigma, split_sweeps

__all__ = ["Trimmed", "trim_rows"]

_END_POINTS = 5  # a row keeps at least twice this many points
_STEPPED_RUNS = 5


@attrs.frozen
class Trimmed:
    """Flat arrays of the kept points, their list offsets, per-row flags and thermometer noise
    sigma_T (K, from second differences in measured order)."""

    offsets: np.ndarray
    t: np.ndarray
    r: np.ndarray
    flags: list[list[str]]
    sigma_t_k: np.ndarray


def _held(t: np.ndarray, width: float, k: int) -> np.ndarray:
    """Mask of the points inside a run of ``k + 1`` consecutive points whose temperature moves
    by less than ``width`` from the run's first to its last point."""
    n = t.size
    mask = np.zeros(n, dtype=bool)
    if k >= n:
        return mask
    still = np.abs(t[k:] - t[:-k]) < width
    starts = np.flatnonzero(still)
    if starts.size == 0:
        return mask
    cover = np.zeros(n + 1, dtype=np.int64)
    np.add.at(cover, starts, 1)
    np.add.at(cover, starts + k + 1, -1)
    return np.cumsum(cover[:-1]) > 0


def _keep(t: np.ndarray, fraction: float) -> tuple[np.ndarray, list[str]]:
    """Indices (into ``t``) of the points kept in one row, and its flags."""
    n = t.size
    index = np.arange(n)
    if n < 4 * _END_POINTS:
        return index, []
    span = float(np.ptp(t))
    if span <= 0:
        return index, []
    sigma_t = noise_sigma(t)
    step = span / n  # the mean temperature step of a steady sweep
    band = max(5.0 * sigma_t, fraction * span)
    held = np.zeros(n, dtype=bool)
    for width in (max(5.0 * sigma_t, 2.0 * step), band):  # a tight and a drifting hold
        k = int(3.0 * (width / step + 1.0)) + 5
        held |= _held(t, width, k)
    flags: list[str] = []
    removed = int(held.sum())
    runs = int(np.count_nonzero(held[1:] & ~held[:-1]) + held[0])
    stepped = runs >= _STEPPED_RUNS and removed > 0.5 * n
    if removed and n - removed >= 2 * _END_POINTS and not stepped:
        flags.append(f"hold_points_removed:{removed}")
        index = index[~held]
    elif stepped:
        flags.append("stepped_sweep")  # mostly holds at many temperatures: kept whole
    seg = t[index]
    forward = seg[-1] >= seg[0]
    run = np.maximum.accumulate(seg) - seg if forward else seg - np.minimum.accumulate(seg)
    if run.size and run.max() > max(10.0 * band, 2.0):
        legs = split_sweeps(seg, min_span_k=max(10.0 * band, 2.0))
        if legs:
            longest = max(legs, key=lambda leg: leg.rows.size)
            flags.append("turning_point")
            index = index[longest.rows]
    return index, flags


def trim_rows(
    offsets: np.ndarray, t_flat: np.ndarray, r_flat: np.ndarray, fraction: float
) -> Trimmed:
    """Drop the holds (and all but the longest leg of reversing rows) of every row."""
    keep_parts: list[np.ndarray] = []
    flags: list[list[str]] = []
    counts = np.zeros(offsets.size - 1, dtype=np.int64)
    sigma_t = np.zeros(offsets.size - 1)
    for row in range(offsets.size - 1):
        lo, hi = int(offsets[row]), int(offsets[row + 1])
        t = t_flat[lo:hi]
        good = np.flatnonzero(np.isfinite(t) & np.isfinite(r_flat[lo:hi]))
        idx, row_flags = _keep(t[good], fraction)
        sigma_t[row] = noise_sigma(t[good])
        keep_parts.append(lo + good[idx])
        counts[row] = idx.size
        flags.append(row_flags)
    keep = np.concatenate(keep_parts) if keep_parts else np.zeros(0, dtype=np.int64)
    new_offsets = np.concatenate(([0], np.cumsum(counts)))
    return Trimmed(new_offsets, t_flat[keep], r_flat[keep], flags, sigma_t)
