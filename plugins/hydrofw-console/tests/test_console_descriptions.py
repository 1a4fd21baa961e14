"""Loading, validating and discovering console descriptions; corrupt sample files."""

from __future__ import annotations

import os
import tempfile
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from hydrofw_console.description import load_description
from hydrofw_console.discovery import ENV_VAR, ConsoleDescriptionWarning, discover
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hydrofw
from hydrofw.errors import FormatError, HydrofwError
from hydrofw.registry import refresh
from hydrofw.source import open_source

JCAMP_LIKE = textwrap.dedent("""
    [format]
    name = "lab-jcamp"
    description = "JCAMP-like header + little-endian int16 real-only data"
    [match]
    extensions = [".jhd"]
    magic = "##TITLE="
    [header]
    syntax = "jcamp"
    [fields]
    nucleus = { value = "2H" }
    observe_frequency_hz = { key = "FREQ", unit = "kHz" }
    spectral_width_hz = { key = "SW", scale = 2.0 }
    [data]
    file = "{stem}.bin"
    dtype = "int16"
    layout = "real"
    points = "NP"
""")


def _write_jcamp_like(folder: Path) -> Path:
    (folder / "a.jhd").write_text(
        "##TITLE= test\n$$ comment\n##FREQ= 61402.5\n##SW= 5000\n##NP= 4\n"
    )
    (folder / "a.bin").write_bytes(np.array([1, -2, 3, -4], "<i2").tobytes())
    return folder / "a.jhd"


def test_packaged_descriptions_load():
    found = discover([])
    assert set(found) == {"tabletop-hdr", "spinbox-single"}
    assert found["tabletop-hdr"].data.numpy_dtype == ">i4"


def test_user_folder_from_env_var(tmp_path, monkeypatch):
    formats = tmp_path / "formats"
    formats.mkdir()
    (formats / "lab.toml").write_text(JCAMP_LIKE)
    data = _write_jcamp_like(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(formats))
    try:
        refresh()
        (record,) = hydrofw.read_records(data)
    finally:
        monkeypatch.delenv(ENV_VAR)
        refresh()
    assert record.format == "console.lab-jcamp"
    assert record.nucleus == "2H"
    assert record.observe_frequency_hz == pytest.approx(61402.5e3)
    assert record.spectral_width_hz == pytest.approx(10000.0)
    assert record.re.tolist() == [1, -2, 3, -4] and "real_only" in record.flags


def test_explicit_description_option(tmp_path):
    toml = tmp_path / "lab.toml"
    toml.write_text(JCAMP_LIKE)
    data = _write_jcamp_like(tmp_path)
    (record,) = hydrofw.read_records(data, format="console", description=str(toml))
    assert record.n_points == 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('dtype = "int16"', 'dtype = "int12"'), "dtype = 'int12': expected one of"),
        (('unit = "kHz"', 'unit = "furlong"'), "unknown unit 'furlong'"),
        (('unit = "kHz"', 'unit = "ms"'), "unit 'ms' is not a unit of Hz"),
        (('nucleus = { value = "2H" }', ""), "must map nucleus"),
        (("[match]", "[nomatch]"), r"needs a \[match\] table"),
        (('name = "lab-jcamp"', 'name = "lab jcamp!"'), "name = 'lab jcamp!'"),
        (('points = "NP"', "points = 3"), "points: a header key"),
        (("[data]", "[data\n"), "invalid TOML"),
    ],
)
def test_invalid_descriptions(tmp_path, change, message):
    toml = tmp_path / "bad.toml"
    toml.write_text(JCAMP_LIKE.replace(*change))
    with pytest.raises(FormatError, match=rf"bad\.toml: .*{message}"):
        load_description(toml)


def test_broken_user_description_is_skipped_with_warning(tmp_path):
    (tmp_path / "broken.toml").write_text("[format]\nname = 'x'\n")
    with pytest.warns(ConsoleDescriptionWarning, match=r"broken\.toml"):
        found = discover([tmp_path])
    assert "x" not in found and "tabletop-hdr" in found


def test_truncated_data_names_data_file(tabletop):
    path, _ = tabletop
    dat = path.with_suffix(".dat")
    dat.write_bytes(dat.read_bytes()[:100])
    with pytest.raises(FormatError, match=r"run7\.dat: truncated: 100 data bytes"):
        list(hydrofw.read_records(path))


def test_missing_and_bad_header_values_name_line(tabletop):
    path, _ = tabletop
    lines = path.read_text().splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("freq")) + "\n")
    with pytest.raises(FormatError, match=r"run7\.hdr: header key 'freq' .* is missing"):
        list(hydrofw.read_records(path))
    path.write_text("\n".join(lines).replace("dwell = 2.0", "dwell = fast") + "\n")
    with pytest.raises(FormatError, match=r"run7\.hdr:4: 'dwell' \(for dwell_s\) is not a number"):
        list(hydrofw.read_records(path))
    path.write_text("\n".join(lines).replace("n_delays = 4", "n_delays = 3") + "\n")
    with pytest.raises(FormatError, match=r"'delays' must list 3 values"):
        list(hydrofw.read_records(path))


def test_spinbox_without_end_marker(spinbox):
    path, _ = spinbox
    path.write_bytes(path.read_bytes().replace(b"END HEADER", b"END HEADR"))
    with pytest.raises(FormatError, match=r"cell3_day12\.sbx:9: not a 'key: value' header line"):
        list(hydrofw.read_records(path))


def test_spinbox_odd_data_size(spinbox):
    path, _ = spinbox
    path.write_bytes(path.read_bytes() + b"\x00\x01")
    with pytest.raises(FormatError, match="data bytes are not 1 rows"):
        list(hydrofw.read_records(path))


@pytest.mark.parametrize("kind", ["tabletop", "spinbox"])
def test_fuzz_mutations_raise_only_hydrofw_errors(kind, sample_writers):
    fmt = discover([])["tabletop-hdr" if kind == "tabletop" else "spinbox-single"]
    from hydrofw_console import reader

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        cut=st.floats(0, 1),
        flips=st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), max_size=6),
        target=st.sampled_from([0, 1]),
    )
    def check(cut, flips, target):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            if kind == "tabletop":
                path, _ = sample_writers[kind](folder)
                victim = path if target == 0 else path.with_suffix(".dat")
            else:
                path, _ = sample_writers[kind](folder / "s.sbx")
                victim = path
            raw = bytearray(victim.read_bytes())
            for where, mask in flips:
                if raw:
                    raw[min(int(where * len(raw)), len(raw) - 1)] ^= mask
            victim.write_bytes(bytes(raw[: max(1, int(len(raw) * (0.5 + cut / 2)))]))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    list(reader.read(fmt, open_source(path)))
            except HydrofwError as exc:
                assert os.path.basename(str(path.parent)) in str(exc) or path.name in str(exc)

    check()
