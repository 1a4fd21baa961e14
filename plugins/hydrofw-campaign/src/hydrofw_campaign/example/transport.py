"""R(T) logs of the transport cells: SIM921 bridge logs as lab scripts write them, and a
Quantum Design PPMS MultiVu ``.dat`` (Resistivity option) in the instrument's own layout.

A measurement is a cooling sweep followed by a warming sweep at 1 K/min, one reading every
60 s. The thermometer (a SIM922 diode) sits beside the sample: on warming the sample lags the
sensor by ``warming_lag_k``, giving the usual hysteresis. Bridge noise is Gaussian, so readings
below Tc scatter around the residual resistance, negative ones included.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import numpy as np

from .truth import TransportCellTruth

__all__ = [
    "Sweep",
    "simulate_sweeps",
    "write_sim921_python",
    "write_sim921_labview",
    "write_ppms_dat",
]

_RATE_K_PER_S = 1.0 / 60.0
_READ_EVERY_S = 60.0
_T_HIGH_K, _T_LOW_K = 220.0, 30.0
_EXCITATION_A = 100e-6
_FREQUENCY_HZ = 13.7
_LABVIEW_EPOCH = dt.datetime(1904, 1, 1, tzinfo=dt.UTC)


@attrs.frozen
class Sweep:
    """Readings of one sweep: sensor temperature (K), resistance (ohm), UTC times."""

    direction: str
    days_since_synthesis: float  #: the sample's state is that of the sweep's start
    sensor_lag_k: float  #: sensor temperature minus sample temperature
    times: tuple[dt.datetime, ...]
    temperature_k: np.ndarray = attrs.field(eq=False)
    resistance_ohm: np.ndarray = attrs.field(eq=False)


def simulate_sweeps(
    cell: TransportCellTruth, start: dt.datetime, rng: np.random.Generator
) -> list[Sweep]:
    """A cooling sweep (220 -> 30 K) then a warming sweep (30 -> 220 K) of ``cell``, the first
    starting at ``start``; each sweep sees the sample as it is at the sweep's start."""
    n = int((_T_HIGH_K - _T_LOW_K) / (_RATE_K_PER_S * _READ_EVERY_S)) + 1
    sweeps = []
    clock = start
    for direction, t_sensor in (
        ("cooling", np.linspace(_T_HIGH_K, _T_LOW_K, n)),
        ("warming", np.linspace(_T_LOW_K, _T_HIGH_K, n)),
    ):
        lag_k = cell.warming_lag_k if direction == "warming" else 0.0
        day = (clock - cell.synthesized_at).total_seconds() / 86400.0
        t_read = t_sensor + rng.normal(0.0, 0.02, n)
        r = cell.resistance_ohm(t_sensor - lag_k, day) + rng.normal(0.0, cell.noise_ohm, n)
        times = tuple(clock + dt.timedelta(seconds=_READ_EVERY_S * i) for i in range(n))
        sweeps.append(Sweep(direction, day, lag_k, times, t_read, r))
        clock = times[-1] + dt.timedelta(minutes=10)
    return sweeps


def write_sim921_python(
    path: Path, cell: str, sweeps: list[Sweep], rng: np.random.Generator
) -> Path:
    """CSV as a pyvisa script logs it: ``#`` header with the bridge settings, ISO 8601 UTC time
    stamps, ``T (K)``, ``R (Ohm)`` and the bridge phase; a timed-out read leaves an empty cell."""
    lines = [
        "# SIM921 AC resistance bridge log (rt_logger.py, pyvisa)",
        f"# sample: {cell}",
        "# bridge: SIM921 in SIM900 port 1; thermometer: SIM922 channel 1 (DT-670 diode)",
        "# Mode: CURRENT",
        f"# Excitation: {_EXCITATION_A * 1e6:.0f} uA",
        f"# Frequency: {_FREQUENCY_HZ} Hz",
        "# RANG 3",
        "# TCON 2",
        "timestamp,T (K),R (Ohm),phase (deg)",
    ]
    for sweep in sweeps:
        for when, t, r in zip(sweep.times, sweep.temperature_k, sweep.resistance_ohm, strict=True):
            stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            r_text = "" if rng.random() < 0.004 else f"{r:.6g}"
            lines.append(f"{stamp},{t:.4f},{r_text},{rng.normal(0.0, 0.3):.2f}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_sim921_labview(
    path: Path, cell: str, sweeps: list[Sweep], rng: np.random.Generator
) -> Path:
    """Tab-separated text as a LabVIEW VI writes it (CRLF): a ``#`` header with the settings,
    time as LabVIEW "Get Date/Time In Seconds" (seconds since 1904-01-01 UTC), the sensor
    temperature and the raw ``RVAL?`` reply strings (``+1.23456E+00``); an overload reads
    ``OVLD``; a timed-out read leaves a blank line."""
    start = sweeps[0].times[0]
    lines = [
        "# SIM921 R(T) log, LabVIEW 2019 SP1 (RT_sweep.vi)",
        f"# Sample: {cell}",
        f"# Start time: {start:%Y-%m-%dT%H:%M:%S}Z",
        f"# IEXC? {_EXCITATION_A:.3E}",
        f"# FREQ {_FREQUENCY_HZ:.2f}",
        "Time (s)\tTemperature (K)\tResistance (Ohm)",
    ]
    for sweep in sweeps:
        for when, t, r in zip(sweep.times, sweep.temperature_k, sweep.resistance_ohm, strict=True):
            u = rng.random()
            if u < 0.003:
                lines.append("")
                continue
            reply = "OVLD" if u < 0.005 else f"{r:+.5E}"
            seconds = (when - _LABVIEW_EPOCH).total_seconds()
            lines.append(f"{seconds:.3f}\t{t:.3f}\t{reply}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


_PPMS_COLUMNS = (
    "Comment,Time Stamp (sec),Status (code),Temperature (K),Magnetic Field (Oe),"
    "Sample Position (deg),Bridge 1 Resistivity (Ohm),Bridge 1 Excitation (uA),"
    "Bridge 2 Resistivity (Ohm),Bridge 2 Excitation (uA),Bridge 3 Resistivity (Ohm),"
    "Bridge 3 Excitation (uA),Bridge 4 Resistivity (Ohm),Bridge 4 Excitation (uA),"
    "Bridge 1 Std. Dev. (Ohm),Bridge 2 Std. Dev. (Ohm),Bridge 3 Std. Dev. (Ohm),"
    "Bridge 4 Std. Dev. (Ohm),Number of Readings,Bridge 1 Resistance (Ohms),"
    "Bridge 2 Resistance (Ohms),Bridge 3 Resistance (Ohms),Bridge 4 Resistance (Ohms),"
    "Signal 1 Vin (V),Signal 2 Vin (V),Digital Inputs (code),Drive 1 Iout (mA),"
    "Drive 1 Ipower (watts),Drive 2 Iout (mA),Drive 2 Ipower (watts),Pressure (),"
    "Map 20 (),Map 21 (),Map 22 (),Map 23 (),Map 24 (),Map 25 (),Map 26 (),Map 27 (),"
    "Map 28 (),Map 29 ()"
)
#: seconds of the MultiVu clock at 2026-01-01T00:00:00Z (the clock counts from an arbitrary
#: instrument epoch; FILEOPENTIME pairs one reading of it with the PC's date and time)
_MULTIVU_CLOCK_AT_2026 = 9_871_234.5


def _multivu_seconds(when: dt.datetime) -> float:
    return _MULTIVU_CLOCK_AT_2026 + (when - dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).total_seconds()


def write_ppms_dat(path: Path, cell: str, sweeps: list[Sweep], rng: np.random.Generator) -> Path:
    """A MultiVu Resistivity-option ``.dat`` (CRLF, ``[Header]``/``[Data]``, 41 columns, the
    sample on bridge 1, empty fields for unused bridges and a trailing comma), the PC clock on
    UTC. ``Bridge 1 Resistivity`` equals the resistance (cross section and length 1)."""
    opened = sweeps[0].times[0] - dt.timedelta(minutes=3)
    hour = opened.hour % 12 or 12
    header = [
        "[Header]",
        "TITLE, default name",
        f"FILEOPENTIME,{_multivu_seconds(opened):.2f},{opened.month}/{opened.day}/{opened.year},"
        f"{hour}:{opened.minute:02d} {'AM' if opened.hour < 12 else 'PM'}",
        "BYAPP, Resistivity, 2.1, 1.0",
        "INFO, APPNAME, PPMS MultiVu Application, 1.5.11",
        f"INFO, {cell} (DAC, 4-probe), Sample1 Name",
        "INFO, 1, Sample1 Cross Section",
        "INFO, 1, Sample1 Length",
        "INFO, Ohm, Sample1 Units",
    ]
    for k in (2, 3, 4):
        header += [
            f"INFO, , Sample{k} Name",
            f"INFO, 1, Sample{k} Cross Section",
            f"INFO, 1, Sample{k} Length",
            f"INFO, Ohm, Sample{k} Units",
        ]
    header += [
        "FIELDGROUP, Resistivity," + ",".join(str(i) for i in range(2, 42)),
        "STARTUPGROUP, Resistivity",
        "STARTUPAXIS, X, 2, LINEAR, AUTO",
        "STARTUPAXIS, Y1, 7, LINEAR, AUTO",
        "PLOT_APPEARANCE, ALL, HORZ_GRID_ON, VERT_GRID_ON, MARKERS_AND_LINES, ALL_LINES",
        "DATATYPE, TIME, 2",
        "DATATYPE, COMMENT, 1",
        "[Data]",
        _PPMS_COLUMNS,
    ]
    rows = []
    for sweep in sweeps:
        for when, t, r in zip(sweep.times, sweep.temperature_k, sweep.resistance_ohm, strict=True):
            sd = abs(rng.normal(0.0, 2e-4)) + 1e-4
            rows.append(
                f",{_multivu_seconds(when):.2f},4370,{float(t)!r},0.134000003337860,0,{float(r)!r},99.9899978637695,"
                f",,,,,,{float(sd)!r},,,,25,{float(r)!r},,,,"
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\r\n".join(header + rows) + "\r\n")
    return path
