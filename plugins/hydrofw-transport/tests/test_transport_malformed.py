"""Bad input: every reader raises a hydrofw.errors exception naming the file (and the line)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hydrofw_transport import ppms, sim921
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hydrofw
from hydrofw.errors import FormatError, HydrofwError
from hydrofw.source import FileSource

GOOD = "# log\nT (K)\tR (Ohm)\n" + "".join(
    f"{150 - k * 0.5:.2f}\t{1 + k * 1e-3:.5f}\n" for k in range(40)
)


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_truncated_line_names_line(tmp_path: Path) -> None:
    lines = GOOD.splitlines()
    lines[20] = "140.50"  # the resistance field is missing
    path = _write(tmp_path, "trunc.tsv", "\n".join(lines) + "\n")
    with pytest.raises(FormatError) as err:
        hydrofw.read(path, format="sim921")
    assert err.value.line == 21 and "trunc.tsv:21" in str(err.value)


def test_text_in_numeric_column_names_line(tmp_path: Path) -> None:
    lines = GOOD.splitlines()
    lines[12] = "144.50\tbanana"
    path = _write(tmp_path, "text.tsv", "\n".join(lines) + "\n")
    with pytest.raises(
        FormatError, match=r"text\.tsv:13: column 'R \(Ohm\)' \(resistance\) holds 'banana'"
    ):
        hydrofw.read(path, format="sim921")


def test_wrong_delimiter(tmp_path: Path) -> None:
    path = _write(tmp_path, "pipes.txt", GOOD.replace("\t", "|"))
    with pytest.raises(FormatError, match=r"pipes\.txt:3: cannot find a delimiter"):
        hydrofw.read(path, format="sim921")


def test_no_temperature_column(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "nt.csv", "time (s),R (Ohm)\n" + "".join(f"{k},{k}\n" for k in range(9))
    )
    with pytest.raises(FormatError, match=r"nt\.csv: no temperature column found"):
        hydrofw.read(path, format="sim921")


def test_binary_garbage(tmp_path: Path) -> None:
    path = _write(tmp_path, "garbage.dat", bytes(range(256)) * 8)
    with pytest.raises(FormatError, match=r"garbage\.dat: holds binary data"):
        hydrofw.read(path, format="sim921")
    with pytest.raises(FormatError, match="garbage"):
        list(ppms.read(FileSource(path)))


@pytest.mark.parametrize("content", ["", "# only a comment\n", "T (K)\tR (Ohm)\n"])
def test_empty_or_header_only(tmp_path: Path, content: str) -> None:
    path = _write(tmp_path, "empty.tsv", content)
    with pytest.raises(FormatError, match=r"empty\.tsv"):
        hydrofw.read(path, format="sim921")


def test_negative_kelvin_is_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "neg.csv", "T (K),R (Ohm)\n" + "".join(f"{k - 5},{k}\n" for k in range(20))
    )
    with pytest.raises(FormatError, match=r"neg\.csv:2: .*negative temperatures"):
        hydrofw.read(path, format="sim921")


def test_latin1_bytes_in_a_used_column(tmp_path: Path) -> None:
    data = GOOD.encode().replace(b"145.00\t1.01000", b"145.00\t1.01\xe9")
    path = _write(tmp_path, "latin.tsv", data)
    with pytest.raises(FormatError, match=r"latin\.tsv:\d+"):
        hydrofw.read(path, format="sim921")


def test_multivu_without_data_section(tmp_path: Path) -> None:
    path = _write(tmp_path, "nodata.dat", "[Header]\nTITLE, x\nBYAPP, Resistivity, 2.1, 1.0\n")
    with pytest.raises(FormatError, match=r"nodata\.dat:\d+: has a \[Header\] but no \[Data\]"):
        hydrofw.read(path, format="ppms")


def test_multivu_text_in_resistance(tmp_path: Path) -> None:
    rows = "".join(f",{k},{10 + k},{k * 0.1}\n" for k in range(10)).replace(",0.5\n", ",oops\n")
    content = (
        "[Header]\nBYAPP, Resistivity, 2.1, 1.0\n[Data]\n"
        "Comment,Time Stamp (sec),Temperature (K),Bridge 1 Resistance (Ohms)\n" + rows
    )
    path = _write(tmp_path, "text.dat", content)
    with pytest.raises(
        FormatError, match=r"text\.dat:10: column 'Bridge 1 Resistance \(Ohms\)' holds 'oops'"
    ):
        hydrofw.read(path, format="ppms")


def _reads(path: Path) -> None:
    for reader in (sim921, ppms):
        try:
            for _ in reader.read(FileSource(path)):
                pass
        except HydrofwError:
            pass


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=2048))
def test_fuzz_random_bytes(tmp_path: Path, data: bytes) -> None:
    _reads(_write(tmp_path, "fuzz.dat", data))


_MULTIVU = (
    "[Header]\nBYAPP, Resistivity, 2.1, 1.0\nFILEOPENTIME,13808301.33,3/7/2025,6:49 PM\n[Data]\n"
    "Comment,Time Stamp (sec),Temperature (K),Bridge 1 Resistance (Ohms),Bridge 1 Excitation (uA)\n"
    + "".join(
        f",{13808400 + k},{8 + 0.05 * k},{20 / (1 + np.exp(-(k - 20) / 2)):.4f},10,\n"
        for k in range(40)
    )
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    base=st.sampled_from([GOOD, _MULTIVU]),
    cuts=st.lists(
        st.tuples(st.integers(0, 4000), st.integers(0, 40), st.binary(max_size=6)), max_size=5
    ),
)
def test_fuzz_mutated_logs(tmp_path: Path, base: str, cuts: list[tuple[int, int, bytes]]) -> None:
    data = bytearray(base.encode())
    for at, length, insert in cuts:
        at = min(at, len(data))
        data[at : at + length] = insert
    _reads(_write(tmp_path, "mutated.dat", bytes(data)))


def test_sniffers_never_raise(tmp_path: Path, write_log: Callable[..., Path]) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    for path in (folder, _write(tmp_path, "b.bin", b"\x00\x01" * 100)):
        assert sim921.sniff(FileSource(path)) == 0.0 and ppms.sniff(FileSource(path)) == 0.0
