"""Reader of Quantum Design PPMS / DynaCool / VersaLab MultiVu ``.dat`` R(T) files (``ppms``).

Resistance channels are recognised by name: ``Bridge N Resistance (Ohms)`` (resistivity option
and MultiVu log files), ``Resistance ChN (Ohms)`` (DynaCool/ETO), ``Resistance (Ohms)`` (DC
resistance). ``Bridge N Resistivity (Ohm)`` is used only when a channel has no resistance column
and its unit is plain ohm (sample geometry set to 1); ohm-cm resistivity is refused. Every
channel that holds readings gives its own sweeps (``instrument`` names the channel); pick one
with ``channel="Bridge 1"`` (or ``channel=1``). Excitation comes from ``Bridge N Excitation
(uA)`` / ``Excitation ChN (uA)`` (median over the channel), frequency from ``Frequency ChN
(Hz)``. A MultiVu file without resistance (MPMS magnetometry, ...) is refused with a message
saying what it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from hydrofw.errors import FormatError, ParameterError
from hydrofw.ids import file_sha256
from hydrofw.records import TransportCurve
from hydrofw.source import Source

from .curves import Trace, curves_from_trace, sweep_options
from .multivu import MultiVuFile, is_multivu, parse_multivu, time_anchor
from .truncation import truncation_flag
from .units import split_unit

__all__ = ["sniff", "read", "FORMAT", "EXTENSIONS"]

FORMAT = "ppms"
EXTENSIONS = (".dat",)
_RESISTANCE = re.compile(r"^(?P<pre>.*?)\s*\bresist(?P<kind>ance|ivity)\b\s*(?P<post>.*)$", re.I)
_EXCLUDE = re.compile(r"std|dev|err|phase|quad|harmonic|range", re.I)
_TEMPERATURE_NAMES = ("Temperature (K)", "Temperature(K)", "Sample Temp (K)", "System Temp (K)")
_TIME_NAMES = ("Time Stamp (sec)", "Time Stamp (s)", "Time", "Time (sec)")


def sniff(source: Source) -> float:
    """0.95 for a MultiVu file that names a resistance or resistivity, 0.5 for any other
    MultiVu file (so that a magnetometry file gets a clear refusal), 0 otherwise."""
    if source.is_dir():
        return 0.0
    head = source.head(65536)
    if not is_multivu(head):
        return 0.0
    return 0.95 if re.search(rb"(?i)resist|ETO|bridge", head) else 0.5


def _channel_key(pre: str, post: str) -> str:
    return " ".join(f for f in (pre.strip(), post.strip()) if f) or "Resistance"


def _channels(mv: MultiVuFile) -> dict[str, str]:
    """channel -> column name of its resistance (resistance preferred over resistivity)."""
    found: dict[str, tuple[int, str]] = {}
    for name in mv.names:
        stem, unit = split_unit(name)
        m = _RESISTANCE.match(stem)
        if not m or _EXCLUDE.search(stem):
            continue
        if unit is None or unit.kind != "resistance":
            continue
        rank = 0 if m.group("kind").lower() == "ance" else 1
        key = _channel_key(m.group("pre"), m.group("post"))
        if key not in found or rank < found[key][0]:
            found[key] = (rank, name)
    return {k: v[1] for k, v in found.items()}


def _describe(mv: MultiVuFile) -> str:
    app = mv.info("APPNAME") or mv.application or "MultiVu"
    shown = ", ".join(repr(n) for n in mv.names[:6])
    moment = any("moment" in n.lower() for n in mv.names)
    what = "a magnetometry file (magnetic moment)" if moment else "a MultiVu file"
    return (
        f"is {what} written by {app!r} (columns {shown}, ...); it holds no resistance "
        f"column ('Bridge N Resistance', 'Resistance ChN'), so it is not an R(T) measurement"
    )


def _companion(mv: MultiVuFile, channel: str, kind: str, words: tuple[str, ...]) -> float | None:
    """Median (SI) of the channel's column of unit ``kind`` whose name holds one of ``words``
    (excitation current in A, frequency in Hz); None when there is none."""
    tag = re.compile(rf"(?i)\b{re.escape(channel)}\b") if channel != "Resistance" else None
    for name, values in mv.numeric.items():
        stem, unit = split_unit(name)
        if unit is None or unit.kind != kind or not any(w in stem.lower() for w in words):
            continue
        if tag is not None and not tag.search(stem):
            continue
        finite = values[np.isfinite(values)]
        if finite.size:
            return float(np.median(finite)) * unit.scale + unit.offset
    return None


def _select(channels: dict[str, str], channel: str | int | None) -> dict[str, str]:
    if channel is None:
        return channels
    wanted = str(channel).strip().lower()
    for key, column in channels.items():
        if key.lower() == wanted or re.search(rf"\b{re.escape(wanted)}$", key.lower()):
            return {key: column}
    raise ParameterError(
        f"ppms reader: channel {channel!r} not found (channels: {', '.join(channels) or 'none'})"
    )


def _column(mv: MultiVuFile, names: tuple[str, ...]) -> np.ndarray | None:
    """The first of ``names`` present as a numeric column (error if it holds text)."""
    for name in names:
        if name in mv.numeric:
            return mv.numeric[name]
        if name in mv.text_cells:
            line, text = mv.text_cells[name]
            raise FormatError(mv.where, f"column {name!r} holds {text!r}, not a number", line=line)
    return None


def read(
    source: Source,
    *,
    channel: str | int | None = None,
    timezone: str = "UTC",
    min_span_k: float = 2.0,
    smoothing_points: int = 9,
) -> Iterator[TransportCurve]:
    """Yield one ``TransportCurve`` per sweep and resistance channel of a MultiVu file."""
    options = sweep_options("ppms", min_span_k, smoothing_points)
    data = source.read_bytes()
    mv = parse_multivu(data, source.path)
    channels = _channels(mv)
    for name in mv.names:
        if name in mv.text_cells and _RESISTANCE.match(split_unit(name)[0]):
            line, text = mv.text_cells[name]
            raise FormatError(mv.where, f"column {name!r} holds {text!r}, not a number", line=line)
    if not channels:
        raise FormatError(source.path, _describe(mv))
    temperature_k = _column(mv, _TEMPERATURE_NAMES)
    if temperature_k is None:
        raise FormatError(source.path, "has resistance columns but no 'Temperature (K)' column")
    time_s = _column(mv, _TIME_NAMES)
    anchor = time_anchor(mv, timezone) if time_s is not None else None
    flags: list[str] = []
    absolute = anchor is not None
    if anchor is not None and time_s is not None:
        time_s = time_s + anchor.offset_s
        flags.extend(anchor.flags)
    if "LogData" in mv.application:
        flags.append("multivu_log_file")
    if mv.truncated_at is not None:
        flags.append(truncation_flag(mv.truncated_at))
    app = mv.info("APPNAME") or "MultiVu"
    system = next((s for s in ("DynaCool", "VersaLab", "MPMS", "PPMS") if s in app), "PPMS")
    option = mv.application.split(",")[0].strip() or "MultiVu"
    sha = file_sha256(data)
    used = 0
    for key, column in _select(channels, channel).items():
        resistance = mv.numeric[column]
        usable = np.isfinite(resistance) & np.isfinite(temperature_k)
        if np.count_nonzero(usable) < 3:
            continue
        used += 1
        rows = np.flatnonzero(usable)
        unit = split_unit(column)[1]
        extra = ["resistivity_column"] if "resistivity" in column.lower() else []
        trace = Trace(
            temperature_k=temperature_k[rows],
            resistance_ohm=resistance[rows] * (unit.scale if unit is not None else 1.0),
            overload=np.zeros(rows.size, dtype=bool),
            time_s=None if time_s is None else time_s[rows],
            time_absolute=absolute,
            excitation_a=_companion(mv, key, "current", ("excitation", "current")),
            frequency_hz=_companion(mv, key, "frequency", ("frequency",)),
            instrument=f"Quantum Design {system} {option}, {key}",
            channel=key,
            parameters=mv.header,
            flags=tuple(flags + extra),
        )
        yield from curves_from_trace(
            trace, source_path=source.path, source_sha256=sha, format=FORMAT, options=options
        )
    if not used:
        kind = (
            "a MultiVu system log (LogData) whose"
            if "LogData" in mv.application
            else "a file whose"
        )
        raise FormatError(
            source.path,
            f"is {kind} resistance columns ({', '.join(channels.values())}) hold fewer than 3 "
            f"readings with a temperature: no R(T) data",
        )
