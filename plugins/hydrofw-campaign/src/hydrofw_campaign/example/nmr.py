"""The NMR experiments of one cell on one day, simulated from the ground truth.

Every trace is ``signal + noise`` with noise sigma 1 per channel before the console's receiver
scaling, so a trace's time-domain SNR (amplitude at t = 0 over sigma) is its ``amplitude``.
The 139La amplitude is the cell's ``la_snr``; the 1H amplitude follows from H/La by
:func:`~hydrofw_campaign.example.truth.snr_ratio_per_h_over_la`. Frequencies: a line of
shift delta (ppm, true, i.e. corrected) sits at ``nu_ref (1 - sigma_DAC)(1 + delta 1e-6)``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import numpy as np

from hydrofw.nuclei import reference_frequency_hz

from .acquisition import Acquisition
from .signals import apply_group_delay, complex_noise, lorentzian_fid, pake_fid
from .truth import (
    H2_DISTANCES_M,
    H2_WEIGHTS,
    LA_CARRIER_HZ,
    PROTON_FREQUENCY_HZ,
    NmrCellTruth,
    snr_ratio_per_h_over_la,
)

__all__ = ["Experiment", "NmrSettings", "SETTINGS", "DayBuilder", "PAKE_BROADENING_HZ"]

#: Gaussian FWHM (Hz) of each H2 Pake doublet
PAKE_BROADENING_HZ = 15e3


@attrs.frozen
class NmrSettings:
    """Acquisition settings of one experiment type (SW in Hz, TD in complex points)."""

    nucleus: str
    sequence_kind: str
    spectral_width_hz: float
    n_points: int
    n_scans: int
    receiver_gain: float
    recycle_delay_s: float
    delays_s: tuple[float, ...] | None = None


#: Acquisition settings; recycle delays >> T1 (1.5 ms), so every trace is fully relaxed.
SETTINGS = {
    "h_fid": NmrSettings(
        nucleus="1H",
        sequence_kind="fid",
        spectral_width_hz=200e3,
        n_points=1024,
        n_scans=64,
        receiver_gain=8.0,
        recycle_delay_s=0.05,
    ),
    "la_fid": NmrSettings(
        nucleus="139La",
        sequence_kind="fid",
        spectral_width_hz=500e3,
        n_points=512,
        n_scans=16384,
        receiver_gain=203.0,
        recycle_delay_s=0.02,
    ),
    "h_satrec": NmrSettings(
        nucleus="1H",
        sequence_kind="satrec",
        spectral_width_hz=200e3,
        n_points=256,
        n_scans=64,
        receiver_gain=8.0,
        recycle_delay_s=0.05,
        delays_s=(50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2e-3, 4e-3, 8e-3),
    ),
    "h_hahn": NmrSettings(  # delays are tau, half the echo time
        nucleus="1H",
        sequence_kind="hahn",
        spectral_width_hz=200e3,
        n_points=256,
        n_scans=64,
        receiver_gain=8.0,
        recycle_delay_s=0.05,
        delays_s=(25e-6, 50e-6, 100e-6, 200e-6, 400e-6, 700e-6, 1.0e-3, 1.5e-3),
    ),
    "h_solid_echo": NmrSettings(
        nucleus="1H",
        sequence_kind="solid_echo",
        spectral_width_hz=2e6,
        n_points=1024,
        n_scans=256,
        receiver_gain=16.0,
        recycle_delay_s=0.05,
    ),
}


@attrs.frozen
class Experiment:
    """One simulated experiment: what was acquired and the true values it encodes."""

    key: str
    acquisition: Acquisition
    kind: str
    truth: dict[str, Any]


def _line_offset_hz(ref_hz: float, shift_ppm: float, shielding: float, carrier_hz: float) -> float:
    return ref_hz * (1 - shielding) * (1 + shift_ppm * 1e-6) - carrier_hz


def _t_axis(key: str) -> np.ndarray:
    s = SETTINGS[key]
    return np.arange(s.n_points) / s.spectral_width_hz


class DayBuilder:
    """Builds the experiments of one cell on one day, in acquisition order.

    ``group_delay_points`` > 0 builds a Bruker digital-filter delay into the traces;
    ``sequence_names`` maps sequence kinds (fid, satrec, hahn, solid_echo) to the console's
    pulse program names.
    """

    def __init__(
        self,
        cell: NmrCellTruth,
        day: float,
        acquired_at: dt.datetime,
        rng: np.random.Generator,
        *,
        group_delay_points: float,
        sequence_names: dict[str, str],
    ) -> None:
        self.cell, self.day, self.rng = cell, day, rng
        self.clock = acquired_at
        self.group_delay_points = group_delay_points
        self.sequence_names = sequence_names
        h_set, la_set = SETTINGS["h_fid"], SETTINGS["la_fid"]
        ratio = snr_ratio_per_h_over_la(
            h_set.n_scans, la_set.n_scans, h_set.spectral_width_hz, la_set.spectral_width_hz
        )
        self.h_over_la = cell.h_over_la(day)
        self.snr_h = cell.la_snr * ratio * self.h_over_la
        self.before = day < 0
        self.h_fwhm_hz = cell.precursor_h_fwhm_hz if self.before else cell.h_fwhm_hz
        self.h_shift_ppm = cell.precursor_h_shift_ppm if self.before else cell.h_shift_ppm
        line = PROTON_FREQUENCY_HZ * (1 - cell.dac_shielding) * (1 + cell.h_shift_ppm * 1e-6)
        self.h_carrier_hz = float(np.round(line / 1e3) * 1e3)  # operator sets it on the line
        self.h_offset_hz = _line_offset_hz(
            PROTON_FREQUENCY_HZ, self.h_shift_ppm, cell.dac_shielding, self.h_carrier_hz
        )
        self.la_ref_hz = reference_frequency_hz("139La", PROTON_FREQUENCY_HZ)
        self.la_offset_hz = _line_offset_hz(
            self.la_ref_hz, cell.la_shift_ppm(day), cell.dac_shielding, LA_CARRIER_HZ
        )
        self.label = f"{cell.cell} day {day:g}"

    # -- plumbing -----------------------------------------------------------------------------
    def _acquisition(self, key: str, signal: np.ndarray, title: str) -> Acquisition:
        s = SETTINGS[key]
        if self.group_delay_points:
            signal = apply_group_delay(signal, self.group_delay_points)
        data = signal + complex_noise(self.rng, signal.shape, 1.0)
        la = s.nucleus == "139La"
        acq = Acquisition(
            nucleus=s.nucleus,
            observe_frequency_hz=LA_CARRIER_HZ if la else self.h_carrier_hz,
            base_frequency_hz=self.la_ref_hz if la else PROTON_FREQUENCY_HZ,
            spectral_width_hz=s.spectral_width_hz,
            n_scans=s.n_scans,
            sequence=self.sequence_names[s.sequence_kind],
            title=f"{title} {self.label}",
            acquired_at=self.clock,
            data=data,
            receiver_gain=s.receiver_gain,
            recycle_delay_s=s.recycle_delay_s,
            delays_s=s.delays_s,
            group_delay_points=self.group_delay_points,
        )
        self.clock = self.clock + dt.timedelta(seconds=acq.duration_s + 120.0)
        return acq

    def _h_line(self, key: str, amplitude: float = 1.0) -> np.ndarray:
        return lorentzian_fid(
            _t_axis(key), amplitude, self.h_offset_hz, self.h_fwhm_hz, self.cell.phase_h_rad
        )

    # -- experiments --------------------------------------------------------------------------
    def h_fid(self) -> Experiment:
        acq = self._acquisition("h_fid", self._h_line("h_fid", self.snr_h), "1H FID")
        return Experiment(
            "h_fid",
            acq,
            "fid",
            {
                "nucleus": "1H",
                "h_over_la": self.h_over_la,
                "shift_ppm": self.h_shift_ppm,
                "fwhm_hz": self.h_fwhm_hz,
                "snr_time_domain": self.snr_h,
                "offset_from_carrier_hz": self.h_offset_hz,
            },
        )

    def la_fid(self) -> Experiment:
        cell, day = self.cell, self.day
        signal = lorentzian_fid(
            _t_axis("la_fid"),
            cell.la_snr,
            self.la_offset_hz,
            cell.la_fwhm_hz(day),
            cell.phase_la_rad,
        )
        acq = self._acquisition("la_fid", signal, "139La FID")
        return Experiment(
            "la_fid",
            acq,
            "fid",
            {
                "nucleus": "139La",
                "h_over_la": self.h_over_la,
                "shift_ppm": cell.la_shift_ppm(day),
                "fwhm_hz": cell.la_fwhm_hz(day),
                "snr_time_domain": cell.la_snr,
                "offset_from_carrier_hz": self.la_offset_hz,
            },
        )

    def satrec(self) -> Experiment:
        delays = np.asarray(SETTINGS["h_satrec"].delays_s)
        m = self.snr_h * (1 - np.exp(-delays / self.cell.t1_s))
        acq = self._acquisition(
            "h_satrec", m[:, None] * self._h_line("h_satrec")[None, :], "1H T1 saturation recovery"
        )
        return Experiment(
            "h_satrec",
            acq,
            "T1_saturation_recovery",
            {
                "nucleus": "1H",
                "t1_s": self.cell.t1_s,
                "m0": self.snr_h,
                "delay_s": delays.tolist(),
                "amplitude_t0": m.tolist(),
            },
        )

    def hahn(self) -> Experiment:
        taus = np.asarray(SETTINGS["h_hahn"].delays_s)
        m = self.snr_h * np.exp(-2 * taus / self.cell.t2_s)
        acq = self._acquisition(
            "h_hahn", m[:, None] * self._h_line("h_hahn")[None, :], "1H T2 Hahn echo"
        )
        return Experiment(
            "h_hahn",
            acq,
            "T2_hahn_echo",
            {
                "nucleus": "1H",
                "t2_s": self.cell.t2_s,
                "m0": self.snr_h,
                "tau_s": taus.tolist(),
                "delay_s": (2 * taus).tolist(),
                "amplitude_t0": m.tolist(),
            },
        )

    def solid_echo(self) -> Experiment:
        s, ref = SETTINGS["h_solid_echo"], SETTINGS["h_fid"]
        scale = np.sqrt(s.n_scans / ref.n_scans) * np.sqrt(
            ref.spectral_width_hz / s.spectral_width_hz
        )
        lattice = self.snr_h * scale
        fraction = self.cell.h2_fraction(self.day)
        h2 = lattice * fraction / (1 - fraction)
        pake = pake_fid(
            _t_axis("h_solid_echo"),
            H2_DISTANCES_M,
            [w * h2 for w in H2_WEIGHTS],
            PAKE_BROADENING_HZ,
        )
        signal = self._h_line("h_solid_echo", lattice) + np.exp(1j * self.cell.phase_h_rad) * pake
        acq = self._acquisition("h_solid_echo", signal, "1H solid echo (H2)")
        return Experiment(
            "h_solid_echo",
            acq,
            "solid_echo",
            {
                "nucleus": "1H",
                "h2_fraction": fraction,
                "h2_amplitude_t0": h2,
                "lattice_amplitude_t0": lattice,
                "h2_distances_angstrom": [r * 1e10 for r in H2_DISTANCES_M],
                "h2_weights": list(H2_WEIGHTS),
                "pake_broadening_hz": PAKE_BROADENING_HZ,
            },
        )

    def all(self, *, relaxation: bool, pake: bool) -> list[Experiment]:
        """Every experiment of the day: FIDs, then the series asked for (not before synthesis)."""
        out = [self.h_fid(), self.la_fid()]
        if relaxation and not self.before:
            out += [self.satrec(), self.hahn()]
        if pake and not self.before:
            out.append(self.solid_echo())
        return out
