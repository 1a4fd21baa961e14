"""Low-level NMR numerics shared by the spectral and physics processors (public API).

Conventions used throughout ``hydrofw_nmr``:

* A complex time-domain signal of a line at offset ``f`` (Hz, from the carrier) rotates as
  ``exp(+2j*pi*f*t)``; this is how Bruker stores FIDs (as read by nmrglue).
* Frequency axes are ascending offsets from the carrier in Hz, point ``k`` of an ``n``-point
  spectrum at ``(k - n//2) * spectral_width_hz / n`` (``numpy.fft.fftshift`` order), so a
  positive offset is a higher frequency and, after referencing, a positive shift.
* Shifts in ppm are ``(nu - nu_ref) / nu_ref * 1e6`` (Hz/MHz), ``nu_ref`` the frequency of 0 ppm.
* Noise ``sigma`` is the standard deviation of *one* channel (real or imaginary) per point.

Every function accepts a single trace (1-D) or a batch (2-D, rows x points) along the last axis.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from hydrofw.errors import ValidationError

__all__ = [
    "frequency_axis_hz",
    "hz_to_ppm",
    "ppm_to_hz",
    "tail_noise_sigma",
    "mad_sigma",
    "difference_noise_sigma",
    "masked_noise_sigma",
    "time_domain_snr",
    "correlated_sum_sigma",
]


def frequency_axis_hz(n_points: int, spectral_width_hz: float) -> np.ndarray:
    """Ascending offsets from the carrier (Hz) of an ``n_points`` fftshift-ordered spectrum."""
    if n_points < 1 or not spectral_width_hz > 0:
        raise ValidationError(
            f"a frequency axis needs n_points >= 1 and spectral_width_hz > 0, "
            f"got {n_points} and {spectral_width_hz}"
        )
    return (np.arange(n_points) - n_points // 2) * (spectral_width_hz / n_points)


def hz_to_ppm(
    offset_hz: np.ndarray | float,
    observe_frequency_hz: np.ndarray | float,
    reference_frequency_hz: np.ndarray | float,
) -> np.ndarray:
    """Shift in ppm of a line at ``offset_hz`` from the carrier ``observe_frequency_hz``."""
    nu = np.asarray(observe_frequency_hz, float) + np.asarray(offset_hz, float)
    ref = np.asarray(reference_frequency_hz, float)
    return (nu - ref) / ref * 1e6


def ppm_to_hz(
    shift_ppm: np.ndarray | float,
    observe_frequency_hz: np.ndarray | float,
    reference_frequency_hz: np.ndarray | float,
) -> np.ndarray:
    """Offset from the carrier (Hz) of a line at ``shift_ppm``; inverse of :func:`hz_to_ppm`."""
    ref = np.asarray(reference_frequency_hz, float)
    return ref * (1.0 + np.asarray(shift_ppm, float) * 1e-6) - np.asarray(
        observe_frequency_hz, float
    )


def tail_noise_sigma(fid: np.ndarray, tail_fraction: float = 0.25) -> np.ndarray:
    """Per-channel noise sigma of the last ``tail_fraction`` of each FID (mean removed).

    The real and imaginary channels are pooled. Assumes the signal has decayed in the tail.
    """
    fid = np.asarray(fid)
    n = fid.shape[-1]
    if n < 2:
        raise ValidationError(f"a noise estimate needs at least 2 points, got {n}")
    m = min(n, max(2, int(round(n * tail_fraction))))
    tail = fid[..., n - m :]
    re, im = (tail.real, tail.imag) if np.iscomplexobj(tail) else (tail, np.zeros_like(tail))
    # sum |t - mean|^2 = sum |t|^2 - m |mean|^2, without complex temporaries
    power = np.einsum("...k,...k->...", re, re) + np.einsum("...k,...k->...", im, im)
    mean_re, mean_im = re.mean(axis=-1), im.mean(axis=-1)
    centred = np.clip(power - m * (mean_re**2 + mean_im**2), 0.0, None)
    return np.sqrt(centred / (2.0 * (m - 1)))


def mad_sigma(values: np.ndarray, max_points: int = 8192) -> np.ndarray:
    """Robust noise sigma along the last axis, 1.4826 MAD, from at most ``max_points`` evenly
    spaced points per row (the median ignores lines covering less than half the points)."""
    values = np.asarray(values, float)
    stride = max(1, values.shape[-1] // max_points)
    sample = values[..., ::stride]
    med = np.median(sample, axis=-1, keepdims=True)
    return 1.4826 * np.median(np.abs(sample - med), axis=-1)


def difference_noise_sigma(values: np.ndarray, max_points: int = 8192) -> np.ndarray:
    """Robust noise sigma from first differences, 1.4826 MAD(diff) / sqrt(2).

    Smooth signals (broad lines, baseline roll) barely contribute to point-to-point
    differences, so this estimates white noise even where signal is present. Neighbouring
    points correlated by zero filling or apodization make it an underestimate.
    """
    return mad_sigma(np.diff(np.asarray(values, float), axis=-1), max_points) / np.sqrt(2.0)


def masked_noise_sigma(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Standard deviation of ``values`` over the points where ``mask`` is True (per row)."""
    values = np.asarray(values, float)
    w = np.asarray(mask, bool)
    count = w.sum(axis=-1)
    safe = np.maximum(count, 2)
    mean = np.where(w, values, 0.0).sum(axis=-1) / safe
    dev = np.where(w, values - mean[..., None], 0.0)
    sigma = np.sqrt((dev**2).sum(axis=-1) / (safe - 1))
    return np.where(count >= 2, sigma, np.nan)


def _amplitude_at_origin(
    head: np.ndarray, sigma: np.ndarray, origin: np.ndarray, min_snr: float = 3.0
) -> tuple[np.ndarray, np.ndarray]:
    """(|signal|, its standard error) at the time origin (fractional index ``origin`` within
    ``head``), by a weighted straight-line fit of log|head| over the leading points that stand
    above ``min_snr`` noise sigmas, extrapolated to the origin. Exact for an exponential
    (Lorentzian) decay whatever its rate; var(log|S|) = sigma^2/|S|^2 weights the points, so
    the error is that of the extrapolated intercept. Rows with fewer than two such points fall
    back to |mean(head)| with an error of one noise unit."""
    # |S + noise| is biased high by the noise (Rice): E|S + n|^2 = |S|^2 + 2 sigma^2
    mag = np.sqrt(np.clip(np.abs(head) ** 2 - 2.0 * sigma[..., None] ** 2, 0.0, None))
    n = head.shape[-1]
    k = np.arange(n, dtype=float)
    strong = mag > min_snr * sigma[..., None]
    leading = np.cumprod(strong, axis=-1).astype(bool)  # up to the first weak point
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = np.where(leading, (mag / sigma[..., None]) ** 2, 0.0)  # var(log|S|) ~ sigma^2/|S|^2
        y = np.where(leading, np.log(np.where(leading, mag, 1.0)), 0.0)
        sw, swk, swkk = w.sum(-1), (w * k).sum(-1), (w * k * k).sum(-1)
        swy, swky = (w * y).sum(-1), (w * k * y).sum(-1)
        det = sw * swkk - swk**2
        slope = np.where(det > 0, (sw * swky - swk * swy) / det, 0.0)
        slope = np.minimum(slope, 0.0)  # a decay, never a growth
        intercept = (swy - slope * swk) / np.where(sw > 0, sw, 1.0)
        fitted = np.exp(intercept + slope * origin)
        var_log = (swkk - 2.0 * origin * swk + origin**2 * sw) / det
        # model error: the extrapolation from the first two points alone differs where the
        # decay is not a clean exponential (filter ringing at a fractional group delay, non-
        # Lorentzian lines); it enters in quadrature with the statistical error
        y0, y1 = y[..., 0], y[..., min(1, n - 1)]
        two_point = np.exp(y0 + np.minimum(y1 - y0, 0.0) * origin)
        fitted_err = np.hypot(fitted * np.sqrt(np.clip(var_log, 0.0, None)), two_point - fitted)
    enough = leading.sum(-1) >= 2
    amplitude = np.where(enough, fitted, np.abs(head.mean(axis=-1)))
    return amplitude, np.where(enough, fitted_err, sigma)


def time_domain_snr(
    fid: np.ndarray,
    n_head: int = 8,
    tail_fraction: float = 0.25,
    start: int = 0,
    origin: np.ndarray | float = 0.0,
    *,
    with_error: bool = False,
) -> tuple[np.ndarray, ...]:
    """Time-domain SNR at the time origin and the noise: ``|S(t=0)| / sigma_tail``.

    ``start`` skips points before the time origin (e.g. a digital filter's group delay);
    ``origin`` is the fractional index of t = 0 relative to ``start`` (Bruker's fractional
    group delay, an echo top between points). The amplitude at t = 0 is extrapolated from the
    first ``n_head`` points (see :func:`_amplitude_at_origin`), so broad lines whose FID decays
    within a few dwell times are not underestimated: this is the quantity the reciprocity
    spin count needs. Returns ``(snr, sigma)`` (and the SNR's standard error with
    ``with_error``); for averaged data the SNR grows as sqrt(scans).
    """
    fid = np.asarray(fid)
    if n_head < 1:
        raise ValidationError(f"n_head must be >= 1, got {n_head}")
    head = fid[..., start : start + n_head]
    if head.shape[-1] == 0:
        raise ValidationError(f"start={start} lies beyond the {fid.shape[-1]} FID points")
    sigma = tail_noise_sigma(fid, tail_fraction)
    origin_arr = np.broadcast_to(np.asarray(origin, dtype=float), sigma.shape)
    amplitude, amplitude_err = _amplitude_at_origin(head, sigma, origin_arr)
    # sigma itself is estimated from 2 m real values of the tail: relative error 1/(2 sqrt(m))
    m = min(fid.shape[-1], max(2, int(round(fid.shape[-1] * tail_fraction))))
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = amplitude / sigma
        if with_error:
            snr_err = snr * np.hypot(amplitude_err / amplitude, 0.5 / np.sqrt(m))
            return snr, sigma, snr_err
        return snr, sigma


def correlated_sum_sigma(
    residual: np.ndarray, mask: np.ndarray, n_summed: np.ndarray | int, max_lag: int = 64
) -> np.ndarray:
    """Standard deviation of a sum of ``n_summed`` adjacent noise points, per row.

    Zero filling and apodization correlate neighbouring spectral points, so the variance of a
    sum is ``n sigma^2 (1 + 2 sum_l (1 - l/n) rho_l)``, with the autocorrelation ``rho_l``
    measured (by FFT) on the signal-free points (``mask``) of ``residual`` up to ``max_lag``.
    """
    w = np.asarray(mask, float)
    r = np.where(mask, np.asarray(residual, float), 0.0)
    count = np.maximum(w.sum(axis=-1, keepdims=True), 1.0)
    r = r - r.sum(axis=-1, keepdims=True) / count * w
    lags = min(max_lag, r.shape[-1] - 1)
    size = scipy.fft.next_fast_len(r.shape[-1] + lags + 1, real=True)  # no wrap up to max_lag

    def autocorrelation(a: np.ndarray) -> np.ndarray:
        spectrum = scipy.fft.rfft(a, size, axis=-1, workers=-1)
        power = spectrum.real**2 + spectrum.imag**2
        return scipy.fft.irfft(power, size, axis=-1, workers=-1)[..., : lags + 1]

    num = autocorrelation(r)
    # pairs of unmasked points at each lag: n - lag for a full mask, else by FFT
    full = w.all(axis=-1)
    pairs = np.broadcast_to(w.shape[-1] - np.arange(lags + 1.0), num.shape).copy()
    if not full.all():
        pairs[~full] = autocorrelation(w[~full])
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = np.where(pairs > 0.5, num / np.maximum(pairs, 0.5), 0.0)
        rho = cov[..., 1:] / cov[..., :1]
    n = np.atleast_1d(np.asarray(n_summed, float))
    taper = np.clip(1.0 - np.arange(1, lags + 1) / n[..., None], 0.0, None)
    factor = np.clip(1.0 + 2.0 * (taper * np.nan_to_num(rho)).sum(axis=-1), 1e-12, None)
    return masked_noise_sigma(residual, mask) * np.sqrt(n * factor)
