"""The one exception family of hydrofw.

Every error a user can trigger with bad input is a :class:`HydrofwError`. Messages name the file,
table or parameter at fault and say what is wrong, so the CLI can print them as one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike

__all__ = [
    "HydrofwError",
    "ReadError",
    "UnknownFormatError",
    "FormatError",
    "SchemaError",
    "SchemaVersionError",
    "ValidationError",
    "ParameterError",
    "ProcessingError",
    "PluginError",
    "PluginConflictError",
    "StoreError",
    "CampaignError",
    "ExportError",
]


class HydrofwError(Exception):
    """Base class of every error hydrofw raises on purpose."""


class ReadError(HydrofwError):
    """A raw file could not be read. ``path`` names it; ``line`` is set for text formats."""

    def __init__(self, path: str | PathLike[str], problem: str, *, line: int | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class FormatError(ReadError):
    """The file is of the right kind but its content is malformed or inconsistent."""


class UnknownFormatError(ReadError):
    """No reader recognised the file (sniffing) or the named format does not exist."""

    def __init__(
        self, path: str | PathLike[str], tried: Sequence[str], problem: str | None = None
    ) -> None:
        self.tried = tuple(tried)
        names = ", ".join(self.tried) if self.tried else "none installed"
        super().__init__(
            path, problem or f"no reader recognises this data (readers tried: {names})"
        )


class SchemaError(HydrofwError):
    """A table does not match its schema, or a schema definition is itself invalid."""


class SchemaVersionError(SchemaError):
    """A table was written with a schema version this hydrofw cannot read."""


class ValidationError(HydrofwError, ValueError):
    """A record or parameter set holds an impossible value (negative frequency, unknown nucleus)."""


class ParameterError(ValidationError):
    """A processor, reader or exporter received parameters it cannot use."""


class ProcessingError(HydrofwError):
    """A processor could not produce a result from valid-looking input (e.g. a fit diverged)."""


class PluginError(HydrofwError):
    """A plugin is missing, broken, or misbehaved."""


class PluginConflictError(PluginError):
    """Two plugins registered the same reader, processor or exporter name."""


class StoreError(HydrofwError):
    """The Parquet store is missing, locked, or holds unreadable files."""


class CampaignError(HydrofwError):
    """A campaign description (campaign.toml) is invalid: the message names key and line."""


class ExportError(HydrofwError):
    """A table cannot be written in the requested export format."""
