"""Hostile file systems and archives: FIFOs, devices, symlink loops and escapes, zip bombs,
unknown zip versions, backslash member names, reads bounded by what a header implies."""

from __future__ import annotations

import os
import struct
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import hydrofw
import hydrofw.registry as reg_mod
from hydrofw.errors import FormatError, HydrofwError, ReadError
from hydrofw.header_values import INT32, excerpt, to_count, to_float, to_int, to_size
from hydrofw.pipeline import discover
from hydrofw.registry import Reader, Registry
from hydrofw.source import FileSource, open_source, relative_inside, resolve_inside

# -- regular files only -----------------------------------------------------------------------


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fid"
    os.mkfifo(fifo)
    with pytest.raises(ReadError, match="fid: is not a regular file \\(a FIFO\\)"):
        FileSource(fifo).read_bytes()
    with pytest.raises(ReadError, match="FIFO"):
        open_source(fifo)
    assert FileSource(tmp_path).head(16, "fid") == b""  # sniffers see nothing, no hang


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_symlink_to_dev_zero_is_refused(tmp_path):
    link = tmp_path / "x.tnt"
    link.symlink_to("/dev/zero")
    with pytest.raises(ReadError, match="x.tnt: is not a regular file \\(a character device\\)"):
        FileSource(link).read_bytes()


def test_read_bytes_never_exceeds_the_limit(tmp_path):
    f = tmp_path / "data"
    f.write_bytes(b"\0" * 1000)
    assert len(FileSource(f).read_bytes(limit=1000)) == 1000
    with pytest.raises(FormatError, match="data: holds 1000 bytes, more than the 999"):
        FileSource(f).read_bytes(limit=999)


# -- zip archives -----------------------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _patch_all(raw: bytearray, signature: bytes, offset: int, fmt: str, value: int) -> None:
    pos = raw.find(signature)
    while pos >= 0:
        struct.pack_into(fmt, raw, pos + offset, value)
        pos = raw.find(signature, pos + 4)


@pytest.mark.parametrize("name", ["..\\evil", "a\\..\\..\\evil", "C:\\evil", "\\abs"])
def test_backslash_member_names_escaping_are_refused(tmp_path, name):
    archive = _zip(tmp_path / "evil.zip", {name: b"x", "ok/fid": b"y"})
    with pytest.raises(ReadError, match="escapes the archive"):
        open_source(archive)


def test_backslash_member_inside_is_read_with_forward_slashes(tmp_path):
    archive = _zip(tmp_path / "w.zip", {"exp\\10\\acqus": b"##TITLE= x\n", "exp\\10\\fid": b"1"})
    src = open_source(archive)
    assert src.read_bytes("10/acqus") == b"##TITLE= x\n"


def test_zip_member_claiming_3_gib_is_refused_before_decompressing(tmp_path):
    archive = _zip(tmp_path / "bomb.zip", {"exp/fid": b"\0" * (1 << 20)})
    raw = bytearray(archive.read_bytes())
    _patch_all(raw, b"PK\x01\x02", 24, "<I", 3 << 30)  # central directory: uncompressed size
    _patch_all(raw, b"PK\x03\x04", 22, "<I", 3 << 30)  # local header: uncompressed size
    archive.write_bytes(bytes(raw))
    src = open_source(archive)
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match="claims 3221225472 bytes .*zip bomb"):
            src.read_bytes("fid")
        assert src.head(16, "fid") == b""  # sniffing reads nothing of it
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_large_zip_member_is_only_streamed_when_sniffing(tmp_path):
    archive = _zip(tmp_path / "big.zip", {"big.bin": b"TNT1.005" + b"\0" * (24 << 20)})
    src = open_source(archive)
    tracemalloc.start()
    try:
        assert src.head(8, "big.bin") == b"TNT1.005"
        with pytest.raises(FormatError, match="more than the 1048576"):
            src.read_bytes("big.bin", limit=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_unknown_zip_version_and_method_are_format_errors(tmp_path):
    archive = _zip(tmp_path / "v.zip", {"exp/fid": b"abc" * 100})
    raw = bytearray(archive.read_bytes())
    _patch_all(raw, b"PK\x01\x02", 6, "<H", 99)  # version needed to extract: 9.9
    archive.write_bytes(bytes(raw))
    with pytest.raises(FormatError, match="v.zip: corrupt zip archive"):
        open_source(archive)
    archive = _zip(tmp_path / "m.zip", {"exp/fid": b"abc" * 100})
    raw = bytearray(archive.read_bytes())
    _patch_all(raw, b"PK\x01\x02", 10, "<H", 99)  # compression method 99
    _patch_all(raw, b"PK\x03\x04", 8, "<H", 99)
    archive.write_bytes(bytes(raw))
    with pytest.raises(FormatError, match="compression method 99 unsupported"):
        open_source(archive).read_bytes("fid")


# -- paths from campaign.toml -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, inside",
    [
        ("T2", "T2"),
        ("T2/../T3", "T3"),
        ("T2\\sub", "T2/sub"),
        ("T2/../../../etc", None),
        ("..\\..\\etc", None),
        ("/etc/passwd", None),
        ("C:/x", None),
        ("", None),
    ],
)
def test_relative_inside(name, inside):
    assert relative_inside(name) == inside


def test_resolve_inside_follows_symlinks(tmp_path):
    (tmp_path / "camp").mkdir()
    (tmp_path / "camp" / "p.csv").write_text("x")
    (tmp_path / "secret").write_text("x")
    (tmp_path / "camp" / "out").symlink_to(tmp_path)
    assert resolve_inside(tmp_path / "camp", "p.csv") == (tmp_path / "camp" / "p.csv").resolve()
    assert resolve_inside(tmp_path / "camp", "out/secret") is None


# -- discovery --------------------------------------------------------------------------------


def _spec_reader(source):
    yield hydrofw.Spectrum(
        nucleus="1H", observe_frequency_hz=4e8, spectral_width_hz=1e4, re=np.ones(2),
        im=np.zeros(2), source_path=source.path,
    )  # fmt: skip


class _Spec:
    @hydrofw.hookimpl
    def hydrofw_register_readers(self, register):
        register(
            Reader(
                name="spec",
                table="spectrum",
                sniff=lambda s: 0.9 if s.name.endswith(".spec") else 0.0,
                read=_spec_reader,
            )
        )


@pytest.fixture
def spec_registry(monkeypatch):
    reg = Registry(entry_points=False)
    reg.add_plugin(_Spec(), "spec")
    monkeypatch.setattr(reg_mod, "_REGISTRY", reg)
    return reg


def test_discovery_skips_loops_escapes_and_fifos(spec_registry, tmp_path):
    camp = tmp_path / "camp"
    raw = camp / "raw"
    (raw / "DAC1").mkdir(parents=True)
    (raw / "DAC1" / "a.spec").write_text("x")
    (raw / "DAC1" / "loop").symlink_to(raw / "DAC1")  # loop
    (raw / "DAC1" / "up").symlink_to(raw)  # loop through the root
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "b.spec").write_text("x")
    (raw / "DAC1" / "out").symlink_to(outside)  # leaves the campaign
    (raw / "DAC1" / "dangling").symlink_to(tmp_path / "missing")
    os.mkfifo(raw / "DAC1" / "pipe.spec")
    (camp / "shared").mkdir()
    (camp / "shared" / "c.spec").write_text("x")
    (raw / "DAC2").symlink_to(camp / "shared")  # inside the campaign: followed
    found, skipped = discover(raw, boundary=camp)
    assert sorted(d.path.name for d in found) == ["a.spec", "c.spec"]
    reasons = {p.name: why for p, why in skipped}
    assert "symlink loop" in reasons["loop"] and "symlink loop" in reasons["up"]
    assert "outside the campaign" in reasons["out"]
    assert "broken or looping symlink" in reasons["dangling"]
    assert "FIFO" in reasons["pipe.spec"]
    found, _ = discover(raw, boundary=camp, follow_symlinks=True)
    assert sorted(d.path.name for d in found) == ["a.spec", "b.spec", "c.spec"]


def test_run_survives_a_reader_exception_per_dataset(spec_registry, tmp_path, monkeypatch):
    camp = tmp_path / "camp"
    (camp / "raw").mkdir(parents=True)
    (camp / "raw" / "good.spec").write_text("x")
    (camp / "raw" / "bad.spec").write_text("x")

    def flaky(source):
        if source.name == "bad.spec":
            raise OverflowError("Python int too large to convert to C long")
        yield from _spec_reader(source)

    spec_registry.readers["spec"] = spec_registry.readers["spec"].__class__(
        name="spec", table="spectrum", sniff=spec_registry.readers["spec"].sniff, read=flaky
    )
    summary = hydrofw.run(camp)
    assert summary["rows_added"] == {"spectrum": 1}
    ((path, why),) = summary["failed"]
    assert path.endswith("bad.spec") and "out of range" in why


# -- range-checked header values --------------------------------------------------------------


@pytest.mark.parametrize(
    "value, match",
    [
        ("9223372036854775808", "does not fit int64"),
        ("1e308", "does not fit int64"),
        ("-1e300", "does not fit int64"),
        ("12345678901234567890123", "does not fit int64"),
        ("-1", "must be >= 0"),
        ("nan", "not finite"),
        ("inf", "not finite"),
        ("12.5", "not an integer"),
        ("twelve", "not a number"),
    ],
)
def test_counts_out_of_range_are_format_errors_naming_file_line_key(value, match):
    with pytest.raises(FormatError, match=f"exp/acqus:42: header key 'NS' .*{match}"):
        to_count(value, where="exp/acqus", key="NS", line=42)


def test_in_range_values_and_bounds():
    assert to_count("16", where="f", key="NS") == 16
    assert to_count("16.0", where="f", key="NS") == 16
    assert to_int(str(2**63 - 1), where="f", key="k") == 2**63 - 1
    with pytest.raises(FormatError, match="does not fit int32"):
        to_int(str(2**31), where="f", key="k", bounds=INT32)
    with pytest.raises(FormatError, match="size .* exceeds"):
        to_size("1e15", where="f", key="TD")
    assert to_float(" 400.13 MHz", where="f", key="SFO1") == 400.13
    with pytest.raises(FormatError, match="must be positive"):
        to_float("0", where="f", key="SW", positive=True)


def test_messages_quote_only_a_short_excerpt():
    long = "root:x:0:0:root:/root:/bin/bash " * 20
    with pytest.raises(FormatError) as info:
        to_float(long, where="f", key="k")
    assert len(str(info.value)) < 120 and "..." in str(info.value)
    assert excerpt("a\nb") == "'a b'"


def test_all_errors_are_hydrofw_errors():
    assert issubclass(FormatError, HydrofwError)


def test_follow_symlinks_by_environment(spec_registry, tmp_path, monkeypatch):
    camp = tmp_path / "camp"
    (camp / "raw").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "b.spec").write_text("x")
    (camp / "raw" / "out").symlink_to(outside)
    found, skipped = discover(camp / "raw", boundary=camp)
    assert not found and "HYDROFW_FOLLOW_SYMLINKS=1" in skipped[0][1]
    monkeypatch.setenv("HYDROFW_FOLLOW_SYMLINKS", "1")
    found, _ = discover(camp / "raw", boundary=camp)
    assert [d.path.name for d in found] == ["b.spec"]


def test_records_refuse_integers_that_do_not_fit_int64():
    with pytest.raises(hydrofw.errors.ValidationError, match="does not fit int64"):
        hydrofw.Spectrum(
            nucleus="1H", observe_frequency_hz=4e8, spectral_width_hz=1e4, re=np.ones(2),
            im=np.zeros(2), n_scans=2**63,
        )  # fmt: skip
