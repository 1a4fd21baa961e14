"""The library API: read (sniffing, sources, zips), process (params, ids, history), errors."""

from __future__ import annotations

import json
import zipfile

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import hydrofw
from hydrofw import Processor, Reader, hookimpl
from hydrofw.errors import (
    FormatError,
    ParameterError,
    ProcessingError,
    ReadError,
    SchemaError,
    UnknownFormatError,
)
from hydrofw.registry import get_registry
from hydrofw.source import open_source


@attrs.frozen
class ScaleParams:
    factor: float = attrs.field(converter=float)

    @factor.validator
    def _finite(self, _attribute, value):
        if not np.isfinite(value):
            raise ValueError("factor must be finite")


def _scale(table: pa.Table, params: ScaleParams) -> pa.Table:
    from hydrofw.arrays import list_column_to_2d, to_list_array

    re = list_column_to_2d(table.column("re")) * params.factor
    return table.set_column(table.column_names.index("re"), "re", to_list_array(re))


def _explode(table: pa.Table, params) -> pa.Table:
    raise ZeroDivisionError("deep numeric failure")


def _sniff_txt(source) -> float:
    return 0.9 if source.name.endswith(".twocol") else 0.0


def _read_txt(source, nucleus: str = "1H"):
    lines = source.read_text().split("\n")
    header = dict(x.split("=") for x in lines[0].lstrip("# ").split())
    rows = np.loadtxt(lines[1:], ndmin=2)
    yield hydrofw.Spectrum(
        nucleus=nucleus,
        observe_frequency_hz=float(header["sfo1_hz"]),
        spectral_width_hz=float(header["sw_hz"]),
        re=rows[:, 0],
        im=rows[:, 1],
        source_path=source.path,
    )


class _TestPlugin:
    @hookimpl
    def hydrofw_register_processors(self, register):
        register(
            Processor(
                name="test.scale",
                input_table="spectrum",
                output_table="spectrum",
                process=_scale,
                params=ScaleParams,
            )
        )
        register(
            Processor(
                name="test.explode",
                input_table="spectrum",
                output_table="spectrum",
                process=_explode,
            )
        )

    @hookimpl
    def hydrofw_register_readers(self, register):
        register(Reader(name="twocol", table="spectrum", sniff=_sniff_txt, read=_read_txt))


@pytest.fixture(autouse=True)
def test_plugin():
    reg = get_registry()
    if "test-plugin" not in reg.plugins:
        reg.add_plugin(_TestPlugin(), "test-plugin", version="9.9")
    return reg


def _spectra(n=3, points=8):
    return hydrofw.to_table(
        [
            hydrofw.Spectrum(
                nucleus="1H",
                observe_frequency_hz=4e8,
                spectral_width_hz=1e4,
                re=np.arange(points) + i,
                im=np.zeros(points),
                increment=i,
            )
            for i in range(n)
        ]
    )


def test_process_scales_records_history_and_derives_ids():
    t = _spectra()
    out = hydrofw.process("test.scale", t, factor=2)
    np.testing.assert_array_equal(out.column("re")[1].values.to_numpy(), 2 * (np.arange(8) + 1))
    hist = out.column("history").to_pylist()[0]
    assert hist == [
        {
            "step": "test.scale",
            "plugin": "test-plugin",
            "version": "9.9",
            "params_json": json.dumps({"factor": 2.0}),
        }
    ]
    assert not set(out.column("id").to_pylist()) & set(t.column("id").to_pylist())
    again = hydrofw.process("test.scale", t, factor=2)
    assert again.column("id").equals(out.column("id"))  # stable
    other = hydrofw.process("test.scale", t, factor=3)
    assert not pc.any(pc.equal(other.column("id"), out.column("id"))).as_py()
    twice = hydrofw.process("test.scale", out, factor=2)
    assert [h["step"] for h in twice.column("history").to_pylist()[2]] == ["test.scale"] * 2


def test_process_errors():
    t = _spectra()
    with pytest.raises(ParameterError, match="processor 'test.scale'.*factor must be finite"):
        hydrofw.process("test.scale", t, factor=float("nan"))
    with pytest.raises(ParameterError, match="unexpected keyword argument 'gain'"):
        hydrofw.process("test.scale", t, factor=1, gain=2)
    with pytest.raises(ProcessingError, match="'test.explode' failed: ZeroDivisionError"):
        hydrofw.process("test.explode", t)
    with pytest.raises(SchemaError, match="input of processor 'test.scale'.*'nucleus' is missing"):
        hydrofw.process(
            "test.scale", t.drop_columns(["nucleus"]).replace_schema_metadata(None), factor=1
        )
    with pytest.raises(hydrofw.errors.PluginError, match="no processor named 'nmr.nothing'"):
        hydrofw.process("nmr.nothing", t)


def test_read_sniffs_and_passes_options(tmp_path):
    f = tmp_path / "a.twocol"
    f.write_text("# sfo1_hz=395e6 sw_hz=1e5\n1 0\n2 1\n3 2\n")
    t = hydrofw.read(f, nucleus="139La")
    assert t.num_rows == 1 and t.column("nucleus")[0].as_py() == "139La"
    assert t.column("re").to_pylist() == [[1.0, 2.0, 3.0]]
    with pytest.raises(ParameterError, match="a.twocol: reader 'twocol'.*'bogus'"):
        hydrofw.read(f, bogus=1)


def test_reader_crash_becomes_format_error_naming_file(tmp_path):
    f = tmp_path / "bad.twocol"
    f.write_text("# sfo1_hz=395e6\n1 0\n")  # no sw_hz: KeyError deep in the reader
    with pytest.raises(FormatError, match=r"bad.twocol: reader 'twocol' failed: KeyError"):
        hydrofw.read(f)


def test_unknown_format_names_path_and_readers(tmp_path):
    f = tmp_path / "mystery.bin"
    f.write_bytes(b"\x00\x01garbage")
    with pytest.raises(UnknownFormatError) as info:
        hydrofw.read(f)
    assert "mystery.bin" in str(info.value) and "twocol" in str(info.value)
    assert "twocol" in info.value.tried
    with pytest.raises(ReadError, match="no such file or folder"):
        hydrofw.read(tmp_path / "absent")


def test_zip_sources_read_without_extraction(tmp_path):
    z = tmp_path / "exp.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("exp/sample.twocol", "# sfo1_hz=4e8 sw_hz=1e4\n1 0\n")
        zf.writestr("exp/sub/other.txt", "x")
        zf.writestr("__MACOSX/exp/._sample.twocol", "junk")
    src = open_source(z)
    assert src.local_path is None and src.listdir() == ["sample.twocol", "sub"]
    assert src.child("sample.twocol").read_text().startswith("# sfo1")
    assert sorted(src.walk()) == ["sample.twocol", "sub/other.txt"]
    t = hydrofw.read(src.child("sample.twocol"))
    assert t.column("re").to_pylist() == [[1.0]]
    assert list(tmp_path.iterdir()) == [z]  # nothing extracted


@pytest.mark.parametrize("evil", ["../outside.txt", "/etc/passwd", "a/../../b"])
def test_zip_members_escaping_the_archive_are_refused(tmp_path, evil):
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(evil, "x")
    with pytest.raises(ReadError, match="escapes the archive"):
        open_source(z)
