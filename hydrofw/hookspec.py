"""The hooks a hydrofw plugin can implement (pluggy project name ``hydrofw``).

A plugin is a module (or object) exposed through an entry point in the group ``hydrofw``::

    [project.entry-points.hydrofw]
    myformat = "hydrofw_myformat.plugin"

and decorates functions with :data:`hookimpl`. Hooks are called with keyword arguments, so an
implementation may accept only the arguments it needs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .registry import Exporter, Processor, Reader

__all__ = ["hookspec", "hookimpl", "HydrofwSpec", "PROJECT"]

PROJECT = "hydrofw"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class HydrofwSpec:
    """Hook specifications. Registry hooks take a ``register`` callback."""

    @hookspec
    def hydrofw_register_readers(self, register: Callable[[Reader], None]) -> None:
        """Register readers of raw instrument data by calling ``register(Reader(...))``."""

    @hookspec
    def hydrofw_register_processors(self, register: Callable[[Processor], None]) -> None:
        """Register table processors by calling ``register(Processor(...))``."""

    @hookspec
    def hydrofw_register_exporters(self, register: Callable[[Exporter], None]) -> None:
        """Register exporters by calling ``register(Exporter(...))``."""

    @hookspec
    def hydrofw_register_schemas(self, register: Callable[[Any], None]) -> None:
        """Register extra table schemas (a JSON path, a dict or a ``TableSchema``)."""

    @hookspec
    def hydrofw_record_read(self, record: Any, path: Path, reader: str) -> Any | None:
        """Called for each record a reader yields; return a replacement record (e.g. with
        enriched metadata) or None to keep it. Implementations are applied in turn."""

    @hookspec(firstresult=True)
    def hydrofw_example_campaign(self, directory: Path, seed: int) -> Path | None:
        """Write the bundled example campaign into ``directory``; return its path."""

    @hookspec
    def hydrofw_campaign_validate(self, campaign_dir: Path) -> list[str] | None:
        """Called by ``hydrofw run`` before any raw file is read: check the campaign's
        description and parameters (raise :class:`hydrofw.errors.CampaignError`); return notes
        for the summary (e.g. that there is no description and only ingest will run)."""

    @hookspec
    def hydrofw_campaign_ingested(
        self, store: Any, campaign_dir: Path, report_dir: Path, summary: dict[str, Any]
    ) -> None:
        """Called by ``hydrofw run`` after raw files are ingested into ``store``: campaign
        plugins process, fit and report here. ``summary`` collects counts for the CLI."""

    @hookspec(firstresult=True)
    def hydrofw_campaign_report(
        self, store: Any, campaign_dir: Path, report_dir: Path
    ) -> list[Path] | None:
        """Called by ``hydrofw report``: rebuild the campaign's report from ``store`` alone (no
        re-analysis); return the files written, or None when the plugin cannot."""
