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


# ----------------------------------------------------------------------------- issue 13
def test_quiet_and_verbose_flags_before_or_after_the_command(tmp_path, capsys):
    from hydrofw.cli import build_parser

    p = build_parser()
    assert p.parse_args(["-q", "plugins"]).quiet is True
    args = p.parse_args(["run", str(tmp_path), "-vv"])
    assert args.verbose == 2 and args.quiet is False
    assert _run("-q", "-v", "plugins").returncode == 2  # mutually exclusive
    assert main(["run", str(tmp_path), "-q"]) == 1  # errors still shown when quiet
    assert "no raw/ folder" in capsys.readouterr().err


def test_export_to_unknown_extension_is_an_error_listing_the_known(tmp_path, capsys):
    store = hydrofw.open_store(tmp_path / "store")
    store.write(
        hydrofw.to_table(
            [hydrofw.Spectrum(nucleus="1H", observe_frequency_hz=4e8, spectral_width_hz=1e4,
                              re=np.ones(4), im=np.zeros(4))]
        )
    )
    for name in ("x.txt", "x"):
        code = main(["export", str(tmp_path / "store"), "--table", "spectrum", "--to",
                     str(tmp_path / name)])
        err = capsys.readouterr().err
        assert code == 1 and "unknown output extension" in err
        assert all(e in err for e in (".parquet", ".arrow", ".csv", ".csdf"))
        assert not (tmp_path / name).exists()
    assert main(["export", str(tmp_path / "store"), "--table", "spectrum", "--to",
                 str(tmp_path / "s.csv")]) == 0
    assert "s.arrays.csv" in capsys.readouterr().err  # the long-form array file is named


def test_summary_line_names_files_and_unanalysed_experiments():
    from hydrofw.cli import summary_line

    line = summary_line(
        {
            "datasets": 3,
            "failed": [("/c/raw/N1/bad.fid", "truncated")],
            "skipped": [("/c/raw/notes.txt", "no reader"), ("/c/raw/x.jpg", "no reader")],
            "unanalysed": [("/c/raw/N1/d1/90", "cosygpqf")],
        }
    )
    assert "\n" not in line
    assert "failed: bad.fid" in line and "skipped: notes.txt, x.jpg" in line
    assert "not analysed: 90 (cosygpqf)" in line


def test_progress_bars_have_totals(capsys):
    from hydrofw import progress

    progress.set_progress(True)
    try:
        list(progress.progress_bar(iter(range(3)), desc="ingest", unit="dataset", total=3))
        with progress.step_progress("nmr.lineshape", 7):
            pass
    finally:
        progress.set_progress(None)
    err = capsys.readouterr().err
    assert "ingest" in err and "/3 " in err  # the total is shown from the start
    assert "nmr.lineshape" in err and "/7 " in err
    progress.set_progress(False)
    try:
        list(progress.progress_bar(range(2), desc="quiet"))
    finally:
        progress.set_progress(None)
    assert "quiet" not in capsys.readouterr().err


def test_report_needs_a_campaign_folder(tmp_path, capsys):
    hydrofw.open_store(tmp_path / "lonely" / "store")
    assert main(["report", str(tmp_path / "lonely" / "store")]) == 1
    assert "cannot find the campaign folder" in capsys.readouterr().err
