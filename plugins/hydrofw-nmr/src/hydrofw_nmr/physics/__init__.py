"""hydrofw_nmr.physics"""

from __future__ import annotations

from collections.abc import Callable

from hydrofw import Processor


def register_processors(register: Callable[[Processor], None]) -> None:
    """Register the physics processors."""
