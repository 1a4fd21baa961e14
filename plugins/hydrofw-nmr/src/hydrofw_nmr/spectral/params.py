"""Validators and converters shared by the spectral parameter classes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from hydrofw.errors import ParameterError

__all__ = ["one_of", "positive", "non_negative", "optional_range", "float_pair"]


def one_of(*choices: Any) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """Validator: the value is one of ``choices``."""

    def check(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in choices:
            raise ParameterError(f"{attribute.name} must be one of {choices}, got {value!r}")

    return check


def positive(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a number > 0 (None allowed)."""
    if value is not None and not value > 0:
        raise ParameterError(f"{attribute.name} must be positive, got {value!r}")


def non_negative(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a number >= 0 (None allowed)."""
    if value is not None and not value >= 0:
        raise ParameterError(f"{attribute.name} must be >= 0, got {value!r}")


def float_pair(value: Any) -> tuple[float, float] | None:
    """Converter: None or two numbers as a tuple of floats."""
    if value is None:
        return None
    try:
        a, b = value
        return (float(a), float(b))
    except (TypeError, ValueError):
        raise ParameterError(f"expected two numbers, got {value!r}") from None


def optional_range(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Validator: None or (low, high) with low < high."""
    if value is not None and not value[0] < value[1]:
        raise ParameterError(f"{attribute.name} must be (low, high) with low < high, got {value!r}")
