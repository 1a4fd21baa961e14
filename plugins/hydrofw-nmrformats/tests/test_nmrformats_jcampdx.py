"""JCAMP-DX reader against the real files (PROVENANCE.md) and ASDF decoding."""

from __future__ import annotations

import datetime as dt

import nmrglue as ng
import numpy as np
import pytest
from hydrofw_nmrformats.asdf import decode_table
from hydrofw_nmrformats.jcampdx import JcampHeaderWarning

import hydrofw
from hydrofw.errors import FormatError

pytestmark = pytest.mark.filterwarnings("ignore:JCAMP-DX key without value")

JEOL = "jcampdx/jeol-1h-400-spectrum/jeol.dx"
INDOMETACIN = "jcampdx/bruker-av8800-1h-400-spectrum/indometacin_1h.dx"
LINK = "jcampdx/bruker-linked-fid-ft-1h-600/bruker_fid_ft.jdx"
NTUPLES = "jcampdx/bruker-ntuples-reim-1024/jcamp-1024.jdx"


@pytest.mark.parametrize("rel", [JEOL, INDOMETACIN])
def test_xydata_equal_nmrglue(real_data, rel, jcamp_value):
    path = real_data / rel
    (record,) = hydrofw.read_records(path)
    _dic, data = ng.jcampdx.read(str(path))
    np.testing.assert_array_equal(record.re, data)
    assert not np.any(record.im) and "real_only" in record.flags
    assert record.n_points == int(jcamp_value(path, "NPOINTS"))
    assert record.domain == "frequency" and record.x_unit == "Hz"
    assert record.observe_frequency_hz == pytest.approx(
        float(jcamp_value(path, ".OBSERVE FREQUENCY")) * 1e6
    )
    first, last = float(jcamp_value(path, "FIRSTX")), float(jcamp_value(path, "LASTX"))
    assert record.x_start == first
    assert record.x[-1] == pytest.approx(last)
    assert record.spectral_width_hz == pytest.approx(
        abs(last - first) / (record.n_points - 1) * record.n_points
    )
    assert record.nucleus == "1H"


def test_jeol_deltax_sign_disagrees_with_range(real_data):
    (record,) = hydrofw.read_records(real_data / JEOL)
    assert record.x_step < 0  # FIRSTX 6037.9 > LASTX -1953.6, although DELTAX is +0.4878
    assert "header_deltax_mismatch" in record.flags
    assert record.acquired_at == dt.datetime(2021, 2, 1, 15, 24, 11, tzinfo=dt.UTC)


def test_bruker_export_dollar_records(real_data):
    (record,) = hydrofw.read_records(real_data / INDOMETACIN)
    assert record.n_scans == 16
    assert record.receiver_gain == pytest.approx(71.8)
    assert record.temperature_k == pytest.approx(300)
    assert record.acquired_at == dt.datetime.fromtimestamp(1183137544, dt.UTC)
    assert record.pulse_program == "zg30"


def test_link_file_keeps_fid_and_spectrum(real_data):
    path = real_data / LINK
    fid, spectrum = hydrofw.read_records(path)
    _dic, data = ng.jcampdx.read(str(path))  # nmrglue 0.12: the spectrum block only
    np.testing.assert_array_equal(spectrum.re, data[0])
    np.testing.assert_array_equal(spectrum.im, data[1])
    assert spectrum.domain == "frequency" and spectrum.n_points == 65536
    assert fid.domain == "time" and fid.x_unit == "s" and fid.n_points == 32768
    # ##FACTOR of TIME 8.32e-05 s = dwell; SW_h 12019.23 Hz = 1/dwell
    assert fid.dwell_s == pytest.approx(8.32e-5)
    assert fid.spectral_width_hz == pytest.approx(12019.2307692308)
    assert fid.group_delay_points == 76
    assert fid.acquired_at == dt.datetime(2017, 4, 5, 7, 28, 47, tzinfo=dt.UTC)
    # ##FIRST= 0, 0, 0 and ##LAST= 2.7262144, -231, 276 of the FID block
    assert (fid.re[0], fid.im[0], fid.re[-1], fid.im[-1]) == (0, 0, -231, 276)
    assert fid.x[-1] == pytest.approx(2.72621439999999)
    # ##FIRST= 12019.047, -3779, -18937 and ##LAST= 0, -1293, -19086 of the spectrum block
    assert (spectrum.re[0], spectrum.im[0]) == (-3779, -18937)
    assert (spectrum.re[-1], spectrum.im[-1]) == (-1293, -19086)
    assert fid.id != spectrum.id


def test_ntuples_real_imaginary(real_data):
    path = real_data / NTUPLES
    (record,) = hydrofw.read_records(path)
    _dic, data = ng.jcampdx.read(str(path))
    np.testing.assert_allclose(record.re, data[0])
    np.testing.assert_allclose(record.im, data[1])
    assert record.n_points == 1024
    assert record.x_start == pytest.approx(1795.1153526306152344)


def test_header_count_disagreeing_with_data_warns(tmp_path):
    text = "\n".join(
        [
            "##TITLE= count test",
            "##JCAMP-DX= 5.00",
            "##DATA TYPE= NMR SPECTRUM",
            "##.OBSERVE FREQUENCY= 400.0",
            "##.OBSERVE NUCLEUS= ^1H",
            "##XUNITS= HZ",
            "##FIRSTX= 0",
            "##LASTX= 3",
            "##NPOINTS= 6",
            "##YFACTOR= 0.5",
            "##XYDATA= (X++(Y..Y))",
            "0 2 4 6 8",
            "##END=",
        ]
    )
    path = tmp_path / "count.jdx"
    path.write_text(text)
    with pytest.warns(JcampHeaderWarning, match="announces 6 points but holds 4"):
        (record,) = hydrofw.read_records(path)
    assert record.re.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert "header_count_mismatch" in record.flags


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["1 1 2 3 4"], [1, 2, 3, 4]),
        (["1 1+2-3+4"], [1, 2, -3, 4]),
        (["1 A B C D"], [1, 2, 3, 4]),  # SQZ
        (["1 AJJJ"], [1, 2, 3, 4]),  # DIF
        (["1 AJU"], [1, 2, 3, 4]),  # DUP of a DIF: J repeated 3 times in all
        (["1 ATT"], [1, 1, 1]),  # DUP of a value, twice
        (["1 A1 B2", "3 C3"], [11, 22, 33]),  # no DIF at the end: no Y check
        (["1 A1J2", "3 B3K"], [11, 23, 25]),  # DIF at the end: 'B3'=23 is the Y check
        (["1 AJJ", "4 C"], [1, 2, 3]),
        (["1 @a5k0"], [0, -15, -35]),
    ],
)
def test_asdf_decoding(lines, expected):
    values, _x = decode_table(lines, "t.jdx", 1)
    assert values.tolist() == expected


def test_asdf_bad_y_check_is_an_error():
    with pytest.raises(FormatError, match=r"t\.jdx:2: Y check failed"):
        decode_table(["1 AJJ", "4 D"], "t.jdx", 1)


def test_ppm_axis_spectrum(tmp_path):
    text = "\n".join(
        [
            "##TITLE= ppm test",
            "##JCAMP-DX= 4.24",
            "##DATA TYPE= NMR SPECTRUM",
            "##.OBSERVE FREQUENCY= 56.5",
            "##.OBSERVE NUCLEUS= ^139La",
            "##XUNITS= PPM",
            "##FIRSTX= 100",
            "##LASTX= -100",
            "##NPOINTS= 5",
            "##XYDATA= (X++(Y..Y))",
            "100 A J J j j",
            "##END=",
        ]
    )
    path = tmp_path / "la.dx"
    path.write_text(text)
    (record,) = hydrofw.read_records(path)
    assert record.re.tolist() == [1, 2, 3, 2, 1]
    assert record.nucleus == "139La" and record.x_unit == "ppm" and record.x_step == -50
    assert record.reference_frequency_hz == pytest.approx(56.5e6)
    # 5 points of 50 ppm at 56.5 MHz: 250 ppm * 56.5 Hz/ppm
    assert record.spectral_width_hz == pytest.approx(250 * 56.5)
