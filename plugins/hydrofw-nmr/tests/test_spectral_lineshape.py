"""nmr.lineshape and auto-phase: SNR scaling, fits against fit_curve, integral errors."""

from __future__ import annotations

import math
import warnings

import nmrglue as ng
import numpy as np
import pytest
from hydrofw_nmr.spectral.numerics import frequency_axis_hz, time_domain_snr
from hydrofw_nmr.spectral.phase import auto_phase, phase_radians
from hydrofw_nmr.spectral.profiles import fit_rows, lorentzian, voigt_fwhm
from hydrofw_nmr.spectral.simulate import fid, table
from hypothesis import given, settings
from hypothesis import strategies as st

import hydrofw
from hydrofw.fitting import fit_curve

SW = 100e3
N = 4096


def test_time_domain_snr_scales_with_sqrt_scans() -> None:
    # Averaging NS scans divides the noise by sqrt(NS) (signal detectable already at NS = 1).
    snr = {}
    for ns in (1, 4, 16, 64):
        fids = np.stack(
            [
                fid(N, SW, [(1.0, 2000.0, 300.0)], noise=0.2 / math.sqrt(ns), seed=s)
                for s in range(40)
            ]
        )
        snr[ns] = float(np.mean(time_domain_snr(fids, n_head=4)[0]))
    for ns in (4, 16, 64):
        assert snr[ns] / snr[1] == pytest.approx(math.sqrt(ns), rel=0.1)


def test_frequency_domain_snr_scales_with_sqrt_scans() -> None:
    out = {}
    for ns in (1, 16):
        fids = [
            fid(N, SW, [(1.0, 2000.0, 300.0)], noise=0.2 / math.sqrt(ns), seed=s) for s in range(10)
        ]
        spec = hydrofw.process("nmr.fid_to_spectrum", table(fids, SW), phase="auto_p0")
        rows = hydrofw.process("nmr.lineshape", spec).to_pylist()
        out[ns] = np.mean([r["snr_freq"] for r in rows])
        assert all(r["snr_time"] > 0 for r in rows)
    assert out[16] / out[1] == pytest.approx(4.0, rel=0.15)


def _phased(
    lines: list[tuple[float, float, float]], p0: float, p1: float
) -> tuple[np.ndarray, np.ndarray]:
    f = fid(N, SW, lines, noise=0.01, seed=3)
    f[0] *= 0.5
    spec = np.fft.fftshift(np.fft.fft(f, 2 * N))
    axis = frequency_axis_hz(2 * N, SW)
    return spec * np.exp(-1j * phase_radians(axis, SW, p0, p1)), axis


@pytest.mark.parametrize(
    ("lines", "tolerance_deg"),
    [
        ([(1.0, -20e3, 100.0), (0.7, 5e3, 150.0), (0.5, 30e3, 80.0)], 2.0),  # narrow lines
        # broad pair: the dispersion tails of 4 kHz lines bias p1 by up to ~3 degrees
        ([(1.0, -30e3, 4e3), (0.8, 20e3, 4e3)], 4.0),
    ],
    ids=["narrow", "broad"],
)
@pytest.mark.parametrize(("p0", "p1"), [(40.0, -60.0), (-120.0, 150.0), (10.0, 300.0)])
def test_auto_phase_recovers_known_p0_p1(
    lines: list, tolerance_deg: float, p0: float, p1: float
) -> None:
    spec, axis = _phased(lines, p0, p1)
    found = auto_phase(spec[None], axis, SW)
    assert found.p0_deg[0] == pytest.approx(p0, abs=2.0)
    assert found.p1_deg[0] == pytest.approx(p1, abs=tolerance_deg)


def test_auto_p0_on_a_single_broad_line() -> None:
    spec, axis = _phased([(1.0, 10e3, 20e3)], 75.0, 0.0)
    found = auto_phase(spec[None], axis, SW)
    assert found.p0_deg[0] == pytest.approx(75.0, abs=2.0) and found.p1_deg[0] == 0.0


def test_auto_phase_is_at_least_as_good_as_nmrglue_acme() -> None:
    lines = [(1.0, -20e3, 100.0), (0.7, 5e3, 150.0), (0.5, 30e3, 80.0)]
    spec, axis = _phased(lines, 40.0, -60.0)
    ours = auto_phase(spec[None], axis, SW)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q0, q1 = ng.proc_autophase.autops(spec, "acme", disp=False, return_phases=True)[1]
    # nmrglue pivots at the first point (-SW/2): p0 at the carrier is q0 + q1/2
    assert abs(ours.p1_deg[0] + 60.0) <= abs(q1 + 60.0) + 0.5


def test_batched_fit_agrees_with_fit_curve() -> None:
    rng = np.random.default_rng(7)
    x = np.linspace(-50, 50, 201)
    truth = np.array([10.0, 3.0, 12.0, 0.5])
    y = lorentzian(x, *truth) + rng.normal(0, 0.2, x.size)
    ref = fit_curve(lorentzian, x, y, [8.0, 0.0, 10.0, 0.0], sigma=0.2)
    ours = fit_rows(
        "lorentzian",
        x[None],
        y[None],
        np.array([[8.0, 0.0, 10.0, 0.0]]),
        np.array([0.2]),
        positive=(2,),
    )
    np.testing.assert_allclose(ours.values[0], ref.values, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.stderr[0], ref.stderr, rtol=1e-2)
    assert ours.reduced_chi2[0] == pytest.approx(ref.reduced_chi2, rel=1e-4)


@pytest.mark.parametrize(
    ("zero_fill", "low", "high"),
    [
        (2048, 0.8, 1.2),  # independent points: the error matches the scatter
        (8192, 0.6, 1.1),  # 4x zero fill: slowly decaying correlation, up to ~30 % low
    ],
)
def test_integral_error_matches_the_scatter_of_repeats(
    zero_fill: int, low: float, high: float
) -> None:
    fids = [fid(2048, 20e3, [(1.0, 3000.0, 200.0)], noise=0.05, seed=s) for s in range(100)]
    spec = hydrofw.process(
        "nmr.fid_to_spectrum", table(fids, 20e3), zero_fill=zero_fill, phase=(0.0, 0.0)
    )
    rows = hydrofw.process("nmr.lineshape", spec, integral_range_hz=(1500.0, 4500.0)).to_pylist()
    values = np.array([r["integral"] for r in rows])
    errors = np.array([r["integral_err"] for r in rows])
    assert low < np.mean(errors) / np.std(values, ddof=1) < high


@settings(max_examples=15, deadline=None)
@given(offset_hz=st.floats(-30e3, 30e3), fwhm_hz=st.floats(50.0, 3000.0))
def test_peak_position_property(offset_hz: float, fwhm_hz: float) -> None:
    spec = hydrofw.process(
        "nmr.fid_to_spectrum", table([fid(N, SW, [(1.0, offset_hz, fwhm_hz)])], SW), zero_fill=2 * N
    )
    out = hydrofw.process("nmr.lineshape", spec).to_pylist()[0]
    assert out["peak_hz"] == pytest.approx(offset_hz, abs=0.05 * SW / (2 * N) + 1e-3 * fwhm_hz)
    assert out["fwhm_hz"] == pytest.approx(fwhm_hz, rel=0.02)


def test_lineshape_rejects_time_domain_rows_and_missing_columns() -> None:
    tab = table([fid(64, SW, [(1.0, 0.0, 100.0)])], SW)
    with pytest.raises(hydrofw.errors.HydrofwError, match="frequency-domain"):
        hydrofw.process("nmr.lineshape", tab)
    spec = hydrofw.process("nmr.fid_to_spectrum", tab)
    with pytest.raises(hydrofw.errors.HydrofwError, match="x_unit"):
        hydrofw.process("nmr.lineshape", spec.drop_columns(["x_unit"]))


def test_voigt_fit_gives_the_olivero_width_of_a_voigt_fid() -> None:
    # An FID with exponential (Lorentzian FWHM wl) and Gaussian (FWHM wg) decay is a Voigt line.
    wl, wg = 300.0, 500.0
    t = np.arange(N) / SW
    decay = np.exp(-np.pi * wl * t - (np.pi * wg * t) ** 2 / (4 * np.log(2)))
    f = decay * np.exp(2j * np.pi * 7000.0 * t) + 1e-4 * np.random.default_rng(2).standard_normal(N)
    spec = hydrofw.process(
        "nmr.fid_to_spectrum", table([f], SW), zero_fill=4 * N, apodization="none", phase="auto_p0"
    )
    out = hydrofw.process("nmr.lineshape", spec, model="voigt").to_pylist()[0]
    assert out["fwhm_lorentz_hz"] == pytest.approx(wl, rel=0.02)
    assert out["fwhm_gauss_hz"] == pytest.approx(wg, rel=0.02)
    assert out["fwhm_hz"] == pytest.approx(voigt_fwhm(wl, wg), rel=0.01)
    assert out["fwhm_interp_hz"] == pytest.approx(voigt_fwhm(wl, wg), rel=0.01)


def test_ranges_in_ppm_select_the_right_line() -> None:
    # Two lines 10 ppm apart at 395 MHz; the ppm window picks the weaker one.
    f = fid(N, SW, [(1.0, -3950.0, 200.0), (0.3, 0.0, 200.0)], noise=1e-3)
    spec = hydrofw.process("nmr.fid_to_spectrum", table([f], SW), zero_fill=2 * N)
    ref = hydrofw.process("nmr.reference", spec, proton_tms_frequency_hz=395e6)
    out = hydrofw.process("nmr.lineshape", ref, peak_range_ppm=(-3.0, 3.0)).to_pylist()[0]
    assert out["peak_ppm"] == pytest.approx(0.0, abs=0.01)
    with pytest.raises(hydrofw.errors.HydrofwError, match="not both"):
        hydrofw.process("nmr.lineshape", ref, peak_range_ppm=(0, 1), peak_range_hz=(0, 1))
    with pytest.raises(hydrofw.errors.HydrofwError, match="reference_frequency_hz"):
        hydrofw.process("nmr.lineshape", spec, peak_range_ppm=(-3.0, 3.0))


def test_range_outside_the_spectrum_and_unknown_model_raise() -> None:
    spec = hydrofw.process("nmr.fid_to_spectrum", table([fid(256, SW, [(1.0, 0.0, 500.0)])], SW))
    with pytest.raises(hydrofw.errors.HydrofwError, match="peak range holds no point"):
        hydrofw.process("nmr.lineshape", spec, peak_range_hz=(60e3, 70e3))
    with pytest.raises(hydrofw.errors.HydrofwError, match="model"):
        hydrofw.process("nmr.lineshape", spec, model="sinc")


@pytest.mark.parametrize("phase_error_deg", [0.0, 3.0, -6.0])
def test_peak_error_covers_a_residual_phase_error(phase_error_deg) -> None:
    # A small residual zero-order phase mixes dispersion into the line and moves its fitted
    # centre by ~ FWHM x phase / 4; the reported error must cover that shift.
    offset_hz, fwhm_hz = 2000.0, 300.0
    fids = [fid(N, SW, [(1.0, offset_hz, fwhm_hz)], noise=0.002, seed=s,
                phase_deg=phase_error_deg) for s in range(8)]
    spec = hydrofw.process("nmr.fid_to_spectrum", table(fids, SW), phase=(0.0, 0.0))
    rows = hydrofw.process("nmr.lineshape", spec, model="lorentzian").to_pylist()
    z = np.array([(r["peak_hz"] - offset_hz) / r["peak_hz_err"] for r in rows])
    assert np.all(np.abs(z) <= 3), z
    if phase_error_deg:
        shift = np.mean([r["peak_hz"] for r in rows]) - offset_hz
        assert abs(shift) > 1.0  # the phase error does move the centre (Hz)
