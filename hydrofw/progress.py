"""Progress bars: tqdm on a terminal, silent when output is piped, in CI or with ``-q``.

``hydrofw -q`` turns them off and ``-v`` on (even when stderr is not a terminal) through
:func:`set_progress`; otherwise they show when stderr is a terminal and ``HYDROFW_NO_PROGRESS``
is not set. Every bar has a total: datasets for ingest, rows for each analysis step.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")

__all__ = ["progress_bar", "progress_enabled", "set_progress", "step_progress"]

_FORCED: bool | None = None


def set_progress(enabled: bool | None) -> None:
    """Force progress bars on (True) or off (False); None restores the default."""
    global _FORCED
    _FORCED = enabled


def progress_enabled() -> bool:
    """Forced by :func:`set_progress`, else: stderr is a terminal and ``HYDROFW_NO_PROGRESS``
    is not set."""
    if _FORCED is not None:
        return _FORCED
    return sys.stderr.isatty() and not os.environ.get("HYDROFW_NO_PROGRESS")


def progress_bar(
    items: Iterable[T],
    *,
    desc: str,
    unit: str = "it",
    enabled: bool | None = None,
    total: int | None = None,
) -> Iterator[T]:
    """Iterate ``items`` with a progress bar when ``enabled`` (default: see
    :func:`progress_enabled`); ``total`` defaults to ``len(items)`` where it has one."""
    show = progress_enabled() if enabled is None else enabled
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    yield from tqdm(
        items, desc=desc, unit=unit, total=total, disable=not show, file=sys.stderr, leave=False
    )


@contextlib.contextmanager
def step_progress(desc: str, total: int, unit: str = "row") -> Iterator[None]:
    """A bar for one batch step of ``total`` rows, complete when the step returns."""
    show = progress_enabled()
    bar = tqdm(total=total, desc=desc, unit=unit, disable=not show, file=sys.stderr, leave=False)
    try:
        yield
        bar.update(total - bar.n)
    finally:
        bar.close()
