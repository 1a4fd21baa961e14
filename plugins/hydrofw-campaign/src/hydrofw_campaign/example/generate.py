"""Write the example campaign: ``campaign.toml``, ``raw/<cell>/<day folder>/<experiment>`` in
the instruments' own formats, pressure CSVs and ``ground_truth.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from hydrofw.errors import HydrofwError
from hydrofw.nuclei import nucleus

from .bruker import TOPSPIN3, TOPSPIN4, write_bruker
from .cells import nmr_cells, transport_cells
from .nmr import SETTINGS, DayBuilder, Experiment
from .tecmag import TNT_DELAY_TABLE, write_tnt
from .toml_text import campaign_toml
from .transport import simulate_sweeps, write_ppms_dat, write_sim921_labview, write_sim921_python
from .truth import (
    NMR_DAYS,
    PAKE_DAYS,
    PROTON_FREQUENCY_HZ,
    RELAXATION_DAYS,
    TRANSPORT_DAYS,
    NmrCellTruth,
    TransportCellTruth,
    snr_ratio_per_h_over_la,
)
from .varian import VARIAN_ARRAY_PARAMETER, write_varian

__all__ = ["write_example_campaign", "DEFAULT_SEED", "GROUND_TRUTH_VERSION"]

DEFAULT_SEED = 20240827
GROUND_TRUTH_VERSION = 1
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
_BRUKER_EXPNO = {"h_fid": 10, "la_fid": 11, "h_satrec": 12, "h_hahn": 13, "h_solid_echo": 14}
_FILE_STEM = {
    "h_fid": "H1_fid",
    "la_fid": "La139_fid",
    "h_satrec": "H1_satrec",
    "h_hahn": "H1_hahn_echo",
    "h_solid_echo": "H1_solid_echo",
}

ASSUMPTIONS = (
    "Times are UTC; days_since_synthesis = (acquired_at - synthesized_at) / 86400 s. The true "
    "values of an NMR day are those at the day's first acquisition (a day's experiments span "
    "under 30 min); an R(T) sweep sees the sample as it is at the sweep's start.",
    "Every NMR trace is signal + white complex Gaussian noise of sigma 1 per channel before the "
    "console's receiver scaling; snr_time_domain is the signal amplitude at t = 0 over that sigma.",
    "H/La is encoded in SNR_H / SNR_La by reciprocity with receptivity scaling: "
    "(gamma_H/gamma_La)^3 * I_H(I_H+1)/I_La(I_La+1) * NA_H/NA_La * sqrt(NS_H/NS_La) * "
    "sqrt(SW_La/SW_H) per unit H/La (physics.md section 3, p = 3): equal coil efficiency, noise "
    "temperature and resistance in both channels, fully relaxed (recycle delay >> T1), all 2I "
    "139La transitions excited (cubic La site), receiver bandwidth = spectral width.",
    "Shifts are true (DAC-shielding corrected) values in ppm: 1H vs TMS, 139La vs LaCl3(aq) at "
    "Xi = 14.125641 % of the 1H frequency; a line appears at nu_ref (1 - sigma_DAC)(1 + delta).",
    "sigma_DAC = 1 - nu_Cu,DAC / nu_Cu,ambient of the cell's 63Cu Lenz-lens line (campaign.toml).",
    "Bruker traces carry the digital-filter group delay GRPDLY (points); Varian and TecMag traces "
    "start at t = 0. Echo series start at the echo top (t = 0 of each trace is the echo maximum).",
    "Relaxation series: saturation recovery M0 (1 - exp(-t/T1)) at the vdlist delays; Hahn echo "
    "M0 exp(-2 tau / T2) with vdlist (Bruker), procpar 'tau' (Varian) or PSEQ table 'vdlist' "
    "(TecMag) holding tau, the half echo time; delay_s in the truth is the full echo time 2 tau.",
    "The solid echo holds the lattice 1H line and molecular H2: Pake doublets at 0.75 and 1.24 "
    "Angstrom (spin fractions 0.6/0.4, 15 kHz Gaussian broadening); h2_fraction = H2 spins over "
    "all 1H spins = trapped share of the hydrogen lost by the lattice.",
    "Before synthesis (day -1) the cell holds the LaH3 precursor: H/La = 3, 139La at 2800 ppm, "
    "8 kHz wide, 1H 50 kHz wide at 5 ppm (the NH3BH3 hydrogen source is not modelled).",
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


def _nmr_cell(root: Path, cell: NmrCellTruth, rng: np.random.Generator) -> dict[str, Any]:
    family = cell.console.split("-")[0]
    group_delay = {
        "bruker-topspin4": TOPSPIN4.group_delay_points,
        "bruker-topspin3": TOPSPIN3.group_delay_points,
    }.get(cell.console, 0.0)
    days: list[dict[str, Any]] = []
    for day in NMR_DAYS:
        start = cell.synthesized_at + dt.timedelta(days=day, hours=float(rng.uniform(0.0, 3.0)))
        actual = _days(start, cell.synthesized_at)
        builder = DayBuilder(
            cell,
            actual,
            start,
            rng,
            group_delay_points=group_delay,
            sequence_names=_SEQUENCES[family],
        )
        folder = root / "raw" / cell.cell / f"{start:%Y%m%d}_{cell.cell}_{_day_label(day)}"
        experiments = []
        for exp in builder.all(relaxation=day in RELAXATION_DAYS, pake=day in PAKE_DAYS):
            path = _write_experiment(folder, exp, cell.console)
            experiments.append(
                {
                    "path": path.relative_to(root).as_posix(),
                    "kind": exp.kind,
                    "sequence": exp.acquisition.sequence,
                    "acquired_at": exp.acquisition.acquired_at,
                    "days_since_synthesis": _days(exp.acquisition.acquired_at, cell.synthesized_at),
                    "group_delay_points": group_delay,
                    **exp.truth,
                }
            )
        days.append(
            {
                "day_folder": folder.relative_to(root).as_posix(),
                "acquired_at": start,
                "days_since_synthesis": actual,
                "nominal_day": day,
                "h_over_la": cell.h_over_la(actual),
                "la_shift_ppm": cell.la_shift_ppm(actual),
                "la_fwhm_hz": cell.la_fwhm_hz(actual),
                "h_shift_ppm": builder.h_shift_ppm,
                "h_fwhm_hz": builder.h_fwhm_hz,
                "h2_fraction": cell.h2_fraction(actual),
                "snr_h_time_domain": builder.snr_h,
                "snr_la_time_domain": cell.la_snr,
                "experiments": experiments,
            }
        )
    params = _attrs_dict(cell)
    params.update(
        initial_rate_per_day=cell.initial_rate_per_day,
        cu_ambient_frequency_hz=cell.cu_ambient_frequency_hz,
        cu_dac_frequency_hz=cell.cu_dac_frequency_hz,
        t1_over_t2=cell.t1_s / cell.t2_s,
    )
    return {"kind": "nmr", "parameters": params, "days": days}


# ----------------------------------------------------------------------------- transport
def _transport_cell(
    root: Path, cell: TransportCellTruth, rng: np.random.Generator
) -> dict[str, Any]:
    days: list[dict[str, Any]] = []
    for i, day in enumerate(TRANSPORT_DAYS):
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
def write_example_campaign(directory: str | Path, seed: int = DEFAULT_SEED) -> Path:
    """Write the example campaign into ``directory`` and return the directory.

    Deterministic: the same ``seed`` writes the same bytes. ``directory`` must be new, empty, or
    hold the example of the same seed (rewritten identically; a store or report beside it is
    kept); anything else is refused, so no file of a user's is overwritten or mixed in.
    """
    root = Path(directory)
    _check_target(root, seed)
    root.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(seed).spawn(10)
    nmr = nmr_cells(np.random.default_rng(seeds[0]))
    transport = transport_cells(np.random.default_rng(seeds[1]))
    cells: dict[str, Any] = {}
    for i, cell in enumerate(nmr):
        cells[cell.cell] = _nmr_cell(root, cell, np.random.default_rng(seeds[2 + i]))
    for i, tcell in enumerate(transport):
        cells[tcell.cell] = _transport_cell(root, tcell, np.random.default_rng(seeds[6 + i]))
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
        "assumptions": list(ASSUMPTIONS),
        "cells": cells,
    }
    (root / "ground_truth.json").write_text(
        json.dumps(truth, indent=1, default=_json_default) + "\n"
    )
    return root


def _check_target(root: Path, seed: int) -> None:
    if not root.exists():
        return
    if not root.is_dir():
        raise HydrofwError(f"{root}: exists and is not a folder")
    if not any(root.iterdir()):
        return
    try:
        previous = json.loads((root / "ground_truth.json").read_text()).get("seed")
    except (OSError, ValueError, AttributeError):
        previous = None
    if previous != seed:
        holds = "other files" if previous is None else f"the example of seed {previous}"
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
