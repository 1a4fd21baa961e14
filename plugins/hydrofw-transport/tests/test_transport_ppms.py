"""Quantum Design MultiVu files: the real PPMS/MPMS files of the developer set, and synthetic
DynaCool ETO files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hydrofw_transport import ppms, sim921
from hydrofw_transport.multivu import parse_multivu, time_anchor

import hydrofw
from hydrofw.errors import FormatError, ParameterError
from hydrofw.source import FileSource, open_source

UTC = dt.UTC
NB = "transport/ppms-multivu-resistivity-nb-film"
FINE = f"{NB}/250307-ch1Nb100-ch2Nb150-ch3NbAl_fineUp1.dat"
COARSE = f"{NB}/250307-ch1Nb100-ch2Nb150-ch3NbAl_coarseUp1.dat"
MPMS = "transport/mpms-multivu-dc-moment/sample1.dat"
LOG = "transport/ppms-multivu-logfile/sample2.DAT"


def test_fine_scan_header_and_columns(real_data: Path) -> None:
    path = real_data / FINE
    mv = parse_multivu(path.read_bytes(), str(path))
    assert mv.info("APPNAME") == "PPMS MultiVu Application, 1.5.11"
    assert mv.application == "Resistivity, 2.1, 1.0"
    assert len(mv.names) == 41
    t = mv.numeric["Temperature (K)"]
    assert (
        t.size == 51
        and t.min() == pytest.approx(7.018, abs=1e-3)
        and t.max() == pytest.approx(10.007, abs=1e-3)
    )
    rho = mv.numeric["Bridge 1 Resistivity (Ohm)"]
    assert rho.min() == pytest.approx(-0.0019, abs=1e-4) and rho.max() == pytest.approx(
        72.70, abs=0.01
    )


def test_fine_scan_reads_three_bridges(real_data: Path) -> None:
    path = real_data / FINE
    assert ppms.sniff(open_source(path)) > sim921.sniff(open_source(path))
    table = hydrofw.read(path)
    assert table.column("format").to_pylist() == ["ppms"] * 3
    assert [i.split(", ")[-1] for i in table.column("instrument").to_pylist()] == [
        "Bridge 1", "Bridge 2", "Bridge 3"]  # fmt: skip
    assert table.column("sweep").to_pylist() == ["warming"] * 3
    assert [len(v) for v in table.column("temperature_k").to_pylist()] == [51, 51, 51]
    assert table.column("excitation_a").to_pylist() == pytest.approx([9.99e-6] * 3, rel=1e-3)
    # PPMS time stamps count from another origin: anchored at FILEOPENTIME (3/7/2025 6:49 PM)
    first = parse_multivu(path.read_bytes(), str(path)).numeric["Time Stamp (sec)"][0]
    expected = dt.datetime(2025, 3, 7, 18, 49, tzinfo=UTC) + dt.timedelta(
        seconds=first - 13808301.33
    )
    acquired = table.column("acquired_at")[0].as_py()
    assert abs((acquired - expected).total_seconds()) < 1e-3
    assert "multivu_time_anchored_at_fileopentime" in table.column("flags")[0].as_py()
    assert len(set(table.column("id").to_pylist())) == 3


def test_fine_scan_tc_of_the_nb_films(real_data: Path) -> None:
    tc = hydrofw.process("transport.tc", hydrofw.read(real_data / FINE))
    t50 = tc.column("tc_50_k").to_pylist()
    # Nb films: the 100 nm and 150 nm films near 9 K, the Nb/Al bilayer lower
    assert 8.7 < t50[0] < 9.1 and 9.1 < t50[1] < 9.4 and 7.8 < t50[2] < 8.2
    # the 150 nm film jumps between two points (9.242 K and 9.302 K)
    assert 9.242 <= tc.column("tc_10_k")[1].as_py() <= tc.column("tc_90_k")[1].as_py() <= 9.302
    for name in ("tc_onset_k", "tc_90_k", "tc_10_k", "tc_zero_k", "tc_dRdT_k"):
        errs = np.array(tc.column(f"{name}_err").to_pylist(), dtype=float)
        assert np.all(np.isfinite(errs)) and np.all(errs < 0.2)
    assert np.all(np.asarray(tc.column("tc_zero_k").to_pylist()) < np.asarray(t50))


def test_coarse_scan_agrees_with_fine_scan(real_data: Path) -> None:
    coarse = hydrofw.process("transport.tc", hydrofw.read(real_data / COARSE))
    fine = hydrofw.process("transport.tc", hydrofw.read(real_data / FINE))
    assert [
        len(v) for v in hydrofw.read(real_data / COARSE).column("temperature_k").to_pylist()
    ] == [286] * 3
    # 1 K steps near Tc: the coarse T50 agrees with the fine one within the point spacing
    assert np.allclose(
        coarse.column("tc_50_k").to_pylist(), fine.column("tc_50_k").to_pylist(), atol=1.1
    )


def test_channel_option(real_data: Path) -> None:
    table = hydrofw.read(real_data / FINE, format="ppms", channel=2)
    assert table.num_rows == 1 and table.column("instrument")[0].as_py().endswith("Bridge 2")
    assert table.column("channel").to_pylist() == ["Bridge 2"]
    every = hydrofw.read(real_data / FINE, format="ppms")
    assert len(set(every.column("channel").to_pylist())) == every.num_rows > 1
    with pytest.raises(ParameterError, match="channel 'Bridge 9' not found"):
        hydrofw.read(real_data / FINE, format="ppms", channel="Bridge 9")


def test_mpms_file_is_refused_but_parsed(real_data: Path) -> None:
    path = real_data / MPMS
    mv = parse_multivu(path.read_bytes(), str(path))
    # PROVENANCE counts 31 fields: the column line ends with a comma (30 named columns)
    assert len(mv.names) == 30 and mv.numeric["Temperature (K)"].size == 19
    assert mv.numeric["Temperature (K)"].min() == pytest.approx(120.0, abs=0.1)
    assert mv.numeric["Temperature (K)"].max() == pytest.approx(300.0, abs=0.1)
    assert mv.info("APPNAME") == "MPMS MultiVu Application, Revision 1.56, Build 67"
    # MPMS MultiVu counts Unix seconds; the header's local time shows UTC-8
    anchor = time_anchor(mv)
    assert anchor is not None and anchor.offset_s == 0.0
    assert "multivu_unix_epoch_utc_offset_s:-28800" in anchor.flags
    assert ppms.sniff(open_source(path)) == 0.5 and sim921.sniff(open_source(path)) == 0.0
    with pytest.raises(FormatError, match=r"sample1\.dat: is a magnetometry file .*not an R\(T\)"):
        hydrofw.read(path)


def test_multivu_log_file_is_parsed_and_refused(real_data: Path) -> None:
    path = real_data / LOG
    mv = parse_multivu(path.read_bytes(), str(path))
    t = mv.numeric["Temperature (K)"]
    assert len(mv.names) == 122 and t.size == 30
    assert t.min() == pytest.approx(202.8, abs=0.05) and t.max() == pytest.approx(208.4, abs=0.05)
    assert mv.header["TITLE"] == "PPMS Log Data File"
    with pytest.raises(
        FormatError, match=r"sample2\.DAT: is a MultiVu system log .*no R\(T\) data"
    ):
        hydrofw.read(path, format="ppms")


def _dynacool(tmp_path: Path, epoch: bool) -> Path:
    t = np.concatenate([np.linspace(20.0, 5.0, 60), np.linspace(5.0, 20.0, 60)])
    r = 50.0 / (1.0 + np.exp(-(t - 12.0) / 0.3))
    t0 = 1_714_564_800.0 if epoch else 5_000.0
    header = "[Header]\n; a DynaCool ETO file\nTITLE, film\n"
    header += "BYAPP, Electrical Transport Option, 1.2, 1.0\n"
    header += "INFO, APPNAME, DynaCool MultiVu Application, 1.0.9\n"
    header += (
        "FILEOPENTIME, 1714564700.00, 5/1/2024, 2:58:20 PM\n"
        if epoch
        else "FILEOPENTIME, 4900.0, 5/1/2024, 2:58 PM\n"
    )
    cols = "Comment,Time Stamp (sec),Temperature (K),Magnetic Field (Oe),Resistance Ch1 (Ohms),"
    cols += "Resistance Std. Dev. Ch1 (Ohms),Excitation Ch1 (mA),Frequency Ch1 (Hz),"
    cols += "Resistance Ch2 (Ohms)\n"
    rows = "".join(
        f",{t0 + 10 * k:.2f},{a:.4f},0,{b:.6f},1e-4,0.1,17.1,\n"
        for k, (a, b) in enumerate(zip(t, r, strict=True))
    )
    path = tmp_path / "eto.dat"
    path.write_text(header + "[Data]\n" + cols + rows, encoding="latin-1")
    return path


def test_dynacool_eto_resistance_channel(tmp_path: Path) -> None:
    table = hydrofw.read(_dynacool(tmp_path, epoch=True))
    assert table.column("sweep").to_pylist() == ["cooling", "warming"]
    assert (
        table.column("instrument")[0].as_py()
        == "Quantum Design DynaCool Electrical Transport Option, Ch1"
    )
    assert table.column("excitation_a").to_pylist() == pytest.approx([1e-4, 1e-4])
    assert table.column("frequency_hz").to_pylist() == pytest.approx([17.1, 17.1])
    # DynaCool counts Unix seconds (header wall clock 2:58:20 PM = UTC+2)
    assert table.column("acquired_at")[0].as_py() == dt.datetime(2024, 5, 1, 12, tzinfo=UTC)
    tc = hydrofw.process("transport.tc", table)
    assert tc.column("tc_50_k").to_pylist() == pytest.approx([12.0, 12.0], abs=0.05)


def test_dynacool_anchored_time_in_given_zone(tmp_path: Path) -> None:
    table = hydrofw.read(_dynacool(tmp_path, epoch=False), timezone="Europe/Berlin")
    # 5/1/2024 2:58 PM in Berlin = 12:58 UTC, first point 100 s after file open
    assert table.column("acquired_at")[0].as_py() == dt.datetime(2024, 5, 1, 12, 59, 40, tzinfo=UTC)
    assert "time_zone_assumed:Europe/Berlin" in table.column("flags")[0].as_py()


def test_resistivity_only_in_ohm_cm_is_refused(tmp_path: Path) -> None:
    content = "[Header]\nBYAPP, Resistivity, 2.1, 1.0\n[Data]\n"
    content += "Temperature (K),Bridge 1 Resistivity (Ohm-cm)\n"
    content += "".join(f"{10 + k},{k}\n" for k in range(10))
    path = tmp_path / "rho.dat"
    path.write_text(content)
    with pytest.raises(FormatError, match="no resistance"):
        list(ppms.read(FileSource(path)))


def test_truncated_last_line_is_dropped_and_flagged(real_data: Path, tmp_path: Path) -> None:
    """A MultiVu file cut mid-line (MultiVu stopped mid-write): the cut line is never parsed,
    the record says where the file was cut; the rest reads as the file cut at the line end."""
    data = (real_data / FINE).read_bytes().rstrip(b"\r\n")
    start = data.rfind(b"\n") + 1
    last = data[start:]
    cut = data[: start + len(last) // 2]  # half of the last row, a number cut in two
    (tmp_path / "cut.dat").write_bytes(cut)
    (tmp_path / "whole.dat").write_bytes(data[:start])
    got = hydrofw.read(tmp_path / "cut.dat", format="ppms")
    ref = hydrofw.read(tmp_path / "whole.dat", format="ppms")
    for k in range(got.num_rows):
        assert f"truncated:{start}" in got.column("flags")[k].as_py()
        assert got.column("resistance_ohm")[k].as_py() == ref.column("resistance_ohm")[k].as_py()
    assert not any(f.startswith("truncated") for f in ref.column("flags")[0].as_py())
