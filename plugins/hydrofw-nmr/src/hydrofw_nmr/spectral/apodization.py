"""Apodization windows in Hz, evaluated from the true time origin of the signal.

* ``exponential``: ``exp(-pi * lb_hz * t)``, adds ``lb_hz`` (FWHM) of Lorentzian broadening.
* ``gaussian``: ``exp(-(pi * lb_hz * t)**2 / (4 ln 2))``, convolves the line with a Gaussian of
  FWHM ``lb_hz``.

``t = max(k - t0_points, 0) * dwell_s``: points before the time origin (a digital filter's
group delay) get the window value at t = 0; a negative ``t0_points`` (points dropped by a
left shift) starts the window later.
"""

from __future__ import annotations

import math

import numpy as np

from hydrofw.errors import ValidationError

__all__ = ["WINDOWS", "window"]

WINDOWS = ("none", "exponential", "gaussian")


def window(
    kind: str, lb_hz: float, n_points: int, dwell_s: float, t0_points: float = 0.0
) -> np.ndarray:
    """Real window of ``n_points`` for a line broadening ``lb_hz`` (Hz, FWHM added)."""
    if kind not in WINDOWS:
        raise ValidationError(f"apodization must be one of {WINDOWS}, got {kind!r}")
    t_s = np.clip(np.arange(n_points) - t0_points, 0.0, None) * dwell_s
    if kind == "none" or lb_hz == 0:
        return np.ones(n_points)
    if kind == "exponential":
        return np.exp(-math.pi * lb_hz * t_s)
    return np.exp(-((math.pi * lb_hz * t_s) ** 2) / (4.0 * math.log(2.0)))
