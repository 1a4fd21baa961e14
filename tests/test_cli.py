"""The command line: exit codes 0/1/2, one-line errors naming the file, quiet when piped."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq

import hydrofw
from hydrofw.cli import main


def _run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "hydrofw.cli", *args], capture_output=True, text=True, cwd=cwd
    )


def test_usage_error_exits_2():
    res = _run("read")
    assert res.returncode == 2 and "usage:" in res.stderr
    assert _run("frobnicate").returncode == 2


def test_data_error_exits_1_with_one_line_naming_the_file(tmp_path):
    bad = tmp_path / "garbage.bin"
    bad.write_bytes(b"\x00" * 10)
    res = _run("read", str(bad), "--to", str(tmp_path / "o.parquet"))
    assert res.returncode == 1
    lines = [x for x in res.stderr.splitlines() if x.startswith("hydrofw:")]
    assert len(lines) == 1 and lines[0].startswith("hydrofw: error:") and "garbage.bin" in lines[0]
    assert "Traceback" not in res.stderr
    assert res.stdout == "" and not (tmp_path / "o.parquet").exists()


def test_plugins_json_lists_the_core():
    res = _run("plugins", "--json")
    assert res.returncode == 0
    names = {p["name"] for p in json.loads(res.stdout)}
    assert "hydrofw" in names


def test_export_from_store(tmp_path, capsys):
    store = hydrofw.open_store(tmp_path / "store")
    store.write(
        hydrofw.to_table(
            [
                hydrofw.Spectrum(
                    nucleus="1H",
                    observe_frequency_hz=4e8,
                    spectral_width_hz=1e4,
                    re=np.ones(4),
                    im=np.zeros(4),
                )
            ]
        )
    )
    assert (
        main(
            [
                "export",
                str(tmp_path / "store"),
                "--table",
                "spectrum",
                "--to",
                str(tmp_path / "out.arrow"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "export",
                str(tmp_path / "store"),
                "--table",
                "spectrum",
                "--to",
                str(tmp_path / "out.parquet"),
            ]
        )
        == 0
    )
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 1
    assert (
        main(
            [
                "export",
                str(tmp_path / "nowhere"),
                "--table",
                "spectrum",
                "--to",
                str(tmp_path / "x.parquet"),
            ]
        )
        == 1
    )
    assert "no such store" in capsys.readouterr().err


def test_run_without_raw_folder_is_a_data_error(tmp_path, capsys):
    assert main(["run", str(tmp_path)]) == 1
    assert "no raw/ folder" in capsys.readouterr().err
