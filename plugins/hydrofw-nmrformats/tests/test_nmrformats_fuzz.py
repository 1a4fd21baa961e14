"""Mutated real files (truncated, bytes flipped or zeroed, regions duplicated, lines deleted,
bytes appended, header numbers made huge, negative or non-finite) raise only hydrofw.errors,
within time and memory bounds, and a truncated file is either refused or flagged.

The mutations and the classification are :mod:`hydrofw.fuzzing` (also behind the long run
``benchmarks/fuzz_readers.py``). Hypothesis runs derandomised (seeded): a few examples per case
by default, many under ``-m slow``. The readers are called directly, not through hydrofw.read,
so a raw exception cannot hide behind the core's catch-all.
"""

from __future__ import annotations

import pytest

from hydrofw.fuzzing import ACCEPTED, REAL_CASES, check_mutations, real_cases

READERS = ("bruker", "varian", "tecmag", "jcampdx")
CASES = [c for c in REAL_CASES if c[0] in READERS]
IDS = [f"{c[0]}-{c[1].split('/')[1]}-{c[2] or 'file'}" for c in CASES]


def _case(real_data, spec):
    found = [c for c, _ in real_cases(real_data) if (c.reader, c.dataset, c.member) == spec[:3]]
    if not found:
        pytest.skip(f"reader {spec[0]!r} or {spec[1]} not available")
    return found[0]


def _run(real_data, tmp_path_factory, spec, examples):
    case = _case(real_data, spec)
    tmp = tmp_path_factory.mktemp("fuzz")
    # slow cases (the 1.85 MB LINK file reads in ~0.7 s) get fewer examples
    n = max(3, round(examples * min(1.0, spec[3] * 2)))

    seen = check_mutations(real_data, case, tmp, n, time_limit_s=20.0)
    assert sum(seen.values()) >= 1 and set(seen) <= ACCEPTED, seen


QUICK = [c for c in CASES if c[3] >= 0.1]
QUICK_IDS = [i for c, i in zip(CASES, IDS, strict=True) if c in QUICK]


@pytest.mark.parametrize("spec", QUICK, ids=QUICK_IDS)
def test_mutations_raise_only_hydrofw_errors(real_data, tmp_path_factory, spec):
    _run(real_data, tmp_path_factory, spec, examples=12)


@pytest.mark.slow
@pytest.mark.parametrize("spec", CASES, ids=IDS)
def test_mutations_long_profile(real_data, tmp_path_factory, spec):
    _run(real_data, tmp_path_factory, spec, examples=400)
