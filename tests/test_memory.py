"""hydrofw.memory: freed C-heap pages go back to the system between units of work."""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import pytest

from hydrofw.memory import release_free_memory


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                    reason="malloc_trim is glibc's (elsewhere release_free_memory does nothing)")
def test_release_free_memory_returns_freed_heap_pages():
    # many mid-size blocks below the mmap threshold, every other one kept: holes in the heap
    blocks = [np.ones(8_000) for _ in range(20_000)]
    keep = blocks[::2]
    del blocks
    before = _rss_kib()
    assert release_free_memory() is True
    assert before - _rss_kib() > 40_000  # most of the ~80 MB freed comes back
    assert len(keep) == 10_000
