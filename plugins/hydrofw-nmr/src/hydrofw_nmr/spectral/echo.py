"""Echo handling in the time domain: top detection, left shift, symmetrisation (per row).

The echo top is the point of largest magnitude (searched from ``search_from``), refined to a
fraction of a point by a parabola through the magnitude at the top and its neighbours. The
integer part becomes a left shift of the data, the fraction a first-order phase after the
Fourier transform (see :mod:`.phase`). Symmetrising averages ``s(top + k)`` with
``conj(s(top - k))``, which removes the dispersive part of a full echo.
"""

from __future__ import annotations

import numpy as np

__all__ = ["echo_top", "shift_left", "symmetrise"]


def echo_top(
    signal: np.ndarray, search_from: int = 0, group_delay: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Integer index and fractional offset (in [-0.5, 0.5]) of the echo top of every row.

    The top is the parabola vertex through the largest magnitude and its neighbours. With a
    digital-filter ``group_delay`` (points), a top within one point of the delay marks a
    one-sided echo acquired from its top: its position is the delay itself, since the point
    before it belongs to the filter's rising edge and would bias the parabola by up to half a
    point (a first-order phase error of pi * offset * SW * fraction across the spectrum)."""
    mag = np.abs(signal[:, search_from:])
    k = np.argmax(mag, axis=1)
    rows = np.arange(signal.shape[0])
    left = mag[rows, np.clip(k - 1, 0, None)]
    right = mag[rows, np.clip(k + 1, None, mag.shape[1] - 1)]
    centre = mag[rows, k]
    curvature = left - 2.0 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    inside = (k > 0) & (k < mag.shape[1] - 1)
    top = k + search_from
    frac = np.clip(np.where(inside, frac, 0.0), -0.5, 0.5)
    if group_delay is not None:
        at_delay = np.abs(top - group_delay) <= 1.0
        nearest = int(round(group_delay))
        top = np.where(at_delay, nearest, top)
        frac = np.where(at_delay, group_delay - nearest, frac)
    return top, frac


def shift_left(signal: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Rows moved left by ``shift`` points (per row), zeros entering at the end."""
    n = signal.shape[1]
    idx = np.arange(n)[None, :] + np.asarray(shift)[:, None]
    out = np.take_along_axis(signal, np.clip(idx, 0, n - 1), axis=1)
    out[idx >= n] = 0
    return out


def symmetrise(signal: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Left-shifted echoes with the points up to ``top`` after the top replaced by the mean of
    ``s(top + k)`` and ``conj(s(top - k))``."""
    n = signal.shape[1]
    k = np.arange(n)[None, :]
    after = np.take_along_axis(signal, np.clip(top[:, None] + k, 0, n - 1), axis=1)
    before = np.take_along_axis(signal, np.clip(top[:, None] - k, 0, n - 1), axis=1)
    paired = k <= np.minimum(top, n - 1 - top)[:, None]
    out = np.where(paired, 0.5 * (after + np.conj(before)), after)
    out[top[:, None] + k >= n] = 0
    return out
