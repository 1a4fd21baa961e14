"""What one simulated experiment acquired, independent of the console that writes it."""

from __future__ import annotations

import datetime as dt

import attrs
import numpy as np

__all__ = ["Acquisition"]


@attrs.frozen
class Acquisition:
    """One experiment: a trace (``data`` shape ``(n_points,)``) or an arrayed series
    (``(n_increments, n_points)``, one row per entry of ``delays_s``), complex, in the
    spectrometer's arbitrary units.

    ``observe_frequency_hz`` is the carrier; ``spectral_width_hz`` the complex sampling rate
    (dwell = 1/SW); ``delays_s`` the array variable of a relaxation series (saturation-recovery
    delay, or the Hahn-echo half time tau: the full echo time is 2*tau); ``sequence`` the pulse
    program name; ``group_delay_points`` the Bruker digital-filter delay built into ``data``.
    """

    nucleus: str
    observe_frequency_hz: float
    base_frequency_hz: float
    spectral_width_hz: float
    n_scans: int
    sequence: str
    title: str
    acquired_at: dt.datetime
    data: np.ndarray = attrs.field(eq=False, repr=False)
    receiver_gain: float = 1.0
    recycle_delay_s: float = 0.1
    pulse_length_s: float = 2.0e-6
    delays_s: tuple[float, ...] | None = None
    group_delay_points: float = 0.0
    temperature_k: float = 295.0
    decim: int = 1
    dead_time_s: float = 0.0
    filter_bandwidth_hz: float | None = None
    clock_utc_offset_h: float = 0.0

    @property
    def n_points(self) -> int:
        """Complex points per trace."""
        return int(self.data.shape[-1])

    @property
    def n_increments(self) -> int:
        return 1 if self.data.ndim == 1 else int(self.data.shape[0])

    @property
    def duration_s(self) -> float:
        """Approximate experiment time: scans x (recycle delay + acquisition) per increment."""
        per_scan = self.recycle_delay_s + self.n_points / self.spectral_width_hz
        return self.n_increments * self.n_scans * per_scan
