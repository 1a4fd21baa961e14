"""Synthetic NMR time-domain signals (complex128 numpy arrays, time in s, frequency in Hz).

Conventions: a signal at offset ``f`` from the carrier evolves as ``exp(+2j*pi*f*t)``; the
time-domain amplitude at t = 0 is the ``amplitude`` argument, so the per-point time-domain SNR
of a trace equals ``amplitude / noise_sigma`` (``noise_sigma`` per real and per imaginary
channel).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "lorentzian_fid",
    "gaussian_decay",
    "pake_fid",
    "complex_noise",
    "apply_group_delay",
    "dipolar_coupling_hz",
]

_MU0_OVER_4PI = 1e-7  # T m / A
_HBAR = 1.054571817e-34  # J s
_GAMMA_1H = 26.7522128e7  # rad s^-1 T^-1


def lorentzian_fid(
    t_s: np.ndarray, amplitude: float, offset_hz: float, fwhm_hz: float, phase_rad: float = 0.0
) -> np.ndarray:
    """A line of Lorentzian shape: ``A exp(i(2 pi f t + phi)) exp(-pi FWHM t)``."""
    return amplitude * np.exp(
        1j * (2 * np.pi * offset_hz * t_s + phase_rad) - np.pi * fwhm_hz * t_s
    )


def gaussian_decay(t_s: np.ndarray, fwhm_hz: float) -> np.ndarray:
    """Time-domain envelope whose spectrum is a Gaussian of ``fwhm_hz``."""
    return np.exp(-((np.pi * fwhm_hz * t_s) ** 2) / (4 * np.log(2)))


def dipolar_coupling_hz(distance_m: float, gamma_rad_s_t: float = _GAMMA_1H) -> float:
    """Homonuclear dipolar coupling constant d/2pi = (mu0/4pi) gamma^2 hbar / (2 pi r^3), Hz."""
    return _MU0_OVER_4PI * gamma_rad_s_t**2 * _HBAR / distance_m**3 / (2 * np.pi)


def pake_fid(
    t_s: np.ndarray,
    distances_m: Sequence[float],
    weights: Sequence[float],
    broadening_hz: float,
    n_orientations: int = 600,
) -> np.ndarray:
    """Powder FID of isolated spin-1/2 pairs (Pake doublets), one per distance.

    Each pair contributes lines at ``+-(3/4) d (3 cos^2 theta - 1)``, averaged over a uniform
    grid in ``cos theta``; ``weights`` are the spin fractions (sum = amplitude at t = 0).
    Gaussian broadening of ``broadening_hz`` FWHM. Real-valued (symmetric spectrum).
    """
    u = (np.arange(n_orientations) + 0.5) / n_orientations
    total = np.zeros(t_s.shape, dtype=np.complex128)
    for r, w in zip(distances_m, weights, strict=True):
        split_hz = 0.75 * dipolar_coupling_hz(r) * (3 * u**2 - 1)
        total += w * np.cos(2 * np.pi * np.outer(t_s, split_hz)).mean(axis=1)
    return total * gaussian_decay(t_s, broadening_hz)


def complex_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """White complex Gaussian noise, standard deviation ``sigma`` per channel."""
    return sigma * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape))


def apply_group_delay(fid: np.ndarray, group_delay_points: float) -> np.ndarray:
    """Delay a trace by ``group_delay_points`` (fractional) as a Bruker digital filter does.

    The trace is zero-padded to twice its length, multiplied by the linear phase ramp of the
    delay in the frequency domain and cut back, so the signal's t = 0 sits at point
    ``group_delay_points`` and the points before it hold the filter's onset ringing.
    Works along the last axis.
    """
    n = fid.shape[-1]
    padded = np.concatenate([fid, np.zeros_like(fid)], axis=-1)
    freq = np.fft.fftfreq(2 * n)
    spec = np.fft.fft(padded, axis=-1) * np.exp(-2j * np.pi * freq * group_delay_points)
    return np.fft.ifft(spec, axis=-1)[..., :n]
