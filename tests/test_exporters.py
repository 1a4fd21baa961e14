"""Exporters: Parquet and Arrow IPC keep schema metadata and units; CSV of every table (arrays in
long form); CSDM for spectra; other stacks (DuckDB, polars) read the exported files."""

from __future__ import annotations

import numpy as np
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

import hydrofw
from hydrofw.errors import ExportError


def _spectra():
    return hydrofw.to_table(
        [
            hydrofw.Spectrum(
                nucleus="1H",
                observe_frequency_hz=395e6,
                spectral_width_hz=2e5,
                re=np.linspace(0, 1, 5) * i,
                im=-np.linspace(0, 1, 5),
                cell=f"DAC{i}",
            )
            for i in range(3)
        ]
    )


def _lineshapes():
    return hydrofw.to_table(
        [
            hydrofw.Lineshape(
                spectrum_id=f"s{i}",
                cell="DAC1",
                peak_hz=10.0 * i,
                fwhm_hz=1350.0 + i,
                fwhm_hz_err=5.0,
                input_ids=["a", "b"],
                flags=["x"],
            )
            for i in range(4)
        ]
    )


def test_parquet_and_arrow_keep_metadata(tmp_path):
    t = _spectra()
    hydrofw.export("parquet", t, tmp_path / "s.parquet")
    hydrofw.export("arrow", t, tmp_path / "s.arrow")
    back = pq.read_table(tmp_path / "s.parquet")
    assert back.schema.metadata[b"hydrofw.schema"] == b"spectrum"
    assert back.equals(t)
    with ipc.open_file(tmp_path / "s.arrow") as reader:
        assert reader.read_all().equals(t)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_duckdb_reads_the_same_values(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    t = _spectra()
    hydrofw.export("parquet", t, tmp_path / "s.parquet")
    rows = duckdb.sql(
        f"select cell, observe_frequency_hz, re[5] as last_re, len(im) as n "
        f"from read_parquet('{tmp_path / 's.parquet'}') order by cell"
    ).fetchall()
    assert rows == [(f"DAC{i}", 395e6, float(i), 5) for i in range(3)]


def test_polars_reads_the_same_values(tmp_path):
    pl = pytest.importorskip("polars")
    t = _lineshapes()
    hydrofw.export("parquet", t, tmp_path / "l.parquet")
    df = pl.read_parquet(tmp_path / "l.parquet")
    assert df["fwhm_hz"].to_list() == [1350.0, 1351.0, 1352.0, 1353.0]
    assert df["peak_hz"].to_list() == t.column("peak_hz").to_pylist()


def test_csv_for_results(tmp_path):
    hydrofw.export("csv", _lineshapes(), tmp_path / "l.csv")
    lines = (tmp_path / "l.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert '"fwhm_hz"' in header and len(lines) == 5
    assert '"a;b"' in lines[1]  # list<string> joined


# ----------------------------------------------------------------------------- issue 13
def _relaxation():
    return hydrofw.to_table(
        [
            hydrofw.RelaxationCurve(
                nucleus="1H",
                kind="T2_hahn_echo",
                delay_s=np.array([1e-4, 2e-4, 4e-4][: 2 + i]),
                amplitude=np.array([3.0, 2.0, 1.0][: 2 + i]),
                amplitude_err=np.array([0.1, 0.1, 0.1][: 2 + i]),
                cell=f"DAC{i}",
            )
            for i in range(2)
        ]
    )


def _read_csv(path):
    import pyarrow.csv as pacsv

    return pacsv.read_csv(path)


def test_csv_of_array_tables_is_long_form_and_round_trips(tmp_path):
    """Spectra: scalars in s.csv, re/im in long form (id, index, x, re, im) in s.arrays.csv;
    rebuilding the arrays by id gives the original values and axis."""
    t = _spectra()
    hydrofw.export("csv", t, tmp_path / "s.csv")
    scalars = _read_csv(tmp_path / "s.csv")
    assert scalars.num_rows == 3 and "re" not in scalars.column_names
    assert scalars.column("cell").to_pylist() == ["DAC0", "DAC1", "DAC2"]
    long = _read_csv(tmp_path / "s.arrays.csv")
    assert long.column_names[:3] == ["id", "index", "x"]
    for row in t.to_pylist():
        mine = long.filter(pa_equal(long, "id", row["id"]))
        assert mine.column("index").to_pylist() == list(range(5))
        np.testing.assert_allclose(mine.column("re").to_numpy(), row["re"])
        np.testing.assert_allclose(mine.column("im").to_numpy(), row["im"])
        x = row["x_start"] + row["x_step"] * np.arange(5)
        np.testing.assert_allclose(mine.column("x").to_numpy(), x)


def pa_equal(table, column, value):
    import pyarrow.compute as pc

    return pc.equal(table.column(column), value)


def test_csv_long_form_with_rows_of_different_lengths(tmp_path):
    t = _relaxation()
    hydrofw.export("csv", t, tmp_path / "r.csv")
    long = _read_csv(tmp_path / "r.arrays.csv")
    assert long.num_rows == 2 + 3  # one line per element of each row
    by_id = {}
    for r in long.to_pylist():
        by_id.setdefault(r["id"], []).append(r["delay_s"])
    assert [by_id[i] for i in t.column("id").to_pylist()] == [[1e-4, 2e-4], [1e-4, 2e-4, 4e-4]]


def test_csv_of_maps_and_string_lists(tmp_path):
    hydrofw.export("csv", _lineshapes(), tmp_path / "l.csv")
    back = _read_csv(tmp_path / "l.csv")
    assert back.column("input_ids").to_pylist() == ["a;b"] * 4
    assert not (tmp_path / "l.arrays.csv").exists()  # no array columns: one file


def test_csdm_round_trip(tmp_path):
    """A time-domain and a ppm spectrum through csdmpy: axis, complex values, metadata."""
    cp = pytest.importorskip("csdmpy")
    import json

    rows = [
        hydrofw.Spectrum(
            nucleus="1H", observe_frequency_hz=395e6, spectral_width_hz=2e5,
            re=np.linspace(0, 1, 6), im=-np.linspace(0, 2, 6), cell="DAC1",
        ),
        hydrofw.Spectrum(
            nucleus="139La", observe_frequency_hz=55.95e6, spectral_width_hz=1e5,
            re=np.arange(4.0), im=np.ones(4), domain="frequency", x_unit="ppm",
            x_start=100.0, x_step=-25.0, reference_frequency_hz=55.9e6, cell="DAC2",
        ),
    ]
    t = hydrofw.to_table(rows)
    hydrofw.export("csdm", t, tmp_path / "s.csdf")
    files = [tmp_path / "s-0000.csdf", tmp_path / "s-0001.csdf"]
    assert all(f.is_file() for f in files)
    for f, row in zip(files, t.to_pylist(), strict=True):
        data = cp.load(str(f))
        dim = data.dimensions[0]
        values = data.dependent_variables[0].components[0]
        np.testing.assert_allclose(values.real, row["re"])
        np.testing.assert_allclose(values.imag, row["im"])
        x = row["x_start"] + row["x_step"] * np.arange(len(row["re"]))
        if row["x_unit"] == "ppm":
            dim.to("ppm", "nmr_frequency_ratio")
            assert str(dim.coordinates.unit) == "ppm"
        np.testing.assert_allclose(dim.coordinates.value, x, rtol=1e-9, atol=1e-12)
        meta = json.loads(f.read_text())["csdm"]["application"]["org.hydrofw"]
        assert meta["id"] == row["id"] and meta["cell"] == row["cell"]
        assert meta["observe_frequency_hz"] == row["observe_frequency_hz"]


def test_csdm_refuses_non_spectra_and_unknown_extension_lists_known(tmp_path):
    with pytest.raises(ExportError, match="accepts spectrum"):
        hydrofw.export("csdm", _lineshapes(), tmp_path / "l.csdf")
    from hydrofw.builtin import exporter_for_path

    assert exporter_for_path("a.csdf") == "csdm" and exporter_for_path("a.CSV") == "csv"
    with pytest.raises(ExportError, match=r"unknown output extension '\.txt'.*\.csdf.*\.parquet"):
        exporter_for_path(tmp_path / "x.txt", strict=True)


def test_units_and_descriptions_in_parquet_for_pyarrow_and_duckdb(tmp_path):
    """Every column with a unit keeps it: Arrow field metadata (pyarrow) and the file's
    key-value metadata (DuckDB's parquet_kv_metadata)."""
    from hydrofw.parquetmeta import column_metadata

    t = _lineshapes()
    hydrofw.export("parquet", t, tmp_path / "l.parquet")
    back = pq.read_table(tmp_path / "l.parquet")
    assert back.schema.field("fwhm_hz").metadata[b"unit"] == b"Hz"
    assert b"description" in back.schema.field("fwhm_hz").metadata
    units = column_metadata(pq.read_metadata(tmp_path / "l.parquet").metadata)
    expected = {
        f.name: f.metadata[b"unit"].decode()
        for f in t.schema
        if f.metadata and b"unit" in f.metadata
    }
    assert units == expected and units["peak_hz"] == "Hz"
    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.sql(
        f"select decode(key), decode(value) from parquet_kv_metadata('{tmp_path / 'l.parquet'}') "
        "where decode(key) like 'hydrofw.%'"
    ).fetchall()
    kv = dict(rows)
    assert kv["hydrofw.unit.fwhm_hz"] == "Hz"
    assert kv["hydrofw.description.fwhm_hz"] == t.schema.field("fwhm_hz").metadata[
        b"description"
    ].decode()


def test_store_parts_carry_units_for_duckdb(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    store = hydrofw.open_store(tmp_path / "store")
    store.write(_spectra())
    part = store.parts("spectrum")[0]
    kv = dict(
        duckdb.sql(
            f"select decode(key), decode(value) from parquet_kv_metadata('{part}')"
        ).fetchall()
    )
    assert kv["hydrofw.unit.observe_frequency_hz"] == "Hz"
    assert pq.read_schema(part).field("dwell_s").metadata[b"unit"] == b"s"
