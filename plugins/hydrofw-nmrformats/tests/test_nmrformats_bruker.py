"""Bruker reader against the real experiments of ../shared/data/real/bruker (PROVENANCE.md)."""

from __future__ import annotations

import datetime as dt
import math

import nmrglue as ng
import numpy as np
import pytest
from nmrglue.fileio.bruker import bruker_dsp_table

import hydrofw
from hydrofw.nuclei import nucleus as nucleus_data

EXPERIMENTS = [
    "bruker/xwinnmr26-1h-400/1",
    "bruker/xwinnmr35-13c-cpmas-solid/80",
    "bruker/topspin32-1h-500/1",
    "bruker/topspin13-odnp-1h-15mhz-t1-ser/28",
    "bruker/topspin406-1h-400-strychnine/10",
]


def _records(path, **options):
    return list(hydrofw.read_records(path, **options))


@pytest.mark.parametrize("rel", EXPERIMENTS)
def test_metadata_equal_header(real_data, rel, jcamp_value):
    acqus = real_data / rel / "acqus"
    records = [r for r in _records(real_data / rel) if r.domain == "time"]
    first = records[0]
    assert first.format == "bruker"
    assert first.reader.startswith("hydrofw-nmrformats ")
    assert first.observe_frequency_hz == pytest.approx(float(jcamp_value(acqus, "$SFO1")) * 1e6)
    assert first.spectral_width_hz == pytest.approx(float(jcamp_value(acqus, "$SW_h")))
    assert first.n_points == int(jcamp_value(acqus, "$TD")) // 2
    assert first.n_scans == int(jcamp_value(acqus, "$NS"))
    assert first.dwell_s == pytest.approx(1.0 / float(jcamp_value(acqus, "$SW_h")))
    assert first.x_step == first.dwell_s and first.x_start == 0.0 and first.x_unit == "s"
    assert first.pulse_program == jcamp_value(acqus, "$PULPROG")
    assert first.receiver_gain == pytest.approx(float(jcamp_value(acqus, "$RG")))
    epoch = int(jcamp_value(acqus, "$DATE"))
    assert first.acquired_at == dt.datetime.fromtimestamp(epoch, dt.UTC)
    assert first.parameters["TD"] == jcamp_value(acqus, "$TD")
    assert len({r.id for r in records}) == len(records)


@pytest.mark.parametrize("rel", EXPERIMENTS)
def test_data_equal_nmrglue_without_padding(real_data, rel, nmrglue_bruker):
    records = [r for r in _records(real_data / rel) if r.domain == "time"]
    _dic, data = nmrglue_bruker(real_data / rel)
    assert len(records) == data.shape[0]
    for record, row in zip(records, data, strict=True):
        n = record.n_points
        np.testing.assert_array_equal(record.data, row[:n])
        # nmrglue pads TD to a 256-point block: what it adds beyond TD/2 is zeros
        assert not np.any(row[n:])


def test_td_not_multiple_of_256_gives_exact_count(real_data):
    (record,) = _records(real_data / "bruker/topspin32-1h-500/1")
    assert record.n_points == 24974 // 2 == 12487


def test_topspin4_odd_block_no_warning(real_data, recwarn):
    (record,) = _records(real_data / "bruker/topspin406-1h-400-strychnine/10")
    assert record.n_points == 80126 // 2
    assert not [w for w in recwarn if "shaped" in str(w.message)]


@pytest.mark.parametrize(
    ("rel", "dspfvs", "decim", "grpdly"),
    [
        ("bruker/xwinnmr26-1h-400/1", 12, 32, None),
        ("bruker/xwinnmr35-13c-cpmas-solid/80", 10, 4, None),
        ("bruker/topspin13-odnp-1h-15mhz-t1-ser/28", 10, 12, None),
        ("bruker/topspin32-1h-500/1", 21, 80, 76.0),
        ("bruker/topspin406-1h-400-strychnine/10", 20, 2080, 67.9842071533203),
    ],
)
def test_group_delay(real_data, rel, dspfvs, decim, grpdly):
    record = _records(real_data / rel)[0]
    expected = grpdly if grpdly is not None else bruker_dsp_table[dspfvs][decim]
    assert record.group_delay_points == pytest.approx(expected)


def test_pseudo_2d_ser_with_vdlist(real_data):
    records = _records(real_data / "bruker/topspin13-odnp-1h-15mhz-t1-ser/28")
    assert [r.increment for r in records] == list(range(8))
    assert {r.array_variable for r in records} == {"vd"}
    assert {r.array_unit for r in records} == {"s"}
    # vdlist: 20.000m 56.854m 161.616m 459.422m 1.306 3.713 10.553 30.000 (seconds)
    assert [r.array_value for r in records] == pytest.approx(
        [0.020, 0.056854, 0.161616, 0.459422, 1.306, 3.713, 10.553, 30.0]
    )
    assert all(r.n_points == 15966 // 2 for r in records)


def test_nuc1_15n_at_14_83_mhz_is_flagged_and_overridable(real_data):
    path = real_data / "bruker/topspin13-odnp-1h-15mhz-t1-ser/28"
    record = _records(path)[0]
    assert record.nucleus == "15N"
    assert "nucleus_frequency_mismatch" in record.flags
    assert record.parameters["NUC1"] == "<15N>"
    fixed = _records(path, nucleus="1H")[0]
    assert fixed.nucleus == "1H"
    assert "nucleus_overridden" in fixed.flags
    assert fixed.parameters["NUC1"] == "<15N>"
    assert fixed.id != record.id
    # 1H at 14.8314 MHz is a 0.348 T magnet: gamma/2pi * B0 recomputed from IUPAC data
    field_t = fixed.observe_frequency_hz / nucleus_data("1H").gamma_hz_t
    assert field_t == pytest.approx(0.3484, abs=1e-3)


def test_consistent_nuclei_are_not_flagged(real_data):
    for rel in ("bruker/xwinnmr35-13c-cpmas-solid/80", "bruker/xwinnmr26-1h-400/1"):
        record = _records(real_data / rel)[0]
        assert "nucleus_frequency_mismatch" not in record.flags


def test_processed_pdata_matches_nmrglue(real_data):
    path = real_data / "bruker/topspin32-1h-500/1"
    records = _records(path, processed=True)
    spectrum = [r for r in records if r.domain == "frequency"]
    assert len(spectrum) == 1
    (s,) = spectrum
    dic, real = ng.bruker.read_pdata(str(path / "pdata/1"), all_components=False)
    np.testing.assert_allclose(s.re, real)
    procs = dic["procs"]
    assert s.x_unit == "ppm" and s.x_start == pytest.approx(procs["OFFSET"])
    assert s.x_step == pytest.approx(-procs["SW_p"] / procs["SF"] / procs["SI"])
    assert s.reference_frequency_hz == pytest.approx(procs["SF"] * 1e6)


def test_missing_processed_files_are_not_an_error(real_data):
    records = _records(real_data / "bruker/xwinnmr26-1h-400/1", processed=True)
    assert [r.domain for r in records] == ["time"]


def test_fid_file_itself_and_zip(real_data, tmp_path):
    import zipfile

    folder = real_data / "bruker/xwinnmr26-1h-400/1"
    (by_folder,) = _records(folder)
    (by_file,) = _records(folder / "fid")
    archive = tmp_path / "exp.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in folder.rglob("*"):
            if p.is_file():
                zf.write(p, f"1/{p.relative_to(folder)}")
    (by_zip,) = _records(archive)
    assert by_folder.id == by_file.id == by_zip.id
    np.testing.assert_array_equal(by_folder.re, by_zip.re)


def test_dwell_and_sw_relation(real_data):
    (record,) = _records(real_data / "bruker/xwinnmr26-1h-400/1")
    acquisition_time_s = record.n_points * record.dwell_s
    assert acquisition_time_s == pytest.approx(16384 / 4807.69230769231)
    assert math.isclose(record.x[-1], (record.n_points - 1) * record.dwell_s)


def _as_float64(acqus_path, ints: np.ndarray) -> bytes:
    """Rewrite an experiment as Avance NEO float64 little-endian data (DTYPA=2, BYTORDA=0)."""
    text = acqus_path.read_text(encoding="latin-1")
    text = text.replace("##$DTYPA= 0", "##$DTYPA= 2").replace("##$BYTORDA= 1", "##$BYTORDA= 0")
    acqus_path.write_text(text, encoding="latin-1")
    return ints.astype("<f8").tobytes()


def test_neo_float64_fid(copy_real):
    exp = copy_real("bruker/xwinnmr26-1h-400/1")
    ints = np.frombuffer((exp / "fid").read_bytes(), ">i4")
    (exp / "fid").write_bytes(_as_float64(exp / "acqus", ints))
    (record,) = _records(exp)
    np.testing.assert_array_equal(record.re, ints[0::2])
    np.testing.assert_array_equal(record.im, ints[1::2])


def test_neo_float64_ser_with_block_padding(copy_real, nmrglue_bruker):
    exp = copy_real("bruker/topspin13-odnp-1h-15mhz-t1-ser/28")
    _dic, expected = nmrglue_bruker(exp)
    td = 15966
    rows = np.frombuffer((exp / "ser").read_bytes(), ">i4").reshape(8, -1)[:, :td]
    padded = np.zeros((8, 128000 // 8))  # 15966 float64 = 127728 bytes -> 125 blocks of 1024
    padded[:, :td] = rows
    (exp / "ser").write_bytes(_as_float64(exp / "acqus", padded))
    records = _records(exp)
    assert len(records) == 8
    for record, row in zip(records, expected, strict=True):
        np.testing.assert_array_equal(record.data, row[: td // 2])
