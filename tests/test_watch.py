"""`hydrofw watch`: completeness of Bruker, Varian and log datasets, and a watch that sees three
sessions arrive file by file, waits for a half-written one, and survives a corrupt one."""

from __future__ import annotations

import json
import os
import queue
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

import hydrofw
from hydrofw import Reader, hookimpl
from hydrofw.registry import Registry
from hydrofw.watch import dataset_complete, watch

pytest.importorskip("watchfiles")


# ----------------------------------------------------------------------------- completeness
def _copy(src: Path, dst: Path, cut: dict[str, int] | None = None) -> Path:
    """Copy a dataset folder, keeping only the first ``cut[name]`` bytes of some files."""
    shutil.copytree(src, dst)
    for name, n in (cut or {}).items():
        data = (src / name).read_bytes()
        (dst / name).write_bytes(data[:n])
    return dst


@pytest.mark.parametrize(
    "experiment",
    [
        "bruker/topspin406-1h-400-strychnine/10",  # fid of exactly TD * 4 bytes
        "bruker/topspin32-1h-500/1",  # fid padded to 1 KiB
        "bruker/topspin13-odnp-1h-15mhz-t1-ser/28",  # ser: TD1 rows of padded TD
    ],
)
def test_bruker_complete_only_when_the_data_match_acqus(real_data, tmp_path, experiment):
    src = real_data / experiment
    data = "ser" if (src / "ser").exists() else "fid"
    assert dataset_complete(_copy(src, tmp_path / "whole")) == (True, "")
    half = _copy(src, tmp_path / "half", {data: (src / data).stat().st_size // 2})
    ok, why = dataset_complete(half)
    assert not ok and f"{data}: {(src / data).stat().st_size // 2} bytes" in why
    no_data = _copy(src, tmp_path / "nodata")
    (no_data / data).unlink()
    assert dataset_complete(no_data) == (False, f"{no_data}: Bruker acqus without fid/ser yet")
    cut_acqus = _copy(src, tmp_path / "acqus", {"acqus": 100})
    assert "no TD yet" in dataset_complete(cut_acqus)[1]


def test_varian_complete_with_fid_matching_its_header_and_procpar(real_data, tmp_path):
    src = real_data / "varian/vnmrs-87rb-196-satrec-solid/satrec2D.fid"
    assert dataset_complete(_copy(src, tmp_path / "a.fid")) == (True, "")
    ok, why = dataset_complete(_copy(src, tmp_path / "b.fid", {"fid": 1000}))
    assert not ok and "1000 bytes, the header implies 184976" in why
    no_procpar = _copy(src, tmp_path / "c.fid")
    (no_procpar / "procpar").unlink()
    assert "needs both fid and procpar" in dataset_complete(no_procpar)[1]


def test_log_complete_when_its_last_line_is(tmp_path):
    log = tmp_path / "sweep.csv"
    log.write_text("T_K,R_ohm\n10.0,1.5\n11.0,1.")
    assert dataset_complete(log) == (False, f"{log}: last line incomplete")
    log.write_text("T_K,R_ohm\n10.0,1.5\n11.0,1.6\n")
    assert dataset_complete(log) == (True, "")


# ----------------------------------------------------------------------------- the watch
def _read(source):
    lines = Path(source.path).read_text().splitlines()
    value = float(lines[0])  # a corrupt file raises: the reader failure is reported per dataset
    yield hydrofw.Spectrum(
        nucleus="1H", observe_frequency_hz=4e8, spectral_width_hz=1e4,
        re=np.full(2, value), im=np.zeros(2), source_path=source.path,
    )


class LogCampaign:
    """Sessions are `.log` files; the "analysis" counts them per cell into a report."""

    @hookimpl
    def hydrofw_register_readers(self, register):
        register(Reader(name="dot-log", table="spectrum", read=_read,
                        sniff=lambda s: 1.0 if s.name.endswith(".log") else 0.0))

    @hookimpl
    def hydrofw_campaign_ingested(self, store, campaign_dir, report_dir, summary):
        raw = store.table("spectrum")
        sessions = sorted(Path(p).stem for p in raw.column("source_path").to_pylist())
        report_dir.mkdir(parents=True, exist_ok=True)
        (report_dir / "summary.json").write_text(json.dumps({"sessions": sessions}))
        summary["results"] = {"sessions": len(sessions)}


@pytest.fixture
def registry(monkeypatch):
    import hydrofw.registry as reg_mod

    reg = Registry(entry_points=False)
    reg.add_plugin(LogCampaign(), "log-campaign")
    monkeypatch.setattr(reg_mod, "_REGISTRY", reg)
    return reg


def test_watch_sees_sessions_arrive_in_stages(registry, tmp_path):
    root = tmp_path / "camp"
    (root / "raw" / "DAC1").mkdir(parents=True)
    (root / "raw" / "DAC1" / "day1.log").write_text("1.0\n")
    os.utime(root / "raw" / "DAC1" / "day1.log", (1e9, 1e9))  # there before the watch
    runs: queue.Queue = queue.Queue()
    messages: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=watch,
        args=(root,),
        kwargs={"debounce_ms": 100, "settle_s": 0.3, "stop": stop, "on_run": runs.put,
                "log": messages.append},
        daemon=True,
    )
    thread.start()

    def next_run() -> dict:
        try:
            return runs.get(timeout=30)
        except queue.Empty:
            pytest.fail(f"no run within 30 s; the watch said: {messages}")

    try:
        first = next_run()
        assert (first["datasets_read"], first["results"]) == (1, {"sessions": 1})
        # session 2 arrives half-written: the run waits for it, then reads it once complete
        day2 = root / "raw" / "DAC1" / "day2.log"
        day2.write_text("2.")
        waiting = next_run()
        assert waiting["datasets_read"] == 0
        assert [(Path(p).name, why.split(":")[0]) for p, why in waiting["skipped"]] == [
            ("day2.log", "not ready")
        ]
        with open(day2, "a") as fh:
            fh.write("0\n")
        second = next_run()
        while second["datasets_read"] == 0:  # an event may land between the two writes
            second = next_run()
        assert (second["datasets_read"], second["datasets_reused"]) == (1, 1)
        assert second["results"] == {"sessions": 2}
        # session 3 in a new cell, next to a corrupt file: reported, skipped, the watch goes on
        (root / "raw" / "DAC2").mkdir()
        (root / "raw" / "DAC2" / "bad.log").write_text("garbage\n")
        (root / "raw" / "DAC2" / "day3.log").write_text("3.0\n")
        third = next_run()
        while third.get("results", {}).get("sessions") != 3:
            third = next_run()
        assert [Path(p).name for p, _ in third["failed"]] == ["bad.log"]
        assert any("failed:" in m and "bad.log" in m for m in messages)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    report = json.loads((root / "report" / "summary.json").read_text())
    assert report == {"sessions": ["day1", "day2", "day3"]}
    store = hydrofw.open_store(root / "store")
    assert sorted(r[0] for r in store.table("spectrum", ["re"]).column("re").to_pylist()) == [
        1.0, 2.0, 3.0]
    assert all(r["status"] == "committed" for r in store.runs())
