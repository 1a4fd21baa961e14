"""Simulated FIDs with closed-form spectra (for tests, benchmarks and examples).

A line (amplitude, offset_hz, fwhm_hz) decays exponentially (Lorentzian of that FWHM) or as a
Gaussian (Gaussian of that FWHM); it rotates as exp(+2j pi offset t), the convention of
:mod:`.numerics`. Noise is complex white noise of standard deviation ``noise`` per channel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from hydrofw import Spectrum, to_table
from hydrofw.errors import ValidationError

__all__ = ["fid", "table"]


def fid(
    n: int,
    sw_hz: float,
    lines: list[tuple[float, float, float]],
    *,
    shape: str = "lorentzian",
    noise: float = 0.0,
    seed: int = 0,
    phase_deg: float = 0.0,
) -> np.ndarray:
    """Sum of lines (amplitude, offset_hz, fwhm_hz): exponential (Lorentzian) or Gaussian decay."""
    if shape not in ("lorentzian", "gaussian"):
        raise ValidationError(f"shape must be 'lorentzian' or 'gaussian', got {shape!r}")
    t = np.arange(n) / sw_hz
    out = np.zeros(n, complex)
    for amp, offset_hz, fwhm_hz in lines:
        if shape == "lorentzian":
            env = np.exp(-np.pi * fwhm_hz * t)
        else:
            env = np.exp(-((np.pi * fwhm_hz * t) ** 2) / (4 * np.log(2)))
        out += amp * env * np.exp(2j * np.pi * offset_hz * t)
    out *= np.exp(1j * np.radians(phase_deg))
    if noise:
        rng = np.random.default_rng(seed)
        out += noise * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    return out


def table(
    fids: list[np.ndarray],
    sw_hz: float,
    observe_hz: float = 395e6,
    nucleus: str = "1H",
    **extra: Any,
) -> pa.Table:
    """A time-domain ``spectrum`` table of the given FIDs."""
    return to_table(
        [
            Spectrum(
                nucleus=nucleus,
                observe_frequency_hz=observe_hz,
                spectral_width_hz=sw_hz,
                re=f.real,
                im=f.imag,
                source_path=f"simulated-{i}",
                **extra,
            )
            for i, f in enumerate(fids)
        ]
    )
