"""Run every benchmark script in this folder (``bench_*.py``), each in its own process.

    python benchmarks/run.py            # full sizes
    python benchmarks/run.py --quick    # small sizes, about a minute each
    python benchmarks/run.py roundtrip  # only benchmarks whose name contains 'roundtrip'

Each script runs its baseline in the same process and prints ratios; nothing here asserts
timings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    names = [a for a in argv if not a.startswith("--")]
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        if names and not any(n in script.stem for n in names):
            continue
        print(f"=== {script.stem} {'(quick)' if quick else ''}", flush=True)
        res = subprocess.run([sys.executable, str(script), *(["--quick"] if quick else [])])
        failed += res.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
