"""Units written in column names and header values, and their SI scale factors.

Lab logs spell units in many ways: ``T (K)``, ``Temperature_K``, ``R(Ohm)``, ``Resistance [ohm]``,
``R (kOhm)``, ``Current (uA)``. :func:`split_unit` separates the quantity name from the unit and
:func:`unit_scale` turns a unit into ``(kind, scale, offset)`` so that ``SI = value * scale +
offset`` (offset only for degrees Celsius). SI here means ohm, kelvin, second, ampere and hertz.
Prefixes are case sensitive where it matters: ``mOhm`` is milli-ohm, ``MOhm`` mega-ohm.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["Unit", "split_unit", "unit_scale", "parse_quantity"]

_PREFIX = {
    "": 1.0,
    "n": 1e-9,
    "u": 1e-6,
    "µ": 1e-6,
    "μ": 1e-6,
    "m": 1e-3,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
}
_OHM = re.compile(r"^(?P<p>[nuµμmkKMG]?)(?:ohms?|Ohms?|OHMS?|Ω|Ω)$")
_AMP = re.compile(r"^(?P<p>[nuµμm]?)(?:A|amps?|Amps?)$")
_HZ = re.compile(r"^(?P<p>[mkM]?)(?:Hz|hz|HZ)$")
_VOLT = re.compile(r"^(?P<p>[nuµμm]?)(?:V|volts?|Volts?)$")
_KELVIN = {"K": 1.0, "k": 1.0, "kelvin": 1.0, "Kelvin": 1.0, "mK": 1e-3, "mk": 1e-3}
_CELSIUS = {"C", "°C", "degC", "deg C", "celsius", "Celsius", "ºC"}
_SECOND = {
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "ms": 1e-3,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
}
# "Name (unit)", "Name [unit]", "Name / unit", "Name in unit"
_BRACKETED = re.compile(r"^(?P<name>.*?)\s*[\(\[\{]\s*(?P<unit>[^\)\]\}]*?)\s*[\)\]\}]\s*$")
_SLASHED = re.compile(r"^(?P<name>.*?\S)\s*/\s*(?P<unit>[^/\s]+)$")
_SUFFIXED = re.compile(r"^(?P<name>.*?[A-Za-z0-9])[_\s\-]+(?P<unit>[A-Za-zµμΩΩ°º]+)$")


@attrs.frozen
class Unit:
    """A recognised unit: ``kind`` is 'resistance', 'temperature', 'time', 'current',
    'frequency' or 'voltage'; SI value = raw * ``scale`` + ``offset``."""

    text: str
    kind: str
    scale: float
    offset: float = 0.0


def unit_scale(text: str) -> Unit | None:
    """The :class:`Unit` written as ``text`` (e.g. 'kOhm', 'mK', 'uA', 'min'), or None."""
    t = text.strip()
    if not t:
        return None
    m = _OHM.match(t)
    if m:
        return Unit(t, "resistance", _PREFIX[m.group("p")])
    if t in _KELVIN:
        return Unit(t, "temperature", _KELVIN[t])
    if t in _CELSIUS:
        return Unit(t, "temperature", 1.0, 273.15)
    if t in _SECOND:
        return Unit(t, "time", _SECOND[t])
    m = _AMP.match(t)
    if m:
        return Unit(t, "current", _PREFIX[m.group("p")])
    m = _HZ.match(t)
    if m:
        return Unit(t, "frequency", _PREFIX[m.group("p")])
    m = _VOLT.match(t)
    if m:
        return Unit(t, "voltage", _PREFIX[m.group("p")])
    return None


def split_unit(header: str) -> tuple[str, Unit | None]:
    """Split a column header into (quantity name, unit or None).

    ``'T (K)' -> ('T', K)``, ``'Temperature_K' -> ('Temperature', K)``, ``'R/kOhm' -> ('R',
    kOhm)``; a trailing word that is not a known unit stays part of the name.
    """
    h = header.strip().strip('"').strip()
    for pattern in (_BRACKETED, _SLASHED, _SUFFIXED):
        m = pattern.match(h)
        if m:
            unit = unit_scale(m.group("unit"))
            if unit is not None or pattern is _BRACKETED:
                return m.group("name").strip(), unit
    return h, None


_QUANTITY = re.compile(
    r"^\s*(?P<value>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>[^\s,;]*)\s*$"
)


def parse_quantity(text: str, kind: str) -> float | None:
    """SI value of a header value such as '100 uA', '13.7 Hz', '1e-4' (bare numbers are taken
    as SI), or None when ``text`` is not a quantity of ``kind``."""
    m = _QUANTITY.match(text)
    if not m:
        return None
    value = float(m.group("value"))
    unit_text = m.group("unit")
    if not unit_text:
        return value
    unit = unit_scale(unit_text)
    if unit is None or unit.kind != kind:
        return None
    return value * unit.scale + unit.offset
