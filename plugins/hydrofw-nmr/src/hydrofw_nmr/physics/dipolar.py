"""Dipolar coupling of like spins I = 1/2: Pake powder pattern and van Vleck second moment.

Conventions: ``coupling_hz`` is d/2pi with d = (mu0/4pi) gamma^2 hbar / r^3 (rad/s); for 1H,
d/2pi = 120.12 kHz at r = 1 angstrom. The secular homonuclear pair Hamiltonian puts two lines at
nu = +-(3/4) d (3 cos^2 theta - 1) (Hz from the centre; the 3/2 factor of like spins, not the
weak-coupling limit), so the horns (theta = 90 deg) are split by 1.5 d and the outer edges
(theta = 0) by 3 d. With s = 3d/4 and x = nu/s in (-1, 2], one branch has the exact powder
density p(x) = 1 / (2 sqrt(3 (x + 1))); the pattern is [p(nu/s) + p(-nu/s)] / (2 s), with unit
area and integrable singular horns.

Broadening: the exact bin masses of the pattern (from its closed-form cumulative distribution)
on a fine grid are convolved with the bin masses of a Gaussian or Lorentzian kernel (FWHM in
Hz). No orientation sampling is needed; :func:`pake_powder_average` is the slow numerical
reference used to check it.

Van Vleck: M2 = (3/5) (mu0/4pi)^2 gamma^4 hbar^2 I(I+1) sum_j r_j^-6 (rad^2/s^2), i.e.
(9/20) sum d_j^2 for I = 1/2; the Gaussian of that second moment has FWHM 2 sqrt(2 ln2 M2) / 2pi
(1.5796 d/2pi for an isolated pair).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import constants, signal, special

from hydrofw.errors import ParameterError
from hydrofw.nuclei import nucleus as nucleus_data

__all__ = [
    "dipolar_coupling_hz",
    "distance_from_coupling_angstrom",
    "pake_pattern",
    "pake_cdf",
    "pake_lineshape",
    "pake_powder_average",
    "pake_fid",
    "gaussian_envelope",
    "broadening_kernel",
    "binned_kernel",
    "truncated_lorentzian_spectrum",
    "van_vleck_second_moment",
    "second_moment_gaussian_fwhm_hz",
]

_MU0_OVER_4PI = constants.mu_0 / (4.0 * math.pi)
_M_PER_ANGSTROM = 1e-10
_MAX_GRID = 1 << 21
SHAPES = ("gaussian", "lorentzian")


def _coupling_constant_hz_a3(nucleus: str) -> float:
    """d/2pi * r^3 in Hz * angstrom^3."""
    gamma = nucleus_data(nucleus).gamma_rad_s_t
    return _MU0_OVER_4PI * gamma**2 * constants.hbar / (2.0 * math.pi) / _M_PER_ANGSTROM**3


def dipolar_coupling_hz(distance_angstrom: float | np.ndarray, nucleus: str = "1H") -> np.ndarray:
    """Dipolar coupling constant d/2pi (Hz) of two like spins at ``distance_angstrom``."""
    return _coupling_constant_hz_a3(nucleus) / np.asarray(distance_angstrom, dtype=float) ** 3


def distance_from_coupling_angstrom(
    coupling_hz: float | np.ndarray, nucleus: str = "1H"
) -> np.ndarray:
    """Inverse of :func:`dipolar_coupling_hz`."""
    return np.cbrt(_coupling_constant_hz_a3(nucleus) / np.asarray(coupling_hz, dtype=float))


def _branch_cdf(x: np.ndarray) -> np.ndarray:
    """Cumulative distribution of one branch, x = nu/s: sqrt((x+1)/3) on [-1, 2]."""
    return np.sqrt(np.clip((x + 1.0) / 3.0, 0.0, 1.0))


def _pake_bins(edges_hz: np.ndarray, coupling_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact mass and first moment (Hz) of the unbroadened pattern in each bin between
    ascending ``edges_hz``. With U = sqrt((x+1)/3) one branch has x = 3U^2 - 1 and p dx = dU,
    so the first moment integrates to U^3 - U."""
    s = 0.75 * coupling_hz
    u_plus = _branch_cdf(edges_hz / s)  # branch nu = +s x
    u_minus = _branch_cdf(-edges_hz / s)  # branch nu = -s x
    mass = 0.5 * (np.diff(u_plus) - np.diff(u_minus))
    moment = 0.5 * s * (np.diff(u_plus**3 - u_plus) + np.diff(u_minus**3 - u_minus))
    return mass, moment


def pake_cdf(frequency_hz: np.ndarray, coupling_hz: float) -> np.ndarray:
    """Cumulative distribution (0 to 1) of the unbroadened pattern centred at 0 Hz."""
    s = 0.75 * coupling_hz
    x = np.asarray(frequency_hz, dtype=float) / s
    return 0.5 * (_branch_cdf(x) + 1.0 - _branch_cdf(-x))


def pake_pattern(frequency_hz: np.ndarray, coupling_hz: float) -> np.ndarray:
    """Closed-form density (per Hz, unit area) of the unbroadened pattern centred at 0 Hz.
    Infinite at the horns nu = +-(3/4) d, zero beyond the edges +-(3/2) d."""
    s = 0.75 * coupling_hz
    x = np.asarray(frequency_hz, dtype=float) / s

    def branch(u: np.ndarray) -> np.ndarray:
        inside = (u > -1.0) & (u <= 2.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(inside, 0.5 / np.sqrt(3.0 * np.where(inside, u + 1.0, 1.0)), 0.0)

    return 0.5 * (branch(x) + branch(-x)) / s


def pake_fid(time_s: ArrayLike, coupling_hz: ArrayLike) -> np.ndarray:
    """Exact powder FID (real, 1 at t = 0, even in t) of the unbroadened pattern: the Fourier
    transform of :func:`pake_pattern`. With a = 2 pi s t (s = 3d/4) and u = cos(theta)
    uniform on [0, 1], G(t) = int_0^1 cos(a (3u^2 - 1)) du = Re[exp(-ia) F(3a)] with
    F(c) = int_0^1 exp(i c u^2) du = sqrt(pi / 2c) (C(z) + i S(z)), z = sqrt(2c/pi) (Fresnel
    integrals); a Taylor series below |c| = 1e-4. Broadcasts ``time_s`` against ``coupling_hz``.
    """
    a = 2.0 * math.pi * 0.75 * np.asarray(coupling_hz, float) * np.abs(np.asarray(time_s, float))
    c = 3.0 * a
    small = c < 1e-4
    c_safe = np.where(small, 1.0, c)
    s_int, c_int = special.fresnel(np.sqrt(2.0 * c_safe / math.pi))
    big = np.sqrt(math.pi / (2.0 * c_safe)) * (c_int + 1j * s_int)
    series = 1.0 + 1j * c / 3.0 - c**2 / 10.0
    return (np.exp(-1j * a) * np.where(small, series, big)).real


def gaussian_envelope(time_s: ArrayLike, fwhm_hz: ArrayLike) -> np.ndarray:
    """Time-domain factor of a Gaussian broadening of FWHM ``fwhm_hz`` (its Fourier pair):
    exp(-(pi FWHM t)^2 / (4 ln 2))."""
    x = math.pi * np.asarray(fwhm_hz, float) * np.asarray(time_s, float)
    return np.exp(-(x**2) / (4.0 * math.log(2.0)))


def _kernel_cdf(offset_hz: np.ndarray, fwhm_hz: float, shape: str) -> np.ndarray:
    if shape == "gaussian":
        sigma = fwhm_hz / (2.0 * math.sqrt(2.0 * math.log(2.0)))
        return 0.5 * (1.0 + special.erf(offset_hz / (math.sqrt(2.0) * sigma)))
    if shape == "lorentzian":
        return 0.5 + np.arctan(2.0 * offset_hz / fwhm_hz) / math.pi
    raise ParameterError(f"unknown broadening shape {shape!r} (known: {', '.join(SHAPES)})")


def broadening_kernel(offset_hz: np.ndarray, fwhm_hz: float, shape: str) -> np.ndarray:
    """Unit-area Gaussian or Lorentzian (per Hz) of FWHM ``fwhm_hz`` at ``offset_hz``."""
    if shape == "gaussian":
        sigma = fwhm_hz / (2.0 * math.sqrt(2.0 * math.log(2.0)))
        return np.exp(-0.5 * (offset_hz / sigma) ** 2) / (sigma * math.sqrt(2.0 * math.pi))
    if shape == "lorentzian":
        half = 0.5 * fwhm_hz
        return half / (math.pi * (offset_hz**2 + half**2))
    raise ParameterError(f"unknown broadening shape {shape!r} (known: {', '.join(SHAPES)})")


def binned_kernel(
    frequency_hz: np.ndarray, offset_hz: float, fwhm_hz: float, shape: str
) -> np.ndarray:
    """Unit-area kernel averaged over each point's bin (per Hz) on a uniform axis: the exact
    bin mass over the spacing, so a line narrower than a point keeps its area."""
    freq = np.asarray(frequency_hz, dtype=float)
    half = 0.5 * abs(_uniform_step(freq))
    rel = freq - offset_hz
    mass = _kernel_cdf(rel + half, fwhm_hz, shape) - _kernel_cdf(rel - half, fwhm_hz, shape)
    return mass / (2.0 * half)


def truncated_lorentzian_spectrum(
    frequency_hz: np.ndarray,
    offset_hz: float,
    fwhm_hz: float,
    *,
    dwell_s: float,
    acquired_points: int,
) -> np.ndarray:
    """Exact discrete spectrum (complex, per Hz) of a sampled, truncated Lorentzian FID.

    The FID exp((2 pi i nu0 - pi W) t) sampled at t = n dwell_s for n < N = ``acquired_points``,
    first point halved, zero-filled and Fourier transformed (sum s_n exp(-2 pi i nu n dwell)),
    times 2 dwell_s so that a line that decays within the acquisition has unit area and real
    part -> the Lorentzian density. With u = (pi W - 2 pi i (nu0 - nu)) dwell and
    E = exp(-u N): 2 dwell [1/(1 - e^-u) - 1/2 - E/(1 - e^-u)] = dwell [coth(u/2) - E (coth(u/2)
    + 1)]. Exact at any point spacing (the line may be narrower than a point) and for any
    truncation; the frequencies must be points of the transform's grid. ``fwhm_hz`` = 0 is a
    constant over the acquired points (a receiver offset): 2 dwell (N - 1/2) at nu = nu0.
    """
    if fwhm_hz < 0 or dwell_s <= 0 or acquired_points < 1:
        raise ParameterError(
            "truncated_lorentzian_spectrum needs fwhm_hz >= 0, dwell_s > 0, acquired_points >= 1"
        )
    u = (math.pi * fwhm_hz - 2j * math.pi * (offset_hz - np.asarray(frequency_hz, float))) * dwell_s
    flat = np.abs(u) < 1e-12
    u_safe = np.where(flat, 1.0, u)
    coth = 1.0 / np.tanh(0.5 * u_safe)
    out = dwell_s * (coth - np.exp(-u_safe * acquired_points) * (coth + 1.0))
    return np.where(flat, 2.0 * dwell_s * (acquired_points - 0.5), out)


def _uniform_step(frequency_hz: np.ndarray) -> float:
    steps = np.diff(frequency_hz)
    step = float(np.mean(steps)) if steps.size else 1.0
    if steps.size and not np.allclose(steps, step, rtol=1e-6, atol=0.0):
        raise ParameterError("pake_lineshape needs a uniformly spaced frequency axis")
    if step == 0:
        raise ParameterError("pake_lineshape: the frequency axis has zero spacing")
    return step


def pake_lineshape(
    frequency_hz: np.ndarray,
    coupling_hz: float | Sequence[float],
    weights: float | Sequence[float] = 1.0,
    *,
    broadening_fwhm_hz: float = 0.0,
    shape: str = "gaussian",
    offset_hz: float = 0.0,
    oversample: int = 4,
) -> np.ndarray:
    """Broadened sum of Pake patterns (density per Hz) at the points of a uniform axis.

    ``coupling_hz`` d_k/2pi and ``weights`` w_k (areas) may be sequences; the result integrates
    to sum(w_k) over an axis that covers the pattern. ``broadening_fwhm_hz`` = 0 gives the
    unbroadened pattern averaged over each point's bin (finite at the horns).
    """
    freq = np.asarray(frequency_hz, dtype=float)
    couplings = np.atleast_1d(np.asarray(coupling_hz, dtype=float))
    w = np.broadcast_to(np.asarray(weights, dtype=float), couplings.shape)
    if np.any(couplings <= 0):
        raise ParameterError("pake_lineshape: coupling constants must be positive")
    if broadening_fwhm_hz < 0:
        raise ParameterError("pake_lineshape: broadening_fwhm_hz must be >= 0")
    step = _uniform_step(freq)
    h_data = abs(step)
    q = max(int(oversample), 1)
    if broadening_fwhm_hz > 0:
        q = max(q, int(math.ceil(10.0 * h_data / broadening_fwhm_hz)))  # >= 10 points per FWHM
    h = h_data / q
    reach = 1.5 * float(couplings.max()) + h_data
    tail = _kernel_reach_hz(broadening_fwhm_hz, shape, h_data)
    if tail is None:  # Lorentzian wings: the whole axis
        lo = min(freq.min(), offset_hz - reach)
        hi = max(freq.max(), offset_hz + reach)
    else:  # nothing beyond the pattern and the kernel's reach: a grid over that only
        lo, hi = offset_hz - reach - tail, offset_hz + reach + tail
    origin = freq.min()
    k_lo = int(math.floor((lo - origin) / h)) - 1
    k_hi = int(math.ceil((hi - origin) / h)) + 1
    if k_hi - k_lo > _MAX_GRID:
        raise ParameterError(
            "pake_lineshape: the broadening is too narrow for the span of the pattern "
            f"({k_hi - k_lo} grid points); raise broadening_fwhm_hz or coarsen the axis"
        )
    grid = origin + h * np.arange(k_lo, k_hi + 1)
    edges = np.append(grid - 0.5 * h, grid[-1] + 0.5 * h) - offset_hz
    mass = np.zeros(grid.size)
    index = np.arange(grid.size)
    for d, weight in zip(couplings, w, strict=True):
        # each bin's exact mass, split between its point and the neighbour on the side of its
        # centroid so that the first moment is kept too: second-order accurate near the horns
        m, moment = _pake_bins(edges, float(d))
        with np.errstate(invalid="ignore", divide="ignore"):
            shift = np.where(m > 0, moment / np.where(m > 0, m, 1.0) - (grid - offset_hz), 0.0) / h
        shift = np.clip(shift, -0.5, 0.5)
        side = np.clip(index + np.sign(shift).astype(int), 0, grid.size - 1)
        mass += weight * np.bincount(index, m * (1.0 - np.abs(shift)), minlength=grid.size)
        mass += weight * np.bincount(side, m * np.abs(shift), minlength=grid.size)
    if broadening_fwhm_hz > 0:
        span = grid.size if tail is None else int(math.ceil(tail / h))
        kernel_edges = h * (np.arange(-span, span + 2) - 0.5)
        kernel = np.diff(_kernel_cdf(kernel_edges, broadening_fwhm_hz, shape))
        mass = signal.fftconvolve(mass, kernel, mode="full")[span : span + grid.size]
    pick = np.rint((freq - origin) / h).astype(int) - k_lo
    inside = (pick >= 0) & (pick < grid.size)
    out = np.zeros(freq.size)
    out[inside] = mass[pick[inside]] / h
    return out


def _kernel_reach_hz(fwhm_hz: float, shape: str, step_hz: float) -> float | None:
    """Offset beyond which the kernel is negligible (< 1e-15 of its mass for a Gaussian, eight
    standard deviations); None for a Lorentzian, whose wings reach across any axis."""
    if fwhm_hz <= 0:
        return step_hz
    if shape == "gaussian":
        return 8.0 * fwhm_hz / (2.0 * math.sqrt(2.0 * math.log(2.0))) + step_hz
    if shape == "lorentzian":
        return None
    raise ParameterError(f"unknown broadening shape {shape!r} (known: {', '.join(SHAPES)})")


def pake_powder_average(
    frequency_hz: np.ndarray,
    coupling_hz: float,
    *,
    broadening_fwhm_hz: float,
    shape: str = "gaussian",
    n_orientations: int = 20000,
    offset_hz: float = 0.0,
) -> np.ndarray:
    """Numerical orientation average (slow reference for :func:`pake_lineshape`).

    Orientations are taken at midpoints of a uniform grid in cos(theta) (uniform on the sphere);
    each contributes two lines at +-(3/4) d (3 cos^2 theta - 1), each broadened by the kernel
    evaluated at the axis points. Cost grows as n_orientations * len(frequency_hz).
    """
    freq = np.asarray(frequency_hz, dtype=float) - offset_hz
    u = (np.arange(n_orientations) + 0.5) / n_orientations
    lines = 0.75 * coupling_hz * (3.0 * u**2 - 1.0)
    out = np.zeros(freq.size)
    block = max(1, 2_000_000 // max(freq.size, 1))
    for start in range(0, n_orientations, block):
        part = lines[start : start + block, None]
        out += broadening_kernel(freq[None, :] - part, broadening_fwhm_hz, shape).sum(axis=0)
        out += broadening_kernel(freq[None, :] + part, broadening_fwhm_hz, shape).sum(axis=0)
    return out / (2.0 * n_orientations)


def van_vleck_second_moment(
    distances_angstrom: Sequence[float] | np.ndarray, nucleus: str = "1H"
) -> float:
    """Powder second moment M2 (rad^2/s^2) of one spin coupled to like spins at the given
    distances: (3/5) (mu0/4pi)^2 gamma^4 hbar^2 I(I+1) sum r^-6."""
    r_m = np.asarray(distances_angstrom, dtype=float) * _M_PER_ANGSTROM
    if r_m.size == 0 or np.any(r_m <= 0):
        raise ParameterError("van_vleck_second_moment needs positive distances")
    data = nucleus_data(nucleus)
    coupling = _MU0_OVER_4PI**2 * data.gamma_rad_s_t**4 * constants.hbar**2
    return 0.6 * coupling * data.spin_factor * float(np.sum(r_m**-6.0))


def second_moment_gaussian_fwhm_hz(second_moment_rad2_s2: float) -> float:
    """FWHM (Hz) of the Gaussian with second moment M2 (rad^2/s^2): 2 sqrt(2 ln2 M2) / 2pi."""
    return 2.0 * math.sqrt(2.0 * math.log(2.0) * second_moment_rad2_s2) / (2.0 * math.pi)
