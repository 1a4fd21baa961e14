"""The ground truth of the example campaign: per-cell models of every quantity against days.

Shaped like Zhou et al. (arXiv:2408.13419, see ``physics.md`` section 7): H/La relaxes from
~10.5 towards ~3 by Model B, ``x(t) = x_inf + (x0 - x_inf) exp(-t/tau)``, with initial loss rates
``(x0 - x_inf)/tau`` of 0.12-0.2 H per La per day; the 139La Knight shift moves from ~900 to
~2950 ppm (vs LaCl3(aq)); 1H line ~1.35 kHz FWHM at ~10 ppm, T1 ~ T2 ~ 1.5 ms; molecular H2
(Pake doublets at 0.75 and 1.24 Angstrom) grows from the hydrogen the lattice loses; Tc (onset)
falls from ~150-160 K to 70-85 K. Cell parameters are drawn from a seeded generator.
"""

from __future__ import annotations

import datetime as dt
import math

import attrs
import numpy as np

from hydrofw.nuclei import nucleus

__all__ = [
    "NmrCellTruth",
    "TransportCellTruth",
    "model_b",
    "snr_ratio_per_h_over_la",
    "NMR_DAYS",
    "RELAXATION_DAYS",
    "PAKE_DAYS",
    "TRANSPORT_DAYS",
    "PROTON_FREQUENCY_HZ",
    "LA_CARRIER_HZ",
    "cu_ambient_frequency_hz",
    "CU_AMBIENT_ERR_HZ",
]

#: 1H frequency of TMS in the magnet (Hz); field = this / (gamma_1H / 2 pi)
PROTON_FREQUENCY_HZ = 395.0e6
#: the 139La carrier used throughout the campaign (Hz), as in the paper
LA_CARRIER_HZ = 55.95e6
#: measurement days of the NMR cells (day -1: the LaH3 precursor, before laser heating)
NMR_DAYS = (-1.0, 0.2, 1, 2, 4, 7, 10, 14, 21, 28, 40, 54, 68)
#: days with T1 (saturation recovery) and T2 (Hahn echo) series
RELAXATION_DAYS = (1, 14, 40, 68)
#: days with a broad-band solid echo (molecular H2 Pake signal)
PAKE_DAYS = (4, 14, 28, 54, 68)
#: measurement days of the transport cells
TRANSPORT_DAYS = (0.1, 0.5, 1, 2, 3, 5, 7, 10, 14, 21, 30, 45, 60, 75)

#: Knight shift of metallic 63Cu (fraction)
CU_KNIGHT_SHIFT = 2380e-6
#: error of the ambient metallic-Cu line given in campaign.toml (Hz)
CU_AMBIENT_ERR_HZ = 20.0


def model_b(t_days: np.ndarray | float, x0: float, x_inf: float, tau_days: float) -> np.ndarray:
    """x(t) = x_inf + (x0 - x_inf) exp(-t / tau)."""
    return x_inf + (x0 - x_inf) * np.exp(-np.asarray(t_days, float) / tau_days)


def snr_ratio_per_h_over_la(
    ns_h: int,
    ns_la: int,
    bandwidth_h_hz: float,
    bandwidth_la_hz: float,
    gamma_exponent: float = 3.0,
) -> float:
    """SNR_H / SNR_La per unit H/La by reciprocity with receptivity scaling (physics.md s. 3):
    ``(gamma_H/gamma_La)^p * I_H(I_H+1)/I_La(I_La+1) * NA_H/NA_La * sqrt(NS_H/NS_La)
    * sqrt(df_La/df_H)`` (equal coil efficiency, noise temperature and resistance in both
    channels; fully relaxed; all 2I La transitions excited; amplitudes at t = 0)."""
    h, la = nucleus("1H"), nucleus("139La")
    return (
        (h.gamma_rad_s_t / la.gamma_rad_s_t) ** gamma_exponent
        * h.spin_factor
        / la.spin_factor
        * h.abundance_percent
        / la.abundance_percent
        * math.sqrt(ns_h / ns_la)
        * math.sqrt(bandwidth_la_hz / bandwidth_h_hz)
    )


@attrs.frozen
class NmrCellTruth:
    """True parameters of one NMR cell. Shifts in ppm (Hz/MHz), widths in Hz, times in s.

    Hydrogen bookkeeping (per La): the hydride holds ``x(t)`` (Model B); of the hydrogen it
    lost, ``h2_trapped_fraction`` stays in the sample chamber as molecular H2 (phase III, two
    Pake doublets at ``r_n_angstrom`` and ``r_nn_angstrom``), the rest escaped (into the
    gasket/diamonds, not seen). A residue of the LaH3 precursor's broad 1H line
    (``residue_h_per_la_0``, decaying with ``residue_tau_days``) may remain after heating.
    The DAC shielding sigma_DAC relaxes from ``dac_shielding`` to ``dac_shielding_inf``
    (pressure relaxation, ``shielding_tau_days``).
    """

    cell: str
    console: str
    synthesized_at: dt.datetime
    synthesis_pressure_gpa: float
    culet_um: float
    laser_temperature_k: float
    h_over_la_0: float
    h_over_la_inf: float
    tau_days: float
    la_shift_0_ppm: float
    la_shift_inf_ppm: float
    la_tau_days: float
    la_fwhm_0_hz: float
    la_fwhm_inf_hz: float
    h_shift_ppm: float
    h_fwhm_hz: float
    t1_s: float
    t2_s: float
    h2_trapped_fraction: float
    dac_shielding: float
    la_snr: float
    phase_h_rad: float
    phase_la_rad: float
    r_n_angstrom: float = 0.75
    r_nn_angstrom: float = 1.24
    h2_weight_n: float = 0.6
    pake_broadening_n_hz: float = 12e3
    pake_broadening_nn_hz: float = 9e3
    h2_shift_ppm: float = 4.0
    t1_h2_s: float = 4e-3
    dac_shielding_inf: float | None = None
    shielding_tau_days: float = 15.0
    residue_h_per_la_0: float = 0.0
    residue_tau_days: float = 3.0
    cu_fwhm_hz: float = 8e3
    cu_snr: float = 60.0
    precursor_h_over_la: float = 3.0
    precursor_la_shift_ppm: float = 2800.0
    precursor_la_fwhm_hz: float = 8000.0
    precursor_h_fwhm_hz: float = 50000.0
    precursor_h_shift_ppm: float = 5.0
    precursor_t1_s: float = 5e-3

    def h_over_la(self, day: float) -> float:
        """H/La of the hydride at ``day`` (the precursor's 3.0 before synthesis)."""
        if day < 0:
            return self.precursor_h_over_la
        return float(model_b(day, self.h_over_la_0, self.h_over_la_inf, self.tau_days))

    def la_shift_ppm(self, day: float) -> float:
        """139La Knight shift vs LaCl3(aq), corrected for the DAC shielding."""
        if day < 0:
            return self.precursor_la_shift_ppm
        return float(model_b(day, self.la_shift_0_ppm, self.la_shift_inf_ppm, self.la_tau_days))

    def la_fwhm_hz(self, day: float) -> float:
        if day < 0:
            return self.precursor_la_fwhm_hz
        return float(model_b(day, self.la_fwhm_0_hz, self.la_fwhm_inf_hz, self.la_tau_days))

    def h2_h_per_la(self, day: float) -> float:
        """Hydrogen atoms in molecular H2 per La: the trapped share of the H lost so far."""
        if day < 0:
            return 0.0
        return self.h2_trapped_fraction * (self.h_over_la_0 - self.h_over_la(day))

    def residue_h_per_la(self, day: float) -> float:
        """1H of the LaH3 precursor's broad line left after heating, per La."""
        if day < 0:
            return 0.0
        return self.residue_h_per_la_0 * math.exp(-day / self.residue_tau_days)

    def h2_fraction(self, day: float) -> float:
        """n(H2) / (n(H2) + n(hydride)): molecular share of the hydride + H2 hydrogen."""
        h2 = self.h2_h_per_la(day)
        return h2 / (h2 + self.h_over_la(day))

    def h_over_la_total(self, day: float) -> float:
        """All 1H per La in the cell: hydride + H2 + precursor residue (3.0 before heating)."""
        return self.h_over_la(day) + self.h2_h_per_la(day) + self.residue_h_per_la(day)

    def shielding(self, day: float) -> float:
        """sigma_DAC at ``day`` (fraction): relaxes as the pressure settles after heating."""
        inf = self.dac_shielding if self.dac_shielding_inf is None else self.dac_shielding_inf
        return float(model_b(max(day, 0.0), self.dac_shielding, inf, self.shielding_tau_days))

    @property
    def initial_rate_per_day(self) -> float:
        return (self.h_over_la_0 - self.h_over_la_inf) / self.tau_days

    @property
    def cu_ambient_frequency_hz(self) -> float:
        """63Cu of bulk metallic Cu (Knight shift 0.238 %) in this magnet."""
        return cu_ambient_frequency_hz()

    def cu_dac_frequency_hz(self, day: float) -> float:
        """The 63Cu Lenz-lens line inside the DAC at ``day`` (Hz)."""
        return self.cu_ambient_frequency_hz * (1 - self.shielding(day))


def cu_ambient_frequency_hz() -> float:
    """63Cu of bulk metallic Cu outside any DAC (Knight shift 0.238 %) in this magnet (Hz)."""
    return nucleus("63Cu").xi_percent / 100 * PROTON_FREQUENCY_HZ * (1 + CU_KNIGHT_SHIFT)


@attrs.frozen
class TransportCellTruth:
    """True parameters of one transport cell: Tc (onset) by Model B, a logistic transition."""

    cell: str
    log_style: str
    synthesized_at: dt.datetime
    synthesis_pressure_gpa: float
    culet_um: float
    laser_temperature_k: float
    tc0_k: float
    tc_inf_k: float
    tau_days: float
    width_k: float
    normal_ohm: float
    normal_slope_per_k: float
    residual_fraction: float
    noise_ohm: float
    warming_lag_k: float

    def tc_onset_k(self, day: float) -> float:
        return float(model_b(day, self.tc0_k, self.tc_inf_k, self.tau_days))

    def _shape_ohm(self, above_mid_k: np.ndarray) -> np.ndarray:
        """R at ``above_mid_k`` = T - T_mid: the curve only moves with T_mid."""
        normal = self.normal_ohm * (1 + self.normal_slope_per_k * above_mid_k)
        step = 1.0 / (1.0 + np.exp(-above_mid_k / self.width_k))
        return normal * (self.residual_fraction + (1 - self.residual_fraction) * step)

    @property
    def _tangent(self) -> tuple[float, float]:
        """(steepest point, onset) above T_mid (K): the onset is where the tangent at max dR/dT
        meets the normal-state line R_n(T)."""
        grid = np.linspace(-15 * self.width_k, 15 * self.width_k, 30001)
        res = self._shape_ohm(grid)
        slope = np.gradient(res, grid)
        k = int(np.argmax(slope))
        normal = self.normal_ohm * (1 + self.normal_slope_per_k * grid[k])
        normal_slope = self.normal_ohm * self.normal_slope_per_k
        return float(grid[k]), float(grid[k] + (normal - res[k]) / (slope[k] - normal_slope))

    def tc_mid_k(self, day: float) -> float:
        """Midpoint of the logistic step, placed so that the tangent onset is ``tc_onset_k``."""
        return self.tc_onset_k(day) - self._tangent[1]

    def resistance_ohm(self, temperature_k: np.ndarray, day: float) -> np.ndarray:
        """Noise-free R(T): R_n(T) [r + (1 - r) / (1 + exp(-(T - T_mid)/w))], with the
        normal state R_n(T) = R_n (1 + s (T - T_mid)) and residual fraction r."""
        return self._shape_ohm(np.asarray(temperature_k, float) - self.tc_mid_k(day))

    def tc_criteria(self, day: float, sensor_lag_k: float = 0.0) -> dict[str, float]:
        """Tc criteria (K) of the noise-free curve at the sensor temperature (the sensor reads
        ``sensor_lag_k`` above the sample): onset, T90/T50/T10 of R/R_n(T), max dR/dT, width."""
        mid = self.tc_mid_k(day) + sensor_lag_k
        r = self.residual_fraction
        out = {}
        for name, frac in (("tc_90_k", 0.9), ("tc_50_k", 0.5), ("tc_10_k", 0.1)):
            step = (frac - r) / (1 - r)
            out[name] = mid + self.width_k * math.log(step / (1 - step))
        steepest, onset = self._tangent
        out["tc_onset_k"] = mid + onset
        out["tc_dRdT_k"] = mid + steepest
        out["width_k"] = out["tc_90_k"] - out["tc_10_k"]
        return out
