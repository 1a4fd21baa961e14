"""Receiver chains of the simulated consoles: how a continuous-time NMR signal becomes the
sampled complex points a console stores.

A signal model is a callable ``model(t_s) -> complex array`` giving the signal at times ``t_s``
(s) after the start of acquisition (pulse end or echo top); the chains evaluate it only at
``t >= 0`` and feed zero before (the receiver is open, noise only). Every chain delivers white
complex noise of sigma 1 per channel in its output points, so the amplitude of a model at
t = 0 is its time-domain SNR.

* :class:`IdealReceiver`: samples the model at ``k / SW``, first point at t = 0, no filter
  (content outside +-SW/2 folds in unattenuated).
* :class:`DigitalFilterReceiver` (Bruker DSP): the ADC oversamples at ``DECIM * SW``, a
  linear-phase FIR low-pass (:func:`scipy.signal.firwin`, Kaiser window, cut-off SW/2)
  filters and decimates (every DECIM-th output of the convolution). Its delay is ``GRPDLY``
  output points exactly: t = 0 of the signal sits at point ``GRPDLY``, the points before hold
  the filter's pre-ringing on the step at t = 0 and the points just after its Gibbs ringing;
  content outside +-SW/2 is removed.
* :class:`AnalogFilterReceiver` (Varian/Agilent): an analog Butterworth low-pass of bandwidth
  ``fb`` (simulated at 4x oversampling), then plain sampling at SW, so out-of-band content is
  only attenuated by the filter's roll-off and aliases; the first point is taken
  ``dead_time_s`` (rof2 + alfa) after the pulse, and the probe's pulse ring-down (a decaying
  oscillation from the pulse end) leaks into the first points. An echo (``echo_open_s`` < 0:
  the receiver opened that long before the echo top) is sampled from its top, with the filter
  fed the rising half of the echo since the receiver opened, and no ring-down.

Models are evaluated at t >= 0 only, except for echoes into an analog receiver, whose models
must accept negative times (the rising half of the echo).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs
import numpy as np
from scipy import signal as sps

__all__ = [
    "SignalModel",
    "IdealReceiver",
    "DigitalFilterReceiver",
    "AnalogFilterReceiver",
    "Receiver",
    "bruker_decimation",
]

SignalModel = Callable[[np.ndarray], np.ndarray]

#: Kaiser-window beta of the simulated Bruker FIR (about 90 dB stop-band attenuation)
_KAISER_BETA = 9.0


def _noise(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    return sigma * (rng.standard_normal(n) + 1j * rng.standard_normal(n))


def _evaluate(model: SignalModel, t_s: np.ndarray, start_s: float = 0.0) -> np.ndarray:
    """The model at ``t_s``, zero before ``start_s`` (the pulse end or the receiver opening)."""
    out = np.zeros(t_s.shape, dtype=np.complex128)
    on = t_s >= start_s
    out[on] = model(t_s[on])
    return out


def bruker_decimation(spectral_width_hz: float, adc_rate_hz: float = 20e6) -> int:
    """Decimation factor of the digitiser for a spectral width (power of two, ADC <= 20 MHz)."""
    return int(max(1, 2 ** math.floor(math.log2(adc_rate_hz / spectral_width_hz / 2))))


@attrs.frozen
class IdealReceiver:
    """Samples the model at ``k / SW`` from t = 0; no filter, no dead time."""

    kind: str = "ideal"

    def acquire(
        self,
        model: SignalModel,
        n_points: int,
        spectral_width_hz: float,
        rng: np.random.Generator,
        echo_open_s: float | None = None,
    ) -> np.ndarray:
        t = np.arange(n_points) / spectral_width_hz
        return _evaluate(model, t) + _noise(rng, n_points, 1.0)

    def truth(self, spectral_width_hz: float) -> dict[str, float | str]:
        return {"receiver": self.kind, "first_point_time_s": 0.0}


@attrs.frozen
class DigitalFilterReceiver:
    """Oversampling ADC + linear-phase FIR decimation filter of ``group_delay_points`` delay.

    The FIR has ``2 * floor(G * D) + 1`` taps (delay ``floor(G * D)`` ADC samples); the
    fractional rest of ``G * D`` is the ADC's sampling phase, so the total delay is exactly
    ``G`` output points for any decimation ``D``.
    """

    group_delay_points: float
    kind: str = "digital"

    def taps(self, decim: int) -> np.ndarray:
        half = int(math.floor(self.group_delay_points * decim))
        return sps.firwin(2 * half + 1, 1.0 / decim, window=("kaiser", _KAISER_BETA))

    def acquire(
        self,
        model: SignalModel,
        n_points: int,
        spectral_width_hz: float,
        rng: np.random.Generator,
        echo_open_s: float | None = None,
    ) -> np.ndarray:
        decim = bruker_decimation(spectral_width_hz)
        h = self.taps(decim)
        half = (h.size - 1) // 2
        frac = self.group_delay_points * decim - half  # ADC sampling phase, in ADC samples
        pad = -(-2 * half // decim) * decim  # ADC samples before the first output's window
        n_in = pad + n_points * decim
        i = np.arange(n_in) - pad  # ADC sample index; output k uses samples <= k D
        t = (i - frac) / (spectral_width_hz * decim)
        sigma_in = 1.0 / math.sqrt(float(np.sum(h**2)))
        x = _evaluate(model, t) + _noise(rng, n_in, sigma_in)
        # y[k] = sum_m h[m] x[k D - m]: the full convolution taken every D-th ADC sample
        y = sps.fftconvolve(x, h)[:n_in:decim]
        first = pad // decim
        return y[first : first + n_points]

    def truth(self, spectral_width_hz: float) -> dict[str, float | str]:
        decim = bruker_decimation(spectral_width_hz)
        return {
            "receiver": self.kind,
            "decimation": decim,
            "fir_taps": int(self.taps(decim).size),
            "group_delay_points": self.group_delay_points,
            "first_point_time_s": -self.group_delay_points / spectral_width_hz,
        }


@attrs.frozen
class AnalogFilterReceiver:
    """Analog Butterworth low-pass (``order`` poles, ``bandwidth_factor * SW`` cut-off), plain
    sampling at SW starting ``dead_time_s`` after the pulse, and a pulse ring-down (decaying
    with ``ringdown_time_s`` from the pulse end, through the same filter) scaled so that it
    adds ``ringdown_sigma`` noise sigmas to the most affected stored point: the narrower the
    filter, the more points its smeared tail reaches."""

    dead_time_s: float
    order: int = 6
    bandwidth_factor: float = 0.5
    ringdown_sigma: float = 0.0
    ringdown_time_s: float = 0.6e-6
    ringdown_offset_hz: float = 35e3
    oversample: int = 4
    kind: str = "analog"

    def bandwidth_hz(self, spectral_width_hz: float) -> float:
        """The filter bandwidth ``fb`` (Hz, single-sided cut-off)."""
        return self.bandwidth_factor * spectral_width_hz

    def _sos(self, spectral_width_hz: float) -> np.ndarray:
        fs = spectral_width_hz * self.oversample
        return sps.butter(self.order, self.bandwidth_hz(spectral_width_hz), fs=fs, output="sos")

    def acquire(
        self,
        model: SignalModel,
        n_points: int,
        spectral_width_hz: float,
        rng: np.random.Generator,
        echo_open_s: float | None = None,
    ) -> np.ndarray:
        fs = spectral_width_hz * self.oversample
        sos = self._sos(spectral_width_hz)
        impulse = sps.sosfilt(sos, np.r_[1.0, np.zeros(64 * self.oversample * self.order)])
        sigma_in = 1.0 / math.sqrt(float(np.sum(impulse**2)))
        settle = 32 * self.oversample * self.order  # noise settles before the first point
        n_in = settle + n_points * self.oversample
        first = self.dead_time_s if echo_open_s is None else 0.0
        t = first + (np.arange(n_in) - settle) / fs
        ring_phase = float(rng.uniform(-np.pi, np.pi))
        x = _evaluate(model, t, 0.0 if echo_open_s is None else echo_open_s)
        x = x + _noise(rng, n_in, sigma_in)
        y = sps.sosfilt(sos, x.real) + 1j * sps.sosfilt(sos, x.imag)
        out = y[settle :: self.oversample][:n_points]
        if self.ringdown_sigma and echo_open_s is None:
            ring = _evaluate(
                lambda tt: np.exp(
                    -tt / self.ringdown_time_s + 2j * np.pi * self.ringdown_offset_hz * tt
                ),
                t,
            )
            r = sps.sosfilt(sos, ring.real) + 1j * sps.sosfilt(sos, ring.imag)
            r = r[settle :: self.oversample][:n_points]
            out = out + self.ringdown_sigma * np.exp(1j * ring_phase) * r / np.max(np.abs(r))
        return out

    def group_delay_s(self, spectral_width_hz: float) -> float:
        """Group delay of the filter at zero frequency (s)."""
        sos = self._sos(spectral_width_hz)
        b, a = sps.sos2tf(sos)
        _, gd = sps.group_delay((b, a), w=[0.0], fs=spectral_width_hz * self.oversample)
        return float(gd[0]) / (spectral_width_hz * self.oversample)

    def truth(self, spectral_width_hz: float) -> dict[str, float | str]:
        return {
            "receiver": self.kind,
            "filter": f"{self.order}-pole Butterworth",
            "filter_bandwidth_hz": self.bandwidth_hz(spectral_width_hz),
            "filter_group_delay_s": self.group_delay_s(spectral_width_hz),
            "dead_time_s": self.dead_time_s,
            "first_point_time_s": self.dead_time_s,
            "ringdown_sigma": self.ringdown_sigma,
            "ringdown_time_s": self.ringdown_time_s,
        }


Receiver = IdealReceiver | DigitalFilterReceiver | AnalogFilterReceiver
