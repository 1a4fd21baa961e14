"""Varian/Agilent reader against the real Inova and VNMRS experiments (PROVENANCE.md)."""

from __future__ import annotations

import datetime as dt

import nmrglue as ng
import numpy as np
import pytest

import hydrofw

INOVA = "varian/inova-31p-162-array24/test1.fid"
VNMRS = "varian/vnmrs-87rb-196-satrec-solid/satrec2D.fid"


@pytest.mark.parametrize("rel", [INOVA, VNMRS])
def test_data_and_header_equal_nmrglue(real_data, rel):
    path = real_data / rel
    records = list(hydrofw.read_records(path))
    dic, data = ng.varian.read(str(path))
    procpar = dic["procpar"]

    def value(name):
        return procpar[name]["values"][0]

    assert len(records) == data.shape[0] == int(value("arraydim"))
    for record, row in zip(records, data, strict=True):
        np.testing.assert_array_equal(record.data, row)
        assert record.format == "varian"
        assert record.observe_frequency_hz == pytest.approx(float(value("sfrq")) * 1e6)
        assert record.spectral_width_hz == pytest.approx(float(value("sw")))
        assert record.n_points == int(value("np")) // 2
        assert record.pulse_program == value("seqfil")
        assert record.receiver_gain == float(value("gain"))


def test_inova_nt_array(real_data):
    records = list(hydrofw.read_records(real_data / INOVA))
    assert records[0].nucleus == "31P"
    assert {r.array_variable for r in records} == {"nt"}
    assert all(r.n_scans == 12 and r.array_value == 12 for r in records)
    assert records[0].acquired_at == dt.datetime(2015, 12, 6, 14, 15, 9, tzinfo=dt.UTC)
    assert "acquired_at_local_time" in records[0].flags
    # temp is active: -4 degC
    assert records[0].temperature_k == pytest.approx(-4 + 273.15)


def test_vnmrs_saturation_recovery_delays(real_data):
    path = real_data / VNMRS
    records = list(hydrofw.read_records(path))
    dic, _ = ng.varian.read(str(path))
    delays = [float(v) for v in dic["procpar"]["tau_recovery"]["values"]]
    assert records[0].nucleus == "87Rb"
    assert [r.array_value for r in records] == pytest.approx(delays)
    assert {r.array_variable for r in records} == {"tau_recovery"}
    assert {r.array_unit for r in records} == {"s"}
    assert [r.increment for r in records] == list(range(12))
    assert records[0].temperature_k is None  # temp is not active on this console
    assert records[0].n_scans == 4


def test_fid_file_itself(real_data):
    by_file = list(hydrofw.read_records(real_data / VNMRS / "fid"))
    by_folder = list(hydrofw.read_records(real_data / VNMRS))
    assert [r.id for r in by_file] == [r.id for r in by_folder]


def test_zip_of_fid_folder(real_data, tmp_path):
    import zipfile

    folder = real_data / VNMRS
    archive = tmp_path / "satrec.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in folder.iterdir():
            zf.write(p, f"satrec2D.fid/{p.name}")
    by_zip = list(hydrofw.read_records(archive))
    by_folder = list(hydrofw.read_records(folder))
    assert [r.id for r in by_zip] == [r.id for r in by_folder]
    assert by_zip[0].source_path.endswith("satrec.zip!/satrec2D.fid")
