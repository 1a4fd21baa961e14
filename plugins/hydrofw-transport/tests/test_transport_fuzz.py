"""Mutated real MultiVu files raise only hydrofw.errors within time and memory bounds; a file
cut inside a line is refused or flagged (``truncated:<offset>``). Seeded hypothesis runs: a few
examples by default, many under ``-m slow`` (mutations and classification:
:mod:`hydrofw.fuzzing`)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hydrofw.fuzzing import ACCEPTED, KINDS, REAL_CASES, fuzz_once, real_cases

CASES = [c for c in REAL_CASES if c[0] == "ppms"]
IDS = [c[1].split("/")[1] for c in CASES]


def _run(real_data, tmp_path_factory, spec, examples):
    found = [c for c, _ in real_cases(real_data) if (c.reader, c.dataset, c.member) == spec[:3]]
    if not found:
        pytest.skip(f"{spec[1]} not available")
    case, work = found[0], tmp_path_factory.mktemp("fuzz")

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32 - 1))
    def check(kind, seed):
        outcome = fuzz_once(real_data, case, work, kind, seed)
        assert outcome.status in ACCEPTED, f"{case.name} {kind} seed={seed}: {outcome}"

    check()


@pytest.mark.parametrize("spec", CASES, ids=IDS)
def test_multivu_mutations_raise_only_hydrofw_errors(real_data, tmp_path_factory, spec):
    _run(real_data, tmp_path_factory, spec, examples=20)


@pytest.mark.slow
@pytest.mark.parametrize("spec", CASES, ids=IDS)
def test_multivu_mutations_long_profile(real_data, tmp_path_factory, spec):
    _run(real_data, tmp_path_factory, spec, examples=1000)
