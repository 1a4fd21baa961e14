"""Noise under a decaying signal: the echo-top amplitudes of a relaxation series get errors
from the noise alone, not from the signal still ringing in the trace's tail."""

from __future__ import annotations

import numpy as np
from hydrofw_nmr.physics.amplitudes import decay_residual_sigma, time_domain_amplitudes

N, DWELL_S, FWHM_HZ = 1024, 0.5e-6, 1360.0


def _traces(amplitudes: np.ndarray, seed: int, sigma: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(N) * DWELL_S
    line = np.exp(2j * np.pi * 3e3 * t - np.pi * FWHM_HZ * t + 0.7j)
    noise = sigma * (
        rng.normal(size=(len(amplitudes), N)) + 1j * rng.normal(size=(len(amplitudes), N))
    )
    return amplitudes[:, None] * line[None, :] + noise + (5.0 + 2.0j)


def test_noise_of_a_ringing_tail_is_the_noise() -> None:
    """A line at SNR 600 still holds ~20 % of its top in the last quarter of 0.5 ms: the plain
    tail deviation is ~40x the noise; less one fitted decay it is the noise, to its error."""
    for amplitude in (600.0, 100.0, 18.0, 0.0):
        data = _traces(np.full(64, amplitude), seed=int(amplitude))
        data = data - data[:, -256:].mean(axis=1, keepdims=True)
        sigma, _ = decay_residual_sigma(data, 0, slice(N - 256, N))
        assert abs(np.mean(sigma) - 1.0) < 3 * 0.5 / np.sqrt(256 * 64), amplitude


def test_echo_top_errors_do_not_grow_with_the_signal() -> None:
    """A T2 series from 28000 down to 3500 (noise 47): every trace's error is the noise over
    the root of the points averaged (3: the top is the first point, the 5-point window is cut);
    they were proportional to the amplitude (1.7 %) before."""
    tops = np.array([28281, 27356, 25525, 22172, 16800, 10985, 7092, 3489], float)
    data = _traces(tops, seed=3, sigma=47.0)
    amp, err, _ = time_domain_amplitudes(data, method="echo_top", n_average=5)
    assert np.allclose(err, 47.0 / np.sqrt(3), rtol=0.15)
    assert np.all(np.abs(amp - tops) < 5 * err + 0.002 * tops)
