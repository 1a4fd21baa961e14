"""Mutated console datasets (the packaged descriptions' sample files, written by conftest.py)
raise only hydrofw.errors within time and memory bounds; a cut file is refused or flagged.
Seeded hypothesis runs: a few examples by default, many under ``-m slow``
(mutations and classification: :mod:`hydrofw.fuzzing`)."""

from __future__ import annotations

import pytest

from hydrofw.fuzzing import ACCEPTED, Case, check_mutations
from hydrofw.registry import get_registry

# (description, sample writer, dataset written under the sample folder, member mutated)
CASES = [
    ("console.tabletop-hdr", "tabletop", "tabletop", "run7.hdr"),
    ("console.tabletop-hdr", "tabletop", "tabletop", "run7.dat"),
    ("console.spinbox-single", "spinbox", "cell3_day12.sbx", ""),
]


def _run(sample_writers, tmp_path_factory, spec, examples):
    reader, writer, dataset, member = spec
    samples = tmp_path_factory.mktemp("samples")
    sample_writers[writer](samples / dataset)
    case = Case(reader, f"{writer}/{dataset}", member, get_registry().reader(reader).read)
    root = tmp_path_factory.mktemp("root")
    (root / writer).mkdir()
    (samples / dataset).rename(root / writer / dataset)
    work = tmp_path_factory.mktemp("work")

    seen = check_mutations(root, case, work, examples)
    assert sum(seen.values()) >= 1 and set(seen) <= ACCEPTED, seen


@pytest.mark.parametrize("spec", CASES, ids=[f"{c[1]}-{c[3] or 'file'}" for c in CASES])
def test_console_mutations_raise_only_hydrofw_errors(sample_writers, tmp_path_factory, spec):
    _run(sample_writers, tmp_path_factory, spec, examples=25)


@pytest.mark.slow
@pytest.mark.parametrize("spec", CASES, ids=[f"{c[1]}-{c[3] or 'file'}" for c in CASES])
def test_console_mutations_long_profile(sample_writers, tmp_path_factory, spec):
    _run(sample_writers, tmp_path_factory, spec, examples=1000)
