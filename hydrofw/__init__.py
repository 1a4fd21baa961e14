"""hydrofw: Arrow-backed tables from high-pressure hydride NMR and transport experiments.

Library entry points::

    import hydrofw
    spectra = hydrofw.read("raw/cell1/day3/10")           # a Bruker experiment -> Arrow table
    out = hydrofw.process("nmr.fid_to_spectrum", spectra)  # processors are plugins
    hydrofw.export("parquet", out, "spectra.parquet")
    hydrofw.run("campaign/")                               # the main job
"""

from __future__ import annotations

from . import errors
from .api import export, process, read, read_records
from .hookspec import hookimpl, hookspec
from .nuclei import NUCLEI, nucleus
from .pipeline import run
from .records import (
    Campaign,
    Cell,
    HistoryStep,
    Kinetics,
    Lineshape,
    Quantification,
    RelaxationCurve,
    RelaxationFit,
    Spectrum,
    TcResult,
    TransportCurve,
    from_table,
    to_table,
)
from .registry import Exporter, NoParams, Processor, Reader, get_registry
from .schema import get_schema
from .store import Store, open_store

try:
    from importlib.metadata import version as _version

    __version__ = _version("hydrofw")
except Exception:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"

__all__ = [
    "errors",
    "read",
    "read_records",
    "process",
    "export",
    "run",
    "open_store",
    "Store",
    "to_table",
    "from_table",
    "Spectrum",
    "RelaxationCurve",
    "TransportCurve",
    "Cell",
    "Campaign",
    "Lineshape",
    "RelaxationFit",
    "Quantification",
    "TcResult",
    "Kinetics",
    "HistoryStep",
    "Reader",
    "Processor",
    "Exporter",
    "NoParams",
    "get_registry",
    "get_schema",
    "hookimpl",
    "hookspec",
    "NUCLEI",
    "nucleus",
    "__version__",
]
