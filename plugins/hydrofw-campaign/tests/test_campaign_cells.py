"""One campaign.toml for a real lab (issue 11): in-cell 63Cu referencing, per-cell console facts
and step parameters, parameter groups, validation before ingest, step failures that isolate."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hydrofw_campaign.config import parse_campaign
from hydrofw_campaign.copper import combine_shielding, session_shieldings
from hydrofw_campaign.pipeline import (
    _echo_delay,
    apply_console_facts,
    merge_params,
    run_pipeline,
    step_params,
    validate_campaign,
)

import hydrofw
from hydrofw.cli import main
from hydrofw.errors import CampaignError
from hydrofw.nuclei import nucleus

PROTON_HZ = 395.0e6
AMBIENT_HZ = 104985390.3

BASE = """
[campaign]
name = "lab"
proton_frequency_hz = 395000000.0

[copper_reference]
nucleus = "63Cu"
ambient_frequency_hz = 104985390.3
ambient_frequency_err_hz = 20.0

[[cells]]
id = "B1"
kind = "nmr"
console = "bruker"
synthesized_at = 2026-01-12T10:00:00Z

[cells.acquisition]
echo_delay = "full"

[cells.references."1H"]
kind = "internal_cu"
compound = "TMS"

[[cells]]
id = "V1"
kind = "nmr"
console = "varian"
synthesized_at = 2026-01-12T10:00:00Z

[cells.acquisition]
timezone = "+08:00"
echo_delay = "tau"

[cells.references."1H"]
kind = "internal_cu"
compound = "TMS"

[cells.pipeline.params."relaxation.build"]
echo_delay = "full"
"""


def _config(text: str = BASE, path: Path | str = "campaign.toml"):
    return parse_campaign(text, path)


# ----------------------------------------------------------------------------- config
def test_cell_console_facts_and_measured_copper_reference() -> None:
    config = _config()
    b1, v1 = config.cells
    assert b1.acquisition.timezone is None and b1.acquisition.echo_delay == "full"
    assert v1.acquisition.tzinfo.utcoffset(None) == dt.timedelta(hours=8)
    assert v1.params == {"relaxation.build": {"echo_delay": "full"}}
    ref = config.reference("1H", "V1")
    assert ref.kind == "internal_cu" and ref.measured_cu and ref.shielding == 0.0
    assert config.copper.ambient_hz("63Cu", PROTON_HZ) == (AMBIENT_HZ, 20.0)
    # 65Cu scales by the Xi ratio (same Knight shift)
    hz65, err65 = config.copper.ambient_hz("65Cu", PROTON_HZ)
    ratio = nucleus("65Cu").xi_percent / nucleus("63Cu").xi_percent
    assert hz65 == pytest.approx(AMBIENT_HZ * ratio) and err65 == pytest.approx(20.0 * ratio)


def test_knight_shift_gives_the_ambient_line() -> None:
    text = BASE.replace(
        "ambient_frequency_hz = 104985390.3\nambient_frequency_err_hz = 20.0",
        "knight_shift_ppm = 2380.0\nknight_shift_err_ppm = 5.0",
    )
    hz, err = _config(text).copper.ambient_hz("63Cu", PROTON_HZ)
    xi = nucleus("63Cu").xi_percent / 100 * PROTON_HZ  # 104.7361 MHz
    assert hz == pytest.approx(xi * (1 + 2380e-6)) and err == pytest.approx(xi * 5e-6)
    assert hz == pytest.approx(104.98538e6, abs=50)  # the example's ambient line


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('timezone = "+08:00"', 'timezone = "Mars/Olympus"', "neither a UTC offset"),
        ('echo_delay = "tau"', 'echo_delay = "half"', "must be one of tau, full"),
        ("ambient_frequency_err_hz = 20.0", "knight_shift_ppm = 2380.0", "exactly one"),
        ('[copper_reference]\nnucleus = "63Cu"', '[copper_reference]\nnucleus = "1H"', "63Cu"),
        ('build"]\necho_delay', 'build"]\necho_dealy', "echo_dealy"),
    ],
)
def test_bad_cell_keys_name_the_line(old: str, new: str, message: str) -> None:
    text = BASE.replace(old, new)
    assert text != BASE
    with pytest.raises(CampaignError, match=message) as info:
        config = _config(text)
        validate_campaign(config)
    assert "campaign.toml:" in str(info.value)


def test_measured_copper_needs_the_ambient_line() -> None:
    text = BASE.replace(
        '[copper_reference]\nnucleus = "63Cu"\nambient_frequency_hz = 104985390.3\n'
        "ambient_frequency_err_hz = 20.0\n",
        "",
    )
    with pytest.raises(CampaignError, match=r"copper_reference"):
        _config(text)


def test_iana_zone_and_rule_by_nucleus_only() -> None:
    config = _config(BASE.replace('"+08:00"', '"Asia/Shanghai"'))
    assert config.cell("V1").acquisition.tzinfo.utcoffset(dt.datetime(2026, 1, 1)) == (
        dt.timedelta(hours=8)
    )
    assert config.classify(pulse_program="zg", nucleus="63Cu") == "cu_reference"
    assert config.classify(pulse_program="zg", nucleus="1H") == "fid"


# ----------------------------------------------------------------------------- parameters
def test_a_user_setting_replaces_its_default_group() -> None:
    text = BASE + '\n[pipeline.params."nmr.diffusion"]\nnumber_density_cm3 = 3.0e23\n'
    config = _config(text)
    params = step_params(config, "nmr.diffusion")
    assert params["number_density_cm3"] == 3.0e23
    assert "lattice_constant_angstrom" not in params and "formula_units_per_cell" not in params
    assert params["closest_distance_angstrom"] == 1.0  # another group: the default stays
    validate_campaign(config)  # accepted (it was refused: density and lattice collided)
    # a cell layer replaces the campaign's group in turn
    merged = merge_params(
        "nmr.diffusion", {"lattice_constant_angstrom": 5.1}, {"number_density_cm3": 3e23},
        {"lattice_constant_angstrom": 5.0, "formula_units_per_cell": 4},
    )
    assert merged == {"lattice_constant_angstrom": 5.0, "formula_units_per_cell": 4}


def test_documented_solid_echo_and_cu_reference_params_are_accepted() -> None:
    text = BASE + (
        '\n[pipeline.params."solid_echo"]\nline_broadening_hz = 2000.0\n'
        '\n[pipeline.params."cu_reference"]\nline_broadening_hz = 500.0\n'
    )
    config = _config(text)
    validate_campaign(config)
    assert step_params(config, "solid_echo")["line_broadening_hz"] == 2000.0
    assert step_params(config, "solid_echo")["echo"] == "top"


def test_unknown_parameter_keeps_its_did_you_mean() -> None:
    text = BASE + '\n[pipeline.params."nmr.diffusion"]\nnumber_density_cm = 3.0e23\n'
    with pytest.raises(CampaignError, match="did you mean 'number_density_cm3'") as info:
        validate_campaign(_config(text))
    assert "campaign.toml:" in str(info.value)
    cell = BASE + '\n[cells.pipeline.params."nmr.lineshape"]\nmodle = "voigt"\n'
    with pytest.raises(CampaignError, match="did you mean 'model'"):
        validate_campaign(_config(cell))


def test_bad_merged_value_is_caught_per_cell() -> None:
    text = BASE + (
        '\n[cells.pipeline.params."nmr.diffusion"]\nnumber_density_cm3 = -1.0\n'
    )
    with pytest.raises(CampaignError, match="V1.*number_density_cm3|number_density_cm3.*V1"):
        validate_campaign(_config(text))


def test_echo_delay_precedence() -> None:
    config = _config()
    # V1: its own step parameter wins over its console facts
    assert _echo_delay(config, "V1", "varian", "tau") == "full"
    # B1: console facts
    assert _echo_delay(config, "B1", "bruker", None) == "full"
    bare_text = BASE.replace('echo_delay = "full"\n\n[cells.references', "\n[cells.references")
    bare = _config(bare_text)
    assert bare.cell("B1").acquisition.echo_delay is None
    # defaults by format: a Varian tau array holds tau, a Bruker vdlist is used as written
    assert _echo_delay(bare, "B1", "varian", "tau") == "tau"
    assert _echo_delay(bare, "B1", "bruker", None) == "full"
    # the campaign-wide value still works where a cell sets none
    glob = _config(bare_text + '\n[pipeline.params."relaxation.build"]\necho_delay = "tau"\n')
    assert _echo_delay(glob, "B1", "bruker", None) == "tau"
    assert _echo_delay(glob, "V1", "varian", "tau") == "full"


# ----------------------------------------------------------------------------- console clock
def test_console_timezone_applies_to_wall_clock_rows_only() -> None:
    config = _config()
    wall = dt.datetime(2026, 1, 13, 9, 30, tzinfo=dt.UTC)  # the console showed 09:30 local
    table = pa.table(
        {
            "cell": ["V1", "V1", "B1"],
            "acquired_at": pa.array([wall, wall, wall], pa.timestamp("us", tz="UTC")),
            "nucleus": ["1H", "1H", "1H"],
            "flags": [["acquired_at_local_time"], [], ["acquired_at_local_time"]],
        }
    )
    out = apply_console_facts(table, config).to_pylist()
    assert out[0]["acquired_at"] == dt.datetime(2026, 1, 13, 1, 30, tzinfo=dt.UTC)
    assert out[0]["flags"] == ["acquired_at_console_timezone"]
    assert out[1]["acquired_at"] == wall  # a true UTC clock (epoch) is left alone
    assert out[2]["acquired_at"] == wall and out[2]["flags"] == ["acquired_at_local_time"]


# ----------------------------------------------------------------------------- copper
def _cu_lines(rows: list[tuple[str, dt.datetime, float, float]]) -> pa.Table:
    carrier = 104.97e6
    return pa.table(
        {
            "id": [f"line{i}" for i in range(len(rows))],
            "cell": [r[0] for r in rows],
            "nucleus": ["63Cu"] * len(rows),
            "acquired_at": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
            "observe_frequency_hz": [carrier] * len(rows),
            "peak_hz": [r[2] - carrier for r in rows],
            "peak_hz_err": [r[3] for r in rows],
            "flags": [[] for _ in rows],
        }
    )


def _sessions(config, rows):
    from hydrofw_campaign.copper import Sessions

    zones = {c.id: c.acquisition.tzinfo for c in config.cells}
    return Sessions.from_times([r[0] for r in rows], [r[1] for r in rows], zones)


def test_session_shielding_with_errors_and_nearest_session() -> None:
    config = _config()
    day1 = dt.datetime(2026, 1, 13, 2, 0, tzinfo=dt.UTC)  # 10:00 at +08:00
    sigma = 100e-6
    nu = AMBIENT_HZ * (1 - sigma)
    lines = _cu_lines([("V1", day1, nu - 30.0, 30.0), ("V1", day1, nu + 30.0, 30.0)])
    day3 = dt.datetime(2026, 1, 15, 3, 0, tzinfo=dt.UTC)
    sessions = _sessions(config, [("V1", day1), ("V1", day3)])
    values, notes = session_shieldings(config, lines, sessions)
    assert notes == []
    own, far = values[("V1", "2026-01-13")], values[("V1", "2026-01-15")]
    assert own.sigma_dac_ppm == pytest.approx(100.0, abs=1e-6) and own.n_lines == 2
    # two lines at +-1 sigma: reduced chi^2 = 2 inflates the error of the mean (30/sqrt 2 Hz)
    stat = 30.0 / math.sqrt(2) * math.sqrt(2.0) / AMBIENT_HZ
    amb = (1 - sigma) * 20.0 / AMBIENT_HZ
    assert own.reduced_chi2 == pytest.approx(2.0)
    assert own.sigma_dac_ppm_err == pytest.approx(math.hypot(stat, amb) * 1e6, rel=1e-6)
    assert own.flags == () and far.flags == ("nearest_session",)
    assert far.sigma_dac_ppm == own.sigma_dac_ppm and far.source_session == "2026-01-13"
    assert far.sigma_dac_ppm_err == own.sigma_dac_ppm_err  # nothing measured after: no drift


def test_nearest_session_error_includes_the_drift() -> None:
    config = _config()
    t0 = dt.datetime(2026, 1, 13, 2, 0, tzinfo=dt.UTC)
    t2 = t0 + dt.timedelta(days=2)
    t1 = t0 + dt.timedelta(days=0.8)  # no Cu line that day; nearest is t0, 0.8 d away
    nu0, nu2 = AMBIENT_HZ * (1 - 100e-6), AMBIENT_HZ * (1 - 110e-6)
    lines = _cu_lines([("V1", t0, nu0, 10.0), ("V1", t2, nu2, 10.0)])
    sessions = _sessions(config, [("V1", t0), ("V1", t1), ("V1", t2)])
    values, _ = session_shieldings(config, lines, sessions)
    mid = values[("V1", "2026-01-13#2")] if ("V1", "2026-01-13#2") in values else None
    mid = mid or values[("V1", "2026-01-14")]
    base = values[("V1", "2026-01-13")]
    drift = 10.0 / 2.0 * 0.8  # 5 ppm/day over 0.8 day
    assert mid.flags == ("nearest_session",) and mid.sigma_dac_ppm == base.sigma_dac_ppm
    expected = math.hypot(base.sigma_dac_ppm_err, drift)
    assert mid.sigma_dac_ppm_err == pytest.approx(expected, rel=1e-3)


def test_a_session_past_midnight_stays_one() -> None:
    """Sessions are sittings (gaps < 6 h), named by the console-clock day they start on."""
    config = _config()
    start = dt.datetime(2026, 1, 13, 15, 0, tzinfo=dt.UTC)  # 23:00 at +08:00
    rows = [("V1", start + dt.timedelta(hours=h)) for h in (0, 1, 2, 3)]
    rows.append(("V1", start + dt.timedelta(days=1)))
    sessions = _sessions(config, rows)
    names = [sessions.name("V1", t) for _, t in rows]
    assert names == ["2026-01-13"] * 4 + ["2026-01-14"]
    assert sessions.name("B1", start) is None
    nu = AMBIENT_HZ * (1 - 100e-6)
    values, _ = session_shieldings(config, _cu_lines([("V1", rows[3][1], nu, 10.0)]), sessions)
    assert values[("V1", "2026-01-13")].flags == ()  # the Cu line after midnight counts
    assert values[("V1", "2026-01-14")].flags == ("nearest_session",)


def test_combine_without_scatter_keeps_the_error() -> None:
    mean, err, chi2 = combine_shielding(np.array([1.0, 1.0]), np.array([0.1, 0.1]))
    assert mean == 1.0 and err == pytest.approx(0.1 / math.sqrt(2)) and chi2 == 0.0


# ----------------------------------------------------------------------------- whole runs
def _spectrum_rows(root: Path) -> pa.Table:
    from hydrofw_nmr.spectral.simulate import fid, table

    rng = np.random.default_rng(3)
    sw = 200e3
    sigma = 120e-6
    xi_h = PROTON_HZ
    tables = []
    day0 = dt.datetime(2026, 1, 13, 9, 0, tzinfo=dt.UTC)
    for day in range(3):
        when = day0 + dt.timedelta(days=day)
        h_line = xi_h * (1 - sigma) * (1 + 10e-6) - PROTON_HZ
        h = table(
            [fid(4096, sw, [(1.0, h_line, 1350.0)], noise=1e-3, seed=_seed(rng))], sw,
            observe_hz=PROTON_HZ, nucleus="1H", pulse_program="zg", acquired_at=when,
        )
        tables.append(_at(h, root / "raw" / "B1" / f"d{day}" / "h"))
        if day != 1:  # day 1 has no Cu FID: the nearest session is used
            cu_carrier = 104.97e6
            cu_line = AMBIENT_HZ * (1 - sigma) - cu_carrier
            cu = table(
                [fid(4096, sw, [(1.0, cu_line, 6000.0)], noise=1e-3, seed=_seed(rng))], sw,
                observe_hz=cu_carrier, nucleus="63Cu", pulse_program="zg",
                acquired_at=when + dt.timedelta(minutes=5),
            )
            tables.append(_at(cu, root / "raw" / "B1" / f"d{day}" / "cu"))
    delays = np.array([1e-4, 3e-4, 1e-3, 3e-3, 1e-2])
    for name, t1 in (("1H", 1.5e-3), ("139La", 0.4e-3)):
        fids = [
            fid(1024, sw, [(1 - math.exp(-d / t1), 0.0, 1000.0)], noise=1e-3, seed=_seed(rng))
            for d in delays
        ]
        series = table(
            fids, sw, observe_hz=PROTON_HZ if name == "1H" else 55.95e6, nucleus=name,
            pulse_program="satrec", acquired_at=day0, array_unit="s",
        )
        series = series.set_column(
            series.column_names.index("array_value"), "array_value", pa.array(delays)
        ).set_column(
            series.column_names.index("increment"), "increment", pa.array(range(len(delays)))
        )
        tables.append(_at(series, root / "raw" / "B1" / "d0" / f"satrec_{name}"))
    return pa.concat_tables(tables, promote_options="default")


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(1 << 30))


def _at(t: pa.Table, path: Path) -> pa.Table:
    i = t.column_names.index("source_path")
    return t.set_column(i, "source_path", pa.array([str(path)] * t.num_rows))


def test_campaign_with_la_t1_completes_with_cu_referencing(tmp_path: Path) -> None:
    """A 139La T1 series beside the 1H one: the run completes, the La diffusion row is flagged;
    the daily 63Cu FIDs give sigma_DAC per session, applied with its error to the 1H shift."""
    pytest.importorskip("hydrofw_nmr")
    root = tmp_path / "lab"
    (root / "raw" / "B1").mkdir(parents=True)
    text = BASE.split("[[cells]]\nid = \"V1\"")[0]
    (root / "campaign.toml").write_text(text)
    store = hydrofw.open_store(tmp_path / "store")
    store.write(_spectrum_rows(root))
    results = run_pipeline(store, root)
    diffusion = {r["nucleus"]: r for r in results.tables["diffusion"].to_pylist()}
    assert diffusion["139La"]["flags"] == ["nucleus_not_spin_half"]
    assert diffusion["139La"]["d_cm2_s"] is None
    assert diffusion["1H"]["d_hbar_cm2_s"] > 0 and diffusion["1H"]["d_planck_h_cm2_s"] > 0
    assert any("nucleus_not_spin_half" in n for n in results.notes)
    shield = results.tables["dac_shielding"].to_pylist()
    by_day = {r["session"]: r for r in shield}
    assert set(by_day) == {"2026-01-13", "2026-01-14", "2026-01-15"}
    assert by_day["2026-01-14"]["flags"] == ["nearest_session"]
    for r in shield:
        assert r["sigma_dac_ppm"] == pytest.approx(120.0, abs=4 * r["sigma_dac_ppm_err"])
        assert r["sigma_dac_ppm_err"] >= 20.0 / AMBIENT_HZ * 1e6 * 0.99  # ambient error in
    lines = [r for r in results.tables["lineshape"].to_pylist() if r["nucleus"] == "1H"]
    assert len(lines) == 3
    for r in lines:
        assert r["peak_ppm"] == pytest.approx(10.0, abs=4 * r["peak_ppm_err"])
        assert r["peak_ppm_err"] >= 0.19  # includes the ambient reference error (0.19 ppm)
    day14 = [r for r in lines if r["acquired_at"].day == 14]
    assert len(day14) == 1 and "nearest_session" in day14[0]["flags"]


def test_validation_comes_before_any_raw_file_is_read(tmp_path: Path, monkeypatch) -> None:
    import hydrofw.pipeline as core

    root = tmp_path / "lab"
    (root / "raw" / "B1").mkdir(parents=True)
    (root / "raw" / "B1" / "junk.txt").write_text("not data")
    (root / "campaign.toml").write_text(
        BASE + '\n[pipeline.params."nmr.diffusion"]\nnumber_density_cm = 3e23\n'
    )

    def no_discover(*args, **kwargs):
        raise AssertionError("raw/ was read before campaign.toml was validated")

    monkeypatch.setattr(core, "discover", no_discover)
    with pytest.raises(CampaignError, match="number_density_cm"):
        hydrofw.run(root)


def test_no_campaign_toml_is_said_on_stderr(tmp_path: Path, capsys) -> None:
    root = tmp_path / "lab"
    (root / "raw").mkdir(parents=True)
    assert main(["run", str(root)]) == 0
    err = capsys.readouterr().err
    assert "no campaign.toml" in err and "ingested only" in err


def test_hydrofw_campaign_validate_hook(tmp_path: Path) -> None:
    from hydrofw_campaign.plugin import hydrofw_campaign_validate

    assert "no campaign.toml" in hydrofw_campaign_validate(campaign_dir=tmp_path)[0]
    (tmp_path / "campaign.toml").write_text(BASE)
    assert hydrofw_campaign_validate(campaign_dir=tmp_path) == []
    (tmp_path / "campaign.toml").write_text(BASE.replace('"+08:00"', '"+8 hours"'))
    with pytest.raises(CampaignError, match="timezone"):
        hydrofw_campaign_validate(campaign_dir=tmp_path)


def test_implausible_shift_is_flagged_on_the_line_and_named(tmp_path: Path) -> None:
    """A 500 MHz 1H FID in a campaign that says field_t = 9.4: ~+249,000 ppm, flagged."""
    from hydrofw_nmr.spectral.simulate import fid, table

    root = tmp_path / "lab"
    (root / "raw" / "A").mkdir(parents=True)
    (root / "campaign.toml").write_text(
        '[campaign]\nname = "x"\nfield_t = 9.4\n\n[[cells]]\nid = "A"\nkind = "nmr"\n'
        "synthesized_at = 2026-01-12T10:00:00Z\n"
    )
    sw = 20e3
    when = dt.datetime(2026, 1, 13, 9, 0, tzinfo=dt.UTC)
    rows = table(
        [fid(2048, sw, [(1.0, 500.0, 300.0)], noise=1e-3)], sw, observe_hz=500.13e6,
        nucleus="1H", pulse_program="zg", acquired_at=when,
    )
    store = hydrofw.open_store(tmp_path / "store")
    store.write(_at(rows, root / "raw" / "A" / "fid"))
    with pytest.warns(UserWarning, match="plausible"):
        results = run_pipeline(store, root)
    (line,) = results.tables["lineshape"].to_pylist()
    assert line["peak_ppm"] > 2e5 and "shift_implausible" in line["flags"]
    assert any("shift_implausible" in n and "field_t" in n for n in results.notes)


def test_one_run_gives_first_principles_and_calibrated_h_over_la() -> None:
    from hydrofw_campaign.pipeline import _fixed_quantify

    cal = '\n[quantification]\nmethod = "{}"\n[quantification.calibration]\nh_over_la = 3.0\n'
    fp = _fixed_quantify(_config(BASE + cal.format("reciprocity")))
    assert fp["reference_ratio"] == 3.0 and "mode" not in fp  # both columns, ratio = first pr.
    assert _fixed_quantify(_config(BASE + cal.format("calibrated")))["mode"] == "calibrated"
    assert "reference_ratio" not in _fixed_quantify(_config())


def test_a_failing_dataset_is_named_and_the_rest_kept(tmp_path: Path) -> None:
    """relaxation.build on two series, one without delays: that one is named in the failures
    and notes, the other gives its curve."""
    from hydrofw_campaign.pipeline import CampaignResults, _run_step

    rows = _spectrum_rows(tmp_path)
    paths = rows.column("source_path").to_pylist()
    series = rows.filter(pa.array(["satrec" in p for p in paths]))
    broken = [p.endswith("satrec_139La") for p in series.column("source_path").to_pylist()]
    values = series.column("array_value").to_pylist()
    series = series.set_column(
        series.column_names.index("array_value"),
        "array_value",
        pa.array([None if b else v for b, v in zip(broken, values, strict=True)], pa.float64()),
    )
    results = CampaignResults()
    out = _run_step(
        results, "relaxation.build", series, {"kind": "T1_saturation_recovery"},
        group_by="source_path",
    )
    assert out.num_rows == 1 and out.column("nucleus").to_pylist() == ["1H"]
    (failure,) = results.failures
    assert failure["step"] == "relaxation.build" and failure["rows"] == 5
    assert failure["inputs"][0].endswith("satrec_139La") and "delay" in failure["error"]
    assert "satrec_139La" in results.notes[0] and "continues" in results.notes[0]


def test_campaign_nucleus_replaces_a_guessed_one() -> None:
    config = _config(BASE.replace('timezone = "+08:00"', 'timezone = "+08:00"\nnucleus = "1H"'))
    table = pa.table(
        {
            "cell": ["V1", "V1"],
            "acquired_at": pa.array([None, None], pa.timestamp("us", tz="UTC")),
            "nucleus": ["2H", "63Cu"],
            "flags": [["nucleus_guessed"], []],
        }
    )
    out = apply_console_facts(table, config).to_pylist()
    assert out[0]["nucleus"] == "1H" and out[0]["flags"] == ["nucleus_from_campaign"]
    assert out[1]["nucleus"] == "63Cu" and out[1]["flags"] == []  # the header named it
