"""Write the example campaign: ``campaign.toml``, ``raw/<cell>/<day folder>/<experiment>`` in
the instruments' own formats, pressure CSVs and ``ground_truth.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from hydrofw.errors import HydrofwError
from hydrofw.nuclei import nucleus

from .bruker import TOPSPIN3, TOPSPIN4, write_bruker
from .cells import nmr_cells, transport_cells
from .consoles import CONSOLES
from .nmr import FIELD_DRIFT_PPM, SETTINGS, SOLID_ECHO_TAU_S, DayBuilder, Experiment, settings_for
from .tecmag import TNT_DELAY_TABLE, write_tnt
from .toml_text import campaign_toml
from .transport import simulate_sweeps, write_ppms_dat, write_sim921_labview, write_sim921_python
from .truth import (
    CU_AMBIENT_ERR_HZ,
    NMR_DAYS,
    PAKE_DAYS,
    PROTON_FREQUENCY_HZ,
    RELAXATION_DAYS,
    TRANSPORT_DAYS,
    NmrCellTruth,
    TransportCellTruth,
    cu_ambient_frequency_hz,
    snr_ratio_per_h_over_la,
)
from .varian import VARIAN_ARRAY_PARAMETER, write_varian

__all__ = ["write_example_campaign", "DEFAULT_SEED", "GROUND_TRUTH_VERSION"]

DEFAULT_SEED = 20240827
GROUND_TRUTH_VERSION = 2
#: sessions of the small variant (``small=True``): fewer days, same kinds of experiment
SMALL_NMR_DAYS = (-1.0, 0.2, 1, 4, 14, 28, 40, 68)
SMALL_TRANSPORT_DAYS = (0.1, 0.5, 1, 2, 3, 5, 7, 14, 30, 60)
FIELD_T = PROTON_FREQUENCY_HZ / nucleus("1H").gamma_hz_t  # T

_SEQUENCES = {
    "bruker": {
        "fid": "zg",
        "satrec": "satrec_dac",
        "hahn": "hahnecho_dac",
        "solid_echo": "solidecho_dac",
    },
    "varian": {"fid": "s2pul", "satrec": "satrec", "hahn": "hahnecho", "solid_echo": "solidecho"},
    "tecmag": {
        "fid": "one_pulse",
        "satrec": "satrec",
        "hahn": "hahn_echo",
        "solid_echo": "solid_echo",
    },
}
_BRUKER_EXPNO = {
    "h_fid": 10,
    "la_fid": 11,
    "h_satrec": 12,
    "h_hahn": 13,
    "h_solid_echo": 14,
    "cu_fid": 15,
}
_FILE_STEM = {
    "h_fid": "H1_fid",
    "la_fid": "La139_fid",
    "cu_fid": "Cu63_fid",
    "h_satrec": "H1_satrec",
    "h_hahn": "H1_hahn_echo",
    "h_solid_echo": "H1_solid_echo",
}

ASSUMPTIONS = (
    "Times are UTC; days_since_synthesis = (acquired_at - synthesized_at) / 86400 s. The true "
    "values of an NMR session are those at its first acquisition (a session spans under an "
    "hour); an R(T) sweep sees the sample as it is at the sweep's start. acquired_at of an "
    "experiment is UTC; acquired_at_console_clock is what the console's clock read (the "
    "Varian console N3 runs on local time UTC+8 and writes no zone).",
    "Every NMR trace is signal + white complex Gaussian noise, passed through the console's "
    "receiver chain, with noise sigma 1 per channel in the stored points before the console's "
    "receiver scaling; snr_* values are component amplitudes at t = 0 (pulse end or echo top) "
    "over that sigma.",
    "H/La is encoded in SNR_H / SNR_La by reciprocity with receptivity scaling: "
    "(gamma_H/gamma_La)^3 * I_H(I_H+1)/I_La(I_La+1) * NA_H/NA_La * sqrt(NS_H/NS_La) * "
    "sqrt(SW_La/SW_H) per unit H/La (physics.md section 3, p = 3): equal coil efficiency, noise "
    "temperature and resistance in both channels, fully relaxed (recycle delay >> T1), all 2I "
    "139La transitions excited (cubic La site), receiver bandwidth = spectral width. Each "
    "cell's ratio uses its console's 1H SW (parameters.snr_ratio_per_h_over_la).",
    "Hydrogen per La: h_over_la is the hydride's (LaH10-like phase; the LaH3 precursor's 3.0 "
    "before heating); h2_h_per_la = h2_trapped_fraction * (h_over_la_0 - h_over_la) is the "
    "hydrogen in molecular H2 in the chamber (the rest, h2_escaped_fraction, left it); "
    "residue_h_per_la the precursor's broad line left after heating; h_over_la_metal_hydride = "
    "hydride + residue (all 1H but H2); h_over_la_total = hydride + H2 + residue; "
    "h2_fraction = n(H2) / (n(H2) + n(hydride)).",
    "Every 1H acquisition after synthesis holds the hydride (Lorentzian), H2 phase III (two "
    "homonuclear Pake doublets at r_n and r_nn, weights h2_weights, Gaussian broadening "
    "pake_broadening_hz each, exact powder average) and the residue (Gaussian, precursor "
    "width, 5 ppm). T1(H2) = t1_h2_s; a Hahn echo does not refocus the H2 or residue dipolar "
    "couplings (their signal at the echo top is their FID at 2 tau); a solid echo refocuses "
    "them fully (hydride attenuated by exp(-2 tau_se / T2)).",
    "Shifts are true (DAC-shielding corrected) values in ppm: 1H vs TMS, 139La vs LaCl3(aq) at "
    "Xi = 14.125641 % of the 1H frequency; a line appears at "
    "nu_ref (1 - sigma_DAC)(1 + delta)(1 + field_drift_ppm 1e-6).",
    "sigma_DAC = 1 - nu_Cu,DAC / nu_Cu,ambient of the cell's 63Cu Lenz-lens line; the ambient "
    "metallic-Cu line (Knight shift 0.238 %) is in campaign.toml [copper_reference]; "
    "sigma_DAC relaxes over days (dac_shielding per session) and every session has its 63Cu "
    "FID (kind cu_reference).",
    "Receivers: Bruker (N1, N2) a real DSP: oversampling ADC, Kaiser FIR low-pass at SW/2, "
    "decimation; t = 0 at point GRPDLY, pre- and post-ringing around it, content outside "
    "+-SW/2 removed. Varian (N3): 6-pole Butterworth analog filter (fb = SW/2), plain sampling "
    "(out-of-band content aliases), first point rof2 + alfa after the pulse, pulse ring-down "
    "in the first points. TecMag (N4): ideal sampling from t = 0. Echo series start at the "
    "echo top (one-sided echoes): the Bruker DSP sees nothing before the top (ringing as for a "
    "FID); the Varian analog filter is fed the rising half of the echo from the receiver "
    "opening (2.5 us after the last pulse), first point at the top, no ring-down.",
    "Relaxation series: saturation recovery M0 (1 - exp(-t/T1)) at the listed delays; Hahn echo "
    "M0 exp(-2 tau / T2). Echo lists: Bruker N1 vdlist holds the full echo time 2 tau; Bruker "
    "N2 vdlist, Varian procpar 'tau' and TecMag PSEQ 'vdlist' hold tau. delay_s in the truth "
    "is always the full echo time 2 tau, listed_delay_s what the file holds.",
    "Before synthesis (day -1) the cell holds the LaH3 precursor: H/La = 3, 139La at 2800 ppm, "
    "8 kHz wide, 1H a Gaussian 40-55 kHz wide at 5 ppm (the NH3BH3 hydrogen source is not "
    "modelled); no H2.",
    "Transport: R(T) = R_n(T) [r + (1 - r) / (1 + exp(-(T - T_mid)/w))], R_n linear; the "
    "onset (intersection of R_n(T) with the tangent at max dR/dT) follows Model B exactly "
    "(T_mid is placed below it accordingly); T90/T50/T10 are where R/R_n(T) = 0.9/0.5/0.1; all "
    "from the noise-free curve at the sensor temperature (warming: sensor leads the sample by "
    "warming_lag_k). tc_onset_normalised = onset / the cell's first cooling onset.",
)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _days(when: dt.datetime, synthesized_at: dt.datetime) -> float:
    return (when - synthesized_at).total_seconds() / 86400.0


def _day_label(day: float) -> str:
    return "precursor" if day < 0 else f"d{day:g}".replace(".", "p")


# ----------------------------------------------------------------------------- NMR
def _write_experiment(day_dir: Path, exp: Experiment, console: str) -> Path:
    acq = exp.acquisition
    if console.startswith("bruker"):
        generation = TOPSPIN4 if console == "bruker-topspin4" else TOPSPIN3
        return write_bruker(day_dir / str(_BRUKER_EXPNO[exp.key]), acq, generation)
    if console == "varian":
        return write_varian(day_dir / f"{_FILE_STEM[exp.key]}_01.fid", acq)
    if console == "tecmag":
        return write_tnt(day_dir / f"{_FILE_STEM[exp.key]}.tnt", acq, FIELD_T)
    raise HydrofwError(f"example campaign: unknown console {console!r}")


def _sequence_names(console: str) -> dict[str, str]:
    spec = CONSOLES[console]
    names = dict(_SEQUENCES[spec.family])
    if spec.family == "bruker" and spec.echo_list == "full":
        names["hahn"] = "hahnechovd2_dac"  # vdlist holds 2 tau: vd*0.5 around the pi pulse
    return names


def _console_clock(when: dt.datetime, offset_h: float) -> str:
    """What a console clock at UTC + ``offset_h`` shows (ISO, no zone)."""
    local = when.astimezone(dt.UTC) + dt.timedelta(hours=offset_h)
    return local.replace(tzinfo=None).isoformat()


def _nmr_cell(
    root: Path, cell: NmrCellTruth, rng: np.random.Generator, days_list: tuple[float, ...]
) -> dict[str, Any]:
    spec = CONSOLES[cell.console]
    settings = settings_for(spec)
    days: list[dict[str, Any]] = []
    for day in days_list:
        start = cell.synthesized_at + dt.timedelta(days=day, hours=float(rng.uniform(0.0, 3.0)))
        actual = _days(start, cell.synthesized_at)
        builder = DayBuilder(
            cell, actual, start, rng, console=spec, sequence_names=_sequence_names(cell.console)
        )
        local = start + dt.timedelta(hours=spec.clock_utc_offset_h)
        folder = root / "raw" / cell.cell / f"{local:%Y%m%d}_{cell.cell}_{_day_label(day)}"
        experiments = []
        for exp in builder.all(relaxation=day in RELAXATION_DAYS, pake=day in PAKE_DAYS):
            path = _write_experiment(folder, exp, cell.console)
            acq = exp.acquisition
            experiments.append(
                {
                    "path": path.relative_to(root).as_posix(),
                    "kind": exp.kind,
                    "sequence": acq.sequence,
                    "acquired_at": acq.acquired_at,
                    "acquired_at_console_clock": _console_clock(
                        acq.acquired_at, spec.clock_utc_offset_h
                    ),
                    "days_since_synthesis": _days(acq.acquired_at, cell.synthesized_at),
                    "group_delay_points": acq.group_delay_points,
                    **exp.truth,
                }
            )
        shielding = cell.shielding(actual)
        days.append(
            {
                "day_folder": folder.relative_to(root).as_posix(),
                "acquired_at": start,
                "days_since_synthesis": actual,
                "nominal_day": day,
                "h_over_la": cell.h_over_la(actual),
                "h_over_la_hydride": cell.h_over_la(actual),
                "h_over_la_total": cell.h_over_la_total(actual),
                "h_over_la_metal_hydride": cell.h_over_la(actual) + cell.residue_h_per_la(actual),
                "h2_h_per_la": cell.h2_h_per_la(actual),
                "residue_h_per_la": cell.residue_h_per_la(actual),
                "h2_fraction": cell.h2_fraction(actual),
                "r_n_angstrom": cell.r_n_angstrom,
                "r_nn_angstrom": cell.r_nn_angstrom,
                "h2_weights": [cell.h2_weight_n, 1 - cell.h2_weight_n],
                "pake_broadening_hz": [cell.pake_broadening_n_hz, cell.pake_broadening_nn_hz],
                "la_shift_ppm": cell.la_shift_ppm(actual),
                "la_fwhm_hz": cell.la_fwhm_hz(actual),
                "h_shift_ppm": builder.h_shift_ppm,
                "h_fwhm_hz": builder.h_fwhm_hz,
                "dac_shielding": shielding,
                "sigma_dac_ppm": shielding * 1e6,
                "cu_dac_frequency_hz": cell.cu_dac_frequency_hz(actual),
                "snr_h_time_domain": builder.snr_h,
                "snr_h2_time_domain": builder.snr_h2,
                "snr_residue_time_domain": builder.snr_residue,
                "snr_la_time_domain": cell.la_snr,
                "experiments": experiments,
            }
        )
    h_set, la_set = settings["h_fid"], settings["la_fid"]
    params = _attrs_dict(cell)
    params.update(
        initial_rate_per_day=cell.initial_rate_per_day,
        h2_escaped_fraction=1 - cell.h2_trapped_fraction,
        cu_ambient_frequency_hz=cell.cu_ambient_frequency_hz,
        t1_over_t2=cell.t1_s / cell.t2_s,
        snr_ratio_per_h_over_la=snr_ratio_per_h_over_la(
            h_set.n_scans, la_set.n_scans, h_set.spectral_width_hz, la_set.spectral_width_hz
        ),
        h_spectral_width_hz=spec.h_spectral_width_hz,
        console_family=spec.family,
        echo_list=spec.echo_list,
        clock_utc_offset_h=spec.clock_utc_offset_h,
        timezone=spec.timezone or "UTC",
        receiver=spec.receiver.truth(spec.h_spectral_width_hz),
        solid_echo_tau_s=SOLID_ECHO_TAU_S,
        field_drift_ppm_sigma=FIELD_DRIFT_PPM,
    )
    return {"kind": "nmr", "parameters": params, "days": days}


# ----------------------------------------------------------------------------- transport
def _transport_cell(
    root: Path, cell: TransportCellTruth, rng: np.random.Generator, days_list: tuple[float, ...]
) -> dict[str, Any]:
    days: list[dict[str, Any]] = []
    for i, day in enumerate(days_list):
        start = cell.synthesized_at + dt.timedelta(days=day, hours=float(rng.uniform(0.0, 2.0)))
        sweeps = simulate_sweeps(cell, start, rng)
        folder = root / "raw" / cell.cell / f"{start:%Y-%m-%d}"
        if cell.log_style == "sim921-labview":
            path = write_sim921_labview(folder / f"RvsT_{i + 1:03d}.txt", cell.cell, sweeps, rng)
        elif cell.log_style.startswith("ppms") and i == 0:
            path = write_ppms_dat(folder / f"{cell.cell}_RvsT_ppms.dat", cell.cell, sweeps, rng)
        else:
            path = write_sim921_python(
                folder / f"rt_{start:%Y%m%d_%H%M}.csv", cell.cell, sweeps, rng
            )
        days.append(
            {
                "path": path.relative_to(root).as_posix(),
                "acquired_at": start,
                "days_since_synthesis": _days(start, cell.synthesized_at),
                "nominal_day": day,
                "sweeps": [
                    {
                        "direction": s.direction,
                        "start": s.times[0],
                        "days_since_synthesis": s.days_since_synthesis,
                        "n_points": len(s.times),
                        "tc_onset_k_model": cell.tc_onset_k(s.days_since_synthesis),
                        **cell.tc_criteria(s.days_since_synthesis, s.sensor_lag_k),
                    }
                    for s in sweeps
                ],
            }
        )
    first = days[0]["sweeps"][0]["tc_onset_k"]
    for d in days:
        d["tc_onset_normalised"] = d["sweeps"][0]["tc_onset_k"] / first
    params = _attrs_dict(cell)
    params.update(  # Model B of Tc onset / first Tc onset (what campaign.kinetics fits)
        tc_onset_first_k=first,
        tc_onset_normalised_x0=cell.tc0_k / first,
        tc_onset_normalised_inf=cell.tc_inf_k / first,
    )
    return {"kind": "transport", "parameters": params, "days": days}


def _attrs_dict(obj: Any) -> dict[str, Any]:
    return attrs.asdict(obj, recurse=False)


# ----------------------------------------------------------------------------- entry point
def write_example_campaign(
    directory: str | Path,
    seed: int = DEFAULT_SEED,
    *,
    small: bool = False,
    cells: Sequence[str] | None = None,
) -> Path:
    """Write the example campaign into ``directory`` and return the directory.

    Deterministic: the same ``seed`` writes the same bytes. ``directory`` must be new, empty, or
    hold the example of the same seed and variant (rewritten identically; a store or report
    beside it is kept); anything else is refused, so no file of a user's is overwritten or mixed
    in. ``small=True`` writes fewer sessions (for validation runs over many seeds).
    ``cells``: write only these cells (ids such as ``"N4"``, ``"T1"``), each exactly as in the
    whole campaign of that seed (for quick tests and benchmarks).
    """
    root = Path(directory)
    variant = "small" if small else "full"
    _check_target(root, seed, variant)
    nmr_days = SMALL_NMR_DAYS if small else NMR_DAYS
    transport_days = SMALL_TRANSPORT_DAYS if small else TRANSPORT_DAYS
    root.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(seed).spawn(10)
    all_nmr = nmr_cells(np.random.default_rng(seeds[0]))
    all_transport = transport_cells(np.random.default_rng(seeds[1]))
    wanted = {c.cell for c in (*all_nmr, *all_transport)} if cells is None else set(cells)
    unknown = wanted - {c.cell for c in (*all_nmr, *all_transport)}
    if unknown:
        raise HydrofwError(f"the example has no cell {sorted(unknown)}")
    truth_cells: dict[str, Any] = {}
    for i, cell in enumerate(all_nmr):  # each cell keeps its own random stream
        if cell.cell in wanted:
            rng = np.random.default_rng(seeds[2 + i])
            truth_cells[cell.cell] = _nmr_cell(root, cell, rng, nmr_days)
    for i, tcell in enumerate(all_transport):
        if tcell.cell in wanted:
            rng = np.random.default_rng(seeds[6 + i])
            truth_cells[tcell.cell] = _transport_cell(root, tcell, rng, transport_days)
    nmr = [c for c in all_nmr if c.cell in wanted]
    transport = [c for c in all_transport if c.cell in wanted]
    pressure_dir = root / "pressure"
    pressure_dir.mkdir(exist_ok=True)
    for tcell in transport:
        _write_pressure_csv(pressure_dir / f"{tcell.cell}.csv", tcell)
    (root / "campaign.toml").write_text(campaign_toml(nmr, transport, FIELD_T, PROTON_FREQUENCY_HZ))
    h_set, la_set = SETTINGS["h_fid"], SETTINGS["la_fid"]
    truth = {
        "format": "hydrofw example campaign ground truth",
        "version": GROUND_TRUTH_VERSION,
        "seed": seed,
        "variant": variant,
        "field_t": FIELD_T,
        "proton_frequency_hz": PROTON_FREQUENCY_HZ,
        "snr_ratio_per_h_over_la": snr_ratio_per_h_over_la(
            h_set.n_scans, la_set.n_scans, h_set.spectral_width_hz, la_set.spectral_width_hz
        ),
        "arrays": {
            "varian": VARIAN_ARRAY_PARAMETER,
            "tecmag_table": TNT_DELAY_TABLE,
            "bruker": "vdlist",
        },
        "copper_reference": {
            "nucleus": "63Cu",
            "ambient_frequency_hz": cu_ambient_frequency_hz(),
            "ambient_frequency_err_hz": CU_AMBIENT_ERR_HZ,
        },
        "assumptions": list(ASSUMPTIONS),
        "cells": truth_cells,
    }
    (root / "ground_truth.json").write_text(
        json.dumps(truth, indent=1, default=_json_default) + "\n"
    )
    return root


def _check_target(root: Path, seed: int, variant: str) -> None:
    if not root.exists():
        return
    if not root.is_dir():
        raise HydrofwError(f"{root}: exists and is not a folder")
    if not any(root.iterdir()):
        return
    try:
        old = json.loads((root / "ground_truth.json").read_text())
        previous, old_variant = old.get("seed"), old.get("variant", "full")
    except (OSError, ValueError, AttributeError):
        previous, old_variant = None, None
    if previous != seed or old_variant != variant:
        holds = (
            "other files"
            if previous is None
            else f"the example of seed {previous} ({old_variant} variant)"
        )
        raise HydrofwError(
            f"{root}: not empty (holds {holds}); write the example into a new or empty folder"
        )


def _write_pressure_csv(path: Path, cell: TransportCellTruth) -> None:
    """Pressure checks of a transport cell: a slow relaxation of ~3 GPa after heating."""
    lines = ["measured_at,pressure_gpa,pressure_err_gpa,method"]
    for day in (0.0, 7.0, 30.0, 75.0):
        when = cell.synthesized_at + dt.timedelta(days=day, hours=1)
        p = cell.synthesis_pressure_gpa - 3.0 * (1 - math.exp(-day / 10.0))
        lines.append(f"{when:%Y-%m-%dT%H:%M:%SZ},{p:.1f},2.0,diamond Raman edge")
    path.write_text("\n".join(lines) + "\n")
