"""SIM921 log reader: the variants real labs write, sweeps, time, header settings, ids."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hydrofw_transport import sim921

import hydrofw
from hydrofw.errors import FormatError, ParameterError
from hydrofw.source import open_source

UTC = dt.UTC


def _rows(t: np.ndarray, r: np.ndarray) -> list[tuple[str, str]]:
    return [(f"{a:.4f}", f"{b:.6e}") for a, b in zip(t, r, strict=True)]


def test_labview_tsv_two_sweeps(
    rt_log: Path, cooling_warming: tuple[np.ndarray, np.ndarray]
) -> None:
    table = hydrofw.read(rt_log, format="sim921")
    assert table.num_rows == 2
    assert table.column("sweep").to_pylist() == ["cooling", "warming"]
    assert table.column("format").to_pylist() == ["sim921", "sim921"]
    assert table.column("instrument")[0].as_py() == "SRS SIM921"
    assert table.column("excitation_a").to_pylist() == pytest.approx([1e-4, 1e-4])
    assert table.column("frequency_hz").to_pylist() == pytest.approx([13.7, 13.7])
    params = table.column("parameters")[0].as_py()
    decoded = dict(params)
    assert decoded["RANG"] == "4" and float(decoded["hydrofw:range_ohm"]) == pytest.approx(200.0)
    assert float(decoded["hydrofw:time_constant_s"]) == pytest.approx(3.0)
    # the turning point at 100 K is dropped, each sweep keeps most of its 400 points
    t_cool = np.asarray(table.column("temperature_k")[0].as_py())
    t_warm = np.asarray(table.column("temperature_k")[1].as_py())
    assert 350 < t_cool.size < 400 and 350 < t_warm.size < 400
    assert t_cool[0] == pytest.approx(200.0) and t_warm[-1] == pytest.approx(200.0)
    assert t_cool.min() > 100.0 and t_warm.min() > 100.0
    # acquired_at is the first point of each sweep (header start + elapsed seconds)
    start = dt.datetime(2024, 5, 1, 12, tzinfo=UTC)
    acquired = table.column("acquired_at").to_pylist()
    assert acquired[0] == start
    first_warm_index = int(np.flatnonzero(np.isclose(cooling_warming[0], t_warm[0]))[-1])
    assert acquired[1] == start + dt.timedelta(seconds=2.0 * first_warm_index)
    time_s = np.asarray(table.column("time_s")[1].as_py())
    assert time_s[0] == 0.0 and np.allclose(np.diff(time_s), 2.0)


def test_ids_stable_and_distinct(rt_log: Path) -> None:
    first = hydrofw.read(rt_log).column("id").to_pylist()
    second = hydrofw.read(rt_log).column("id").to_pylist()
    assert first == second and len(set(first)) == 2


def test_sniff_prefers_sim921_for_rt_logs(rt_log: Path, write_log: Callable[..., Path]) -> None:
    assert sim921.sniff(open_source(rt_log)) > 0.8
    other = write_log("prices.csv", [], "date,price,volume", [("2024-01-01", 3, 4)] * 5, ",")
    assert sim921.sniff(open_source(other)) == 0.0
    with pytest.raises(FormatError, match=r"prices\.csv.*no temperature or resistance column"):
        hydrofw.read(other, format="sim921")


def test_pymeasure_csv_kohm_iso_time(
    write_log: Callable[..., Path], rt_model: Callable[..., np.ndarray]
) -> None:
    t = np.linspace(180.0, 120.0, 300)
    r_kohm = rt_model(t) * 2.5  # kOhm
    start = dt.datetime(2024, 6, 2, 8, 30, tzinfo=UTC)
    stamps = [
        (start + dt.timedelta(seconds=5 * i)).isoformat().replace("+00:00", "Z")
        for i in range(t.size)
    ]
    header = [
        "#Procedure: <__main__.RTProcedure>",
        "#Parameters:",
        "#\tExcitation current:\t0.0001 A",
        "#\tFrequency:\t15.9 Hz",
        "#Data:",
    ]
    rows = [(s, f"{a:.4f}", f"{b:.6f}") for s, a, b in zip(stamps, t, r_kohm, strict=True)]
    path = write_log(
        "pymeasure.csv", header, "Timestamp,Temperature (K),Resistance (kOhm)", rows, ","
    )
    table = hydrofw.read(path)
    assert table.num_rows == 1 and table.column("sweep")[0].as_py() == "cooling"
    r = np.asarray(table.column("resistance_ohm")[0].as_py())
    assert r == pytest.approx(rt_model(t) * 2500.0, abs=1e-3)  # 6 decimals of kOhm
    assert table.column("acquired_at")[0].as_py() == start
    assert table.column("time_s")[0].as_py()[-1] == pytest.approx(5.0 * (t.size - 1))
    assert table.column("excitation_a")[0].as_py() == pytest.approx(1e-4)
    assert table.column("frequency_hz")[0].as_py() == pytest.approx(15.9)


def test_qcodes_like_header_in_comments_epoch_time(
    write_log: Callable[..., Path], rt_model: Callable[..., np.ndarray]
) -> None:
    t = np.linspace(120.0, 180.0, 200)
    epoch0 = 1_714_564_800.0  # 2024-05-01T12:00:00Z
    header = [
        "# time_s\tlakeshore_temperature\tsim921_resistance",
        '# "time"\t"Temperature"\t"Resistance"',
        f"# {t.size}",
    ]
    rows = [
        (f"{epoch0 + 3 * i:.3f}", f"{a:.4f}", f"{b:.6e}")
        for i, (a, b) in enumerate(zip(t, rt_model(t), strict=True))
    ]
    path = write_log("qcodes.dat", header, None, rows)
    table = hydrofw.read(path, format="sim921")
    assert table.column("sweep")[0].as_py() == "warming"
    assert table.column("acquired_at")[0].as_py() == dt.datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_labview_date_and_time_columns(
    write_log: Callable[..., Path], rt_model: Callable[..., np.ndarray]
) -> None:
    t = np.linspace(120.0, 180.0, 40)
    rows = [
        ("2024/05/01", f"12:00:{i:02d}.5", f"{a:.4f}", f"{b:.6e}")
        for i, (a, b) in enumerate(zip(t, rt_model(t), strict=True))
    ]
    header = ["LabVIEW Measurement", "Date\t2024/05/01", "Time\t12:00:00.5"]
    path = write_log("lv_dt.txt", header, "Date\tTime\tT (K)\tR (Ohm)", rows)
    table = hydrofw.read(path, format="sim921")
    assert table.column("acquired_at")[0].as_py() == dt.datetime(
        2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC
    )
    assert table.column("time_s")[0].as_py()[-1] == pytest.approx(39.0)


def test_elapsed_time_anchored_at_labview_header(
    write_log: Callable[..., Path], rt_model: Callable[..., np.ndarray]
) -> None:
    t = np.linspace(120.0, 180.0, 40)
    rows = [
        (f"{i * 0.5:.1f}", f"{a:.4f}", f"{b:.6e}")
        for i, (a, b) in enumerate(zip(t, rt_model(t), strict=True))
    ]
    header = ["Date\t2012/11/09", "Time\t15:49:25.1711249351501464844", "***End_of_Header***"]
    path = write_log("lv_elapsed.txt", header, "X_Value (s)\tT (K)\tR (Ohm)", rows)
    acquired = hydrofw.read(path, format="sim921").column("acquired_at")[0].as_py()
    assert acquired == dt.datetime(2012, 11, 9, 15, 49, 25, 171124, tzinfo=UTC)


def test_labview_epoch_seconds(
    write_log: Callable[..., Path], rt_model: Callable[..., np.ndarray]
) -> None:
    t = np.linspace(120.0, 180.0, 50)
    labview0 = 1_714_564_800.0 + 2_082_844_800.0
    rows = [
        (f"{labview0 + i:.3f}", f"{a:.4f}", f"{b:.6e}")
        for i, (a, b) in enumerate(zip(t, rt_model(t), strict=True))
    ]
    path = write_log("lv.txt", [], "Time\tTemperature_K\tResistance_Ohm", rows)
    table = hydrofw.read(path, format="sim921")
    assert table.column("acquired_at")[0].as_py() == dt.datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert "labview_epoch" in table.column("flags")[0].as_py()


def test_naive_times_in_given_timezone(
    write_log: Callable[..., Path], rt_model: Callable[..., np.ndarray]
) -> None:
    t = np.linspace(120.0, 180.0, 30)
    rows = [
        (f"2024-05-01 14:00:{i:02d}", f"{a:.4f}", f"{b:.6e}")
        for i, (a, b) in enumerate(zip(t, rt_model(t), strict=True))
    ]
    path = write_log("naive.csv", [], "time,T_K,R_ohm", rows, ",")
    table = hydrofw.read(path, format="sim921", timezone="Europe/Berlin")
    assert table.column("acquired_at")[0].as_py() == dt.datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert "time_zone_assumed:Europe/Berlin" in table.column("flags")[0].as_py()
    with pytest.raises(ParameterError, match="Mars/Olympus"):
        hydrofw.read(path, format="sim921", timezone="Mars/Olympus")


@pytest.mark.parametrize(
    ("unit", "scale"), [("mOhm", 1e-3), ("MOhm", 1e6), ("kΩ", 1e3), ("ohm", 1.0), ("Ω", 1.0)]
)
def test_resistance_unit_prefixes(write_log: Callable[..., Path], unit: str, scale: float) -> None:
    t = np.linspace(100.0, 110.0, 20)
    path = write_log(
        "u.csv", [], f"T [K];Resistance [{unit}]", [(f"{a:.3f}", "2.5") for a in t], ";"
    )
    r = hydrofw.read(path, format="sim921").column("resistance_ohm")[0].as_py()
    assert r == pytest.approx([2.5 * scale] * t.size)


def test_raw_replies_framing_overload_and_blank_lines(
    write_log: Callable[..., Path], rt_model: Callable[..., np.ndarray]
) -> None:
    t = np.linspace(160.0, 140.0, 40)
    r = rt_model(t)
    cells = [f"{v:+.5E}" for v in r]
    cells[3] = f"MSG 1,{r[3]:+.5E}"
    payload = f"{r[4]:+.5E}"
    cells[4] = f"#2{len(payload):02d}{payload}"
    cells[10], cells[11], cells[12], cells[13] = "OVLD", "+9.9E37", "", "TIMEOUT"
    lines = ["# SIM921 raw replies (RVAL?)", "T (K)\tRVAL? (Ohm)"]
    for k, (a, c) in enumerate(zip(t, cells, strict=True)):
        lines.append(f"{a:.4f}\t{c}")
        if k % 9 == 0:
            lines.append("")  # a timeout wrote an empty line
    path = write_log("raw.tsv", lines, None, [])
    table = hydrofw.read(path, format="sim921")
    got = np.asarray(table.column("resistance_ohm")[0].as_py())
    assert got[3] == pytest.approx(r[3], rel=1e-5) and got[4] == pytest.approx(r[4], rel=1e-5)
    assert np.isnan(got[10:14]).all() and np.isfinite(np.delete(got, range(10, 14))).all()
    flags = table.column("flags")[0].as_py()
    assert "overload_points:2" in flags and "missing_points:2" in flags


def test_whitespace_columns_with_spaces_in_names(
    write_log: Callable[..., Path], rt_model: Callable[..., np.ndarray]
) -> None:
    t = np.linspace(140.0, 160.0, 30)
    rows = [(f"{a:10.4f}", f"{b:14.6e}", "   1.0E-04") for a, b in zip(t, rt_model(t), strict=True)]
    path = write_log(
        "ws.dat", ["% whitespace log"], "T (K)   R (Ohm)   Excitation (A)", rows, "   "
    )
    table = hydrofw.read(path, format="sim921")
    assert table.column("temperature_k")[0].as_py() == pytest.approx(t, abs=1e-4)
    assert table.column("excitation_a")[0].as_py() == pytest.approx(1e-4)


def test_user_column_mapping_and_units(
    write_log: Callable[..., Path], rt_model: Callable[..., np.ndarray]
) -> None:
    t = np.linspace(140.0, 160.0, 30)
    rows = [
        (f"{a + 5:.4f}", f"{a:.4f}", "7", f"{b:.6e}") for a, b in zip(t, rt_model(t), strict=True)
    ]
    path = write_log("custom.csv", [], "Tprobe,Tsample,R1,R2", rows, ",")
    table = hydrofw.read(
        path,
        format="sim921",
        columns={"temperature": "Tsample", "resistance": "R2"},
        units={"resistance": "kOhm"},
    )
    assert table.column("temperature_k")[0].as_py() == pytest.approx(t, abs=1e-4)
    assert table.column("resistance_ohm")[0].as_py() == pytest.approx(rt_model(t) * 1e3, rel=1e-6)
    by_index = hydrofw.read(path, format="sim921", columns={"temperature": 1, "resistance": 3})
    assert by_index.column("resistance_ohm")[0].as_py() == pytest.approx(rt_model(t), rel=1e-6)
    with pytest.raises(FormatError, match=r"custom\.csv.*'Rx': no such column"):
        hydrofw.read(path, format="sim921", columns={"temperature": "Tsample", "resistance": "Rx"})
    with pytest.raises(ParameterError, match="unknown column role 'pressure'"):
        hydrofw.read(path, format="sim921", columns={"pressure": "R1"})
    with pytest.raises(ParameterError, match="not a resistance unit"):
        hydrofw.read(path, format="sim921", units={"resistance": "K"})


def test_celsius_and_millikelvin_units(write_log: Callable[..., Path]) -> None:
    path = write_log(
        "c.csv",
        [],
        "Temperature (°C),R (Ohm)",
        [(f"{c:.2f}", "1") for c in np.linspace(-100, -90, 10)],
        ",",
    )
    t = hydrofw.read(path, format="sim921").column("temperature_k")[0].as_py()
    assert t[0] == pytest.approx(173.15)
    path = write_log(
        "mk.csv", [], "T (mK),R (Ohm)", [(f"{m:.1f}", "1") for m in np.linspace(20, 300, 10)], ","
    )
    assert hydrofw.read(path, format="sim921").column("temperature_k")[0].as_py()[
        -1
    ] == pytest.approx(0.3)


def test_header_sim921_codes_and_iexc(write_log: Callable[..., Path]) -> None:
    header = ["# EXCI 5", "# MODE 1", "# IEXC? 1.0E-04", "# FREQ 70"]
    path = write_log(
        "codes.tsv",
        header,
        "T (K)\tR (Ohm)",
        [(f"{a:.2f}", "1.0") for a in np.linspace(10, 20, 12)],
    )
    table = hydrofw.read(path, format="sim921")
    params = dict(table.column("parameters")[0].as_py())
    assert float(params["hydrofw:excitation_v"]) == pytest.approx(1e-3)
    assert params["hydrofw:mode"] == "CURRENT"
    assert table.column("excitation_a")[0].as_py() == pytest.approx(1e-4)
    assert table.column("frequency_hz")[0].as_py() == pytest.approx(70.0)
    assert "frequency_outside_sim921_range" in table.column("flags")[0].as_py()


def test_log_inside_zip(tmp_path: Path, rt_log: Path) -> None:
    archive = tmp_path / "campaign.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(rt_log, "day3/cell1_rt.tsv")
    source = open_source(archive).child("cell1_rt.tsv")
    records = list(sim921.read(source))
    assert [r.sweep for r in records] == ["cooling", "warming"]
    assert records[0].source_path.endswith("campaign.zip!/day3/cell1_rt.tsv")


def test_isothermal_log_is_one_flagged_row(write_log: Callable[..., Path]) -> None:
    rng = np.random.default_rng(3)
    rows = [(f"{150 + rng.normal(0, 0.01):.4f}", "1.0") for _ in range(50)]
    table = hydrofw.read(write_log("hold.csv", [], "T (K),R (Ohm)", rows, ","), format="sim921")
    assert table.num_rows == 1 and "no_sweep_found" in table.column("flags")[0].as_py()


def test_min_span_option(
    write_log: Callable[..., Path], triangle: Callable[..., np.ndarray]
) -> None:
    t = triangle(100, 4, 100.0, 101.5)  # four legs of only 1.5 K
    path = write_log("small.csv", [], "T (K),R (Ohm)", [(f"{a:.4f}", "1") for a in t], ",")
    assert hydrofw.read(path, format="sim921").num_rows == 1
    assert hydrofw.read(path, format="sim921", min_span_k=1.0).num_rows == 4
    with pytest.raises(ParameterError, match="min_span_k"):
        hydrofw.read(path, format="sim921", min_span_k=-1)
