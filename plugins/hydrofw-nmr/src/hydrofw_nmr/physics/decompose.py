"""``nmr.decompose``: every 1H FID as metal hydride + molecular H2 (+ a broad precursor line).

Each time-domain row is fitted in the time domain (:mod:`.decompose_fit`) as a narrow
Lorentzian line (the metal hydride), two exact Pake powder doublets with one Gaussian
broadening (H2: intramolecular r_n, intermolecular r_nn, free weights) and an optional broad
Gaussian (precursor LaH3), with one shared zero-order phase and the time origin of the
acquisition (Bruker digital-filter group delay, or the top of a one-sided echo). The model is
sampled as the console sampled the signal (:mod:`.fid_model`): brick-wall band limit for a
digital filter, aliasing for an analog one. Points before ``dead_time_us`` are left out and the
model extrapolates across them.

Fit stages, all batched over the rows of one acquisition shape: hydride width grid and phase;
every component with the distances held at ``nominal_distances_angstrom``; a component whose
amplitude is below ``detect_sigma`` standard errors is held at its nominal shape (its amplitude
stays free: an undetected H2 is reported as an amplitude consistent with 0, never dropped);
where H2 is detected, a grid over (r_n, r_nn) and a fit with free distances. Amplitudes are the
component signals at t = 0 in the FID's units; divided by the tail noise sigma they are in
the units of ``snr_time`` (:func:`hydrofw_nmr.spectral.numerics.time_domain_snr`), the
quantity ``nmr.quantify`` counts spins with.

With a digital filter narrower than the H2 pattern (SW/2 below the r_n doublet's edge,
1.5 d(r_n), 427 kHz at 0.75 angstrom) most of that doublet is filtered away and what is left
lies next to the filter's edge, where a real filter departs from the brick-wall model: such
rows are flagged ``h2_beyond_band``: their H2 amount (and so the total 1H and the H2 fraction)
is not reported, being a guess of the filter model, and r_n is model-dependent. Analog
consoles alias the pattern instead, which the model reproduces exactly.

A row that is too short (fewer than ``min_points`` fitted points) or too noisy (total SNR
below ``min_snr``) gets NaN components and a flag, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import pyarrow as pa

from hydrofw.errors import ParameterError, ValidationError
from hydrofw.schema import empty

from ..spectral import echo as echo_mod
from ..spectral.batching import column_or, row_groups
from ..spectral.digital_filter import header_numbers, row_group_delays
from ..spectral.numerics import tail_noise_sigma
from ._table import arrays, table_from_rows, values
from .decompose_fit import (
    NONLINEAR,
    Problem,
    covariance,
    levenberg_marquardt,
    phase_start,
    pi_wrap,
)
from .dipolar import dipolar_coupling_hz
from .fid_model import COMPONENTS, Acquisition

__all__ = [
    "DecomposeParams",
    "decompose_table",
    "decompose_traces",
    "Decomposition",
    "ringdown_settle_points",
]

_OPTIONAL = ("h2", "broad")
_GRID_WIDTHS = 10
_GRID_DISTANCES = 7
_MAX_REL_DISTANCE_ERR = 0.05
#: a fitted distance closer than this (or 2 errors) to its search bound is not constrained
_BOUND_MARGIN_ANGSTROM = 0.002


def _pair(value: Any) -> tuple[float, float]:
    a, b = (float(v) for v in value)
    return (min(a, b), max(a, b))


def _components(value: Any) -> tuple[str, ...]:
    names = tuple(value)
    unknown = [n for n in names if n not in ("hydride", *_OPTIONAL)]
    if unknown or "hydride" not in names:
        raise ValueError(f"components must hold 'hydride' and any of 'h2', 'broad'; got {names!r}")
    return names


@attrs.frozen
class DecomposeParams:
    """Parameters of ``nmr.decompose`` (units in the names).

    ``components``: "hydride" plus any of "h2", "broad". ``filter``: "auto" (digital when the
    row has a digital-filter group delay, from ``group_delay_points`` or the raw Bruker header),
    "digital" or "analog". ``group_delay_points``: override of the rows' delay. ``echo``:
    "none" (FID, t = 0 at the group delay) or "top" (one-sided echo: t = 0 at its top).
    ``dead_time_us``: points earlier than this after t = 0 are not fitted.
    ``digital_transition_fraction``: full width (fraction of SW) of the digital filter's edge
    around SW/2, modelled as a raised cosine with aliasing beyond SW/2 (0: brick wall; a
    Kaiser-window FIR of 2G + 1 taps at the ADC rate with ~90 dB stop band: about
    82 / (2.285 x 2 pi x 2G), 0.038 for G = 76). ``analog_filter_poles``: order of a
    Butterworth analog receiver filter to model on an analog console (0: none; e.g. 6 for a
    Varian with fb = SW/2), its -3 dB frequency ``analog_filter_cutoff_fraction`` x SW.
    ``time_offset_us``: true time of the origin point after the pulse; None (default): 0, or
    with ``acquisition_delay_from_header`` on an analog console the header's acquisition delay
    (Varian ``rof2 + alfa``, us). That is off by default: the analog receiver filter delays
    the signal by about its own group delay (of order 1/fb), which offsets ``rof2 + alfa`` by
    an amount the header does not state; on the example campaign's Varian cell the header
    delay moved the 139La t = 0 amplitudes by +37 %, the first point as origin by -2 %.
    ``skip_origin_point``: on a digital console leave out a sample that falls on t = 0 (the
    decimation filter's response to the signal's onset, half a step whose height depends on
    where the ADC sampled the pulse's end). ``max_fit_points``: points fitted after the
    origin at most (the tail beyond only measures
    the noise). ``nominal_distances_angstrom``: (r_n, r_nn) held while
    H2 is not detected; ``r_n_bounds_angstrom``/``r_nn_bounds_angstrom``: search ranges.
    ``h2_fwhm_hz``/``broad_fwhm_hz``: start (and held) Gaussian widths, with bounds; the
    two H2 doublets start at ``h2_fwhm_hz`` and are broadened independently once H2 is found
    (intramolecular and intermolecular dipolar couplings are broadened by different
    neighbours: one shared width biased the H2 fraction extrapolated across a Varian dead
    time by -0.011 at a true 0.3), except where the r_n doublet lies beyond +-SW/2: there
    they share one width, and refits at other width ratios add that assumption's error.
    ``hydride_fwhm_max_hz``: upper bound of the narrow line's FWHM (None: a quarter of SW); a
    metal-hydride 1H line is 1-5 kHz wide, and without a bound a wide Lorentzian can take the
    place of the broad precursor line and extrapolate it wrongly to t = 0.
    ``detect_sigma``: amplitude / standard error above which H2 or the broad line counts as
    present. ``min_points``, ``min_snr``: below these a row is flagged too short / too noisy.
    ``ringdown_sigmas``, ``ringdown_max_points``: on an analog console (FIDs, not echoes) the
    first fitted point is left out, and the row refitted, while it lies more than
    ``ringdown_sigmas`` noise sigmas off the fit (probe ring-down past the dead time), at most
    ``ringdown_max_points`` times (0: never); such rows are flagged ``ringdown_points_dropped``.
    ``ringdown_settle_points``: on an analog FID whose first point lies a dead time after the
    pulse (``time_offset_us`` or the header's delay > 0) and whose line is too strong for the
    point-by-point check (5 % of its signal above ``ringdown_sigmas`` sigmas: a misfit of a
    strong line must not be taken for ring-down), the points after the dead time left out at
    least; None (default): as many as the modelled receiver filter needs to settle
    (:func:`ringdown_settle_points`). The receiver still sees the tail of the probe's
    ring-down through its filter, one or two sigmas per point: unseen under a strong line,
    enough to move an H2 fraction by 0.05 and more on a Varian cell (scatter 3x its errors).
    """

    components: tuple[str, ...] = attrs.field(
        default=("hydride", "h2", "broad"), converter=_components
    )
    filter: str = attrs.field(
        default="auto", validator=attrs.validators.in_(("auto", "digital", "analog"))
    )
    group_delay_points: float | None = None
    echo: str = attrs.field(default="none", validator=attrs.validators.in_(("none", "top")))
    dead_time_us: float = attrs.field(default=0.0, converter=float)
    time_offset_us: float | None = attrs.field(
        default=None, converter=lambda v: None if v is None else float(v)
    )
    acquisition_delay_from_header: bool = False
    skip_origin_point: bool = False
    digital_transition_fraction: float = attrs.field(default=0.0, converter=float)
    analog_filter_poles: int = attrs.field(default=0, converter=int)
    analog_filter_cutoff_fraction: float = attrs.field(default=0.5, converter=float)
    conjugate: bool = False
    tail_fraction: float = attrs.field(default=0.25, converter=float)
    max_fit_points: int = attrs.field(default=2048, converter=int)
    nominal_distances_angstrom: tuple[float, float] = attrs.field(
        default=(0.75, 1.24), converter=lambda v: tuple(float(x) for x in v)
    )
    r_n_bounds_angstrom: tuple[float, float] = attrs.field(default=(0.70, 0.85), converter=_pair)
    r_nn_bounds_angstrom: tuple[float, float] = attrs.field(default=(1.0, 1.6), converter=_pair)
    hydride_fwhm_max_hz: float | None = attrs.field(
        default=None, converter=lambda v: None if v is None else float(v)
    )
    h2_fwhm_hz: float = attrs.field(default=10e3, converter=float)
    h2_fwhm_bounds_hz: tuple[float, float] = attrs.field(default=(2e3, 60e3), converter=_pair)
    broad_fwhm_hz: float = attrs.field(default=45e3, converter=float)
    broad_fwhm_bounds_hz: tuple[float, float] = attrs.field(default=(15e3, 150e3), converter=_pair)
    detect_sigma: float = attrs.field(default=3.0, converter=float)
    min_points: int = attrs.field(default=32, converter=int)
    ringdown_sigmas: float = attrs.field(default=3.0, converter=float)
    ringdown_max_points: int = attrs.field(default=8, converter=int)
    ringdown_settle_points: int | None = attrs.field(
        default=None, converter=lambda v: None if v is None else int(v)
    )
    min_snr: float = attrs.field(default=5.0, converter=float)
    max_iter: int = attrs.field(default=100, converter=int)

    def __attrs_post_init__(self) -> None:
        if self.dead_time_us < 0:
            raise ValueError("dead_time_us must be >= 0")
        if not 0 < self.tail_fraction <= 0.5:
            raise ValueError("tail_fraction must be in (0, 0.5]")
        if self.max_fit_points < 16 or self.min_points < 8:
            raise ValueError("max_fit_points must be >= 16 and min_points >= 8")
        if self.ringdown_max_points < 0 or self.ringdown_sigmas <= 0:
            raise ValueError("ringdown_max_points must be >= 0 and ringdown_sigmas > 0")
        if self.ringdown_settle_points is not None and self.ringdown_settle_points < 0:
            raise ValueError("ringdown_settle_points must be >= 0")
        r_n, r_nn = self.nominal_distances_angstrom
        if not (
            self.r_n_bounds_angstrom[0] <= r_n <= self.r_n_bounds_angstrom[1]
            and self.r_nn_bounds_angstrom[0] <= r_nn <= self.r_nn_bounds_angstrom[1]
        ):
            raise ValueError("nominal_distances_angstrom must lie inside their bounds")
        for value, bounds, name in (
            (self.h2_fwhm_hz, self.h2_fwhm_bounds_hz, "h2_fwhm_hz"),
            (self.broad_fwhm_hz, self.broad_fwhm_bounds_hz, "broad_fwhm_hz"),
        ):
            if not 0 < bounds[0] <= value <= bounds[1]:
                raise ValueError(f"{name} must be positive and inside its bounds")


@attrs.frozen
class Decomposition:
    """Results for a batch of traces (arrays over the batch; NaN where not determined)."""

    theta: np.ndarray  #: (B, 9) nonlinear parameters, order of ``decompose_fit.NONLINEAR``
    coef: np.ndarray  #: (B, 6) amplitudes (hydride, h2_n, h2_nn, broad) and receiver offset
    cov: np.ndarray  #: (B, 15, 15) covariance of (theta, coef)
    sigma: np.ndarray  #: (B,) noise sigma per channel (data less the fit, signal-free points)
    tail_points: np.ndarray  #: (B,) points the sigma was measured on
    reduced_chi2: np.ndarray
    n_fitted: np.ndarray
    held: np.ndarray  #: (B, 9) parameters not fitted
    flags: list[list[str]]


# ------------------------------------------------------------------------------- fitting
def _hydride_fwhm_max_hz(p: DecomposeParams, sw_hz: float) -> float:
    """Upper bound of the narrow line's FWHM: a quarter of SW, or ``hydride_fwhm_max_hz``."""
    limit = 0.25 * sw_hz
    return limit if p.hydride_fwhm_max_hz is None else min(limit, p.hydride_fwhm_max_hz)


def _bounds(p: DecomposeParams, sw_hz: float, b: int) -> tuple[np.ndarray, np.ndarray]:
    lower = [
        -0.5 * sw_hz,
        1.0,
        p.h2_fwhm_bounds_hz[0],
        p.broad_fwhm_bounds_hz[0],
        p.r_n_bounds_angstrom[0],
        p.r_nn_bounds_angstrom[0],
        -np.inf,
        -0.5 * sw_hz,
        p.h2_fwhm_bounds_hz[0],
    ]
    upper = [
        0.5 * sw_hz,
        _hydride_fwhm_max_hz(p, sw_hz),
        p.h2_fwhm_bounds_hz[1],
        p.broad_fwhm_bounds_hz[1],
        p.r_n_bounds_angstrom[1],
        p.r_nn_bounds_angstrom[1],
        np.inf,
        0.5 * sw_hz,
        p.h2_fwhm_bounds_hz[1],
    ]
    return np.tile(lower, (b, 1)), np.tile(upper, (b, 1))


def _amplitude_errors(cov: np.ndarray, parts: Sequence[int]) -> np.ndarray:
    """Standard error of the sum of the amplitudes ``parts`` (indices into the coefficients)."""
    k = len(NONLINEAR)
    idx = [k + i for i in parts]
    block = cov[:, idx][:, :, idx]
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.clip(block.sum(axis=(1, 2)), 0.0, None))


def _starts(prob: Problem, p: DecomposeParams, sw_hz: float, n_fit: np.ndarray) -> np.ndarray:
    """Offset from the spectrum's peak, hydride width from a grid, phase of the hydride line."""
    b, n = prob.data.shape
    size = 1 << int(math.ceil(math.log2(4 * n)))
    spec = np.abs(np.fft.fftshift(np.fft.fft(prob.data * (prob.weight > 0), size, axis=1), 1))
    freq = (np.arange(size) - size // 2) * (sw_hz / size)
    theta = np.zeros((b, len(NONLINEAR)))
    theta[:, 0] = freq[np.argmax(spec, axis=1)]
    theta[:, 2], theta[:, 3], theta[:, 8] = p.h2_fwhm_hz, p.broad_fwhm_hz, p.h2_fwhm_hz
    theta[:, 4], theta[:, 5] = p.nominal_distances_angstrom
    only_hydride = attrs.evolve(prob, active=np.zeros_like(prob.active))
    only_hydride.active[:, 0] = True
    lo = np.maximum(sw_hz / np.maximum(n_fit, 1) / 4.0, 2.0)
    best_cost = np.full(b, np.inf)
    best_w = lo.copy()
    hi = min(0.125 * sw_hz, _hydride_fwhm_max_hz(p, sw_hz))
    lo = np.minimum(lo, 0.5 * hi)
    for frac in np.linspace(0.0, 1.0, _GRID_WIDTHS):
        w = lo * (hi / lo) ** frac
        trial = theta.copy()
        trial[:, 1] = w
        trial[:, 6] = phase_start(only_hydride, trial)
        _, _, cost = only_hydride.project(
            trial,
            only_hydride.columns(trial, ("hydride",))
            | {c: np.zeros_like(prob.data) for c in COMPONENTS[1:]},
        )
        better = cost < best_cost
        best_cost = np.where(better, cost, best_cost)
        best_w = np.where(better, w, best_w)
    theta[:, 1] = best_w
    theta[:, 6] = phase_start(only_hydride, theta)
    theta[:, 7] = theta[:, 0]  # H2 starts at the hydride's offset
    return theta


def _significance(
    prob: Problem, theta: np.ndarray, coef: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Amplitude / error of H2 (both doublets) and of the broad line, shapes held."""
    cov, _, _ = covariance(prob, theta, coef, np.zeros_like(theta, bool))
    with np.errstate(invalid="ignore", divide="ignore"):
        z_h2 = (coef[:, 1] + coef[:, 2]) / _amplitude_errors(cov, (1, 2))
        z_broad = coef[:, 3] / _amplitude_errors(cov, (3,))
    return np.nan_to_num(z_h2), np.nan_to_num(z_broad)


def _distance_grid(prob: Problem, theta: np.ndarray, p: DecomposeParams) -> np.ndarray:
    """Best (r_n, r_nn) of a grid for every trace, the other parameters kept."""
    b = theta.shape[0]
    grids = [
        np.linspace(*p.r_n_bounds_angstrom, _GRID_DISTANCES),
        np.linspace(*p.r_nn_bounds_angstrom, _GRID_DISTANCES),
    ]
    base = prob.columns(theta)
    cols_n, cols_nn = [], []
    for r in grids[0]:
        trial = theta.copy()
        trial[:, 4] = r
        cols_n.append(prob.columns(trial, ("h2_n",))["h2_n"])
    for r in grids[1]:
        trial = theta.copy()
        trial[:, 5] = r
        cols_nn.append(prob.columns(trial, ("h2_nn",))["h2_nn"])
    best = np.full(b, np.inf)
    out = theta[:, 4:6].copy()
    for i, cn in enumerate(cols_n):
        for j, cnn in enumerate(cols_nn):
            _, _, cost = prob.project(theta, base | {"h2_n": cn, "h2_nn": cnn})
            better = cost < best
            best = np.where(better, cost, best)
            out[better] = (grids[0][i], grids[1][j])
    return out


def _at_bound(r: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """Distances within ``_BOUND_MARGIN_ANGSTROM`` of either search bound."""
    return (r < bounds[0] + _BOUND_MARGIN_ANGSTROM) | (r > bounds[1] - _BOUND_MARGIN_ANGSTROM)


def _fit_batch(
    prob: Problem, p: DecomposeParams, sw_hz: float, n_fit: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stages of the module docstring; returns theta, coefficients, held mask, converged."""
    b = prob.data.shape[0]
    lower, upper = _bounds(p, sw_hz, b)
    theta = np.clip(_starts(prob, p, sw_hz, n_fit), lower, upper)
    free = np.zeros_like(theta, bool)
    free[:, [0, 1, 6]] = True  # optional components: amplitudes free, shapes nominal
    theta[:, 7] = theta[:, 0]
    state = levenberg_marquardt(prob, theta, free, lower, upper, max_iter=p.max_iter)
    theta, coef, converged = state.theta, state.coef, state.converged
    z_h2, z_broad = _significance(prob, theta, coef)
    h2_found = prob.active[:, 1] & (z_h2 > p.detect_sigma)
    broad_found = prob.active[:, 3] & (z_broad > p.detect_sigma)
    free[:, 2], free[:, 3], free[:, 7] = h2_found, broad_found, h2_found
    free[:, 8] = h2_found & (not prob.tied_widths)
    found = np.flatnonzero(h2_found | broad_found)
    _refine(prob, p, theta, coef, converged, free, lower, upper, found)
    # a precursor line has no negative amplitude: a free-shape broad Gaussian that came out
    # below 0 traded itself against the H2 doublets (folded into a narrow window on an
    # analog console); hold it at its nominal shape and fit the row again
    negative = free[:, 3] & (coef[:, 3] < 0)
    free[negative, 3] = False
    theta[negative, 3] = p.broad_fwhm_hz
    _refine(prob, p, theta, coef, converged, free, lower, upper, np.flatnonzero(negative))
    # distances pinned at a search bound are a wrong basin (the H2 amplitudes with them: an H2
    # fraction of 0.005 against 0.5 on a 250 kHz analog window): hold them at the nominal pair
    pinned = free[:, 4] & (
        _at_bound(theta[:, 4], p.r_n_bounds_angstrom)
        | _at_bound(theta[:, 5], p.r_nn_bounds_angstrom)
    )
    free[pinned, 4:6] = False
    theta[pinned, 4:6] = p.nominal_distances_angstrom
    rows = np.flatnonzero(pinned)
    _refine(prob, p, theta, coef, converged, free, lower, upper, rows, search_distances=False)
    theta[:, 6] = pi_wrap(theta[:, 6])
    return theta, coef, ~free, converged


def _refine(
    prob: Problem,
    p: DecomposeParams,
    theta: np.ndarray,
    coef: np.ndarray,
    converged: np.ndarray,
    free: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    rows: np.ndarray,
    *,
    search_distances: bool = True,
) -> None:
    """Fit ``rows`` again with their ``free`` parameters; with ``search_distances``, where H2
    is free, a (r_n, r_nn) grid and a fit with free distances, kept when it lowers the cost.
    Updates the arrays in place."""
    if not rows.size:
        return
    again = levenberg_marquardt(
        prob.rows(rows), theta[rows], free[rows], lower[rows], upper[rows], max_iter=p.max_iter
    )
    theta[rows], coef[rows], converged[rows] = again.theta, again.coef, again.converged
    if not search_distances:
        return
    rows = rows[free[rows, 2]]
    if not rows.size:
        return
    sub = prob.rows(rows)
    start = theta[rows].copy()
    start[:, 4:6] = _distance_grid(sub, start, p)
    free_b = free[rows].copy()
    free_b[:, 4:6] = True
    fit_b = levenberg_marquardt(sub, start, free_b, lower[rows], upper[rows], max_iter=p.max_iter)
    _, _, cost_a = sub.project(theta[rows], sub.columns(theta[rows]))
    better = fit_b.converged & (fit_b.cost <= cost_a * (1.0 + 1e-9))
    keep = rows[better]
    theta[keep], coef[keep], converged[keep] = (
        fit_b.theta[better],
        fit_b.coef[better],
        fit_b.converged[better],
    )
    free[keep, 4:6] = True


def _r_n_doublet_beyond_band(p: DecomposeParams, sw_hz: float) -> bool:
    """The nominal r_n doublet's edge, 1.5 d(r_n) (427 kHz at 0.75 angstrom), lies beyond
    +-SW/2: filtered away by a digital console, folded into the window by an analog one."""
    return 0.5 * sw_hz < 1.5 * float(dipolar_coupling_hz(p.nominal_distances_angstrom[0]))


#: the r_nn doublet's width over the r_n doublet's, tried where the data cannot tell them apart
_TIED_WIDTH_RATIOS = (0.5, 2.0)


def _tied_width_systematic(
    prob: Problem,
    p: DecomposeParams,
    sw_hz: float,
    theta: np.ndarray,
    coef: np.ndarray,
    held: np.ndarray,
) -> np.ndarray:
    """Covariance (B, 15, 15) to add where both doublets share one width (``prob.tied_widths``)
    and H2 was found: each row is refitted with the r_nn doublet's width held at
    ``_TIED_WIDTH_RATIOS`` times the r_n doublet's, and the mean outer product of the shifts of
    (theta, amplitudes) is the systematic error of the assumption that the widths are equal
    (the TecMag cell's r_n came out with errors 5-10x smaller than its scatter without it)."""
    k = len(NONLINEAR)
    out = np.zeros((theta.shape[0], k + 6, k + 6))
    rows = np.flatnonzero(~held[:, 2] & np.all(np.isfinite(coef), axis=1))
    if not rows.size:
        return out
    untied = attrs.evolve(prob.rows(rows), tied_widths=False)
    lower, upper = _bounds(p, sw_hz, rows.size)
    free = ~held[rows]
    for ratio in _TIED_WIDTH_RATIOS:
        start = theta[rows].copy()
        start[:, 8] = np.clip(ratio * start[:, 2], lower[:, 8], upper[:, 8])
        fit = levenberg_marquardt(untied, start, free, lower, upper, max_iter=p.max_iter)
        shift = np.concatenate([fit.theta - theta[rows], fit.coef - coef[rows]], axis=1)
        shift[:, 8] = 0.0
        shift = np.where(np.isfinite(shift) & fit.converged[:, None], shift, 0.0)
        out[rows] += np.einsum("bi,bj->bij", shift, shift) / len(_TIED_WIDTH_RATIOS)
    return out


#: the first fitted points of an analog FID checked for probe ring-down
_RINGDOWN_WINDOW = 4
#: a disturbance has settled once the receiver filter's slowest mode fell by this factor
_SETTLE_FACTOR = 30.0


def ringdown_settle_points(p: DecomposeParams, dwell_s: float) -> int:
    """Points after the dead time left out of an analog FID: ``p.ringdown_settle_points`` when
    given, else the dwell times the modelled Butterworth filter (``analog_filter_poles`` poles,
    -3 dB at ``analog_filter_cutoff_fraction`` x SW) takes to settle: its slowest pole pair
    decays at 2 pi f_c sin(pi / 2n) per second, and a ring-down of up to ~10 sigmas at the
    first point is below a third of a sigma after a fall by ``_SETTLE_FACTOR`` (5 points for
    6 poles at f_c = SW/2). 0 when no filter is modelled."""
    if p.ringdown_settle_points is not None:
        return p.ringdown_settle_points
    if p.analog_filter_poles <= 0:
        return 0
    cutoff_hz = p.analog_filter_cutoff_fraction / dwell_s
    rate_per_s = 2.0 * math.pi * cutoff_hz * math.sin(math.pi / (2 * p.analog_filter_poles))
    return int(math.ceil(math.log(_SETTLE_FACTOR) / (rate_per_s * dwell_s)))


#: a point is ring-down only when it is off the fit by more than this share of the signal too
_RINGDOWN_SIGNAL_FRACTION = 0.05
#: the model's signal below this many noise sigmas counts as signal-free for the noise estimate
_QUIET_SIGMAS = 0.5


def residual_noise_sigma(
    prob: Problem,
    theta: np.ndarray,
    coef: np.ndarray,
    sigma0: np.ndarray,
    first: np.ndarray,
    tail_points: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Noise sigma per channel of the data less the fitted model, and the complex points used.

    The points used are those from ``first`` on where the fitted signal is below
    ``_QUIET_SIGMAS`` times the first (tail) estimate ``sigma0``, and the last ``tail_points``:
    the fitted signal is subtracted, so a line still ringing in the tail (a 1H line at SNR 600
    is one sigma high after 6 T2*) no longer inflates sigma and deflates every SNR, and a
    broad line that has decayed in the first tenth of the trace (139La) gives the noise of
    nine tenths of it, not of the last quarter. A misfit cannot leak in: where the signal is
    below half a sigma a misfit of a few % of it is far below the noise. Rows without a finite
    fit keep ``sigma0``."""
    signal, resid = _model_and_residual(prob, theta, coef)
    n = prob.data.shape[1]
    idx = np.arange(n)[None, :]
    after = idx >= np.asarray(first)[:, None]
    quiet = np.abs(signal) < _QUIET_SIGMAS * np.asarray(sigma0)[:, None]
    use = after & (quiet | (idx >= n - np.asarray(tail_points)[:, None]))
    m = use.sum(axis=1)
    power = np.einsum("bn,bn->b", np.where(use, resid.real, 0.0), np.where(use, resid.real, 0.0))
    power += np.einsum("bn,bn->b", np.where(use, resid.imag, 0.0), np.where(use, resid.imag, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.sqrt(power / (2.0 * np.maximum(m - 1, 1)))
    ok = np.isfinite(sigma) & (sigma > 0) & (m >= 2) & np.all(np.isfinite(coef), axis=1)
    return np.where(ok, sigma, sigma0), np.where(ok, m, tail_points)


def _model_and_residual(
    prob: Problem, theta: np.ndarray, coef: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The fitted components' signal (B, N) and the data less signal and receiver offset, both
    in the frame rotated by the fitted phase (the data's units)."""
    cols = prob.columns(theta)
    signal = np.zeros_like(prob.data)
    for j, name in enumerate(COMPONENTS):
        signal += np.where(prob.active[:, j : j + 1], coef[:, j, None] * cols[name], 0.0)
    rotated = prob.data * np.exp(-1j * theta[:, NONLINEAR.index("phase_rad")])[:, None]
    return signal, rotated - signal - (coef[:, 4] + 1j * coef[:, 5])[:, None]


def _drop_ringdown(
    prob: Problem,
    whole: Problem,
    p: DecomposeParams,
    sw_hz: float,
    sigma: np.ndarray,
    start: np.ndarray,
    n_fit: np.ndarray,
    fit: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    settle: int = 0,
) -> np.ndarray:
    """Leave out the first fitted points of a row, through the last of the first
    ``_RINGDOWN_WINDOW`` that sits more than ``ringdown_sigmas`` noise sigmas and 5 % of the
    fitted signal off the fit (probe
    ring-down after the dead time, smeared over a few points by the receiver filter; no line
    shape describes it and it pulls the t = 0 extrapolation and the line's frequency), refitting
    the row each time, at most ``ringdown_max_points`` points in all. A row whose line is too
    strong for that check (5 % of its signal at the first fitted point above
    ``ringdown_sigmas`` sigmas) then leaves out at least ``settle`` points from ``start``:
    the filter's settling points, where the ring-down's tail can sit unseen. ``fit`` (theta,
    coef, held, converged) is updated in place; returns the points dropped per row."""
    theta, coef, held, converged = fit
    dropped = np.zeros(len(start), int)
    first = np.asarray(start, int).copy()
    window = np.arange(_RINGDOWN_WINDOW)

    def leave_out(rows: np.ndarray, step: np.ndarray) -> None:
        """Move the first fitted point of ``rows`` on by ``step`` and fit them again."""
        first[rows] += step[rows]
        dropped[rows] += step[rows]
        sub = prob.rows(rows)
        keep = np.arange(sub.data.shape[1])[None, :] >= first[rows, None]
        sub = attrs.evolve(sub, weight=np.where(keep, sub.weight, 0.0))
        th, cf, hold, conv = _fit_batch(sub, p, sw_hz, n_fit[rows] - dropped[rows])
        theta[rows], coef[rows], held[rows], converged[rows] = th, cf, hold, conv

    while True:
        signal, resid = _model_and_residual(whole, theta, coef)
        idx = np.minimum(first[:, None] + window[None, :], resid.shape[1] - 1)
        # ring-down is a fixed few sigmas whatever the signal; a misfit of a strong line (H2 at
        # SNR 300 in the first points of a narrow analog window) grows with it and is kept
        limit = np.maximum(
            p.ringdown_sigmas * sigma[:, None],
            _RINGDOWN_SIGNAL_FRACTION * np.abs(np.take_along_axis(signal, idx, axis=1)),
        )
        off = np.abs(np.take_along_axis(resid, idx, axis=1)) > limit
        last = np.where(off.any(axis=1), _RINGDOWN_WINDOW - 1 - np.argmax(off[:, ::-1], axis=1), -1)
        step = np.minimum(last + 1, p.ringdown_max_points - dropped)
        ringing = (step > 0) & (n_fit - dropped - step >= p.min_points)
        ringing &= np.all(np.isfinite(coef), axis=1)
        if not ringing.any():
            break
        leave_out(np.flatnonzero(ringing), step)
    # ``signal`` is the model of the fit that ended the loop
    at_first = np.abs(signal[np.arange(len(first)), np.minimum(first, signal.shape[1] - 1)])
    blind = _RINGDOWN_SIGNAL_FRACTION * at_first > p.ringdown_sigmas * sigma
    step = np.minimum(settle - dropped, n_fit - dropped - p.min_points)
    settling = blind & (step > 0) & np.all(np.isfinite(coef), axis=1)
    if settling.any():
        leave_out(np.flatnonzero(settling), step)
    return dropped


def decompose_traces(
    data: np.ndarray,
    dwell_s: float,
    origin: np.ndarray,
    params: DecomposeParams | None = None,
    *,
    digital: bool,
    first_fitted: np.ndarray | None = None,
) -> Decomposition:
    """Decompose B complex traces (B, N) sharing ``dwell_s``; ``origin`` (B,) is the fractional
    index of t = 0 (group delay, echo top). ``first_fitted`` (B,) overrides the first fitted
    index (default: the first point at or after the dead time)."""
    p = params or DecomposeParams()
    data = np.asarray(data, complex)
    b, n_total = data.shape
    origin = np.asarray(origin, float)
    sw_hz = 1.0 / dwell_s
    sigma = tail_noise_sigma(data, p.tail_fraction)
    tail_points = np.full(b, min(n_total, max(2, int(round(n_total * p.tail_fraction)))))
    offset_s = (p.time_offset_us or 0.0) * 1e-6
    if first_fitted is None:
        first = origin + (max(p.dead_time_us * 1e-6, 0.0) - offset_s) / dwell_s
        if digital and p.skip_origin_point:  # the sample at t = 0 holds the onset's half-step
            first = np.maximum(first, origin + 0.5)
        first_fitted = np.ceil(np.maximum(first, origin - offset_s / dwell_s) - 1e-9)
    start = np.clip(np.asarray(first_fitted, float), 0, n_total).astype(int)
    stop = np.minimum(n_total, start + p.max_fit_points)
    n_points = int(stop.max()) if b else 0
    idx = np.arange(n_points)
    fitted = (idx[None, :] >= start[:, None]) & (idx[None, :] < stop[:, None])
    n_fit = fitted.sum(axis=1)
    flags: list[list[str]] = [[] for _ in range(b)]
    k = len(NONLINEAR)
    theta = np.full((b, k), np.nan)
    coef = np.full((b, 6), np.nan)
    cov = np.full((b, k + 6, k + 6), np.nan)
    red = np.full(b, np.nan)
    held = np.ones((b, k), bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        rough_snr = np.abs(data[np.arange(b), np.clip(start, 0, n_total - 1)]) / sigma
    good = np.ones(b, bool)
    for i in range(b):
        if n_fit[i] < p.min_points:
            flags[i].append("too_short")
            good[i] = False
        elif not (np.isfinite(sigma[i]) and sigma[i] > 0 and np.all(np.isfinite(data[i]))):
            flags[i].append("no_noise_estimate")
            good[i] = False
    active = np.zeros((b, 4), bool)
    active[:, 0] = True
    active[:, 1] = active[:, 2] = "h2" in p.components
    active[:, 3] = "broad" in p.components
    rows = np.flatnonzero(good)
    if rows.size:
        weight = np.where(fitted[rows], 1.0 / sigma[rows, None], 0.0)
        reach = 1.5 * 120.12e3 / p.r_n_bounds_angstrom[0] ** 3 + 5.0 * max(
            p.h2_fwhm_bounds_hz[1], p.broad_fwhm_bounds_hz[1] if "broad" in p.components else 0
        )

        def plan(n: int) -> Acquisition:
            return Acquisition.plan(
                n,
                dwell_s,
                origin[rows],
                digital=digital,
                time_offset_s=offset_s,
                reach_hz=reach,
                analog_poles=0 if digital else p.analog_filter_poles,
                transition_hz=p.digital_transition_fraction * sw_hz if digital else 0.0,
                analog_cutoff_hz=p.analog_filter_cutoff_fraction * sw_hz,
                min_short_fwhm_hz=min(p.h2_fwhm_bounds_hz[0], p.broad_fwhm_bounds_hz[0]),
            )

        # two widths need the doublets resolved in time: with the r_n doublet beyond +-SW/2
        # (folded into an analog window, or filtered away) the points cannot tell them apart
        tied = _r_n_doublet_beyond_band(p, sw_hz)
        prob = Problem(plan(n_points), data[rows, :n_points], weight, active[rows], tied)
        whole = Problem(
            plan(n_total), data[rows], np.zeros((rows.size, n_total)), active[rows], tied
        )
        with np.errstate(all="ignore"):
            th, cf, hold, conv = _fit_batch(prob, p, sw_hz, n_fit[rows])
            if not digital and p.echo == "none":
                # the tail of a short FID can still hold the line: judge ring-down against
                # the noise of the data less this first fit
                fit_sigma, _ = residual_noise_sigma(
                    whole, th, cf, sigma[rows], start[rows], tail_points[rows]
                )
                dropped = _drop_ringdown(
                    prob,
                    whole,
                    p,
                    sw_hz,
                    fit_sigma,
                    start[rows],
                    n_fit[rows],
                    (th, cf, hold, conv),
                    ringdown_settle_points(p, dwell_s) if offset_s > 0 else 0,
                )
                for j in np.flatnonzero(dropped):
                    flags[rows[j]].append("ringdown_points_dropped")
                start[rows] += dropped
                n_fit[rows] -= dropped
                prob = attrs.evolve(
                    prob,
                    weight=np.where(
                        np.arange(n_points)[None, :] >= start[rows, None], prob.weight, 0.0
                    ),
                )
            cv, chi2, dof = covariance(prob, th, cf, ~hold)
            if tied:
                cv += _tied_width_systematic(prob, p, sw_hz, th, cf, hold)
            sigma[rows], tail_points[rows] = residual_noise_sigma(
                whole, th, cf, sigma[rows], start[rows], tail_points[rows]
            )
        if tied:  # the r_nn doublet's width is the r_n doublet's (its error in that column)
            th[:, 8] = th[:, 2]
        theta[rows], coef[rows], cov[rows], held[rows] = th, cf, cv, hold
        red[rows] = np.where(dof > 0, chi2 / np.maximum(dof, 1), np.nan)
        estimated = np.concatenate([~hold, active[rows], np.ones((rows.size, 2), bool)], 1)
        finite = np.all(np.isfinite(np.einsum("bii->bi", cv)) | ~estimated, axis=1)
        for j in np.flatnonzero(~(conv & finite)):
            flags[rows[j]].append("fit_failed")
    total = (
        coef[:, 0]
        + np.where(active[:, 1], coef[:, 1] + coef[:, 2], 0.0)
        + np.where(active[:, 3], coef[:, 3], 0.0)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        noisy = good & ~(np.abs(total) / sigma >= p.min_snr) & np.isfinite(rough_snr)
    for i in np.flatnonzero(noisy):
        flags[i].append("too_noisy")
    failed = ~good | noisy
    theta[failed], coef[failed], cov[failed] = np.nan, np.nan, np.nan
    return Decomposition(theta, coef, cov, sigma, tail_points, red, n_fit, held, flags)


# ------------------------------------------------------------------------------- table
_PASSED_THROUGH = (
    "id",
    "cell",
    "campaign",
    "acquired_at",
    "days_since_synthesis",
    "nucleus",
    "n_scans",
)


def _row_time_offsets_us(table: pa.Table, p: DecomposeParams, digital: np.ndarray) -> np.ndarray:
    """Time (us) of each row's origin point after the pulse: ``time_offset_us`` when given,
    else the analog console's acquisition delay from the raw header (Varian ``rof2 + alfa``:
    the receiver opens ``rof2`` after the pulse and samples ``alfa`` later), 0 when absent."""
    if p.time_offset_us is not None:
        return np.full(table.num_rows, p.time_offset_us)
    if (
        not p.acquisition_delay_from_header
        or "parameters" not in table.column_names
        or p.echo == "top"  # t = 0 at the echo top
    ):
        return np.zeros(table.num_rows)
    try:
        h = header_numbers(table.column("parameters"), ("rof2", "alfa"))
    except ValidationError as exc:
        raise ValidationError(f"nmr.decompose: raw header: {exc}") from None
    delay = np.nan_to_num(h["rof2"], nan=0.0) + np.nan_to_num(h["alfa"], nan=0.0)
    return np.where(digital | ~(delay > 0) | ~np.isfinite(delay), 0.0, delay)


def decompose_table(table: pa.Table, p: DecomposeParams) -> pa.Table:
    """Process function of ``nmr.decompose``: one ``decomposition`` row per time-domain row."""
    if table.num_rows == 0:
        return empty("decomposition")
    domains = values(table, "domain")
    ids = values(table, "id")
    for i, d in enumerate(domains):
        if d != "time":
            raise ParameterError(
                f"nmr.decompose: spectrum row {str(ids[i])[:12]} is a {d}-domain row; "
                "it needs the raw FID (time domain)"
            )
    sw = column_or(table, "spectral_width_hz", np.nan)
    dwell = column_or(table, "dwell_s", np.nan)
    sw = np.where(np.isfinite(sw) & (sw > 0), sw, 1.0 / dwell)
    if not np.all(np.isfinite(sw) & (sw > 0)):
        bad = int(np.argmax(~(np.isfinite(sw) & (sw > 0))))
        raise ValidationError(
            f"nmr.decompose: spectrum row {str(ids[bad])[:12]} has neither spectral_width_hz "
            "nor dwell_s"
        )
    gd = row_group_delays(table, p.group_delay_points, "nmr.decompose")
    digital = gd > 0 if p.filter == "auto" else np.full(table.num_rows, p.filter == "digital")
    offsets_us = _row_time_offsets_us(table, p, digital)
    re, im = arrays(table, "re"), arrays(table, "im")
    out_rows: list[dict[str, Any] | None] = [None] * table.num_rows
    for index in row_groups(table, [sw, digital.astype(float), offsets_us]):
        p_group = attrs.evolve(p, time_offset_us=float(offsets_us[index[0]])) if index.size else p
        data = np.stack([re[i] + 1j * im[i] for i in index]) if index.size else None
        if data is None or data.shape[1] == 0:
            continue
        if p.conjugate:
            data = np.conj(data)
        origin = gd[index].copy()
        if p.echo == "top":
            top, frac = echo_mod.echo_top(
                data,
                search_from=int(math.floor(float(origin.min()))),
                group_delay=float(origin[0]) if origin[0] > 0 else None,
            )
            # a one-sided echo (acquired from its top, no filter delay): the point before the
            # top is noise, and a parabola through it would move t = 0 by up to half a point
            rows_ = np.arange(len(index))
            before = np.abs(data[rows_, np.maximum(top - 1, 0)])
            one_sided = (before < 0.5 * np.abs(data[rows_, top])) & (origin <= 0)
            origin = top + np.where(one_sided, 0.0, frac)
        res = decompose_traces(
            data, 1.0 / sw[index[0]], origin, p_group, digital=bool(digital[index[0]])
        )
        for j, i in enumerate(index):
            out_rows[i] = _row(table, i, res, j, p_group, float(sw[i]), bool(digital[i]), origin[j])
    rows = [r for r in out_rows if r is not None]
    return table_from_rows(rows) if rows else empty("decomposition")


def _err(var: float) -> float:
    return math.sqrt(var) if var >= 0 else math.nan


def _ratio(
    top: float, bottom: float, g_top: np.ndarray, g_bottom: np.ndarray, cov: np.ndarray
) -> tuple[float, float]:
    """top / bottom and its first-order error (gradients over the amplitude covariance)."""
    if not (bottom != 0 and math.isfinite(bottom)):
        return math.nan, math.nan
    grad = g_top / bottom - top * g_bottom / bottom**2
    return top / bottom, _err(float(grad @ cov @ grad))


def _row(
    table: pa.Table,
    i: int,
    res: Decomposition,
    j: int,
    p: DecomposeParams,
    sw_hz: float,
    digital: bool,
    origin: float,
) -> dict[str, Any]:
    k = len(NONLINEAR)
    th, cf, cov, held = res.theta[j], res.coef[j], res.cov[j], res.held[j]
    amp_cov = cov[k : k + 4, k : k + 4]
    flags = list(res.flags[j])
    has_h2, has_broad = "h2" in p.components, "broad" in p.components
    sel = {
        "hydride": np.array([1.0, 0, 0, 0]),
        "h2": np.array([0, 1.0, 1.0, 0]) * has_h2,
        "broad": np.array([0, 0, 0, 1.0]) * has_broad,
    }
    sel["metal_hydride"] = sel["hydride"] + sel["broad"]
    sel["total"] = sel["metal_hydride"] + sel["h2"]
    amps = np.nan_to_num(cf[:4]) if np.all(np.isfinite(cf[:4])) else cf[:4]
    sigma = float(res.sigma[j])
    m = float(res.tail_points[j])
    out: dict[str, Any] = {
        n: v
        for n, v in zip(
            _PASSED_THROUGH, (values(table, n)[i] for n in _PASSED_THROUGH), strict=True
        )
    }
    ident = out["id"]
    out |= {"spectrum_id": ident, "input_ids": [ident]}
    out["spectral_width_hz"] = sw_hz
    out["nucleus"] = out["nucleus"] or "1H"
    # most of the r_n doublet filtered away: how much H2 the band hides is a guess of the
    # filter model (seen as H2 fractions off by up to 0.16 with errors of 0.01 on a 400 kHz
    # Bruker window), so no H2 amount and no total are reported, only the flag
    beyond_band = has_h2 and digital and _r_n_doublet_beyond_band(p, sw_hz)
    for name, g in sel.items():
        present = (
            name in ("hydride", "metal_hydride")
            or (name == "total" and not beyond_band)
            or (name == "h2" and has_h2 and not beyond_band)
            or (name == "broad" and has_broad)
        )
        value = float(g @ amps) if present else math.nan
        err = _err(float(g @ amp_cov @ g)) if present else math.nan
        out[f"{name}_amplitude"], out[f"{name}_amplitude_err"] = value, err
        with np.errstate(invalid="ignore", divide="ignore"):
            snr = value / sigma
            snr_err = math.hypot(err / sigma, snr * 0.5 / math.sqrt(m))
        out[f"snr_{name}"], out[f"snr_{name}_err"] = snr, snr_err
    if has_h2 and not beyond_band:
        out["h2_fraction"], out["h2_fraction_err"] = _ratio(
            float(sel["h2"] @ amps), float(sel["total"] @ amps), sel["h2"], sel["total"], amp_cov
        )
        out["h2_nn_weight"], out["h2_nn_weight_err"] = _ratio(
            float(amps[2]), float(sel["h2"] @ amps), np.array([0, 0, 1.0, 0]), sel["h2"], amp_cov
        )
    else:
        out["h2_fraction"] = out["h2_fraction_err"] = math.nan
        out["h2_nn_weight"] = out["h2_nn_weight_err"] = math.nan
    errs = (
        np.sqrt(np.clip(np.diag(cov)[:k], 0.0, None))
        if np.all(np.isfinite(np.diag(cov)[:k]) | np.isinf(np.diag(cov)[:k]))
        else np.full(k, np.nan)
    )
    named = dict(zip(NONLINEAR, th, strict=True))
    named_err = dict(zip(NONLINEAR, np.where(held, np.nan, errs), strict=True))
    detected_h2 = has_h2 and not held[2] and np.isfinite(th[2])
    if has_h2 and np.isfinite(cf[0]) and not detected_h2:
        flags.append("h2_not_detected")
    if has_broad and np.isfinite(cf[0]) and held[3]:
        flags.append("broad_not_detected")
    distances_ok = detected_h2 and not held[4]
    if distances_ok:
        bounds = (p.r_n_bounds_angstrom, p.r_nn_bounds_angstrom)
        for (r_idx, a_idx), (lo, hi) in zip(((4, 1), (5, 2)), bounds, strict=True):
            a, a_err = cf[a_idx], _err(amp_cov[a_idx, a_idx])
            r, r_err = th[r_idx], named_err[NONLINEAR[r_idx]]
            # a distance pinned at its search bound has no error (seen on a 250 kHz analog
            # window: r_n = 0.85 +- 0.04 A against 0.78 A)
            margin = max(2.0 * r_err, _BOUND_MARGIN_ANGSTROM)
            if not (
                a > p.detect_sigma * a_err
                and r_err < _MAX_REL_DISTANCE_ERR * r
                and lo + margin < r < hi - margin
            ):
                distances_ok = False
    if has_h2 and np.isfinite(cf[0]) and not distances_ok:
        flags.append("distances_unconstrained")
    for name, col in (("r_n_angstrom", "r_n_angstrom"), ("r_nn_angstrom", "r_nn_angstrom")):
        out[col] = float(named[name]) if distances_ok else math.nan
        out[f"{col}_err"] = float(named_err[name]) if distances_ok else math.nan
    pairs = (
        ("hydride_offset_hz", "offset_hz", True),
        ("hydride_fwhm_hz", "hydride_fwhm_hz", True),
        ("h2_broadening_hz", "h2_fwhm_hz", detected_h2),
        ("h2_nn_broadening_hz", "h2_nn_fwhm_hz", detected_h2),
        ("broad_fwhm_hz", "broad_fwhm_hz", has_broad and not held[3]),
        ("phase_rad", "phase_rad", True),
        ("h2_offset_hz", "h2_offset_hz", detected_h2),
    )
    for col, name, shown in pairs:
        out[col] = float(named[name]) if shown else math.nan
        out[f"{col}_err"] = float(named_err[name]) if shown else math.nan
    if beyond_band:
        flags.append("h2_beyond_band")
    red = float(res.reduced_chi2[j])
    dof = max(int(res.n_fitted[j]) * 2 - (len(NONLINEAR) + 5), 1)
    if math.isfinite(red) and red > 1.0 + 5.0 * math.sqrt(2.0 / dof):
        flags.append("model_mismatch")
    out |= {
        "method": "nmr.decompose: time-domain hydride (Lorentzian) + "
        + " + ".join(
            (["H2 (2 Pake doublets, Gaussian broadening)"] if has_h2 else [])
            + (["broad Gaussian"] if has_broad else [])
        )
        + (", digital (brick-wall) filter model" if digital else ", analog (aliasing) model")
        + (
            f" with a {p.analog_filter_poles}-pole Butterworth at "
            f"{p.analog_filter_cutoff_fraction:g} SW"
            if p.analog_filter_poles and not digital
            else ""
        )
        + f", dead time {p.dead_time_us:g} us",
        "filter": "digital" if digital else "analog",
        "time_origin_points": float(origin),
        "dead_time_us": p.dead_time_us,
        "n_fitted_points": int(res.n_fitted[j]),
        "noise_sigma": sigma,
        "reduced_chi2": red,
        "flags": flags,
    }
    return out


__all__ += ["FLAGS"]
#: every flag nmr.decompose may raise
FLAGS = (
    "too_short",
    "too_noisy",
    "no_noise_estimate",
    "fit_failed",
    "h2_not_detected",
    "broad_not_detected",
    "distances_unconstrained",
    "h2_beyond_band",
    "model_mismatch",
    "ringdown_points_dropped",
)
