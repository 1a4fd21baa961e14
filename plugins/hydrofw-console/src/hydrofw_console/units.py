"""Units a console description may name, and their conversion to the SI unit of a field.

Linear units convert by a factor; Celsius and Fahrenheit by an offset as well.
"""

from __future__ import annotations

__all__ = ["UNITS", "to_si"]

#: unit -> (SI unit, factor, offset): value_si = value * factor + offset
UNITS: dict[str, tuple[str, float, float]] = {
    "Hz": ("Hz", 1.0, 0.0),
    "kHz": ("Hz", 1e3, 0.0),
    "MHz": ("Hz", 1e6, 0.0),
    "GHz": ("Hz", 1e9, 0.0),
    "s": ("s", 1.0, 0.0),
    "ms": ("s", 1e-3, 0.0),
    "us": ("s", 1e-6, 0.0),
    "ns": ("s", 1e-9, 0.0),
    "K": ("K", 1.0, 0.0),
    "C": ("K", 1.0, 273.15),
    "F": ("K", 5.0 / 9.0, 273.15 - 32.0 * 5.0 / 9.0),
    "1": ("1", 1.0, 0.0),
}


def to_si(value: float, unit: str) -> float:
    """``value`` given in ``unit`` expressed in the unit's SI unit (see :data:`UNITS`)."""
    _si, factor, offset = UNITS[unit]
    return value * factor + offset
