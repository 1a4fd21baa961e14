"""Pake doublet: closed form, broadening, orientation average, fit, van Vleck second moments."""

from __future__ import annotations

import math

import attrs
import numpy as np
import pytest
from hydrofw_nmr.physics import (
    bif3_lah3,
    dipolar_coupling_hz,
    fm3m_lah10,
    pake_lineshape,
    pake_pattern,
    rigid_lattice_fwhm_hz,
    second_moment_gaussian_fwhm_hz,
    van_vleck_second_moment,
)
from hydrofw_nmr.physics.dipolar import (
    binned_kernel,
    pake_cdf,
    pake_powder_average,
    truncated_lorentzian_spectrum,
)
from hydrofw_nmr.physics.pake_fit import PakeFitParams, fit_pake
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import constants, special

import hydrofw
from hydrofw import Spectrum, to_table
from hydrofw.errors import ParameterError

GAMMA_H = 26.7522128e7


def _coupling_by_hand(r_angstrom: float) -> float:
    return (
        constants.mu_0
        / (4 * math.pi)
        * GAMMA_H**2
        * constants.hbar
        / (r_angstrom * 1e-10) ** 3
        / (2 * math.pi)
    )


@pytest.mark.parametrize(
    ("r", "physics_md_khz"),
    [(0.74, 296.4), (0.75, 284.7), (1.0, 120.1), (1.1, 90.25), (1.24, 63.00)],
)
def test_dipolar_coupling(r: float, physics_md_khz: float) -> None:
    d = float(dipolar_coupling_hz(r))
    assert d == pytest.approx(_coupling_by_hand(r), rel=1e-12)
    assert d / 1e3 == pytest.approx(physics_md_khz, abs=0.06)


def test_horns_and_edges_of_the_closed_form() -> None:
    d = float(dipolar_coupling_hz(1.0))
    assert d == pytest.approx(120.12e3, abs=10)
    eps = 1e-9 * d
    for sign in (-1, 1):
        # horns (theta = 90 deg) at +-0.75 d: the density diverges there
        assert (
            pake_pattern(np.array([sign * (0.75 * d - eps)]), d)[0]
            > 1e3 * pake_pattern(np.array([0.0]), d)[0]
        )
        # edges (theta = 0) at +-1.5 d: nothing beyond
        assert pake_pattern(np.array([sign * (1.5 * d + eps)]), d)[0] == 0.0
        assert pake_pattern(np.array([sign * (1.5 * d - eps)]), d)[0] > 0.0
    # horn splitting 1.5 d, edge splitting 3 d; between horns and edges only one branch
    assert pake_cdf(np.array([1.5 * d]), d)[0] == pytest.approx(1.0)
    assert pake_cdf(np.array([-1.5 * d]), d)[0] == pytest.approx(0.0)
    assert pake_cdf(np.array([0.0]), d)[0] == pytest.approx(0.5)
    # one branch: fraction between x = -1 and x = 2 with x = nu/s, s = 3d/4, CDF sqrt((x+1)/3)
    inner = pake_cdf(np.array([0.75 * d]), d)[0] - pake_cdf(np.array([-0.75 * d]), d)[0]
    assert inner == pytest.approx(math.sqrt(2 / 3))


def test_broadened_horns_sit_near_three_quarters_d() -> None:
    d = float(dipolar_coupling_hz(1.0))
    freq = np.linspace(-300e3, 300e3, 6001)
    y = pake_lineshape(freq, d, broadening_fwhm_hz=1e3)
    left, right = (
        freq[np.argmax(np.where(freq < 0, y, 0))],
        freq[np.argmax(np.where(freq > 0, y, 0))],
    )
    assert right - left == pytest.approx(1.5 * d, rel=5e-3)  # horn splitting 180.2 kHz
    half_max_edge = freq[np.flatnonzero(y > 1e-3 * y.max())]
    assert half_max_edge[-1] - half_max_edge[0] == pytest.approx(3 * d, rel=0.02)  # edges 360 kHz


@pytest.mark.parametrize("shape", ["gaussian", "lorentzian"])
def test_area_is_normalised(shape: str) -> None:
    d = float(dipolar_coupling_hz(1.1))
    freq = np.linspace(-2e6, 2e6, 40001)
    y = pake_lineshape(freq, [d, 0.5 * d], [0.3, 0.7], broadening_fwhm_hz=4e3, shape=shape)
    area = np.trapezoid(y, freq)
    tails = 0.0 if shape == "gaussian" else 2 * 2e3 / (math.pi * 2e6)  # Lorentzian beyond +-2 MHz
    assert area == pytest.approx(1.0 - tails, rel=2e-4)


@pytest.mark.parametrize("shape", ["gaussian", "lorentzian"])
def test_closed_form_matches_orientation_average(shape: str) -> None:
    d = float(dipolar_coupling_hz(1.0))
    freq = np.linspace(-250e3, 250e3, 1001)
    exact = pake_lineshape(freq, d, broadening_fwhm_hz=8e3, shape=shape, offset_hz=1.5e3)
    brute = pake_powder_average(
        freq, d, broadening_fwhm_hz=8e3, shape=shape, n_orientations=20000, offset_hz=1.5e3
    )
    assert np.max(np.abs(exact - brute)) < 1e-3 * exact.max()


@settings(max_examples=15, deadline=None)
@given(r=st.floats(0.7, 2.5), fwhm_fraction=st.floats(0.03, 0.5))
def test_closed_form_matches_average_property(r: float, fwhm_fraction: float) -> None:
    d = float(dipolar_coupling_hz(r))
    freq = np.linspace(-2.2 * d, 2.2 * d, 801)
    fwhm = fwhm_fraction * d
    exact = pake_lineshape(freq, d, broadening_fwhm_hz=fwhm)
    brute = pake_powder_average(freq, d, broadening_fwhm_hz=fwhm, n_orientations=4000)
    assert np.max(np.abs(exact - brute)) < 2e-3 * exact.max()


def _spectrum(freq: np.ndarray, y: np.ndarray) -> Spectrum:
    return Spectrum(
        nucleus="1H",
        observe_frequency_hz=395e6,
        spectral_width_hz=float(np.ptp(freq)),
        re=y,
        im=np.zeros_like(y),
        domain="frequency",
        x_start=freq[0],
        x_step=freq[1] - freq[0],
        x_unit="Hz",
        cell="H2",
    )


def test_fit_recovers_two_distances() -> None:
    """H2 phase III-like: r_n = 0.75 A and r_nn = 1.24 A with weights 0.6 / 0.4."""
    rng = np.random.default_rng(8)
    freq = np.linspace(-600e3, 600e3, 1201)
    d = dipolar_coupling_hz(np.array([0.75, 1.24]))
    truth = 1e3 * pake_lineshape(freq, d, [0.6, 0.4], broadening_fwhm_hz=6e3, offset_hz=2e3)
    noise = 0.02 * truth.max()
    y = truth + rng.normal(0.0, noise, freq.size)
    out = hydrofw.process(
        "nmr.pake_fit", to_table([_spectrum(freq, y)]), n_distances=2, baseline=False
    ).to_pylist()[0]
    r, r_err = np.array(out["distance_angstrom"]), np.array(out["distance_angstrom_err"])
    assert np.all(r_err > 0)
    assert np.all(np.abs(r - [0.75, 1.24]) < 3 * r_err)
    assert np.all(r_err < 0.01)
    w, w_err = np.array(out["weight"]), np.array(out["weight_err"])
    assert np.all(np.abs(w - [0.6, 0.4]) < 3 * w_err)
    assert abs(out["broadening_hz"] - 6e3) < 3 * out["broadening_hz_err"]
    assert abs(out["offset_hz"] - 2e3) < 3 * out["offset_hz_err"]
    np.testing.assert_allclose(out["horn_splitting_hz"], 1.5 * dipolar_coupling_hz(r))
    assert out["noise_sigma"] == pytest.approx(noise, rel=0.15)
    assert 0.7 < out["reduced_chi2"] < 1.3


def test_fit_with_central_line() -> None:
    rng = np.random.default_rng(3)
    freq = np.linspace(-300e3, 300e3, 801)
    d = float(dipolar_coupling_hz(1.0))
    pattern = pake_lineshape(freq, d, broadening_fwhm_hz=5e3)
    # the Gaussian central line is bin-integrated: its exact mass over each point's bin
    sigma = 2e3 / (2 * math.sqrt(2 * math.log(2)))
    edges = np.append(freq - 375.0, freq[-1] + 375.0) / (math.sqrt(2) * sigma)
    central = np.diff(0.5 * (1 + special.erf(edges))) / 750.0
    y = 0.8 * pattern + 0.2 * central + rng.normal(0, 0.01 * pattern.max(), freq.size)
    out = hydrofw.process(
        "nmr.pake_fit",
        to_table([_spectrum(freq, y)]),
        central_line=True,
        central_shape="gaussian",
        initial_distances_angstrom=(1.05,),
    ).to_pylist()[0]
    assert abs(out["distance_angstrom"][0] - 1.0) < 3 * out["distance_angstrom_err"][0]
    assert abs(out["central_fraction"] - 0.2) < 3 * out["central_fraction_err"]
    assert abs(out["central_fwhm_hz"] - 2e3) < 3 * out["central_fwhm_hz_err"]


def test_pake_fit_refuses_time_domain_rows() -> None:
    fid = Spectrum(
        nucleus="1H",
        observe_frequency_hz=395e6,
        spectral_width_hz=1e5,
        re=np.ones(64),
        im=np.zeros(64),
    )
    with pytest.raises(ParameterError, match="fid_to_spectrum"):
        hydrofw.process("nmr.pake_fit", to_table([fid]))


def test_van_vleck_pair() -> None:
    d = float(dipolar_coupling_hz(1.0))
    m2 = van_vleck_second_moment([1.0])
    assert m2 == pytest.approx(9 / 20 * (2 * math.pi * d) ** 2, rel=1e-12)  # (9/20) d^2, I = 1/2
    fwhm = second_moment_gaussian_fwhm_hz(m2)
    assert fwhm / d == pytest.approx(2 * math.sqrt(2 * math.log(2) * 9 / 20), rel=1e-12)
    assert fwhm / d == pytest.approx(1.5796, abs=1e-4)
    assert fwhm == pytest.approx(189.8e3, rel=1e-3)
    assert rigid_lattice_fwhm_hz([1.0]) == pytest.approx(fwhm)


def test_lah10_rigid_lattice_width() -> None:
    lattice = fm3m_lah10(5.10, x=0.12)
    assert len(lattice.sites) == 40
    assert lattice.closest_distance_angstrom() == pytest.approx((0.25 - 0.12) * math.sqrt(3) * 5.10)
    assert lattice.closest_distance_angstrom() == pytest.approx(1.148, abs=1e-3)
    assert math.sqrt(lattice.second_moment()) / (2 * math.pi) == pytest.approx(105.6e3, rel=2e-3)
    assert lattice.rigid_lattice_fwhm_hz() == pytest.approx(249e3, rel=5e-3)
    assert rigid_lattice_fwhm_hz(lattice) == lattice.rigid_lattice_fwhm_hz()
    assert fm3m_lah10(4.90).rigid_lattice_fwhm_hz() == pytest.approx(280e3, rel=5e-3)
    assert lattice.rigid_lattice_fwhm_hz(cutoff_angstrom=20.0) == pytest.approx(
        lattice.rigid_lattice_fwhm_hz(), rel=2e-3
    )  # converged in the cutoff


def test_lah3_rigid_lattice_width() -> None:
    assert bif3_lah3(5.6).rigid_lattice_fwhm_hz() == pytest.approx(38.6e3, rel=5e-3)
    assert bif3_lah3(4.7).rigid_lattice_fwhm_hz() == pytest.approx(65e3, rel=0.01)
    # widths scale as a^-3 for a fixed structure
    ratio = bif3_lah3(4.7).rigid_lattice_fwhm_hz() / bif3_lah3(5.6).rigid_lattice_fwhm_hz()
    assert ratio == pytest.approx((5.6 / 4.7) ** 3, rel=2e-3)  # up to the fixed 15 A cutoff


def test_bad_lineshape_arguments() -> None:
    with pytest.raises(ParameterError):
        pake_lineshape(np.array([0.0, 1.0, 3.0]), 1e5)
    with pytest.raises(ParameterError):
        pake_lineshape(np.linspace(-1, 1, 5), -1e5)
    with pytest.raises(ParameterError):
        van_vleck_second_moment([])


# -- lattice line + weak H2 doublet, as in a DAC solid echo ------------------------------------
DWELL_S = 0.5e-6  # 2 MHz spectral width
N_ACQ = 1024


def _spectrum_of_fid(fid: np.ndarray, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """First point halved, zero fill, FFT with the carrier at the centre: (axis Hz, spectrum)."""
    data = fid.copy()
    data[0] *= 0.5
    spec = np.fft.fftshift(np.fft.fft(data, n_out))
    return np.fft.fftshift(np.fft.fftfreq(n_out, DWELL_S)), spec


def _lattice_fid(t_s: np.ndarray, offset_hz: float, fwhm_hz: float) -> np.ndarray:
    return np.exp((2j * math.pi * offset_hz - math.pi * fwhm_hz) * t_s)


def _pake_fid(t_s: np.ndarray, distances: list[float], weights: list[float]) -> np.ndarray:
    """Orientation average of cos(2 pi (3/4) d (3u^2 - 1) t), 15 kHz Gaussian decay."""
    u = (np.arange(3000) + 0.5) / 3000
    out = np.zeros(t_s.size)
    for r, w in zip(distances, weights, strict=True):
        split = 0.75 * float(dipolar_coupling_hz(r)) * (3 * u**2 - 1)
        out += w * np.cos(2 * math.pi * np.outer(t_s, split)).mean(axis=1)
    return out * np.exp(-((math.pi * 15e3 * t_s) ** 2) / (4 * math.log(2)))


@pytest.mark.parametrize("n_out", [N_ACQ, 2 * N_ACQ])
def test_truncated_lorentzian_is_the_exact_dft(n_out: int) -> None:
    t = np.arange(N_ACQ) * DWELL_S
    freq, spec = _spectrum_of_fid(_lattice_fid(t, 437.0, 1300.0), n_out)
    model = truncated_lorentzian_spectrum(
        freq, 437.0, 1300.0, dwell_s=DWELL_S, acquired_points=N_ACQ
    )
    np.testing.assert_allclose(model, 2 * DWELL_S * spec, atol=1e-9 * np.abs(spec).max() * DWELL_S)
    # a constant over the acquired points (fwhm 0), including the point at the carrier
    freq, flat = _spectrum_of_fid(np.ones(N_ACQ, complex), n_out)
    dc = truncated_lorentzian_spectrum(freq, 0.0, 0.0, dwell_s=DWELL_S, acquired_points=N_ACQ)
    np.testing.assert_allclose(dc, 2 * DWELL_S * flat, atol=1e-9 * N_ACQ * DWELL_S)


def test_binned_kernel_keeps_the_area_of_a_line_narrower_than_a_point() -> None:
    freq = np.arange(-64, 64) * 2e3
    for shape in ("gaussian", "lorentzian"):
        area = binned_kernel(freq, 300.0, 200.0, shape).sum() * 2e3
        tails = 0.0 if shape == "gaussian" else 2 * 100 / (math.pi * 128e3)
        assert area == pytest.approx(1.0 - tails, rel=1e-3)


def _echo_spectrum(h2_fraction: float, n_out: int, seed: int) -> Spectrum:
    """Lattice line (1.3 kHz Lorentzian, truncated) + H2 doublets (0.75 / 1.24 A, 0.6 / 0.4),
    receiver offset removed from the whole trace, time-domain SNR 3000 of the sum."""
    rng = np.random.default_rng(seed)
    t = np.arange(N_ACQ) * DWELL_S
    fid = (1 - h2_fraction) * _lattice_fid(t, 250.0, 1300.0)
    fid = fid + h2_fraction * _pake_fid(t, [0.75, 1.24], [0.6, 0.4])
    fid = fid + (rng.normal(0, 1 / 3000, N_ACQ) + 1j * rng.normal(0, 1 / 3000, N_ACQ))
    fid = fid - fid[-N_ACQ // 4 :].mean()  # DC correction from the (non-decayed) tail
    freq, spec = _spectrum_of_fid(fid, n_out)
    return attrs.evolve(_spectrum(freq, spec.real), spectral_width_hz=1 / DWELL_S)


@pytest.mark.parametrize(
    ("n_out", "max_points", "exclude_hz"),
    [
        (N_ACQ, 1024, None),  # the DC-correction spike at the carrier is modelled
        (N_ACQ, 1024, (-1000, 1000)),  # or left out
        (2 * N_ACQ, None, None),  # zero filled: the line and the DC offset wiggle
        (2 * N_ACQ, 1024, (-1000, 1000)),  # and averaged over pairs of points
    ],
)
def test_fit_weak_doublet_under_a_truncated_lattice_line(
    n_out: int, max_points: int | None, exclude_hz: tuple[float, float] | None
) -> None:
    spectrum = _echo_spectrum(0.08, n_out, seed=5)
    out = hydrofw.process(
        "nmr.pake_fit",
        to_table([attrs.evolve(spectrum, acquired_points=N_ACQ)]),
        n_distances=2,
        central_line=True,
        exclude_hz=exclude_hz,
        max_points=max_points,
    ).to_pylist()[0]
    r, r_err = np.array(out["distance_angstrom"]), np.array(out["distance_angstrom_err"])
    assert np.all(np.abs(r - [0.75, 1.24]) < 4 * r_err)
    h2, h2_err = 1 - out["central_fraction"], out["central_fraction_err"]
    assert abs(h2 - 0.08) < 4 * h2_err
    assert h2_err < 0.01
    assert abs(out["central_fwhm_hz"] - 1300) < 4 * out["central_fwhm_hz_err"]
    assert "distance_unconstrained" not in out["flags"]
    assert ("1000 Hz excluded" in out["method"]) == (exclude_hz is not None)


def test_too_weak_a_doublet_is_flagged_unconstrained() -> None:
    spectrum = _echo_spectrum(0.0005, N_ACQ, seed=6)
    out = hydrofw.process(
        "nmr.pake_fit",
        to_table([spectrum]),
        n_distances=2,
        central_line=True,
        exclude_hz=(-1000, 1000),
    ).to_pylist()[0]
    assert "distance_unconstrained" in out["flags"]
    assert 1 - out["central_fraction"] < 0.0005 + 4 * out["central_fraction_err"]


def test_fit_phase_recovers_a_first_order_phase_error() -> None:
    """The transform's time origin 0.45 dwell time before the echo top (the signal is late),
    and a zero-order phase error: the spectrum is the true one times exp(i (0.1 - 2 pi nu
    delay))."""
    rng = np.random.default_rng(7)
    t = np.arange(N_ACQ) * DWELL_S
    fid = 0.9 * _lattice_fid(t, 250.0, 1300.0) + 0.1 * _pake_fid(t, [0.75, 1.24], [0.6, 0.4])
    fid = fid + (rng.normal(0, 1 / 3000, N_ACQ) + 1j * rng.normal(0, 1 / 3000, N_ACQ))
    freq, spec = _spectrum_of_fid(fid, N_ACQ)
    delay_s = 0.45 * DWELL_S
    y = (spec * np.exp(1j * (0.1 - 2 * math.pi * freq * delay_s))).real
    params = PakeFitParams(n_distances=2, central_line=True, exclude_hz=(-1000, 1000))
    plain = fit_pake(freq, y, params)
    res = fit_pake(freq, y, attrs.evolve(params, fit_phase=True))
    err = dict(zip(res.fit.names, res.fit.stderr, strict=True))
    assert res.delay_s == pytest.approx(delay_s, abs=4 * err["delay_s"])
    assert res.phase_rad == pytest.approx(0.1, abs=4 * err["phase_rad"])
    assert np.all(np.abs(res.distance_angstrom - [0.75, 1.24]) < 4 * res.distance_angstrom_err)
    assert abs(1 - res.central_fraction - 0.1) < 4 * res.central_fraction_err
    assert res.fit.reduced_chi2 < plain.fit.reduced_chi2
    assert plain.phase_rad is None and plain.delay_s is None


def test_pake_fit_parameters() -> None:
    p = PakeFitParams(exclude_hz=(500, -500))
    assert p.exclude_hz == (-500.0, 500.0)
    with pytest.raises(ValueError):
        PakeFitParams(central_shape="voigt")
    with pytest.raises(ValueError):
        PakeFitParams(max_points=8)
    with pytest.raises(ValueError, match="whole transform axis"):
        PakeFitParams(fit_phase=True, range_hz=(-1e5, 1e5))
    with pytest.raises(ParameterError):
        truncated_lorentzian_spectrum(np.zeros(4), 0.0, 100.0, dwell_s=0.0, acquired_points=4)
