"""Progress bars: tqdm on a terminal, silent when output is piped or in CI."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")

__all__ = ["progress_bar", "progress_enabled"]


def progress_enabled() -> bool:
    """True when stderr is a terminal and ``HYDROFW_NO_PROGRESS`` is not set."""
    return sys.stderr.isatty() and not os.environ.get("HYDROFW_NO_PROGRESS")


def progress_bar(
    items: Iterable[T], *, desc: str, unit: str = "it", enabled: bool | None = None
) -> Iterator[T]:
    """Iterate ``items`` with a progress bar when ``enabled`` (default: on a terminal)."""
    show = progress_enabled() if enabled is None else enabled
    yield from tqdm(items, desc=desc, unit=unit, disable=not show, file=sys.stderr, leave=False)
