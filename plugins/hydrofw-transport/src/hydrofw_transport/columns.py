"""Which column of a log holds temperature, resistance, time, excitation current, frequency.

Each header is scored for each role from its name and unit (``T (K)``, ``Temperature_K``,
``Resistance [ohm]``, ``R (kOhm)``, ``Time Stamp (sec)``). Names that denote a setpoint, a
standard deviation, a range or a phase are penalised so that ``Setpoint (K)`` or
``Bridge 1 Std. Dev. (Ohm)`` never win over the measured value. A user mapping
(``columns={"temperature": "Tsample", "resistance": "R2"}``, names or 0-based indices) and unit
overrides (``units={"resistance": "kOhm"}``) replace the guess. A separate ``Date`` column
(LabVIEW spreadsheets write date and time of day apart) takes the role ``date``.
Current reversal: columns named like ``V+``/``V-`` (``Vplus``, ``V(+I)``, ``Voltage pos``) and
``I+``/``I-`` take the roles ``voltage_plus``, ``voltage_minus``, ``current_plus``,
``current_minus``; when both voltages and both currents (or one ``excitation`` current) are
there, R = (V+ - V-) / (I+ - I-) (or / 2 I) replaces any guessed resistance column. Repeated
names (``N/A`` x 20) are kept apart by position (flag ``duplicate_column_names``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import attrs

from hydrofw.errors import FormatError, ParameterError

from .units import Unit, split_unit, unit_scale

__all__ = ["ROLES", "Column", "ColumnMap", "identify_columns"]

ROLES = (
    "date", "time", "temperature", "resistance", "excitation", "frequency",
    "voltage_plus", "voltage_minus", "current_plus", "current_minus",
)  # fmt: skip
#: current-reversal roles: R = (V+ - V-) / (I+ - I-) (or / (2 I) with one current column)
REVERSAL = ("voltage_plus", "voltage_minus", "current_plus", "current_minus")
_REQUIRED = ("temperature", "resistance")
_PLUS = r"\s*[_ ]?(?:\+|plus|pos|positive|\(\+i\)|\+i)$"
_MINUS = r"\s*[_ ]?(?:-|minus|neg|negative|\(-i\)|-i)$"
_REVERSAL_NAMES = {
    "voltage_plus": re.compile(r"^(?:v|u|voltage|volt)" + _PLUS),
    "voltage_minus": re.compile(r"^(?:v|u|voltage|volt)" + _MINUS),
    "current_plus": re.compile(r"^(?:i|current)" + _PLUS),
    "current_minus": re.compile(r"^(?:i|current)" + _MINUS),
}
_DEFAULT_UNIT = {
    "temperature": Unit("K", "temperature", 1.0),
    "resistance": Unit("Ohm", "resistance", 1.0),
    "excitation": Unit("A", "current", 1.0),
    "frequency": Unit("Hz", "frequency", 1.0),
    "voltage_plus": Unit("V", "voltage", 1.0),
    "voltage_minus": Unit("V", "voltage", 1.0),
    "current_plus": Unit("A", "current", 1.0),
    "current_minus": Unit("A", "current", 1.0),
}
_KIND = {
    "date": "time",
    "time": "time",
    "temperature": "temperature",
    "resistance": "resistance",
    "excitation": "current",
    "frequency": "frequency",
    "voltage_plus": "voltage",
    "voltage_minus": "voltage",
    "current_plus": "current",
    "current_minus": "current",
}
_PENALTY = {
    "set",
    "setpoint",
    "target",
    "rate",
    "err",
    "error",
    "dev",
    "std",
    "stddev",
    "sigma",
    "range",
    "rang",
    "phase",
    "offset",
    "slope",
    "deviation",
    "heater",
    "rdev",
    "tdev",
    "limit",
}
_TIME_WORDS = {"time", "timestamp", "elapsed", "date", "datetime", "epoch", "clock", "unix"}


@attrs.frozen
class Column:
    """One column: position, raw header and unit (None means 'no unit written')."""

    index: int
    header: str
    unit: Unit | None


@attrs.frozen
class ColumnMap:
    """The columns chosen for each role, with flags noting guesses that were ambiguous."""

    temperature: Column
    resistance: Column | None
    time: Column | None = None
    excitation: Column | None = None
    frequency: Column | None = None
    date: Column | None = None
    voltage_plus: Column | None = None
    voltage_minus: Column | None = None
    current_plus: Column | None = None
    current_minus: Column | None = None
    flags: tuple[str, ...] = ()

    @property
    def reversal(self) -> bool:
        """R comes from current-reversal voltages: (V+ - V-) / (I+ - I-)."""
        return self.resistance is None

    def unit(self, role: str) -> Unit:
        """Unit of ``role`` (the header's unit, else the SI default)."""
        col: Column | None = getattr(self, role)
        if col is not None and col.unit is not None:
            return col.unit
        return _DEFAULT_UNIT[role]


def _tokens(name: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).split()


def _score(role: str, header: str) -> float:
    name, unit = split_unit(header)
    if role in _REVERSAL_NAMES:
        kind = unit.kind if unit is not None else None
        ok = _REVERSAL_NAMES[role].match(name.strip().lower()) and kind in (None, _KIND[role])
        return 3.0 if ok else 0.0
    tokens = _tokens(name)
    stem = "".join(tokens)
    kind = unit.kind if unit is not None else None
    score = 0.0
    if role == "date":
        return 3.0 if stem in {"date", "datum", "day"} and kind is None else 0.0
    if role == "time":
        if "constant" in tokens or "tcon" in tokens:
            return 0.0
        if kind == "time":
            score = 3.0
        elif _TIME_WORDS.intersection(tokens):
            score = 2.0
    elif role == "temperature":
        if kind not in (None, "temperature"):
            return 0.0
        if kind == "temperature":
            score = 2.0
        if "temp" in stem or re.fullmatch(r"t\d*|tval|tsample|tsamp|tsmp|ts", stem):
            score = max(score, 2.0) + (0.5 if kind == "temperature" else 0.0)
    elif role == "resistance":
        if kind not in (None, "resistance"):
            return 0.0
        if kind == "resistance":
            score = 2.0
        if "resist" in stem or re.fullmatch(r"r\d*|rval|rsample|rsamp|rxx|rs|r\d*sample", stem):
            score = max(score, 2.0) + (0.5 if kind == "resistance" else 0.0)
    elif role == "excitation":
        if kind not in (None, "current"):
            return 0.0
        if kind == "current" and ({"excitation", "exc", "iexc", "current"} & set(tokens)):
            score = 2.0
        elif {"excitation", "iexc"} & set(tokens) and kind is None:
            score = 1.0
    elif role == "frequency":
        if kind == "frequency" or "freq" in stem:
            score = 2.0
    if score and _PENALTY.intersection(tokens):
        score *= 0.2
    if score and "sample" in tokens:
        score += 0.25
    return score


def _resolve(key: str, wanted: str | int, headers: Sequence[str], where: str) -> int:
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        if not 0 <= wanted < len(headers):
            raise FormatError(
                where, f"columns[{key!r}] = {wanted} but the log has {len(headers)} columns"
            )
        return wanted
    if not isinstance(wanted, str):
        raise ParameterError(f"columns[{key!r}] must be a column name or a 0-based index")
    stripped = [h.strip() for h in headers]
    for match in (wanted.strip(), wanted.strip().lower()):
        pool = stripped if match == wanted.strip() else [h.lower() for h in stripped]
        if match in pool:
            if pool.count(match) > 1:
                raise FormatError(
                    where,
                    f"columns[{key!r}] = {wanted!r} names {pool.count(match)} columns; give "
                    f"its 0-based index instead",
                )
            return pool.index(match)
    shown = ", ".join(repr(h) for h in stripped) or "none"
    raise FormatError(where, f"columns[{key!r}] = {wanted!r}: no such column (columns: {shown})")


def _unit_override(role: str, text: str) -> Unit:
    unit = unit_scale(text)
    if unit is None or unit.kind != _KIND[role]:
        raise ParameterError(f"units[{role!r}] = {text!r} is not a {_KIND[role]} unit")
    return unit


def identify_columns(
    headers: Sequence[str],
    where: str,
    columns: Mapping[str, str | int] | None = None,
    units: Mapping[str, str] | None = None,
) -> ColumnMap:
    """Choose the column of each role (user mapping first, then the best-scoring header).

    Raises :class:`FormatError` naming ``where`` when no temperature or resistance column can
    be found, and :class:`ParameterError` for an unknown role in ``columns``/``units``.
    """
    columns = dict(columns or {})
    units = dict(units or {})
    for key in list(columns) + list(units):
        if key not in ROLES:
            raise ParameterError(f"unknown column role {key!r} (roles: {', '.join(ROLES)})")
    chosen: dict[str, int] = {}
    for role, wanted in columns.items():
        chosen[role] = _resolve(role, wanted, headers, where)
    flags: list[str] = []
    named = [h.strip().lower() for h in headers if h.strip()]
    if len(set(named)) < len(named):
        flags.append("duplicate_column_names")
    taken = set(chosen.values())
    for role in ROLES:
        if role in chosen:
            continue
        scored = sorted(
            (
                (s, i)
                for i, h in enumerate(headers)
                if i not in taken and (s := _score(role, h)) > 0
            ),
            key=lambda si: (-si[0], si[1]),
        )
        if not scored:
            continue
        if len(scored) > 1 and scored[1][0] == scored[0][0] and role in _REQUIRED:
            flags.append(f"ambiguous_{role}_column")
        chosen[role] = scored[0][1]
        taken.add(scored[0][1])
    reversal = {"voltage_plus", "voltage_minus"} <= set(chosen) and (
        {"current_plus", "current_minus"} <= set(chosen) or "excitation" in chosen
    )
    if reversal and "resistance" in chosen and "resistance" not in columns:
        del chosen["resistance"]  # a guessed R column loses to a complete reversal set
    elif not reversal:
        for role in REVERSAL:
            if role not in columns:
                chosen.pop(role, None)
    missing = [r for r in _REQUIRED if r not in chosen and not (r == "resistance" and reversal)]
    if missing:
        shown = ", ".join(repr(h.strip()) for h in headers) or "none"
        raise FormatError(
            where,
            f"no {' or '.join(missing)} column found among the columns ({shown}); "
            f"name them with columns={{'temperature': ..., 'resistance': ...}} (or, for "
            f"current reversal, 'voltage_plus', 'voltage_minus', 'current_plus', "
            f"'current_minus')",
        )
    built: dict[str, Column] = {}
    for role, index in chosen.items():
        unit = split_unit(headers[index])[1]
        if unit is not None and unit.kind != _KIND[role]:
            unit = None
        if role in units:
            unit = _unit_override(role, units[role])
        built[role] = Column(index, headers[index].strip(), unit)
    if "resistance" not in built:
        built["resistance"] = None  # type: ignore[assignment]
    return ColumnMap(**built, flags=tuple(flags))
