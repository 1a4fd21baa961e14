"""Validators and converters shared by the spectral parameter classes (the generic ones,
``one_of``, ``positive`` and ``non_negative``, come from :mod:`hydrofw.validators`)."""

from __future__ import annotations

from typing import Any

import attrs

from hydrofw.errors import ParameterError
from hydrofw.validators import non_negative, one_of, positive

__all__ = ["one_of", "positive", "non_negative", "optional_range", "float_pair"]


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
