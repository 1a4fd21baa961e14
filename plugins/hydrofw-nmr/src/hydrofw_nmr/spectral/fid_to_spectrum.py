"""Processor ``nmr.fid_to_spectrum``: time-domain rows of ``spectrum`` to frequency-domain rows.

Chain, per batch of equal-length rows: DC offset (mean of the FID tail) removed; optional
conjugation (consoles that store the opposite quadrature sense); echo-top left shift and
symmetrisation, or a fixed left shift; apodization in Hz from the true time origin; first-point
scaling; zero fill to ``zero_fill`` points; FFT (fftshift order folded into the window); removal
of the digital-filter group delay and of the echo-top fraction as a first-order phase;
manual, automatic or magnitude phasing; optional baseline correction.

Output rows keep every column of the input row and get ``domain="frequency"``, an ascending
axis in Hz (offset from the carrier) or ppm, and these extra columns: ``acquired_points``,
``group_delay_removed_points``, ``phase_p0_deg``, ``phase_p1_deg`` (applied, pivot at
``phase_pivot_hz``), ``time_noise_sigma`` and ``snr_time`` (time-domain SNR of the raw FID).
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
import pyarrow as pa

from hydrofw.arrays import to_list_array
from hydrofw.errors import ParameterError, ProcessingError

from . import apodization, baseline, echo
from .batching import (
    column_or,
    describe_row,
    float_rows,
    map_blocks,
    pooled_empty,
    raise_for_bad_rows,
    reassemble,
    require_domain,
    row_groups,
    set_columns,
    take_rows,
    workspace,
)
from .digital_filter import row_group_delays
from .numerics import frequency_axis_hz, hz_to_ppm, time_domain_snr
from .params import non_negative, one_of, positive
from .phase import apply_phase, auto_phase, phase_radians
from .transform import ZeroFilledFFT

__all__ = ["FidToSpectrumParams", "fid_to_spectrum", "PHASE_MODES"]

PHASE_MODES = ("auto", "auto_p0", "magnitude", "none")
_BLOCK_ROWS = 8  # rows transformed together: keeps the working set in cache (measured)


def _fraction(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 < value <= 1.0:
        raise ParameterError(f"{attribute.name} must be in (0, 1], got {value!r}")


def _phase(value: Any) -> str | tuple[float, float]:
    if isinstance(value, str):
        if value not in PHASE_MODES:
            raise ParameterError(
                f"phase must be one of {PHASE_MODES} or (p0, p1) degrees, got {value!r}"
            )
        return value
    try:
        p0, p1 = value
        return (float(p0), float(p1))
    except (TypeError, ValueError):
        raise ParameterError(
            f"phase must be one of {PHASE_MODES} or (p0, p1) degrees, got {value!r}"
        ) from None


def _zero_fill(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and not value.is_integer() or int(value) < 2:
        raise ParameterError(f"zero_fill must be a total number of points >= 2, got {value!r}")
    return int(value)


@attrs.frozen(kw_only=True)
class FidToSpectrumParams:
    """Parameters of ``nmr.fid_to_spectrum`` (units in the names; see docs/plugins)."""

    dc_offset: bool = True  #: subtract the mean of the last ``tail_fraction`` of the FID
    tail_fraction: float = attrs.field(default=0.25, converter=float, validator=_fraction)
    """FID tail (fraction of points) for the DC offset and the time-domain noise."""
    group_delay_points: float | None = attrs.field(default=None, validator=non_negative)
    """Digital-filter delay to remove; None: the row's ``group_delay_points`` or its header."""
    conjugate: bool = False  #: conjugate the FID (opposite quadrature sense)
    echo: str = attrs.field(default="none", validator=one_of("none", "top", "symmetric"))
    left_shift_points: int = attrs.field(default=0, converter=int, validator=non_negative)
    """Points dropped from the start; the time origin stays put (first-order phase)."""
    apodization: str = attrs.field(default="exponential", validator=one_of(*apodization.WINDOWS))
    line_broadening_hz: float = attrs.field(default=0.0, converter=float, validator=non_negative)
    first_point_scale: float = attrs.field(default=0.5, converter=float)
    zero_fill: int | None = attrs.field(default=None, converter=_zero_fill)
    phase: str | tuple[float, float] = attrs.field(default="auto", converter=_phase)
    phase_pivot_hz: float = attrs.field(default=0.0, converter=float)
    p1_range_deg: float = attrs.field(default=360.0, converter=float, validator=non_negative)
    baseline: str = attrs.field(default="none", validator=one_of(*baseline.BASELINE_MODELS))
    baseline_order: int = attrs.field(default=3, converter=int, validator=non_negative)
    axis: str = attrs.field(default="Hz", validator=one_of("Hz", "ppm"))
    precision: str = attrs.field(default="double", validator=one_of("double", "single"))
    snr_head_points: int = attrs.field(default=8, converter=int, validator=positive)


@attrs.frozen
class _Plan:
    """What every block of one row group shares (computed once per group)."""

    n: int  #: acquired points
    n_out: int  #: points after zero fill
    sw_hz: float
    gd: float  #: group delay (points) of the rows
    dtype: type
    window: np.ndarray  #: time-domain multiplier: apodization, (-1)^k, first point, p0
    phase: np.ndarray | None  #: frequency-domain multiplier (delay, p1), None when unity
    axis_hz: np.ndarray
    fft: ZeroFilledFFT


def _plan(n: int, sw_hz: float, gd: float, params: FidToSpectrumParams) -> _Plan:
    n_out = params.zero_fill or n
    dtype = np.complex64 if params.precision == "single" else np.complex128
    echo_mode = params.echo != "none"
    delay = 0.0 if echo_mode else gd - params.left_shift_points
    t0 = 0.0 if echo_mode else delay  # index of time zero (negative after a left shift)
    window = apodization.window(
        params.apodization, params.line_broadening_hz, n, 1.0 / sw_hz, t0
    ).astype(complex)
    if n_out % 2 == 0:  # fftshift order for free: multiply by (-1)^k before the transform
        window[1::2] *= -1.0
    if echo_mode or abs(delay) < 0.5:
        window[0] *= params.first_point_scale
    axis_hz = frequency_axis_hz(n_out, sw_hz)
    manual = params.phase if isinstance(params.phase, tuple) else (0.0, 0.0)
    window *= np.exp(1j * math.radians(manual[0]))  # zero-order phase commutes with the FFT
    phase = None
    if params.phase != "magnitude" and (manual[1] != 0.0 or delay != 0.0):
        phase = np.exp(
            1j * phase_radians(axis_hz, sw_hz, 0.0, manual[1], params.phase_pivot_hz, delay)
        ).astype(dtype)
    fft = ZeroFilledFFT.plan(n, n_out, dtype)
    return _Plan(n, n_out, sw_hz, gd, dtype, window.astype(dtype), phase, axis_hz, fft)


@attrs.frozen
class _Outputs:
    """Per-group output arrays that blocks fill in place (rows are disjoint per block)."""

    re: np.ndarray
    im: np.ndarray
    p0: np.ndarray
    p1: np.ndarray
    delay: np.ndarray
    snr: np.ndarray
    snr_err: np.ndarray
    sigma: np.ndarray
    power: np.ndarray  #: sum |FID|^2 per row: NaN flags non-finite data, 0 all-zero data


def _load_block(
    plan: _Plan, re: np.ndarray, im: np.ndarray, params: FidToSpectrumParams
) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """A block's FIDs, DC removed (conjugated, shifted), in a new complex buffer.

    Returns the buffer, the index of time zero, the delay (points) still to remove per row and
    the raw power per row (computed while the block is in cache)."""
    rows, n = re.shape
    fid = workspace("fid", (rows, n), plan.dtype)
    fid.real = re
    fid.imag = -im if params.conjugate else im
    power = np.einsum("ij,ij->i", re, re) + np.einsum("ij,ij->i", im, im)
    if params.dc_offset:
        tail = fid[:, n - max(1, int(round(n * params.tail_fraction))) :]
        fid -= tail.mean(axis=1, keepdims=True)
    if params.echo != "none":
        top, frac = echo.echo_top(
            fid, search_from=int(math.floor(plan.gd)), group_delay=plan.gd if plan.gd > 0 else None
        )
        moved = (
            echo.symmetrise(fid, top) if params.echo == "symmetric" else echo.shift_left(fid, top)
        )
        fid[...] = moved
        return fid, 0, frac, power
    if params.left_shift_points:
        fid[...] = echo.shift_left(fid, np.full(rows, params.left_shift_points))
    delay = plan.gd - params.left_shift_points
    return fid, int(round(max(delay, 0.0))), np.full(rows, delay), power


def _block(
    plan: _Plan,
    re: np.ndarray,
    im: np.ndarray,
    out: _Outputs,
    rows: slice,
    params: FidToSpectrumParams,
) -> None:
    """Transform one block of rows into ``out[rows]``."""
    fid, start, delay, out.power[rows] = _load_block(plan, re, im, params)
    out.snr[rows], out.sigma[rows], out.snr_err[rows] = time_domain_snr(
        fid, params.snr_head_points, params.tail_fraction, start, origin=delay - start,
        with_error=True,
    )
    out.delay[rows] = delay
    fid *= plan.window
    spec = plan.fft(
        fid,
        out=workspace("spectrum", (fid.shape[0], plan.n_out), plan.dtype),
        scratch=workspace("scratch", fid.shape, plan.dtype),
    )
    if plan.n_out % 2:
        spec = np.fft.fftshift(spec, axes=1)
    if params.echo != "none" and params.phase != "magnitude":
        spec *= np.exp(1j * phase_radians(plan.axis_hz, plan.sw_hz, 0.0, 0.0, 0.0, delay)).astype(
            plan.dtype
        )
    if plan.phase is not None:
        spec *= plan.phase
    if params.phase in ("auto", "auto_p0"):
        found = auto_phase(
            spec,
            plan.axis_hz,
            plan.sw_hz,
            pivot_hz=params.phase_pivot_hz,
            p1_range_deg=params.p1_range_deg,
            fix_p1=params.phase == "auto_p0",
        )
        out.p0[rows], out.p1[rows] = found.p0_deg, found.p1_deg
        apply_phase(
            spec, plan.axis_hz, plan.sw_hz, found.p0_deg, found.p1_deg, params.phase_pivot_hz
        )
    if params.phase == "magnitude":
        np.abs(spec, out=out.re[rows], casting="unsafe")
        out.im[rows] = 0.0
    else:
        out.re[rows] = spec.real
        out.im[rows] = spec.imag


def _group(table: pa.Table, index: np.ndarray, gd: float, params: FidToSpectrumParams) -> pa.Table:
    sub = take_rows(table, index)
    rows = float_rows(table, index)
    n = rows.n_points
    if n == 0:
        raise ProcessingError(f"{describe_row(table, int(index[0]))}: FID holds no points")
    if (params.zero_fill or n) < n:
        raise ProcessingError(
            f"{describe_row(table, int(index[0]))}: zero_fill={params.zero_fill} is "
            f"shorter than the {n} acquired points"
        )
    plan = _plan(n, float(sub.column("spectral_width_hz")[0].as_py()), gd, params)
    m = index.size
    manual = params.phase if isinstance(params.phase, tuple) else (0.0, 0.0)
    out = _Outputs(
        re=pooled_empty(m, plan.n_out),
        im=pooled_empty(m, plan.n_out),
        p0=np.full(m, manual[0]),
        p1=np.full(m, manual[1]),
        delay=np.empty(m),
        snr=np.empty(m),
        snr_err=np.empty(m),
        sigma=np.empty(m),
        power=np.empty(m),
    )
    map_blocks(lambda sl: _block(plan, rows.re[sl], rows.im[sl], out, sl, params), m, _BLOCK_ROWS)
    raise_for_bad_rows(table, index, out.power, "FID")
    if params.baseline != "none":
        for part in (out.re, out.im):
            fitted, _, _ = baseline.fit_baseline(part, params.baseline, params.baseline_order)
            part -= fitted
    return _output_columns(sub, out, plan, params)


def _output_columns(
    sub: pa.Table, out: _Outputs, plan: _Plan, params: FidToSpectrumParams
) -> pa.Table:
    rows, n_out = out.re.shape
    axis_hz = plan.axis_hz
    step_hz = (
        axis_hz[1] - axis_hz[0] if n_out > 1 else float(sub.column("spectral_width_hz")[0].as_py())
    )
    x_start, x_step = np.full(rows, axis_hz[0]), np.full(rows, step_hz)
    if params.axis == "ppm":
        ref = column_or(sub, "reference_frequency_hz", np.nan)
        if np.isnan(ref).any():
            raise ProcessingError(
                f"{describe_row(sub, int(np.argmax(np.isnan(ref))))}: axis='ppm' needs "
                "reference_frequency_hz (run nmr.reference, or use axis='Hz')"
            )
        obs = column_or(sub, "observe_frequency_hz", np.nan)
        x_start = hz_to_ppm(axis_hz[0], obs, ref)
        x_step = step_hz / ref * 1e6
    return set_columns(
        sub,
        {
            "re": to_list_array(out.re),
            "im": to_list_array(out.im),
            "domain": pa.array(["frequency"] * rows),
            "x_unit": pa.array([params.axis] * rows),
            "x_start": pa.array(x_start),
            "x_step": pa.array(x_step),
            "n_points": pa.array(np.full(rows, n_out, dtype=np.int64)),
            "acquired_points": pa.array(np.full(rows, plan.n, dtype=np.int64)),
            "group_delay_removed_points": pa.array(out.delay),
            "phase_p0_deg": pa.array(out.p0),
            "phase_p1_deg": pa.array(out.p1),
            "time_noise_sigma": pa.array(out.sigma),
            "snr_time": pa.array(out.snr),
            "snr_time_err": pa.array(out.snr_err),
        },
    )


def fid_to_spectrum(table: pa.Table, params: FidToSpectrumParams) -> pa.Table:
    """Transform every time-domain row of a ``spectrum`` table (see the module docstring)."""
    require_domain(table, "time", "nmr.fid_to_spectrum")
    gd = row_group_delays(table, params.group_delay_points, "nmr.fid_to_spectrum")
    sw = column_or(table, "spectral_width_hz", np.nan)
    parts = [
        (idx, _group(table, idx, float(gd[idx[0]]), params)) for idx in row_groups(table, [sw, gd])
    ]
    return reassemble(parts)
