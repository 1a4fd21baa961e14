"""nmr.quantify: reciprocity spin counting both ways, CT factors, calibrated mode, bad input."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute
import pytest
from hydrofw_nmr.physics import Channel, snr_ratio_from_spin_ratio, spin_ratio_from_snr
from hydrofw_nmr.physics.quantify import attach_acquisition, detected_fraction

import hydrofw
from hydrofw import Lineshape, Spectrum, to_table
from hydrofw.errors import ParameterError, ValidationError
from hydrofw.nuclei import nucleus

H, LA = nucleus("1H"), nucleus("139La")
T0 = dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC)


def _per_unit(p: float) -> float:
    """SNR_H/SNR_La per unit H/La for equal settings, recomputed from the nuclear data."""
    return (
        (H.gamma_rad_s_t / LA.gamma_rad_s_t) ** p
        * H.spin_factor
        / LA.spin_factor
        * H.abundance_percent
        / LA.abundance_percent
    )


@pytest.mark.parametrize(("p", "physics_md"), [(3.0, 16.52), (2.75, 10.15), (2.0, 2.35)])
def test_snr_per_unit_ratio(p: float, physics_md: float) -> None:
    got = snr_ratio_from_spin_ratio(1.0, Channel("1H"), Channel("139La"), p_exponent=p)
    assert got == pytest.approx(_per_unit(p), rel=1e-12)
    assert got == pytest.approx(physics_md, abs=0.006)


@pytest.mark.parametrize(
    ("ratio", "detection", "physics_md"),
    [
        (3.1, "full", 51.2),
        (10.5, "full", 173.5),
        (3.1, "central_transition_nonselective", 269),
        (10.5, "central_transition_nonselective", 911),
        (3.1, "central_transition_selective", 1075),
        (10.5, "central_transition_selective", 3643),
    ],
)
def test_physics_md_section3_both_ways(ratio: float, detection: str, physics_md: float) -> None:
    la = Channel("139La", detection=detection)
    snr = snr_ratio_from_spin_ratio(ratio, Channel("1H"), la)
    factor = {
        "full": 1.0,
        "central_transition_nonselective": 21 / 4,
        "central_transition_selective": 21.0,
    }[detection]
    assert snr == pytest.approx(ratio * _per_unit(3.0) * factor, rel=1e-12)
    assert snr == pytest.approx(physics_md, rel=2e-3)
    back = spin_ratio_from_snr(snr, 1.0, Channel("1H"), la)
    assert back.ratio == pytest.approx(ratio, rel=1e-12)
    assert back.factors["detected_fraction_denominator"] == pytest.approx(1.0 / factor)


def test_central_transition_fractions() -> None:
    i = Fraction(7, 2)
    nonselective = (i + Fraction(1, 2)) ** 2 / (Fraction(2, 3) * i * (i + 1) * (2 * i + 1))
    assert nonselective == Fraction(4, 21)
    assert detected_fraction("139La", "central_transition_nonselective") == pytest.approx(
        float(nonselective)
    )
    assert detected_fraction("139La", "central_transition_selective") == pytest.approx(
        float(Fraction(3, 4) / (i * (i + 1)))
    )
    assert detected_fraction("139La", "central_transition_selective") == pytest.approx(1 / 21)
    with pytest.raises(ParameterError):
        detected_fraction("1H", "central_transition_selective")


def test_scans_bandwidth_and_errors() -> None:
    h = Channel("1H", n_scans=16, bandwidth_hz=1e6)
    la = Channel("139La", n_scans=1024, bandwidth_hz=5e5)
    r = spin_ratio_from_snr(200.0, 20.0, h, la, snr_numerator_err=4.0, snr_denominator_err=1.0)
    expected = 10.0 / _per_unit(3.0) * math.sqrt(1024 / 16) * math.sqrt(1e6 / 5e5)
    assert r.ratio == pytest.approx(expected, rel=1e-12)
    assert r.ratio_err == pytest.approx(expected * math.hypot(0.02, 0.05), rel=1e-12)
    assert r.factors["scans_factor"] == pytest.approx(8.0)
    assert r.factors["bandwidth_factor"] == pytest.approx(math.sqrt(2.0))


def _lineshape_table(rows: list[tuple[str, str, float, float, dt.datetime]]) -> pa.Table:
    records = [
        Lineshape(
            spectrum_id=f"s{k}",
            cell=cell,
            nucleus=nuc,
            snr_time=snr,
            days_since_synthesis=days,
            acquired_at=when,
            n_scans=64 if nuc == "1H" else 4096,
            spectral_width_hz=2e5,
        )
        for k, (cell, nuc, snr, days, when) in enumerate(rows)
    ]
    return to_table(records)


def test_first_principles_processor() -> None:
    h_snr = 150.0
    la_snr = h_snr / snr_ratio_from_spin_ratio(
        10.5, Channel("1H", n_scans=64), Channel("139La", n_scans=4096)
    )
    table = _lineshape_table(
        [("A", "1H", h_snr, 5.0, T0), ("A", "139La", la_snr, 5.0, T0 + dt.timedelta(hours=1))]
    )
    out = hydrofw.process("nmr.quantify", table).to_pylist()
    assert len(out) == 1
    row = out[0]
    assert row["ratio"] == pytest.approx(10.5, rel=1e-10)
    rel = math.hypot(1 / h_snr, 1 / la_snr)  # one noise unit on each SNR
    assert row["ratio_err"] == pytest.approx(10.5 * rel, rel=1e-9)
    assert row["mode"] == "first_principles"
    assert dict(row["factors"])["n_scans_denominator"] == 4096
    assert dict(row["factors"])["gamma_factor"] == pytest.approx(
        (LA.gamma_rad_s_t / H.gamma_rad_s_t) ** 3
    )
    assert (row["numerator_nucleus"], row["denominator_nucleus"]) == ("1H", "139La")


def test_calibrated_mode_recovers_ratio_with_unknown_channel_factors() -> None:
    """Coil efficiency, noise and the p exponent differ from what the user assumes: the LaH3
    reference (H/La = 3 before heating) calibrates them away."""
    true_h = Channel("1H", n_scans=64, bandwidth_hz=2e5, coil_efficiency=0.55, noise_factor=1.4)
    true_la = Channel(
        "139La", n_scans=4096, bandwidth_hz=2e5, coil_efficiency=1.3, noise_factor=0.9
    )
    snr_h_ref, snr_h = 300.0, 420.0
    la_ref = snr_h_ref / snr_ratio_from_spin_ratio(3.0, true_h, true_la, p_exponent=2.75)
    la_now = snr_h / snr_ratio_from_spin_ratio(10.5, true_h, true_la, p_exponent=2.75)
    rows = [
        ("A", "1H", snr_h_ref, -3.0, T0),
        ("A", "139La", la_ref, -3.0, T0),
        ("A", "1H", snr_h, 2.0, T0 + dt.timedelta(days=5)),
        ("A", "139La", la_now, 2.0, T0 + dt.timedelta(days=5, hours=2)),
    ]
    table = _lineshape_table(rows)
    naive = hydrofw.process("nmr.quantify", table).to_pylist()
    assert all(abs(r["ratio"] - 10.5) > 1.0 for r in naive if r["days_since_synthesis"] > 0)
    out = hydrofw.process(
        "nmr.quantify", table, mode="calibrated", reference_ratio=3.0, reference_ratio_err=0.2
    ).to_pylist()
    assert len(out) == 1  # the reference pair itself is not reported
    row = out[0]
    assert row["ratio"] == pytest.approx(10.5, rel=1e-10)
    rel = math.sqrt(
        sum((1 / s) ** 2 for s in (snr_h, la_now, snr_h_ref, la_ref)) + (0.2 / 3.0) ** 2
    )
    assert row["ratio_err"] == pytest.approx(10.5 * rel, rel=1e-9)
    assert dict(row["factors"])["reference_ratio"] == 3.0
    assert len(row["input_ids"]) == 4


def test_attach_acquisition_from_spectra() -> None:
    spectra = to_table(
        [
            Spectrum(
                nucleus=n,
                observe_frequency_hz=f,
                spectral_width_hz=sw,
                re=[1.0, 0.5],
                im=[0.0, 0.0],
                n_scans=ns,
                cell="A",
                acquired_at=T0,
            )
            for n, f, sw, ns in (("1H", 395e6, 2e5, 64), ("139La", 55.95e6, 5e5, 4096))
        ]
    )
    ids = spectra.column("id").to_pylist()
    lines = to_table(
        [
            Lineshape(spectrum_id=ids[0], nucleus="1H", cell="A", snr_time=100.0, acquired_at=T0),
            Lineshape(spectrum_id=ids[1], nucleus="139La", cell="A", snr_time=2.0, acquired_at=T0),
        ]
    )
    joined = attach_acquisition(lines, spectra)
    assert joined.column("n_scans").to_pylist() == [64, 4096]
    row = hydrofw.process("nmr.quantify", joined).to_pylist()[0]
    expected = 50.0 / _per_unit(3.0) * math.sqrt(4096 / 64) * math.sqrt(2e5 / 5e5)
    assert row["ratio"] == pytest.approx(expected, rel=1e-12)


def test_bad_input() -> None:
    table = _lineshape_table([("A", "1H", 100.0, 1.0, T0), ("A", "139La", 1.0, 1.0, T0)])
    with pytest.raises(ParameterError, match="n_scans"):
        hydrofw.process("nmr.quantify", table.drop_columns(["n_scans"]))
    with pytest.raises(ValidationError, match="no reference pair"):
        hydrofw.process("nmr.quantify", table, mode="calibrated", reference_ratio=3.0)
    with pytest.raises(ParameterError, match="reference_ratio"):
        hydrofw.process("nmr.quantify", table, mode="calibrated")
    bad = _lineshape_table([("A", "1H", float("nan"), 1.0, T0), ("A", "139La", 1.0, 1.0, T0)])
    with pytest.raises(ValidationError, match="snr_time"):
        hydrofw.process("nmr.quantify", bad)
    with pytest.raises(ParameterError):
        hydrofw.process(
            "nmr.quantify",
            table,
            denominator_detection="central_transition_selective",
            numerator_detection="central_transition_selective",
        )
    with pytest.raises(ValidationError):
        spin_ratio_from_snr(-1.0, 1.0, Channel("1H"), Channel("139La"))


def _decomposition(rows: list[tuple[str, float, float, float, float, dt.datetime]]) -> pa.Table:
    """nmr.decompose-like rows: (cell, hydride SNR, H2 SNR, broad SNR, days, when)."""
    from hydrofw.schema import conform

    records = []
    for k, (cell, hyd, h2, broad, days, when) in enumerate(rows):
        total = hyd + h2 + broad
        records.append(
            {
                "id": f"d{k}",
                "spectrum_id": f"fid{k}",
                "input_ids": [f"fid{k}"],
                "cell": cell,
                "nucleus": "1H",
                "acquired_at": when,
                "days_since_synthesis": days,
                "n_scans": 64,
                "spectral_width_hz": 2e5,
                "method": "nmr.decompose: test",
                "snr_hydride": hyd,
                "snr_hydride_err": 1.0,
                "snr_h2": h2,
                "snr_h2_err": 2.0,
                "snr_broad": broad,
                "snr_broad_err": 1.5,
                "snr_metal_hydride": hyd + broad,
                "snr_metal_hydride_err": 2.0,
                "snr_total": total,
                "snr_total_err": 2.5,
                "h2_fraction": h2 / total,
                "h2_fraction_err": 0.01,
                "flags": [],
            }
        )
    return conform(pa.Table.from_pylist(records), "decomposition")


def test_hydride_and_total_both_methods_in_one_run() -> None:
    """Before synthesis the cell holds LaH3 (broad line only, H/La = 3); later the hydride has
    lost hydrogen to H2: the metal-hydride H/La falls, the total-1H H/La stays at the start."""
    la = 40.0
    per_unit = snr_ratio_from_spin_ratio(
        1.0, Channel("1H", n_scans=64), Channel("139La", n_scans=4096)
    )
    ref_h = 3.0 * per_unit * la  # all broad (precursor)
    now_hyd, now_h2 = 8.0 * per_unit * la, 2.0 * per_unit * la  # 10 H/La in all, 8 in LaH_x
    when = T0 + dt.timedelta(days=5)
    lines = _lineshape_table(
        [
            ("A", "139La", la, -1.0, T0),
            ("A", "139La", la, 5.0, when),
            ("A", "1H", 999.0, 5.0, when),  # total-1H lineshape row: replaced by the decomposition
            ("B", "1H", 3.0 * per_unit * la, 5.0, when),
            ("B", "139La", la, 5.0, when),
        ]
    )
    dec = _decomposition([("A", 0.0, 0.0, ref_h, -1.0, T0), ("A", now_hyd, now_h2, 0.0, 5.0, when)])
    table = hydrofw_nmr_physics().with_decomposition(lines, dec)
    assert sorted(table.column("nucleus").to_pylist()).count("1H") == 3
    only_a = table.filter(pa.compute.equal(table.column("cell"), "A"))
    out = hydrofw.process(
        "nmr.quantify", only_a, mode="calibrated", reference_ratio=3.0, reference="before_synthesis"
    ).to_pylist()
    assert len(out) == 1  # the reference pair is not reported in calibrated mode
    a = next(r for r in out if r["cell"] == "A")
    assert a["counted"] == "metal_hydride" and a["flags"] == []
    assert a["ratio"] == pytest.approx(8.0, rel=1e-9)
    assert a["ratio_calibrated"] == pytest.approx(8.0, rel=1e-9)
    assert a["ratio_first_principles"] == pytest.approx(8.0, rel=1e-9)
    assert a["ratio_total_first_principles"] == pytest.approx(10.0, rel=1e-9)
    assert a["ratio_total_calibrated"] == pytest.approx(10.0, rel=1e-9)
    assert a["snr_numerator"] == pytest.approx(now_hyd)
    assert a["snr_numerator_total"] == pytest.approx(now_hyd + now_h2)
    assert a["h2_fraction"] == pytest.approx(0.2)
    assert a["ratio_err"] > a["ratio_first_principles_err"]  # plus the reference's errors
    # cell B has no decomposition: its lineshape total is counted, flagged, and B has no
    # reference pair in first-principles mode with a reference ratio
    fp = hydrofw.process("nmr.quantify", table, reference_ratio=3.0).to_pylist()
    b = next(r for r in fp if r["cell"] == "B")
    assert b["counted"] == "total" and set(b["flags"]) == {"no_decomposition", "no_reference"}
    assert b["ratio"] == pytest.approx(3.0, rel=1e-9) and math.isnan(b["ratio_calibrated"])
    hydride_only = hydrofw.process("nmr.quantify", table, count="hydride").to_pylist()
    assert next(r for r in hydride_only if r["cell"] == "A" and r["days_since_synthesis"] > 0)[
        "ratio"
    ] == pytest.approx(8.0, rel=1e-9)


def test_failed_decomposition_gives_a_flagged_nan_row() -> None:
    dec = _decomposition([("A", math.nan, math.nan, math.nan, 5.0, T0)])
    lines = _lineshape_table([("A", "139La", 40.0, 5.0, T0)])
    out = hydrofw.process(
        "nmr.quantify", hydrofw_nmr_physics().with_decomposition(lines, dec)
    ).to_pylist()
    assert math.isnan(out[0]["ratio"]) and "numerator_snr_not_positive" in out[0]["flags"]


def hydrofw_nmr_physics():  # noqa: ANN201 - the module, imported where used
    import hydrofw_nmr.physics as physics

    return physics


def test_failed_139la_fit_costs_its_session_only() -> None:
    """A 139La FID whose decomposition failed (NaN SNR) gives its session a NaN row flagged
    denominator_snr_not_positive; the cell's other sessions and their calibration stand (it
    used to fail nmr.quantify for the whole cell)."""
    from hydrofw.schema import conform, empty

    la = 40.0
    per_unit = snr_ratio_from_spin_ratio(
        1.0, Channel("1H", n_scans=64), Channel("139La", n_scans=4096)
    )
    days = (-1.0, 2.0, 5.0)
    hydride = _decomposition(
        [
            ("A", x * per_unit * la, 0.0, 0.0, d, T0 + dt.timedelta(days=d))
            for x, d in zip((3.0, 9.0, 8.0), days, strict=True)
        ]
    ).to_pylist()
    lanthanum = []
    for k, (d, snr) in enumerate(zip(days, (la, math.nan, la), strict=True)):
        row = dict(hydride[k], id=f"la{k}", spectrum_id=f"lafid{k}", nucleus="139La")
        row |= {"snr_hydride": snr, "snr_total": snr, "snr_metal_hydride": snr, "n_scans": 4096}
        lanthanum.append(row | {"acquired_at": T0 + dt.timedelta(days=d, hours=1)})
    dec = conform(pa.Table.from_pylist(hydride + lanthanum), "decomposition")
    table = hydrofw_nmr_physics().with_decomposition(empty("lineshape"), dec)
    out = hydrofw.process("nmr.quantify", table, reference_ratio=3.0).to_pylist()
    by_day = {r["days_since_synthesis"]: r for r in out}
    assert set(by_day) == {-1.0, 2.0, 5.0}
    failed = by_day[2.0]
    assert math.isnan(failed["ratio"]) and math.isnan(failed["ratio_calibrated"])
    assert "denominator_snr_not_positive" in failed["flags"]
    assert by_day[5.0]["ratio_calibrated"] == pytest.approx(8.0, rel=1e-9)
    assert by_day[5.0]["flags"] == []
