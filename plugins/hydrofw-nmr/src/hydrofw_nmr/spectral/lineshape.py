"""Processor ``nmr.lineshape``: peak, FWHM, integral and SNR of every frequency-domain row.

Work happens in point units on the real part (the absorption spectrum) and is converted to Hz
with each row's axis (``x_start + k * x_step``; a ppm axis is converted with the row's
``reference_frequency_hz``). Per row:

* noise: the offset ``c0`` and sigma of the real part (one 3-sigma clipping pass) on the
  quarter of the spectrum (at most 1024 points) at the end farther from the peak, or inside
  ``noise_range_hz``/``_ppm``; flagged ``noise_region_near_peak`` when closer than
  ``noise_exclusion_fwhm`` FWHMs to the peak;
* peak: the largest point inside ``peak_range_hz``/``_ppm`` (whole spectrum by default);
* ``fwhm_interp_hz``: distance between the half-height crossings (linear interpolation),
  error from the noise over the slope at each crossing;
* fit of ``model`` (Lorentzian, Gaussian, Voigt plus offset) within ``+-fit_window_fwhm``
  FWHMs, sampled by at most ``max_fit_points`` points; ``peak_hz`` and ``fwhm_hz`` with
  standard errors come from the fit (covariance scaled by the reduced chi-square);
* integral of ``re - c0`` over ``integral_range_hz``/``_ppm`` (default ``+-integral_fwhm``
  FWHMs), error from the noise with its measured point-to-point correlation (zero fill,
  apodization), including the error of the subtracted offset ``c0``;
* ``snr_freq = height / sigma``; ``snr_time`` from the ``snr_time`` column that
  ``nmr.fid_to_spectrum`` writes (null, flagged, otherwise);
* ``peak_ppm`` against ``reference_frequency_hz``; its error includes
  ``reference_frequency_hz_err`` when present.
"""

from __future__ import annotations

import attrs
import numpy as np
import pyarrow as pa

from hydrofw.errors import ParameterError, ProcessingError

from .batching import (
    axis_in_hz,
    check_finite_nonzero,
    column_or,
    describe_row,
    flag_lists,
    float_rows,
    map_blocks,
    reassemble,
    require_columns,
    require_domain,
    row_groups,
    take_rows,
)
from .numerics import correlated_sum_sigma, hz_to_ppm, masked_noise_sigma, ppm_to_hz
from .params import float_pair, one_of, optional_range, positive
from .profiles import MODELS, fit_rows, voigt_fwhm

__all__ = ["LineshapeParams", "lineshape"]


@attrs.frozen(kw_only=True)
class LineshapeParams:
    """Parameters of ``nmr.lineshape``.

    Ranges are (low, high): ``*_range_hz`` offsets from the carrier in Hz, ``*_range_ppm``
    shifts against each row's ``reference_frequency_hz`` (give one of the two).
    """

    model: str = attrs.field(default="lorentzian", validator=one_of(*MODELS))
    peak_range_hz: tuple[float, float] | None = attrs.field(
        default=None, converter=float_pair, validator=optional_range
    )
    integral_range_hz: tuple[float, float] | None = attrs.field(
        default=None, converter=float_pair, validator=optional_range
    )
    noise_range_hz: tuple[float, float] | None = attrs.field(
        default=None, converter=float_pair, validator=optional_range
    )
    peak_range_ppm: tuple[float, float] | None = attrs.field(
        default=None, converter=float_pair, validator=optional_range
    )
    integral_range_ppm: tuple[float, float] | None = attrs.field(
        default=None, converter=float_pair, validator=optional_range
    )
    noise_range_ppm: tuple[float, float] | None = attrs.field(
        default=None, converter=float_pair, validator=optional_range
    )
    fit_window_fwhm: float = attrs.field(default=3.0, converter=float, validator=positive)
    integral_fwhm: float = attrs.field(default=5.0, converter=float, validator=positive)
    noise_exclusion_fwhm: float = attrs.field(default=10.0, converter=float, validator=positive)
    max_fit_points: int = attrs.field(default=128, converter=int, validator=positive)

    def __attrs_post_init__(self) -> None:
        for what in ("peak", "integral", "noise"):
            if getattr(self, f"{what}_range_hz") and getattr(self, f"{what}_range_ppm"):
                raise ParameterError(f"give {what}_range_hz or {what}_range_ppm, not both")


def _range_points(
    sub: pa.Table, params: LineshapeParams, what: str, start: np.ndarray, step: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-row point indices (low, high) of ``params.<what>_range_hz`` (or ``_ppm``), or None."""
    hz = getattr(params, f"{what}_range_hz")
    ppm = getattr(params, f"{what}_range_ppm")
    if hz is None and ppm is None:
        return None
    if hz is not None:
        lo_hz, hi_hz = np.full(start.size, hz[0]), np.full(start.size, hz[1])
    else:
        ref = column_or(sub, "reference_frequency_hz", np.nan)
        if np.isnan(ref).any():
            bad = int(np.argmax(np.isnan(ref)))
            raise ProcessingError(
                f"{describe_row(sub, bad)}: {what}_range_ppm needs reference_frequency_hz"
            )
        obs = column_or(sub, "observe_frequency_hz", np.nan)
        lo_hz, hi_hz = ppm_to_hz(ppm[0], obs, ref), ppm_to_hz(ppm[1], obs, ref)
    a, b = (lo_hz - start) / step, (hi_hz - start) / step
    first, last = np.ceil(np.minimum(a, b)), np.floor(np.maximum(a, b))
    outside = (last < 0) | (first > n - 1) | (last < first)
    if outside.any():
        bad = int(np.argmax(outside))
        raise ProcessingError(
            f"{describe_row(sub, bad)}: {what} range holds no point of the spectrum "
            f"({start[bad]:.6g} to {start[bad] + step[bad] * (n - 1):.6g} Hz)"
        )
    return np.clip(first, 0, n - 1).astype(int), np.clip(last, 0, n - 1).astype(int)


def _gather(
    y: np.ndarray, first: np.ndarray, length: int, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of ``length`` points of ``y`` starting at ``first`` (one per row of ``rows``,
    default all), their indices and a mask of the indices inside the row."""
    rows = np.arange(y.shape[0]) if rows is None else rows
    idx = first[:, None] + np.arange(length)[None, :]
    inside = (idx >= 0) & (idx < y.shape[1])
    idx = np.clip(idx, 0, y.shape[1] - 1)
    return y[rows[:, None], idx], idx, inside


def _row_argmax(values: np.ndarray, block: int = 64) -> np.ndarray:
    """``argmax`` along rows, by blocks of rows: numpy copies a whole read-only (Arrow-backed)
    array before ``argmax``; block views keep that copy small and in cache."""
    return np.concatenate(
        [values[b : b + block].argmax(axis=1) for b in range(0, values.shape[0], block)]
    )


def _range_sum(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sum of ``y[r, lo[r]:hi[r]+1]`` for every row (a slice when the range is shared)."""
    if np.all(lo == lo[0]) and np.all(hi == hi[0]):
        return y[:, lo[0] : hi[0] + 1].sum(axis=1)
    length = int((hi - lo).max()) + 1
    window, idx, inside = _gather(y, lo, length)
    return np.where(inside & (idx <= hi[:, None]), window, 0.0).sum(axis=1)


def _half_height_width(
    y: np.ndarray, kp: np.ndarray, half: np.ndarray, sigma: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """FWHM (points) from the half-height crossings nearest the peak (linear interpolation),
    its error (noise over the slope at each crossing), whether both crossings were found, and
    the midpoint of the crossings (points).

    Searches a window around the peak that grows (x8) for rows whose crossings lie outside it.
    """
    rows, n = y.shape
    width = np.full(rows, np.nan)
    err = np.full(rows, np.nan)
    middle = np.full(rows, np.nan)
    todo = np.arange(rows)
    half_window = 256
    while todo.size:
        length = 2 * half_window + 1
        window, idx, inside = _gather(y, kp[todo] - half_window, length, todo)
        centre = half_window
        k = np.arange(length)[None, :]
        below = (window < half[todo, None]) & inside
        left = np.where(below & (k < centre), k, -1).max(axis=1)
        right = np.where(below & (k > centre), k, length).min(axis=1)
        found = (left >= 0) & (right < length)
        r = np.arange(todo.size)
        li, ri = np.clip(left, 0, length - 2), np.clip(right, 1, length - 1)
        y_l, y_l1 = window[r, li], window[r, li + 1]
        y_r, y_r1 = window[r, ri], window[r, ri - 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            x_l = li + (half[todo] - y_l) / (y_l1 - y_l)
            x_r = ri - (half[todo] - y_r) / (y_r1 - y_r)
            e = sigma[todo] * np.sqrt(1.0 / (y_l1 - y_l) ** 2 + 1.0 / (y_r1 - y_r) ** 2)
        width[todo[found]] = (x_r - x_l)[found]
        err[todo[found]] = e[found]
        middle[todo[found]] = (0.5 * (x_l + x_r) + kp[todo] - half_window)[found]
        if length >= 2 * n + 1:
            break
        todo = todo[~found]
        half_window *= 8
    return width, err, np.isfinite(width), middle


def _noise_block(
    y: np.ndarray, kp: np.ndarray, given: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Noise points of every row: (values, mask, first index, last index).

    The ``given`` range when set, else the quarter of the spectrum (at most 1024 points) at
    the end farther from the peak.
    """
    m, n = y.shape
    if given is not None:
        lo, hi = given
    else:
        size = max(16, min(n // 4, 1024))
        lo = np.where(kp >= n // 2, 0, n - size)
        hi = lo + size - 1
    length = int((hi - lo).max()) + 1
    values, idx, inside = _gather(y, lo, length)
    return values, inside & (idx <= hi[:, None]), lo, hi


def _noise(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offset, sigma and final mask of the noise points (one 3-sigma clipping pass)."""
    for clip in (False, True):
        count = np.maximum(mask.sum(axis=1), 1)
        c0 = np.where(mask, values, 0.0).sum(axis=1) / count
        sigma = masked_noise_sigma(values, mask)
        if not clip:
            mask = mask & (np.abs(values - c0[:, None]) <= 3.0 * sigma[:, None])
    return c0, sigma, mask


_FLAGS = ("half_height_not_found", "noise_region_near_peak", "fit_failed")
_BLOCK_ROWS = 256


@attrs.frozen
class _Ranges:
    """Point-index ranges of every row (None: automatic)."""

    peak: tuple[np.ndarray, np.ndarray]
    noise: tuple[np.ndarray, np.ndarray] | None
    integral: tuple[np.ndarray, np.ndarray] | None

    def rows(self, sl: slice) -> _Ranges:
        def cut(r: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray] | None:
            return None if r is None else (r[0][sl], r[1][sl])

        return _Ranges(cut(self.peak), cut(self.noise), cut(self.integral))  # type: ignore[arg-type]


def _peak_points(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Index of the largest point of every row within [lo, hi]."""
    if np.all(lo == lo[0]) and np.all(hi == hi[0]):
        return lo[0] + _row_argmax(y[:, lo[0] : hi[0] + 1])
    window, idx, inside = _gather(y, lo, int((hi - lo).max()) + 1)
    best = np.argmax(np.where(inside & (idx <= hi[:, None]), window, -np.inf), axis=1)
    return np.take_along_axis(idx, best[:, None], axis=1)[:, 0]


def _integral_error(noise: np.ndarray, mask: np.ndarray, n_summed: np.ndarray) -> np.ndarray:
    """Error (point units) of a sum of ``n_summed`` points minus ``n_summed`` times the offset
    measured on the noise points: both terms carry correlated noise and add in quadrature."""
    sum_err = correlated_sum_sigma(noise, mask, n_summed)
    count = np.maximum(mask.sum(axis=1), 1)
    offset_err = correlated_sum_sigma(noise, mask, count) / count
    return np.hypot(sum_err, n_summed * offset_err)


def _measure(
    y: np.ndarray, y_im: np.ndarray, ranges: _Ranges, params: LineshapeParams
) -> dict[str, np.ndarray]:
    """Everything in point units for a block of rows of the real spectrum ``y`` (``y_im``, the
    imaginary part, measures the residual phase at the peak)."""
    m, n = y.shape
    kp = _peak_points(y, *ranges.peak)
    noise_values, noise_mask, noise_lo, noise_hi = _noise_block(y, kp, ranges.noise)
    c0, sigma, noise_mask = _noise(noise_values, noise_mask)
    height = y[np.arange(m), kp] - c0
    width, width_err, found, middle = _half_height_width(y, kp, c0 + 0.5 * height, sigma)
    guess = np.where(found, np.maximum(width, 1.0), n / 20)
    gap = np.where(noise_lo > kp, noise_lo - kp, kp - noise_hi)
    # Fit window: max_fit_points samples with a per-row stride covering +-fit_window_fwhm.
    npts = params.max_fit_points
    stride = np.maximum(1, np.ceil(2 * params.fit_window_fwhm * guess / npts)).astype(int)
    idx = kp[:, None] + (np.arange(npts)[None, :] - npts // 2) * stride[:, None]
    inside = (idx >= 0) & (idx < n)
    idx = np.clip(idx, 0, n - 1)
    if params.model == "voigt":
        p0 = np.column_stack([height, kp, 0.5 * guess, 0.5 * guess, c0])
        positive_idx: tuple[int, ...] = (2, 3)
    else:
        p0 = np.column_stack([height, kp, guess, c0])
        positive_idx = (2,)
    fits = fit_rows(
        params.model,
        idx.astype(float),
        np.take_along_axis(y, idx, axis=1),
        p0,
        sigma,
        inside.astype(float),
        positive=positive_idx,
    )
    if params.model == "voigt":
        wl, wg = fits.values[:, 2], fits.values[:, 3]
        root = np.sqrt(0.2166 * wl**2 + wg**2)
        grad = np.column_stack([0.5346 + 0.2166 * wl / root, wg / root])
        fwhm = voigt_fwhm(wl, wg)
        fwhm_err = np.sqrt(np.einsum("rk,rkl,rl->r", grad, fits.covariance[:, 2:4, 2:4], grad))
    else:
        fwhm, fwhm_err = fits.values[:, 2], fits.stderr[:, 2]
    if ranges.integral is not None:
        ilo, ihi = ranges.integral
    else:
        centre = np.where(fits.success, fits.values[:, 1], kp)
        span = params.integral_fwhm * np.where(fits.success, fwhm, guess)
        ilo = np.clip(np.ceil(centre - span), 0, n - 1).astype(int)
        ihi = np.clip(np.floor(centre + span), 0, n - 1).astype(int)
    n_summed = ihi - ilo + 1
    # model error of the centre: a residual phase error phi mixes dispersion into the line and
    # moves the fitted centre by ~ (FWHM / 2) tan(phi). The dispersion integrates to ~0 over
    # the integral window around the line, so tan(phi) = sum(Im) / sum(Re) there (baselines
    # removed). The half-height midpoint's distance from the fitted centre (asymmetric lines)
    # counts too.
    im_base = np.median(y_im, axis=1)
    sum_re = _range_sum(y, ilo, ihi) - c0 * n_summed
    sum_im = _range_sum(y_im, ilo, ihi) - im_base * n_summed
    with np.errstate(divide="ignore", invalid="ignore"):
        tan_phi = np.where(sum_re > 0, sum_im / sum_re, 0.0)
    phase_shift = 0.5 * np.abs(fwhm) * np.abs(np.nan_to_num(tan_phi))
    asymmetry = np.where(found, np.abs(fits.values[:, 1] - middle), 0.0)
    centre_model = np.fmax(phase_shift, np.nan_to_num(asymmetry))
    out = {
        "centre": fits.values[:, 1],
        "centre_err": np.hypot(fits.stderr[:, 1], centre_model),
        "fwhm": fwhm,
        "fwhm_err": fwhm_err,
        "width": width,
        "width_err": width_err,
        "height": height,
        "sigma": sigma,
        "integral": _range_sum(y, ilo, ihi) - c0 * n_summed,
        "integral_err": _integral_error(noise_values - c0[:, None], noise_mask, n_summed),
        "ilo": ilo.astype(float),
        "ihi": ihi.astype(float),
        "reduced_chi2": fits.reduced_chi2,
        "flags": np.column_stack(
            [~found, gap < params.noise_exclusion_fwhm * guess, ~fits.success]
        ),
    }
    if params.model == "voigt":
        out["fwhm_lorentz"], out["fwhm_gauss"] = wl, wg
    return out


def _group(table: pa.Table, index: np.ndarray, params: LineshapeParams) -> pa.Table:
    sub = take_rows(table, index)
    rows = float_rows(table, index)
    check_finite_nonzero(table, rows, "spectrum", real_only=True)
    y = rows.re
    m, n = y.shape
    if n < 8:
        raise ProcessingError(
            f"{describe_row(table, int(index[0]))}: {n} points are too few for a lineshape"
        )
    start, step = axis_in_hz(sub)
    whole = (np.zeros(m, dtype=int), np.full(m, n - 1))
    ranges = _Ranges(
        peak=_range_points(sub, params, "peak", start, step, n) or whole,
        noise=_range_points(sub, params, "noise", start, step, n),
        integral=_range_points(sub, params, "integral", start, step, n),
    )
    parts = map_blocks(
        lambda sl: _measure(y[sl], rows.im[sl], ranges.rows(sl), params), m, _BLOCK_ROWS
    )
    pts = {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}
    return _columns(sub, pts, start, step, params)


def _columns(
    sub: pa.Table,
    pts: dict[str, np.ndarray],
    start: np.ndarray,
    step: np.ndarray,
    params: LineshapeParams,
) -> pa.Table:
    """The ``lineshape`` columns: point units -> Hz -> ppm, errors, flags, row metadata."""
    m = sub.num_rows
    hz = np.abs(step)
    peak_hz = start + step * pts["centre"]
    peak_hz_err = hz * pts["centre_err"]
    obs = column_or(sub, "observe_frequency_hz", np.nan)
    ref = column_or(sub, "reference_frequency_hz", np.nan)
    ref_err = np.where(np.isnan(ref), np.nan, column_or(sub, "reference_frequency_hz_err", 0.0))
    peak_ppm_err = np.hypot(peak_hz_err / ref, (obs + peak_hz) * ref_err / ref**2) * 1e6
    snr_time = column_or(sub, "snr_time", np.nan)
    snr_time_err = column_or(sub, "snr_time_err", np.nan)
    fwhm_hz, fwhm_hz_err = hz * pts["fwhm"], hz * pts["fwhm_err"]
    flags = np.column_stack([pts["flags"], np.isnan(ref), np.isnan(snr_time)])
    names = (*_FLAGS, "no_reference", "no_time_domain_snr")
    ids = sub.column("id").combine_chunks()

    def col(values: np.ndarray) -> pa.Array:
        return pa.array(values, from_pandas=True)  # NaN -> null

    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "id": ids,
        "spectrum_id": ids,
        "input_ids": pa.ListArray.from_arrays(pa.array(np.arange(m + 1, dtype=np.int32)), ids),
        "method": pa.array([f"nmr.lineshape {params.model}"] * m),
        "fit_model": pa.array([params.model] * m),
        "observe_frequency_hz": col(obs),
        "reference_frequency_hz": col(ref),
        "reference_frequency_hz_err": col(ref_err),
        "peak_hz": col(peak_hz),
        "peak_hz_err": col(peak_hz_err),
        "peak_ppm": col(hz_to_ppm(peak_hz, obs, ref)),
        "peak_ppm_err": col(peak_ppm_err),
        "fwhm_hz": col(fwhm_hz),
        "fwhm_hz_err": col(fwhm_hz_err),
        "fwhm_ppm": col(fwhm_hz / ref * 1e6),
        "fwhm_ppm_err": col(fwhm_hz_err / ref * 1e6),
        "fwhm_interp_hz": col(hz * pts["width"]),
        "fwhm_interp_hz_err": col(hz * pts["width_err"]),
        "height": col(pts["height"]),
        "integral": col(pts["integral"] * hz),
        "integral_err": col(pts["integral_err"] * hz),
        "integral_lo_hz": col(start + step * pts["ilo"]),
        "integral_hi_hz": col(start + step * pts["ihi"]),
        "noise_sigma": col(pts["sigma"]),
        "snr_freq": col(pts["height"] / pts["sigma"]),
        "snr_time": col(snr_time),
        "snr_time_err": col(snr_time_err),
        "reduced_chi2": col(pts["reduced_chi2"]),
        "flags": flag_lists(names, flags),
    }
    if params.model == "voigt":
        columns["fwhm_lorentz_hz"] = col(hz * pts["fwhm_lorentz"])
        columns["fwhm_gauss_hz"] = col(hz * pts["fwhm_gauss"])
    for name in (
        "cell", "campaign", "acquired_at", "nucleus", "reference", "n_scans", "spectral_width_hz"
    ):
        if name in sub.column_names:
            columns[name] = sub.column(name)
    return pa.table(columns)


def lineshape(table: pa.Table, params: LineshapeParams) -> pa.Table:
    """Lineshape results for every frequency-domain row of a ``spectrum`` table."""
    require_columns(table, ["re", "im", "x_start", "x_step", "x_unit"], "nmr.lineshape")
    require_domain(table, "frequency", "nmr.lineshape")
    parts = [(idx, _group(table, idx, params)) for idx in row_groups(table, [])]
    return reassemble(parts)
