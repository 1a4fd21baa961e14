"""Low-level spectral numerics: zero-filled FFT, noise and SNR estimators, digital filter."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hydrofw_nmr.spectral.numerics import (
    correlated_sum_sigma,
    frequency_axis_hz,
    hz_to_ppm,
    mad_sigma,
    ppm_to_hz,
    tail_noise_sigma,
    time_domain_snr,
)
from hydrofw_nmr.spectral.transform import ZeroFilledFFT
from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 64), factor=st.floats(1.0, 5.0))
def test_zero_filled_fft_equals_the_padded_transform(n: int, factor: float) -> None:
    n_out = max(n, int(n * factor))
    rng = np.random.default_rng(n)
    x = rng.standard_normal((3, n)) + 1j * rng.standard_normal((3, n))
    expected = np.fft.fft(x, n_out, axis=1)
    np.testing.assert_allclose(ZeroFilledFFT.plan(n, n_out)(x.copy()), expected, atol=1e-10)


def test_split_transform_is_chosen_for_integer_factors() -> None:
    assert ZeroFilledFFT.plan(1024, 4096).twiddles is not None
    assert ZeroFilledFFT.plan(1024, 3000).twiddles is None
    assert ZeroFilledFFT.plan(1024, 1024).twiddles is None


def test_frequency_axis_and_ppm_round_trip() -> None:
    axis = frequency_axis_hz(8, 800.0)
    np.testing.assert_allclose(axis, [-400, -300, -200, -100, 0, 100, 200, 300])
    ppm = hz_to_ppm(1000.0, 100e6, 99.999e6)
    assert float(ppm) == pytest.approx((100.001e6 - 99.999e6) / 99.999e6 * 1e6)
    assert float(ppm_to_hz(ppm, 100e6, 99.999e6)) == pytest.approx(1000.0)


def test_noise_estimators_recover_a_known_sigma() -> None:
    rng = np.random.default_rng(4)
    noise = 0.3 * (rng.standard_normal((50, 4000)) + 1j * rng.standard_normal((50, 4000)))
    assert np.mean(tail_noise_sigma(noise)) == pytest.approx(0.3, rel=0.02)
    assert np.mean(mad_sigma(noise.real)) == pytest.approx(0.3, rel=0.03)


def test_time_domain_snr_of_a_known_signal() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(2048)
    fid = 5.0 * np.exp(-t / 100.0) + 0.5 * (
        rng.standard_normal(2048) + 1j * rng.standard_normal(2048)
    )
    snr, sigma = time_domain_snr(fid[None], n_head=4)
    assert sigma[0] == pytest.approx(0.5, rel=0.1)
    assert snr[0] == pytest.approx(5.0 * np.mean(np.exp(-np.arange(4) / 100.0)) / 0.5, rel=0.15)


@pytest.mark.parametrize("decay_points", [2.0, 5.0, 50.0, 300.0])
@pytest.mark.parametrize("origin", [0.0, 0.4])
def test_time_domain_snr_extrapolates_to_the_time_origin(decay_points, origin) -> None:
    # A broad line decays within a few points: the SNR that spin counting needs is the
    # amplitude at t = 0 (here between points when origin > 0), not the mean of the first ones.
    rng = np.random.default_rng(7)
    k = np.arange(4096)
    t = k - origin
    fid = 40.0 * np.exp(-t / decay_points + 0.3j * k) + 0.5 * (
        rng.standard_normal((200, k.size)) + 1j * rng.standard_normal((200, k.size))
    )
    snr, sigma = time_domain_snr(fid, n_head=8, origin=origin)
    assert np.median(sigma) == pytest.approx(0.5, rel=0.02)
    assert np.median(snr) == pytest.approx(80.0, rel=0.03)


def test_correlated_sum_sigma_matches_moving_sums_of_smoothed_noise() -> None:
    # Noise smoothed over 5 points: the sum of 40 neighbours has a known, larger variance.
    rng = np.random.default_rng(6)
    white = rng.standard_normal((200, 4096 + 4))
    smooth = (white[:, :-4] + white[:, 1:-3] + white[:, 2:-2] + white[:, 3:-1] + white[:, 4:]) / 5
    mask = np.ones_like(smooth, dtype=bool)
    predicted = correlated_sum_sigma(smooth, mask, 40)
    sums = np.add.reduceat(smooth, np.arange(0, 4096, 40), axis=1)[:, :-1]
    assert np.mean(predicted) == pytest.approx(np.std(sums), rel=0.05)
    # ignoring the correlation would underestimate it by a factor of about sqrt(5)
    assert np.mean(predicted) > 2.0 * math.sqrt(40) * np.std(smooth)


@pytest.mark.parametrize("group_delay", [67.98, 76.0, 67.3])
def test_one_sided_echo_top_sits_at_the_filter_delay(group_delay) -> None:
    # An echo acquired from its top behind a digital filter: a causal decay delayed by a
    # fractional number of points (band-limited, as the filter delivers it). The point before
    # the delay is the filter's rising edge; the top is the delay itself.
    from hydrofw_nmr.spectral.echo import echo_top

    n = 512
    f = np.fft.fftfreq(n)
    decay = np.zeros(n, complex)
    decay[:200] = np.exp(-np.arange(200) / 3.0)
    delayed = np.fft.ifft(np.fft.fft(decay) * np.exp(-2j * np.pi * f * group_delay))
    top, frac = echo_top(delayed[None], search_from=int(np.floor(group_delay)),
                         group_delay=group_delay)
    assert top[0] + frac[0] == pytest.approx(group_delay, abs=1e-9)
    # without the hint the parabola is pulled towards the rising edge
    top0, frac0 = echo_top(delayed[None], search_from=int(np.floor(group_delay)))
    assert abs(top0[0] + frac0[0] - group_delay) < 0.6
