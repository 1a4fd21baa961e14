"""Reader ``delimited``: any lab's delimited R(T) log (LabVIEW, Python, QCoDeS exports of any
bridge, SMU or nanovoltmeter), with the engine and options of the SIM921 reader
(:mod:`.sim921`: ``delimiter``, ``header_line``, ``header_file``, ``columns``, ``units``,
``skip_bad_lines``, current reversal, truncation) but no SIM921 settings assumed: the
``instrument`` is the caller's (default none). Chosen with ``format="delimited"``; automatic
detection leaves such logs to the ``sim921`` reader, which reads the same tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from hydrofw.records import TransportCurve
from hydrofw.source import Source

from .sim921 import _read

__all__ = ["FORMAT", "sniff", "read"]

FORMAT = "delimited"


def sniff(source: Source) -> float:
    """Never chosen automatically (the ``sim921`` reader sniffs the same logs)."""
    return 0.0


def read(
    source: Source,
    *,
    columns: Mapping[str, str | int] | None = None,
    units: Mapping[str, str] | None = None,
    timezone: str = "UTC",
    min_span_k: float = 2.0,
    smoothing_points: int = 9,
    delimiter: str | None = None,
    skip_bad_lines: bool = False,
    header_line: int | None = None,
    header_file: str | None = None,
    instrument: str | None = None,
) -> Iterator[TransportCurve]:
    """Yield one ``TransportCurve`` per sweep of a delimited log (see :mod:`.sim921`)."""
    yield from _read(
        source, FORMAT, instrument, columns=columns, units=units, timezone=timezone,
        min_span_k=min_span_k, smoothing_points=smoothing_points, delimiter=delimiter,
        skip_bad_lines=skip_bad_lines, header_line=header_line, header_file=header_file,
    )  # fmt: skip
