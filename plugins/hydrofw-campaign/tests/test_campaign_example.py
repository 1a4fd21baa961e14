"""The bundled example campaign: layout, formats readable by nmrglue, truth consistency."""

from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any

import nmrglue as ng
import numpy as np
import pytest
from hydrofw_campaign.config import load_campaign
from hydrofw_campaign.example import write_example_campaign
from hydrofw_campaign.example.truth import snr_ratio_per_h_over_la

from hydrofw.registry import get_registry


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], float]:
    root = tmp_path_factory.mktemp("example")
    start = time.perf_counter()
    write_example_campaign(root, seed=5)
    elapsed = time.perf_counter() - start
    return root, json.loads((root / "ground_truth.json").read_text()), elapsed


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_small_fast_and_deterministic(campaign, tmp_path: Path) -> None:
    root, _, elapsed = campaign
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size < 8e6
    assert elapsed < 20
    again = write_example_campaign(tmp_path / "again", seed=5)
    assert _digest(again) == _digest(root)
    other = write_example_campaign(tmp_path / "other", seed=6)
    assert _digest(other) != _digest(root)


def test_hook_writes_the_example(tmp_path: Path) -> None:
    hook = get_registry().pm.hook.hydrofw_example_campaign
    assert hook(directory=tmp_path / "c", seed=1) == tmp_path / "c"
    assert (tmp_path / "c" / "campaign.toml").is_file()


def test_campaign_toml_describes_every_cell_and_experiment(campaign) -> None:
    root, truth, _ = campaign
    config = load_campaign(root)
    assert {c.id for c in config.cells} == set(truth["cells"])
    assert config.campaign.proton_frequency_hz == truth["proton_frequency_hz"]
    for cell_id, cell in truth["cells"].items():
        cfg = config.cell(cell_id)
        assert cfg.cell.kind == cell["kind"]
        assert (
            cfg.cell.synthesized_at.isoformat().replace("+00:00", "Z")[:19]
            == cell["parameters"]["synthesized_at"][:19]
        )
        if cell["kind"] != "nmr":
            assert len(cfg.pressure_checks) == 4
            continue
        ref = config.reference("139La", cell_id)
        assert ref.shielding == pytest.approx(cell["parameters"]["dac_shielding"], abs=1e-9)
        # the La line of each day, referenced with the cell's 63Cu correction, is the true shift
        nu_ref = ref.reference_frequency_hz(config.campaign.proton_frequency_hz)
        for day in cell["days"]:
            la = day["experiments"][1]
            shift_ppm = (55.95e6 + la["offset_from_carrier_hz"] - nu_ref) / nu_ref * 1e6
            assert shift_ppm == pytest.approx(la["shift_ppm"], abs=1e-3)
        for day in cell["days"]:
            for exp in day["experiments"]:
                rel = exp["path"].removeprefix("raw/")
                assert config.cell_for_path(rel).id == cell_id
                assert config.classify(pulse_program=exp["sequence"], path=rel) == exp["kind"]


def test_bruker_headers(campaign) -> None:
    root, truth, _ = campaign
    for cell_id in ("N1", "N2"):
        day = truth["cells"][cell_id]["days"][2]
        h, la = day["experiments"][:2]
        dic, data = ng.bruker.read(str(root / h["path"]))
        acqus = dic["acqus"]
        assert acqus["NUC1"] == "1H" and acqus["PULPROG"] == "zg"
        assert acqus["SW_h"] == 200e3 and acqus["TD"] == 2 * data.size
        assert acqus["GRPDLY"] == h["group_delay_points"] > 0
        assert acqus["SFO1"] * 1e6 + h["offset_from_carrier_hz"] == pytest.approx(
            truth["proton_frequency_hz"]
            * (1 - truth["cells"][cell_id]["parameters"]["dac_shielding"])
            * (1 + h["shift_ppm"] * 1e-6),
            abs=1e-3,
        )
        assert acqus["DTYPA"] == (2 if cell_id == "N1" else 0)
        dic, _ = ng.bruker.read(str(root / la["path"]))
        assert dic["acqus"]["NUC1"] == "139La" and dic["acqus"]["SFO1"] == 55.95
        assert (root / la["path"] / "pulseprogram").read_text().startswith(";zg")
    series = [
        e
        for d in truth["cells"]["N1"]["days"]
        for e in d["experiments"]
        if e["kind"] == "T1_saturation_recovery"
    ]
    assert series
    dic, data = ng.bruker.read(str(root / series[0]["path"]))
    assert data.shape == (8, 256) and dic["acqus"]["PULPROG"] == "satrec_dac"
    vd = [float(v) for v in (root / series[0]["path"] / "vdlist").read_text().split()]
    assert vd == pytest.approx(series[0]["delay_s"])


def _snr(trace: np.ndarray, group_delay: float) -> float:
    """|amplitude at t = 0| over the noise sigma per channel, after removing a group delay."""
    n = trace.size
    spec = np.fft.fft(np.concatenate([trace, np.zeros_like(trace)]))
    fid = np.fft.ifft(spec * np.exp(2j * np.pi * np.fft.fftfreq(2 * n) * group_delay))[:n]
    tail = fid[n // 2 : n - int(math.ceil(group_delay)) - 1]  # signal-free, before the padding
    sigma = np.std(np.concatenate([tail.real, tail.imag]))
    decay = np.abs(fid[1:12])
    slope, intercept = np.polyfit(np.arange(1, 12), np.log(decay), 1)
    return float(np.exp(intercept) / sigma)


def test_h_over_la_is_encoded_in_the_snr_ratio(campaign) -> None:
    root, truth, _ = campaign
    ratio = snr_ratio_per_h_over_la(64, 16384, 200e3, 500e3)
    # physics.md section 3: 16.52 per unit H/La for equal NS and bandwidth
    assert snr_ratio_per_h_over_la(1, 1, 1.0, 1.0) == pytest.approx(16.52, abs=0.01)
    assert truth["snr_ratio_per_h_over_la"] == pytest.approx(ratio)
    day = truth["cells"]["N1"]["days"][1]
    h, la = day["experiments"][:2]
    assert h["snr_time_domain"] / la["snr_time_domain"] == pytest.approx(ratio * day["h_over_la"])
    _, h_data = ng.bruker.read(str(root / h["path"]))
    assert _snr(h_data, h["group_delay_points"]) == pytest.approx(h["snr_time_domain"], rel=0.1)


def test_varian_and_tecmag_files(campaign) -> None:
    root, truth, _ = campaign
    day = truth["cells"]["N3"]["days"][2]
    dic, data = ng.varian.read(str(root / day["experiments"][0]["path"]))
    pp = dic["procpar"]
    assert pp["tn"]["values"] == ["H1"] and pp["seqfil"]["values"] == ["s2pul"]
    assert float(pp["sw"]["values"][0]) == 200e3 and data.shape == (1024,)
    satrec = next(e for e in day["experiments"] if e["kind"] == "T1_saturation_recovery")
    dic, data = ng.varian.read(str(root / satrec["path"]))
    assert data.shape == (8, 256)
    assert dic["procpar"]["array"]["values"] == ["d2"]
    assert [float(v) for v in dic["procpar"]["d2"]["values"]] == pytest.approx(satrec["delay_s"])
    day = truth["cells"]["N4"]["days"][2]
    hahn = next(e for e in day["experiments"] if e["kind"] == "T2_hahn_echo")
    dic, data = ng.tecmag.read(str(root / hahn["path"]))
    assert data.shape == (256, 8, 1, 1) and dic["nuclei"][0] == b"H1"
    np.testing.assert_allclose(
        ng.tecmag.guess_tables(str(root / hahn["path"]))["vdlist"], hahn["tau_s"]
    )


def test_ppms_dat_in_the_multivu_layout(campaign, real_data: Path) -> None:
    root, truth, _ = campaign
    path = root / truth["cells"]["T4"]["days"][0]["path"]
    assert path.suffix == ".dat"
    ours = path.read_bytes().decode("ascii").split("\r\n")
    real = (real_data / "transport/ppms-multivu-resistivity-nb-film").glob("*fineUp1.dat")
    real_lines = next(iter(real)).read_bytes().decode("latin-1").split("\r\n")
    data_at = ours.index("[Data]")
    assert ours[0] == "[Header]" and ours[3] == real_lines[3]  # BYAPP, Resistivity, 2.1, 1.0
    assert ours[data_at + 1] == real_lines[real_lines.index("[Data]") + 1]  # the 41 columns
    row = ours[data_at + 2].split(",")
    sweep = truth["cells"]["T4"]["days"][0]["sweeps"][0]
    assert 25 > float(row[3]) - 220.0 > -1 and row[0] == "" and ours[data_at + 2].endswith(",")
    assert sum(1 for line in ours[data_at + 2 :] if line) == 2 * sweep["n_points"]


def test_transport_truth_is_consistent(campaign) -> None:
    _, truth, _ = campaign
    for cell in (c for c in truth["cells"].values() if c["kind"] == "transport"):
        p = cell["parameters"]
        tcs = [d["sweeps"][0]["tc_onset_k"] for d in cell["days"]]
        assert cell["days"][0]["tc_onset_normalised"] == 1.0
        assert 145 < tcs[0] <= 161 and 69 < tcs[-1] < 87
        for d in cell["days"]:
            cool, warm = d["sweeps"]
            # logistic: T90 - T10 = 2 w ln 9 when the residual resistance is zero
            if p["residual_fraction"] == 0:
                assert cool["width_k"] == pytest.approx(2 * p["width_k"] * math.log(9))
            # the warming sweep starts later (lower Tc) and its sensor leads the sample
            shift = cool["tc_onset_k_model"] - warm["tc_onset_k_model"]
            assert warm["tc_50_k"] - cool["tc_50_k"] == pytest.approx(p["warming_lag_k"] - shift)
            assert cool["tc_onset_k"] == pytest.approx(cool["tc_onset_k_model"], abs=1e-3)


def test_nmr_truth_is_shaped_like_the_paper(campaign) -> None:
    _, truth, _ = campaign
    for cell in (c for c in truth["cells"].values() if c["kind"] == "nmr"):
        p = cell["parameters"]
        days = cell["days"]
        assert days[0]["h_over_la"] == 3.0 and days[0]["nominal_day"] < 0
        assert 10.0 < days[1]["h_over_la"] < 11.2 and days[-1]["h_over_la"] < 6.5
        assert 0.12 <= p["initial_rate_per_day"] <= 0.2
        assert 880 < days[1]["la_shift_ppm"] < 1000 and days[-1]["la_shift_ppm"] > 2900
        assert 1.3e-3 < p["t1_s"] < 1.7e-3 and 1.3e-3 < p["t2_s"] < 1.7e-3
        fractions = [d["h2_fraction"] for d in days]
        assert fractions == sorted(fractions) and fractions[-1] > 0.1


def test_cli_example_command(tmp_path: Path) -> None:
    from hydrofw.cli import main

    assert main(["example", str(tmp_path / "cli"), "--seed", "3"]) == 0
    assert json.loads((tmp_path / "cli" / "ground_truth.json").read_text())["seed"] == 3


def test_refuses_to_mix_into_a_foreign_folder(campaign, tmp_path: Path) -> None:
    from hydrofw.errors import HydrofwError

    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(HydrofwError, match="not empty"):
        write_example_campaign(tmp_path, seed=1)
    assert (tmp_path / "mine.txt").read_text() == "keep me"
    root, _, _ = campaign
    before = _digest(root)
    write_example_campaign(root, seed=5)  # the same example again: rewritten identically
    assert _digest(root) == before
    with pytest.raises(HydrofwError, match="seed 5"):
        write_example_campaign(root, seed=3)
