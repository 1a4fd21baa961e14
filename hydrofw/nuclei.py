"""Nuclear spin data: spin, gyromagnetic ratio, natural abundance, quadrupole moment, Xi.

Source: R. K. Harris, E. D. Becker, S. M. Cabral de Menezes, R. Goodfellow, P. Granger,
"NMR nomenclature. Nuclear spin properties and conventions for chemical shifts (IUPAC
Recommendations 2001)", Pure Appl. Chem. 73, 1795 (2001); Magn. Reson. Chem. 40, 489 (2002).

Units are in the names: ``gamma_rad_s_t`` in rad s^-1 T^-1, ``abundance_percent`` in %,
``quadrupole_fm2`` in fm^2 (1 barn = 100 fm^2), ``xi_percent`` the IUPAC frequency ratio Xi in %
(resonance frequency of the reference compound relative to 1H of TMS at the same field).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import attrs

from .errors import ValidationError

__all__ = [
    "Nucleus",
    "NUCLEI",
    "nucleus",
    "normalize_nucleus",
    "reference_frequency_hz",
    "guess_nucleus_from_frequency",
]


@attrs.frozen
class Nucleus:
    """Spin properties of one isotope (IUPAC 2001)."""

    symbol: str  #: canonical name, mass number first: "1H", "139La"
    spin: Fraction  #: nuclear spin quantum number I
    abundance_percent: float  #: natural abundance, %
    gamma_rad_s_t: float  #: gyromagnetic ratio, rad s^-1 T^-1
    quadrupole_fm2: float | None  #: electric quadrupole moment, fm^2 (None for I = 1/2)
    xi_percent: float  #: IUPAC frequency ratio Xi, %
    reference_compound: str  #: compound that defines 0 ppm

    @property
    def gamma_hz_t(self) -> float:
        """Gyromagnetic ratio gamma/2pi in Hz T^-1."""
        return self.gamma_rad_s_t / (2.0 * math.pi)

    @property
    def spin_factor(self) -> float:
        """I(I+1), the Curie-law spin factor."""
        i = float(self.spin)
        return i * (i + 1.0)

    def larmor_frequency_hz(self, field_t: float) -> float:
        """|gamma| B0 / 2pi in Hz for a field in tesla (bare nucleus, no shielding)."""
        return abs(self.gamma_hz_t) * field_t

    def receptivity_relative_1h(self) -> float:
        """Receptivity |gamma|^3 I(I+1) abundance relative to 1H (Harris et al. 2001)."""
        h = NUCLEI["1H"]
        own = abs(self.gamma_rad_s_t) ** 3 * self.spin_factor * self.abundance_percent
        ref = h.gamma_rad_s_t**3 * h.spin_factor * h.abundance_percent
        return own / ref


def _n(
    symbol: str,
    spin: str,
    abundance: float,
    gamma_1e7: float,
    q_fm2: float | None,
    xi: float,
    ref: str,
) -> Nucleus:
    return Nucleus(symbol, Fraction(spin), abundance, gamma_1e7 * 1e7, q_fm2, xi, ref)


#: Nuclei hydrofw knows, keyed by canonical symbol. gamma in 1e7 rad s^-1 T^-1 as tabulated.
NUCLEI: dict[str, Nucleus] = {
    n.symbol: n
    for n in (
        _n("1H", "1/2", 99.9885, 26.7522128, None, 100.000000, "TMS"),
        _n("2H", "1", 0.0115, 4.10662791, 0.2860, 15.350609, "(CD3)4Si"),
        _n("3He", "1/2", 0.000137, -20.3801587, None, 76.179437, "He gas"),
        _n("7Li", "3/2", 92.41, 10.3977013, -4.01, 38.863797, "LiCl (aq)"),
        _n("11B", "3/2", 80.1, 8.5847044, 4.059, 32.083974, "BF3.Et2O"),
        _n("13C", "1/2", 1.07, 6.728284, None, 25.145020, "TMS"),
        _n("14N", "1", 99.632, 1.9337792, 2.044, 7.226317, "CH3NO2"),
        _n("15N", "1/2", 0.368, -2.71261804, None, 10.136767, "CH3NO2"),
        _n("17O", "5/2", 0.038, -3.62808, -2.558, 13.556457, "D2O"),
        _n("19F", "1/2", 100.0, 25.18148, None, 94.094011, "CCl3F"),
        _n("23Na", "3/2", 100.0, 7.0808493, 10.4, 26.451900, "NaCl (aq)"),
        _n("27Al", "5/2", 100.0, 6.9762715, 14.66, 26.056859, "Al(NO3)3 (aq)"),
        _n("29Si", "1/2", 4.6832, -5.3190, None, 19.867187, "TMS"),
        _n("31P", "1/2", 100.0, 10.8394, None, 40.480742, "H3PO4 85%"),
        _n("33S", "3/2", 0.76, 2.055685, -6.78, 7.676000, "(NH4)2SO4 (aq)"),
        _n("63Cu", "3/2", 69.17, 7.1117890, -22.0, 26.515473, "[Cu(CH3CN)4][ClO4]"),
        _n("65Cu", "3/2", 30.83, 7.60435, -20.4, 28.403693, "[Cu(CH3CN)4][ClO4]"),
        _n("87Rb", "3/2", 27.83, 8.786400, 13.35, 32.720454, "RbCl (aq)"),
        _n("89Y", "1/2", 100.0, -1.3162791, None, 4.900198, "Y(NO3)3 (aq)"),
        _n("93Nb", "9/2", 100.0, 6.5674, -32.0, 24.476170, "K[NbCl6] (MeCN)"),
        _n("139La", "7/2", 99.910, 3.8083318, 20.0, 14.125641, "LaCl3 (aq)"),
        _n("195Pt", "1/2", 33.832, 5.8385, None, 21.496784, "Na2[PtCl6] (aq)"),
    )
}

_SYMBOL = re.compile(r"^\s*(?:(\d+)\s*([A-Za-z]{1,2})|([A-Za-z]{1,2})\s*-?\s*(\d+))\s*$")


def normalize_nucleus(name: str) -> str:
    """Return the canonical symbol ("1H") for spellings such as "H1", "1h", "La139", "139-La".

    Raises :class:`ValidationError` for anything that is not a nucleus in :data:`NUCLEI`.
    """
    m = _SYMBOL.match(str(name))
    if m is None:
        raise ValidationError(f"{name!r} is not a nucleus name (expected e.g. '1H' or '139La')")
    mass, element = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    symbol = f"{int(mass)}{element[0].upper()}{element[1:].lower()}"
    if symbol not in NUCLEI:
        known = ", ".join(NUCLEI)
        raise ValidationError(f"nucleus {symbol!r} is not in the nuclear data table ({known})")
    return symbol


def nucleus(name: str) -> Nucleus:
    """Look up a nucleus by any accepted spelling (see :func:`normalize_nucleus`)."""
    return NUCLEI[normalize_nucleus(name)]


def reference_frequency_hz(name: str, proton_tms_frequency_hz: float) -> float:
    """Frequency of the nucleus' IUPAC reference compound: Xi/100 * nu(1H, TMS), in Hz."""
    return nucleus(name).xi_percent / 100.0 * proton_tms_frequency_hz


def guess_nucleus_from_frequency(
    observe_frequency_hz: float, proton_tms_frequency_hz: float, tolerance: float = 0.01
) -> str | None:
    """Nucleus whose Xi-predicted frequency lies within ``tolerance`` (relative) of the
    observe frequency at a field given by the 1H frequency, or None when ambiguous or none."""
    hits = [
        n.symbol
        for n in NUCLEI.values()
        if abs(observe_frequency_hz / (n.xi_percent / 100.0 * proton_tms_frequency_hz) - 1.0)
        < tolerance
    ]
    return hits[0] if len(hits) == 1 else None
