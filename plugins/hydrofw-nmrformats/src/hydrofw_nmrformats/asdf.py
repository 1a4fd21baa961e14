"""Decoding of JCAMP-DX ``(X++(Y..Y))`` data tables: AFFN, PAC and the compressed ASDF forms.

ASDF (JCAMP-DX 4.24, section 5.9) codes each ordinate by its first digit:

- SQZ ``@ A-I`` / ``a-i``: a value with a signed leading digit 0..9 / -1..-9;
- DIF ``% J-R`` / ``j-r``: a difference 0..9 / -1..-9 to the previous value;
- DUP ``S-Z s``: repeat the previous token 1..9 times in all (count includes the token).

A line whose last token is a DIF repeats that last ordinate as its successor's first value
(the "Y check"); the check is verified and dropped. The abscissa that starts every line is
returned so callers can count points against the header.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from hydrofw.errors import FormatError

__all__ = ["decode_table"]

_SQZ = {c: i for i, c in enumerate("@ABCDEFGHI")} | {c: -(i + 1) for i, c in enumerate("abcdefghi")}
_DIF = {c: i for i, c in enumerate("%JKLMNOPQR")} | {c: -(i + 1) for i, c in enumerate("jklmnopqr")}
_DUP = {c: i + 1 for i, c in enumerate("STUVWXYZs")}
_ASDF_CHARS = re.compile(r"[@A-DF-Ia-df-i%J-Rj-rS-Zs]")
_TOKEN = re.compile(
    r"([@A-Ia-i%J-Rj-rS-Zs])(\d*(?:\.\d*)?)|([+-]?(?:\d+\.?\d*|\.\d+)(?:[Ee][+-]?\d+)?)"
)
_X_ASDF = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+))")
_X_AFFN = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[Ee][+-]?\d+)?)")


def decode_table(
    lines: Sequence[str], where: str, first_line: int
) -> tuple[np.ndarray, list[float]]:
    """Ordinates of a data table (float64) and the abscissa written at the start of each line.

    ``first_line`` is the file line of ``lines[0]`` for error messages.
    """
    asdf = any(_ASDF_CHARS.search(line) for line in lines)
    x_pattern = _X_ASDF if asdf else _X_AFFN
    ys: list[float] = []
    xs: list[float] = []
    pending_check = False
    for offset, line in enumerate(lines):
        text = line.strip()
        if not text:
            continue
        number = first_line + offset
        m = x_pattern.match(text)
        if m is None:
            raise FormatError(
                where, f"data line does not start with an abscissa: {text[:40]!r}", line=number
            )
        xs.append(float(m.group(1)))
        line_values, ends_in_dif = _decode_line(text[m.end() :], where, number, asdf)
        if pending_check and line_values:
            if ys and line_values[0] != ys[-1]:
                raise FormatError(
                    where, f"Y check failed: {line_values[0]} != {ys[-1]}", line=number
                )
            line_values = line_values[1:]
        ys.extend(line_values)
        pending_check = ends_in_dif
    return np.asarray(ys, dtype=np.float64), xs


def _decode_line(text: str, where: str, number: int, asdf: bool) -> tuple[list[float], bool]:
    values: list[float] = []
    last_kind = ""
    last_dif = 0.0
    pos = 0
    for m in _TOKEN.finditer(text):
        gap = text[pos : m.start()]
        if gap.strip(" \t,;"):
            raise FormatError(where, f"unexpected characters {gap.strip()!r} in data", line=number)
        pos = m.end()
        code, digits, plain = m.group(1), m.group(2), m.group(3)
        if plain is not None:
            values.append(float(plain))
            last_kind = "value"
        elif code in _SQZ:
            values.append(_signed(_SQZ[code], digits))
            last_kind = "value"
        elif code in _DIF:
            if not values:
                raise FormatError(where, "DIF token with no preceding value", line=number)
            last_dif = _signed(_DIF[code], digits)
            values.append(values[-1] + last_dif)
            last_kind = "dif"
        else:
            count = int(str(_DUP[code]) + digits) if digits else _DUP[code]
            if not values or count < 1:
                raise FormatError(where, "DUP token with nothing to repeat", line=number)
            for _ in range(count - 1):
                values.append(values[-1] + last_dif if last_kind == "dif" else values[-1])
    if text[pos:].strip(" \t,;"):
        raise FormatError(
            where, f"unexpected characters {text[pos:].strip()[:20]!r} in data", line=number
        )
    return values, asdf and last_kind == "dif"


def _signed(lead: int, digits: str) -> float:
    """The number whose first digit is ``lead`` (its sign included) followed by ``digits``."""
    magnitude = float(f"{abs(lead)}{digits}") if digits else float(abs(lead))
    return -magnitude if lead < 0 else magnitude
