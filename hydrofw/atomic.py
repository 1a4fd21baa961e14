"""Atomic file writes: write to a temporary file beside the target, fsync, then rename."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "TMP_PREFIX"]

#: Prefix of temporary files; pyarrow.dataset ignores names starting with "." by default.
TMP_PREFIX = ".tmp-"


@contextlib.contextmanager
def atomic_path(
    destination: str | os.PathLike[str], *, tmp: str | os.PathLike[str] | None = None
) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``destination`` in one rename.

    A crash (even SIGKILL) leaves either the old file or the new one, never half of one; the
    stray temporary file is hidden (dot-prefixed, ``.partial``, so no ``*.parquet`` glob matches
    it). ``tmp`` names the temporary file instead (same file system as ``destination``; the
    store keeps its own in ``<store>/.tmp`` so that table folders hold only complete parts).
    """
    dest = Path(destination)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if tmp is None:
        tmp = dest.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}-{dest.name}.partial")
    tmp = Path(tmp)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
