"""The consoles of the example's NMR cells: receiver chain, 1H spectral widths and points,
clock and echo-list conventions.

* ``bruker-topspin4`` (N1): Avance NEO, DSP decimation filter (GRPDLY 76), 1H SW 1 MHz (the
  H2 Pake doublets in band), Hahn-echo ``vdlist`` holding the full echo time 2 tau, ``$DATE``
  in Unix seconds (UTC);
* ``bruker-topspin3`` (N2): Avance III HD, DSP filter (GRPDLY 67.98), 1H SW 400 kHz (the
  0.75 Angstrom doublet's horns at +-213 kHz are filtered away), ``vdlist`` holding tau;
* ``varian`` (N3): VNMRS, analog 6-pole Butterworth (fb = SW/2), receiver dead time
  ``rof2 + alfa`` = 3.5 us with pulse ring-down, 1H SW 2 MHz, procpar ``tau`` holding tau,
  ``time_run``/``date`` on the console's local clock (UTC+8);
* ``tecmag`` (N4): TNMR, ideal sampling from t = 0 (no filter: the H2 doublets fold into the
  250 kHz window), PSEQ ``vdlist`` holding tau, UTC clock.
"""

from __future__ import annotations

import attrs

from .receiver import AnalogFilterReceiver, DigitalFilterReceiver, IdealReceiver, Receiver

__all__ = ["ConsoleSpec", "CONSOLES"]


@attrs.frozen
class ConsoleSpec:
    """Conventions of one console as the example simulates them.

    ``h_spectral_width_hz``/``h_fid_points``/``h_series_points`` for 1H FIDs and relaxation
    series; ``echo_list``: ``"tau"`` (the echo list holds tau) or ``"full"`` (it holds 2 tau);
    ``clock_utc_offset_h``: the console clock's offset from UTC (hours).
    """

    name: str
    family: str
    receiver: Receiver
    h_spectral_width_hz: float
    h_fid_points: int
    h_series_points: int
    echo_list: str = "tau"
    clock_utc_offset_h: float = 0.0
    timezone: str | None = None


CONSOLES = {
    "bruker-topspin4": ConsoleSpec(
        "bruker-topspin4",
        "bruker",
        DigitalFilterReceiver(76.0),
        h_spectral_width_hz=1.0e6,
        h_fid_points=2048,
        h_series_points=512,
        echo_list="full",
    ),
    "bruker-topspin3": ConsoleSpec(
        "bruker-topspin3",
        "bruker",
        DigitalFilterReceiver(67.98),
        h_spectral_width_hz=400e3,
        h_fid_points=1024,
        h_series_points=256,
    ),
    "varian": ConsoleSpec(
        "varian",
        "varian",
        AnalogFilterReceiver(dead_time_s=3.5e-6, ringdown_sigma=8.0),
        h_spectral_width_hz=2.0e6,
        h_fid_points=4096,
        h_series_points=1024,
        clock_utc_offset_h=8.0,
        timezone="+08:00",
    ),
    "tecmag": ConsoleSpec(
        "tecmag",
        "tecmag",
        IdealReceiver(),
        h_spectral_width_hz=250e3,
        h_fid_points=512,
        h_series_points=256,
    ),
}
