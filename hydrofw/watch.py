"""``hydrofw watch CAMPAIGN``: run the campaign again whenever complete new data land in ``raw/``.

The folder is watched with :mod:`watchfiles` (debounced: a burst of writes gives one wake-up).
A dataset is ingested only once it is complete (:func:`dataset_complete`) and none of its files
changed for ``settle_s`` seconds; until then ``hydrofw run`` lists it as skipped with the reason
and the next change picks it up. Each run is incremental (only new or changed datasets are read,
see :mod:`hydrofw.ingest_index`), recorded in the store, and refreshes the report. A bad file is
reported and skipped; a failing run is reported and the watch goes on. Ctrl-C stops it between
or during runs; a run interrupted before its commit is never the store's default view.
"""

from __future__ import annotations

import re
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import CampaignError, HydrofwError
from .ingest_index import dataset_files

__all__ = ["watch", "dataset_complete", "ready_check"]

#: bytes per point of a Bruker FID by DTYPA (0: int32, 1: float32, 2: float64)
_BRUKER_BYTES = {0: 4, 1: 4, 2: 8}
_TEXT_SUFFIXES = {".csv", ".txt", ".dat", ".log", ".tsv"}
_JCAMP_INT = re.compile(rb"^##\$(TD|DTYPA)=\s*(-?\d+)\s*$", re.MULTILINE)


def _jcamp_ints(path: Path) -> dict[str, int]:
    try:
        text = path.read_bytes()[:1 << 20]
    except OSError:
        return {}
    return {m.group(1).decode(): int(m.group(2)) for m in _JCAMP_INT.finditer(text)}


def _bruker(folder: Path) -> tuple[bool, str]:
    data = folder / "ser" if (folder / "ser").is_file() else folder / "fid"
    if not data.is_file():
        return False, f"{folder}: Bruker acqus without fid/ser yet"
    acqus = _jcamp_ints(folder / "acqus")
    if "TD" not in acqus:
        return False, f"{folder / 'acqus'}: no TD yet (file still being written?)"
    row = acqus["TD"] * _BRUKER_BYTES.get(acqus.get("DTYPA", 0), 4)
    rows = 1
    if data.name == "ser":
        rows = _jcamp_ints(folder / "acqu2s").get("TD", 0)
        if rows <= 0:
            return False, f"{folder / 'acqu2s'}: no TD of the indirect dimension yet"
    size = data.stat().st_size
    padded = -(-row // 1024) * 1024  # older TopSpin pads every row to 1 KiB
    if size in (rows * row, rows * padded):
        return True, ""
    return False, f"{data}: {size} bytes, the header implies {rows * row} (or {rows * padded})"


def _varian(folder: Path) -> tuple[bool, str]:
    fid, procpar = folder / "fid", folder / "procpar"
    if not fid.is_file() or not procpar.is_file():
        return False, f"{folder}: Varian data needs both fid and procpar"
    with open(fid, "rb") as fh:
        head = fh.read(32)
    if len(head) < 32:
        return False, f"{fid}: shorter than its 32-byte file header"
    nblocks, _, _, _, _, bbytes = struct.unpack(">6i", head[:24])
    size, expected = fid.stat().st_size, 32 + nblocks * bbytes
    if size != expected:
        return False, f"{fid}: {size} bytes, the header implies {expected}"
    if not procpar.read_bytes().endswith(b"\n"):
        return False, f"{procpar}: last line incomplete"
    return True, ""


def _text(path: Path) -> tuple[bool, str]:
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        if fh.tell() == 0:
            return False, f"{path}: empty"
        fh.seek(-1, 2)
        last = fh.read(1)
    if last not in (b"\n", b"\r"):
        return False, f"{path}: last line incomplete"
    return True, ""


def dataset_complete(path: Path) -> tuple[bool, str]:
    """(complete, reason when not) from the format alone: a Bruker ``fid``/``ser`` whose size
    matches ``acqus`` (``TD``, ``DTYPA``; ``acqu2s`` for ``ser``), a Varian ``fid`` whose size
    matches its file header, with ``procpar``, a text log whose last line ends. Anything else
    counts as complete here (stability is checked by :func:`ready_check`)."""
    path = Path(path)
    try:
        if path.is_dir():
            if (path / "acqus").is_file():
                return _bruker(path)
            if path.suffix == ".fid" or (path / "procpar").is_file():
                return _varian(path)
            return True, ""
        if path.suffix.lower() in _TEXT_SUFFIXES:
            return _text(path)
        return True, ""
    except OSError as exc:
        return False, f"{path}: not readable yet ({exc})"


def ready_check(settle_s: float) -> Callable[[Path], tuple[bool, str]]:
    """A check for ``hydrofw.run(ready=...)``: complete, and no file modified in ``settle_s``."""

    def ready(path: Path) -> tuple[bool, str]:
        ok, why = dataset_complete(path)
        if not ok:
            return ok, why
        newest = max((f.stat().st_mtime for f in dataset_files(path)), default=0.0)
        age = time.time() - newest
        if age < settle_s:
            return False, f"{path}: modified {age:.1f} s ago (waiting {settle_s} s to settle)"
        return True, ""

    return ready


def watch(
    campaign_dir: str | Path,
    *,
    store: str | Path | None = None,
    report: str | Path | None = None,
    executor: str = "local",
    debounce_ms: int = 1600,
    settle_s: float = 2.0,
    stop: threading.Event | None = None,
    on_run: Callable[[dict[str, Any]], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> int:
    """Run the campaign now, then after every settled change under ``raw/`` (or of
    campaign.toml) until ``stop`` is set or Ctrl-C; return the number of runs.

    ``on_run`` receives each run's summary (``{"error": message}`` for a run that failed).
    """
    import watchfiles

    from .pipeline import run

    root = Path(campaign_dir)
    raw = root / "raw"
    if not raw.is_dir():
        raise CampaignError(f"{root}: no raw/ folder to watch (expected {raw})")
    say = log or (lambda text: print(f"hydrofw watch: {text}", file=sys.stderr, flush=True))
    ready = ready_check(settle_s)
    runs = 0

    def once(reason: str) -> list[Path]:
        """One run; the datasets that still wait (incomplete or settling)."""
        nonlocal runs
        say(reason)
        try:
            summary = run(root, store=store, report=report, executor=executor, ready=ready)
        except HydrofwError as exc:
            say(f"run failed: {' '.join(str(exc).split())}; still watching")
            summary = {"error": str(exc)}
        runs += 1
        waiting = [Path(p) for p, why in summary.get("skipped", []) if why.startswith("not ready")]
        for path, why in summary.get("failed", []):
            say(f"failed: {path}: {why}")
        if "error" not in summary:
            say(
                f"run {summary.get('run_id')}: read {summary.get('datasets_read')}, reused "
                f"{summary.get('datasets_reused')}, failed {len(summary.get('failed', []))}, "
                f"waiting {len(waiting)}"
            )
        if on_run is not None:
            on_run(summary)
        return waiting

    stop = stop or threading.Event()
    waiting: list[Path] | None = None  # None: the first run (once the watcher is active) is due
    toml = (root / "campaign.toml").resolve()
    raw_resolved = raw.resolve()

    def relevant(_change: Any, path: str) -> bool:
        p = Path(path)
        return p == toml or raw_resolved in p.parents

    try:
        for _changes in watchfiles.watch(
            raw,
            root / "campaign.toml" if (root / "campaign.toml").exists() else raw,
            watch_filter=relevant,
            debounce=debounce_ms,
            stop_event=stop,
            rust_timeout=int(min(max(settle_s, 0.2), 5.0) * 1000),
            yield_on_timeout=True,
            raise_interrupt=True,
        ):
            if stop.is_set():
                break
            if waiting is None:  # the watcher is active now: no event of this run is lost
                waiting = once("first run (catching up)")
                continue
            if not _changes:  # a timeout: run only when a waiting dataset became ready
                if not any(ready(p)[0] for p in waiting if p.exists()):
                    continue
                reason = "a waiting dataset is complete"
            else:
                time.sleep(settle_s)  # let the last writes settle before judging completeness
                reason = f"{len(_changes)} change(s)"
            waiting = once(reason)
    except KeyboardInterrupt:
        say("stopped (Ctrl-C)")
    return runs
