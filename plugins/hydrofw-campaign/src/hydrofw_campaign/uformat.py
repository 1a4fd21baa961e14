"""Values with standard errors in the physicists' short form ``1.449(3)``, via ``uncertainties``.

The error is rounded to one significant digit, or two when its leading digit is 1 or 2
(``1.449(15)``, ``0.0512(24)``); the value is rounded to the same decimal place. Values without a
finite positive error are written with four significant digits and no parentheses.
"""

from __future__ import annotations

import math
from typing import Any

from uncertainties import ufloat

__all__ = ["format_value", "format_uncertain", "sort_key"]


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def format_uncertain(value: float, err: float | None) -> str:
    """``value`` with ``err`` as ``1.449(3)``; just the value when ``err`` is missing or 0."""
    if not _finite(value):
        return "" if value is None else str(value)
    if not (_finite(err) and err > 0):  # type: ignore[operator]
        return f"{value:.4g}"
    leading = int(f"{err:e}"[0])
    digits = 2 if leading in (1, 2) else 1
    return f"{ufloat(value, err):.{digits}uS}"


def format_value(value: Any, err: Any = None) -> str:
    """Any table cell as text: numbers via :func:`format_uncertain`, booleans yes/no, lists
    joined with ', ', missing values as an empty string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "" if math.isnan(value) else format_uncertain(value, err)
    if isinstance(value, list | tuple):
        errs = (
            err if isinstance(err, list | tuple) and len(err) == len(value) else [None] * len(value)
        )
        return ", ".join(format_value(v, e) for v, e in zip(value, errs, strict=True))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ", timespec="minutes")
    return str(value)


def sort_key(value: Any) -> str:
    """The value an HTML table sorts a cell by (``data-sort``): numbers as repr, so sorting is
    numeric (0.1855 < 3.975 < 10.9), not textual; empty for missing values."""
    if isinstance(value, bool):
        return str(int(value))
    if _finite(value):
        return repr(float(value))
    if hasattr(value, "timestamp"):
        return repr(value.timestamp())
    return "" if value is None else str(value)
