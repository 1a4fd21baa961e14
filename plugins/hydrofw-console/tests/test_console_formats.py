"""The two packaged console descriptions read the sample files the tests write."""

from __future__ import annotations

import datetime as dt
import zipfile

import numpy as np
import pyarrow.parquet as pq
import pytest

import hydrofw
from hydrofw.cli import main


def test_tabletop_values(tabletop, params):
    path, ints = tabletop
    p = params["tabletop"]
    records = list(hydrofw.read_records(path))
    assert [r.increment for r in records] == [0, 1, 2, 3]
    for record, row in zip(records, ints, strict=True):
        assert record.format == "console.tabletop-hdr"
        assert record.reader.startswith("hydrofw-console ")
        np.testing.assert_array_equal(record.data, row * p["scale"])
        assert record.nucleus == "1H"
        assert record.observe_frequency_hz == pytest.approx(p["freq_mhz"] * 1e6)
        assert record.dwell_s == pytest.approx(p["dwell_us"] * 1e-6)
        assert record.x_step == record.dwell_s
        assert record.spectral_width_hz == pytest.approx(1.0 / (p["dwell_us"] * 1e-6))
        assert record.n_points == p["points"]
        assert record.n_scans == p["scans"]
        assert record.receiver_gain == p["gain"]
        assert record.temperature_k == pytest.approx(p["temp_c"] + 273.15)
        assert record.pulse_program == "hahn_echo"
        assert record.acquired_at == dt.datetime(2024, 8, 27, 14, 3, 11, tzinfo=dt.UTC)
        assert "acquired_at_local_time" in record.flags
        assert record.array_variable == "tau" and record.array_unit == "s"
        assert record.parameters["freq"] == str(p["freq_mhz"])
    assert [r.array_value for r in records] == pytest.approx([d * 1e-3 for d in p["delays_ms"]])
    # the synthetic decay: |s(0)| = 1e6 exp(-tau/1 ms) * scale
    first = np.array([abs(r.data[0]) for r in records])
    expected = 0.5e6 * np.exp(-np.array(p["delays_ms"]))
    np.testing.assert_allclose(first, expected, atol=0.5)


def test_tabletop_folder_and_zip(tabletop, tmp_path):
    path, _ = tabletop
    by_file = [r.id for r in hydrofw.read_records(path)]
    assert [r.id for r in hydrofw.read_records(path.parent)] == by_file
    archive = tmp_path / "run.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in path.parent.iterdir():
            zf.write(f, f"run/{f.name}")
    assert [r.id for r in hydrofw.read_records(archive)] == by_file


def test_spinbox_values(spinbox, params):
    path, data = spinbox
    p = params["spinbox"]
    (record,) = hydrofw.read_records(path)
    assert record.format == "console.spinbox-single"
    np.testing.assert_array_equal(record.data, data.astype(np.complex128))
    assert record.nucleus == "139La"
    assert record.n_points == p["points"]  # from the file size
    assert record.spectral_width_hz == pytest.approx(p["bw_khz"] * 1e3)
    assert record.dwell_s == pytest.approx(2e-6)
    assert record.n_scans == p["averages"]
    assert record.temperature_k == p["temperature_k"]
    assert record.experiment == "La-H cell 3, day 12"
    assert record.acquired_at == dt.datetime(2024, 8, 27, 12, 3, 11, tzinfo=dt.UTC)
    assert "acquired_at_local_time" not in record.flags
    # T2 from the closed form: |s(t)| = 3.5 exp(-t/T2)
    t = record.x
    slope = np.polyfit(t[:50], np.log(np.abs(record.data[:50])), 1)[0]
    assert -1.0 / slope == pytest.approx(p["t2_s"], rel=1e-4)


def test_nucleus_override(spinbox):
    path, _ = spinbox
    (record,) = hydrofw.read_records(path, nucleus="63Cu")
    assert record.nucleus == "63Cu" and "nucleus_overridden" in record.flags
    assert record.parameters["Nucleus"] == "139La"


@pytest.mark.parametrize("kind", ["tabletop", "spinbox"])
def test_cli_read(kind, tabletop, spinbox, tmp_path):
    path = (tabletop if kind == "tabletop" else spinbox)[0]
    out = tmp_path / f"{kind}.parquet"
    assert main(["read", str(path), "--to", str(out)]) == 0
    table = pq.read_table(out)
    assert table.num_rows == (4 if kind == "tabletop" else 1)
    assert table.column("format")[0].as_py().startswith("console.")
