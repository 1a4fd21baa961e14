"""Long mutation-fuzz run of every reader over copies of the real files (issue 15).

    .venv/bin/python benchmarks/fuzz_readers.py --mutations 20000 --seed 15 [--real PATH]

One process, one read at a time; each read bounded by --time-limit seconds (SIGALRM) and the
process by --memory-limit GiB of address space (RLIMIT_AS: a blow-up is a MemoryError, counted).
Prints counts per reader and mutation kind and every defect (escape, hang, memory blow-up,
truncation read without a flag); exits 1 when there is any defect. ``--json FILE`` writes the
counts.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from hydrofw.fuzzing import KINDS, check, real_cases, records_signature, working_copy

DEFECTS = ("escape", "hang", "memory", "unflagged_truncation")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--real", type=Path, default=root.parent / "shared" / "data" / "real")
    parser.add_argument("--mutations", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--memory-limit", type=float, default=6.0, help="GiB address space")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    limit = int(args.memory_limit * (1 << 30))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    cases = real_cases(args.real)
    if not cases:
        print(f"no readers or real files at {args.real}", file=sys.stderr)
        return 2
    total_weight = sum(w for _, w in cases)
    rng = random.Random(args.seed)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    defects: list[str] = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for index, (case, weight) in enumerate(cases):
            n = max(1, round(args.mutations * weight / total_weight))
            work = Path(tmp) / f"case{index}"
            work.mkdir()
            with working_copy(args.real, case, work) as (dataset, target, original):
                baseline = _baseline(case, dataset)
                for _ in range(n):
                    kind = rng.choice(KINDS)
                    mutated = _mutate(original, kind, rng)
                    out = check(
                        case, dataset, target, mutated, kind, baseline=baseline,
                        time_limit_s=args.time_limit, trace_memory=False,
                    )  # fmt: skip
                    counts[case.reader][out.status] += 1
                    counts[case.reader]["mutations"] += 1
                    if out.status in DEFECTS:
                        defects.append(f"{case.name} {kind}: {out.status} {out.detail}")
            done = sum(c["mutations"] for c in counts.values())
            print(f"{case.name}: {n} mutations ({done} done, {time.monotonic() - start:.0f} s)",
                  file=sys.stderr, flush=True)  # fmt: skip
    _report(counts, defects, time.monotonic() - start)
    if args.json:
        args.json.write_text(
            json.dumps({"counts": counts, "defects": defects, "seed": args.seed}, indent=2)
        )
    return 1 if defects else 0


def _baseline(case, dataset: Path):  # noqa: ANN001, ANN202
    """Signature of the unmutated read (None when the reader refuses the original too)."""
    from hydrofw.errors import HydrofwError

    try:
        return records_signature(list(case.read(_open(dataset))))
    except HydrofwError:
        return None


def _open(path: Path):  # noqa: ANN202 - a Source
    from hydrofw.source import open_source

    return open_source(path)


def _mutate(data: bytes, kind: str, rng: random.Random) -> bytes:
    from hydrofw.fuzzing import mutate

    return mutate(data, kind, rng)


def _report(counts: dict[str, Counter[str]], defects: list[str], seconds: float) -> None:
    cols = ("mutations", "ok", "error", *DEFECTS, "line_boundary_truncation")
    cols += ("unverifiable_length",)
    print(f"{'reader':10s} " + " ".join(f"{c:>24s}" for c in cols))
    for reader, c in sorted(counts.items()):
        print(f"{reader:10s} " + " ".join(f"{c[k]:>24d}" for k in cols))
    total = sum((c for c in counts.values()), Counter())
    print(f"{'total':10s} " + " ".join(f"{total[k]:>24d}" for k in cols))
    print(f"{seconds:.0f} s")
    for line in defects[:200]:
        print("DEFECT", line)


if __name__ == "__main__":
    sys.exit(main())
