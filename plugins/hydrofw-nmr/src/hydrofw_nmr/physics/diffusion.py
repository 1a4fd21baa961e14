"""Translational self-diffusion coefficient from the dipolar T1 of like spins (eq. 1 of the seed).

In the extreme-narrowing limit, dipolar relaxation between like spins I = 1/2 modulated by
translational diffusion gives (CGS) ``1/T1 = C gamma^4 hbar^2 N / (a D)``, hence

    D = C gamma^4 hbar^2 N T1 / a                      (CGS: gamma in rad s^-1 G^-1, cm, erg s)
    D = C (mu0/4pi)^2 gamma^4 hbar^2 N T1 / a          (SI: rad s^-1 T^-1, m, J s)

with N the number density of the like spins (protons), a the distance of closest approach and
C a model prefactor: 3*pi/10 (the seed's, BPP-style), 2*pi/5 (free diffusion, Abragam-type) or
4*pi/9 (hard spheres with a reflecting wall, Torrey/Hwang-Freed type).

The seed prints Planck's h where the physics has hbar; that value is 4*pi^2 = 39.5 times
larger. It is available only as ``convention="seed_planck_h"``, to reproduce the seed's number.

Every row carries D with both constants, labelled: ``d_hbar_cm2_s`` (physics) and
``d_planck_h_cm2_s`` (the seed's printed h); ``d_cm2_s`` holds the one ``convention`` selects.
A T1 of a nucleus that is not a spin 1/2 (139La, 87Rb) gets a row without D, flagged
``nucleus_not_spin_half``, instead of stopping the batch.

The translational correlation time is tau = a^2 / (2 D) (relative diffusion coefficient 2D);
extreme narrowing needs omega0 * tau << 1, reported as ``omega0_tau`` and
``extreme_narrowing`` (omega0 tau below ``narrowing_threshold``). When another mechanism
(Korringa relaxation in a metal) shortens T1, the D computed here is a lower bound.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import attrs
import numpy as np
import pyarrow as pa
from scipy import constants

from hydrofw.errors import ParameterError
from hydrofw.nuclei import nucleus as nucleus_data
from hydrofw.schema import empty

from ._table import float_values, values

__all__ = [
    "PREFACTORS",
    "CONVENTIONS",
    "DiffusionParams",
    "diffusion_si_m2_s",
    "diffusion_cgs_cm2_s",
    "diffusion_coefficient",
    "correlation_time_s",
    "number_density_from_lattice_cm3",
    "diffusion_table",
]

#: Model prefactors C of D = C gamma^4 hbar^2 N T1 / a, by name.
PREFACTORS: dict[str, float] = {
    "3pi/10": 3.0 * math.pi / 10.0,
    "2pi/5": 2.0 * math.pi / 5.0,
    "4pi/9": 4.0 * math.pi / 9.0,
}

#: Which Planck constant enters gamma^2 * (...) per spin pair.
CONVENTIONS: dict[str, float] = {
    "hbar": constants.hbar,  # physics (BPP 1948, Abragam ch. VIII)
    "seed_planck_h": constants.h,  # the seed's printed eq. (1); 4 pi^2 times larger D
}

_MU0_OVER_4PI = constants.mu_0 / (4.0 * math.pi)  # T m / A
_GAUSS_PER_TESLA = 1e4
_ERG_PER_JOULE = 1e7
_CM3_PER_ANGSTROM3 = 1e-24
_CM_PER_ANGSTROM = 1e-8


def _planck(convention: str) -> float:
    try:
        return CONVENTIONS[convention]
    except KeyError:
        raise ParameterError(
            f"unknown convention {convention!r} (known: {', '.join(CONVENTIONS)})"
        ) from None


def _prefactor(name: str) -> float:
    try:
        return PREFACTORS[name]
    except KeyError:
        raise ParameterError(
            f"unknown prefactor {name!r} (known: {', '.join(PREFACTORS)})"
        ) from None


def diffusion_si_m2_s(
    t1_s: Any,
    number_density_m3: float,
    closest_distance_m: float,
    gamma_rad_s_t: float,
    prefactor: float,
    planck_j_s: float = constants.hbar,
) -> Any:
    """D in m^2/s by the SI route: C (mu0/4pi)^2 gamma^4 hbar^2 N T1 / a."""
    coupling = _MU0_OVER_4PI**2 * gamma_rad_s_t**4 * planck_j_s**2
    return prefactor * coupling * number_density_m3 * np.asarray(t1_s) / closest_distance_m


def diffusion_cgs_cm2_s(
    t1_s: Any,
    number_density_cm3: float,
    closest_distance_cm: float,
    gamma_rad_s_g: float,
    prefactor: float,
    planck_erg_s: float = constants.hbar * _ERG_PER_JOULE,
) -> Any:
    """D in cm^2/s by the CGS route: C gamma^4 hbar^2 N T1 / a (G^2 = erg/cm^3)."""
    coupling = gamma_rad_s_g**4 * planck_erg_s**2
    return prefactor * coupling * number_density_cm3 * np.asarray(t1_s) / closest_distance_cm


def diffusion_coefficient(
    t1_s: Any,
    number_density_cm3: float,
    closest_distance_angstrom: float,
    *,
    nucleus: str = "1H",
    prefactor: str = "3pi/10",
    convention: str = "hbar",
) -> Any:
    """D in cm^2/s from T1 (s), the like-spin density N (cm^-3) and the closest distance (A)."""
    gamma = nucleus_data(nucleus).gamma_rad_s_t
    return diffusion_cgs_cm2_s(
        t1_s,
        number_density_cm3,
        closest_distance_angstrom * _CM_PER_ANGSTROM,
        gamma / _GAUSS_PER_TESLA,
        _prefactor(prefactor),
        _planck(convention) * _ERG_PER_JOULE,
    )


def correlation_time_s(d_cm2_s: Any, closest_distance_angstrom: float) -> Any:
    """Translational correlation time tau = a^2 / (2 D) in s (D in cm^2/s, a in angstrom)."""
    a_cm = closest_distance_angstrom * _CM_PER_ANGSTROM
    return a_cm**2 / (2.0 * np.asarray(d_cm2_s))


def number_density_from_lattice_cm3(
    lattice_constant_angstrom: float, formula_units_per_cell: float, spins_per_formula_unit: float
) -> float:
    """Spin number density (cm^-3) of a cubic cell: Z n / a^3 (e.g. Fm-3m LaH10: Z = 4, n = 10)."""
    volume_cm3 = lattice_constant_angstrom**3 * _CM3_PER_ANGSTROM3
    return formula_units_per_cell * spins_per_formula_unit / volume_cm3


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


@attrs.frozen
class DiffusionParams:
    """Parameters of ``nmr.diffusion``.

    The spin density comes from ``number_density_cm3`` (with ``_err``) or from a cubic lattice:
    ``lattice_constant_angstrom`` (with ``_err``), ``formula_units_per_cell`` and
    ``spins_per_formula_unit`` (with ``_err``). ``closest_distance_angstrom`` (with ``_err``)
    is the distance of closest approach a. ``prefactor``: "3pi/10" (default, the seed's),
    "2pi/5" or "4pi/9". ``convention``: "hbar" (physics) or "seed_planck_h" (reproduces the
    seed's number only). omega0 comes from ``larmor_frequency_hz`` or ``field_t``; without
    either, ``omega0_tau`` is null. ``narrowing_threshold``: largest omega0*tau that counts as
    extreme narrowing.
    """

    closest_distance_angstrom: float | None = attrs.field(default=None, converter=_opt_float)
    closest_distance_angstrom_err: float = attrs.field(default=0.0, converter=float)
    number_density_cm3: float | None = attrs.field(default=None, converter=_opt_float)
    number_density_cm3_err: float = attrs.field(default=0.0, converter=float)
    lattice_constant_angstrom: float | None = attrs.field(default=None, converter=_opt_float)
    lattice_constant_angstrom_err: float = attrs.field(default=0.0, converter=float)
    formula_units_per_cell: float | None = attrs.field(default=None, converter=_opt_float)
    spins_per_formula_unit: float | None = attrs.field(default=None, converter=_opt_float)
    spins_per_formula_unit_err: float = attrs.field(default=0.0, converter=float)
    prefactor: str = attrs.field(
        default="3pi/10", validator=attrs.validators.in_(tuple(PREFACTORS))
    )
    convention: str = attrs.field(
        default="hbar", validator=attrs.validators.in_(tuple(CONVENTIONS))
    )
    larmor_frequency_hz: float | None = attrs.field(default=None, converter=_opt_float)
    field_t: float | None = attrs.field(default=None, converter=_opt_float)
    narrowing_threshold: float = attrs.field(default=0.2, converter=float)

    def __attrs_post_init__(self) -> None:
        if self.closest_distance_angstrom is None or self.closest_distance_angstrom <= 0:
            raise ValueError("closest_distance_angstrom (> 0) is required")
        lattice = (
            self.lattice_constant_angstrom,
            self.formula_units_per_cell,
            self.spins_per_formula_unit,
        )
        if self.number_density_cm3 is None and any(v is None for v in lattice):
            raise ValueError(
                "give number_density_cm3, or lattice_constant_angstrom with "
                "formula_units_per_cell and spins_per_formula_unit"
            )
        if self.number_density_cm3 is not None and self.lattice_constant_angstrom is not None:
            raise ValueError("give number_density_cm3 or a lattice, not both")
        for name in (
            "number_density_cm3",
            "lattice_constant_angstrom",
            "formula_units_per_cell",
            "spins_per_formula_unit",
            "larmor_frequency_hz",
            "field_t",
        ):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")
        errors = (
            "closest_distance_angstrom_err",
            "number_density_cm3_err",
            "lattice_constant_angstrom_err",
            "spins_per_formula_unit_err",
        )
        for name in errors:
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0")

    def number_density(self) -> tuple[float, float]:
        """(N, relative error of N) in cm^-3."""
        if self.number_density_cm3 is not None:
            return self.number_density_cm3, self.number_density_cm3_err / self.number_density_cm3
        a, z, n = (
            self.lattice_constant_angstrom,
            self.formula_units_per_cell,
            self.spins_per_formula_unit,
        )
        assert a is not None and z is not None and n is not None
        rel = math.hypot(
            3.0 * self.lattice_constant_angstrom_err / a, self.spins_per_formula_unit_err / n
        )
        return number_density_from_lattice_cm3(a, z, n), rel


def diffusion_table(table: pa.Table, p: DiffusionParams) -> pa.Table:
    """Process function of ``nmr.diffusion``: one ``diffusion`` row per fit with a T1."""
    t1 = float_values(table, "t1_s")
    t1_err = float_values(table, "t1_s_err")
    use = np.flatnonzero(np.isfinite(t1) & (t1 > 0))
    if use.size == 0:
        return empty("diffusion")
    nuclei = values(table, "nucleus")
    cols = {n: values(table, n) for n in _PASSED_THROUGH}
    constrained = values(table, "constrained")
    a = p.closest_distance_angstrom
    assert a is not None
    density, density_rel = p.number_density()
    rel_a = p.closest_distance_angstrom_err / a
    rows = []
    for i in use:
        name = nuclei[i] or "1H"
        data = nucleus_data(name)
        base = {n: cols[n][i] for n in _PASSED_THROUGH} | {
            "input_ids": [cols["id"][i]],
            "relaxation_fit_id": cols["id"][i],
            "nucleus": name,
            "t1_s": float(t1[i]),
            "t1_s_err": _finite(t1_err[i]),
        }
        if data.spin != Fraction(1, 2):
            # eq. (1) holds for like spins I = 1/2 only: the row is kept, empty and flagged
            rows.append(base | _not_applicable(p, data.spin))
            continue
        d = float(
            diffusion_coefficient(
                t1[i], density, a, nucleus=name, prefactor=p.prefactor, convention=p.convention
            )
        )
        rel_t1 = t1_err[i] / t1[i] if np.isfinite(t1_err[i]) else math.nan
        rel_d = math.sqrt(rel_t1**2 + density_rel**2 + rel_a**2)
        tau = float(correlation_time_s(d, a))
        rel_tau = math.sqrt((3.0 * rel_a) ** 2 + density_rel**2 + rel_t1**2)
        larmor = p.larmor_frequency_hz
        if larmor is None and p.field_t is not None:
            larmor = data.larmor_frequency_hz(p.field_t)
        omega_tau = 2.0 * math.pi * larmor * tau if larmor is not None else None
        rows.append(
            base
            | _result(
                p, d, rel_d, tau, rel_tau, omega_tau, larmor, density, density_rel, constrained[i]
            )
            | _both_conventions(p, t1[i], density, name, rel_d)
        )
    keys = list(dict.fromkeys(k for row in rows for k in row))  # flagged rows hold fewer keys
    return pa.Table.from_pylist([{k: row.get(k) for k in keys} for row in rows])


def _both_conventions(
    p: DiffusionParams, t1_s: float, density: float, nucleus: str, rel_d: float
) -> dict[str, Any]:
    """D with hbar (physics) and with Planck's h (the seed's printed eq. 1), both in cm^2/s,
    whatever ``convention`` selects for ``d_cm2_s``; same relative error."""
    a = p.closest_distance_angstrom
    assert a is not None
    out: dict[str, Any] = {}
    for convention, column in (("hbar", "d_hbar_cm2_s"), ("seed_planck_h", "d_planck_h_cm2_s")):
        d = float(
            diffusion_coefficient(
                t1_s, density, a, nucleus=nucleus, prefactor=p.prefactor, convention=convention
            )
        )
        out[column] = d
        out[f"{column}_err"] = _finite(d * rel_d)
    return out


def _not_applicable(p: DiffusionParams, spin: Fraction) -> dict[str, Any]:
    """Columns of a row whose nucleus is not a spin 1/2: no D, flagged."""
    return {
        "method": f"nmr.diffusion: not applicable, eq. (1) needs like spins I = 1/2 (I = {spin})",
        "prefactor": PREFACTORS[p.prefactor],
        "prefactor_name": p.prefactor,
        "convention": p.convention,
        "closest_distance_angstrom": p.closest_distance_angstrom,
        "closest_distance_angstrom_err": p.closest_distance_angstrom_err,
        "flags": ["nucleus_not_spin_half"],
    }


_PASSED_THROUGH = ("id", "cell", "campaign", "acquired_at", "days_since_synthesis")


def _result(
    p: DiffusionParams,
    d: float,
    rel_d: float,
    tau: float,
    rel_tau: float,
    omega_tau: float | None,
    larmor: float | None,
    density: float,
    density_rel: float,
    t1_constrained: bool | None,
) -> dict[str, Any]:
    flags = [] if omega_tau is not None else ["no_larmor_frequency"]
    if p.convention != "hbar":
        flags.append("seed_convention_planck_h")
    if t1_constrained is False:
        flags.append("t1_not_constrained")
    symbol = "hbar" if p.convention == "hbar" else "h"
    return {
        "method": f"nmr.diffusion: D = C gamma^4 {symbol}^2 N T1 / a, C = {p.prefactor}",
        "d_cm2_s": d,
        "d_cm2_s_err": _finite(d * rel_d),
        "d_m2_s": d * 1e-4,
        "d_m2_s_err": _finite(d * rel_d * 1e-4),
        "prefactor": PREFACTORS[p.prefactor],
        "prefactor_name": p.prefactor,
        "convention": p.convention,
        "number_density_cm3": density,
        "number_density_cm3_err": density * density_rel,
        "closest_distance_angstrom": p.closest_distance_angstrom,
        "closest_distance_angstrom_err": p.closest_distance_angstrom_err,
        "correlation_time_s": tau,
        "correlation_time_s_err": _finite(tau * rel_tau),
        "larmor_frequency_hz": larmor,
        "omega0_tau": omega_tau,
        "omega0_tau_err": None if omega_tau is None else _finite(omega_tau * rel_tau),
        "extreme_narrowing": None if omega_tau is None else bool(omega_tau < p.narrowing_threshold),
        "t1_constrained": t1_constrained,
        "flags": flags,
    }


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
