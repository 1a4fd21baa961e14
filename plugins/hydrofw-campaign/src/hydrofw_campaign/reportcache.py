"""Figures of unchanged cells, kept between reports.

A cell's figures depend on that cell's rows alone, and a run's *cell fingerprint*
(:mod:`hydrofw_campaign.percell`) changes whenever anything those rows depend on changes: its
raw data, its part of campaign.toml, the versions and source of hydrofw and its plugins (this
report code included). So a report notes, in ``<report>/figures.json``, the fingerprint each
cell's figures were drawn for and the files they went to; the next report takes the PNG files
of a cell whose fingerprint is the same (and whose files are all there) instead of drawing them
again. A cell without a fingerprint (a store that keeps no runs) is always drawn.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from hydrofw.atomic import atomic_path

__all__ = ["FigureCache", "CachedFigure", "MANIFEST"]

#: the cache's manifest, beside the figures
MANIFEST = "figures.json"
_VERSION = 1


@attrs.frozen
class CachedFigure:
    """One figure file of a cell, as a report drew it."""

    key: str
    label: str
    caption: str
    file: str


@attrs.define
class FigureCache:
    """The manifest of ``report_dir``: cell -> (fingerprint, figures)."""

    report_dir: Path
    entries: dict[str, dict[str, Any]] = attrs.field(factory=dict)

    @classmethod
    def load(cls, report_dir: Path) -> FigureCache:
        """The manifest of ``report_dir`` (empty when missing, unreadable or of another
        version: every cell is then drawn)."""
        try:
            data = json.loads((report_dir / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(report_dir)
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            return cls(report_dir)
        cells = data.get("cells")
        return cls(report_dir, dict(cells) if isinstance(cells, dict) else {})

    def get(self, cell: str, fingerprint: str | None) -> list[CachedFigure] | None:
        """The figures drawn for ``cell`` at ``fingerprint``, when all their files are there."""
        entry = self.entries.get(cell)
        if fingerprint is None or not isinstance(entry, dict):
            return None
        if entry.get("fingerprint") != fingerprint:
            return None
        try:
            figures = [CachedFigure(**f) for f in entry.get("figures") or ()]
        except TypeError:
            return None
        if not all((self.report_dir / f.file).is_file() for f in figures):
            return None
        return figures

    def put(self, cell: str, fingerprint: str | None, figures: Iterable[CachedFigure]) -> None:
        """Note the figures just drawn for ``cell`` (nothing without a fingerprint)."""
        if fingerprint is None:
            self.entries.pop(cell, None)
            return
        self.entries[cell] = {
            "fingerprint": fingerprint,
            "figures": [attrs.asdict(f) for f in figures],
        }

    def save(self, cells: Sequence[str]) -> None:
        """Write the manifest (atomically), keeping only ``cells`` (those of this report)."""
        keep = {c: self.entries[c] for c in cells if c in self.entries}
        text = json.dumps({"version": _VERSION, "cells": keep}, indent=1, sort_keys=True)
        with atomic_path(self.report_dir / MANIFEST) as tmp:
            Path(tmp).write_text(text + "\n", encoding="utf-8")


def fingerprints_of(run: Mapping[str, Any] | None) -> dict[str, str]:
    """The cell fingerprints a run record noted (empty without)."""
    found = (run or {}).get("cell_fingerprints")
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, Mapping) else {}
