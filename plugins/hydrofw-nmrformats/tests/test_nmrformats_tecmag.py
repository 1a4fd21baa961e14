"""TecMag reader against the real .tnt files (PROVENANCE.md: TNT1.001 from 1999, TNT1.005)."""

from __future__ import annotations

import datetime as dt

import nmrglue as ng
import numpy as np
import pytest

import hydrofw
from hydrofw.nuclei import nucleus as nucleus_data

FILES = ["tecmag/tnt1001-fid-1999/FID_0.tnt", "tecmag/tnt1005-dnplab-1d/1D.tnt"]


@pytest.mark.parametrize("rel", FILES)
def test_data_and_header_equal_nmrglue(real_data, rel):
    path = real_data / rel
    records = list(hydrofw.read_records(path))
    dic, data = ng.tecmag.read(str(path))
    rows = data.reshape(data.shape[0], -1, order="F").T
    assert len(records) == rows.shape[0]
    for record, row in zip(records, rows, strict=True):
        np.testing.assert_array_equal(record.data, row)
        assert record.format == "tecmag"
        assert record.observe_frequency_hz == pytest.approx(dic["ob_freq"][0] * 1e6)
        assert record.dwell_s == pytest.approx(dic["dwell"][0])
        # TNMR's sw is the half width: the full complex bandwidth is 1/dwell = 2 sw
        assert record.spectral_width_hz == pytest.approx(2 * dic["sw"][0])
        assert record.n_scans == dic["actual_scans"]
        assert record.n_points == dic["actual_npts"][0]
        assert record.nucleus == "1H"


def test_1999_file_date_cleaned_and_default_field_flagged(real_data):
    (record,) = hydrofw.read_records(real_data / FILES[0])
    assert record.acquired_at == dt.datetime(1999, 10, 15, 12, 10, 57, tzinfo=dt.UTC)
    assert "acquired_at_local_time" in record.flags
    assert record.parameters["date"] == "1999/10/15 12:10:57"
    # 2.11 T is TNMR's default: 1H would resonate at gamma/2pi * 2.11 T, not at 4.64 MHz
    assert nucleus_data("1H").larmor_frequency_hz(2.11) == pytest.approx(89.84e6, rel=1e-3)
    assert "magnet_field_not_recorded" in record.flags
    assert record.spectral_width_hz == pytest.approx(1.0 / 10e-6)
    assert record.n_scans == 8


def test_three_fids_become_rows_with_utc_start_time(real_data):
    records = list(hydrofw.read_records(real_data / FILES[1]))
    assert [r.increment for r in records] == [0, 1, 2]
    # start_time 1421178929 is 19:55:29 UTC; the date text (14:56:10 local, EST) agrees
    assert records[0].acquired_at == dt.datetime(2015, 1, 13, 19, 55, 29, tzinfo=dt.UTC)
    assert "acquired_at_local_time" not in records[0].flags
    assert records[0].parameters["date"] == "2015/1/13 14:56:10"
    assert records[0].receiver_gain == 75
    assert len({r.id for r in records}) == 3


def _pascal(text: bytes) -> bytes:
    return len(text).to_bytes(4, "little") + text


def test_pseq_delay_table_becomes_the_array_variable(real_data, tmp_path):
    # the real three-FID file, with a delay table appended to its PSEQ section the way TNMR
    # stores tables: a length-prefixed name, then length-prefixed tokens with SI suffixes
    raw = (real_data / FILES[1]).read_bytes()
    tables = _pascal(b"rfamp") + _pascal(b"1 2 3 4") + _pascal(b"vdlist") + _pascal(b"50u 1.5m 2")
    path = tmp_path / "arrayed.tnt"
    path.write_bytes(raw + tables)
    records = list(hydrofw.read_records(path))
    assert [r.array_variable for r in records] == ["vdlist"] * 3
    assert [r.array_value for r in records] == [50e-6, 1.5e-3, 2.0]
    assert records[0].array_unit == "s"
    named = list(hydrofw.read_records(path, array_table="rfamp"))
    assert [r.array_value for r in named] == [1.0, 2.0, 3.0] and named[0].array_unit is None
    with pytest.raises(hydrofw.errors.FormatError, match="no PSEQ table 'vd2'.*rfamp, vdlist"):
        list(hydrofw.read_records(path, array_table="vd2"))
    # the unmodified file has no table with one value per FID: no array variable
    assert {r.array_variable for r in hydrofw.read_records(real_data / FILES[1])} == {None}
