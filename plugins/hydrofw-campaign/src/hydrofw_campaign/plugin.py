"""Entry point module of hydrofw_campaign (group ``hydrofw``): the kinetics processor and the
bundled example campaign."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydrofw import hookimpl

from .kinetics import register_kinetics


@hookimpl
def hydrofw_register_processors(register: Callable[[Any], None]) -> None:
    register_kinetics(register)


@hookimpl
def hydrofw_example_campaign(directory: Path, seed: int) -> Path:
    from .example import write_example_campaign

    return write_example_campaign(directory, seed=seed)
