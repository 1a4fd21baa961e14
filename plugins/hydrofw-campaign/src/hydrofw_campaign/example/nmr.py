"""The NMR experiments of one cell on one day (a session), simulated from the ground truth.

Every trace is ``signal + noise`` passed through the console's receiver chain
(:mod:`~hydrofw_campaign.example.receiver`), noise sigma 1 per channel in the output before
the console's receiver scaling, so a component's time-domain SNR is its amplitude at t = 0.
The 139La amplitude is the cell's ``la_snr``; 1H amplitudes follow from H per La by
:func:`~hydrofw_campaign.example.truth.snr_ratio_per_h_over_la` (same coil, receptivity
scaling) with this console's 1H spectral width and scans.

The 1H signal of a session after synthesis is a sum of components sharing the acquisition's
receiver phase:

* the metal hydride: a Lorentzian line (``h_fwhm_hz``) at ``h_shift_ppm``, T1 and T2 of the cell;
* molecular H2 (phase III) holding the trapped hydrogen: two exact homonuclear Pake doublets
  (``r_n``, ``r_nn``; weights ``w_n``, ``1 - w_n``), each with its own Gaussian broadening,
  at ``h2_shift_ppm``. T1(H2) = ``t1_h2_s`` (2-6 ms: fully relaxed at the 50 ms recycle delay,
  distinct from the hydride's in saturation recovery). A Hahn echo's pi pulse does not refocus
  homonuclear dipolar couplings: the H2 signal at the echo top is its FID continued from
  2 tau (gone for 2 tau >= 50 us). A solid echo refocuses the pair coupling: the full Pake
  pattern at the echo top (the intermolecular part assumed refocused as well);
* the LaH3 precursor residue: a Gaussian line of the precursor's width (40-55 kHz) at 5 ppm,
  decaying over days; T1 5 ms; dipolar, so not refocused by a Hahn echo.

Before synthesis (the precursor day) the 1H signal is the LaH3 line alone (H/La = 3). Each
session also holds a 63Cu FID of the Lenz lens (one pulse), whose line sits at
``nu_Cu,ambient (1 - sigma_DAC)``; every line of the session sits at
``nu_ref (1 - sigma_DAC)(1 + delta 1e-6)`` times a small magnet drift per acquisition
(``field_drift_ppm``, common to all nuclei). Every acquisition has its own random receiver
phase; the operator sets the carriers of a session a few kHz off the lines.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import numpy as np

from hydrofw.nuclei import reference_frequency_hz

from .acquisition import Acquisition
from .consoles import ConsoleSpec
from .receiver import DigitalFilterReceiver, SignalModel, bruker_decimation
from .signals import gaussian_decay, gaussian_support_s, pake_decay
from .truth import LA_CARRIER_HZ, PROTON_FREQUENCY_HZ, NmrCellTruth, snr_ratio_per_h_over_la

__all__ = [
    "Experiment",
    "NmrSettings",
    "SETTINGS",
    "settings_for",
    "DayBuilder",
    "SOLID_ECHO_TAU_S",
]

#: half echo time of the solid echo (s)
SOLID_ECHO_TAU_S = 10e-6
#: the receiver gate opens this long after the last pulse (s): echoes are fed to an analog
#: filter from then on
RECEIVER_GATE_S = 2.5e-6
#: standard deviation of the magnet drift between acquisitions (ppm)
FIELD_DRIFT_PPM = 0.02


@attrs.frozen
class NmrSettings:
    """Acquisition settings of one experiment type (SW in Hz, TD in complex points).

    ``delays_s``: recovery delays (saturation recovery) or tau, half the echo time (Hahn echo).
    """

    nucleus: str
    sequence_kind: str
    spectral_width_hz: float
    n_points: int
    n_scans: int
    receiver_gain: float
    recycle_delay_s: float
    delays_s: tuple[float, ...] | None = None


#: Default settings; recycle delays >> T1 (1.5 ms hydride, <= 6 ms H2): fully relaxed traces.
SETTINGS = {
    "h_fid": NmrSettings("1H", "fid", 200e3, 1024, 64, 8.0, 0.05),
    "la_fid": NmrSettings("139La", "fid", 500e3, 512, 16384, 203.0, 0.02),
    "cu_fid": NmrSettings("63Cu", "fid", 200e3, 256, 256, 64.0, 0.02),
    "h_satrec": NmrSettings(
        "1H",
        "satrec",
        200e3,
        256,
        64,
        8.0,
        0.05,
        (50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2e-3, 4e-3, 8e-3),
    ),
    "h_hahn": NmrSettings(
        "1H",
        "hahn",
        200e3,
        256,
        64,
        8.0,
        0.05,
        (25e-6, 50e-6, 100e-6, 200e-6, 400e-6, 700e-6, 1.0e-3, 1.5e-3),
    ),
    "h_solid_echo": NmrSettings("1H", "solid_echo", 2e6, 1024, 256, 16.0, 0.05),
}


def settings_for(console: ConsoleSpec) -> dict[str, NmrSettings]:
    """The settings on ``console``: its 1H spectral width and points for FIDs and series."""
    out = dict(SETTINGS)
    sw = console.h_spectral_width_hz
    out["h_fid"] = attrs.evolve(
        SETTINGS["h_fid"], spectral_width_hz=sw, n_points=console.h_fid_points
    )
    for key in ("h_satrec", "h_hahn"):
        out[key] = attrs.evolve(
            SETTINGS[key], spectral_width_hz=sw, n_points=console.h_series_points
        )
    return out


@attrs.frozen
class Experiment:
    """One simulated experiment: what was acquired and the true values it encodes."""

    key: str
    acquisition: Acquisition
    kind: str
    truth: dict[str, Any]


def _line_hz(ref_hz: float, shift_ppm: float, shielding: float) -> float:
    return ref_hz * (1 - shielding) * (1 + shift_ppm * 1e-6)


class DayBuilder:
    """Builds the experiments of one cell in one session, in acquisition order."""

    def __init__(
        self,
        cell: NmrCellTruth,
        day: float,
        acquired_at: dt.datetime,
        rng: np.random.Generator,
        *,
        console: ConsoleSpec,
        sequence_names: dict[str, str],
    ) -> None:
        self.cell, self.day, self.rng, self.console = cell, day, rng, console
        self.clock = acquired_at
        self.sequence_names = sequence_names
        self.settings = settings_for(console)
        h_set, la_set = self.settings["h_fid"], self.settings["la_fid"]
        self.snr_per_h = cell.la_snr * snr_ratio_per_h_over_la(
            h_set.n_scans, la_set.n_scans, h_set.spectral_width_hz, la_set.spectral_width_hz
        )
        self.before = day < 0
        self.shielding = cell.shielding(day)
        self.h_over_la = cell.h_over_la(day)
        self.h2_h_per_la = cell.h2_h_per_la(day)
        self.residue_h_per_la = cell.residue_h_per_la(day)
        self.h_fwhm_hz = cell.precursor_h_fwhm_hz if self.before else cell.h_fwhm_hz
        self.h_shift_ppm = cell.precursor_h_shift_ppm if self.before else cell.h_shift_ppm
        # amplitudes at t = 0 (noise sigma units) in a single-pulse 1H FID of this console
        self.snr_h = self.snr_per_h * self.h_over_la
        self.snr_h2 = self.snr_per_h * self.h2_h_per_la
        self.snr_residue = self.snr_per_h * self.residue_h_per_la
        # the operator's carriers of the session: a few kHz off the lines
        h_line = _line_hz(PROTON_FREQUENCY_HZ, self.h_shift_ppm, self.shielding)
        self.h_carrier_hz = float(np.round(h_line / 1e3) * 1e3 + np.round(rng.uniform(-3e3, 3e3)))
        self.la_ref_hz = reference_frequency_hz("139La", PROTON_FREQUENCY_HZ)
        self.cu_ref_hz = reference_frequency_hz("63Cu", PROTON_FREQUENCY_HZ)
        self.cu_line_hz = cell.cu_dac_frequency_hz(day)
        self.cu_carrier_hz = float(
            np.round(cell.cu_ambient_frequency_hz * (1 - 100e-6) / 1e3) * 1e3
            + np.round(rng.uniform(-2e3, 2e3))
        )
        self.label = f"{cell.cell} day {day:g}"

    # -- plumbing -----------------------------------------------------------------------------
    def _drift(self) -> float:
        return float(self.rng.normal(0.0, FIELD_DRIFT_PPM))

    def _h_offsets(self, drift_ppm: float) -> dict[str, float]:
        """Offsets (Hz) of the 1H components from the carrier under a magnet drift."""
        scale = 1 + drift_ppm * 1e-6
        cell = self.cell

        def off(shift_ppm: float) -> float:
            return _line_hz(PROTON_FREQUENCY_HZ, shift_ppm, self.shielding) * scale - (
                self.h_carrier_hz
            )

        return {
            "hydride": off(self.h_shift_ppm),
            "h2": off(cell.h2_shift_ppm),
            "residue": off(cell.precursor_h_shift_ppm),
        }

    def _acquire(
        self,
        key: str,
        models: list,
        title: str,
        delays_s: tuple[float, ...] | None = None,
        echo_open_s: float | None = None,
    ) -> Acquisition:
        """Pass each row's model through the receiver into an acquisition (``echo_open_s``:
        echoes sampled from their top, the receiver open since that time, s, negative)."""
        s = self.settings[key]
        rows = [
            self.console.receiver.acquire(
                m, s.n_points, s.spectral_width_hz, self.rng, echo_open_s=echo_open_s
            )
            for m in models
        ]
        data = rows[0] if s.delays_s is None else np.vstack(rows)
        la = s.nucleus == "139La"
        cu = s.nucleus == "63Cu"
        receiver = self.console.receiver
        digital = isinstance(receiver, DigitalFilterReceiver)
        acq = Acquisition(
            nucleus=s.nucleus,
            observe_frequency_hz=(
                LA_CARRIER_HZ if la else self.cu_carrier_hz if cu else self.h_carrier_hz
            ),
            base_frequency_hz=(
                self.la_ref_hz if la else self.cu_ref_hz if cu else PROTON_FREQUENCY_HZ
            ),
            spectral_width_hz=s.spectral_width_hz,
            n_scans=s.n_scans,
            sequence=self.sequence_names[s.sequence_kind],
            title=f"{title} {self.label}",
            acquired_at=self.clock,
            data=data,
            receiver_gain=s.receiver_gain,
            recycle_delay_s=s.recycle_delay_s,
            delays_s=delays_s if delays_s is not None else s.delays_s,
            group_delay_points=receiver.group_delay_points if digital else 0.0,
            decim=bruker_decimation(s.spectral_width_hz) if digital else 1,
            dead_time_s=getattr(receiver, "dead_time_s", 0.0),
            filter_bandwidth_hz=(
                receiver.bandwidth_hz(s.spectral_width_hz)
                if hasattr(receiver, "bandwidth_hz")
                else None
            ),
            clock_utc_offset_h=self.console.clock_utc_offset_h,
        )
        self.clock = self.clock + dt.timedelta(seconds=acq.duration_s + 120.0)
        return acq

    def _common_truth(
        self, key: str, phase: float, drift: float, *, echo: bool = False
    ) -> dict[str, Any]:
        s = self.settings[key]
        receiver = self.console.receiver.truth(s.spectral_width_hz)
        if echo and receiver.get("receiver") != "digital":
            # echoes are sampled from their top: no dead time, no pulse ring-down
            receiver.update(first_point_time_s=0.0)
            receiver.pop("dead_time_s", None)
            receiver.pop("ringdown_sigma", None)
        return {
            "nucleus": s.nucleus,
            "receiver_phase_rad": phase,
            "field_drift_ppm": drift,
            "spectral_width_hz": s.spectral_width_hz,
            **receiver,
        }

    def _h_model(
        self,
        phase: float,
        offsets: dict[str, float],
        *,
        hydride: float,
        h2: float,
        residue: float,
        h2_shift_s: float = 0.0,
        residue_shift_s: float = 0.0,
    ) -> SignalModel:
        """1H model: hydride + H2 Pake + residue; ``*_shift_s`` continue an unrefocused
        component's decay from that time (Hahn echo: 2 tau)."""
        cell = self.cell
        rot = np.exp(1j * phase)
        before = self.before

        def model(t: np.ndarray) -> np.ndarray:
            out = np.zeros(t.shape, dtype=np.complex128)
            if before:
                return (
                    rot
                    * hydride
                    * np.exp(2j * np.pi * offsets["residue"] * t)
                    * (gaussian_decay(t, self.h_fwhm_hz))
                )
            if hydride:
                out += hydride * np.exp(
                    2j * np.pi * offsets["hydride"] * t - np.pi * self.h_fwhm_hz * np.abs(t)
                )
            if h2:
                out += (
                    h2 * self._h2_pattern(t + h2_shift_s) * np.exp(2j * np.pi * offsets["h2"] * t)
                )
            if residue:
                out += (
                    residue
                    * gaussian_decay(t + residue_shift_s, cell.precursor_h_fwhm_hz)
                    * (np.exp(2j * np.pi * offsets["residue"] * t))
                )
            return rot * out

        return model

    def _h2_pattern(self, t: np.ndarray) -> np.ndarray:
        """The H2 Pake FID (1 at t = 0): two broadened doublets, evaluated where non-zero."""
        cell = self.cell
        out = np.zeros(t.shape)
        for r_a, weight, fwhm in (
            (cell.r_n_angstrom, cell.h2_weight_n, cell.pake_broadening_n_hz),
            (cell.r_nn_angstrom, 1 - cell.h2_weight_n, cell.pake_broadening_nn_hz),
        ):
            on = np.abs(t) < gaussian_support_s(fwhm)
            out[on] += weight * pake_decay(t[on], r_a * 1e-10) * gaussian_decay(t[on], fwhm)
        return out

    # -- experiments --------------------------------------------------------------------------
    def h_fid(self) -> Experiment:
        phase, drift = float(self.rng.uniform(-np.pi, np.pi)), self._drift()
        offsets = self._h_offsets(drift)
        model = self._h_model(
            phase, offsets, hydride=self.snr_h, h2=self.snr_h2, residue=self.snr_residue
        )
        acq = self._acquire("h_fid", [model], "1H FID")
        total = self.snr_h + self.snr_h2 + self.snr_residue
        return Experiment(
            "h_fid",
            acq,
            "fid",
            {
                **self._common_truth("h_fid", phase, drift),
                "h_over_la": self.h_over_la,
                "h_over_la_total": self.cell.h_over_la_total(self.day),
                "shift_ppm": self.h_shift_ppm,
                "fwhm_hz": self.h_fwhm_hz,
                "snr_time_domain": self.snr_h,
                "snr_h2_time_domain": self.snr_h2,
                "snr_residue_time_domain": self.snr_residue,
                "snr_total_time_domain": total,
                "h2_fraction": self.cell.h2_fraction(self.day),
                "offset_from_carrier_hz": offsets["residue" if self.before else "hydride"],
                "h2_offset_from_carrier_hz": offsets["h2"],
            },
        )

    def la_fid(self) -> Experiment:
        cell, day = self.cell, self.day
        phase, drift = float(self.rng.uniform(-np.pi, np.pi)), self._drift()
        line = _line_hz(self.la_ref_hz, cell.la_shift_ppm(day), self.shielding)
        offset = line * (1 + drift * 1e-6) - LA_CARRIER_HZ
        fwhm = cell.la_fwhm_hz(day)
        amp = cell.la_snr * np.exp(1j * phase)

        def model(t: np.ndarray) -> np.ndarray:
            return amp * np.exp(2j * np.pi * offset * t - np.pi * fwhm * t)

        acq = self._acquire("la_fid", [model], "139La FID")
        return Experiment(
            "la_fid",
            acq,
            "fid",
            {
                **self._common_truth("la_fid", phase, drift),
                "h_over_la": self.h_over_la,
                "shift_ppm": cell.la_shift_ppm(day),
                "fwhm_hz": fwhm,
                "snr_time_domain": cell.la_snr,
                "offset_from_carrier_hz": offset,
            },
        )

    def cu_fid(self) -> Experiment:
        """The 63Cu line of the Lenz lens: gives this session's sigma_DAC."""
        cell = self.cell
        phase, drift = float(self.rng.uniform(-np.pi, np.pi)), self._drift()
        offset = self.cu_line_hz * (1 + drift * 1e-6) - self.cu_carrier_hz
        amp = cell.cu_snr * np.exp(1j * phase)

        def model(t: np.ndarray) -> np.ndarray:
            return amp * np.exp(2j * np.pi * offset * t - np.pi * cell.cu_fwhm_hz * t)

        acq = self._acquire("cu_fid", [model], "63Cu Lenz lens FID")
        return Experiment(
            "cu_fid",
            acq,
            "cu_reference",
            {
                **self._common_truth("cu_fid", phase, drift),
                "cu_frequency_hz": self.cu_line_hz,
                "cu_ambient_frequency_hz": cell.cu_ambient_frequency_hz,
                "dac_shielding": self.shielding,
                "sigma_dac_ppm": self.shielding * 1e6,
                "fwhm_hz": cell.cu_fwhm_hz,
                "snr_time_domain": cell.cu_snr,
                "offset_from_carrier_hz": offset,
            },
        )

    def satrec(self) -> Experiment:
        cell = self.cell
        delays = np.asarray(self.settings["h_satrec"].delays_s)
        phase, drift = float(self.rng.uniform(-np.pi, np.pi)), self._drift()
        offsets = self._h_offsets(drift)
        m = self.snr_h * (1 - np.exp(-delays / cell.t1_s))
        m_h2 = self.snr_h2 * (1 - np.exp(-delays / cell.t1_h2_s))
        m_res = self.snr_residue * (1 - np.exp(-delays / cell.precursor_t1_s))
        models = [
            self._h_model(phase, offsets, hydride=a, h2=b, residue=c)
            for a, b, c in zip(m, m_h2, m_res, strict=True)
        ]
        acq = self._acquire("h_satrec", models, "1H T1 saturation recovery")
        return Experiment(
            "h_satrec",
            acq,
            "T1_saturation_recovery",
            {
                **self._common_truth("h_satrec", phase, drift),
                "t1_s": cell.t1_s,
                "m0": self.snr_h,
                "delay_s": delays.tolist(),
                "listed_delay_s": delays.tolist(),
                "amplitude_t0": m.tolist(),
                "t1_h2_s": cell.t1_h2_s,
                "h2_amplitude_t0": m_h2.tolist(),
                "residue_amplitude_t0": m_res.tolist(),
            },
        )

    def hahn(self) -> Experiment:
        cell = self.cell
        taus = np.asarray(self.settings["h_hahn"].delays_s)
        phase, drift = float(self.rng.uniform(-np.pi, np.pi)), self._drift()
        offsets = self._h_offsets(drift)
        m = self.snr_h * np.exp(-2 * taus / cell.t2_s)
        models = [
            self._h_model(
                phase,
                offsets,
                hydride=a,
                h2=self.snr_h2,
                residue=self.snr_residue,
                h2_shift_s=2 * tau,
                residue_shift_s=2 * tau,
            )
            for a, tau in zip(m, taus, strict=True)
        ]
        listed = 2 * taus if self.console.echo_list == "full" else taus
        acq = self._acquire(
            "h_hahn",
            models,
            "1H T2 Hahn echo",
            tuple(float(v) for v in listed),
            echo_open_s=-(float(taus.min()) - RECEIVER_GATE_S),
        )
        h2_at_top = (self.snr_h2 * self._h2_pattern(2 * taus)).tolist()
        residue_at_top = [
            self.snr_residue
            * float(gaussian_decay(np.array([2 * tau]), cell.precursor_h_fwhm_hz)[0])
            for tau in taus
        ]
        return Experiment(
            "h_hahn",
            acq,
            "T2_hahn_echo",
            {
                **self._common_truth("h_hahn", phase, drift, echo=True),
                "t2_s": cell.t2_s,
                "m0": self.snr_h,
                "tau_s": taus.tolist(),
                "delay_s": (2 * taus).tolist(),
                "listed_delay_s": listed.tolist(),
                "echo_list": self.console.echo_list,
                "amplitude_t0": m.tolist(),
                "h2_amplitude_at_echo_top": h2_at_top,
                "residue_amplitude_at_echo_top": residue_at_top,
            },
        )

    def solid_echo(self) -> Experiment:
        cell = self.cell
        s, ref = self.settings["h_solid_echo"], self.settings["h_fid"]
        scale = np.sqrt(s.n_scans / ref.n_scans) * np.sqrt(
            ref.spectral_width_hz / s.spectral_width_hz
        )
        lattice = self.snr_h * scale * float(np.exp(-2 * SOLID_ECHO_TAU_S / cell.t2_s))
        h2 = self.snr_h2 * scale
        residue = self.snr_residue * scale
        phase, drift = float(self.rng.uniform(-np.pi, np.pi)), self._drift()
        offsets = self._h_offsets(drift)
        model = self._h_model(phase, offsets, hydride=lattice, h2=h2, residue=residue)
        acq = self._acquire(
            "h_solid_echo",
            [model],
            "1H solid echo (H2)",
            echo_open_s=-(SOLID_ECHO_TAU_S - RECEIVER_GATE_S),
        )
        return Experiment(
            "h_solid_echo",
            acq,
            "solid_echo",
            {
                **self._common_truth("h_solid_echo", phase, drift, echo=True),
                "h2_fraction": cell.h2_fraction(self.day),
                "h2_amplitude_t0": h2,
                "lattice_amplitude_t0": lattice,
                "residue_amplitude_t0": residue,
                "h2_distances_angstrom": [cell.r_n_angstrom, cell.r_nn_angstrom],
                "h2_weights": [cell.h2_weight_n, 1 - cell.h2_weight_n],
                "pake_broadening_hz": [cell.pake_broadening_n_hz, cell.pake_broadening_nn_hz],
                "solid_echo_tau_s": SOLID_ECHO_TAU_S,
            },
        )

    def all(self, *, relaxation: bool, pake: bool) -> list[Experiment]:
        """Every experiment of the session: 1H, 139La and 63Cu FIDs, then the series asked for
        (not before synthesis)."""
        out = [self.h_fid(), self.la_fid(), self.cu_fid()]
        if relaxation and not self.before:
            out += [self.satrec(), self.hahn()]
        if pake and not self.before:
            out.append(self.solid_echo())
        return out
