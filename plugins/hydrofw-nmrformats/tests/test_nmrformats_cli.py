"""``hydrofw read PATH --to out.parquet`` for every format of this plugin."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

import hydrofw
from hydrofw.cli import main

DATASETS = [
    ("bruker/topspin13-odnp-1h-15mhz-t1-ser/28", "bruker", 8),
    ("bruker/xwinnmr26-1h-400/1/fid", "bruker", 1),
    ("tecmag/tnt1005-dnplab-1d/1D.tnt", "tecmag", 3),
    ("varian/inova-31p-162-array24/test1.fid", "varian", 24),
    ("jcampdx/bruker-linked-fid-ft-1h-600/bruker_fid_ft.jdx", "jcampdx", 2),
]


@pytest.mark.parametrize(("rel", "fmt", "rows"), DATASETS)
def test_cli_read_to_parquet(real_data, tmp_path, capsys, rel, fmt, rows):
    out = tmp_path / "out.parquet"
    assert main(["read", str(real_data / rel), "--to", str(out)]) == 0
    table = pq.read_table(out)
    assert table.num_rows == rows
    assert set(table.column("format").to_pylist()) == {fmt}
    assert table.schema.metadata[b"hydrofw.schema"] == b"spectrum"
    (first,) = hydrofw.from_table(table.slice(0, 1))
    (direct,) = list(hydrofw.read_records(real_data / rel))[:1]
    np.testing.assert_array_equal(first.re, direct.re)
    assert first.id == direct.id
    assert f"{rows} rows" in capsys.readouterr().err


def test_cli_nucleus_override_option(real_data, tmp_path):
    out = tmp_path / "odnp.parquet"
    path = real_data / "bruker/topspin13-odnp-1h-15mhz-t1-ser/28"
    assert main(["read", str(path), "--to", str(out), "-o", "nucleus=1H"]) == 0
    assert set(pq.read_table(out).column("nucleus").to_pylist()) == {"1H"}


def test_cli_data_error_exit_code(tmp_path, capsys):
    bad = tmp_path / "bad.tnt"
    bad.write_bytes(b"TNT1.005" + b"\x00" * 10)
    assert main(["read", str(bad), "--to", str(tmp_path / "x.parquet")]) == 1
    assert "bad.tnt" in capsys.readouterr().err
