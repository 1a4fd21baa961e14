"""Parameters of the ``transport.tc`` processor (validated ``attrs`` class, JSON serialisable)."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

__all__ = ["TcParams"]


def _window(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    lo, hi = (float(v) for v in value)
    if not 0 <= lo < hi:
        raise ValueError(f"normal_window_k must be (low, high) with 0 <= low < high, got {value}")
    return (lo, hi)


def _between(low: float, high: float, *, closed: bool = False) -> Any:
    def check(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
        ok = low <= value <= high if closed else low < value < high
        if not ok:
            raise ValueError(f"{attribute.name} must lie in ({low}, {high}), got {value}")

    return check


def _odd_window(_inst: Any, _attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 3 or value % 2 == 0:
        raise ValueError(f"smoothing_points must be an odd integer >= 3, got {value}")


@attrs.frozen
class TcParams:
    """Parameters of ``transport.tc`` (temperatures in K, resistances in ohm).

    normal_window_k: (low, high) temperature window of the normal-state line; None = automatic.
    normal_points: the automatic normal-state window holds the points from T90 + 2 (T90 - T10)
        up to 3 (T90 - T10) higher, and at least this many points.
    smoothing_points: points of the local linear fit giving smoothed R and dR/dT (odd, >= 3).
    zero_fraction: zero resistance means R < zero_fraction * R_n(T) ...
    noise_factor: ... or R < noise_factor * sigma_R, whichever threshold is larger.
    noise_ohm: bridge noise sigma_R; None = estimated from each sweep (second differences).
    step_prominence: a smoothed dR/dT peak counts as a transition step when its prominence
        exceeds this fraction of the largest slope (a flat metallic slope has no prominence).
    min_step_fraction: ... and it carries at least this fraction of the full drop of R / R_n.
    hold_band_fraction: a hold at either end of a sweep (the controller sitting at base or at
        the top) is the run of end points within max(5 sigma_T, this fraction x the sweep's
        span) of the end temperature, when it holds more than 3x the points a steady sweep puts
        there; holds are dropped before any criterion (flag ``hold_points_removed:N``).
    peak_window_fraction: the cubic fit locating a dR/dT peak uses the contiguous points whose
        smoothed slope is at least this fraction of the peak slope.
    min_points: sweeps with fewer valid points get no result (flag ``too_few_points``).
    """

    normal_window_k: tuple[float, float] | None = attrs.field(default=None, converter=_window)
    normal_points: int = attrs.field(default=8, converter=int, validator=_between(2, 10**9))
    smoothing_points: int = attrs.field(default=5, converter=int, validator=_odd_window)
    zero_fraction: float = attrs.field(default=1e-3, converter=float, validator=_between(0, 1))
    noise_factor: float = attrs.field(
        default=3.0, converter=float, validator=_between(0, 1e3, closed=True)
    )
    noise_ohm: float | None = attrs.field(
        default=None,
        converter=attrs.converters.optional(float),
        validator=attrs.validators.optional(_between(0, np.inf, closed=True)),
    )
    step_prominence: float = attrs.field(default=0.02, converter=float, validator=_between(0, 1))
    min_step_fraction: float = attrs.field(
        default=0.03, converter=float, validator=_between(0, 0.5)
    )
    hold_band_fraction: float = attrs.field(
        default=0.01, converter=float, validator=_between(0, 0.5)
    )
    peak_window_fraction: float = attrs.field(
        default=0.8, converter=float, validator=_between(0, 1)
    )
    min_points: int = attrs.field(default=8, converter=int, validator=_between(4, 10**9))
