"""campaign.toml: parsing into records, and errors that name the key and the line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hydrofw_campaign.config import DEFAULT_RULES, check_pipeline, load_campaign, parse_campaign
from hydrofw_campaign.tomlkeys import KeyLines
from hypothesis import given, settings
from hypothesis import strategies as st

from hydrofw.errors import CampaignError

MINIMAL = """\
format_version = 1

[campaign]
name = "test"
field_t = 9.4

[[cells]]
id = "A"
kind = "nmr"
culet_um = 80
synthesized_at = 2026-01-12T15:20:00Z

[[cells]]
id = "B"
kind = "transport"
synthesized_at = 2026-01-14T10:00:00+01:00
pressure_csv = "p.csv"
"""


def _error(text: str, tmp_path: Path | None = None) -> str:
    path = (tmp_path or Path("/nonexistent")) / "campaign.toml"
    with pytest.raises(CampaignError) as info:
        parse_campaign(text, path)
    return str(info.value)


def test_minimal_file_and_defaults(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        "measured_at,pressure_gpa,pressure_err_gpa,method\n"
        "2026-01-20T10:00:00Z,150.5,2,Raman\n2026-01-14T10:00:00Z,152,,\n"
    )
    (tmp_path / "campaign.toml").write_text(MINIMAL)
    c = load_campaign(tmp_path)
    assert c.campaign.campaign == "test"
    # proton frequency from the field: gamma_1H / 2 pi * 9.4 T
    assert c.campaign.proton_frequency_hz == pytest.approx(
        26.7522128e7 / (2 * 3.141592653589793) * 9.4
    )
    a, b = c.cells
    assert a.cell.culet_um == 80.0 and a.raw_folder == "A"
    assert b.cell.synthesized_at == dt.datetime(2026, 1, 14, 9, 0, tzinfo=dt.UTC)
    assert [p.pressure_gpa for p in b.pressure_checks] == [152.0, 150.5]  # sorted by time
    assert b.pressure_checks[0].pressure_err_gpa is None
    assert c.rules == DEFAULT_RULES
    assert c.quantification.method == "reciprocity" and c.kinetics.max_relative_error == 0.3
    assert c.reference("139La").kind == "xi"
    assert c.cell_for_path(tmp_path / "raw" / "B" / "day1" / "log.csv").id == "B"
    assert c.cell_for_path("A/x/10").id == "A"
    assert c.cell_for_path(tmp_path / "elsewhere" / "A") is None
    assert c.cell_for_path("C/x") is None
    # 0 ppm of 139La by Xi = 14.125641 % of the 1H frequency
    assert c.reference("139La").reference_frequency_hz(395e6) == pytest.approx(55.79628e6, rel=1e-6)


def test_internal_cu_shielding_correction() -> None:
    text = MINIMAL.replace('pressure_csv = "p.csv"\n', "") + (
        '\n[references."139La"]\nkind = "internal_cu"\n'
        "cu_dac_frequency_hz = 104982500.0\ncu_ambient_frequency_hz = 104993000.0\n"
    )
    ref = parse_campaign(text).reference("La139")
    # physics.md section 5: 104.9930 vs 104.9825 MHz give sigma_DAC = 100.0 ppm
    assert ref.shielding * 1e6 == pytest.approx(100.0, abs=0.01)
    assert ref.reference_frequency_hz(395e6) == pytest.approx(55.79628e6 * (1 - 100.0e-6), rel=1e-6)


@pytest.mark.parametrize(
    ("old", "new", "line", "key"),
    [
        ("culet_um = 80", "culet_um = -80", 10, "cells[0].culet_um"),
        ("culet_um = 80", "culet_um = inf", 10, "cells[0].culet_um"),
        ('kind = "transport"', 'kind = "squid"', 15, "cells[1].kind"),
        ('name = "test"', 'nmae = "test"', 4, "campaign.nmae"),
        ("culet_um = 80", 'culet_um = "big"', 10, "cells[0].culet_um"),
        (
            "synthesized_at = 2026-01-12T15:20:00Z",
            "synthesized_at = 2026-01-12T15:20:00",
            11,
            "cells[0].synthesized_at",
        ),
        ("format_version = 1", "format_version = 2", 1, "format_version"),
        ('id = "B"', 'id = "A"', None, "cells"),
    ],
)
def test_errors_name_key_and_line(old: str, new: str, line: int | None, key: str) -> None:
    message = _error(MINIMAL.replace(old, new, 1))
    assert key in message
    if line is not None:
        assert f"campaign.toml:{line}:" in message


def test_toml_syntax_error_names_the_file() -> None:
    assert "invalid TOML" in _error("[campaign\nname = 1")


def test_missing_sections() -> None:
    assert "[campaign]" in _error("format_version = 1\n")
    assert "no [[cells]]" in _error('[campaign]\nname = "x"\n')


def test_csv_errors_name_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("measured_at,pressure_gpa\n2026-01-20T10:00:00Z,-3\n")
    assert "p.csv:2:" in _error(MINIMAL, tmp_path)
    (tmp_path / "p.csv").write_text("measured_at,pressure_gpa\n2026-01-20T10:00:00,3\n")
    assert "p.csv:2:" in _error(MINIMAL, tmp_path)
    (tmp_path / "p.csv").write_text("when,pressure_gpa\n")
    assert "measured_at" in _error(MINIMAL, tmp_path)


def test_reference_errors() -> None:
    base = MINIMAL.replace('pressure_csv = "p.csv"\n', "")
    msg = _error(base + '\n[references."1H"]\nkind = "external"\n')
    assert "frequency_hz" in msg and "references" in msg
    msg = _error(base + '\n[references."Xx999"]\nkind = "xi"\n')
    assert "Xx999" in msg
    msg = _error(
        base
        + '\n[references."1H"]\nkind = "internal_cu"\ncu_dac_frequency_hz = 1.0\n'
        + "cu_ambient_frequency_hz = 2.0\n"
    )
    assert "shielding" in msg


def test_rules_pipeline_quantification_kinetics() -> None:
    base = MINIMAL.replace('pressure_csv = "p.csv"\n', "")
    text = (
        base
        + """
[experiments]
use_defaults = false
[[experiments.rules]]
kind = "T1_inversion_recovery"
nucleus = "1H"
folders = ["*/ir_*"]

[pipeline]
steps = ["campaign.kinetics"]
[pipeline.params."campaign.kinetics"]
max_relative_error = 0.2

[quantification]
method = "calibrated"
[quantification.calibration]
h_over_la = 3.0

[kinetics]
window_start_days = 0
window_end_days = 70
"""
    )
    c = parse_campaign(text)
    assert c.classify(path="A/ir_05", nucleus="1H") == "T1_inversion_recovery"
    assert c.classify(path="A/ir_05", nucleus="139La") is None
    assert c.classify(pulse_program="zg") is None  # defaults switched off
    assert c.pipeline.params["campaign.kinetics"] == {"max_relative_error": 0.2}
    check_pipeline(c)
    assert c.quantification.calibration_h_over_la == 3.0
    assert c.kinetics.window_end_days == 70.0
    bad = text.replace("max_relative_error = 0.2", "max_relative_errr = 0.2")
    with pytest.raises(CampaignError, match="max_relative_errr"):
        check_pipeline(parse_campaign(bad))
    assert "h_over_la" in _error(
        text.replace("[quantification.calibration]\nh_over_la = 3.0\n", "")
    )
    assert "window_end_days" in _error(text.replace("window_end_days = 70", "window_end_days = -1"))
    assert "at least one" in _error(text.replace('nucleus = "1H"\nfolders = ["*/ir_*"]\n', ""))
    # a nucleus alone is a criterion (the 63Cu Lenz-lens FIDs)
    only = parse_campaign(text.replace('folders = ["*/ir_*"]\n', ""))
    assert only.classify(pulse_program="x", nucleus="1H") == "T1_inversion_recovery"


def test_default_rules_cover_the_consoles() -> None:
    c = parse_campaign(MINIMAL.replace('pressure_csv = "p.csv"\n', ""))
    expected = {
        "zg": "fid",
        "zg30": "fid",
        "s2pul": "fid",
        "one_pulse.tps": "fid",
        "satrec_dac": "T1_saturation_recovery",
        "satrec": "T1_saturation_recovery",
        "hahnecho_dac": "T2_hahn_echo",
        "hahn_echo.tps": "T2_hahn_echo",
        "solidecho": "solid_echo",
        "solid_echo.tps": "solid_echo",
        "cpmg": "T2_cpmg",
        "t1ir": "T1_inversion_recovery",
    }
    for name, kind in expected.items():
        assert c.classify(pulse_program=name) == kind, name


def test_key_lines() -> None:
    text = (
        '[a]\nx = 1\n[[b]]\ny = [\n  1,\n  2]\nz.w = "q"\n[[b]]\n"quoted key" = 3\n'
        '[b.c]\nv = """\nmulti\n"""\nu = 2\n'
    )
    lines = KeyLines(text)
    assert lines.line(("a", "x")) == 2
    assert lines.line(("b", 0, "y")) == 4
    assert lines.line(("b", 0, "z", "w")) == 7
    assert lines.line(("b", 1, "quoted key")) == 9
    assert lines.line(("b", 1, "c", "v")) == 11
    assert lines.line(("b", 1, "c", "u")) == 14
    assert lines.line(("b", 0, "y", 1)) == 4  # falls back to the enclosing key


@settings(max_examples=30, deadline=None)
@given(st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True))
def test_any_unknown_key_is_named_with_its_line(key: str) -> None:
    known = {"name", "field_t", "proton_frequency_hz", "description"}
    if key in known:
        return
    text = MINIMAL.replace('name = "test"\n', f'name = "test"\n{key} = 1\n')
    message = _error(text)
    assert f"campaign.toml:5: campaign.{key}: unknown key" in message


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, len(MINIMAL) - 1), st.sampled_from(["", "=", "[", "]", '"', "\n", "x", "-", "0"])
)
def test_mutated_files_raise_only_campaign_errors(position: int, insert: str) -> None:
    text = MINIMAL.replace('pressure_csv = "p.csv"\n', "")
    mutated = text[:position] + insert + text[position + 1 :]
    try:
        parse_campaign(mutated)
    except CampaignError as exc:
        assert "campaign.toml" in str(exc)
