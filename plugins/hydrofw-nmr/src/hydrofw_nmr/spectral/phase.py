"""Phase correction: manual zero/first order with a pivot, automatic, and magnitude mode.

Convention (degrees): the corrected spectrum is
``S * exp(1j * radians(p0 + p1 * (nu - pivot_hz) / spectral_width_hz))``, with ``nu`` the
offset from the carrier in Hz. ``p1`` is therefore the phase change across the full spectral
width, and a time shift of ``d`` points (e.g. a digital filter's group delay) is undone by
``p1 = 360 * d`` with the pivot at the carrier.

Automatic phasing (:func:`auto_phase`) is vectorised over rows, in two stages:

1. ``p1`` from *line alignment*: signal regions (runs of points above ``threshold`` times the
   noise) are integrated; a complete line integrates to a vector whose angle is the phase
   error at its position (the dispersion integrates to zero), so ``p1`` is the value that
   aligns all region vectors, i.e. maximises ``|sum_r I_r exp(i p1 x_r)|``. The vectors are
   ``sum |S|^2 S`` over the region: the weight is symmetric about each line centre, so a
   line's own dispersion cancels; the estimate is linear in the error and robust to noise.
2. Rows with a single signal region (one line, narrow or broad) keep ``p1 = 0``: a single
   line does not determine ``p1`` reliably (criteria such as minimum negative area or ACME
   entropy are flat there and wander with noise), while the timing errors that cause ``p1``
   (digital-filter delay, echo-top offset) are removed before phasing.

In both stages ``p0`` follows analytically: it makes the spectral integral (the FID's first
point) real and positive, which is exact for a correctly timed signal. Searches are a grid
refined by golden-section search.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
from scipy.ndimage import maximum_filter1d

from hydrofw.errors import ValidationError

from .numerics import difference_noise_sigma, mad_sigma

__all__ = ["phase_radians", "apply_phase", "auto_phase", "AutoPhaseResult"]

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def phase_radians(
    axis_hz: np.ndarray,
    spectral_width_hz: float,
    p0_deg: np.ndarray | float = 0.0,
    p1_deg: np.ndarray | float = 0.0,
    pivot_hz: float = 0.0,
    delay_points: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Phase (radians) to multiply a spectrum by, as ``exp(1j * phase)``.

    ``delay_points`` removes a time delay of the signal (group delay, echo offset) as the
    equivalent first-order phase with the pivot at the carrier. Row parameters broadcast as
    ``(rows, 1)`` against ``axis_hz``.
    """
    x = np.asarray(axis_hz, float) / spectral_width_hz
    p0 = (
        np.radians(np.asarray(p0_deg, float))[..., None]
        if np.ndim(p0_deg)
        else math.radians(p0_deg)
    )
    p1 = (
        np.radians(np.asarray(p1_deg, float))[..., None]
        if np.ndim(p1_deg)
        else math.radians(p1_deg)
    )
    d = np.asarray(delay_points, float)[..., None] if np.ndim(delay_points) else float(delay_points)
    return p0 + p1 * (x - pivot_hz / spectral_width_hz) + 2.0 * math.pi * d * x


@attrs.frozen
class AutoPhaseResult:
    """Phases found by :func:`auto_phase`, one value per row (degrees)."""

    p0_deg: np.ndarray
    p1_deg: np.ndarray


def _ramp(x: np.ndarray, p1_rad: np.ndarray) -> np.ndarray:
    """``exp(1j * p1 * x)`` for every row (x equally spaced): one exp per row, then a running
    product, several times cheaper than a 2-D complex exp (relative error ~1e-12)."""
    step = np.exp(1j * p1_rad * (x[1] - x[0] if x.size > 1 else 0.0))
    out = np.empty((p1_rad.size, x.size), dtype=np.complex128)
    out[:, 0] = np.exp(1j * p1_rad * x[0])
    out[:, 1:] = step[:, None]
    return np.cumprod(out, axis=1, out=out)


def apply_phase(
    spectra: np.ndarray,
    axis_hz: np.ndarray,
    spectral_width_hz: float,
    p0_deg: np.ndarray,
    p1_deg: np.ndarray,
    pivot_hz: float = 0.0,
) -> None:
    """Multiply every row of ``spectra`` in place by its phase (see the module docstring)."""
    x = (np.asarray(axis_hz, float) - pivot_hz) / spectral_width_hz
    p0, p1 = np.radians(p0_deg), np.radians(p1_deg)
    twisted = p1 != 0.0
    if twisted.any():
        factor = _ramp(x, p1[twisted]) * np.exp(1j * p0[twisted])[:, None]
        spectra[twisted] *= factor.astype(spectra.dtype, copy=False)
    if (~twisted).any():
        spectra[~twisted] *= np.exp(1j * p0[~twisted]).astype(spectra.dtype)[:, None]


def _p0_for(spectra: np.ndarray, x: np.ndarray, p1_rad: np.ndarray) -> np.ndarray:
    """Zero-order phase (rad) making sum(S exp(i p1 x)) real positive, for every row."""
    total = spectra.sum(axis=1)
    twisted = p1_rad != 0.0
    if twisted.any():
        total[twisted] = np.einsum("rk,rk->r", spectra[twisted], _ramp(x, p1_rad[twisted]))
    return -np.angle(total)


def _regions(
    spectra: np.ndarray,
    x: np.ndarray,
    threshold: float,
    min_fraction: float = 0.05,
    relative_floor: float = 0.05,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted integrals, centres and number of the signal regions of every row.

    A region is a run of points above ``threshold`` noise sigmas and above ``relative_floor``
    of the row's largest magnitude (narrow regions pick up little of other lines' dispersion
    tails). Regions whose integral is below ``min_fraction`` of the largest are dropped.
    Work after the thresholding is done on the (sparse) region points only."""
    rows, n = spectra.shape
    stride = max(1, n // 4096)
    sample = np.concatenate([spectra.real[:, ::stride], spectra.imag[:, ::stride]], axis=-1)
    # Broad lines inflate the MAD of the values, not that of the point-to-point differences.
    sigma = np.minimum(mad_sigma(sample), difference_noise_sigma(spectra.real[:, : min(n, 8192)]))
    magnitude = np.abs(spectra)
    floor = np.maximum(threshold * sigma, relative_floor * magnitude.max(axis=-1))
    mask = maximum_filter1d(magnitude > floor[:, None], size=5, axis=-1)
    r, k = np.nonzero(mask)  # row-major: the points of each region are consecutive
    new = np.ones(r.size, dtype=bool)
    new[1:] = (r[1:] != r[:-1]) | (k[1:] != k[:-1] + 1)
    region = np.cumsum(new) - 1
    first_of_row = np.searchsorted(r[new], np.arange(rows))  # index of each row's 1st region
    label = region - first_of_row[r[new][region]]
    width = int(label.max(initial=-1)) + 1
    slot = r[new] * width + label[new]  # dense (row, label) slot of every region
    s = spectra[r, k]
    mag = magnitude[r, k]
    # Each region's vector weights S by |S|^2: symmetric about the line centre, so the
    # line's own (antisymmetric) dispersion cancels, and concentrated on the line, so other
    # lines' dispersion tails and the noise barely enter.
    weighted = s * mag**2
    vec_r = np.bincount(region, weighted.real) + 1j * np.bincount(region, weighted.imag)
    centre_r = np.bincount(region, mag * x[k]) / np.maximum(np.bincount(region, mag), 1e-300)
    vec = np.zeros(rows * width, dtype=complex)
    centre = np.zeros(rows * width)
    vec[slot], centre[slot] = vec_r, centre_r
    vec, centre = vec.reshape(rows, width), centre.reshape(rows, width)
    largest = np.abs(vec).max(axis=-1, keepdims=True, initial=0.0)
    significant = (np.abs(vec) >= min_fraction * largest) & (largest > 0)
    return np.where(significant, vec, 0.0), centre, significant.sum(axis=-1)


def _aligned_p1(
    vectors: np.ndarray, centres: np.ndarray, grid: np.ndarray, step: float, tolerance: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row p1 (rad) maximising ``|sum_r v_r exp(i p1 x_r)|`` (grid, then golden section)
    and the coherence ``|sum_r v_r exp(i p1 x_r)| / sum_r |v_r|`` reached (1: perfect)."""

    def cost(p1_rad: np.ndarray) -> np.ndarray:
        return -np.abs(np.einsum("rl,rl->r", vectors, np.exp(1j * p1_rad[:, None] * centres)))

    rows = vectors.shape[0]
    costs = np.stack([cost(np.full(rows, g)) for g in grid], axis=1)
    best = grid[np.argmin(costs, axis=1)]
    lo, hi = best - step, best + step
    c = hi - _GOLDEN * (hi - lo)
    d = lo + _GOLDEN * (hi - lo)
    fc, fd = cost(c), cost(d)
    while np.max(hi - lo) > tolerance:
        left = fc < fd
        hi = np.where(left, d, hi)
        lo = np.where(left, lo, c)
        c_next = np.where(left, hi - _GOLDEN * (hi - lo), d)
        d_next = np.where(left, c, lo + _GOLDEN * (hi - lo))
        f_eval = cost(np.where(left, c_next, d_next))
        fc, fd = np.where(left, f_eval, fd), np.where(left, fc, f_eval)
        c, d = c_next, d_next
    best = np.clip(0.5 * (lo + hi), grid[0], grid[-1])
    return best, -cost(best) / np.maximum(np.abs(vectors).sum(axis=1), 1e-300)


def auto_phase(
    spectra: np.ndarray,
    axis_hz: np.ndarray,
    spectral_width_hz: float,
    *,
    pivot_hz: float = 0.0,
    p1_range_deg: float = 360.0,
    p1_step_deg: float = 10.0,
    fix_p1: bool = False,
    tolerance_deg: float = 0.05,
    threshold: float = 8.0,
    min_coherence: float = 0.9,
) -> AutoPhaseResult:
    """Zero- and first-order phase (degrees, see module docstring) for every row of ``spectra``.

    ``p1`` is searched in ``[-p1_range_deg, p1_range_deg]``; ``fix_p1`` finds ``p0`` only.
    Signal regions are runs of points whose magnitude exceeds ``threshold`` noise sigmas;
    ``p1`` stays 0 when the best alignment of their vectors has a coherence below
    ``min_coherence`` (noise regions, or lines of opposite sign).
    """
    s = np.atleast_2d(np.asarray(spectra)).astype(np.complex128, copy=False)
    if s.shape[-1] < 4:
        raise ValidationError("automatic phasing needs at least 4 points")
    x = (np.asarray(axis_hz, float) - pivot_hz) / spectral_width_hz
    p1 = np.zeros(s.shape[0])
    if not fix_p1:
        vectors, centres, n_regions = _regions(s, x, threshold)
        aligned = n_regions >= 2
        if aligned.any():
            grid = np.radians(
                np.arange(-p1_range_deg, p1_range_deg + 0.5 * p1_step_deg, p1_step_deg)
            )
            found, coherence = _aligned_p1(
                vectors[aligned],
                centres[aligned],
                grid,
                math.radians(p1_step_deg),
                math.radians(tolerance_deg),
            )
            # regions that cannot be aligned (noise, or lines of opposite sign) carry no p1
            p1[aligned] = np.where(coherence >= min_coherence, found, 0.0)
    p0_deg = (np.degrees(_p0_for(s, x, p1)) + 180.0) % 360.0 - 180.0
    return AutoPhaseResult(p0_deg=p0_deg, p1_deg=np.degrees(p1))
