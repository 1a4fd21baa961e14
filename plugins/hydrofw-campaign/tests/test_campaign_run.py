"""The main job end to end: `hydrofw example` + `hydrofw run` on the bundled campaign, every
fitted quantity checked against the ground truth written beside the raw data.

Statistics: with dozens of values per quantity, a correct uncertainty puts about 95 % of them
within 2 sigma of the truth; the checks ask for >= 85 % within 2 sigma and >= 95 % within 6
sigma, and that the errors are not absurdly wide (median |z| > 0.15, i.e. sigma is not
inflated by an order of magnitude). Known, documented shortfalls carry their own threshold.
The slower test over many seeds (marked ``slow``) compares the reported sigma with the actual
scatter.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hydrofw
from hydrofw.cli import main

SEED = 20240827


def _run(directory: Path, seed: int = SEED) -> dict[str, Any]:
    assert main(["example", str(directory), "--seed", str(seed)]) == 0
    return hydrofw.run(directory)


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("campaign") / "example"
    summary = _run(root)
    truth = json.loads((root / "ground_truth.json").read_text())
    store = hydrofw.open_store(root / "store")
    return {"root": root, "summary": summary, "truth": truth, "store": store}


def _truth_day(truth: dict[str, Any], cell: str, days: float) -> dict[str, Any]:
    return min(truth["cells"][cell]["days"], key=lambda d: abs(d["days_since_synthesis"] - days))


def _z_scores(campaign: dict[str, Any], quantity: str, truth_key: str) -> np.ndarray:
    rows = campaign["store"].table("timeseries").to_pylist()
    z = []
    for r in rows:
        if r["quantity"] != quantity:
            continue
        day = _truth_day(campaign["truth"], r["cell"], r["days_since_synthesis"])
        assert abs(day["days_since_synthesis"] - r["days_since_synthesis"]) < 0.1
        assert r["value_err"] is not None and r["value_err"] > 0, r
        z.append((r["value"] - day[truth_key]) / r["value_err"])
    return np.asarray(z)


def test_run_leaves_store_and_report(campaign):
    summary, root = campaign["summary"], campaign["root"]
    assert summary["failed"] == [] and summary["skipped"] == []
    assert summary["rows_added"]["spectrum"] > 0 and summary["rows_added"]["transport"] > 0
    for table in ("lineshape", "relaxation_fit", "diffusion", "quantification", "tc",
                  "timeseries", "kinetics", "pake_fit", "cell", "campaign"):
        assert summary["results"].get(table, 0) > 0, table
    report = root / "report"
    for n in range(1, 6):  # Figs. 1-5 for every NMR cell (test_campaign_report checks them)
        assert len(list(report.glob(f"N?_fig{n}_*.png"))) == 4
    assert (report / "fig6_timeseries.png").is_file() and (report / "index.html").is_file()
    text = (report / "summary.md").read_text()
    assert "### Kinetics" in text and "H/La" in text and "t1_s (s)" in text


@pytest.mark.parametrize(
    "quantity, truth_key, within_2_sigma, within_6_sigma",
    [
        ("h_over_la", "h_over_la", 0.85, 0.95),
        ("la_shift_ppm", "la_shift_ppm", 0.85, 0.95),
        ("la_fwhm_hz", "la_fwhm_hz", 0.85, 0.95),
        # the 1H line sits on the broad H2 / precursor pedestal: its Voigt FWHM carries a
        # +0.3 % (4 Hz) bias against errors of ~2 Hz (documented shortfall)
        ("h_fwhm_hz", "h_fwhm_hz", 0.80, 0.95),
        ("h_shift_ppm", "h_shift_ppm", 0.85, 0.95),
        ("tc_onset_normalised", "tc_onset_normalised", 0.85, 0.95),
        # the molecular-H2 share of the solid echo (Pake fit with the exact lattice line)
        ("h2_fraction", "h2_fraction", 0.75, 0.95),
    ],
)
def test_time_series_match_the_truth(campaign, quantity, truth_key, within_2_sigma,
                                     within_6_sigma):
    z = _z_scores(campaign, quantity, truth_key)
    assert z.size >= (12 if quantity == "h2_fraction" else 40)  # weak-doublet days left out
    assert np.mean(np.abs(z) <= 2) >= within_2_sigma, np.round(z, 1)
    assert np.mean(np.abs(z) <= 6) >= within_6_sigma, np.round(z, 1)
    assert np.median(np.abs(z)) > 0.15, "errors absurdly wide"


def test_relaxation_times_match_the_truth(campaign):
    fits = campaign["store"].table("relaxation_fit").to_pylist()
    z = []
    for f in fits:
        day = _truth_day(campaign["truth"], f["cell"], f["days_since_synthesis"])
        for e in day["experiments"]:
            for key in ("t1_s", "t2_s"):
                if key in e and f.get(key) is not None:
                    z.append((f[key] - e[key]) / f[f"{key}_err"])
                    assert f["constrained"]
    z = np.asarray(z)
    assert z.size == len(fits) >= 16
    assert np.mean(np.abs(z) <= 2) >= 0.85 and np.all(np.abs(z) <= 6), np.round(z, 1)


def test_pake_distances_of_molecular_h2(campaign):
    """r_n ~ 0.74-0.78 and r_nn ~ 1.2-1.3 angstrom (H2 phase III, each cell its own) within
    0.02 angstrom wherever the doublets of the solid echo are resolved."""
    resolved = [r for r in campaign["store"].table("pake_fit").to_pylist()
                if "distance_unconstrained" not in (r["flags"] or [])]
    assert len(resolved) >= 10
    miss = []
    for r in resolved:
        day = _truth_day(campaign["truth"], r["cell"], r["days_since_synthesis"])
        if day["h2_fraction"] < 0.05:
            continue
        for d, true in zip(r["distance_angstrom"], (day["r_n_angstrom"], day["r_nn_angstrom"]),
                           strict=True):
            miss.append(abs(d - true))
    assert len(miss) >= 16 and np.mean(np.asarray(miss) <= 0.02) >= 0.9, np.round(miss, 3)


def test_decomposition_separates_h2_from_the_hydride(campaign):
    """Every 1H FID whose band holds the H2 pattern: the H2 fraction within 0.05 of the truth
    and, where the H2 fraction is >= 5 % and the distances are constrained, r_n and r_nn within
    0.02 A; a FID whose filter cut most of it away reports no H2 amount."""
    rows = [r for r in campaign["store"].table("decomposition").to_pylist()
            if r["nucleus"] == "1H" and r["days_since_synthesis"] > 0]
    assert len(rows) >= 40
    dfrac, z, dist = [], [], []
    for r in rows:
        day = _truth_day(campaign["truth"], r["cell"], r["days_since_synthesis"])
        if "h2_beyond_band" in (r["flags"] or []):  # the H2 amount is not measurable there
            assert r["h2_fraction"] is None or np.isnan(r["h2_fraction"])
            continue
        dfrac.append(r["h2_fraction"] - day["h2_fraction"])
        z.append(dfrac[-1] / r["h2_fraction_err"])
        constrained = "distances_unconstrained" not in (r["flags"] or [])
        if day["h2_fraction"] >= 0.05 and constrained and np.isfinite(r["r_n_angstrom"] or np.nan):
            dist += [abs(r["r_n_angstrom"] - day["r_n_angstrom"]),
                     abs(r["r_nn_angstrom"] - day["r_nn_angstrom"])]
    assert len(dfrac) >= 30
    assert np.mean(np.abs(dfrac) <= 0.05) >= 0.9, np.round(dfrac, 3)
    assert len(dist) >= 20 and np.mean(np.asarray(dist) <= 0.02) >= 0.9, np.round(dist, 3)


def test_tc_criteria_match_the_truth(campaign):
    tc = campaign["store"].table("tc").to_pylist()
    z = {k: [] for k in ("tc_onset_k", "tc_50_k", "tc_90_k", "tc_10_k")}
    for r in tc:
        day = _truth_day(campaign["truth"], r["cell"], r["days_since_synthesis"])
        sweeps = [s for s in day["sweeps"] if s["direction"] == r["sweep"]]
        sweep = min(sweeps, key=lambda s: abs(s["days_since_synthesis"]
                                              - r["days_since_synthesis"]))
        for key, values in z.items():
            values.append((r[key] - sweep[key]) / r[f"{key}_err"])
    for key, values in z.items():
        values = np.asarray(values)
        assert values.size >= 100
        assert np.mean(np.abs(values) <= 2) >= 0.85, (key, np.round(values, 1))


def test_kinetics_recover_the_model(campaign):
    truth = campaign["truth"]["cells"]
    rows = campaign["store"].table("kinetics").to_pylist()
    tc_rows = [r for r in rows if r["quantity"] == "tc_onset_k"]
    assert len(tc_rows) == 4
    for r in tc_rows:
        p = truth[r["cell"]]["parameters"]
        assert r["constrained"], r
        # + 0.1 K: the onset tangent's smoothing bias (~0.04 K, see docs/plugins/
        # hydrofw-transport.md) is common to every sweep, so the fit cannot average it away
        assert abs(r["x_inf"] - p["tc_inf_k"]) <= 3 * r["x_inf_err"] + 0.1
        assert abs(r["tau_days"] - p["tau_days"]) <= 3 * r["tau_days_err"]
        assert r["preferred_model"] == "exponential"
    for r in (r for r in rows if r["quantity"] == "tc_onset_normalised"):
        # every normalised point shares the first onset's error (fully correlated, so the
        # fit cannot see it): compare with that error added
        p = truth[r["cell"]]["parameters"]
        first = [t for t in campaign["store"].table("tc").to_pylist()
                 if t["cell"] == r["cell"] and t["sweep"] == "cooling"]
        first = min(first, key=lambda t: t["days_since_synthesis"])
        common = r["x_inf"] * first["tc_onset_k_err"] / first["tc_onset_k"]
        err = float(np.hypot(r["x_inf_err"], common))
        assert abs(r["x_inf"] - p["tc_onset_normalised_inf"]) <= 3 * err
    h_rows = [r for r in rows if r["quantity"] == "h_over_la"]
    assert len(h_rows) == 4
    for r in h_rows:
        p = truth[r["cell"]]["parameters"]
        # H/La falls: the linear rate is positive and below Model B's initial slope
        initial_slope = (p["h_over_la_0"] - p["h_over_la_inf"]) / p["tau_days"]
        assert 0 < r["rate_per_day"] < initial_slope + 3 * r["rate_per_day_err"]
        assert abs(r["x0"] - p["h_over_la_0"]) <= 3 * r["x0_err"]
        if r["constrained"]:
            # over 68 days with tau ~ 50 d the asymptote is partly an extrapolation: 4 sigma
            assert abs(r["x_inf"] - p["h_over_la_inf"]) <= 4 * r["x_inf_err"]
        else:
            assert r["x_inf_err"] > 0.3 * abs(r["x_inf"]) or r["tau_days"] > r["window_days"]


# a whole second analysis; ingest reuse is tested quickly in tests/test_run_store.py
@pytest.mark.slow
def test_second_run_adds_nothing(campaign):
    summary = hydrofw.run(campaign["root"])
    assert summary["rows_added"] == {"spectrum": 0, "transport": 0}
    for name, n in summary["results"].items():
        assert campaign["store"].table(name).num_rows >= n


def test_store_opens_in_duckdb_and_polars(campaign):
    duckdb = pytest.importorskip("duckdb")
    pl = pytest.importorskip("polars")
    store = campaign["root"] / "store"
    ours = campaign["store"].table("kinetics").sort_by([("cell", "ascending"),
                                                        ("quantity", "ascending")])
    sql = (
        "select cell, quantity, x_inf, x_inf_err "
        f"from read_parquet('{store}/kinetics/*.parquet') order by cell, quantity"
    )
    rows = duckdb.sql(sql).fetchall()
    assert [r[0] for r in rows] == ours.column("cell").to_pylist()
    assert [r[2] for r in rows] == ours.column("x_inf").to_pylist()
    df = pl.read_parquet(f"{store}/timeseries/*.parquet").sort(["cell", "quantity",
                                                                "days_since_synthesis"])
    ts = campaign["store"].table("timeseries").sort_by([("cell", "ascending"),
                                                        ("quantity", "ascending"),
                                                        ("days_since_synthesis", "ascending")])
    assert df["value"].to_list() == ts.column("value").to_pylist()


@pytest.mark.slow
def test_reported_sigma_matches_scatter_over_seeds(tmp_path):
    """Over 20 seeds, each quantity's reported sigma is within a factor 3 of the actual scatter
    of (value - truth), and the truth lies within 2 sigma for >= 85 % of the values."""
    per_quantity: dict[str, list[tuple[float, float]]] = {}
    quantities = ("h_over_la", "la_shift_ppm", "h_shift_ppm", "la_fwhm_hz", "h_fwhm_hz",
                  "h2_fraction", "tc_onset_normalised")
    for seed in range(20):
        root = tmp_path / f"s{seed}"
        _run(root, seed)
        truth = json.loads((root / "ground_truth.json").read_text())
        for r in hydrofw.open_store(root / "store").table("timeseries").to_pylist():
            if r["quantity"] in quantities and r["days_since_synthesis"] > 0:
                day = _truth_day(truth, r["cell"], r["days_since_synthesis"])
                per_quantity.setdefault(r["quantity"], []).append(
                    ((r["value"] - day[r["quantity"]]), r["value_err"]))
    assert set(per_quantity) == set(quantities)
    for quantity, pairs in per_quantity.items():
        dev, sig = np.array(pairs).T
        scatter_over_sigma = np.std(dev / sig)  # 1 when sigma describes the scatter
        assert 1 / 3 <= scatter_over_sigma <= 3, (quantity, scatter_over_sigma)
        assert np.mean(np.abs(dev) <= 2 * sig) >= 0.8, quantity


def test_diffusion_from_t1_matches_eq1_with_the_true_t1(campaign):
    """D = (3 pi / 10) gamma^4 hbar^2 N0 T1 / a (CGS) for the true T1 of each cell and day."""
    from scipy import constants

    gamma_cgs = constants.physical_constants["proton gyromag. ratio"][0] * 1e-4  # rad/(s G)
    hbar_cgs = constants.hbar * 1e7  # erg s
    rows = campaign["store"].table("diffusion").to_pylist()
    assert len(rows) >= 16
    z = []
    for r in rows:
        day = _truth_day(campaign["truth"], r["cell"], r["days_since_synthesis"])
        t1_true = next(e["t1_s"] for e in day["experiments"] if "t1_s" in e)
        a_cm = r["closest_distance_angstrom"] * 1e-8
        expected = (3 * np.pi / 10) * gamma_cgs**4 * hbar_cgs**2 * r["number_density_cm3"] \
            * t1_true / a_cm
        assert r["convention"] == "hbar" and r["prefactor"] == pytest.approx(3 * np.pi / 10)
        z.append((r["d_cm2_s"] - expected) / r["d_cm2_s_err"])
        assert 2e-8 < r["d_cm2_s"] < 3e-8  # LaH10 protons, T1 ~ 1.5 ms: physics.md section 1
    assert np.mean(np.abs(np.asarray(z)) <= 2) >= 0.85, np.round(z, 1)


def _console_cells(truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c: v["parameters"] for c, v in truth["cells"].items() if v["kind"] == "nmr"}


def test_console_clocks_give_true_utc(campaign):
    """The Varian cell's console clock runs at UTC+8 (campaign.toml timezone): every processed
    row carries the true UTC time of its file; Bruker cells keep their epoch clock."""
    import datetime as dt

    truth = campaign["truth"]
    when = {
        e["path"]: dt.datetime.fromisoformat(e["acquired_at"].replace("Z", "+00:00"))
        for c in truth["cells"].values()
        for d in c.get("days", [])
        for e in d.get("experiments", [])
        if "path" in e and "acquired_at" in e
    }
    root = campaign["root"].resolve()
    spectra = campaign["store"].table("spectrum").to_pylist()
    checked = {}
    for row in spectra:
        if not row["history"]:
            continue
        rel = str(Path(row["source_path"].split("!/")[0]).resolve().relative_to(root))
        if rel in when:
            assert abs((row["acquired_at"] - when[rel]).total_seconds()) < 1.0, rel
            checked[row["cell"]] = checked.get(row["cell"], 0) + 1
    offsets = {c: p.get("clock_utc_offset_h", 0.0) for c, p in _console_cells(truth).items()}
    assert any(offsets.values()), "the example has a cell with a local console clock"
    for cell, offset in offsets.items():
        assert checked.get(cell, 0) > 10, (cell, offset)


def test_t2_of_tau_and_full_echo_lists(campaign):
    """Varian tau arrays (tau, doubled) and Bruker vdlists (2 tau as written) both give T2."""
    truth = campaign["truth"]
    lists = {c: p.get("echo_list") for c, p in _console_cells(truth).items()}
    assert {"tau", "full"} <= set(lists.values()), lists
    ratios: dict[str, list[float]] = {}
    for f in campaign["store"].table("relaxation_fit").to_pylist():
        if f["t2_s"] is None:
            continue
        day = _truth_day(truth, f["cell"], f["days_since_synthesis"])
        true = [e["t2_s"] for e in day["experiments"] if "t2_s" in e]
        ratios.setdefault(f["cell"], []).append(f["t2_s"] / true[0])
    for cell, r in ratios.items():
        assert abs(np.median(r) - 1.0) < 0.03, (cell, lists.get(cell), np.round(r, 3))


def test_dac_shielding_from_the_cells_own_copper_lines(campaign):
    truth = campaign["truth"]
    rows = campaign["store"].table("dac_shielding").to_pylist()
    assert {r["cell"] for r in rows} == set(_console_cells(truth))
    z = []
    for r in rows:
        day = _truth_day(truth, r["cell"], r["days_since_synthesis"])
        if abs(day["days_since_synthesis"] - r["days_since_synthesis"]) > 0.3:
            continue
        assert r["sigma_dac_ppm_err"] > 0 and r["cu_ambient_frequency_hz_err"] == 20.0
        z.append((r["sigma_dac_ppm"] - day["sigma_dac_ppm"]) / r["sigma_dac_ppm_err"])
    z = np.asarray(z)
    assert z.size >= 40
    assert np.mean(np.abs(z) <= 2) >= 0.85, np.round(z, 1)


def test_diffusion_in_both_conventions(campaign):
    rows = campaign["store"].table("diffusion").to_pylist()
    assert rows
    for r in rows:
        if r["d_hbar_cm2_s"] is None:
            assert "nucleus_not_spin_half" in r["flags"]
            continue
        assert r["d_planck_h_cm2_s"] / r["d_hbar_cm2_s"] == pytest.approx(4 * np.pi**2)
        assert r["d_cm2_s"] == pytest.approx(r["d_hbar_cm2_s"])
