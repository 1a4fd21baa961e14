"""nmr.diffusion: eq. (1) with hbar (and the seed's h), SI and CGS routes, error propagation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hydrofw_nmr.physics import (
    PREFACTORS,
    DiffusionParams,
    correlation_time_s,
    diffusion_cgs_cm2_s,
    diffusion_coefficient,
    diffusion_si_m2_s,
    diffusion_table,
    fm3m_lah10,
    number_density_from_lattice_cm3,
)
from scipy import constants

import hydrofw
from hydrofw import RelaxationFit, to_table
from hydrofw.errors import ParameterError

GAMMA_H = 26.7522128e7  # rad s^-1 T^-1 (IUPAC)


def _cgs_by_hand(t1_s: float, n_cm3: float, a_cm: float, c: float, planck_j_s: float) -> float:
    """Independent CGS evaluation: gamma in rad s^-1 G^-1, Planck constant in erg s."""
    return c * (GAMMA_H * 1e-4) ** 4 * (planck_j_s * 1e7) ** 2 * n_cm3 * t1_s / a_cm


def _fit_table(t1_s: float = 1.5e-3, t1_err: float = 1.5e-4):
    return to_table(
        [
            RelaxationFit(
                relaxation_id="r",
                model="saturation_recovery",
                nucleus="1H",
                t1_s=t1_s,
                t1_s_err=t1_err,
                cell="A",
                constrained=True,
            )
        ]
    )


@pytest.mark.parametrize(
    ("prefactor", "convention", "physics_md_value"),
    [
        ("3pi/10", "hbar", 2.42e-8),
        ("3pi/10", "seed_planck_h", 9.54e-7),
        ("2pi/5", "hbar", 3.22e-8),
        ("4pi/9", "hbar", 3.58e-8),
    ],
)
def test_physics_md_section1_numbers(prefactor, convention, physics_md_value) -> None:
    planck = constants.hbar if convention == "hbar" else constants.h
    expected = _cgs_by_hand(1.5e-3, 3e23, 1e-8, PREFACTORS[prefactor], planck)
    assert expected == pytest.approx(physics_md_value, rel=5e-3)  # the table rounds to 3 digits
    out = hydrofw.process(
        "nmr.diffusion",
        _fit_table(),
        number_density_cm3=3e23,
        closest_distance_angstrom=1.0,
        prefactor=prefactor,
        convention=convention,
    ).to_pylist()[0]
    assert out["d_cm2_s"] == pytest.approx(expected, rel=1e-12)
    assert out["d_m2_s"] == pytest.approx(expected * 1e-4, rel=1e-12)
    assert out["convention"] == convention and out["prefactor_name"] == prefactor


def test_seed_h_is_four_pi_squared_larger() -> None:
    hbar = diffusion_coefficient(1.5e-3, 3e23, 1.0)
    seed = diffusion_coefficient(1.5e-3, 3e23, 1.0, convention="seed_planck_h")
    assert seed / hbar == pytest.approx(4 * math.pi**2, rel=1e-12)


def test_si_and_cgs_routes_agree() -> None:
    c = PREFACTORS["3pi/10"]
    si = diffusion_si_m2_s(1.5e-3, 3e29, 1e-10, GAMMA_H, c)  # N in m^-3, a in m
    cgs = diffusion_cgs_cm2_s(1.5e-3, 3e23, 1e-8, GAMMA_H * 1e-4, c)
    assert si * 1e4 == pytest.approx(cgs, rel=1e-12)
    assert si == pytest.approx(2.42e-12, rel=5e-3)


def test_extreme_narrowing_check() -> None:
    common = dict(number_density_cm3=3e23, closest_distance_angstrom=1.0, larmor_frequency_hz=395e6)
    hbar = hydrofw.process("nmr.diffusion", _fit_table(), **common).to_pylist()[0]
    seed = hydrofw.process(
        "nmr.diffusion", _fit_table(), convention="seed_planck_h", **common
    ).to_pylist()[0]
    for row in (hbar, seed):
        tau = 1e-16 / (2 * row["d_cm2_s"])  # a^2 / 2D with a = 1e-8 cm
        assert row["correlation_time_s"] == pytest.approx(tau)
        assert row["omega0_tau"] == pytest.approx(2 * math.pi * 395e6 * tau)
    assert hbar["omega0_tau"] == pytest.approx(5.2, abs=0.1)  # physics.md: about 5
    assert hbar["extreme_narrowing"] is False
    assert seed["omega0_tau"] == pytest.approx(0.13, abs=0.005)  # physics.md: 0.13, barely
    assert seed["extreme_narrowing"] is True
    assert "seed_convention_planck_h" in seed["flags"]


def test_larmor_from_field() -> None:
    out = hydrofw.process(
        "nmr.diffusion",
        _fit_table(),
        number_density_cm3=3e23,
        closest_distance_angstrom=1.0,
        field_t=9.28,
    ).to_pylist()[0]
    assert out["larmor_frequency_hz"] == pytest.approx(GAMMA_H * 9.28 / (2 * math.pi))
    assert out["larmor_frequency_hz"] == pytest.approx(395.119e6, rel=1e-5)


def test_number_density_from_lah10_lattice() -> None:
    n = number_density_from_lattice_cm3(5.1, 4, 10)
    assert n == pytest.approx(40 / (5.1e-8) ** 3)
    assert n == pytest.approx(3.0e23, rel=0.01)
    assert n == pytest.approx(fm3m_lah10(5.1).number_density_cm3)
    out = hydrofw.process(
        "nmr.diffusion",
        _fit_table(t1_err=0.0),
        lattice_constant_angstrom=5.1,
        lattice_constant_angstrom_err=0.051,
        formula_units_per_cell=4,
        spins_per_formula_unit=10,
        closest_distance_angstrom=1.0,
    ).to_pylist()[0]
    assert out["number_density_cm3"] == pytest.approx(n)
    assert out["number_density_cm3_err"] == pytest.approx(3 * 0.01 * n)  # N ~ a^-3
    assert out["d_cm2_s_err"] == pytest.approx(0.03 * out["d_cm2_s"])


def test_error_propagation() -> None:
    out = hydrofw.process(
        "nmr.diffusion",
        _fit_table(t1_err=1.5e-4),
        number_density_cm3=3e23,
        number_density_cm3_err=1.5e22,
        closest_distance_angstrom=1.0,
        closest_distance_angstrom_err=0.02,
        larmor_frequency_hz=395e6,
    ).to_pylist()[0]
    rel_d = math.sqrt(0.1**2 + 0.05**2 + 0.02**2)
    assert out["d_cm2_s_err"] == pytest.approx(rel_d * out["d_cm2_s"])
    rel_tau = math.sqrt(0.1**2 + 0.05**2 + (3 * 0.02) ** 2)  # tau ~ a^3 / (N T1)
    assert out["correlation_time_s_err"] == pytest.approx(rel_tau * out["correlation_time_s"])
    np.testing.assert_allclose(correlation_time_s(out["d_cm2_s"], 1.0), out["correlation_time_s"])


def test_bad_parameters() -> None:
    with pytest.raises(ParameterError, match="closest_distance_angstrom"):
        hydrofw.process("nmr.diffusion", _fit_table(), number_density_cm3=3e23)
    with pytest.raises(ParameterError, match="number_density_cm3"):
        hydrofw.process("nmr.diffusion", _fit_table(), closest_distance_angstrom=1.0)
    with pytest.raises(ParameterError):
        hydrofw.process(
            "nmr.diffusion",
            _fit_table(),
            number_density_cm3=3e23,
            closest_distance_angstrom=1.0,
            prefactor="pi",
        )


@pytest.mark.parametrize("nucleus", ["139La", "87Rb"])
def test_spin_above_half_is_a_flagged_row_not_an_error(nucleus) -> None:
    """A quadrupolar T1 in the batch gets an empty, flagged row; the 1H row is computed."""
    fits = to_table(
        [
            RelaxationFit(
                relaxation_id="la", model="saturation_recovery", nucleus=nucleus,
                t1_s=1e-3, t1_s_err=1e-4,
            ),
            RelaxationFit(
                relaxation_id="h", model="saturation_recovery", nucleus="1H",
                t1_s=1.5e-3, t1_s_err=1.5e-4,
            ),
        ]
    )
    out = hydrofw.process(
        "nmr.diffusion", fits, number_density_cm3=3e23, closest_distance_angstrom=1.0
    ).to_pylist()
    quad, proton = out
    assert quad["nucleus"] == nucleus and quad["flags"] == ["nucleus_not_spin_half"]
    assert quad["d_cm2_s"] is None and quad["d_hbar_cm2_s"] is None
    assert "I = 1/2" in quad["method"]
    assert proton["d_cm2_s"] == pytest.approx(2.42e-8, rel=3e-3)


def test_both_conventions_in_every_row() -> None:
    """physics.md section 1: 2.42e-8 (hbar) and 9.54e-7 cm^2/s (Planck h) from one call."""
    for convention in ("hbar", "seed_planck_h"):
        (row,) = hydrofw.process(
            "nmr.diffusion", _fit_table(), number_density_cm3=3e23,
            closest_distance_angstrom=1.0, convention=convention,
        ).to_pylist()
        assert row["d_hbar_cm2_s"] == pytest.approx(2.42e-8, rel=3e-3)
        assert row["d_planck_h_cm2_s"] == pytest.approx(9.54e-7, rel=3e-3)
        assert row["d_planck_h_cm2_s"] / row["d_hbar_cm2_s"] == pytest.approx(4 * math.pi**2)
        assert row["d_hbar_cm2_s_err"] / row["d_hbar_cm2_s"] == pytest.approx(0.1)
        assert row["d_planck_h_cm2_s_err"] / row["d_planck_h_cm2_s"] == pytest.approx(0.1)
        selected = row["d_hbar_cm2_s"] if convention == "hbar" else row["d_planck_h_cm2_s"]
        assert row["d_cm2_s"] == pytest.approx(selected)


def test_rows_without_t1_are_skipped() -> None:
    t2_only = to_table(
        [RelaxationFit(relaxation_id="r", model="hahn_echo", nucleus="1H", t2_s=1e-3)]
    )
    params = DiffusionParams(number_density_cm3=3e23, closest_distance_angstrom=1.0)
    out = diffusion_table(t2_only, params)  # hydrofw.process cannot take 0 output rows yet
    assert out.num_rows == 0 and "d_cm2_s" in out.column_names
