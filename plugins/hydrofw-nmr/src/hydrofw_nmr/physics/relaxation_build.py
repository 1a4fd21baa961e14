"""``relaxation.build``: group spectrum rows into relaxation curves (amplitude against delay).

Rows of one series share a source (``source_sha256``, else ``source_path``; a Bruker ``ser``
with its ``vdlist``, a TecMag or Varian array) or a user-given grouping (``group_by``, e.g.
("cell", "experiment") or ("cell", "day") for separate experiments; "day" is the UTC date of
``acquired_at``). Rows are always grouped by nucleus as well. The delay of each row is
``array_value`` (``array_unit`` s, ms or us) or, with ``delay_parameter``, a raw header value.

Echo-time convention: ``delay_s`` of an echo series is the **full echo time 2*tau** (first
pulse to echo top). If the arrayed variable is tau (pulse spacing), set ``echo_delay="tau"``
and the delays are doubled.

Time-domain rows are measured at the echo top (or the first points), frequency-domain rows
(from ``nmr.fid_to_spectrum``) by integral or peak height over a range in Hz or ppm; see
:mod:`.amplitudes`. The sign is fixed so that the fully relaxed point is positive (longest
delay for T1 kinds, shortest for T2 kinds).
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
import pyarrow as pa

from hydrofw.arrays import list_column_to_arrays
from hydrofw.errors import ParameterError, ValidationError
from hydrofw.ids import content_id

from ._table import day_key, float_values, group_rows, row_label, values
from .amplitudes import frequency_domain_amplitudes, time_domain_amplitudes

__all__ = ["RelaxationBuildParams", "build_relaxation"]

KINDS = ("T1_saturation_recovery", "T1_inversion_recovery", "T2_hahn_echo", "T2_cpmg")
_UNITS_S = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_METHODS = ("auto", "echo_top", "first_points", "integral", "peak_height")


def _range(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    lo, hi = (float(v) for v in value)
    return (min(lo, hi), max(lo, hi))


@attrs.frozen
class RelaxationBuildParams:
    """Parameters of ``relaxation.build``.

    ``kind``: the relaxation experiment. ``group_by``: columns (or "day") that identify one
    series; empty: the source file. ``delay_parameter``/``delay_unit``: header key holding the
    delay when ``array_value`` is null. ``echo_delay``: "full" (delays are 2*tau already) or
    "tau" (doubled); it concerns echo (T2) kinds only and is ignored for T1 kinds, so one
    campaign-wide setting serves both. ``method``: "auto" (time domain: echo_top; frequency
    domain: integral), "echo_top", "first_points", "integral" or "peak_height".
    ``n_average``: points averaged at the echo top. ``noise_fraction``: tail fraction used for
    time-domain noise. ``skip_us``: time-domain windows start this many microseconds after the
    time origin (the filter delay), so that lines that decay within it (molecular H2, whose
    Pake pattern is gone within tens of microseconds, a dipolar-broadened precursor line) do
    not enter the amplitudes of a narrow line that lives for milliseconds: a series of one
    sample then follows the narrow line's own relaxation (the window's decay factor is the
    same on every trace and cancels in T1/T2).
    ``magnitude``: time-domain magnitude instead of phase-sensitive amplitudes (biased at low
    SNR; not for inversion recovery). ``range_hz``/``range_ppm``: integration or peak range;
    ``noise_range_hz``/``noise_range_ppm``: signal-free region (default: the outer 10 % of the
    axis at each end).
    """

    kind: str = attrs.field(default="T1_saturation_recovery", validator=attrs.validators.in_(KINDS))
    group_by: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    delay_parameter: str | None = None
    delay_unit: str = attrs.field(default="s", validator=attrs.validators.in_(tuple(_UNITS_S)))
    echo_delay: str = attrs.field(default="full", validator=attrs.validators.in_(("full", "tau")))
    method: str = attrs.field(default="auto", validator=attrs.validators.in_(_METHODS))
    n_average: int = attrs.field(default=5, converter=int)
    noise_fraction: float = attrs.field(default=0.25, converter=float)
    skip_us: float = attrs.field(default=0.0, converter=float)
    magnitude: bool = False
    subtract_offset: bool = True
    range_hz: tuple[float, float] | None = attrs.field(default=None, converter=_range)
    range_ppm: tuple[float, float] | None = attrs.field(default=None, converter=_range)
    noise_range_hz: tuple[float, float] | None = attrs.field(default=None, converter=_range)
    noise_range_ppm: tuple[float, float] | None = attrs.field(default=None, converter=_range)

    def __attrs_post_init__(self) -> None:
        if self.n_average < 1:
            raise ValueError(f"n_average must be >= 1, got {self.n_average}")
        if not (math.isfinite(self.skip_us) and self.skip_us >= 0):
            raise ValueError(f"skip_us must be >= 0, got {self.skip_us}")
        if not 0.0 < self.noise_fraction < 1.0:
            raise ValueError(f"noise_fraction must lie in (0, 1), got {self.noise_fraction}")
        if self.magnitude and self.kind == "T1_inversion_recovery":
            raise ValueError("magnitude=True loses the sign of an inversion-recovery curve")
        if self.range_hz is not None and self.range_ppm is not None:
            raise ValueError("give range_hz or range_ppm, not both")
        if self.noise_range_hz is not None and self.noise_range_ppm is not None:
            raise ValueError("give noise_range_hz or noise_range_ppm, not both")


def _delays_s(table: pa.Table, p: RelaxationBuildParams, labels: list[str]) -> np.ndarray:
    array_value = float_values(table, "array_value")
    units = values(table, "array_unit")
    params = values(table, "parameters")
    out = np.empty(table.num_rows)
    for i in range(table.num_rows):
        if np.isfinite(array_value[i]) and p.delay_parameter is None:
            unit = units[i] or "s"
            if unit not in _UNITS_S:
                raise ValidationError(f"{labels[i]}: array_unit {unit!r} is not a time unit")
            out[i] = array_value[i] * _UNITS_S[unit]
            continue
        if p.delay_parameter is None:
            raise ValidationError(
                f"{labels[i]}: no delay (array_value is null); name the header key holding it "
                f"with delay_parameter"
            )
        header = dict(params[i] or [])
        raw = header.get(p.delay_parameter)
        try:
            out[i] = float(raw) * _UNITS_S[p.delay_unit]  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationError(
                f"{labels[i]}: header key {p.delay_parameter!r} is {raw!r}, not a number"
            ) from None
    if p.echo_delay == "tau" and p.kind.startswith("T2"):
        out = 2.0 * out
    bad = np.flatnonzero(~np.isfinite(out) | (out < 0))
    if bad.size:
        raise ValidationError(f"{labels[bad[0]]}: negative or non-finite delay {out[bad[0]]!r} s")
    return out


def _group_keys(table: pa.Table, p: RelaxationBuildParams) -> list[tuple[Any, ...]]:
    nuclei, cells = values(table, "nucleus"), values(table, "cell")
    if p.group_by:
        cols = []
        for name in p.group_by:
            if name == "day":
                cols.append([day_key(t) for t in values(table, "acquired_at")])
            elif name in table.column_names:
                cols.append(values(table, name))
            else:
                raise ParameterError(
                    f"relaxation.build: group_by column {name!r} is not in the table"
                )
        return [(*(c[i] for c in cols), nuclei[i]) for i in range(table.num_rows)]
    sha, path, ids = (
        values(table, "source_sha256"),
        values(table, "source_path"),
        values(table, "id"),
    )
    return [(sha[i] or path[i] or ids[i], cells[i], nuclei[i]) for i in range(table.num_rows)]


def _equal_length_block(data: list[np.ndarray], rows: list[int], label: str) -> np.ndarray:
    lengths = {data[i].size for i in rows}
    if len(lengths) != 1:
        raise ValidationError(f"{label}: traces of one series differ in length ({sorted(lengths)})")
    return np.stack([data[i] for i in rows])


def _axis_mask(
    x: np.ndarray,
    axis_unit: str,
    rng_hz: Any,
    rng_ppm: Any,
    observe_hz: float,
    ref_hz: float,
    label: str,
) -> np.ndarray | None:
    """Boolean mask of the axis points inside a range given in Hz (offset from the carrier) or
    ppm (against ``reference_frequency_hz``); None when no range is given."""
    if rng_hz is None and rng_ppm is None:
        return None
    want_ppm = rng_ppm is not None
    lo, hi = rng_ppm if want_ppm else rng_hz
    if (axis_unit == "ppm") != want_ppm:
        if not math.isfinite(ref_hz):
            raise ValidationError(
                f"{label}: converting between Hz and ppm needs reference_frequency_hz"
            )
        if want_ppm:  # Hz axis (offset from carrier) -> ppm against the reference
            x = (observe_hz + x - ref_hz) / ref_hz * 1e6
        else:  # ppm axis -> Hz offset from the carrier
            x = ref_hz * (1.0 + x * 1e-6) - observe_hz
    return (x >= lo) & (x <= hi)


@attrs.frozen
class _Traces:
    """Columns of the input table that the amplitude measurement reads, converted once."""

    re: list[np.ndarray]
    im: list[np.ndarray]
    x_unit: list[str]
    x_start: np.ndarray
    x_step: np.ndarray
    observe_hz: np.ndarray
    reference_hz: np.ndarray
    group_delay_points: np.ndarray

    @classmethod
    def of(cls, table: pa.Table) -> _Traces:
        return cls(
            list_column_to_arrays(table.column("re")),
            list_column_to_arrays(table.column("im")),
            values(table, "x_unit"),
            float_values(table, "x_start"),
            float_values(table, "x_step"),
            float_values(table, "observe_frequency_hz"),
            float_values(table, "reference_frequency_hz"),
            float_values(table, "group_delay_points"),
        )


def _frequency_series(
    tr: _Traces, rows: list[int], p: RelaxationBuildParams, method: str, label: str
) -> tuple[np.ndarray, np.ndarray]:
    units = {tr.x_unit[i] for i in rows}
    x_start = {float(tr.x_start[i]) for i in rows}
    x_step = {float(tr.x_step[i]) for i in rows}
    if len(units) != 1 or len(x_start) != 1 or len(x_step) != 1:
        raise ValidationError(f"{label}: spectra of one series have different axes")
    unit, start, step = units.pop(), x_start.pop(), x_step.pop()
    if unit not in ("Hz", "ppm"):
        raise ValidationError(f"{label}: frequency-domain axis in {unit!r}, expected Hz or ppm")
    real = _equal_length_block(tr.re, rows, label)
    observe, ref = float(tr.observe_hz[rows[0]]), float(tr.reference_hz[rows[0]])
    x = start + step * np.arange(real.shape[1])
    spacing_hz = abs(step) if unit == "Hz" else abs(step) * ref * 1e-6
    if unit == "ppm" and not math.isfinite(spacing_hz):
        raise ValidationError(f"{label}: ppm axis without reference_frequency_hz")
    signal = _axis_mask(x, unit, p.range_hz, p.range_ppm, observe, ref, label)
    if signal is None:
        raise ParameterError(f"relaxation.build: method {method!r} needs range_hz or range_ppm")
    noise = _axis_mask(x, unit, p.noise_range_hz, p.noise_range_ppm, observe, ref, label)
    if noise is None:
        edge = max(real.shape[1] // 10, 4)
        noise = np.zeros(real.shape[1], dtype=bool)
        noise[:edge] = noise[-edge:] = True
        noise &= ~signal
    if np.count_nonzero(signal) == 0:
        raise ValidationError(f"{label}: the signal range holds no points of the axis")
    if np.count_nonzero(noise) < 4:
        raise ValidationError(f"{label}: the noise region holds fewer than 4 points")
    return frequency_domain_amplitudes(real, signal, noise, spacing_hz, method=method)


def _time_series(
    tr: _Traces, rows: list[int], p: RelaxationBuildParams, method: str, label: str
) -> tuple[np.ndarray, np.ndarray]:
    re = _equal_length_block(tr.re, rows, label)
    im = _equal_length_block(tr.im, rows, label)
    delay_points = tr.group_delay_points[rows]
    start = int(math.ceil(np.nanmax(delay_points))) if np.any(np.isfinite(delay_points)) else 0
    dwell_s = {float(tr.x_step[i]) for i in rows if tr.x_unit[i] == "s"}
    if p.skip_us > 0:
        if len(dwell_s) != 1 or not min(dwell_s) > 0:
            raise ValidationError(f"{label}: skip_us needs one positive dwell time (x_step in s)")
        start += int(math.ceil(p.skip_us * 1e-6 / dwell_s.pop() - 1e-9))
    n = re.shape[1]
    if n - start < p.n_average + 8 or start + p.n_average > n * (1.0 - p.noise_fraction):
        raise ValidationError(
            f"{label}: {n} points are too few for the signal window and the noise tail"
        )
    amp, err, _ = time_domain_amplitudes(
        re + 1j * im,
        method=method,
        start=start,
        n_average=p.n_average,
        noise_fraction=p.noise_fraction,
        magnitude=p.magnitude,
        subtract_offset=p.subtract_offset,
    )
    return amp, err


def build_relaxation(table: pa.Table, p: RelaxationBuildParams) -> pa.Table:
    """Process function of ``relaxation.build`` (see the module docstring)."""
    cols = {name: values(table, name) for name in _PASSED_THROUGH}
    labels = [row_label("spectrum", cols["id"][i], cols["cell"][i]) for i in range(table.num_rows)]
    delays = _delays_s(table, p, labels)
    domains = values(table, "domain")
    traces = _Traces.of(table)
    out: list[dict[str, Any]] = []
    for rows in group_rows(_group_keys(table, p)).values():
        label = labels[rows[0]] + f" (series of {len(rows)})"
        domain = {domains[i] for i in rows}
        if len(domain) != 1:
            raise ValidationError(f"{label}: mixes time- and frequency-domain rows")
        is_time = domain.pop() == "time"
        method = p.method if p.method != "auto" else ("echo_top" if is_time else "integral")
        if is_time != (method in ("echo_top", "first_points")):
            raise ParameterError(
                f"relaxation.build: method {method!r} does not apply to "
                f"{'time' if is_time else 'frequency'}-domain rows ({label})"
            )
        series = _time_series if is_time else _frequency_series
        amp, err = series(traces, rows, p, method, label)
        order = np.argsort(delays[rows], kind="stable")
        amp, err, rows_sorted = amp[order], err[order], [rows[k] for k in order]
        relaxed = -1 if p.kind.startswith("T1") else 0
        if amp[relaxed] < 0:
            amp = -amp
        out.append(_curve_row(cols, rows_sorted, delays[rows_sorted], amp, err, p.kind, method))
    return pa.Table.from_pylist(out)


_PASSED_THROUGH = ("id", "cell", "campaign", "nucleus", "acquired_at", "history")


def _curve_row(
    cols: dict[str, list[Any]],
    rows: list[int],
    delay_s: np.ndarray,
    amp: np.ndarray,
    err: np.ndarray,
    kind: str,
    method: str,
) -> dict[str, Any]:
    ids = [cols["id"][i] for i in rows]
    first = rows[int(np.argmin([_ts(cols["acquired_at"][i]) for i in rows]))]
    return {
        "id": content_id("relaxation.build", ids),
        "cell": cols["cell"][first],
        "campaign": cols["campaign"][first],
        "nucleus": cols["nucleus"][first],
        "kind": kind,
        "acquired_at": cols["acquired_at"][first],
        "delay_s": delay_s.tolist(),
        "amplitude": amp.tolist(),
        "amplitude_err": err.tolist(),
        "amplitude_method": method,
        "source_ids": ids,
        "history": cols["history"][first] or [],
    }


def _ts(when: Any) -> float:
    return when.timestamp() if when is not None else math.inf
