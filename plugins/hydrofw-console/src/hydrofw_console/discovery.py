"""Where console descriptions are found: the package's ``formats/`` folder, then every folder
listed in ``HYDROFW_CONSOLE_FORMATS`` (``os.pathsep``-separated) or passed explicitly. A user
description with the name of a packaged one replaces it. A broken description is skipped with
a :class:`ConsoleDescriptionWarning` naming the file and the problem."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from hydrofw.errors import HydrofwError

from .description import ConsoleFormat, load_description

__all__ = ["ENV_VAR", "ConsoleDescriptionWarning", "discover", "user_folders"]

ENV_VAR = "HYDROFW_CONSOLE_FORMATS"


class ConsoleDescriptionWarning(UserWarning):
    """A console description could not be loaded and was skipped."""


def user_folders() -> list[Path]:
    """Folders named by ``HYDROFW_CONSOLE_FORMATS``."""
    raw = os.environ.get(ENV_VAR, "")
    return [Path(p) for p in raw.split(os.pathsep) if p.strip()]


def _packaged() -> list[tuple[str, str]]:
    folder = resources.files("hydrofw_console") / "formats"
    return sorted(
        (f"hydrofw_console/formats/{entry.name}", entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".toml")
    )


def discover(folders: Iterable[str | os.PathLike[str]] | None = None) -> dict[str, ConsoleFormat]:
    """Descriptions by name: packaged ones, then those of ``folders`` (default: the env var)."""
    found: dict[str, ConsoleFormat] = {}
    sources: list[tuple[str, str | None]] = list(_packaged())
    for folder in user_folders() if folders is None else [Path(f) for f in folders]:
        sources += [(str(p), None) for p in sorted(Path(folder).glob("*.toml"))]
    for origin, text in sources:
        try:
            fmt = load_description(origin, text)
        except HydrofwError as exc:
            warnings.warn(
                f"console description skipped: {exc}", ConsoleDescriptionWarning, stacklevel=2
            )
            continue
        found[fmt.name] = fmt
    return found
