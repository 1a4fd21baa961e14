"""attrs validators for records and processor parameter classes (raise ``ValidationError``).

``hydrofw.process`` turns a ``ValidationError`` raised while building a parameter object into
a ``ParameterError`` naming the processor, so plugins use these in their params classes::

    @attrs.frozen
    class MyParams:
        width_hz: float = attrs.field(default=1.0, converter=float, validator=positive)
        mode: str = attrs.field(default="a", validator=one_of("a", "b"))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs

from .errors import ValidationError

__all__ = ["one_of", "positive", "non_negative", "finite"]

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def one_of(*choices: Any) -> Validator:
    """The value is one of ``choices`` (None allowed)."""

    def check(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and value not in choices:
            raise ValidationError(f"{attribute.name} must be one of {choices}, got {value!r}")

    return check


def positive(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A finite number > 0 (None allowed)."""
    if value is not None and not (value > 0 and math.isfinite(value)):
        raise ValidationError(f"{attribute.name} must be positive and finite, got {value!r}")


def non_negative(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A finite number >= 0 (None allowed)."""
    if value is not None and not (value >= 0 and math.isfinite(value)):
        raise ValidationError(f"{attribute.name} must be >= 0 and finite, got {value!r}")


def finite(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """A finite number (None allowed)."""
    if value is not None and not math.isfinite(value):
        raise ValidationError(f"{attribute.name} must be finite, got {value!r}")
