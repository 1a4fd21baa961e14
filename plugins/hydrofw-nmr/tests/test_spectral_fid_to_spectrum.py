"""nmr.fid_to_spectrum on simulated FIDs: closed-form widths, positions, batches, bad input."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hydrofw_nmr.spectral.simulate import fid, table

import hydrofw
from hydrofw.errors import HydrofwError

SW = 50_000.0
N = 4096


def _spectrum(tab: pa.Table, **params: object) -> pa.Table:
    return hydrofw.process("nmr.fid_to_spectrum", tab, **params)


def _lineshape(tab: pa.Table, **params: object) -> dict:
    return hydrofw.process("nmr.lineshape", tab, **params).to_pylist()


def test_exponential_fid_gives_lorentzian_of_fwhm_one_over_pi_t2() -> None:
    t2_s = 1.0e-3
    f = fid(N, SW, [(1.0, 2500.0, 1.0 / (math.pi * t2_s))], noise=1e-3)
    out = _lineshape(_spectrum(table([f], SW), zero_fill=4 * N, apodization="none"))[0]
    expected = 1.0 / (math.pi * t2_s)
    assert out["fwhm_hz"] == pytest.approx(expected, rel=0.01)
    assert out["fwhm_interp_hz"] == pytest.approx(expected, rel=0.02)
    assert abs(out["fwhm_hz"] - expected) < 5 * out["fwhm_hz_err"] + 1e-3 * expected


def test_gaussian_fid_gives_closed_form_gaussian_width() -> None:
    # exp(-(pi w t)^2 / (4 ln 2)) is the transform of a Gaussian of FWHM w.
    width_hz = 800.0
    f = fid(N, SW, [(1.0, -4000.0, width_hz)], shape="gaussian", noise=1e-4)
    out = _lineshape(
        _spectrum(table([f], SW), zero_fill=2 * N, apodization="none"), model="gaussian"
    )[0]
    assert out["fwhm_hz"] == pytest.approx(width_hz, rel=0.01)
    assert out["fwhm_interp_hz"] == pytest.approx(width_hz, rel=0.01)


def test_exponential_apodization_adds_its_line_broadening() -> None:
    f = fid(N, SW, [(1.0, 0.0, 200.0)])
    out = _lineshape(_spectrum(table([f], SW), zero_fill=4 * N, line_broadening_hz=100.0))[0]
    assert out["fwhm_hz"] == pytest.approx(300.0, rel=0.01)


def test_positive_offset_lands_at_positive_hz_and_ppm() -> None:
    offset_hz = 3950.0  # 10 ppm at 395 MHz when the carrier sits at TMS
    f = fid(N, SW, [(1.0, offset_hz, 100.0)], phase_deg=30.0)
    spec = _spectrum(table([f], SW), zero_fill=4 * N)
    assert spec.column("x_unit")[0].as_py() == "Hz"
    ref = hydrofw.process("nmr.reference", spec, proton_tms_frequency_hz=395e6)
    out = _lineshape(ref)[0]
    assert out["peak_hz"] == pytest.approx(offset_hz, abs=0.5)
    assert out["peak_ppm"] == pytest.approx(10.0, abs=0.002)
    assert spec.column("phase_p0_deg")[0].as_py() == pytest.approx(-30.0, abs=1.0)


def test_axis_metadata_and_columns_are_kept() -> None:
    tab = table([fid(N, SW, [(1.0, 0.0, 100.0)])], SW, cell="DAC7", n_scans=64)
    spec = _spectrum(tab, zero_fill=8192, phase=(10.0, 0.0))
    row = spec.to_pylist()[0]
    assert row["domain"] == "frequency" and row["n_points"] == 8192 and row["acquired_points"] == N
    assert row["x_start"] == pytest.approx(-SW / 2) and row["x_step"] == pytest.approx(SW / 8192)
    assert row["cell"] == "DAC7" and row["n_scans"] == 64 and row["source_path"] == "simulated-0"
    assert row["history"][-1]["step"] == "nmr.fid_to_spectrum"


def test_fractional_group_delay_is_removed() -> None:
    # A FID delayed by 12.4 points (as a digital filter does) is restored to flat phase.
    delay = 12.4
    n_pad = 4 * N
    lines = [(1.0, -9000.0, 150.0), (0.6, 4000.0, 150.0), (0.8, 15000.0, 150.0)]
    clean = np.fft.fft(fid(N, SW, lines), n_pad)
    m = np.fft.fftfreq(n_pad) * n_pad
    delayed = np.fft.ifft(clean * np.exp(-2j * np.pi * m * delay / n_pad))[:N]
    tab = table([delayed], SW, group_delay_points=delay)
    spec = _spectrum(tab, zero_fill=n_pad, phase="auto_p0")
    assert spec.column("group_delay_removed_points")[0].as_py() == pytest.approx(delay)
    re = np.asarray(spec.column("re")[0].values)
    im = np.asarray(spec.column("im")[0].values)
    axis = -SW / 2 + np.arange(n_pad) * SW / n_pad
    peaks = [int(np.argmin(np.abs(axis - offset))) for _, offset, _ in lines]
    assert np.all(np.abs(np.degrees(np.arctan2(im[peaks], re[peaks]))) < 2.0)


def test_echo_top_is_found_and_shifted_to_time_zero() -> None:
    t = np.arange(N) / SW
    top = 200
    echo = np.exp(-((t - t[top]) ** 2) / (2 * (40 / SW) ** 2)) * np.exp(
        2j * np.pi * 1000.0 * (t - t[top])
    )
    spec = _spectrum(
        table([echo], SW), echo="symmetric", zero_fill=2 * N, phase="auto_p0", apodization="none"
    )
    out = _lineshape(spec, model="gaussian")[0]
    assert out["peak_hz"] == pytest.approx(1000.0, abs=2.0)
    re = np.asarray(spec.column("re")[0].values)
    im = np.asarray(spec.column("im")[0].values)
    k = int(np.argmax(re))
    assert abs(np.degrees(np.arctan2(im[k], re[k]))) < 2.0


def test_ragged_batch_keeps_row_order() -> None:
    fids = [
        fid(1024, SW, [(1.0, 1000.0, 300.0)]),
        fid(2048, SW, [(1.0, -2000.0, 300.0)]),
        fid(1024, SW, [(1.0, 3000.0, 300.0)]),
    ]
    spec = _spectrum(table(fids, SW), phase=(0.0, 0.0))
    assert spec.column("source_path").to_pylist() == ["simulated-0", "simulated-1", "simulated-2"]
    assert spec.column("n_points").to_pylist() == [1024, 2048, 1024]
    peaks = [r["peak_hz"] for r in _lineshape(spec)]
    assert peaks == pytest.approx([1000.0, -2000.0, 3000.0], abs=SW / 1024)


def test_single_precision_error_is_below_the_noise() -> None:
    f = fid(N, SW, [(1.0, 500.0, 200.0)], noise=0.01)
    tab = table([f], SW)
    double = np.asarray(_spectrum(tab, phase=(0.0, 0.0)).column("re")[0].values)
    single = np.asarray(_spectrum(tab, phase=(0.0, 0.0), precision="single").column("re")[0].values)
    noise = 0.01 * math.sqrt(N)
    assert np.abs(double - single).max() < 1e-3 * noise


def test_magnitude_mode_is_phase_independent() -> None:
    a = _spectrum(table([fid(N, SW, [(1.0, 0.0, 100.0)], phase_deg=0.0)], SW), phase="magnitude")
    b = _spectrum(table([fid(N, SW, [(1.0, 0.0, 100.0)], phase_deg=77.0)], SW), phase="magnitude")
    np.testing.assert_allclose(a.column("re")[0].values, b.column("re")[0].values, atol=1e-9)


def test_polynomial_baseline_removes_an_offset() -> None:
    f = fid(N, SW, [(1.0, 0.0, 100.0)], noise=1e-3)
    f[0] += 5.0  # a first-point error: a constant offset in the spectrum
    spec = _spectrum(table([f], SW), phase=(0.0, 0.0), baseline="polynomial", baseline_order=1)
    re = np.asarray(spec.column("re")[0].values)
    assert abs(np.median(re[: N // 4])) < 0.05


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.array([], complex), "no points"),
        (np.array([1.0, np.nan, 0.0, 0.0]) + 0j, "NaN"),
        (np.zeros(64, complex), "all zeros"),
    ],
)
def test_bad_fids_raise_hydrofw_errors_naming_the_row(data: np.ndarray, message: str) -> None:
    with pytest.raises(HydrofwError, match=message) as info:
        _spectrum(table([data], SW))
    assert "simulated-0" in str(info.value)


def test_missing_column_and_wrong_domain_raise() -> None:
    tab = table([fid(64, SW, [(1.0, 0.0, 100.0)])], SW)
    with pytest.raises(HydrofwError, match="re"):
        _spectrum(tab.drop_columns(["re"]))
    spec = _spectrum(tab)
    with pytest.raises(HydrofwError, match="time-domain"):
        _spectrum(spec)
    with pytest.raises(HydrofwError, match="phase"):
        _spectrum(tab, phase="sideways")
    with pytest.raises(HydrofwError, match="zero_fill"):
        _spectrum(tab, zero_fill=32)


def test_spline_baseline_removes_a_smooth_roll() -> None:
    f = fid(N, SW, [(1.0, 5000.0, 100.0)], noise=1e-3)
    spec = _spectrum(table([f], SW), phase=(0.0, 0.0))
    axis = -SW / 2 + np.arange(N) * SW / N
    roll = 3.0 * np.cos(2 * np.pi * axis / SW)
    rolled = spec.set_column(
        spec.column_names.index("re"),
        "re",
        pa.array([np.asarray(spec.column("re")[0].values) + roll]),
    )
    # the baseline applies to frequency-domain data through the FID path only, so compare
    # the detector directly on the rolled spectrum
    from hydrofw_nmr.spectral.baseline import fit_baseline

    re = np.asarray(rolled.column("re")[0].values)
    fitted, free, sigma = fit_baseline(re[None], "spline", 6)
    line = np.abs(axis - 5000.0) < 500.0
    assert not free[0, line].any()
    np.testing.assert_allclose(fitted[0, ~line], roll[~line], atol=5 * sigma[0])


def test_ppm_axis_needs_a_reference_and_matches_hz() -> None:
    tab = table([fid(N, SW, [(1.0, 3950.0, 100.0)])], SW, reference_frequency_hz=395e6)
    spec = _spectrum(tab, axis="ppm", zero_fill=2 * N).to_pylist()[0]
    assert spec["x_unit"] == "ppm"
    assert spec["x_start"] == pytest.approx(-SW / 2 / 395.0)
    assert spec["x_step"] == pytest.approx(SW / (2 * N) / 395.0)
    with pytest.raises(HydrofwError, match="reference_frequency_hz"):
        _spectrum(table([fid(N, SW, [(1.0, 0.0, 100.0)])], SW), axis="ppm")


def test_conjugate_flips_the_sign_of_the_offset() -> None:
    f = np.conj(fid(N, SW, [(1.0, 6000.0, 200.0)]))
    out = _lineshape(_spectrum(table([f], SW), conjugate=True, zero_fill=2 * N))[0]
    assert out["peak_hz"] == pytest.approx(6000.0, abs=1.0)


def test_left_shift_keeps_the_time_origin() -> None:
    # Dropping 3 points (e.g. receiver dead time) must not move the lines or twist their phase:
    # with no phase correction both lines stay absorptive at their centres.
    lines = [(1.0, -8000.0, 300.0), (1.0, 9000.0, 300.0)]
    spec = _spectrum(table([fid(N, SW, lines)], SW), left_shift_points=3, phase="none")
    assert spec.column("group_delay_removed_points")[0].as_py() == -3.0
    re = np.asarray(spec.column("re")[0].values)
    im = np.asarray(spec.column("im")[0].values)
    axis = -SW / 2 + np.arange(N) * SW / N
    for _, offset, _ in lines:
        k = int(np.argmin(np.abs(axis - offset)))
        assert abs(np.degrees(np.arctan2(im[k], re[k]))) < 5.0
