"""Signal amplitude of each trace of a relaxation series, with its noise error.

Pure functions over 2-D arrays (rows = traces of one series, columns = points), so a whole
series is measured at once and every trace uses the same window (the same echo top, the same
phase, the same peak position): amplitudes of weak traces at long delays then stay unbiased.

Time domain (FIDs or echoes, complex): ``echo_top`` finds the maximum of the summed magnitude
(after ``start``, e.g. past a digital-filter group delay) and averages ``n_average`` points
around it; ``first_points`` averages the first ``n_average`` points from ``start``. The default
is phase sensitive: one phase, taken at the top of the strongest trace, is applied to every
trace and the real part is averaged, so noise averages to zero instead of piling up as a
magnitude floor. The noise is the standard deviation of the last ``noise_fraction`` of each
trace (after removing its mean, the receiver DC offset).

Frequency domain (real part of spectra phased with one common phase): ``integral`` sums over
a mask of points times the point spacing in Hz; ``peak_height`` reads every trace at the index
where the |real part| summed over the traces is largest (one point: for narrow lines with a
good SNR; prefer ``integral`` for broad or noisy lines). The noise is the standard deviation of
a signal-free mask.
"""

from __future__ import annotations

import numpy as np

__all__ = ["time_domain_amplitudes", "frequency_domain_amplitudes"]

_MIN_NOISE_POINTS = 8


def _tail(n: int, noise_fraction: float) -> slice:
    count = max(_MIN_NOISE_POINTS, int(round(noise_fraction * n)))
    return slice(max(n - count, 0), n)


def time_domain_amplitudes(
    data: np.ndarray,
    *,
    method: str = "echo_top",
    start: int = 0,
    n_average: int = 5,
    noise_fraction: float = 0.25,
    magnitude: bool = False,
    subtract_offset: bool = True,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Amplitudes, their standard errors and the index of the window centre for complex traces
    ``data`` (rows, points). ``method`` is "echo_top" or "first_points"."""
    data = np.asarray(data, dtype=complex)
    n = data.shape[1]
    tail = _tail(n, noise_fraction)
    noise = data[:, tail]
    if subtract_offset:
        data = data - noise.mean(axis=1, keepdims=True)
        noise = data[:, tail]
    sigma = np.sqrt(0.5 * (noise.real.var(axis=1, ddof=1) + noise.imag.var(axis=1, ddof=1)))
    if method == "echo_top":
        centre = start + int(np.argmax(np.abs(data[:, start : tail.start]).sum(axis=0)))
        window = slice(max(centre - n_average // 2, start), centre - n_average // 2 + n_average)
    else:
        centre = start
        window = slice(start, start + n_average)
    block = data[:, window]
    count = block.shape[1]
    if magnitude:
        amplitude = np.abs(block).mean(axis=1)
    else:
        strongest = int(np.argmax(np.abs(block.sum(axis=1))))
        phase = np.angle(block[strongest].sum())
        amplitude = (block * np.exp(-1j * phase)).real.mean(axis=1)
    return amplitude, sigma / np.sqrt(count), centre


def frequency_domain_amplitudes(
    real: np.ndarray,
    signal: np.ndarray,
    noise: np.ndarray,
    point_spacing_hz: float,
    *,
    method: str = "integral",
) -> tuple[np.ndarray, np.ndarray]:
    """Amplitudes and standard errors of real spectra ``real`` (rows, points).

    ``signal`` and ``noise`` are boolean masks over the points; ``point_spacing_hz`` is the
    absolute spacing in Hz. The integral error assumes uncorrelated noise between points
    (apodization correlates neighbours: the error is then a lower bound).
    """
    real = np.asarray(real, dtype=float)
    noise_values = real[:, noise]
    sigma = noise_values.std(axis=1, ddof=1)
    if method == "integral":
        amplitude = real[:, signal].sum(axis=1) * point_spacing_hz
        return amplitude, sigma * point_spacing_hz * np.sqrt(np.count_nonzero(signal))
    inside = np.flatnonzero(signal)
    index = inside[int(np.argmax(np.abs(real[:, inside]).sum(axis=0)))]
    return real[:, index].copy(), sigma
