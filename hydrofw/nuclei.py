"""Nuclear spin data of every NMR-active isotope, and nucleus inference from frequencies.

The table lives in ``hydrofw/data/nuclei.csv`` (one row per isotope). Source: R. K. Harris,
E. D. Becker, S. M. Cabral de Menezes, R. Goodfellow, P. Granger, "NMR nomenclature. Nuclear
spin properties and conventions for chemical shifts (IUPAC Recommendations 2001)", Pure Appl.
Chem. 73, 1795 (2001); Magn. Reson. Chem. 40, 489 (2002), Table 1 (rows marked ``IUPAC2001``;
the misprinted gamma of 207Pb is corrected to 5.67625e7). The stable lanthanide isotopes, for
which IUPAC gives no reference compound and no Xi, come from the isotope table of mrsimulator
(``src/mrsimulator/spin_system/isotope_data.json``; rows marked ``mrsimulator``).

Units are in the names: ``gamma_rad_s_t`` in rad s^-1 T^-1, ``abundance_percent`` in %,
``quadrupole_fm2`` in fm^2 (1 barn = 100 fm^2), ``xi_percent`` the IUPAC frequency ratio Xi in %
(resonance frequency of the reference compound relative to 1H of TMS at the same field). Where
IUPAC gives no Xi, ``xi_percent`` is the bare ratio |gamma / gamma(1H)| x 100 and
``xi_recommended`` is False.

Nucleus inference (:func:`infer_nucleus`): the ratio observe / 1H frequency is compared with Xi
of every isotope; a nucleus is accepted when it is the only one within :data:`XI_TOLERANCE`
(relative, 0.5 % = 5000 ppm: covers the chemical and Knight shifts of most nuclei but not the
far ends of 195Pt or 207Pb shift ranges). Isotopes with an IUPAC Xi win over those with only a
bare gamma ratio (the lanthanides: paramagnetic, rarely observed, no reference compound).
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from fractions import Fraction
from importlib import resources

import attrs

from .errors import FormatError, ParameterError, ValidationError

__all__ = [
    "Nucleus",
    "NUCLEI",
    "ELEMENTS",
    "XI_TOLERANCE",
    "STANDARD_MAGNET_TOLERANCE",
    "STANDARD_PROTON_FREQUENCIES_HZ",
    "nucleus",
    "normalize_nucleus",
    "is_tabulated",
    "reference_frequency_hz",
    "guess_nucleus_from_frequency",
    "nucleus_candidates",
    "infer_nucleus",
    "resolve_nucleus",
]

#: Relative tolerance of a nucleus match on Xi against a 1H frequency of the same file (0.5 %).
XI_TOLERANCE = 0.005

#: Tighter tolerance against the nominal frequencies of standard magnets (0.1 %): a nominal
#: frequency is itself ~0.05 % off the real one, so only small shifts are matched this way.
STANDARD_MAGNET_TOLERANCE = 0.001

#: Nominal 1H frequencies of commercial NMR magnets, Hz (used only when a file holds no 1H
#: frequency of its own; actual magnets sit within ~0.05 % of these).
STANDARD_PROTON_FREQUENCIES_HZ: tuple[float, ...] = tuple(
    f * 1e6
    for f in (
        60, 80, 90, 100, 200, 250, 270, 300, 360, 400, 500, 600,
        700, 750, 800, 850, 900, 950, 1000, 1100, 1200,
    )
)  # fmt: skip

#: Element symbols by atomic number (index 0 is Z = 1).
ELEMENTS: tuple[str, ...] = tuple(
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As "
    "Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd "
    "Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am "
    "Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og".split()
)


@attrs.frozen
class Nucleus:
    """Spin properties of one isotope."""

    symbol: str  #: canonical name, mass number first: "1H", "139La"
    spin: Fraction  #: nuclear spin quantum number I
    abundance_percent: float  #: natural abundance, %
    gamma_rad_s_t: float  #: gyromagnetic ratio, rad s^-1 T^-1
    quadrupole_fm2: float | None  #: electric quadrupole moment, fm^2 (None for I = 1/2)
    xi_percent: float  #: IUPAC frequency ratio Xi, % (bare gamma ratio when not recommended)
    reference_compound: str  #: compound that defines 0 ppm ("" when IUPAC names none)
    xi_recommended: bool = True  #: False when Xi is the bare gamma ratio, not an IUPAC value
    source: str = "IUPAC2001"  #: row source (see module docstring)

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


def _load_table() -> dict[str, Nucleus]:
    text = resources.files("hydrofw").joinpath("data/nuclei.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    gamma_h = next(float(r["gamma_1e7_rad_s_t"]) for r in rows if r["symbol"] == "1H")
    table: dict[str, Nucleus] = {}
    for r in rows:
        gamma = float(r["gamma_1e7_rad_s_t"])
        xi_text = r["xi_percent"].strip()
        q_text = r["quadrupole_fm2"].strip()
        table[r["symbol"]] = Nucleus(
            symbol=r["symbol"],
            spin=Fraction(r["spin"]),
            abundance_percent=float(r["abundance_percent"]),
            gamma_rad_s_t=gamma * 1e7,
            quadrupole_fm2=float(q_text) if q_text else None,
            xi_percent=float(xi_text) if xi_text else abs(gamma / gamma_h) * 100.0,
            reference_compound=r["reference_compound"],
            xi_recommended=bool(xi_text),
            source=r["source"],
        )
    return table


#: Every tabulated isotope, keyed by canonical symbol.
NUCLEI: dict[str, Nucleus] = _load_table()

_SYMBOL = re.compile(r"^\s*(?:(\d+)\s*-?\s*([A-Za-z]{1,2})|([A-Za-z]{1,2})\s*-?\s*(\d+))\s*$")


def normalize_nucleus(name: str, *, tabulated: bool = True) -> str:
    """Return the canonical symbol ("1H") for spellings such as "H1", "1h", "La139", "139-La".

    Raises :class:`ValidationError` for anything that is not an isotope name; with
    ``tabulated=True`` (default) also for isotopes missing from :data:`NUCLEI`.
    """
    m = _SYMBOL.match(str(name))
    if m is None:
        raise ValidationError(f"{name!r} is not a nucleus name (expected e.g. '1H' or '139La')")
    mass, element = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    element = f"{element[0].upper()}{element[1:].lower()}"
    symbol = f"{int(mass)}{element}"
    if element not in ELEMENTS or int(mass) < ELEMENTS.index(element) + 1 or int(mass) > 300:
        raise ValidationError(f"{name!r} is not an isotope (no element {element!r} of mass {mass})")
    if tabulated and symbol not in NUCLEI:
        raise ValidationError(
            f"nucleus {symbol!r} is not in the nuclear data table ({len(NUCLEI)} NMR-active "
            "isotopes, IUPAC 2001)"
        )
    return symbol


def is_tabulated(name: str) -> bool:
    """True when ``name`` spells an isotope of :data:`NUCLEI`."""
    try:
        normalize_nucleus(name)
    except ValidationError:
        return False
    return True


def nucleus(name: str) -> Nucleus:
    """Look up a nucleus by any accepted spelling (see :func:`normalize_nucleus`)."""
    return NUCLEI[normalize_nucleus(name)]


def reference_frequency_hz(name: str, proton_tms_frequency_hz: float) -> float:
    """Frequency of the nucleus' IUPAC reference compound: Xi/100 * nu(1H, TMS), in Hz."""
    return nucleus(name).xi_percent / 100.0 * proton_tms_frequency_hz


def nucleus_candidates(
    observe_frequency_hz: float,
    proton_bases_hz: Iterable[float],
    tolerance: float = XI_TOLERANCE,
) -> list[tuple[str, float]]:
    """Isotopes resonating within ``tolerance`` (relative) of ``observe_frequency_hz`` for any
    of the 1H (TMS) frequencies ``proton_bases_hz``, as ``(symbol, relative deviation)``, the
    closest first (one entry per isotope)."""
    best: dict[str, float] = {}
    bases = [b for b in proton_bases_hz if math.isfinite(b) and b > 0]
    if not (math.isfinite(observe_frequency_hz) and observe_frequency_hz > 0):
        return []
    for n in NUCLEI.values():
        for base in bases:
            dev = abs(observe_frequency_hz / (n.xi_percent / 100.0 * base) - 1.0)
            if dev < tolerance and dev < best.get(n.symbol, math.inf):
                best[n.symbol] = dev
    return sorted(best.items(), key=lambda kv: kv[1])


def guess_nucleus_from_frequency(
    observe_frequency_hz: float, proton_tms_frequency_hz: float, tolerance: float = XI_TOLERANCE
) -> str | None:
    """The only isotope within ``tolerance`` of the observe frequency at a field given by its
    1H frequency, or None when there is none or several."""
    hits = nucleus_candidates(observe_frequency_hz, [proton_tms_frequency_hz], tolerance)
    return hits[0][0] if len(hits) == 1 else None


def infer_nucleus(
    observe_frequency_hz: float,
    proton_bases_hz: Sequence[float] = (),
    *,
    tolerance: float = XI_TOLERANCE,
    standard_magnets: bool = True,
    standard_tolerance: float = STANDARD_MAGNET_TOLERANCE,
) -> tuple[list[str], str]:
    """Candidate isotopes for a frequency and how they were found.

    First the 1H frequencies of the same file (``proton_bases_hz``: other channels, lock);
    when these give no candidate and ``standard_magnets`` is set, the nominal frequencies of
    :data:`STANDARD_PROTON_FREQUENCIES_HZ` (with ``standard_tolerance``). Returns
    ``(symbols, basis)``, ``basis`` being ``"file"`` or ``"standard magnets"``; one symbol
    means a unique match.
    """
    found = _preferred(nucleus_candidates(observe_frequency_hz, proton_bases_hz, tolerance))
    if found:
        return found, "file"
    if standard_magnets:
        found = _preferred(
            nucleus_candidates(
                observe_frequency_hz, STANDARD_PROTON_FREQUENCIES_HZ, standard_tolerance
            )
        )
        return found, "standard magnets"
    return [], "file"


def _preferred(found: list[tuple[str, float]]) -> list[str]:
    """Candidates with an IUPAC Xi when there are any, else all (closest first)."""
    recommended = [s for s, _ in found if NUCLEI[s].xi_recommended]
    return recommended or [s for s, _ in found]


def _header_symbol(raw: str | None, *, tabulated: bool) -> str | None:
    if raw is None:
        return None
    text = str(raw).strip().lstrip("^").strip("<>").strip()
    try:
        return normalize_nucleus(text, tabulated=tabulated)
    except ValidationError:
        return None


def resolve_nucleus(
    raw: str | None,
    observe_frequency_hz: float,
    where: str,
    *,
    override: str | None = None,
    proton_bases_hz: Sequence[float] = (),
) -> tuple[str, tuple[str, ...]]:
    """The nucleus of an acquisition and the flags explaining how it was decided.

    ``raw`` is the header's label (``"1H"``, ``"H1"``, ``"^1H"``, ``"<NONE>"``); ``override``
    the user's ``nucleus=``; ``proton_bases_hz`` the 1H (TMS) frequencies of the magnet the
    header gives (other channels, lock). Flags:

    - ``nucleus_overridden``: the user's choice differs from the header's.
    - ``nucleus_not_in_table``: a valid isotope outside :data:`NUCLEI`, kept as named.
    - ``nucleus_frequency_mismatch``: the header's nucleus does not resonate at the observe
      frequency for any base of the file.
    - ``nucleus_inferred``: the nucleus was found from the frequency (header names none, or a
      wrong one and the file's own bases single out another isotope).

    Raises :class:`FormatError` naming the candidates (with the CLI spelling
    ``-o nucleus=...``) when the header names none and the frequency is ambiguous.
    """
    if override is not None:
        try:
            chosen = normalize_nucleus(override, tabulated=False)
        except ValidationError as exc:
            raise ParameterError(f"{where}: nucleus={override!r}: {exc}") from None
        flags: tuple[str, ...] = ()
        if chosen != _header_symbol(raw, tabulated=False):
            flags += ("nucleus_overridden",)
        if chosen not in NUCLEI:
            flags += ("nucleus_not_in_table",)
        return chosen, flags
    named = _header_symbol(raw, tabulated=False)
    if named is not None and named not in NUCLEI:
        return named, ("nucleus_not_in_table",)
    if named is not None:
        if not proton_bases_hz:
            return named, ()
        close = [s for s, _ in nucleus_candidates(observe_frequency_hz, proton_bases_hz)]
        if named in close:
            return named, ()
        if len(close) == 1:
            return close[0], ("nucleus_frequency_mismatch", "nucleus_inferred")
        return named, ("nucleus_frequency_mismatch",)
    candidates, basis = infer_nucleus(observe_frequency_hz, proton_bases_hz)
    if len(candidates) == 1:
        flags = ("nucleus_inferred",)
        return candidates[0], flags + (("nucleus_standard_magnet",) if basis != "file" else ())
    mhz = f"{observe_frequency_hz / 1e6:.6f} MHz"
    if candidates:
        listed = ", ".join(f"-o nucleus={c}" for c in candidates[:8])
        tol = XI_TOLERANCE if basis == "file" else STANDARD_MAGNET_TOLERANCE
        problem = (
            f"the header names no known nucleus ({raw!r}) and {mhz} fits several isotopes "
            f"(1H frequency from {basis}, {tol:.1%} tolerance): read it with one of {listed}"
        )
    else:
        problem = (
            f"the header names no known nucleus ({raw!r}) and no isotope resonates at {mhz} "
            f"within {XI_TOLERANCE:.1%} of its Xi (1H frequency from the file) or "
            f"{STANDARD_MAGNET_TOLERANCE:.1%} (standard magnets); read it with "
            "-o nucleus=<isotope> (e.g. -o nucleus=1H)"
        )
    raise FormatError(where, problem)
