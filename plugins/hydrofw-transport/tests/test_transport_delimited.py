"""The general delimited-log engine: delimiter/header overrides, a separate header file,
trailing empty fields, repeated column names, current reversal, bad lines and truncation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hydrofw
from hydrofw.errors import FormatError, ParameterError

FIELDS = 49


def _rt(t: np.ndarray) -> np.ndarray:
    """The sample: R = R_n / (1 + exp(-(T - 90)/1.5)), R_n = 2 (1 + 0.003 (T - 90)) ohm."""
    return 2.0 * (1.0 + 0.003 * (t - 90.0)) / (1.0 + np.exp(-(t - 90.0) / 1.5))


def _labview_log(folder: Path, *, header_name: str = "run7_header.txt") -> tuple[Path, np.ndarray]:
    """A LabVIEW-style SMU + nanovoltmeter log: a data file without column names, a header
    file with 49 names (date, time, T, V+, V-, I+, I-, then 42 repeated 'N/A'), rows ending in
    empty trailing fields, values written like 8.103950E+0, a cooling and a warming leg."""
    names = ["Date", "Time", "T (K)", "V+ (V)", "V- (V)", "I+ (A)", "I- (A)"]
    names += ["N/A"] * (FIELDS - len(names))
    (folder / header_name).write_text(
        "Operator\tLab 3\nSample\tLaH10 cell 7\n" + "\t".join(names) + "\n", encoding="utf-8"
    )
    t = np.concatenate([np.linspace(130.0, 60.0, 300), np.linspace(60.0, 130.0, 300)])
    r = _rt(t)
    current = 1.0e-4
    offset_v = 3.0e-6  # thermal EMF: cancels in (V+ - V-)
    rows = []
    for k, (tk, rk) in enumerate(zip(t, r, strict=True)):
        seconds = 2 * k
        fields = [
            "2025/03/07",
            f"{10 + seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",
            f"{tk:.6E}".replace("E+01", "E+1").replace("E+02", "E+2"),
            f"{rk * current + offset_v:.6E}",
            f"{-rk * current + offset_v:.6E}",
            f"{current:.6E}",
            f"{-current:.6E}",
        ]
        fields += ["8.103950E+0"] + ["0.000000E+0"] * 29 + [""] * (FIELDS - len(fields) - 30)
        rows.append("\t".join(fields) + "\t\t")  # two empty fields beyond the 49 names
    data = folder / "run7.txt"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return data, t


def test_labview_log_with_header_file_and_current_reversal(tmp_path: Path) -> None:
    data, t = _labview_log(tmp_path)
    assert "\t8.103950E+0\t" in data.read_text() and "\t1.300000E+2\t" in data.read_text()
    for table in (
        hydrofw.read(data),  # the header file beside the data is found
        hydrofw.read(data, format="delimited", header_file="run7_header.txt", delimiter="tab"),
    ):
        assert table.column("sweep").to_pylist() == ["cooling", "warming"]
        for k in range(2):
            temps = np.array(table.column("temperature_k")[k].as_py())
            res = np.array(table.column("resistance_ohm")[k].as_py())
            assert res == pytest.approx(_rt(temps), rel=1e-5, abs=1e-8)
            flags = table.column("flags")[k].as_py()
            assert "current_reversal" in flags and "duplicate_column_names" in flags
            assert "trailing_empty_fields" in flags
            params = table.column("parameters")[k].as_py()
            params = dict(params) if not isinstance(params, dict) else params
            assert params["header_file"].endswith("run7_header.txt")
            assert len(params["header_file_sha256"]) == 64
        assert table.column("source_path")[0].as_py().endswith("run7.txt")
        first = table.column("acquired_at")[0].as_py()
        assert first.isoformat() == "2025-03-07T10:00:00+00:00"  # date + time of day, UTC
        warming = table.column("acquired_at")[1].as_py()
        assert 590.0 < (warming - first).total_seconds() < 700.0  # after the 300-point leg
    out = hydrofw.process("transport.tc", hydrofw.read(data))
    assert np.array(out.column("tc_50_k").to_pylist()) == pytest.approx([90.0, 90.0], abs=0.05)


def test_values_with_short_exponents(tmp_path: Path) -> None:
    rows = "".join(f"{100 - k * 0.5:.6f}\t{8.103950 + k * 1e-3:.6f}E+0\n" for k in range(40))
    path = tmp_path / "short.tsv"
    path.write_text("T (K)\tR (Ohm)\n" + rows, encoding="utf-8")
    table = hydrofw.read(path)
    assert table.column("resistance_ohm")[0].as_py()[0] == pytest.approx(8.103950)


def _log_with_garbage(tmp_path: Path, garbage: str) -> tuple[Path, int]:
    lines = ["# SIM921 log", "Time (s)\tT (K)\tR (Ohm)"]
    lines += [f"{2 * k}\t{150 - k * 0.5:.2f}\t{1 + k * 1e-3:.5f}" for k in range(60)]
    lines.insert(30, garbage)
    path = tmp_path / "garbage.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, 31


@pytest.mark.parametrize(
    "garbage",
    ["\x7f@@@ lost sync @@@", "58\t141.00\tRVAL?\x15", "1\t2\t3\t4", "@@\t141.0\t1.0"],
)
def test_one_garbage_line(tmp_path: Path, garbage: str) -> None:
    path, line = _log_with_garbage(tmp_path, garbage)
    with pytest.raises(FormatError) as err:
        hydrofw.read(path, format="sim921")
    assert err.value.line == line and "skip_bad_lines=True" in str(err.value)
    table = hydrofw.read(path, format="sim921", skip_bad_lines=True)
    flags = table.column("flags")[0].as_py()
    assert f"skipped_lines:1:{line}" in flags
    assert len(table.column("temperature_k")[0].as_py()) == 60


def test_header_line_and_delimiter_overrides(tmp_path: Path) -> None:
    text = "Run 12 | operator A\nsetting | value\nT / K|R / Ohm\n" + "".join(
        f"{150 - k * 0.5:.2f}|{1 + k * 1e-3:.5f}\n" for k in range(40)
    )
    path = tmp_path / "pipes.txt"
    path.write_text(text, encoding="utf-8")
    table = hydrofw.read(path, format="delimited", delimiter="|", header_line=3)
    assert table.column("temperature_k")[0].as_py()[0] == pytest.approx(150.0)
    with pytest.raises(ParameterError, match="delimiter"):
        hydrofw.read(path, format="delimited", delimiter="ab")
    with pytest.raises(ParameterError, match="header_line"):
        hydrofw.read(path, format="delimited", delimiter="|", header_line=0)


def test_duplicate_name_in_columns_needs_an_index(tmp_path: Path) -> None:
    data, _ = _labview_log(tmp_path)
    with pytest.raises(FormatError, match="index"):
        hydrofw.read(data, columns={"frequency": "N/A"})


@pytest.mark.parametrize("reader", ["sim921", "delimited"])
def test_truncated_last_line_is_dropped_and_flagged(tmp_path: Path, reader: str) -> None:
    body = "T (K)\tR (Ohm)\n" + "".join(
        f"{150 - k * 0.5:.2f}\t{1.33596e-4 * (1 + k):+.5E}\n" for k in range(40)
    )
    cut = body + "129.50\t+1.33"  # the logger was killed mid-write
    path = tmp_path / "cut.tsv"
    path.write_bytes(cut.encode())
    table = hydrofw.read(path, format=reader)
    flags = table.column("flags")[0].as_py()
    assert f"truncated:{len(body.encode())}" in flags
    r = table.column("resistance_ohm")[0].as_py()
    assert len(r) == 40 and 1.33 not in r


def test_truncated_last_line_of_a_whitespace_log(tmp_path: Path) -> None:
    body = "# T R\n" + "".join(f"{150 - k * 0.5:.2f}  {1 + k * 1e-3:.5f}\n" for k in range(40))
    path = tmp_path / "cut.dat"
    path.write_bytes((body + "129.5").encode())
    table = hydrofw.read(path, format="sim921", columns={"temperature": 0, "resistance": 1})
    assert f"truncated:{len(body)}" in table.column("flags")[0].as_py()
    assert len(table.column("temperature_k")[0].as_py()) == 40


def test_crlf_log_cut_inside_the_line_break(tmp_path: Path) -> None:
    body = "T (K)\tR (Ohm)\r\n" + "".join(
        f"{150 - k * 0.5:.2f}\t{1 + k * 1e-3:.5f}\r\n" for k in range(40)
    )
    cut = body[:-1]  # the LF of the last CR LF never written
    path = tmp_path / "crlf.tsv"
    path.write_bytes(cut.encode())
    table = hydrofw.read(path, format="sim921")
    start = body.rfind("\n", 0, len(body) - 1) + 1
    assert f"truncated:{start}" in table.column("flags")[0].as_py()
    assert len(table.column("temperature_k")[0].as_py()) == 39
