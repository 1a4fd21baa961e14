"""Exporters: Parquet and Arrow IPC keep schema metadata; CSV for scalar results; other stacks
(DuckDB, polars) read the exported files with the same values."""

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


def test_csv_for_results_and_refused_for_arrays(tmp_path):
    hydrofw.export("csv", _lineshapes(), tmp_path / "l.csv")
    lines = (tmp_path / "l.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert '"fwhm_hz"' in header and len(lines) == 5
    assert '"a;b"' in lines[1]  # list<string> joined
    with pytest.raises(ExportError, match="CSV holds scalar columns only.*'spectrum'.*re, im"):
        hydrofw.export("csv", _spectra(), tmp_path / "s.csv")
    assert not (tmp_path / "s.csv").exists()
