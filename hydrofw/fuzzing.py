"""Mutation fuzzing of readers over copies of real files: the one implementation behind the
hypothesis tests of each reader and ``benchmarks/fuzz_readers.py`` (long runs).

A :class:`Case` names a reader, a dataset (file or folder) and the member that gets mutated.
:func:`mutate` applies one :data:`KINDS` mutation (byte flips, truncation, zero-filled or
duplicated regions, deleted lines, appended bytes, and header numbers replaced by huge,
negative or non-finite values). :func:`check` reads the mutated copy and classifies the
outcome:

- ``ok``: records were read (the data equal the original's, or the rows carry a flag);
- ``error``: a :class:`hydrofw.errors.HydrofwError` (the wanted failure);
- ``escape``: any other exception (a defect);
- ``hang``: the read ran past its time bound (a defect);
- ``memory``: a ``MemoryError`` or more than the memory bound allocated (a defect);
- ``unflagged_truncation``: a truncated file read without error whose data differ from the
  original's and carry none of :data:`TRUNCATION_FLAGS` (a defect);
- ``line_boundary_truncation``: the same, but the cut fell exactly at a line end of a text
  format that states no row count: indistinguishable from a shorter file (counted, not a
  defect);
- ``unverifiable_length``: the same for a binary format whose point count is the file size
  (rows flagged ``points_from_file_size``; counted, not a defect).
"""

from __future__ import annotations

import contextlib
import random
import re
import shutil
import signal
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from .errors import HydrofwError
from .source import open_source

__all__ = [
    "Case",
    "KINDS",
    "HUGE_VALUES",
    "TRUNCATION_FLAGS",
    "Outcome",
    "mutate",
    "check",
    "working_copy",
    "records_signature",
    "REAL_CASES",
    "real_cases",
    "ACCEPTED",
    "fuzz_once",
]

#: Outcomes that are not defects.
ACCEPTED = frozenset({"ok", "error", "line_boundary_truncation", "unverifiable_length"})

#: (reader name, dataset under ``../shared/data/real``, mutated member, weight of the case in a
#: long run: the 1.85 MB JCAMP-DX LINK file takes ~0.7 s per read, so it gets fewer mutations).
REAL_CASES: tuple[tuple[str, str, str, float], ...] = (
    ("bruker", "bruker/topspin32-1h-500/1", "fid", 1.0),
    ("bruker", "bruker/topspin32-1h-500/1", "acqus", 1.0),
    ("bruker", "bruker/topspin13-odnp-1h-15mhz-t1-ser/28", "ser", 1.0),
    ("bruker", "bruker/topspin13-odnp-1h-15mhz-t1-ser/28", "acqu2s", 0.5),
    ("bruker", "bruker/topspin13-odnp-1h-15mhz-t1-ser/28", "vdlist", 0.5),
    ("bruker", "bruker/xwinnmr26-1h-400/1", "acqus", 0.5),
    ("bruker", "bruker/xwinnmr35-13c-cpmas-solid/80", "fid", 0.5),
    ("bruker", "bruker/topspin406-1h-400-strychnine/10", "acqus", 0.5),
    ("varian", "varian/vnmrs-87rb-196-satrec-solid/satrec2D.fid", "fid", 1.0),
    ("varian", "varian/vnmrs-87rb-196-satrec-solid/satrec2D.fid", "procpar", 1.0),
    ("varian", "varian/inova-31p-162-array24/test1.fid", "procpar", 0.5),
    ("varian", "varian/inova-31p-162-array24/test1.fid", "fid", 0.3),
    ("tecmag", "tecmag/tnt1005-dnplab-1d/1D.tnt", "", 1.0),
    ("tecmag", "tecmag/tnt1001-fid-1999/FID_0.tnt", "", 1.0),
    ("jcampdx", "jcampdx/jeol-1h-400-spectrum/jeol.dx", "", 0.5),
    ("jcampdx", "jcampdx/bruker-ntuples-reim-1024/jcamp-1024.jdx", "", 1.0),
    ("jcampdx", "jcampdx/bruker-av8800-1h-400-spectrum/indometacin_1h.dx", "", 0.3),
    ("jcampdx", "jcampdx/bruker-linked-fid-ft-1h-600/bruker_fid_ft.jdx", "", 0.05),
    ("ppms", "transport/mpms-multivu-dc-moment/sample1.dat", "", 0.5),
    ("ppms", "transport/ppms-multivu-logfile/sample2.DAT", "", 0.5),
    ("ppms", "transport/ppms-multivu-resistivity-nb-film/"
     "250307-ch1Nb100-ch2Nb150-ch3NbAl_fineUp1.dat", "", 0.5),
)


def real_cases(real: Path) -> list[tuple[Case, float]]:
    """:data:`REAL_CASES` whose reader is installed and whose files exist, with weights."""
    from .errors import PluginError
    from .registry import get_registry

    out = []
    for reader, dataset, member, weight in REAL_CASES:
        try:
            read = get_registry().reader(reader).read
        except PluginError:
            continue
        if (real / dataset / member).exists() if member else (real / dataset).exists():
            out.append((Case(reader, dataset, member, read), weight))
    return out

#: Mutation kinds, each with an equal share when drawn at random.
KINDS = ("truncate", "flip", "zero", "duplicate", "drop_line", "append", "huge_value")

#: Replacement texts for numbers of a text header (and int32 fields of binary headers).
HUGE_VALUES = (
    "9223372036854775808",
    "1e308",
    "-1e300",
    "-1",
    "0",
    "nan",
    "inf",
    "12345678901234567890123",
    "2147483648",
)

#: Flags that say a read was cut short (any one of them, or ``truncated:<byte offset>``, makes a
#: truncated read acceptable).
TRUNCATION_FLAGS = frozenset(
    {"truncated", "incomplete_acquisition", "header_count_mismatch", "trailing_bytes"}
)

_NUMBER = re.compile(rb"(?<![A-Za-z_])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


@attrs.frozen
class Case:
    """A reader applied to ``dataset`` (relative to the real-data folder) with ``member``
    mutated (``""``: the dataset is that file). ``read(source) -> iterable of records``."""

    reader: str
    dataset: str
    member: str
    read: Callable[[Any], Any] = attrs.field(eq=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.reader}:{self.dataset.split('/')[1]}:{self.member or 'file'}"


@attrs.frozen
class Outcome:
    """Result of one mutated read: ``status`` (see the module docstring) and a detail."""

    status: str
    kind: str
    detail: str = ""


def mutate(data: bytes, kind: str, rng: random.Random) -> bytes:
    """One mutation of ``data`` of the given ``kind`` (see :data:`KINDS`)."""
    n = len(data)
    if n == 0:
        return b"\x00" * rng.randint(1, 64) if kind == "append" else data
    if kind == "truncate":
        return data[: rng.randrange(n)]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(n)] ^= rng.randint(1, 255)
        return bytes(out)
    if kind == "zero":
        start = rng.randrange(n)
        length = min(n - start, rng.randint(1, 4096))
        return data[:start] + b"\x00" * length + data[start + length :]
    if kind == "duplicate":
        start = rng.randrange(n)
        chunk = data[start : start + rng.randint(1, 4096)]
        at = rng.randrange(n)
        return data[:at] + chunk + data[at:]
    if kind == "drop_line":
        lines = data.split(b"\n")
        for _ in range(rng.randint(1, 4)):
            if len(lines) > 1:
                del lines[rng.randrange(len(lines))]
        return b"\n".join(lines)
    if kind == "append":
        extra = rng.choice([b"\x00" * rng.randint(1, 1 << 16), rng.randbytes(rng.randint(1, 4096))])
        return data + extra
    if kind == "huge_value":
        return _huge_value(data, rng)
    raise ValueError(f"unknown mutation {kind!r}")


def _huge_value(data: bytes, rng: random.Random) -> bytes:
    """A header number replaced by a huge/negative/non-finite value (text), or an int32 field
    of the first 4 KiB overwritten (binary)."""
    head = data[:65536]
    text_like = head.count(b"\x00") < len(head) // 100
    value = rng.choice(HUGE_VALUES).encode()
    if text_like:
        matches = list(_NUMBER.finditer(head))
        if matches:
            m = rng.choice(matches)
            return data[: m.start()] + value + data[m.end() :]
    at = rng.randrange(0, max(1, min(len(data), 4096) - 4)) & ~3
    word = rng.choice([2**31 - 1, -(2**31), -1, 0, 2**30]).to_bytes(4, "little", signed=True)
    if rng.random() < 0.5:
        word = word[::-1]
    return data[:at] + word + data[at + 4 :]


@contextlib.contextmanager
def working_copy(real: Path, case: Case, tmp: Path) -> Iterator[tuple[Path, Path, bytes]]:
    """A writable copy of the case's dataset: (dataset path, mutated file, original bytes);
    the member is restored after every use."""
    src = real / case.dataset
    dst = tmp / src.name
    if not dst.exists():
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy(src, dst)
        for p in [dst, *dst.rglob("*")] if dst.is_dir() else [dst]:
            p.chmod(0o755 if p.is_dir() else 0o644)
    target = dst / case.member if case.member else dst
    original = target.read_bytes()
    try:
        yield dst, target, original
    finally:
        target.write_bytes(original)


def records_signature(records: list[Any]) -> list[tuple[Any, ...]]:
    """What a truncation must not change silently: rows, points, values (rounded)."""
    out = []
    for r in records:
        values = getattr(r, "re", None)
        if values is None:  # transport curves
            values = getattr(r, "resistance_ohm", np.zeros(0))
        values = np.asarray(values, dtype=np.float64)
        out.append((getattr(r, "nucleus", None), values.size, np.round(values, 6).tobytes()))
    return out


class _Timeout(Exception):
    pass


def _alarm(_signum: int, _frame: Any) -> None:
    raise _Timeout()


def check(
    case: Case,
    dataset: Path,
    target: Path,
    mutated: bytes,
    kind: str,
    *,
    baseline: list[tuple[Any, ...]],
    time_limit_s: float = 10.0,
    memory_limit_bytes: int = 1 << 30,
    trace_memory: bool = True,
) -> Outcome:
    """Write ``mutated`` to ``target``, read ``dataset`` with the case's reader, classify."""
    target.write_bytes(mutated)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, time_limit_s)
    if trace_memory:
        tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            records = list(case.read(open_source(dataset)))
    except _Timeout:
        return Outcome("hang", kind, f"> {time_limit_s} s")
    except MemoryError:
        return Outcome("memory", kind, "MemoryError")
    except HydrofwError as exc:
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else 0
        if peak > memory_limit_bytes:
            return Outcome("memory", kind, f"peak {peak} bytes before {type(exc).__name__}")
        return Outcome("error", kind, type(exc).__name__)
    except Exception as exc:  # noqa: BLE001 - classifying escapes is the point
        return Outcome("escape", kind, f"{type(exc).__name__}: {str(exc)[:200]}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        peak = tracemalloc.get_traced_memory()[1] if trace_memory else 0
        if trace_memory:
            tracemalloc.stop()
    if peak > memory_limit_bytes:
        return Outcome("memory", kind, f"peak {peak} bytes")
    if kind == "truncate":
        flagged = any(
            f in TRUNCATION_FLAGS or f.startswith("truncated:") for r in records for f in r.flags
        )
        if not flagged and records_signature(records) != baseline:
            if any("points_from_file_size" in r.flags for r in records):
                # the format takes its length from the file size: a cut at a whole point
                # cannot be told from a shorter acquisition (the rows say so)
                return Outcome("unverifiable_length", kind, f"cut at {len(mutated)} bytes")
            if mutated.endswith(b"\n"):
                # cut exactly at a line end: a line-based file without a row count cannot tell
                return Outcome("line_boundary_truncation", kind, f"cut at {len(mutated)} bytes")
            return Outcome("unflagged_truncation", kind, f"cut at {len(mutated)} bytes")
    return Outcome("ok", kind)


_BASELINES: dict[tuple[str, str], list[tuple[Any, ...]]] = {}


def fuzz_once(
    real: Path,
    case: Case,
    tmp: Path,
    kind: str,
    seed: int,
    *,
    time_limit_s: float = 10.0,
    memory_limit_bytes: int = 1 << 30,
) -> Outcome:
    """One seeded mutation of ``case`` checked (for property tests): a working copy under
    ``tmp`` (reused between calls), the baseline read of the unmutated copy (once per copy),
    :func:`check`."""
    with working_copy(real, case, tmp) as (dataset, target, original):
        key = (str(dataset), case.name)
        if key not in _BASELINES:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    _BASELINES[key] = records_signature(list(case.read(open_source(dataset))))
            except HydrofwError:
                _BASELINES[key] = []
        baseline = _BASELINES[key]
        mutated = mutate(original, kind, random.Random(seed))
        return check(
            case,
            dataset,
            target,
            mutated,
            kind,
            baseline=baseline,
            time_limit_s=time_limit_s,
            memory_limit_bytes=memory_limit_bytes,
        )


def check_mutations(
    real: Path, case: Case, tmp: Path, examples: int, *, time_limit_s: float = 10.0
) -> dict[str, int]:
    """Property test for a reader's test suite: ``examples`` seeded mutations of ``case``
    (hypothesis draws the kind and the seed, derandomized), each outcome one of
    :data:`ACCEPTED`; an ``AssertionError`` names the case, kind, seed and outcome. Returns
    how often each outcome status was seen. Needs ``hypothesis`` (a test dependency, imported
    here only)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(kind=st.sampled_from(KINDS), seed=st.integers(0, 2**32 - 1))
    def check_one(kind: str, seed: int) -> None:
        outcome = fuzz_once(real, case, tmp, kind, seed, time_limit_s=time_limit_s)
        seen[outcome.status] = seen.get(outcome.status, 0) + 1
        assert outcome.status in ACCEPTED, f"{case.name} {kind} seed={seed}: {outcome}"

    seen: dict[str, int] = {}
    check_one()
    return seen
