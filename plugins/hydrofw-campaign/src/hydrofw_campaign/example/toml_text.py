"""The text of the example's ``campaign.toml`` (format version 1, see docs/campaign.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from .consoles import CONSOLES
from .receiver import AnalogFilterReceiver
from .truth import CU_AMBIENT_ERR_HZ, NmrCellTruth, TransportCellTruth, cu_ambient_frequency_hz

__all__ = ["campaign_toml"]

_HEADER = """\
# hydrofw campaign description (format documented in docs/campaign.md)
format_version = 1

[campaign]
name = "LaH10 desorption example"
field_t = {field_t:.6f}
proton_frequency_hz = {proton_hz:.1f}
description = \"\"\"
Synthetic campaign written by `hydrofw example` from a seeded ground truth shaped like
Zhou et al., arXiv:2408.13419: four NMR DACs (1H and 139La) and four transport DACs.
The true values are in ground_truth.json beside this file.\"\"\"

# The ambient metallic-Cu line, measured once outside any DAC in this magnet. Each NMR cell's
# DAC shielding comes from its own daily 63Cu Lenz-lens FIDs against this line.
[copper_reference]
nucleus = "63Cu"
ambient_frequency_hz = {cu_hz:.1f}
ambient_frequency_err_hz = {cu_err_hz:.1f}

# 0 ppm of each nucleus; cells override with their 63Cu Lenz-lens correction below.
[references."1H"]
kind = "xi"
compound = "TMS"

[references."139La"]
kind = "xi"
compound = "LaCl3 (aq)"
"""

_RULES = """
# Which experiments are which. The defaults (docs/campaign.md) already cover these names;
# they are spelled out here as an example of the syntax.
[experiments]
use_defaults = true

# The daily one-pulse FIDs of the cells' copper Lenz lenses: referencing, not samples.
[[experiments.rules]]
kind = "cu_reference"
nucleus = "63Cu"

[[experiments.rules]]
kind = "T1_saturation_recovery"
pulse_programs = ["satrec*"]

[[experiments.rules]]
kind = "T2_hahn_echo"
pulse_programs = ["hahn*"]

[[experiments.rules]]
kind = "solid_echo"
pulse_programs = ["solidecho*", "solid_echo*"]

[[experiments.rules]]
kind = "fid"
pulse_programs = ["zg", "s2pul", "one_pulse"]

[quantification]
method = "reciprocity"
gamma_exponent = 3.0
la_detection = "all_transitions"

# The LaH3 precursor measured before laser heating (day < 0) has H/La = 3.
[quantification.calibration]
h_over_la = 3.0
before_synthesis = true

[kinetics]
# hydride-only H/La (as counted, and by both methods) and every Tc criterion, absolute and
# normalised
quantities = [
    "h_over_la", "h_over_la_first_principles", "h_over_la_calibrated",
    "tc_onset_k", "tc_onset_normalised", "tc_90_k", "tc_90_normalised",
    "tc_50_k", "tc_50_normalised", "tc_10_k", "tc_10_normalised",
    "tc_zero_k", "tc_zero_normalised",
]
window_start_days = 0.0
window_end_days = 80.0
max_relative_error = 0.3
"""


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _nmr_cell(cell: NmrCellTruth) -> str:
    lines = [
        "",
        "[[cells]]",
        f'id = "{cell.cell}"',
        'kind = "nmr"',
        f"culet_um = {cell.culet_um:.0f}",
        'gasket = "Re, insulated with c-BN/epoxy"',
        'precursor = "LaH3"',
        'hydrogen_source = "NH3BH3"',
        f"synthesis_pressure_gpa = {cell.synthesis_pressure_gpa:.1f}",
        f"synthesized_at = {_time(cell.synthesized_at)}",
        "laser_heating_s = 2.0",
        f"laser_temperature_k = {cell.laser_temperature_k:.0f}",
        f'console = "{cell.console}"',
        'notes = "Lenz-lens resonator; 1H and 139La double-resonance probe"',
    ]
    for day, drop in ((0.0, 0.0), (20.0, 2.0), (60.0, 3.5)):
        when = cell.synthesized_at + dt.timedelta(days=day, hours=2)
        lines += [
            "",
            "[[cells.pressure]]",
            f"measured_at = {_time(when)}",
            f"pressure_gpa = {cell.synthesis_pressure_gpa - drop:.1f}",
            "pressure_err_gpa = 2.0",
            'method = "diamond Raman edge"',
        ]
    spec = CONSOLES[cell.console]
    lines += [
        "",
        "# console facts: clock of the console, what the Hahn-echo list holds",
        "[cells.acquisition]",
        f'timezone = "{spec.timezone or "UTC"}"',
        f'echo_delay = "{spec.echo_list}"',
    ]
    if isinstance(spec.receiver, AnalogFilterReceiver):
        lines += [
            "",
            "# the console's analog receiver: a Butterworth low pass at fb, first point",
            "# rof2 + alfa after the pulse (procpar); the decomposition models both",
            '[cells.pipeline.params."nmr.decompose"]',
            f"analog_filter_poles = {spec.receiver.order}",
            f"analog_filter_cutoff_fraction = {spec.receiver.bandwidth_factor:g}",
            "acquisition_delay_from_header = true",
        ]
    for nucleus in ("1H", "139La"):
        lines += [
            "",
            f'[cells.references."{nucleus}"]',
            'kind = "internal_cu"  # sigma_DAC per session from the cell\'s 63Cu FIDs',
            f'compound = "{"TMS" if nucleus == "1H" else "LaCl3 (aq)"}"',
        ]
    return "\n".join(lines) + "\n"


def _transport_cell(cell: TransportCellTruth) -> str:
    lines = [
        "",
        "[[cells]]",
        f'id = "{cell.cell}"',
        'kind = "transport"',
        f"culet_um = {cell.culet_um:.0f}",
        'gasket = "W, insulated with c-BN/epoxy"',
        'precursor = "LaH3"',
        'hydrogen_source = "NH3BH3"',
        f"synthesis_pressure_gpa = {cell.synthesis_pressure_gpa:.1f}",
        f"synthesized_at = {_time(cell.synthesized_at)}",
        f"laser_temperature_k = {cell.laser_temperature_k:.0f}",
        f'console = "{cell.log_style}"',
        f'pressure_csv = "pressure/{cell.cell}.csv"',
        'notes = "four sputtered Pt electrodes; SIM921 at 100 uA"',
    ]
    return "\n".join(lines) + "\n"


def campaign_toml(
    nmr: Sequence[NmrCellTruth],
    transport: Sequence[TransportCellTruth],
    field_t: float,
    proton_hz: float,
) -> str:
    """The campaign.toml of the example: header, cells, rules, quantification, kinetics."""
    parts = [
        _HEADER.format(
            field_t=field_t,
            proton_hz=proton_hz,
            cu_hz=cu_ambient_frequency_hz(),
            cu_err_hz=CU_AMBIENT_ERR_HZ,
        )
    ]
    parts += [_nmr_cell(c) for c in nmr]
    parts += [_transport_cell(c) for c in transport]
    parts.append(_RULES)
    return "".join(parts)
