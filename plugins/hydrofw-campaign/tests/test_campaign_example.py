"""The bundled example campaign: layout, formats readable by nmrglue, truth consistency."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import time
import tomllib
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
    assert size < 10e6
    assert elapsed < 30
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
        for day in cell["days"]:
            for exp in day["experiments"]:
                rel = exp["path"].removeprefix("raw/")
                assert config.cell_for_path(rel).id == cell_id
                kind = config.classify(pulse_program=exp["sequence"], path=rel,
                                       nucleus=exp["nucleus"])
                assert kind == exp["kind"]


def test_campaign_toml_contract(campaign) -> None:
    """[copper_reference], per-cell [cells.acquisition] and Cu-referenced cells with no
    hand-typed Cu frequency (the keys the campaign configuration reads)."""
    root, truth, _ = campaign
    doc = tomllib.loads((root / "campaign.toml").read_text())
    cu = doc["copper_reference"]
    assert cu == {
        "nucleus": "63Cu",
        "ambient_frequency_hz": pytest.approx(truth["copper_reference"]["ambient_frequency_hz"],
                                              abs=0.05),
        "ambient_frequency_err_hz": 20.0,
    }
    # physics.md section 5: Xi(63Cu) = 26.515473 % of 395 MHz, metallic Knight shift 0.238 %
    assert cu["ambient_frequency_hz"] == pytest.approx(0.26515473 * 395e6 * 1.00238, abs=0.1)
    cells = {c["id"]: c for c in doc["cells"]}
    expected = {"N1": ("UTC", "full"), "N2": ("UTC", "tau"), "N3": ("+08:00", "tau"),
                "N4": ("UTC", "tau")}
    for cell_id, (zone, echo) in expected.items():
        c = cells[cell_id]
        assert c["acquisition"] == {"timezone": zone, "echo_delay": echo}
        for nucleus in ("1H", "139La"):
            ref = c["references"][nucleus]
            assert ref["kind"] == "internal_cu"
            assert not any(k.startswith("cu_") for k in ref), ref
    assert "pipeline" not in doc or "relaxation.build" not in doc["pipeline"].get("params", {})
    rules = doc["experiments"]["rules"]
    assert rules[0] == {"kind": "cu_reference", "nucleus": "63Cu"}


def test_every_session_has_its_copper_line(campaign) -> None:
    """The 63Cu Lenz-lens FID of each session sits at nu_Cu,amb (1 - sigma_DAC); the La line,
    referenced with that session's sigma_DAC, is the true shift (physics.md section 5)."""
    root, truth, _ = campaign
    ambient = truth["copper_reference"]["ambient_frequency_hz"]
    for cell in (c for c in truth["cells"].values() if c["kind"] == "nmr"):
        sigmas = []
        for day in cell["days"]:
            h, la, cu = day["experiments"][:3]
            assert (h["nucleus"], la["nucleus"], cu["nucleus"]) == ("1H", "139La", "63Cu")
            assert cu["kind"] == "cu_reference" and cu["sequence"] in ("zg", "s2pul", "one_pulse")
            sigma = 1 - cu["cu_frequency_hz"] / ambient
            assert sigma == pytest.approx(day["dac_shielding"], abs=1e-12)
            assert 40e-6 < sigma < 150e-6
            sigmas.append(sigma)
            nu_ref = 0.14125641 * 395e6 * (1 - sigma)
            line = (55.95e6 + la["offset_from_carrier_hz"]) / (1 + la["field_drift_ppm"] * 1e-6)
            assert (line - nu_ref) / nu_ref * 1e6 == pytest.approx(la["shift_ppm"], abs=1e-3)
            assert abs(la["field_drift_ppm"]) < 0.2
        # pressure relaxes: sigma_DAC drifts slowly and monotonically, by a few ppm
        assert sigmas == sorted(sigmas, reverse=True)
        assert 2e-6 < sigmas[0] - sigmas[-1] < 16e-6
    day = truth["cells"]["N1"]["days"][3]
    dic, _ = ng.bruker.read(str(root / day["experiments"][2]["path"]))
    acqus = dic["acqus"]
    assert acqus["NUC1"] == "63Cu" and acqus["PULPROG"] == "zg"
    cu = day["experiments"][2]
    assert acqus["SFO1"] * 1e6 + cu["offset_from_carrier_hz"] == pytest.approx(
        cu["cu_frequency_hz"] * (1 + cu["field_drift_ppm"] * 1e-6), abs=1e-3)


def test_bruker_headers(campaign) -> None:
    root, truth, _ = campaign
    for cell_id, sw in (("N1", 1e6), ("N2", 400e3)):
        day = truth["cells"][cell_id]["days"][2]
        h, la = day["experiments"][:2]
        dic, data = ng.bruker.read(str(root / h["path"]))
        acqus = dic["acqus"]
        assert acqus["NUC1"] == "1H" and acqus["PULPROG"] == "zg"
        assert acqus["SW_h"] == sw and acqus["TD"] == 2 * data.size
        assert acqus["GRPDLY"] == h["group_delay_points"] > 0
        # the decimation the simulated DSP applied: a 20 MHz ADC down to SW
        assert acqus["DECIM"] == h["decimation"] == 2 ** math.floor(math.log2(20e6 / sw / 2))
        stamp = dt.datetime.fromisoformat(h["acquired_at"].replace("Z", "+00:00"))
        assert acqus["DATE"] == int(stamp.timestamp())  # $DATE: Unix seconds, UTC
        assert acqus["SFO1"] * 1e6 + h["offset_from_carrier_hz"] == pytest.approx(
            truth["proton_frequency_hz"]
            * (1 - day["dac_shielding"])
            * (1 + h["shift_ppm"] * 1e-6)
            * (1 + h["field_drift_ppm"] * 1e-6),
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
    assert data.shape == (8, 512) and dic["acqus"]["PULPROG"] == "satrec_dac"
    vd = [float(v) for v in (root / series[0]["path"] / "vdlist").read_text().split()]
    assert vd == pytest.approx(series[0]["delay_s"])
    # issue 11: N1's Hahn-echo vdlist holds the full echo time 2 tau, N2's holds tau
    for cell_id, factor, program in (("N1", 2.0, "hahnechovd2_dac"), ("N2", 1.0, "hahnecho_dac")):
        hahn = next(e for d in truth["cells"][cell_id]["days"] for e in d["experiments"]
                    if e["kind"] == "T2_hahn_echo")
        vd = [float(v) for v in (root / hahn["path"] / "vdlist").read_text().split()]
        assert vd == pytest.approx([factor * t for t in hahn["tau_s"]], rel=1e-5)
        assert vd == pytest.approx(hahn["listed_delay_s"], rel=1e-5)
        assert hahn["delay_s"] == pytest.approx([2 * t for t in hahn["tau_s"]])
        pp = (root / hahn["path"] / "pulseprogram").read_text()
        assert pp.startswith(f";{program}") and (("vd*0.5" in pp) == (factor == 2.0))


def _snr(trace: np.ndarray, group_delay: float) -> float:
    """|amplitude at t = 0| over the noise sigma per channel, after removing a group delay."""
    n = trace.size
    spec = np.fft.fft(np.concatenate([trace, np.zeros_like(trace)]))
    fid = np.fft.ifft(spec * np.exp(2j * np.pi * np.fft.fftfreq(2 * n) * group_delay))[:n]
    tail = fid[n // 2 : n - int(math.ceil(group_delay)) - 1]  # signal-free, before the padding
    sigma = np.std(np.concatenate([tail.real, tail.imag]))
    decay = np.abs(fid[4:24])  # past the filter's Gibbs ringing of the step at t = 0
    slope, intercept = np.polyfit(np.arange(4, 24), np.log(decay), 1)
    return float(np.exp(intercept) / sigma)


def test_h_over_la_is_encoded_in_the_snr_ratio(campaign) -> None:
    root, truth, _ = campaign
    # physics.md section 3: 16.52 per unit H/La for equal NS and bandwidth
    assert snr_ratio_per_h_over_la(1, 1, 1.0, 1.0) == pytest.approx(16.52, abs=0.01)
    assert truth["snr_ratio_per_h_over_la"] == pytest.approx(
        snr_ratio_per_h_over_la(64, 16384, 200e3, 500e3))
    for cell_id, sw in (("N1", 1e6), ("N2", 400e3), ("N3", 2e6), ("N4", 250e3)):
        cell = truth["cells"][cell_id]
        ratio = snr_ratio_per_h_over_la(64, 16384, sw, 500e3)
        assert cell["parameters"]["snr_ratio_per_h_over_la"] == pytest.approx(ratio)
        for day in cell["days"]:
            h, la = day["experiments"][:2]
            assert h["snr_time_domain"] / la["snr_time_domain"] == pytest.approx(
                ratio * day["h_over_la"])
            assert h["snr_total_time_domain"] / la["snr_time_domain"] == pytest.approx(
                ratio * day["h_over_la_total"])
    # the 63Cu FID (a single Lorentzian) through the real DSP: its t = 0 amplitude comes back
    cu = truth["cells"]["N1"]["days"][4]["experiments"][2]
    _, data = ng.bruker.read(str(root / cu["path"]))
    assert _snr(data, cu["group_delay_points"]) == pytest.approx(cu["snr_time_domain"], rel=0.1)


def test_varian_and_tecmag_files(campaign) -> None:
    root, truth, _ = campaign
    day = truth["cells"]["N3"]["days"][2]
    h = day["experiments"][0]
    dic, data = ng.varian.read(str(root / h["path"]))
    pp = dic["procpar"]
    assert pp["tn"]["values"] == ["H1"] and pp["seqfil"]["values"] == ["s2pul"]
    assert float(pp["sw"]["values"][0]) == 2e6 and data.shape == (4096,)
    # receiver dead time rof2 + alfa (us) and the analog filter bandwidth
    dead_us = float(pp["rof2"]["values"][0]) + float(pp["alfa"]["values"][0])
    assert dead_us == pytest.approx(h["dead_time_s"] * 1e6) and 2 <= dead_us <= 5
    assert float(pp["fb"]["values"][0]) == h["filter_bandwidth_hz"] == 1e6
    # the console's local clock: UTC + 8 h, written without a zone
    utc = dt.datetime.fromisoformat(h["acquired_at"].replace("Z", "+00:00"))
    local = dt.datetime.strptime(pp["time_run"]["values"][0], "%Y%m%dT%H%M%S")
    assert local == (utc + dt.timedelta(hours=8)).replace(tzinfo=None, microsecond=0)
    assert h["acquired_at_console_clock"].startswith(local.isoformat())
    satrec = next(e for e in day["experiments"] if e["kind"] == "T1_saturation_recovery")
    dic, data = ng.varian.read(str(root / satrec["path"]))
    assert data.shape == (8, 1024)
    assert dic["procpar"]["array"]["values"] == ["d2"]
    assert [float(v) for v in dic["procpar"]["d2"]["values"]] == pytest.approx(satrec["delay_s"])
    hahn = next(e for d in truth["cells"]["N3"]["days"] for e in d["experiments"]
                if e["kind"] == "T2_hahn_echo")
    dic, _ = ng.varian.read(str(root / hahn["path"]))
    assert dic["procpar"]["array"]["values"] == ["tau"]  # tau, half the echo time
    assert [float(v) for v in dic["procpar"]["tau"]["values"]] == pytest.approx(hahn["tau_s"])
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
        # no H2 before synthesis and (almost) none right after heating
        assert days[0]["h2_h_per_la"] == 0.0 and days[1]["h2_fraction"] < 0.005
        trapped = p["h2_trapped_fraction"]
        assert 0.5 <= trapped <= 0.95 and p["h2_escaped_fraction"] == pytest.approx(1 - trapped)
        for d in days[1:]:
            # hydrogen conserved in the chamber up to the escaped share
            lost = p["h_over_la_0"] - d["h_over_la"]
            assert d["h2_h_per_la"] == pytest.approx(trapped * lost)
            assert d["h_over_la_total"] == pytest.approx(
                d["h_over_la"] + d["h2_h_per_la"] + d["residue_h_per_la"])
            assert d["h_over_la_metal_hydride"] == pytest.approx(
                d["h_over_la"] + d["residue_h_per_la"])
            assert d["h2_fraction"] == pytest.approx(
                d["h2_h_per_la"] / (d["h2_h_per_la"] + d["h_over_la"]))
            assert 0.74 <= d["r_n_angstrom"] <= 0.78 and 1.2 <= d["r_nn_angstrom"] <= 1.3
            assert sum(d["h2_weights"]) == pytest.approx(1.0)
        assert 40e3 <= p["precursor_h_fwhm_hz"] <= 55e3
        residues = [d["residue_h_per_la"] for d in days[1:]]
        assert residues == sorted(residues, reverse=True)


# ----------------------------------------------------------------------------- physics
def test_pake_powder_fid_is_the_exact_average() -> None:
    """pake_decay (Fresnel closed form) against a brute-force powder average; its spectrum has
    the horns at +-(3/4) d (physics.md section 2: 427.1 kHz horn splitting at 0.75 A)."""
    from hydrofw_campaign.example.signals import dipolar_coupling_hz, pake_decay, pake_fid

    r = 0.75e-10
    d_hz = dipolar_coupling_hz(r)
    assert d_hz == pytest.approx(284.7e3, rel=1e-3)
    t = np.linspace(0, 20e-6, 41)
    u = (np.arange(200_000) + 0.5) / 200_000
    brute = np.cos(2 * np.pi * np.outer(t, 0.75 * d_hz * (3 * u**2 - 1))).mean(axis=1)
    np.testing.assert_allclose(pake_decay(t, r), brute, atol=2e-6)
    assert abs(pake_decay(np.array([3e-6]), r)[0]) < 0.25  # gone within ~2-3 us (section 9)
    fs, n = 8e6, 1 << 15
    fid = pake_fid(np.arange(n) / fs, [r], [1.0], 2e3)
    fid[0] *= 0.5
    spec = np.fft.fftshift(np.fft.fft(fid)).real
    freq = np.fft.fftshift(np.fft.fftfreq(n, 1 / fs))
    pos = freq[freq > 0][np.argmax(spec[freq > 0])]
    neg = freq[freq < 0][np.argmax(spec[freq < 0])]
    assert pos - neg == pytest.approx(427.1e3, abs=3e3)


def _ideal_builder(day: float, seed: int = 0):
    import attrs
    from hydrofw_campaign.example.cells import nmr_cells
    from hydrofw_campaign.example.consoles import CONSOLES
    from hydrofw_campaign.example.nmr import DayBuilder
    from hydrofw_campaign.example.receiver import IdealReceiver

    cell = attrs.evolve(nmr_cells(np.random.default_rng(seed))[0], residue_h_per_la_0=0.3)
    console = attrs.evolve(CONSOLES["bruker-topspin4"], receiver=IdealReceiver())
    names = {"fid": "zg", "satrec": "satrec_dac", "hahn": "hahnecho_dac",
             "solid_echo": "solidecho_dac"}
    start = cell.synthesized_at + dt.timedelta(days=day)
    return DayBuilder(cell, day, start, np.random.default_rng(seed), console=console,
                      sequence_names=names)


def test_h2_sits_under_every_1h_acquisition() -> None:
    """With an ideal receiver: the FID at t = 0 holds hydride + H2 + residue with one phase,
    and after 60 us only the hydride is left; saturation recovery carries H2 with its own T1;
    at the Hahn-echo top the unrefocused H2 is gone for 2 tau >= 50 us."""
    b = _ideal_builder(40.0)
    assert b.snr_h2 > 0.15 * b.snr_h and b.snr_residue > 0
    fid = b.h_fid()
    data, truth = fid.acquisition.data, fid.truth
    rot = np.exp(-1j * truth["receiver_phase_rad"])
    assert (data[0] * rot).real == pytest.approx(truth["snr_total_time_domain"], abs=4)
    assert abs((data[0] * rot).imag) < 4
    k = 60  # 60 us at 1 MHz: H2 and residue have decayed
    t_k = k * 1e-6
    hydride = truth["snr_time_domain"] * np.exp(
        2j * np.pi * truth["offset_from_carrier_hz"] * t_k - np.pi * truth["fwhm_hz"] * t_k)
    assert abs(data[k] * rot - hydride) < 4
    sat = b.satrec()
    t0 = sat.acquisition.data[:, 0] * np.exp(-1j * sat.truth["receiver_phase_rad"])
    expected = (np.asarray(sat.truth["amplitude_t0"]) + sat.truth["h2_amplitude_t0"]
                + np.asarray(sat.truth["residue_amplitude_t0"]))
    np.testing.assert_allclose(t0.real, expected, atol=4)
    assert 2e-3 <= sat.truth["t1_h2_s"] <= 6e-3
    hahn = b.hahn()
    top = hahn.acquisition.data[:, 0] * np.exp(-1j * hahn.truth["receiver_phase_rad"])
    h2_top = np.asarray(hahn.truth["h2_amplitude_at_echo_top"])
    assert np.all(np.abs(h2_top[1:]) < 0.05 * b.snr_h2)  # 2 tau >= 100 us
    np.testing.assert_allclose(
        top.real,
        np.asarray(hahn.truth["amplitude_t0"]) + h2_top
        + np.asarray(hahn.truth["residue_amplitude_at_echo_top"]), atol=4)


def test_no_h2_before_synthesis() -> None:
    b = _ideal_builder(-1.0)
    assert b.snr_h2 == 0.0 and b.snr_residue == 0.0
    fid = b.h_fid()
    assert fid.truth["fwhm_hz"] == b.cell.precursor_h_fwhm_hz
    rot = np.exp(-1j * fid.truth["receiver_phase_rad"])
    assert (fid.acquisition.data[0] * rot).real == pytest.approx(3.0 * b.snr_per_h, abs=4)


# ----------------------------------------------------------------------------- receivers
def test_bruker_dsp_delay_ringing_and_band_limit() -> None:
    """The FIR decimation filter delays t = 0 to point GRPDLY exactly, the step at t = 0 comes
    out at half height with Gibbs ringing around it, and content outside +-SW/2 is removed."""
    from hydrofw_campaign.example.receiver import DigitalFilterReceiver

    sw, amp = 1e6, 1e6
    for grpdly in (76.0, 67.98):
        rx = DigitalFilterReceiver(grpdly)
        tone = rx.acquire(lambda t: amp * np.exp(2j * np.pi * 50e3 * t), 512,
                          sw, np.random.default_rng(1))
        k = np.arange(300, 500)
        expected = amp * np.exp(2j * np.pi * 50e3 * (k - grpdly) / sw)
        assert np.max(np.abs(tone[k] - expected)) < 1e-3 * amp  # delay exactly GRPDLY points
        step = rx.acquire(lambda t: amp * np.ones_like(t, dtype=complex), 256, sw,
                          np.random.default_rng(2))
        g = int(grpdly)
        if grpdly == 76.0:
            # sum of the taps up to the centre: 1/2 + h_centre/2, h_centre ~ 1/DECIM = 1/8
            assert step[g].real == pytest.approx((0.5 + 0.5 / 8) * amp, rel=0.01)
        assert np.max(np.abs(step[g - 5 : g].real)) > 0.02 * amp  # pre-ringing before t = 0
        assert np.max(step[g : g + 6].real) > 1.05 * amp  # Gibbs overshoot just after
        assert np.max(np.abs(step[: g - 40])) < 1e-3 * amp + 6
    rx = DigitalFilterReceiver(76.0)
    out = rx.acquire(lambda t: amp * np.exp(2j * np.pi * 0.7 * sw * t), 512, sw,
                     np.random.default_rng(3))
    assert np.std(out[200:]) < 3  # only noise of sigma 1 per channel remains
    noise = rx.acquire(lambda t: 0 * t, 4096, sw, np.random.default_rng(4))
    assert np.std(noise.real) == pytest.approx(1.0, rel=0.05)


def test_varian_analog_filter_aliases_and_dead_time() -> None:
    """Out-of-band content folds back, attenuated by the Butterworth roll-off
    |H(f)| = 1/sqrt(1 + (f/fb)^(2n)); the first point is taken rof2 + alfa after the pulse."""
    from hydrofw_campaign.example.receiver import AnalogFilterReceiver

    sw, amp = 2e6, 1e5
    rx = AnalogFilterReceiver(dead_time_s=3.5e-6)
    f = 1.3e6  # beyond +SW/2: aliases to f - SW = -0.7 MHz
    out = rx.acquire(lambda t: amp * np.exp(2j * np.pi * f * t), 4096, sw,
                     np.random.default_rng(5))
    spec = np.abs(np.fft.fft(out[256:])) / out[256:].size
    freq = np.fft.fftfreq(out[256:].size, 1 / sw)
    assert freq[np.argmax(spec)] == pytest.approx(f - sw, abs=1e3)
    analog = 1 / math.sqrt(1 + (f / 1e6) ** 12)
    assert spec.max() / amp == pytest.approx(analog, rel=0.3)
    lorentz = rx.acquire(lambda t: amp * np.exp(-np.pi * 2e3 * t), 256, sw,
                         np.random.default_rng(6))
    # the first point is the signal 3.5 us after the pulse (less the filter's group delay)
    t_first = 3.5e-6 - rx.group_delay_s(sw)
    assert abs(lorentz[20]) == pytest.approx(amp * np.exp(-np.pi * 2e3 * (t_first + 10e-6)),
                                             rel=1e-3)
    noise = rx.acquire(lambda t: 0 * t, 4096, sw, np.random.default_rng(7))
    assert np.std(noise.real) == pytest.approx(1.0, rel=0.05)
    # the pulse ring-down adds ringdown_sigma to the worst point, and leaves the rest alone
    for width in (2e6, 5e5, 2e5):
        ringing = AnalogFilterReceiver(dead_time_s=3.5e-6, ringdown_sigma=8.0)
        diff = ringing.acquire(lambda t: 0 * t, 64, width, np.random.default_rng(8)) - (
            rx.acquire(lambda t: 0 * t, 64, width, np.random.default_rng(8)))
        assert np.max(np.abs(diff)) == pytest.approx(8.0)
        assert np.all(np.abs(diff[12:]) < 0.1)


def test_receiver_phases_and_carriers_vary(campaign) -> None:
    _, truth, _ = campaign
    phases = [e["receiver_phase_rad"] for c in truth["cells"].values() if c["kind"] == "nmr"
              for d in c["days"] for e in d["experiments"]]
    assert len(set(np.round(phases, 6))) == len(phases) and np.std(phases) > 1.0
    for c in (c for c in truth["cells"].values() if c["kind"] == "nmr"):
        offsets = [d["experiments"][0]["offset_from_carrier_hz"] for d in c["days"][1:]]
        assert np.all(np.abs(offsets) < 4e3) and np.std(offsets) > 300


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


def test_varian_echo_is_sampled_from_its_top() -> None:
    """A Hahn echo on the analog console: first point at the echo top (no dead time, no
    ring-down; the filter saw the echo's rising half), amplitudes = hydride + H2 tail."""
    from hydrofw_campaign.example.cells import nmr_cells
    from hydrofw_campaign.example.consoles import CONSOLES
    from hydrofw_campaign.example.nmr import DayBuilder

    cell = nmr_cells(np.random.default_rng(3))[2]
    names = {"fid": "s2pul", "satrec": "satrec", "hahn": "hahnecho", "solid_echo": "solidecho"}
    b = DayBuilder(cell, 40.0, cell.synthesized_at + dt.timedelta(days=40),
                   np.random.default_rng(1), console=CONSOLES["varian"], sequence_names=names)
    hahn = b.hahn()
    top = hahn.acquisition.data[:, 0] * np.exp(-1j * hahn.truth["receiver_phase_rad"])
    expected = np.asarray(hahn.truth["amplitude_t0"]) + hahn.truth["h2_amplitude_at_echo_top"]
    np.testing.assert_allclose(top.real, expected, atol=4.5)
    assert hahn.truth["first_point_time_s"] == 0.0 and "ringdown_sigma" not in hahn.truth
    fid = b.h_fid()
    assert fid.truth["first_point_time_s"] == 3.5e-6 and fid.truth["ringdown_sigma"] == 8.0


def test_a_subset_of_cells_is_written_exactly_as_in_the_whole_campaign(tmp_path) -> None:
    from hydrofw.errors import HydrofwError

    part = write_example_campaign(tmp_path / "part", seed=3, small=True, cells=("N4", "T1"))
    whole = write_example_campaign(tmp_path / "whole", seed=3, small=True)
    assert sorted(p.name for p in (part / "raw").iterdir()) == ["N4", "T1"]
    truth = json.loads((part / "ground_truth.json").read_text())
    assert sorted(truth["cells"]) == ["N4", "T1"]
    toml = (part / "campaign.toml").read_text()
    assert 'id = "N4"' in toml and 'id = "N1"' not in toml

    def files(folder: Path) -> dict[str, bytes]:
        found = (f for f in folder.rglob("*") if f.is_file())
        return {str(f.relative_to(folder)): f.read_bytes() for f in found}

    assert files(part / "raw" / "N4") == files(whole / "raw" / "N4")
    assert len(files(part / "raw" / "N4")) > 20
    with pytest.raises(HydrofwError, match="no cell"):
        write_example_campaign(tmp_path / "bad", seed=3, cells=("N9",))
