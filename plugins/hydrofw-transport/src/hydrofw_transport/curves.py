"""From the columns of one log (or one channel of a PPMS file) to ``TransportCurve`` records.

Shared by every reader of this plugin: splits the trace into sweeps (:mod:`.sweeps`), gives each
sweep its ``acquired_at`` (UTC, time of its first point) and ``time_s`` (seconds since then),
counts overloaded and missing readings per sweep into ``flags``, and gives each row a stable id
``content_id(source_sha256, channel, sweep_index)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping

import attrs
import numpy as np

from hydrofw.errors import ParameterError
from hydrofw.ids import content_id
from hydrofw.records import TransportCurve

from . import __version__
from .sweeps import split_sweeps

__all__ = ["Trace", "SweepOptions", "sweep_options", "curves_from_trace"]


@attrs.frozen
class SweepOptions:
    """Sweep splitting: a sweep spans at least ``min_span_k`` (K); the temperature is smoothed
    over ``smoothing_points`` samples to find turning points."""

    min_span_k: float = attrs.field(default=2.0, converter=float)
    smoothing_points: int = attrs.field(default=9, converter=int)

    @min_span_k.validator
    def _check_span(self, _attribute: object, value: float) -> None:
        if not value > 0:
            raise ValueError(f"min_span_k must be positive, got {value}")

    @smoothing_points.validator
    def _check_points(self, _attribute: object, value: int) -> None:
        if value < 1:
            raise ValueError(f"smoothing_points must be >= 1, got {value}")


def sweep_options(reader: str, min_span_k: float, smoothing_points: int) -> SweepOptions:
    """:class:`SweepOptions` from reader options; bad values are a ``ParameterError``."""
    try:
        return SweepOptions(min_span_k, smoothing_points)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{reader} reader: {exc}") from None


@attrs.frozen
class Trace:
    """One R(T) log in measured order. ``time_s`` is Unix seconds when ``time_absolute``, else
    seconds since ``start`` (the header's start time, when known). ``overload`` marks the
    NaN resistances the instrument reported as overload (the other NaNs are missing)."""

    temperature_k: np.ndarray
    resistance_ohm: np.ndarray
    overload: np.ndarray
    time_s: np.ndarray | None = None
    time_absolute: bool = False
    start: dt.datetime | None = None
    excitation_a: float | None = None
    frequency_hz: float | None = None
    instrument: str | None = None
    channel: str = ""
    parameters: Mapping[str, str] = attrs.field(factory=dict)
    flags: tuple[str, ...] = ()


def _as_slice(rows: np.ndarray) -> np.ndarray | slice:
    """A slice for contiguous rows (the usual case: views, no copies), else the indices."""
    if rows.size and int(rows[-1]) - int(rows[0]) + 1 == rows.size:
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def _acquired_at(trace: Trace, first: int) -> dt.datetime | None:
    if trace.time_s is None or not np.isfinite(trace.time_s[first]):
        return None
    t0 = float(trace.time_s[first])
    if trace.time_absolute:
        return dt.datetime.fromtimestamp(t0, dt.UTC)
    if trace.start is not None:
        return trace.start + dt.timedelta(seconds=t0)
    return None


def _sweep_flags(trace: Trace, rows: np.ndarray | slice, direction: str) -> list[str]:
    flags = list(trace.flags)
    r = trace.resistance_ohm[rows]
    nan = np.isnan(r)
    n_over = int(np.count_nonzero(trace.overload[rows]))
    n_missing = int(np.count_nonzero(nan)) - n_over
    if n_over:
        flags.append(f"overload_points:{n_over}")
    if n_missing:
        flags.append(f"missing_points:{n_missing}")
    steps = np.diff(trace.temperature_k[rows])
    if np.any(steps < 0 if direction == "warming" else steps > 0):
        flags.append("unsorted_temperature")
    return flags


def curves_from_trace(
    trace: Trace,
    *,
    source_path: str,
    source_sha256: str,
    format: str,
    options: SweepOptions,
) -> Iterator[TransportCurve]:
    """One :class:`TransportCurve` per sweep of ``trace`` (one row for the whole trace, flagged
    ``no_sweep_found``, when the temperature never moves by ``min_span_k``)."""
    sweeps = split_sweeps(
        trace.temperature_k,
        min_span_k=options.min_span_k,
        smoothing_points=options.smoothing_points,
    )
    extra: list[str] = []
    if not sweeps:
        rows = np.flatnonzero(np.isfinite(trace.temperature_k))
        t = trace.temperature_k[rows]
        direction = "warming" if t.size and t[-1] >= t[0] else "cooling"
        sweeps_iter = [(rows, direction)]
        extra.append("no_sweep_found")
    else:
        sweeps_iter = [(s.rows, s.direction) for s in sweeps]
    for index, (row_index, direction) in enumerate(sweeps_iter):
        rows = _as_slice(row_index)
        first = int(row_index[0])
        time_s = None
        if trace.time_s is not None:
            time_s = trace.time_s[rows] - trace.time_s[first]
        yield TransportCurve(
            id=content_id("transport", source_sha256, trace.channel, index),
            temperature_k=trace.temperature_k[rows],
            resistance_ohm=trace.resistance_ohm[rows],
            time_s=time_s,
            sweep=direction,
            sweep_index=index,
            acquired_at=_acquired_at(trace, first),
            excitation_a=trace.excitation_a,
            frequency_hz=trace.frequency_hz,
            instrument=trace.instrument,
            channel=trace.channel or None,
            source_path=source_path,
            source_sha256=source_sha256,
            format=format,
            reader=f"hydrofw-transport {__version__}",
            flags=tuple(_sweep_flags(trace, rows, direction) + extra),
            parameters=dict(trace.parameters),
        )
