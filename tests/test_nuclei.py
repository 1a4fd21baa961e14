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
