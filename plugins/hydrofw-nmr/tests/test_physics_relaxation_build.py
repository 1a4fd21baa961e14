"""relaxation.build: amplitudes of synthetic series (time and frequency domain) and real files."""

from __future__ import annotations

import datetime as dt

import attrs
import numpy as np
import pytest

import hydrofw
from hydrofw import Spectrum, to_table
from hydrofw.errors import ParameterError, ValidationError

DWELL_S = 1e-5
N_POINTS = 512
T2_STAR_S = 3e-4
NOISE = 0.01
DELAYS_S = np.geomspace(1e-4, 0.03, 10)
DAY = dt.datetime(2024, 6, 2, 8, 0, tzinfo=dt.UTC)


def _fid(
    amplitude: float, rng: np.random.Generator, *, echo_at: int | None = None, phase: float = 0.7
) -> np.ndarray:
    t = np.arange(N_POINTS) * DWELL_S
    if echo_at is None:
        envelope = np.exp(-t / T2_STAR_S)
    else:
        envelope = np.exp(-np.abs(t - echo_at * DWELL_S) / T2_STAR_S)
    noise = rng.normal(0.0, NOISE, N_POINTS) + 1j * rng.normal(0.0, NOISE, N_POINTS)
    return amplitude * np.exp(1j * phase) * envelope + noise


def _series(
    amplitudes: np.ndarray,
    delays: np.ndarray,
    *,
    seed: int = 0,
    source: str = "s1",
    echo_at: int | None = None,
    **extra,
) -> list[Spectrum]:
    rng = np.random.default_rng(seed)
    out = []
    for k, (a, d) in enumerate(zip(amplitudes, delays, strict=True)):
        data = _fid(a, rng, echo_at=echo_at)
        out.append(
            Spectrum(
                nucleus="1H",
                observe_frequency_hz=395e6,
                spectral_width_hz=1 / DWELL_S,
                re=data.real,
                im=data.imag,
                domain="time",
                cell="A",
                acquired_at=DAY,
                source_sha256=source,
                increment=k,
                array_variable="vd",
                array_value=d,
                array_unit="s",
                **extra,
            )
        )
    return out


def _saturation(delays: np.ndarray, t1_s: float = 0.004) -> np.ndarray:
    return 1.0 - np.exp(-delays / t1_s)


def test_time_domain_first_points_amplitude_and_error() -> None:
    backwards = DELAYS_S[::-1].copy()  # rows in any order: the curve comes out sorted by delay
    table = to_table(_series(_saturation(backwards), backwards))
    out = hydrofw.process("relaxation.build", table, method="first_points", n_average=5)
    row = out.to_pylist()[0]
    scale = np.mean(np.exp(-np.arange(5) * DWELL_S / T2_STAR_S))  # mean envelope of the window
    np.testing.assert_allclose(row["delay_s"], DELAYS_S)
    expected = _saturation(DELAYS_S) * scale
    err = np.array(row["amplitude_err"])
    assert np.all(np.abs(np.array(row["amplitude"]) - expected) < 4 * err)
    np.testing.assert_allclose(err, NOISE / np.sqrt(5), rtol=0.25)
    assert row["amplitude_method"] == "first_points" and row["kind"] == "T1_saturation_recovery"
    assert len(row["source_ids"]) == DELAYS_S.size


def test_build_then_fit_recovers_t1() -> None:
    table = to_table(_series(_saturation(DELAYS_S, 0.004), DELAYS_S, seed=4))
    curves = hydrofw.process("relaxation.build", table)
    fit = hydrofw.process("relaxation.fit", curves).to_pylist()[0]
    assert abs(fit["t1_s"] - 0.004) < 2.5 * fit["t1_s_err"]
    assert fit["constrained"]


def test_skip_us_leaves_out_a_fast_line_with_its_own_t1() -> None:
    # a narrow line (T2* 0.3 ms, T1 4 ms) plus a fast Gaussian line (a dipolar H2 / precursor
    # signal gone within ~40 us) twice as strong with T1 = 20 ms: counted from t = 0 it biases
    # T1; from 60 us on the narrow line's T1 comes back
    t = np.arange(N_POINTS) * DWELL_S
    fast = 2.0 * np.exp(-((t / 15e-6) ** 2))
    spectra = _series(_saturation(DELAYS_S, 0.004), DELAYS_S, seed=9)
    rows = []
    for s, d in zip(spectra, DELAYS_S, strict=True):
        extra = fast * np.exp(0.7j) * _saturation(np.array([d]), 0.020)[0]
        re, im = np.asarray(s.re) + extra.real, np.asarray(s.im) + extra.imag
        rows.append(attrs.evolve(s, re=re, im=im))
    table = to_table(rows)
    biased = hydrofw.process("relaxation.fit", hydrofw.process("relaxation.build", table))
    clean = hydrofw.process(
        "relaxation.fit", hydrofw.process("relaxation.build", table, skip_us=60.0)
    ).to_pylist()[0]
    assert abs(clean["t1_s"] - 0.004) < 3 * clean["t1_s_err"]
    assert biased.column("t1_s")[0].as_py() > 0.006  # 7 ms: biased by the fast line
    with pytest.raises(ParameterError):
        hydrofw.process("relaxation.build", table, skip_us=-1.0)


def test_echo_top_is_located_and_tau_doubled() -> None:
    taus = np.geomspace(5e-5, 5e-3, 8)
    amps = np.exp(-2 * taus / 2e-3)
    table = to_table(_series(amps, taus, echo_at=120, seed=2))
    out = hydrofw.process(
        "relaxation.build", table, kind="T2_hahn_echo", echo_delay="tau", n_average=3
    ).to_pylist()[0]
    np.testing.assert_allclose(out["delay_s"], 2 * taus)  # delay_s is the full echo time 2 tau
    ratio = np.array(out["amplitude"]) / out["amplitude"][0]
    err = np.array(out["amplitude_err"]) / out["amplitude"][0]
    assert np.all(np.abs(ratio - amps / amps[0]) < 5 * err + 1e-3)
    fit = hydrofw.process(
        "relaxation.fit",
        hydrofw.process("relaxation.build", table, kind="T2_hahn_echo", echo_delay="tau"),
    ).to_pylist()[0]
    assert abs(fit["t2_s"] - 2e-3) < 2.5 * fit["t2_s_err"]


def test_inversion_recovery_keeps_the_sign() -> None:
    amps = 1.0 - 2.0 * np.exp(-DELAYS_S / 0.003)
    table = to_table(_series(amps, DELAYS_S, seed=7))
    row = hydrofw.process("relaxation.build", table, kind="T1_inversion_recovery").to_pylist()[0]
    assert row["amplitude"][0] < 0 < row["amplitude"][-1]
    with pytest.raises(ParameterError, match="sign"):
        hydrofw.process("relaxation.build", table, kind="T1_inversion_recovery", magnitude=True)


def _lorentzian_spectra(
    areas: np.ndarray, delays: np.ndarray, *, axis: str, seed: int = 0
) -> list[Spectrum]:
    rng = np.random.default_rng(seed)
    n, step_hz, width_hz, centre_hz = 2048, 20.0, 300.0, 1000.0
    nu = -n / 2 * step_hz + step_hz * np.arange(n)
    observe, ref = 395.0e6, 395.0e6 - 2000.0  # 0 ppm sits 2 kHz below the carrier
    out = []
    for a, d in zip(areas, delays, strict=True):
        y = a * (width_hz / 2) / np.pi / ((nu - centre_hz) ** 2 + (width_hz / 2) ** 2)
        y = y + rng.normal(0.0, 1e-5, n)
        if axis == "Hz":
            x_start, x_step = nu[0], step_hz
        else:
            x_start = (observe + nu[0] - ref) / ref * 1e6
            x_step = step_hz / ref * 1e6
        out.append(
            Spectrum(
                nucleus="1H",
                observe_frequency_hz=observe,
                spectral_width_hz=n * step_hz,
                re=y,
                im=np.zeros(n),
                domain="frequency",
                x_start=x_start,
                x_step=x_step,
                x_unit=axis,
                reference_frequency_hz=ref,
                source_sha256="f1",
                array_value=d,
                array_unit="s",
                cell="A",
            )
        )
    return out


@pytest.mark.parametrize("axis", ["Hz", "ppm"])
@pytest.mark.parametrize("use_ppm_range", [False, True])
def test_frequency_domain_integral(axis: str, use_ppm_range: bool) -> None:
    areas = np.array([0.2, 0.5, 0.9])
    table = to_table(_lorentzian_spectra(areas, np.array([0.001, 0.003, 0.01]), axis=axis))
    lo_hz, hi_hz = 1000.0 - 6000.0, 1000.0 + 6000.0
    # the Lorentzian fraction inside +-6000 Hz of its centre (FWHM 300 Hz)
    inside = 2.0 / np.pi * np.arctan(6000.0 / 150.0)
    if use_ppm_range:
        ref = 395.0e6 - 2000.0
        to_ppm = lambda hz: (395.0e6 + hz - ref) / ref * 1e6  # noqa: E731
        params = {"range_ppm": (to_ppm(lo_hz), to_ppm(hi_hz))}
    else:
        params = {"range_hz": (lo_hz, hi_hz)}
    row = hydrofw.process("relaxation.build", table, **params).to_pylist()[0]
    assert row["amplitude_method"] == "integral"
    err = np.array(row["amplitude_err"])
    assert np.all(np.abs(np.array(row["amplitude"]) - areas * inside) < 4 * err + 2e-3 * areas)
    np.testing.assert_allclose(err, 1e-5 * 20.0 * np.sqrt(601), rtol=0.2)
    peak = hydrofw.process("relaxation.build", table, method="peak_height", **params).to_pylist()[0]
    np.testing.assert_allclose(peak["amplitude"], areas / (np.pi * 150.0), rtol=0.02)


def test_grouping_by_cell_and_day() -> None:
    first = _series(_saturation(DELAYS_S[:5]), DELAYS_S[:5], source="a")
    second = _series(_saturation(DELAYS_S[5:]), DELAYS_S[5:], source="b", seed=1)
    table = to_table(first + second)
    assert hydrofw.process("relaxation.build", table).num_rows == 2
    merged = hydrofw.process("relaxation.build", table, group_by=("cell", "day")).to_pylist()
    assert len(merged) == 1 and len(merged[0]["delay_s"]) == DELAYS_S.size


def test_delay_from_header_parameter() -> None:
    spectra = [
        s.evolve(array_value=None, parameters={"D7": f"{d * 1e3:.6f}"})
        for s, d in zip(_series(_saturation(DELAYS_S), DELAYS_S), DELAYS_S, strict=True)
    ]
    row = hydrofw.process(
        "relaxation.build", to_table(spectra), delay_parameter="D7", delay_unit="ms"
    ).to_pylist()[0]
    np.testing.assert_allclose(row["delay_s"], DELAYS_S, rtol=1e-6)
    with pytest.raises(ValidationError, match="no delay"):
        hydrofw.process("relaxation.build", to_table(spectra))


def test_bad_series_raise_with_row_names() -> None:
    spectra = _series(_saturation(DELAYS_S), DELAYS_S)
    negative = [spectra[0].evolve(array_value=-0.001), *spectra[1:]]
    with pytest.raises(ValidationError, match="negative") as info:
        hydrofw.process("relaxation.build", to_table(negative))
    assert "spectrum row" in str(info.value) and "cell A" in str(info.value)
    short = [
        spectra[0].evolve(re=spectra[0].re[:100], im=spectra[0].im[:100], n_points=100),
        *spectra[1:],
    ]
    with pytest.raises(ValidationError, match="differ in length"):
        hydrofw.process("relaxation.build", to_table(short))
    with pytest.raises(ParameterError, match="does not apply"):
        hydrofw.process("relaxation.build", to_table(spectra), method="integral")


def test_real_bruker_inversion_recovery_ser(real_data) -> None:
    """DNPLab TopSpin 1.3 ser + vdlist (8 delays, 20 ms to 30 s): inversion recovery."""
    table = hydrofw.read(real_data / "bruker" / "topspin13-odnp-1h-15mhz-t1-ser" / "28")
    curve = hydrofw.process("relaxation.build", table, kind="T1_inversion_recovery")
    row = curve.to_pylist()[0]
    np.testing.assert_allclose(
        row["delay_s"], [0.02, 0.056854, 0.161616, 0.459422, 1.306, 3.713, 10.553, 30.0]
    )
    assert row["amplitude"][0] < 0 < row["amplitude"][-1]
    fit = hydrofw.process("relaxation.fit", curve).to_pylist()[0]
    assert fit["model"] == "inversion_recovery" and fit["constrained"]
    assert 1.0 < fit["t1_s"] < 4.0 and fit["t1_s_err"] < 0.2 * fit["t1_s"]
    assert 0.7 < fit["inversion_factor"] < 1.05


def test_real_varian_saturation_recovery(real_data) -> None:
    """ssNake 87Rb satrec2D (12 delays 1 ms to 5 s)."""
    table = hydrofw.read(real_data / "varian" / "vnmrs-87rb-196-satrec-solid" / "satrec2D.fid")
    curve = hydrofw.process("relaxation.build", table, kind="T1_saturation_recovery")
    fit = hydrofw.process("relaxation.fit", curve).to_pylist()[0]
    assert fit["nucleus"] == "87Rb" and fit["constrained"]
    assert 0.2 < fit["t1_s"] < 0.4 and fit["t1_s_err"] < 0.1 * fit["t1_s"]


def test_real_bruker_series_through_fid_to_spectrum(real_data) -> None:
    """The same ser transformed by nmr.fid_to_spectrum with one common phase (taken from the
    fully relaxed trace), then integrated: T1 agrees with the time-domain route."""
    table = hydrofw.read(real_data / "bruker" / "topspin13-odnp-1h-15mhz-t1-ser" / "28")
    relaxed = hydrofw.process("nmr.fid_to_spectrum", table.slice(7, 1)).to_pylist()[0]
    phase = [relaxed["phase_p0_deg"], relaxed["phase_p1_deg"]]
    spectra = hydrofw.process("nmr.fid_to_spectrum", table, phase=phase)
    row = spectra.to_pylist()[7]
    x = row["x_start"] + row["x_step"] * np.arange(row["n_points"])
    peak_hz = float(x[np.argmax(row["re"])])
    curve = hydrofw.process(
        "relaxation.build",
        spectra,
        kind="T1_inversion_recovery",
        range_hz=(peak_hz - 100.0, peak_hz + 100.0),
    )
    freq_fit = hydrofw.process("relaxation.fit", curve).to_pylist()[0]
    time_fit = hydrofw.process(
        "relaxation.fit", hydrofw.process("relaxation.build", table, kind="T1_inversion_recovery")
    ).to_pylist()[0]
    assert curve.column("amplitude_method").to_pylist() == ["integral"]
    combined = np.hypot(freq_fit["t1_s_err"], time_fit["t1_s_err"])
    assert abs(freq_fit["t1_s"] - time_fit["t1_s"]) < 3 * combined


def test_echo_delay_tau_is_ignored_for_t1_kinds() -> None:
    amps = 1.0 - np.exp(-DELAYS_S / 0.003)
    table = to_table(_series(amps, DELAYS_S, seed=11))
    full = hydrofw.process("relaxation.build", table, kind="T1_saturation_recovery")
    tau = hydrofw.process(
        "relaxation.build", table, kind="T1_saturation_recovery", echo_delay="tau"
    )
    assert tau.column("delay_s").to_pylist() == full.column("delay_s").to_pylist()
