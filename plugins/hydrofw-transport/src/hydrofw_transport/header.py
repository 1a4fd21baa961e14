"""Log headers: ``key: value`` comment lines and the SIM921 settings they may record.

Lab scripts write the bridge settings into the comment header in many forms: ``# Excitation:
100 uA``, ``#\tFrequency:\t13.7 Hz`` (PyMeasure), or echoed SIM921 commands and replies such as
``# EXCI 5``, ``# RANG 4``, ``# TCON 2``, ``# FREQ 13.7``, ``# IEXC? 1.0E-04``. Integer codes
(``TOKN OFF``) are decoded with the tables below; the SIM921 answers with the same integers or,
with ``TOKN ON``, with tokens, which are kept verbatim.

Code tables (from public SIM921 drivers; see the plugin docs): ``RANG n`` full scale
20 mOhm * 10**n (n = 0..9, 20 mOhm..20 MOhm); ``EXCI n`` excitation voltage 3, 10, 30, 100,
300 uV, 1, 3, 10, 30 mV (n = 0..8, -1 off); ``TCON n`` filter time constant 0.3, 1, 3, 10, 30,
100, 300 s (n = 0..6, -1 filter off); ``MODE n`` PASSIVE, CURRENT, VOLTAGE, POWER (n = 0..3);
``FREQ`` 1.95 to 61.1 Hz.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

from .units import parse_quantity

__all__ = ["header_parameters", "BridgeSettings", "bridge_settings", "SIM921_FREQUENCY_RANGE_HZ"]

SIM921_FREQUENCY_RANGE_HZ = (1.95, 61.1)
_EXCITATION_V = (3e-6, 10e-6, 30e-6, 100e-6, 300e-6, 1e-3, 3e-3, 10e-3, 30e-3)
_TIME_CONSTANT_S = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
_MODES = ("PASSIVE", "CURRENT", "VOLTAGE", "POWER")
_KEY_VALUE = re.compile(r"^(?P<key>[^:=\t]{1,80}?)\s*(?::|=|\t)\s*(?P<value>.*)$")
_COMMAND = re.compile(r"^(?P<key>[A-Z]{4}\??)\s*(?:,|\s)\s*(?P<value>\S.*)$")
#: Prefix of parameters the reader decodes from the raw header (the rest is verbatim).
DECODED = "hydrofw:"


def header_parameters(lines: Iterable[str]) -> dict[str, str]:
    """``key -> value`` from comment-stripped header lines; other non-empty lines are kept as
    ``line<k>`` so nothing of the header is lost."""
    out: dict[str, str] = {}
    for k, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        m = _COMMAND.match(line) or _KEY_VALUE.match(line)
        if m and m.group("key").strip():
            key = m.group("key").strip()
            if key in out:
                key = f"{key}#{k}"
            out[key] = m.group("value").strip()
        else:
            out[f"line{k}"] = line
    return out


@attrs.frozen
class BridgeSettings:
    """Excitation current (A) and frequency (Hz) found in a header, plus decoded extras."""

    excitation_a: float | None = None
    frequency_hz: float | None = None
    decoded: dict[str, str] = attrs.field(factory=dict)
    flags: tuple[str, ...] = ()


def _code(value: str) -> int | None:
    m = re.fullmatch(r"\s*([+-]?\d+)\s*", value)
    return int(m.group(1)) if m else None


def bridge_settings(parameters: Mapping[str, str]) -> BridgeSettings:
    """Decode the excitation, frequency, range and time constant written in a header."""
    excitation_a = frequency_hz = None
    decoded: dict[str, str] = {}
    flags: list[str] = []
    for key, value in parameters.items():
        k = key.split("#")[0].strip().rstrip("?").upper()
        low = key.lower()
        code = _code(value)
        if k == "RANG" and code is not None and 0 <= code <= 9:
            decoded[f"{DECODED}range_ohm"] = repr(20e-3 * 10.0**code)
        elif k == "EXCI" and code is not None and -1 <= code <= 8:
            decoded[f"{DECODED}excitation_v"] = "0" if code < 0 else repr(_EXCITATION_V[code])
        elif k == "TCON" and code is not None and -1 <= code <= 6:
            decoded[f"{DECODED}time_constant_s"] = "0" if code < 0 else repr(_TIME_CONSTANT_S[code])
        elif k == "MODE" and code is not None and 0 <= code <= 3:
            decoded[f"{DECODED}mode"] = _MODES[code]
        elif k == "IEXC" or any(w in low for w in ("excitation", "iexc", "current", "bias")):
            amps = parse_quantity(value, "current")
            bare = code is not None or _is_bare_number(value)
            if amps is not None and (not bare or k == "IEXC" or "current" in low):
                excitation_a = amps if excitation_a is None else excitation_a
            elif (volts := _volts(value)) is not None:
                decoded[f"{DECODED}excitation_v"] = repr(volts)
        elif k == "FREQ" or "freq" in low:
            hz = parse_quantity(value, "frequency")
            if hz is not None and frequency_hz is None:
                frequency_hz = hz
    if frequency_hz is not None:
        lo, hi = SIM921_FREQUENCY_RANGE_HZ
        if not lo <= frequency_hz <= hi:
            flags.append("frequency_outside_sim921_range")
    return BridgeSettings(excitation_a, frequency_hz, decoded, tuple(flags))


def _is_bare_number(value: str) -> bool:
    return re.fullmatch(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*", value) is not None


_VOLTS = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([unµμm]?)V\s*$")


def _volts(value: str) -> float | None:
    m = _VOLTS.match(value)
    if not m:
        return None
    scale = {"": 1.0, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "μ": 1e-6, "n": 1e-9}[m.group(2)]
    return float(m.group(1)) * scale
