"""Nuclear data against IUPAC 2001 (Harris et al.) and the worked numbers of physics.md s. 4."""

from __future__ import annotations

import math

import pytest
from scipy import constants

from hydrofw.errors import ValidationError
from hydrofw.nuclei import (
    NUCLEI,
    guess_nucleus_from_frequency,
    normalize_nucleus,
    nucleus,
    reference_frequency_hz,
)

REQUIRED = [
    "1H",
    "2H",
    "11B",
    "13C",
    "14N",
    "27Al",
    "33S",
    "63Cu",
    "65Cu",
    "89Y",
    "93Nb",
    "139La",
    "195Pt",
]


def test_required_nuclei_present_with_quadrupole_moments():
    for n in REQUIRED:
        nuc = NUCLEI[n]
        assert (nuc.quadrupole_fm2 is None) == (nuc.spin == 0.5)
    assert nucleus("139La").quadrupole_fm2 == 20.0 and float(nucleus("139La").spin) == 3.5


def test_proton_gamma_matches_codata():
    assert nucleus("1H").gamma_rad_s_t == pytest.approx(
        constants.physical_constants["proton gyromag. ratio"][0], rel=1e-6
    )


@pytest.mark.parametrize(
    "name, mhz_at_9_28_t, xi_mhz_at_395",
    [
        ("1H", 395.119, 395.000),
        ("2H", 60.653, 60.635),
        ("11B", 126.793, 126.732),
        ("13C", 99.374, 99.323),
        ("27Al", 103.037, 102.925),
        ("63Cu", 105.038, 104.736),
        ("65Cu", 112.313, 112.195),
        ("89Y", 19.441, 19.356),
        ("93Nb", 96.998, 96.681),
        ("139La", 56.248, 55.796),
        ("195Pt", 86.232, 84.912),
    ],
)
def test_larmor_and_reference_frequencies(name, mhz_at_9_28_t, xi_mhz_at_395):
    nuc = nucleus(name)
    assert nuc.larmor_frequency_hz(9.28) / 1e6 == pytest.approx(mhz_at_9_28_t, abs=1.5e-3)
    assert reference_frequency_hz(name, 395e6) / 1e6 == pytest.approx(xi_mhz_at_395, abs=1.5e-3)


def test_receptivity_and_gamma_ratio():
    la = nucleus("139La")
    assert la.receptivity_relative_1h() == pytest.approx(0.0605, rel=5e-3)
    assert nucleus("1H").gamma_rad_s_t / la.gamma_rad_s_t == pytest.approx(7.0247, abs=1e-4)
    assert nucleus("63Cu").receptivity_relative_1h() == pytest.approx(0.0650, rel=5e-3)


def test_lanthanum_carrier_offset_from_xi_reference():
    ref = reference_frequency_hz("139La", 395e6)
    assert (55.95e6 - ref) / ref * 1e6 == pytest.approx(2755, abs=1)


@pytest.mark.parametrize("spelling", ["1H", "H1", "1h", " 1H ", "H-1"])
def test_spellings(spelling):
    assert normalize_nucleus(spelling) == "1H"


def test_spellings_heavy():
    assert normalize_nucleus("La139") == "139La" and normalize_nucleus("Rb87") == "87Rb"
    with pytest.raises(ValidationError, match="not in the nuclear data table"):
        normalize_nucleus("15O")
    with pytest.raises(ValidationError, match="not a nucleus name"):
        normalize_nucleus("NONE")


def test_guess_nucleus_from_frequency():
    assert guess_nucleus_from_frequency(55.95e6, 395e6) == "139La"
    assert guess_nucleus_from_frequency(395.0e6, 395e6) == "1H"
    assert math.isclose(nucleus("1H").gamma_hz_t, 42.577478e6, rel_tol=1e-6)


# -- the whole table (hydrofw/data/nuclei.csv) and nucleus inference ---------------------------


def test_table_holds_every_nmr_active_stable_isotope_with_consistent_columns():
    from hydrofw.nuclei import ELEMENTS

    assert len(NUCLEI) >= 115
    for sym, n in NUCLEI.items():
        assert n.spin > 0 and (n.quadrupole_fm2 is None) == (n.spin == 0.5), sym
        assert 0 <= n.abundance_percent <= 100 and math.isfinite(n.gamma_rad_s_t), sym
        assert n.xi_percent > 0 and math.isfinite(n.xi_percent), sym
        element = sym.lstrip("0123456789")
        assert element in ELEMENTS, sym
    # natural abundances of each element's NMR-active isotopes never exceed 100 %
    per_element: dict[str, float] = {}
    for sym, n in NUCLEI.items():
        el = sym.lstrip("0123456789")
        per_element[el] = per_element.get(el, 0.0) + n.abundance_percent
    assert max(per_element.values()) <= 100.0 + 1e-6


@pytest.mark.parametrize(
    "name, spin, abundance, gamma_1e7, xi, q_fm2",
    [  # Harris et al. 2001, Table 1
        ("113Cd", "1/2", 12.22, -5.9609155, 22.193175, None),
        ("45Sc", "7/2", 100.0, 6.5087973, 24.291747, -22.0),
        ("51V", "7/2", 99.750, 7.0455117, 26.302948, -5.2),
        ("119Sn", "1/2", 8.59, -10.0317, 37.290632, None),
        ("207Pb", "1/2", 22.1, 5.67625, 20.920599, None),
        ("2H", "1", 0.0115, 4.10662791, 15.350609, 0.2860),
        ("209Bi", "9/2", 100.0, 4.3750, 16.069288, -51.6),
    ],
)
def test_iupac_rows(name, spin, abundance, gamma_1e7, xi, q_fm2):
    from fractions import Fraction

    n = nucleus(name)
    assert n.spin == Fraction(spin) and n.abundance_percent == abundance
    assert n.gamma_rad_s_t == pytest.approx(gamma_1e7 * 1e7, rel=1e-9)
    assert n.xi_percent == xi and n.xi_recommended and n.quadrupole_fm2 == q_fm2


def test_lanthanides_without_iupac_xi_use_the_gamma_ratio():
    pr = nucleus("141Pr")
    assert not pr.xi_recommended and pr.reference_compound == ""
    assert pr.xi_percent == pytest.approx(
        abs(pr.gamma_rad_s_t / nucleus("1H").gamma_rad_s_t) * 100, rel=1e-12
    )
    assert pr.quadrupole_fm2 == pytest.approx(-5.89) and float(pr.spin) == 2.5


@pytest.mark.parametrize(
    "name, proton_mhz",
    [("113Cd", 500.13), ("45Sc", 500.13), ("51V", 400.13), ("119Sn", 600.13),
     ("207Pb", 500.13), ("2H", 400.13), ("139La", 395.0), ("1H", 14.83)],
)  # fmt: skip
def test_inference_from_the_files_proton_frequency(name, proton_mhz):
    from hydrofw.nuclei import infer_nucleus

    observe_hz = nucleus(name).xi_percent / 100 * proton_mhz * 1e6 * (1 + 300e-6)  # +300 ppm
    assert infer_nucleus(observe_hz, [proton_mhz * 1e6]) == ([name], "file")


def test_113cd_at_110_998_mhz_resolves_and_the_flag_says_so():
    from hydrofw.nuclei import resolve_nucleus

    assert resolve_nucleus("<NONE>", 110.998e6, "x/acqus", proton_bases_hz=[500.13e6]) == (
        "113Cd",
        ("nucleus_inferred",),
    )
    # no 1H frequency in the file: the standard 500 MHz magnet still singles out 113Cd
    found, flags = resolve_nucleus(None, 110.998e6, "x/acqus")
    assert found == "113Cd" and flags == ("nucleus_inferred", "nucleus_standard_magnet")


def test_ambiguous_frequency_lists_candidates_with_cli_spelling():
    from hydrofw.errors import FormatError
    from hydrofw.nuclei import resolve_nucleus

    # 2H at 61.42 MHz (400 MHz magnet) is also 14N, 33S, 187Re on other standard magnets
    with pytest.raises(FormatError, match=r"x/acqus: .*fits several.*-o nucleus=2H") as info:
        resolve_nucleus("NONE", 0.15350609 * 400.13e6, "x/acqus")
    assert "-o nucleus=14N" in str(info.value)
    with pytest.raises(FormatError, match=r"no isotope resonates at 1.000000 MHz"):
        resolve_nucleus("", 1e6, "x/acqus")


def test_isotope_outside_the_table_is_a_flag_not_an_error():
    import numpy as np

    import hydrofw
    from hydrofw.nuclei import resolve_nucleus

    assert resolve_nucleus("8Li", 50e6, "f") == ("8Li", ("nucleus_not_in_table",))
    assert resolve_nucleus("1H", 50e6, "f", override="Li8") == (
        "8Li",
        ("nucleus_overridden", "nucleus_not_in_table"),
    )
    s = hydrofw.Spectrum(
        nucleus="8Li", observe_frequency_hz=5e7, spectral_width_hz=1e4, re=np.ones(4),
        im=np.zeros(4), flags=("nucleus_not_in_table",),
    )  # fmt: skip
    assert s.nucleus == "8Li" and np.all(np.isfinite(s.re))
    with pytest.raises(ValidationError, match="not in the nuclear data table"):
        nucleus("8Li")
    with pytest.raises(ValidationError, match="not an isotope"):
        normalize_nucleus("5Xq", tabulated=False)


def test_wrong_header_nucleus_is_replaced_when_the_file_says_otherwise():
    from hydrofw.nuclei import resolve_nucleus

    # header says 13C, but SFO1 / BF2 is exactly 31P
    found, flags = resolve_nucleus("13C", 0.40480742 * 400.13e6, "f", proton_bases_hz=[400.13e6])
    assert found == "31P" and flags == ("nucleus_frequency_mismatch", "nucleus_inferred")


def test_data_file_is_packaged():
    from importlib import resources

    assert resources.files("hydrofw").joinpath("data/nuclei.csv").is_file()
