"""Component FIDs of a 1H acquisition on the digital time grid, exact for how it was acquired.

Components (unit amplitude at t = 0, offset ``offset_hz`` from the carrier, ``exp(+2 pi i f t)``):

- ``hydride``: the narrow metal-hydride line, exp(-pi W t) (Lorentzian of FWHM W);
- ``h2_n``, ``h2_nn``: the exact powder FID of a like-spin pair at distance r
  (:func:`.dipolar.pake_fid`) times a Gaussian broadening envelope (an FWHM each);
- ``broad``: a Gaussian line (precursor LaH3), exp(-(pi W t)^2 / 4 ln 2).

Sample n of a trace sits at t_n = (n - origin) dwell + time_offset (``origin`` the fractional
index of the time origin: the digital-filter group delay, or an echo top). Two consoles:

- ``analog`` (no digital filter, e.g. Varian/TecMag): the ADC samples the signal itself, so a
  line broader than the spectral width folds back (aliases) and the model is the closed form at
  t_n: exact, aliasing included.
- ``digital`` (Bruker DSP): the signal is low-pass filtered and decimated; everything outside
  +-SW/2 is removed and the first points after t = 0 (and before it) carry the band-limited
  ringing of the step at t = 0. The model is the ideal (brick-wall) decimation filter applied to
  the continuous signal: its spectrum on the DFT grid of the band (spacing SW/M), then the
  inverse DFT at the sample times (a fractional origin is a linear phase, exact for band-limited
  signals). The hydride's spectrum is in closed form, 1/(pi W - 2 pi i (f0 - f)), and the
  periodisation of the inverse DFT is removed analytically; the short components (H2, broad)
  are sampled on a grid ``L`` times finer than the dwell (wide enough to hold their whole
  spectrum), transformed, cut to the band, and need only a short period M_s.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
import scipy.fft

from .dipolar import dipolar_coupling_hz, gaussian_envelope, pake_fid

__all__ = ["COMPONENTS", "SHAPE_PARAMETERS", "Acquisition", "component_signal", "columns"]

COMPONENTS = ("hydride", "h2_n", "h2_nn", "broad")
#: nonlinear (shape) parameters each component depends on, besides the shared offset
SHAPE_PARAMETERS = {
    "hydride": ("hydride_fwhm_hz",),
    "h2_n": ("r_n_angstrom", "h2_fwhm_hz"),
    "h2_nn": ("r_nn_angstrom", "h2_nn_fwhm_hz"),
    "broad": ("broad_fwhm_hz",),
}
_SHORT = ("h2_n", "h2_nn", "broad")
#: the Gaussian FWHM parameter of each short component
_WIDTH = {"h2_n": "h2_fwhm_hz", "h2_nn": "h2_nn_fwhm_hz", "broad": "broad_fwhm_hz"}


def _pow2(n: float) -> int:
    return 1 << max(0, int(math.ceil(math.log2(max(n, 1.0)))))


@attrs.frozen
class Acquisition:
    """Sampling of a batch of traces: ``n_points`` per trace, ``dwell_s``, per-trace ``origin``
    (fractional index of t = 0), ``time_offset_s`` (true time of the origin point), the console's
    filter (``digital`` True: brick-wall decimation filter), and for the digital model the
    oversampling ``oversample`` and short period ``short_period`` (points) of the H2/broad
    components (see :func:`plan`)."""

    n_points: int
    dwell_s: float
    origin: np.ndarray
    time_offset_s: float = 0.0
    digital: bool = False
    oversample: int = 8
    short_period: int = 512
    analog_poles: int = 0  #: Butterworth order of an analog receiver filter (0: none modelled)
    analog_cutoff_hz: float = 0.0  #: its -3 dB frequency
    transition_hz: float = 0.0  #: digital filter: full width of a raised-cosine edge at SW/2

    @property
    def times_s(self) -> np.ndarray:
        """(B, N) sample times."""
        n = np.arange(self.n_points, dtype=float)
        return (n[None, :] - self.origin[:, None]) * self.dwell_s + self.time_offset_s

    @staticmethod
    def plan(
        n_points: int,
        dwell_s: float,
        origin: np.ndarray,
        *,
        digital: bool,
        time_offset_s: float = 0.0,
        reach_hz: float = 1.0e6,
        min_short_fwhm_hz: float = 2.0e3,
        analog_poles: int = 0,
        analog_cutoff_hz: float = 0.0,
        transition_hz: float = 0.0,
    ) -> Acquisition:
        """An acquisition whose fine grid holds spectra out to ``reach_hz`` from the carrier and
        whose short period holds the whole trace and the slowest short component (Gaussian
        envelope at 1e-4 after 3 sqrt(4 ln2) / (pi FWHM)) after the latest origin, twice over:
        the brick-wall ringing of a spectrum cut at +-SW/2 decays only as 1/t and must not
        wrap around into the trace."""
        sw = 1.0 / dwell_s
        oversample = max(2, int(math.ceil(2.0 * reach_hz / sw)) + 1)
        decay_points = (
            3.0 * math.sqrt(4.0 * math.log(2.0)) / (math.pi * min_short_fwhm_hz) / dwell_s
        )
        latest = float(np.max(origin)) if np.size(origin) else 0.0
        short = max(
            _pow2(n_points), _pow2(2.0 * (latest + decay_points + abs(time_offset_s) / dwell_s))
        )
        return Acquisition(
            n_points,
            dwell_s,
            np.asarray(origin, float),
            time_offset_s,
            digital,
            oversample,
            short,
            analog_poles,
            analog_cutoff_hz,
            transition_hz,
        )


def component_signal(
    name: str, t_s: np.ndarray, shape: dict[str, np.ndarray], offset_hz: np.ndarray
) -> np.ndarray:
    """Closed-form signal of component ``name`` (unit amplitude at t = 0) at times ``t_s``
    (B, T); ``shape``/``offset_hz`` hold (B,) parameters (without ``h2_nn_fwhm_hz`` both H2
    doublets take ``h2_fwhm_hz``). Zero for t < 0 (causal)."""

    def col(v: np.ndarray) -> np.ndarray:
        return np.asarray(v, float)[:, None]

    t = np.maximum(t_s, 0.0)
    if name in ("h2_n", "h2_nn") and "h2_offset_hz" in shape:
        offset_hz = shape["h2_offset_hz"]
    if name == "hydride":
        env = np.exp(-math.pi * col(shape["hydride_fwhm_hz"]) * t)
    else:
        width = shape.get(_WIDTH[name], shape.get("h2_fwhm_hz"))  # one width for both pairs
        # the Gaussian envelope is below 1e-20 after 3.5 / FWHM: leave those points at 0
        cut = 3.5 / float(np.min(width)) if np.size(width) else 0.0
        keep = np.flatnonzero(np.any(t < cut, axis=0))
        tk = t[:, keep]
        env = np.zeros(t.shape)
        if name in ("h2_n", "h2_nn"):
            r = col(shape["r_n_angstrom" if name == "h2_n" else "r_nn_angstrom"])
            part = pake_fid(tk, dipolar_coupling_hz(r))
        elif name == "broad":
            part = 1.0
        else:
            raise KeyError(name)
        env[:, keep] = part * gaussian_envelope(tk, col(width))
    out = env * np.exp(2j * math.pi * col(offset_hz) * t)
    return np.where(t_s >= 0.0, out, 0.0)


def _band_to_time(
    spectrum: np.ndarray, low_edge: np.ndarray, high_edge: np.ndarray, acq: Acquisition, m: int
) -> np.ndarray:
    """Samples (B, min(N, m)) of the band-limited signal whose continuous spectrum is
    ``spectrum`` (B, m) at the band's grid frequencies k SW/m, k = -m/2..m/2-1 (natural order),
    with the band edges +-SW/2 (``low_edge``, ``high_edge``, (B,)) shared by trapezoid weights.
    Time origin and offset enter as a linear phase, exact for a band-limited signal."""
    sw = 1.0 / acq.dwell_s
    freq = (np.arange(m) - m // 2) * (sw / m)
    c = acq.time_offset_s - acq.origin * acq.dwell_s  # (B,) time of sample 0
    coef = spectrum * np.exp(2j * math.pi * freq[None, :] * c[:, None])
    edge = 0.5 * (low_edge + high_edge * np.exp(2j * math.pi * sw * c))
    coef[:, 0] = edge * np.exp(-1j * math.pi * sw * c)
    samples = scipy.fft.ifft(scipy.fft.ifftshift(coef, axes=1), axis=1) * (m / (m * acq.dwell_s))
    return samples[:, : min(acq.n_points, m)]


def _exponential_digital(acq: Acquisition, w: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """Band-limited samples (B, N) of exp((2 pi i f0 - pi w) t) u(t): its closed-form spectrum
    1/(pi w - 2 pi i (f0 - f)) on a long period m (>= 8 N), less the copies the inverse DFT adds
    one and more periods later (their band-limited ringing left, ~ 2 / (pi^2 m))."""
    m = max(4096, _pow2(8 * acq.n_points))
    sw = 1.0 / acq.dwell_s
    w = np.asarray(w, float)[:, None]
    f0 = np.asarray(f0, float)[:, None]

    def spec(f: np.ndarray) -> np.ndarray:
        return 1.0 / (math.pi * w - 2j * math.pi * (f0 - f))

    freq = (np.arange(m) - m // 2) * (sw / m)
    low, high = spec(np.array([[-sw / 2]]))[:, 0], spec(np.array([[sw / 2]]))[:, 0]
    out = _band_to_time(spec(freq[None, :]), low, high, acq, m)
    lam = 2j * math.pi * f0[:, 0] - math.pi * w[:, 0]
    q = np.exp(lam * m * acq.dwell_s)
    out -= np.exp(lam[:, None] * acq.times_s) * (q / (1.0 - q))[:, None]
    return out


def _short_digital(
    name: str, acq: Acquisition, shape: dict[str, np.ndarray], offset_hz: np.ndarray
) -> np.ndarray:
    """A short component: its step at t = 0 as an exponential of decay SW/8 (closed form, long
    period) plus the remainder, which is continuous at t = 0 and so has no 1/f spectral tail:
    it is sampled on the fine grid, transformed and cut to the band on the short period."""
    m, ell = acq.short_period, acq.oversample
    h = acq.dwell_s / ell
    w_ref = np.full(len(acq.origin), 0.125 / acq.dwell_s)
    t = np.arange(m * ell) * h
    if name in ("h2_n", "h2_nn") and "h2_offset_hz" in shape:
        offset_hz = shape["h2_offset_hz"]
    lam = (2j * math.pi * np.asarray(offset_hz, float) - math.pi * w_ref)[:, None]
    s = component_signal(name, np.broadcast_to(t, (len(acq.origin), t.size)), shape, offset_hz)
    s -= np.exp(lam * t[None, :])
    fine = scipy.fft.fft(s, axis=1) * h  # s(0) = 0: the trapezoid rule needs no half point
    k = np.arange(-(m // 2), m // 2 + 1) % (m * ell)
    picked = fine[:, k]
    out = _exponential_digital(acq, w_ref, offset_hz)
    band = _band_to_time(picked[:, :-1], picked[:, 0], picked[:, -1], acq, m)
    out[:, : band.shape[1]] += band
    return out


def _butterworth(acq: Acquisition, f: np.ndarray) -> np.ndarray:
    """Response H(f) of the analog Butterworth receiver filter (real channels: H(-f) = H*)."""
    from scipy import signal as sp_signal

    z, p, k = sp_signal.butter(
        acq.analog_poles, 2.0 * math.pi * acq.analog_cutoff_hz, analog=True, output="zpk"
    )
    return sp_signal.freqs_zpk(z, p, k, worN=2.0 * math.pi * f)[1]


def _raised_cosine(acq: Acquisition, f: np.ndarray) -> np.ndarray:
    """Zero-phase decimation filter with a raised-cosine edge of full width ``transition_hz``
    centred on SW/2 (H(SW/2 - x) + H(SW/2 + x) = 1, as for a linear-phase FIR cut at SW/2)."""
    half, w = 0.5 / acq.dwell_s, acq.transition_hz
    x = np.clip((np.abs(f) - (half - 0.5 * w)) / w, 0.0, 1.0)
    return 0.5 * (1.0 + np.cos(math.pi * x))


def _fine_filtered(
    name: str, acq: Acquisition, shape: dict[str, np.ndarray], offset_hz: np.ndarray
) -> np.ndarray:
    """Samples of the signal after a receiver filter of known response H(f), then sampled at
    the dwell (what the filter passes beyond +-SW/2 aliases, as in the console). The signal is
    built on the fine grid over a period of at least 2 N points from t = 0, filtered by its
    spectrum times H, and read at the sample times; a time offset or fractional origin is a
    linear phase on the fine grid. H: the Butterworth of an analog console, or the
    raised-cosine edge of a digital one."""
    ell = acq.oversample
    m = max(acq.short_period, _pow2(2 * acq.n_points))
    h = acq.dwell_s / ell
    t = np.arange(m * ell) * h
    b = len(acq.origin)
    s = component_signal(name, np.broadcast_to(t, (b, t.size)), shape, offset_hz)
    s[:, 0] *= 0.5
    f = scipy.fft.fftfreq(m * ell, h)
    response = _raised_cosine(acq, f) if acq.digital else _butterworth(acq, f)
    c = acq.time_offset_s - acq.origin * acq.dwell_s  # (B,) time of sample 0
    shift = np.exp(2j * math.pi * f[None, :] * c[:, None])
    filtered = scipy.fft.ifft(scipy.fft.fft(s, axis=1) * response[None, :] * shift, axis=1)
    idx = (np.arange(acq.n_points) * ell) % (m * ell)
    return filtered[:, idx]


def columns(
    names: tuple[str, ...],
    acq: Acquisition,
    shape: dict[str, np.ndarray],
    offset_hz: np.ndarray,
) -> dict[str, np.ndarray]:
    """Model traces (B, N) of the named components for the batch's parameters."""
    out = {}
    for name in names:
        if (not acq.digital and acq.analog_poles > 0) or (acq.digital and acq.transition_hz > 0):
            out[name] = _fine_filtered(name, acq, shape, offset_hz)
        elif not acq.digital:
            out[name] = component_signal(name, acq.times_s, shape, offset_hz)
        elif name == "hydride":
            out[name] = _exponential_digital(acq, shape["hydride_fwhm_hz"], offset_hz)
        else:
            out[name] = _short_digital(name, acq, shape, offset_hz)
    return out
