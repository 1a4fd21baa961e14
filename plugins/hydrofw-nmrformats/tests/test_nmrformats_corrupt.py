"""Corrupt inputs give a hydrofw.errors exception naming the file and the problem."""

from __future__ import annotations

import os
import zipfile

import pytest

import hydrofw
from hydrofw.errors import FormatError, HydrofwError, ReadError, UnknownFormatError

XWIN = "bruker/xwinnmr26-1h-400/1"


def _read(path, **options):
    return list(hydrofw.read_records(path, **options))


def test_truncated_fid(copy_real):
    exp = copy_real(XWIN)
    fid = exp / "fid"
    fid.write_bytes(fid.read_bytes()[:1000])
    with pytest.raises(FormatError, match=r"1/fid: truncated: holds 1000 bytes, TD needs 131072"):
        _read(exp)


def test_truncated_ser_rows(copy_real):
    exp = copy_real("bruker/topspin13-odnp-1h-15mhz-t1-ser/28")
    ser = exp / "ser"
    ser.write_bytes(ser.read_bytes()[:-100])
    with pytest.raises(FormatError, match=r"28/ser: holds 515996 bytes, not a whole number"):
        _read(exp)


def test_incomplete_ser_is_flagged(copy_real):
    exp = copy_real("bruker/topspin13-odnp-1h-15mhz-t1-ser/28")
    ser = exp / "ser"
    ser.write_bytes(ser.read_bytes()[: 3 * 64512])
    records = _read(exp)
    assert len(records) == 3
    assert "incomplete_acquisition" in records[0].flags


@pytest.mark.parametrize("key", ["TD", "SFO1", "SW_h", "BYTORDA"])
def test_acqus_missing_key(copy_real, key):
    exp = copy_real(XWIN)
    acqus = exp / "acqus"
    lines = acqus.read_text(encoding="latin-1").splitlines()
    acqus.write_text("\n".join(line for line in lines if not line.startswith(f"##${key}=")))
    with pytest.raises(FormatError, match=rf"acqus: header key '{key}' is missing"):
        _read(exp)


def test_acqus_bad_number_names_line(copy_real):
    exp = copy_real(XWIN)
    acqus = exp / "acqus"
    text = acqus.read_text(encoding="latin-1")
    acqus.write_text(text.replace("##$SW_h= 4807.69230769231", "##$SW_h= fast"))
    line = 1 + text.splitlines().index("##$SW_h= 4807.69230769231")
    with pytest.raises(FormatError, match=rf"acqus:{line}: header key 'SW_h' is not a number"):
        _read(exp)


def test_wrong_byte_order(copy_real):
    exp = copy_real(XWIN)
    acqus = exp / "acqus"
    acqus.write_text(acqus.read_text(encoding="latin-1").replace("##$BYTORDA= 1", "##$BYTORDA= 0"))
    with pytest.raises(FormatError, match=r"fid: data look byte-swapped.*BYTORDA"):
        _read(exp)


def test_float64_with_wrong_type(copy_real):
    exp = copy_real(XWIN)
    acqus = exp / "acqus"
    acqus.write_text(acqus.read_text(encoding="latin-1").replace("##$DTYPA= 0", "##$DTYPA= 2"))
    with pytest.raises(FormatError, match=r"fid: (truncated|data hold non-finite)"):
        _read(exp)


def test_zero_length_files(copy_real, tmp_path):
    exp = copy_real(XWIN)
    (exp / "fid").write_bytes(b"")
    with pytest.raises(FormatError, match=r"fid: truncated: holds 0 bytes"):
        _read(exp)
    empty = tmp_path / "empty.jdx"
    empty.write_bytes(b"")
    with pytest.raises(HydrofwError, match=r"empty\.jdx"):
        _read(empty)
    tnt = tmp_path / "empty.tnt"
    tnt.write_bytes(b"")
    with pytest.raises(HydrofwError, match=r"empty\.tnt"):
        _read(tnt)


def test_folder_without_experiment(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    with pytest.raises(UnknownFormatError, match=str(tmp_path)):
        hydrofw.read(tmp_path)
    with pytest.raises(FormatError, match="not a Bruker experiment"):
        hydrofw.read(tmp_path, format="bruker")


def test_random_bytes(tmp_path):
    blob = tmp_path / "fid"
    blob.write_bytes(os.urandom(4096))
    with pytest.raises(UnknownFormatError, match="no reader recognises"):
        hydrofw.read(blob)
    tnt = tmp_path / "random.tnt"
    tnt.write_bytes(os.urandom(4096))
    with pytest.raises(FormatError, match="random.tnt: not a TecMag file"):
        hydrofw.read(tnt)


def test_truncated_tnt_and_varian(copy_real):
    tnt = copy_real("tecmag/tnt1005-dnplab-1d/1D.tnt")
    tnt.write_bytes(tnt.read_bytes()[:5000])
    with pytest.raises(FormatError, match=r"1D\.tnt: .*(truncated|DATA)"):
        _read(tnt)
    exp = copy_real("varian/vnmrs-87rb-196-satrec-solid/satrec2D.fid")
    (exp / "fid").write_bytes((exp / "fid").read_bytes()[:20])
    with pytest.raises(FormatError, match=r"satrec2D\.fid/fid: 20 bytes"):
        _read(exp)


def test_varian_missing_sfrq(copy_real):
    exp = copy_real("varian/vnmrs-87rb-196-satrec-solid/satrec2D.fid")
    lines = (exp / "procpar").read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("sfrq "))
    del lines[i : i + 3]
    (exp / "procpar").write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match=r"procpar: header key 'sfrq' is missing"):
        _read(exp)


def test_jcamp_truncated(copy_real):
    path = copy_real("jcampdx/jeol-1h-400-spectrum/jeol.dx")
    path.write_text(path.read_text(encoding="latin-1")[:20000], encoding="latin-1")
    with pytest.raises(FormatError, match=r"jeol\.dx:\d+: block without ##END="):
        _read(path)


def test_nucleus_none_needs_override(copy_real):
    exp = copy_real(XWIN)
    acqus = exp / "acqus"
    text = acqus.read_text(encoding="latin-1").replace("##$NUC1= <1H>", "##$NUC1= <NONE>")
    # no other channel gives the magnet's 1H frequency either
    text = "\n".join(line for line in text.splitlines() if not line.startswith("##$BF"))
    acqus.write_text(text)
    with pytest.raises(
        FormatError, match=r"acqus: the header names no known nucleus .*-o nucleus=1H"
    ):
        _read(exp)
    (record,) = _read(exp, nucleus="1H")
    assert record.nucleus == "1H" and "nucleus_overridden" in record.flags


def test_nucleus_none_guessed_from_other_channels(copy_real):
    exp = copy_real(XWIN)
    acqus = exp / "acqus"
    acqus.write_text(
        acqus.read_text(encoding="latin-1").replace("##$NUC1= <1H>", "##$NUC1= <NONE>")
    )
    (record,) = _read(exp)
    assert record.nucleus == "1H" and "nucleus_inferred" in record.flags


def test_bad_override_is_a_parameter_error(real_data):
    with pytest.raises(hydrofw.errors.ParameterError, match="nucleus='Xx7'"):
        _read(real_data / XWIN, nucleus="Xx7")


def test_zip_member_escaping_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../acqus", "##TITLE= x\n")
        zf.writestr("fid", b"\x00" * 16)
    with pytest.raises(ReadError, match="escapes the archive"):
        hydrofw.read(archive)


def test_bruker_real_only_acquisition(copy_real):
    exp = copy_real(XWIN)
    acqus = exp / "acqus"
    acqus.write_text(acqus.read_text(encoding="latin-1").replace("##$AQ_mod= 3", "##$AQ_mod= 0"))
    (record,) = _read(exp)
    assert record.n_points == 32768 and not record.im.any()
    assert "real_only" in record.flags


def test_varian_interrupted_acquisition(copy_real):
    exp = copy_real("varian/vnmrs-87rb-196-satrec-solid/satrec2D.fid")
    raw = (exp / "fid").read_bytes()
    block = (len(raw) - 32) // 12
    (exp / "fid").write_bytes(raw[: 32 + 5 * block + 100])
    records = _read(exp)
    assert len(records) == 5
    assert all("incomplete_acquisition" in r.flags for r in records)
