"""nmr.reference: worked numbers of physics.md section 5, recomputed."""

from __future__ import annotations

import numpy as np
import pytest
from hydrofw_nmr.spectral.referencing import (
    corrected_shift_ppm,
    dac_shielding,
    xi_reference_frequency_hz,
)
from hydrofw_nmr.spectral.simulate import fid, table

import hydrofw
from hydrofw.nuclei import nucleus

PROTON_HZ = 395.0e6
LA_CARRIER_HZ = 55.95e6


def test_xi_reference_of_139la_and_63cu() -> None:
    assert xi_reference_frequency_hz("139La", PROTON_HZ) == pytest.approx(
        nucleus("139La").xi_percent / 100 * PROTON_HZ
    )
    assert xi_reference_frequency_hz("139La", PROTON_HZ) == pytest.approx(55.7963e6, abs=100)
    assert xi_reference_frequency_hz("63Cu", PROTON_HZ) == pytest.approx(104.7361e6, abs=100)


def test_dac_shielding_worked_example() -> None:
    sigma, err = dac_shielding(104.9825e6, 104.9930e6, 10.0, 10.0)
    assert sigma * 1e6 == pytest.approx((1.0 - 104.9825e6 / 104.9930e6) * 1e6)
    assert sigma * 1e6 == pytest.approx(100.0, abs=0.1)
    assert err == pytest.approx(np.hypot(10 / 104.9930e6, 104.9825e6 * 10 / 104.9930e6**2))
    assert corrected_shift_ppm(2850.0, sigma * 1e6) == pytest.approx(2950.3, abs=0.05)


@pytest.mark.parametrize("shift_ppm", [900.0, 2950.0])
def test_139la_lines_at_900_and_2950_ppm_at_55_95_mhz(shift_ppm: float) -> None:
    ref_hz = xi_reference_frequency_hz("139La", PROTON_HZ)
    offset_hz = ref_hz * (1 + shift_ppm * 1e-6) - LA_CARRIER_HZ  # -103 kHz and +11 kHz
    sw = 500e3
    f = fid(8192, sw, [(1.0, offset_hz, 8000.0)], noise=1e-3)
    spec = hydrofw.process(
        "nmr.fid_to_spectrum",
        table([f], sw, observe_hz=LA_CARRIER_HZ, nucleus="139La"),
        zero_fill=16384,
    )
    ref = hydrofw.process(
        "nmr.reference", spec, proton_tms_frequency_hz=PROTON_HZ, proton_tms_frequency_hz_err=100.0
    )
    assert ref.column("x_unit")[0].as_py() == "ppm"
    out = hydrofw.process("nmr.lineshape", ref).to_pylist()[0]
    assert out["peak_hz"] == pytest.approx(offset_hz, abs=20.0)
    assert out["peak_ppm"] == pytest.approx(shift_ppm, abs=0.5)
    # the 100 Hz (0.25 ppm) uncertainty of the 1H frequency enters peak_ppm_err
    assert out["peak_ppm_err"] >= 100.0 / PROTON_HZ * 1e6
    assert out["reference_frequency_hz"] == pytest.approx(ref_hz)


def test_internal_copper_reference_adds_the_shielding() -> None:
    ref_hz = xi_reference_frequency_hz("139La", PROTON_HZ)
    sw = 500e3
    offset_hz = ref_hz * (1 + 2850e-6) - LA_CARRIER_HZ
    spec = hydrofw.process(
        "nmr.fid_to_spectrum",
        table(
            [fid(8192, sw, [(1.0, offset_hz, 8000.0)])],
            sw,
            observe_hz=LA_CARRIER_HZ,
            nucleus="139La",
        ),
        zero_fill=16384,
    )
    ref = hydrofw.process(
        "nmr.reference",
        spec,
        proton_tms_frequency_hz=PROTON_HZ,
        copper_dac_hz=104.9825e6,
        copper_ambient_hz=104.9930e6,
        copper_dac_hz_err=5.0,
        copper_ambient_hz_err=5.0,
    )
    row = ref.to_pylist()[0]
    assert row["dac_shielding_ppm"] == pytest.approx(100.0, abs=0.1)
    assert row["reference_frequency_hz"] == pytest.approx(
        ref_hz * (1 - row["dac_shielding_ppm"] * 1e-6)
    )
    out = hydrofw.process("nmr.lineshape", ref).to_pylist()[0]
    assert out["peak_ppm"] == pytest.approx(
        corrected_shift_ppm(2850.0, row["dac_shielding_ppm"]), abs=0.5
    )
    assert "63Cu" in out["reference"]


def test_external_reference_line_and_bad_parameters() -> None:
    sw = 20e3
    spec = hydrofw.process(
        "nmr.fid_to_spectrum", table([fid(2048, sw, [(1.0, 1000.0, 50.0)])], sw), zero_fill=4096
    )
    # TMS measured 395 Hz below the carrier: the line sits 1395 Hz above TMS.
    ref = hydrofw.process(
        "nmr.reference",
        spec,
        method="external",
        reference_line_hz=395e6 - 395.0,
        reference_compound="TMS",
    )
    out = hydrofw.process("nmr.lineshape", ref).to_pylist()[0]
    assert out["peak_ppm"] == pytest.approx(1395.0 / (395e6 - 395.0) * 1e6, abs=0.01)
    with pytest.raises(hydrofw.errors.HydrofwError, match="proton_tms_frequency_hz"):
        hydrofw.process("nmr.reference", spec)
    with pytest.raises(hydrofw.errors.HydrofwError, match="copper"):
        hydrofw.process("nmr.reference", spec, proton_tms_frequency_hz=PROTON_HZ, copper_dac_hz=1e8)


def test_copper_line_error_reaches_the_shift_error() -> None:
    """sigma_DAC error (DAC line + ambient line) enters reference_frequency_hz_err and, through
    it, peak_ppm_err: d(delta)/d(nu_Cu,DAC) ~ 1/nu_Cu per Hz, i.e. 20 Hz ~ 0.19 ppm at 105 MHz."""
    sw = 20e3
    spec = hydrofw.process(
        "nmr.fid_to_spectrum",
        table([fid(4096, sw, [(1.0, 1000.0, 50.0)], noise=1e-4)], sw, observe_hz=PROTON_HZ),
        zero_fill=8192,
    )
    common = dict(
        proton_tms_frequency_hz=PROTON_HZ, copper_dac_hz=104.9825e6, copper_ambient_hz=104.9930e6
    )
    exact = hydrofw.process("nmr.reference", spec, **common)
    noisy = hydrofw.process(
        "nmr.reference", spec, copper_dac_hz_err=20.0, copper_ambient_hz_err=15.0, **common
    )
    sigma_err_ppm = np.hypot(20.0 / 104.9930e6, 104.9825e6 * 15.0 / 104.9930e6**2) * 1e6
    row = noisy.to_pylist()[0]
    assert row["dac_shielding_ppm_err"] == pytest.approx(sigma_err_ppm, rel=1e-6)
    a = hydrofw.process("nmr.lineshape", exact).to_pylist()[0]
    b = hydrofw.process("nmr.lineshape", noisy).to_pylist()[0]
    assert a["peak_ppm"] == pytest.approx(b["peak_ppm"])
    assert b["peak_ppm_err"] ** 2 == pytest.approx(
        a["peak_ppm_err"] ** 2 + sigma_err_ppm**2, rel=0.01
    )


def test_implausible_shift_is_flagged_and_warned() -> None:
    """A 500 MHz 1H spectrum referenced with the 1H frequency of 9.4 T sits at ~+249,000 ppm."""
    from hydrofw_nmr.spectral.referencing import ImplausibleShiftWarning, plausible_shift_ppm

    sw = 20e3
    proton_9p4_hz = nucleus("1H").larmor_frequency_hz(9.4)
    spec = hydrofw.process(
        "nmr.fid_to_spectrum",
        table([fid(2048, sw, [(1.0, 500.0, 50.0)])], sw, observe_hz=500.13e6),
        zero_fill=4096,
    )
    with pytest.warns(ImplausibleShiftWarning, match="1H"):
        ref = hydrofw.process("nmr.reference", spec, proton_tms_frequency_hz=proton_9p4_hz)
    assert ref.column("flags").to_pylist()[0] == ["shift_implausible"]
    shift = hydrofw.process("nmr.lineshape", ref).to_pylist()[0]["peak_ppm"]
    assert shift == pytest.approx((500.13e6 + 500.0 - proton_9p4_hz) / proton_9p4_hz * 1e6)
    assert abs(shift) > 2e5 > plausible_shift_ppm("1H")
    # the same spectrum referenced in its own magnet is plausible and unflagged; a repeated
    # referencing removes the stale flag
    again = hydrofw.process("nmr.reference", ref, proton_tms_frequency_hz=500.13e6)
    assert again.column("flags").to_pylist()[0] == []
    # 139La at +2850 ppm (LaH3-like Knight shift) is plausible
    la = hydrofw.process(
        "nmr.fid_to_spectrum",
        table([fid(2048, sw, [(1.0, 0.0, 500.0)])], sw, observe_hz=LA_CARRIER_HZ, nucleus="139La"),
    )
    la_ref = hydrofw.process("nmr.reference", la, proton_tms_frequency_hz=PROTON_HZ)
    assert la_ref.column("flags").to_pylist()[0] == []
