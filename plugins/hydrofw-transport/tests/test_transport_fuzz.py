"""Mutated real MultiVu files raise only hydrofw.errors within time and memory bounds; a file
cut inside a line is refused or flagged (``truncated:<offset>``). Seeded hypothesis runs: a few
examples by default, many under ``-m slow`` (mutations and classification:
:mod:`hydrofw.fuzzing`)."""

from __future__ import annotations

import pytest

from hydrofw.fuzzing import ACCEPTED, REAL_CASES, check_mutations, real_cases

CASES = [c for c in REAL_CASES if c[0] == "ppms"]
IDS = [c[1].split("/")[1] for c in CASES]


def _run(real_data, tmp_path_factory, spec, examples):
    found = [c for c, _ in real_cases(real_data) if (c.reader, c.dataset, c.member) == spec[:3]]
    if not found:
        pytest.skip(f"{spec[1]} not available")
    case, work = found[0], tmp_path_factory.mktemp("fuzz")

    seen = check_mutations(real_data, case, work, examples)
    assert sum(seen.values()) >= 1 and set(seen) <= ACCEPTED, seen


@pytest.mark.parametrize("spec", CASES, ids=IDS)
def test_multivu_mutations_raise_only_hydrofw_errors(real_data, tmp_path_factory, spec):
    _run(real_data, tmp_path_factory, spec, examples=20)


@pytest.mark.slow
@pytest.mark.parametrize("spec", CASES, ids=IDS)
def test_multivu_mutations_long_profile(real_data, tmp_path_factory, spec):
    _run(real_data, tmp_path_factory, spec, examples=1000)
