"""Console headers cut short or holding values that do not fit: flagged or refused, never
stored silently (files written by the tests, as in conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

import hydrofw
from hydrofw.errors import FormatError


def _edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_header_cut_in_its_last_value_is_flagged_with_byte_offset(tabletop):
    path, _ = tabletop
    text = path.read_text()
    assert text.endswith("sequence = hahn_echo\n")
    path.write_bytes(text[: -len("echo\n")].encode())
    records = list(hydrofw.read_records(path))
    (flag,) = {f for r in records for f in r.flags if f.startswith("truncated:")}
    offset = int(flag.split(":")[1])
    assert path.read_bytes()[offset:] == b"sequence = hahn_"


def test_intact_header_is_not_flagged(tabletop):
    path, _ = tabletop
    assert not any(f.startswith("truncated") for r in hydrofw.read_records(path) for f in r.flags)


@pytest.mark.parametrize(
    "old, new, key",
    [
        ("points = 512", "points = 12345678901234567890123", "points"),
        ("scans = 64", "scans = 1e308", "scans"),
        ("scans = 64", "scans = -3", "scans"),
        ("n_delays = 4", "n_delays = 0", "n_delays"),
    ],
)
def test_values_out_of_range_name_file_line_and_key(tabletop, old, new, key):
    path, _ = tabletop
    _edit(path, old, new)
    with pytest.raises(FormatError, match=rf"run7.hdr:\d+: header key '{key}'"):
        hydrofw.read(path)


def test_data_file_shorter_than_announced_is_an_error(tabletop):
    path, _ = tabletop
    data = path.with_suffix(".dat")
    data.write_bytes(data.read_bytes()[:-3])
    with pytest.raises(FormatError, match="run7.dat: truncated"):
        hydrofw.read(path)


def test_isotope_outside_the_table_reads_with_a_flag(tabletop):
    path, ints = tabletop
    _edit(path, "nucleus = 1H", "nucleus = 8Li")
    records = list(hydrofw.read_records(path))
    assert {r.nucleus for r in records} == {"8Li"}
    assert all("nucleus_not_in_table" in r.flags for r in records)
    assert all(np.all(np.isfinite(r.re)) for r in records)
