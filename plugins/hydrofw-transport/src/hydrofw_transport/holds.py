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
and holds are dropped (flag ``hold_points_removed:N``) unless they are most of the row in at
least five separate runs (a stepped measurement, flag ``stepped_sweep``, kept whole). A row
whose temperature then reverses by more than ``max(10 band, 2 K)`` is cut into legs by
:func:`.sweeps.split_sweeps` and only the longest leg is kept (flag ``turning_point``).
"""

from __future__ import annotations

import attrs
import numpy as np

from .criteria import row_median
from .sweeps import split_sweeps

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


def _keep(t: np.ndarray, fraction: float, sigma_t: float) -> tuple[np.ndarray, list[str]]:
    """Indices (into ``t``) of the points kept in one row, and its flags."""
    n = t.size
    index = np.arange(n)
    if n < 4 * _END_POINTS:
        return index, []
    span = float(np.ptp(t))
    if span <= 0:
        return index, []
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


def _padded(
    offsets: np.ndarray, t_flat: np.ndarray, good: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The good temperatures of every row in measured order, NaN padded, and their counts."""
    n_rows = offsets.size - 1
    row = np.repeat(np.arange(n_rows), np.diff(offsets))[good]
    t = t_flat[good]
    count = np.bincount(row, minlength=n_rows)
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    pos = np.arange(t.size) - start[row]
    padded = np.full((n_rows, max(int(count.max()) if n_rows else 0, 3)), np.nan)
    padded[row, pos] = t
    return padded, count


def _row_noise(padded: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Thermometer noise sigma_T of every row in measured order (as
    :func:`.sweeps.noise_sigma`: 1.4826 MAD of second differences / sqrt(6)), all rows at
    once."""
    d2 = padded[:, 2:] - 2.0 * padded[:, 1:-1] + padded[:, :-2]
    med = row_median(d2)
    mad = row_median(np.abs(d2 - med[:, None]))
    sigma = 1.4826 * mad / np.sqrt(6.0)
    return np.where(count >= 5, np.nan_to_num(sigma), 0.0)


def _plain_rows(
    padded: np.ndarray, count: np.ndarray, sigma_t: np.ndarray, fraction: float
) -> np.ndarray:
    """Rows that certainly hold no hold and no reversal (vectorised screen with the tests of
    :func:`_keep`); the others are examined one by one."""
    with np.errstate(invalid="ignore", divide="ignore"):
        valid = np.arange(padded.shape[1])[None, :] < count[:, None]
        lo = np.where(valid, padded, np.inf).min(axis=1)
        hi = np.where(valid, padded, -np.inf).max(axis=1)
        span = hi - lo
        step = span / np.maximum(count, 1)
        band = np.maximum(5.0 * sigma_t, fraction * span)
        suspect = np.zeros(len(count), dtype=bool)
        j = np.arange(padded.shape[1])[None, :]
        for width in (np.maximum(5.0 * sigma_t, 2.0 * step), band):
            k = (3.0 * (width / step + 1.0)).astype(np.int64) + 5
            ahead = j + k[:, None]
            later = np.take_along_axis(padded, np.minimum(ahead, padded.shape[1] - 1), axis=1)
            still = (np.abs(later - padded) < width[:, None]) & (ahead < count[:, None])
            suspect |= still.any(axis=1)
        first = padded[:, 0]
        last = np.take_along_axis(padded, np.maximum(count - 1, 0)[:, None], axis=1)[:, 0]
        forward = last >= first
        up = np.where(valid, padded, -np.inf)
        down = np.where(valid, padded, np.inf)
        run_up = np.where(valid, np.maximum.accumulate(up, axis=1) - padded, 0.0).max(axis=1)
        run_down = np.where(valid, padded - np.minimum.accumulate(down, axis=1), 0.0).max(axis=1)
        run = np.where(forward, run_up, run_down)
        suspect |= run > np.maximum(10.0 * band, 2.0)
    return ~suspect | (count < 4 * _END_POINTS) | ~(span > 0)


def trim_rows(
    offsets: np.ndarray, t_flat: np.ndarray, r_flat: np.ndarray, fraction: float
) -> Trimmed:
    """Drop the holds (and all but the longest leg of reversing rows) of every row."""
    keep_parts: list[np.ndarray] = []
    flags: list[list[str]] = []
    counts = np.zeros(offsets.size - 1, dtype=np.int64)
    good_flat = np.isfinite(t_flat) & np.isfinite(r_flat)
    padded, good_count = _padded(offsets, t_flat, good_flat)
    sigma_t = _row_noise(padded, good_count)
    plain = _plain_rows(padded, good_count, sigma_t, fraction)
    for row in range(offsets.size - 1):
        lo, hi = int(offsets[row]), int(offsets[row + 1])
        good = np.flatnonzero(good_flat[lo:hi])
        if plain[row]:
            keep_parts.append(lo + good)
            counts[row] = good.size
            flags.append([])
            continue
        idx, row_flags = _keep(t_flat[lo:hi][good], fraction, float(sigma_t[row]))
        keep_parts.append(lo + good[idx])
        counts[row] = idx.size
        flags.append(row_flags)
    keep = np.concatenate(keep_parts) if keep_parts else np.zeros(0, dtype=np.int64)
    new_offsets = np.concatenate(([0], np.cumsum(counts)))
    return Trimmed(new_offsets, t_flat[keep], r_flat[keep], flags, sigma_t)
