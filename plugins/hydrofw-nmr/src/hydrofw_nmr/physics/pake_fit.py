"""``nmr.pake_fit``: pair distances from a broadened Pake powder pattern.

Model (real part of a phased spectrum, Hz axis offset from the carrier):

    y(nu) = sum_k A_k P(nu - nu0; d_k) * K(broadening) + C(nu - nu_c; w_c) + b

with P the exact like-spin pair pattern (:mod:`.dipolar`), d_k/2pi = 120.12 kHz (1 A / r_k)^3
for 1H, K a Gaussian or Lorentzian of FWHM ``broadening_hz``, an optional central line C (a
mobile or isolated fraction, own shape, width and offset) and an optional constant baseline b.

The Lorentzian central line is the exact discrete spectrum of its sampled, truncated FID
(:func:`.dipolar.truncated_lorentzian_spectrum`), with a complex amplitude (absorption and
dispersion columns): a line narrower than a point and cut off by the end of the acquisition,
whose truncation wiggles and dispersive wings cover the whole doublet, is modelled exactly, and
its area is the modulus of that amplitude. The Gaussian central line is bin-integrated.
Every amplitude is in the units of the FID amplitude at t = 0 (an area of the spectrum), so
``central_fraction`` is a fraction of the spins.

The FID length is the row's ``acquired_points`` less its digital-filter ``group_delay_points``
(both written by the readers / ``nmr.fid_to_spectrum``); when it is shorter than the spectrum
(zero filling, or an echo shifted left), a constant over the acquired points (a receiver
offset, or a DC correction made before the shift) is fitted too, as a complex amplitude.
With ``fit_phase`` the whole model is multiplied by exp(i (phase - 2 pi nu delay)) and the
doublets get their dispersion (discrete Hilbert transform), for spectra phased on the central
line with a residual zero- or first-order phase error.

Points inside ``exclude_hz`` are left out of the fit (the model is still evaluated on the whole
uniform axis, then masked). Amplitudes enter linearly and are solved exactly (the doublets'
kept >= 0) while the distances, broadening, offsets, central width (and phase) are searched:
the central line alone first, then a grid of distances and broadenings, then variable
projection. The covariance of all parameters is evaluated at that optimum, scaled by the
reduced chi-square, with the noise sigma from the data.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
from scipy import optimize

from hydrofw.errors import ParameterError, ProcessingError, ValidationError
from hydrofw.fitting import FitResult, fit_result_at, robust_sigma

from ._table import arrays, float_values, row_label, values
from .dipolar import (
    SHAPES,
    binned_kernel,
    dipolar_coupling_hz,
    pake_lineshape,
    truncated_lorentzian_spectrum,
)

__all__ = ["PakeFitParams", "PakeFitResult", "fit_pake", "pake_fit_table"]

_GRID_POINTS = {1: 40, 2: 24, 3: 14}
#: distances are flagged unconstrained beyond this relative error, or when a doublet's
#: amplitude is below this many standard errors
_MAX_RELATIVE_DISTANCE_ERR = 0.1
_MIN_DOUBLET_SNR = 5.0


def _opt_range(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    lo, hi = (float(v) for v in value)
    return (min(lo, hi), max(lo, hi))


def _opt_tuple(value: Any) -> tuple[float, ...] | None:
    return None if value is None else tuple(float(v) for v in value)


def _at_least_16_points(_inst: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 16:
        raise ValueError(f"{attribute.name} must be None or >= 16, got {value}")


@attrs.frozen
class PakeFitParams:
    """Parameters of ``nmr.pake_fit``.

    ``n_distances``: number of pair distances (1 to 3; e.g. 2 for the r_n and r_nn of H2 phase
    III). ``broadening``: "gaussian" or "lorentzian". ``central_line``: add a central line of
    shape ``central_shape`` ("lorentzian": exact truncated-FID line with free phase, the
    default, for a mobile lattice line; "gaussian": bin-integrated, absorptive) with its own
    width and offset. ``baseline``: fit a constant baseline. ``distance_bounds_angstrom``:
    search range of the distances. ``initial_distances_angstrom``/``initial_broadening_hz``:
    optional starting values (default: grid search / a few points of the axis).
    ``range_hz``: fit window (Hz from the carrier). ``exclude_hz``: window (Hz from the
    carrier) left out of the fit, e.g. an artefact at the carrier that no column models.
    ``fit_phase``: also fit a zero-order phase and a time delay (first-order phase) of the
    whole spectrum, for spectra whose phasing is off (needs the whole transform axis).
    ``nucleus``: like-spin nucleus when the row does not say. ``max_points``: spectra with more
    points in the window are averaged over adjacent points down to at most this many before
    fitting (the model is averaged the same way; the noise is estimated after averaging);
    None fits every point.
    """

    n_distances: int = attrs.field(
        default=1, converter=int, validator=attrs.validators.in_((1, 2, 3))
    )
    broadening: str = attrs.field(default="gaussian", validator=attrs.validators.in_(SHAPES))
    central_line: bool = False
    central_shape: str = attrs.field(default="lorentzian", validator=attrs.validators.in_(SHAPES))
    baseline: bool = True
    distance_bounds_angstrom: tuple[float, float] = attrs.field(
        default=(0.6, 3.0), converter=lambda v: tuple(sorted(float(x) for x in v))
    )
    initial_distances_angstrom: tuple[float, ...] | None = attrs.field(
        default=None, converter=_opt_tuple
    )
    initial_broadening_hz: float | None = None
    range_hz: tuple[float, float] | None = attrs.field(default=None, converter=_opt_range)
    exclude_hz: tuple[float, float] | None = attrs.field(default=None, converter=_opt_range)
    fit_phase: bool = False
    nucleus: str = "1H"
    max_points: int | None = attrs.field(
        default=1024,
        converter=lambda v: None if v is None else int(v),
        validator=_at_least_16_points,
    )

    def __attrs_post_init__(self) -> None:
        lo, hi = self.distance_bounds_angstrom
        if not 0 < lo < hi:
            raise ValueError("distance_bounds_angstrom must be two increasing positive values")
        if (
            self.initial_distances_angstrom is not None
            and len(self.initial_distances_angstrom) != self.n_distances
        ):
            raise ValueError("initial_distances_angstrom must hold n_distances values")
        if self.fit_phase and self.range_hz is not None:
            raise ValueError("fit_phase needs the whole transform axis: leave range_hz unset")


@attrs.frozen
class PakeFitResult:
    """Fitted distances (angstrom, shortest first), weights, broadening and offset with errors.

    ``central_offset_hz`` is the centre of the central line (None without one);
    ``unconstrained`` is True when a distance's relative error exceeds 10 %, a doublet's
    amplitude is below 5 standard errors, or the broadening sits at its lower bound of two
    points (then noise spikes, not horns, set the distances)."""

    distance_angstrom: np.ndarray
    distance_angstrom_err: np.ndarray
    weight: np.ndarray
    weight_err: np.ndarray
    broadening_hz: float
    broadening_hz_err: float
    offset_hz: float
    offset_hz_err: float
    central_fraction: float | None
    central_fraction_err: float | None
    central_fwhm_hz: float | None
    central_fwhm_hz_err: float | None
    central_offset_hz: float | None
    #: with ``fit_phase``: the spectrum is the model times exp(i (phase - 2 pi nu delay)), i.e.
    #: the signal's time origin is ``delay_s`` after the transform's first point (else None)
    phase_rad: float | None
    delay_s: float | None
    noise_sigma: float
    unconstrained: bool
    fit: FitResult
    model: np.ndarray  #: best-fit curve at the fitted (averaged, not excluded) points


def _analytic(absorption: np.ndarray) -> np.ndarray:
    """Complex spectrum (absorption + i dispersion) of a real spectrum on a whole transform
    axis (carrier at the centre): its FID made causal. The imaginary part is the dispersion
    (discrete Hilbert transform); the real part is kept exactly."""
    m = absorption.size
    fid = np.fft.ifft(np.fft.ifftshift(absorption))
    fid[1 : (m + 1) // 2] *= 2.0
    fid[(m + 2) // 2 :] = 0.0  # a Nyquist point (even m) is kept once
    return np.fft.fftshift(np.fft.fft(fid))


@attrs.frozen(eq=False)
class _Model:
    """Parameter layout and design matrix of one fit.

    Nonlinear theta = (r_1..r_n, fwhm, offset[, w_c, nu_c][, phase, delay]); the columns are
    evaluated on the uniform axis ``freq``, multiplied by the phase correction exp(i (phase -
    2 pi nu delay)) when ``phased`` (real part taken), averaged over groups of ``group``
    points, then restricted to ``keep``."""

    n: int
    central: str | None
    baseline: bool
    shape: str
    nucleus: str
    freq: np.ndarray
    group: int
    keep: np.ndarray
    dwell_s: float
    acquired_points: int
    phased: bool = False
    #: doublet columns by (r, fwhm, offset): a finite-difference step in one distance or in the
    #: central line leaves the other columns as they were
    cache: dict[tuple[float, float, float], np.ndarray] = attrs.field(factory=dict)

    @property
    def receiver_offset(self) -> tuple[str, ...]:
        """Amplitudes of a constant over the acquired points (a receiver offset, or the error of
        a DC correction): with zero filling (or an echo shifted left) its spectrum wiggles and
        its amplitude is complex; without, it is a spike at the carrier point on a constant
        (the baseline), fitted when that point is."""
        if self.central != "lorentzian":
            return ()
        if self.acquired_points < self.freq.size:
            return ("dc_re", "dc_im")
        carrier = int(np.argmin(np.abs(self.freq)))
        on_grid = abs(self.freq[carrier]) < 0.5 * abs(self.freq[1] - self.freq[0])
        binned = carrier // self.group
        return ("dc",) if on_grid and binned < self.keep.size and self.keep[binned] else ()

    @property
    def central_amplitudes(self) -> tuple[str, ...]:
        if self.central == "lorentzian":
            return ("a_central_re", "a_central_im")
        return ("a_central",) if self.central else ()

    @property
    def names(self) -> tuple[str, ...]:
        names = [f"r{k}" for k in range(self.n)] + ["broadening_hz", "offset_hz"]
        if self.central:
            names += ["central_fwhm_hz", "central_offset_hz"]
        if self.phased:
            names += ["phase_rad", "delay_s"]
        names += [f"a{k}" for k in range(self.n)]
        names += self.central_amplitudes
        names += self.receiver_offset
        if self.baseline:
            names.append("baseline")
        return tuple(names)

    @property
    def n_nonlinear(self) -> int:
        return self.n + 2 + 2 * int(bool(self.central)) + 2 * int(self.phased)

    @property
    def point_spacing_hz(self) -> float:
        """Spacing of the fitted (averaged) points."""
        return abs(float(self.freq[1] - self.freq[0])) * self.group

    def phase_factor(self, theta: np.ndarray) -> np.ndarray | None:
        """exp(i (phase - 2 pi nu delay)) on the whole axis, None when the phase is not fitted."""
        if not self.phased:
            return None
        phase, delay = theta[self.n_nonlinear - 2], theta[self.n_nonlinear - 1]
        return np.exp(1j * (phase - 2.0 * math.pi * self.freq * delay))

    def _reduce(self, cols: np.ndarray) -> np.ndarray:
        """Average groups of points (as the data were), then keep the fitted points."""
        if self.group > 1:
            m = (cols.shape[0] // self.group) * self.group
            cols = cols[:m].reshape(-1, self.group, cols.shape[1]).mean(axis=1)
        return cols[self.keep]

    def _real(self, line: np.ndarray, factor: np.ndarray | None) -> np.ndarray:
        """Real part of a (complex) whole-axis column after the phase correction."""
        return line.real if factor is None else (line * factor).real

    def _column(self, line: np.ndarray, factor: np.ndarray | None) -> np.ndarray:
        """A whole-axis column, phase-corrected, as a model column at the fitted points."""
        return self._reduce(self._real(line, factor)[:, None])[:, 0]

    def pake_column(
        self, r: float, fwhm: float, offset: float, factor: np.ndarray | None = None
    ) -> np.ndarray:
        """Unit-area doublet of one distance (per Hz) at the fitted points."""
        return self._column(self._doublet(r, fwhm, offset), factor)

    def pake_quadrature(
        self, r: float, fwhm: float, offset: float, factor: np.ndarray | None
    ) -> np.ndarray:
        """The doublet phased by a further 90 degrees (its dispersion), at the fitted points."""
        return self._column(-1j * self._doublet(r, fwhm, offset), factor)

    def _doublet(self, r: float, fwhm: float, offset: float) -> np.ndarray:
        """Whole-axis doublet column (complex when the phase is fitted), cached."""
        key = (float(r), float(fwhm), float(offset))
        if key not in self.cache:
            if len(self.cache) > 64:
                self.cache.clear()
            col = pake_lineshape(
                self.freq,
                float(dipolar_coupling_hz(r, self.nucleus)),
                broadening_fwhm_hz=fwhm,
                shape=self.shape,
                offset_hz=offset,
            )
            self.cache[key] = _analytic(col) if self.phased else col
        return self.cache[key]

    def shared_columns(self, theta: np.ndarray) -> np.ndarray:
        """Central-line, receiver-offset and baseline columns at the fitted points."""
        factor = self.phase_factor(theta)
        cols = []
        if self.central == "lorentzian":
            line = truncated_lorentzian_spectrum(
                self.freq,
                theta[self.n + 3],
                theta[self.n + 2],
                dwell_s=self.dwell_s,
                acquired_points=self.acquired_points,
            )  # real part of (a_re + i a_im) * line
            cols += [self._real(line, factor), self._real(-1j * line, factor)]
            if self.receiver_offset:
                dc = truncated_lorentzian_spectrum(
                    self.freq, 0.0, 0.0, dwell_s=self.dwell_s, acquired_points=self.acquired_points
                )
                cols += [self._real(dc, factor), self._real(-1j * dc, factor)][
                    : len(self.receiver_offset)
                ]
        elif self.central == "gaussian":
            line = binned_kernel(self.freq, theta[self.n + 3], theta[self.n + 2], "gaussian")
            cols.append(self._real(_analytic(line) if self.phased else line, factor))
        if self.baseline:
            cols.append(np.ones_like(self.freq))
        if not cols:
            return np.empty((int(self.keep.sum()), 0))
        return self._reduce(np.stack(cols, axis=1))

    def basis(self, theta: np.ndarray) -> np.ndarray:
        """Design matrix (fitted points, linear parameters) at nonlinear ``theta``."""
        fwhm, offset, factor = theta[self.n], theta[self.n + 1], self.phase_factor(theta)
        pake = [self.pake_column(rk, fwhm, offset, factor) for rk in theta[: self.n]]
        return np.column_stack([*pake, self.shared_columns(theta)])


def _linear_solve(
    phi: np.ndarray, y: np.ndarray, n_positive: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares amplitudes and residual; the first ``n_positive`` amplitudes (the
    doublets) are kept >= 0 (a negative doublet is not a spectrum: two of them of opposite
    sign can cancel and fit noise)."""
    coef, *_ = np.linalg.lstsq(phi, y, rcond=None)
    if np.any(coef[:n_positive] < 0):
        lower = np.full(coef.size, -np.inf)
        lower[:n_positive] = 0.0
        coef = optimize.lsq_linear(phi, y, bounds=(lower, np.inf), method="bvls").x
    return coef, y - phi @ coef


def _fit_central(model: _Model, y: np.ndarray, theta: np.ndarray, bounds: tuple) -> np.ndarray:
    """Central-line width and offset fitted alone (with the baseline): the dominant line of a
    weak doublet, located before the doublet is searched for."""
    c = [model.n + 2, model.n + 3]

    def resid(wc: np.ndarray) -> np.ndarray:
        trial = theta.copy()
        trial[c] = wc
        return _linear_solve(model.shared_columns(trial), y)[1]

    lower, upper = (np.asarray(b)[c] for b in bounds)
    out = theta.copy()
    out[c] = optimize.least_squares(
        resid, np.clip(theta[c], lower, upper), bounds=(lower, upper), x_scale="jac"
    ).x
    return out


def _project_out(shared: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    """The arrays less their least-squares projection on the columns of ``shared``."""
    if shared.shape[1] == 0:
        return list(arrays)
    q, _ = np.linalg.qr(shared)
    return [a - q @ (q.T @ a) for a in arrays]


def _start(model: _Model, y: np.ndarray, p: PakeFitParams, theta: np.ndarray) -> np.ndarray:
    """Best starting distances and broadening on a grid (or the user's), the rest of ``theta``
    (offset, central line) kept: only combinations with positive amplitudes count. When the
    phase is fitted, each doublet's amplitude is complex during the search (the start phase is
    that of their sum).

    The central-line and baseline columns are projected out once per broadening, so each
    combination of distances costs one small normal-equation solve (Frisch-Waugh-Lovell)."""
    if p.initial_distances_angstrom is not None:
        return np.array([*p.initial_distances_angstrom, *theta[model.n :]])
    lo, hi = p.distance_bounds_angstrom
    grid = np.geomspace(lo, hi, _GRID_POINTS[model.n])
    fwhms = (theta[model.n],) if p.initial_broadening_hz else theta[model.n] * np.array([0.5, 1, 2])
    per_r = 2 if model.phased else 1  # columns per distance
    best, best_cost = theta, math.inf
    for fwhm in fwhms:
        trial = theta.copy()
        trial[model.n] = fwhm
        factor, offset = model.phase_factor(trial), trial[model.n + 1]
        cols = []
        for r in grid:  # each distance's columns do not depend on the others
            cols.append(model.pake_column(r, fwhm, offset, factor))
            if model.phased:
                cols.append(model.pake_quadrature(r, fwhm, offset, factor))
        y_p, c_p = _project_out(model.shared_columns(trial), y, np.column_stack(cols))
        gram, proj = c_p.T @ c_p, c_p.T @ y_p
        for combo in itertools.combinations(range(grid.size), model.n):
            idx = [per_r * i + j for i in combo for j in range(per_r)]
            try:
                coef = np.linalg.solve(gram[np.ix_(idx, idx)], proj[idx])
            except np.linalg.LinAlgError:
                continue
            cost = -float(proj[idx] @ coef)  # residual sum of squares less the constant y_p.y_p
            amp = coef.reshape(model.n, per_r)
            if cost < best_cost and np.all(amp[:, 0] > 0):
                best, best_cost = trial.copy(), cost
                best[: model.n] = grid[list(combo)]
                if model.phased:  # a further phase atan2(q, a) turns the sum into absorption
                    total = amp.sum(axis=0)
                    best[model.n_nonlinear - 2] += math.atan2(total[1], total[0])
    return best


def _bin_points(
    freq: np.ndarray, y: np.ndarray, max_points: int | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Average groups of adjacent points so at most ``max_points`` remain; (freq, y, group)."""
    if max_points is None or y.size <= max_points:
        return freq, y, 1
    group = math.ceil(y.size / max_points)
    m = (y.size // group) * group
    return freq[:m].reshape(-1, group).mean(axis=1), y[:m].reshape(-1, group).mean(axis=1), group


def _search_box(
    model: _Model, p: PakeFitParams, offset0_hz: float, peak_hz: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First guess, lower and upper bounds of the nonlinear parameters."""
    step, span = model.point_spacing_hz / model.group, float(np.ptp(model.freq))
    f_lo, f_hi = float(model.freq.min()), float(model.freq.max())
    lo_r, hi_r = p.distance_bounds_angstrom
    fwhm0 = p.initial_broadening_hz or max(4.0 * step, 0.01 * span)
    guess = [*np.geomspace(lo_r, hi_r, model.n), fwhm0, offset0_hz]
    # a doublet broadened by less than two points has horns of single points: not resolved
    lower = [0.5 * lo_r] * model.n + [2.0 * model.point_spacing_hz, f_lo]
    upper = [2.0 * hi_r] * model.n + [span, f_hi]
    if model.central:
        guess += [2.0 * step, peak_hz]
        lower += [0.01 * step, f_lo]
        upper += [span, f_hi]
    if model.phased:  # phase (rad) and delay (s), within two dwell times
        guess += [0.0, 0.0]
        lower += [-math.pi, -2.0 * model.dwell_s]
        upper += [math.pi, 2.0 * model.dwell_s]
    return np.array(guess), np.array(lower), np.array(upper)


def _fit_at(
    model: _Model,
    curve: Any,
    freq: np.ndarray,
    y: np.ndarray,
    best: np.ndarray,
    sigma: float,
) -> FitResult:
    """:func:`hydrofw.fitting.fit_result_at` in parameters scaled to their size (amplitudes
    and distances differ by ~1e15, too much for the SVD threshold of the covariance).

    A doublet whose amplitude sits at its bound 0 is held there with its distance: the others'
    covariance is that of the fit without it; its distance error is infinite, its amplitude's
    zero."""
    k = model.n_nonlinear
    step = model.point_spacing_hz
    typical = {"phase_rad": 0.01, "delay_s": 0.01 * model.dwell_s}
    floor = np.array(
        [0.01] * model.n
        + [typical.get(name, step) for name in model.names[model.n : k]]
        + [1e-3 * max(float(np.abs(best[k:]).max()), 1e-300)] * (best.size - k)
    )
    ref = np.maximum(np.abs(best), floor)
    absent = [j for j in range(model.n) if best[k + j] == 0.0]
    held = [*absent, *(k + j for j in absent)]
    free = np.array([i for i in range(best.size) if i not in held])

    def scaled(x: np.ndarray, *q: float) -> np.ndarray:
        full = best.copy()
        full[free] = np.asarray(q) * ref[free]
        return np.asarray(curve(x, *full))

    names = [model.names[i] for i in free]
    unit = fit_result_at(scaled, freq, y, best[free] / ref[free], names=names, sigma=sigma)
    stderr = np.zeros(best.size)
    stderr[free] = unit.stderr * ref[free]
    stderr[absent] = np.inf
    cov = np.zeros((best.size, best.size))
    cov[np.ix_(free, free)] = unit.covariance * np.outer(ref[free], ref[free])
    cov[absent, absent] = np.inf
    return attrs.evolve(unit, names=model.names, values=best, stderr=stderr, covariance=cov)


def fit_pake(
    frequency_hz: np.ndarray,
    intensity: np.ndarray,
    params: PakeFitParams | None = None,
    *,
    noise_sigma: float | None = None,
    dwell_s: float | None = None,
    acquired_points: int | None = None,
) -> PakeFitResult:
    """Fit a broadened sum of Pake patterns to a spectrum (uniform Hz axis, real intensities).

    ``dwell_s`` and ``acquired_points`` describe the FID the spectrum was transformed from
    (used by the Lorentzian central line); by default the axis is one whole transform without
    zero filling: dwell = 1 / (points x spacing), acquired points = points.
    """
    p = params or PakeFitParams()
    freq = np.asarray(frequency_hz, dtype=float)
    y_full = np.asarray(intensity, dtype=float)
    if not (np.all(np.isfinite(freq)) and np.all(np.isfinite(y_full))):
        raise ValidationError("pake fit: the spectrum holds NaN or infinite values")
    if freq.size < 2:
        raise ValidationError("pake fit: the spectrum needs at least two points")
    step = abs(freq[1] - freq[0])
    freq_b, y, group = _bin_points(freq, y_full, p.max_points)
    keep = np.ones(y.size, dtype=bool)
    if p.exclude_hz is not None:
        keep = (freq_b < p.exclude_hz[0]) | (freq_b > p.exclude_hz[1])
    model = _Model(
        n=p.n_distances,
        central=p.central_shape if p.central_line else None,
        baseline=p.baseline,
        shape=p.broadening,
        nucleus=p.nucleus,
        freq=freq,
        group=group,
        keep=keep,
        dwell_s=dwell_s or 1.0 / (freq.size * step),
        acquired_points=acquired_points or freq.size,
        phased=p.fit_phase,
    )
    y_binned, y = y, y[keep]
    if y.size <= len(model.names):
        raise ValidationError(
            f"pake fit: {y.size} points cannot constrain {len(model.names)} parameters"
        )
    if noise_sigma is not None and group > 1:
        noise_sigma = noise_sigma / math.sqrt(group)
    sigma = (
        float(noise_sigma)
        if noise_sigma is not None
        else float(robust_sigma(np.diff(y))) / math.sqrt(2.0)
    )
    if not sigma > 0:
        raise ValidationError("pake fit: the noise sigma of the spectrum is zero")
    fitted_freq = freq_b[keep]
    weights = np.clip(y, 0.0, None)
    offset0 = float(np.sum(weights * fitted_freq) / np.sum(weights)) if weights.sum() > 0 else 0.0
    peak_hz = float(freq_b[np.argmax(np.abs(y_binned))])
    theta0, lower, upper = _search_box(model, p, offset0, peak_hz)
    margin = 1e-6 * (upper - lower)
    lower_in, upper_in = lower + margin, upper - margin
    theta0 = np.clip(theta0, lower_in, upper_in)
    if model.central:
        theta0 = _fit_central(model, y, theta0, (lower_in, upper_in))
        theta0[model.n + 1] = theta0[model.n + 3]  # doublet starts on the central line
    theta0 = np.clip(_start(model, y, p, theta0), lower_in, upper_in)

    def projected(theta: np.ndarray) -> np.ndarray:
        return _linear_solve(model.basis(theta), y, model.n)[1] / sigma

    try:
        vp = optimize.least_squares(
            projected, theta0, bounds=(lower, upper), x_scale="jac", xtol=1e-7, ftol=1e-7
        )
    except ValueError as exc:
        raise ProcessingError(f"pake fit failed: {exc}") from None
    coef, _ = _linear_solve(model.basis(vp.x), y, model.n)
    k = model.n_nonlinear

    def curve(_x: np.ndarray, *par: float) -> np.ndarray:
        par_arr = np.asarray(par)
        return model.basis(par_arr[:k]) @ par_arr[k:]

    # the projected optimum is the optimum of the full problem: evaluate errors there
    fit = _fit_at(model, curve, fitted_freq, y, np.concatenate([vp.x, coef]), sigma)
    fit = attrs.evolve(fit, success=bool(vp.success), message=str(vp.message))
    # noise_sigma is reported per original point, whatever the averaging
    return _result(fit, model, sigma * math.sqrt(group), curve(fitted_freq, *fit.values))


def _fraction_and_error(
    values: np.ndarray, cov: np.ndarray, part: Sequence[int], whole: Sequence[int]
) -> tuple[float, float]:
    """sum(values[part]) / sum(values[whole]) and its standard error (first-order); NaN when
    the whole is zero."""
    whole = list(whole)
    top = float(sum(values[i] for i in part))
    total = float(sum(values[i] for i in whole))
    if not total > 0:  # nothing detected in ``whole`` (e.g. every doublet at zero amplitude)
        return math.nan, math.nan
    grad = np.full(len(whole), -top / total**2)
    grad[[whole.index(i) for i in part]] += 1.0 / total
    block = cov[np.ix_(whole, whole)]  # other (possibly infinite) variances do not enter
    with np.errstate(invalid="ignore"):
        return top / total, float(np.sqrt(grad @ block @ grad))


def _central_as_amplitude(fit: FitResult, model: _Model) -> tuple[np.ndarray, np.ndarray, int]:
    """Parameter values and covariance with the central line's amplitude (the modulus of its
    complex amplitude for the Lorentzian) in place of its components; its index."""
    names, v, cov = model.names, fit.values, fit.covariance
    idx = [names.index(a) for a in model.central_amplitudes]
    if len(idx) == 1:
        return v, cov, idx[0]
    re, im = v[idx[0]], v[idx[1]]
    modulus = math.hypot(re, im)
    grad = np.array([re, im]) / modulus  # d|a| / d(re, im)
    values, out = v.copy(), cov.copy()
    values[idx[0]] = modulus
    others = [i for i in range(v.size) if i not in idx]
    with np.errstate(invalid="ignore"):
        out[idx[0], others] = out[others, idx[0]] = grad @ cov[np.ix_(idx, others)]
        out[idx[0], idx[0]] = grad @ cov[np.ix_(idx, idx)] @ grad
    return values, out, idx[0]


def _result(fit: FitResult, model: _Model, sigma: float, curve: np.ndarray) -> PakeFitResult:
    n, names = model.n, model.names
    v, cov = fit.values, fit.covariance
    amp_idx = [names.index(f"a{j}") for j in range(n)]
    weight_and_err = [_fraction_and_error(v, cov, [i], amp_idx) for i in amp_idx]
    r, r_err = v[:n], fit.stderr[:n]
    order = np.argsort(r)
    central = central_err = central_w = central_w_err = central_nu = None
    if model.central:
        values, cov_c, ic = _central_as_amplitude(fit, model)
        central, central_err = _fraction_and_error(values, cov_c, [ic], [*amp_idx, ic])
        iw = names.index("central_fwhm_hz")
        central_w, central_w_err = float(v[iw]), float(fit.stderr[iw])
        central_nu = float(v[names.index("central_offset_hz")])
    doublet, doublet_err = v[amp_idx], fit.stderr[amp_idx]  # each doublet's amplitude
    with np.errstate(invalid="ignore", divide="ignore"):
        unconstrained = bool(
            not np.all(np.isfinite(r_err))
            or np.any(r_err > _MAX_RELATIVE_DISTANCE_ERR * r)
            or not np.all(doublet > _MIN_DOUBLET_SNR * doublet_err)
            or v[n] < 2.01 * model.point_spacing_hz  # at its lower bound
        )
    phase = delay = None
    if model.phased:
        phase = float(v[names.index("phase_rad")])
        delay = float(v[names.index("delay_s")])
    return PakeFitResult(
        distance_angstrom=r[order],
        distance_angstrom_err=r_err[order],
        weight=np.array([weight_and_err[j][0] for j in order]),
        weight_err=np.array([weight_and_err[j][1] for j in order]),
        broadening_hz=float(v[n]),
        broadening_hz_err=float(fit.stderr[n]),
        offset_hz=float(v[n + 1]),
        offset_hz_err=float(fit.stderr[n + 1]),
        central_fraction=central,
        central_fraction_err=central_err,
        central_fwhm_hz=central_w,
        central_fwhm_hz_err=central_w_err,
        central_offset_hz=central_nu,
        phase_rad=phase,
        delay_s=delay,
        noise_sigma=sigma,
        unconstrained=unconstrained,
        fit=fit,
        model=curve,
    )


_AXIS = ("x_start", "x_step", "observe_frequency_hz", "reference_frequency_hz")
_PASSED_THROUGH = ("id", "cell", "campaign", "acquired_at", "days_since_synthesis")


def _hz_axis(
    unit: str, axis: dict[str, np.ndarray], i: int, n: int, label: str
) -> tuple[np.ndarray, list[str]]:
    """Row ``i``'s axis as Hz offsets from the carrier (ppm needs the reference frequency)."""
    x = axis["x_start"][i] + axis["x_step"][i] * np.arange(n)
    if unit == "Hz":
        return x, []
    if unit != "ppm":
        raise ValidationError(f"{label}: axis in {unit!r}; nmr.pake_fit needs a Hz or ppm axis")
    observe = axis["observe_frequency_hz"][i]
    ref = axis["reference_frequency_hz"][i]
    if np.isfinite(ref):
        return ref * (1.0 + x * 1e-6) - observe, []
    return x * observe * 1e-6, ["ppm_axis_without_reference"]


def pake_fit_table(table: pa.Table, p: PakeFitParams) -> pa.Table:
    """Process function of ``nmr.pake_fit``: one ``pake_fit`` row per frequency-domain spectrum."""
    cols = {n: values(table, n) for n in (*_PASSED_THROUGH, "domain", "nucleus", "x_unit")}
    axis = {n: float_values(table, n) for n in _AXIS}
    sw_hz = float_values(table, "spectral_width_hz")
    acquired = float_values(table, "acquired_points")  # written by nmr.fid_to_spectrum
    # a digital filter's delay leaves that many fewer points of signal after the time origin
    delay = np.nan_to_num(float_values(table, "group_delay_points"), nan=0.0)
    ids, cells, domains, nuclei = (cols[n] for n in ("id", "cell", "domain", "nucleus"))
    reals = arrays(table, "re")
    rows = []
    for i in range(table.num_rows):
        label = row_label("spectrum", ids[i], cells[i])
        if domains[i] != "frequency":
            raise ParameterError(
                f"nmr.pake_fit: {label} is a time-domain row; run nmr.fid_to_spectrum first"
            )
        nucleus = nuclei[i] or p.nucleus
        freq, flags = _hz_axis(cols["x_unit"][i], axis, i, reals[i].size, label)
        y = reals[i]
        n_acquired = (acquired[i] if np.isfinite(acquired[i]) else y.size) - round(delay[i])
        dwell_s = 1.0 / sw_hz[i] if np.isfinite(sw_hz[i]) and sw_hz[i] > 0 else None
        if p.range_hz is not None:
            keep = (freq >= p.range_hz[0]) & (freq <= p.range_hz[1])
            freq, y = freq[keep], y[keep]
        if freq.size > 1 and freq[1] < freq[0]:
            freq, y = freq[::-1], y[::-1]
        try:
            res = fit_pake(
                freq,
                y,
                attrs.evolve(p, nucleus=nucleus),
                dwell_s=dwell_s,
                acquired_points=max(int(n_acquired), 1),
            )
        except ValidationError as exc:
            raise ValidationError(f"{label}: {exc}") from None
        passed = {n: cols[n][i] for n in _PASSED_THROUGH}
        passed |= {"input_ids": [ids[i]], "spectrum_id": ids[i]}
        rows.append(passed | _result_row(res, p, nucleus, flags))
    return pa.Table.from_pylist(rows)


def _result_row(
    res: PakeFitResult, p: PakeFitParams, nucleus: str, flags: Sequence[str]
) -> dict[str, Any]:
    """Output columns of one fit (the row's identity columns are added by the caller)."""
    coupling = dipolar_coupling_hz(res.distance_angstrom, nucleus)
    flags = list(flags)
    if not res.fit.success:
        flags.append("not_converged")
    lo, hi = p.distance_bounds_angstrom
    if np.any(res.distance_angstrom < lo) or np.any(res.distance_angstrom > hi):
        flags.append("distance_outside_search_range")
    if res.unconstrained:
        flags.append("distance_unconstrained")
    return {
        "method": f"nmr.pake_fit: {p.n_distances} distance(s), {p.broadening} broadening"
        + (f", {p.central_shape} central line" if p.central_line else "")
        + (f", {p.exclude_hz[0]:g} to {p.exclude_hz[1]:g} Hz excluded" if p.exclude_hz else ""),
        "nucleus": nucleus,
        "n_distances": p.n_distances,
        "distance_angstrom": res.distance_angstrom.tolist(),
        "distance_angstrom_err": res.distance_angstrom_err.tolist(),
        "coupling_hz": coupling.tolist(),
        "coupling_hz_err": (
            3.0 * coupling * res.distance_angstrom_err / res.distance_angstrom
        ).tolist(),
        "weight": res.weight.tolist(),
        "weight_err": res.weight_err.tolist(),
        "broadening_hz": res.broadening_hz,
        "broadening_hz_err": res.broadening_hz_err,
        "broadening_shape": p.broadening,
        "offset_hz": res.offset_hz,
        "offset_hz_err": res.offset_hz_err,
        "central_fraction": res.central_fraction,
        "central_fraction_err": res.central_fraction_err,
        "central_fwhm_hz": res.central_fwhm_hz,
        "central_fwhm_hz_err": res.central_fwhm_hz_err,
        "horn_splitting_hz": (1.5 * coupling).tolist(),
        "noise_sigma": res.noise_sigma,
        "reduced_chi2": res.fit.reduced_chi2,
        "aic": res.fit.aic,
        "flags": flags,
    }
