"""Headers that name no nucleus or a huge count, files longer or shorter than their header says,
incomplete experiment folders, links to devices, JCAMP-DX compound files with peak blocks. The
files are written by the tests from copies of the real ones, with the same traits as the
failures seen on other instruments."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

import hydrofw
from hydrofw.errors import FormatError, ReadError, UnknownFormatError

TOPSPIN = "bruker/topspin32-1h-500/1"
SATREC = "varian/vnmrs-87rb-196-satrec-solid/satrec2D.fid"
LINK = "jcampdx/bruker-linked-fid-ft-1h-600/bruker_fid_ft.jdx"


def _set(acqus: Path, **values: str) -> None:
    text = acqus.read_text(encoding="latin-1")
    for key, value in values.items():
        text, n = re.subn(rf"^##\$?{key}= .*$", f"##${key}= {value}", text, flags=re.M)
        assert n == 1, key
    acqus.write_text(text, encoding="latin-1")


def test_topspin_nuc1_none_113cd_at_110_998_mhz_is_inferred(copy_real):
    exp = copy_real(TOPSPIN)
    _set(exp / "acqus", NUC1="<NONE>", SFO1="110.998", BF1="110.9955", BF2="500.13",
         NUC2="<off>")  # fmt: skip
    records = list(hydrofw.read_records(exp))
    assert {r.nucleus for r in records} == {"113Cd"}
    assert "nucleus_inferred" in records[0].flags
    assert records[0].parameters["NUC1"] == "<NONE>"
    assert np.all(np.isfinite(records[0].re))
    # the user's choice wins, spelled as the CLI takes it
    (fixed,) = hydrofw.read_records(exp, nucleus="111Cd")
    assert fixed.nucleus == "111Cd" and "nucleus_overridden" in fixed.flags


@pytest.mark.parametrize("name, xi", [("45Sc", 24.291747), ("51V", 26.302948),
                                      ("119Sn", 37.290632), ("207Pb", 20.920599),
                                      ("2H", 15.350609)])  # fmt: skip
def test_other_nuclei_resolve_from_bf2(copy_real, name, xi):
    exp = copy_real(TOPSPIN)
    bf1 = xi / 100 * 500.13
    _set(exp / "acqus", NUC1="<NONE>", SFO1=f"{bf1 * (1 + 2e-4):.7f}", BF1=f"{bf1:.7f}",
         BF2="500.13", NUC2="<off>")  # fmt: skip
    (record,) = hydrofw.read_records(exp)
    assert record.nucleus == name and "nucleus_inferred" in record.flags


def test_ambiguous_nucleus_error_lists_cli_candidates(copy_real):
    exp = copy_real(TOPSPIN)
    text = (exp / "acqus").read_text(encoding="latin-1")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("##$BF"))
    (exp / "acqus").write_text(text, encoding="latin-1")
    _set(exp / "acqus", NUC1="<NONE>", SFO1="61.42239")  # 2H on 400 MHz, 14N on 850 ...
    with pytest.raises(FormatError, match=r"acqus: .*fits several .*-o nucleus=2H"):
        hydrofw.read(exp)


@pytest.mark.parametrize("ns", ["9223372036854775808", "1e308", "-5"])
def test_huge_or_negative_ns_is_a_format_error_naming_line_and_key(copy_real, ns):
    exp = copy_real(TOPSPIN)
    _set(exp / "acqus", NS=ns)
    with pytest.raises(FormatError, match=r"acqus:\d+: header key 'NS'"):
        hydrofw.read(exp)


def test_varian_nt_minus_1e300_is_a_format_error(copy_real):
    exp = copy_real(SATREC)
    procpar = exp / "procpar"
    text = procpar.read_text(encoding="latin-1")
    text = re.sub(r"(?m)^(nt \d.*\n)1 4 \n", r"\g<1>1 -1e300 \n", text)
    procpar.write_text(text, encoding="latin-1")
    assert "-1e300" in text
    with pytest.raises(FormatError, match=r"procpar:\d+: header key 'nt'"):
        hydrofw.read(exp)


def test_varian_fid_longer_than_its_header_keeps_the_announced_traces(copy_real):
    exp = copy_real(SATREC)
    original = list(hydrofw.read_records(exp))
    fid = exp / "fid"
    raw = fid.read_bytes()
    block = (len(raw) - 32) // 12
    fid.write_bytes(raw + raw[32 : 32 + 3 * block])  # three extra blocks, as seen in the field
    records = list(hydrofw.read_records(exp))
    assert len(records) == 12
    assert all("trailing_bytes" in r.flags for r in records)
    assert all(np.all(np.isfinite(r.re)) and np.all(np.isfinite(r.im)) for r in records)
    assert [r.array_value for r in records] == [r.array_value for r in original]
    for got, want in zip(records, original, strict=True):
        np.testing.assert_array_equal(got.re, want.re)


def test_varian_fid_far_longer_than_its_header_is_refused_unread(copy_real):
    exp = copy_real(SATREC)
    with (exp / "fid").open("ab") as fh:
        fh.truncate((exp / "fid").stat().st_size + (8 << 20))
    with pytest.raises(FormatError, match="fid: holds .* more than the"):
        hydrofw.read(exp)


def test_bruker_folder_without_fid_says_so(copy_real):
    exp = copy_real(TOPSPIN)
    (exp / "fid").unlink()
    with pytest.raises(FormatError, match="acqus: the experiment has acqus but no fid or ser"):
        hydrofw.read(exp)


def test_varian_folder_without_procpar_says_so(copy_real):
    exp = copy_real(SATREC)
    (exp / "procpar").unlink()
    with pytest.raises(FormatError, match="procpar: the Varian experiment has a fid but no"):
        hydrofw.read(exp)


def test_empty_folder_still_says_no_reader(tmp_path):
    with pytest.raises(UnknownFormatError, match="no reader recognises"):
        hydrofw.read(tmp_path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
@pytest.mark.parametrize("rel, member", [(TOPSPIN, "fid"), ("tecmag/tnt1005-dnplab-1d/1D.tnt", "")])
def test_data_file_linked_to_dev_zero_is_refused_at_once(copy_real, rel, member):
    path = copy_real(rel)
    target = path / member if member else path
    target.unlink()
    target.symlink_to("/dev/zero")
    start = time.monotonic()
    with pytest.raises((ReadError, UnknownFormatError)):
        hydrofw.read(path)
    assert time.monotonic() - start < 5


ASSIGNMENTS = """##TITLE= assignments
##JCAMP-DX= 5.01
##DATA TYPE= NMR PEAK ASSIGNMENTS
##BLOCK_ID= 3
##.OBSERVE FREQUENCY= 600.1339
##.OBSERVE NUCLEUS= ^1H
##PEAK ASSIGNMENTS=(XYA)
(2.50, 100.0, <DMSO>)
(3.33, 40.0, <H2O>)
##END=
"""


def test_link_file_with_a_peak_assignment_block_keeps_all_data(copy_real):
    path = copy_real(LINK)
    text = path.read_text(encoding="latin-1").rstrip()
    assert text.endswith("##END=")
    path.write_text(text[: -len("##END=")] + ASSIGNMENTS + "##END=\n", encoding="latin-1")
    records = list(hydrofw.read_records(path))
    assert [r.domain for r in records] == ["time", "frequency"]  # FID and spectrum both kept
    for r in records:
        assert "peak_tables_kept" in r.flags
        assert "(2.50, 100.0, <DMSO>)" in r.parameters["block2.PEAK ASSIGNMENTS"]


def test_peak_table_alone_is_an_error_naming_it(tmp_path):
    path = tmp_path / "peaks.jdx"
    path.write_text(ASSIGNMENTS)
    with pytest.raises(FormatError, match="no data block .* peak tables"):
        hydrofw.read(path)


def test_jcamp_cut_inside_the_second_block_is_an_error_not_one_block(copy_real):
    path = copy_real(LINK)
    lines = path.read_text(encoding="latin-1").splitlines(keepends=True)
    path.write_text("".join(lines[:17962]), encoding="latin-1")  # a few lines into block 2
    with pytest.raises(FormatError, match=r"bruker_fid_ft.jdx:\d+: block without ##END="):
        hydrofw.read(path)
