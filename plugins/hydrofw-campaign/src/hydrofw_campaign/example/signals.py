"""Synthetic NMR time-domain signals (complex128 numpy arrays, time in s, frequency in Hz).

Conventions: a signal at offset ``f`` from the carrier evolves as ``exp(+2j*pi*f*t)``;
envelopes are 1 at t = 0 and even in t (echoes use negative times for their rising half).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import fresnel

__all__ = [
    "gaussian_decay",
    "pake_decay",
    "gaussian_support_s",
    "pake_fid",
    "dipolar_coupling_hz",
]

_MU0_OVER_4PI = 1e-7  # T m / A
_HBAR = 1.054571817e-34  # J s
_GAMMA_1H = 26.7522128e7  # rad s^-1 T^-1


def gaussian_decay(t_s: np.ndarray, fwhm_hz: float) -> np.ndarray:
    """Time-domain envelope whose spectrum is a Gaussian of ``fwhm_hz``."""
    return np.exp(-((np.pi * fwhm_hz * t_s) ** 2) / (4 * np.log(2)))


def dipolar_coupling_hz(distance_m: float, gamma_rad_s_t: float = _GAMMA_1H) -> float:
    """Homonuclear dipolar coupling constant d/2pi = (mu0/4pi) gamma^2 hbar / (2 pi r^3), Hz."""
    return _MU0_OVER_4PI * gamma_rad_s_t**2 * _HBAR / distance_m**3 / (2 * np.pi)


def pake_decay(t_s: np.ndarray, distance_m: float) -> np.ndarray:
    """Exact powder FID (real, 1 at t = 0) of isolated homonuclear spin-1/2 pairs.

    The lines sit at ``+-(3/4) d (3u^2 - 1)`` with ``u = cos(theta)`` uniform on [0, 1]; the
    powder average ``int_0^1 cos(a (3u^2 - 1)) du`` with ``a = 2 pi (3/4) d t`` is
    ``Re[exp(-ia) sqrt(pi/(2b)) (C(z) + i S(z))]``, ``b = 3a``, ``z = sqrt(2b/pi)`` (Fresnel
    integrals C, S), which tends to 1 at t = 0.
    """
    t = np.abs(np.asarray(t_s, dtype=float))
    a = 2 * np.pi * 0.75 * dipolar_coupling_hz(distance_m) * t
    b = 3 * a
    out = np.ones_like(t)
    nz = b > 1e-12
    z = np.sqrt(2 * b[nz] / np.pi)
    s_int, c_int = fresnel(z)
    integral = np.sqrt(np.pi / (2 * b[nz])) * (c_int + 1j * s_int)
    out[nz] = (np.exp(-1j * a[nz]) * integral).real
    return out


def gaussian_support_s(fwhm_hz: float, floor: float = 1e-12) -> float:
    """Time (s) after which :func:`gaussian_decay` of ``fwhm_hz`` stays below ``floor``."""
    return float(np.sqrt(-np.log(floor) * 4 * np.log(2)) / (np.pi * fwhm_hz))


def pake_fid(
    t_s: np.ndarray,
    distances_m: Sequence[float],
    weights: Sequence[float],
    broadening_hz: float | Sequence[float],
) -> np.ndarray:
    """Powder FID of isolated spin-1/2 pairs (Pake doublets), one per distance.

    Each pair contributes lines at ``+-(3/4) d (3 cos^2 theta - 1)`` (exact powder average,
    :func:`pake_decay`); ``weights`` are the amplitudes at t = 0 (spin counts). Gaussian
    broadening of ``broadening_hz`` FWHM, one value or one per doublet. Real-valued
    (symmetric spectrum, centred on the carrier: multiply by the offset's phase ramp).
    """
    widths = np.broadcast_to(np.asarray(broadening_hz, dtype=float), (len(distances_m),))
    total = np.zeros(np.shape(t_s), dtype=np.complex128)
    for r, w, fwhm in zip(distances_m, weights, widths, strict=True):
        total += w * pake_decay(t_s, r) * gaussian_decay(np.asarray(t_s), float(fwhm))
    return total
