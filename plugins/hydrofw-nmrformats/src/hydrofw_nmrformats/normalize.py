"""Normalised metadata shared by every format, and the one place records are built.

Each reader parses its header into an :class:`Acquisition` (units in the names, SI units) and
hands it with the data (complex, one row per increment) to :func:`spectra`, which yields
:class:`hydrofw.Spectrum` records with stable ids, flags and the raw header in ``parameters``.

Flags (``Spectrum.flags``, machine readable) used by this package:

- ``nucleus_overridden``: the user's ``nucleus=`` replaced the header's value (kept in parameters).
- ``nucleus_frequency_mismatch``: the header nucleus does not resonate at the observe frequency
  for any base frequency the header gives (e.g. Bruker ``NUC1=15N`` at 14.83 MHz).
- ``nucleus_inferred``: the header names no nucleus (or a wrong one); it was inferred from the
  frequency and the 1H frequency of the same file (:func:`hydrofw.nuclei.resolve_nucleus`).
- ``nucleus_standard_magnet``: that inference used a standard magnet's nominal 1H frequency.
- ``nucleus_not_in_table``: an isotope outside the nuclear table, kept as the header names it.
- ``acquired_at_local_time``: the header gives a wall-clock time without a zone; it was read
  as UTC.
- ``header_count_mismatch``: the header's point count disagrees with the data (data win).
- ``incomplete_acquisition``: fewer increments on disk than the header announces.
- ``trailing_bytes``: the data file holds more than the header's points and block padding.
- ``truncated``: a file was cut short but what remains is usable (Bruker ``acqus`` without its
  closing ``##END=``, a Varian ``fid`` ending inside a block after complete ones).
- ``magnet_field_not_recorded``: a field value in the header is a default, not the magnet's.
- ``real_only``: the source holds no imaginary part (``im`` is zeros).
- ``sequential_acquisition``: Bruker ``AQ_mod=2`` (qseq), stored as written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

import hydrofw
from hydrofw.errors import FormatError, ValidationError
from hydrofw.ids import content_id
from hydrofw.nuclei import resolve_nucleus

from . import __version__

__all__ = [
    "READER",
    "ArrayAxis",
    "Acquisition",
    "resolve_nucleus",
    "spectra",
    "utc_from_epoch",
    "utc_from_wall_clock",
]

#: Value of the ``reader`` column.
READER = f"hydrofw-nmrformats {__version__}"


@attrs.frozen
class ArrayAxis:
    """The variable stepped across the rows of an arrayed or pseudo-2D acquisition.

    ``values`` are in ``unit`` (seconds for delays), one per row, or None when unknown.
    """

    variable: str | None
    values: Sequence[float] | None = None
    unit: str | None = None


@attrs.frozen
class Acquisition:
    """Header values common to every row of one acquisition (SI units)."""

    format: str
    source_path: str
    source_sha256: str
    nucleus: str
    observe_frequency_hz: float
    spectral_width_hz: float
    parameters: Mapping[str, str]
    n_scans: int | None = None
    acquired_at: dt.datetime | None = None
    experiment: str | None = None
    pulse_program: str | None = None
    receiver_gain: float | None = None
    temperature_k: float | None = None
    group_delay_points: float | None = None
    reference_frequency_hz: float | None = None
    flags: tuple[str, ...] = ()


def utc_from_epoch(seconds: float | None) -> dt.datetime | None:
    """UTC time of a Unix epoch (None for a missing or non-positive value)."""
    if seconds is None or seconds <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def utc_from_wall_clock(text: str | None, formats: Sequence[str]) -> dt.datetime | None:
    """A zone-less date/time string read as UTC (the caller flags ``acquired_at_local_time``);
    None when no format matches."""
    if not text:
        return None
    cleaned = " ".join(text.split())
    for fmt in formats:
        try:
            return dt.datetime.strptime(cleaned, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def spectra(
    acq: Acquisition,
    data: np.ndarray,
    *,
    domain: str = "time",
    x_start: float = 0.0,
    x_step: float | None = None,
    x_unit: str = "s",
    axis: ArrayAxis | None = None,
    per_row: Sequence[Mapping[str, Any]] | None = None,
    id_salt: str = "",
) -> Iterator[hydrofw.Spectrum]:
    """Spectrum records for ``data`` (complex, shape ``(rows, points)``), one per row.

    Time domain: ``x_step`` defaults to the dwell ``1/spectral_width_hz`` in s. ``per_row``
    optionally overrides fields row by row (e.g. ``n_scans`` of a Varian ``nt`` array).
    Ids hash the source sha256, format, nucleus, domain, increment and ``id_salt`` only.
    """
    data = np.atleast_2d(data)
    rows = data.shape[0]
    dwell_s = 1.0 / acq.spectral_width_hz if domain == "time" else None
    step = x_step if x_step is not None else (dwell_s if domain == "time" else 1.0)
    arrayed = rows > 1 or axis is not None
    values = list(axis.values) if axis is not None and axis.values is not None else None
    for k in range(rows):
        row = data[k]
        fields: dict[str, Any] = dict(
            nucleus=acq.nucleus,
            observe_frequency_hz=acq.observe_frequency_hz,
            spectral_width_hz=acq.spectral_width_hz,
            re=np.ascontiguousarray(row.real, dtype=np.float64),
            im=np.ascontiguousarray(row.imag, dtype=np.float64),
            domain=domain,
            x_start=x_start,
            x_step=step,
            x_unit=x_unit,
            n_scans=acq.n_scans,
            dwell_s=dwell_s,
            acquired_at=acq.acquired_at,
            source_path=acq.source_path,
            source_sha256=acq.source_sha256,
            format=acq.format,
            reader=READER,
            experiment=acq.experiment,
            pulse_program=acq.pulse_program,
            increment=k if arrayed else None,
            array_variable=axis.variable if axis is not None else None,
            array_value=values[k] if values is not None and k < len(values) else None,
            array_unit=axis.unit if axis is not None else None,
            group_delay_points=acq.group_delay_points,
            receiver_gain=acq.receiver_gain,
            temperature_k=acq.temperature_k,
            reference_frequency_hz=acq.reference_frequency_hz,
            flags=acq.flags,
            parameters=acq.parameters,
        )
        if per_row is not None and k < len(per_row):
            fields.update(per_row[k])
        fields["id"] = content_id(acq.source_sha256, acq.format, acq.nucleus, domain, k, id_salt)
        try:
            yield hydrofw.Spectrum(**fields)
        except ValidationError as exc:
            raise FormatError(acq.source_path, f"row {k}: {exc}") from None
