"""A reader for CSV FIDs and a batch processor, registered through hydrofw's hooks.

The CSV format (invented for this example)::

    # nucleus: 1H
    # observe_frequency_hz: 395000000
    # scans: 16
    time_s,re,im
    0.0,1.0,0.0
    5e-06,0.98,0.05
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs
import numpy as np
import pyarrow as pa

from hydrofw import Processor, Reader, Spectrum, hookimpl
from hydrofw.arrays import complex_2d, to_list_array
from hydrofw.errors import FormatError
from hydrofw.ids import content_id
from hydrofw.source import Source

MAGIC = b"# nucleus:"


def sniff(source: Source) -> float:
    """Confident when the file starts with the example header."""
    return 0.95 if source.head(len(MAGIC)) == MAGIC else 0.0


def read(source: Source, nucleus: str | None = None) -> Iterator[Spectrum]:
    """Yield one time-domain Spectrum; ``nucleus`` overrides the header."""
    text = source.read_text()
    header: dict[str, str] = {}
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            header[key.strip()] = value.strip()
        elif line.strip():
            body.append(line)
    if not body or body[0].replace(" ", "") != "time_s,re,im":
        raise FormatError(source.path, "expected a 'time_s,re,im' column header")
    try:
        rows = np.array([[float(v) for v in line.split(",")] for line in body[1:]])
        sfo1_hz = float(header["observe_frequency_hz"])
    except (ValueError, KeyError) as exc:
        raise FormatError(source.path, f"bad header or number ({exc})") from None
    if rows.ndim != 2 or rows.shape[0] < 2 or rows.shape[1] != 3:
        raise FormatError(source.path, "need at least two rows of three numbers")
    dwell_s = float(rows[1, 0] - rows[0, 0])
    yield Spectrum(
        id=content_id(source.sha256()),
        nucleus=nucleus or header.get("nucleus", ""),
        observe_frequency_hz=sfo1_hz,
        spectral_width_hz=1.0 / dwell_s,
        re=rows[:, 1],
        im=rows[:, 2],
        n_scans=int(header["scans"]) if "scans" in header else None,
        source_path=source.path,
        format="example-csv",
        parameters=header,
    )


@attrs.frozen
class NormalizeParams:
    """Divide each row by its largest magnitude (``target`` becomes the new maximum)."""

    target: float = attrs.field(default=1.0, converter=float, validator=attrs.validators.gt(0))


def normalize(table: pa.Table, params: NormalizeParams) -> pa.Table:
    """Whole-batch normalisation: one 2-D numpy operation, no per-row loop."""
    data = complex_2d(table)
    scale = params.target / np.abs(data).max(axis=1, keepdims=True)
    data = data * scale
    table = table.set_column(table.column_names.index("re"), "re", to_list_array(data.real))
    return table.set_column(table.column_names.index("im"), "im", to_list_array(data.imag))


@hookimpl
def hydrofw_register_readers(register: Callable[[Reader], None]) -> None:
    register(
        Reader(
            name="example-csv",
            table="spectrum",
            sniff=sniff,
            read=read,
            description="CSV FID with '# key: value' header",
            extensions=[".csv"],
        )
    )


@hookimpl
def hydrofw_register_processors(register: Callable[[Processor], None]) -> None:
    register(
        Processor(
            name="example.normalize",
            input_table="spectrum",
            output_table="spectrum",
            process=normalize,
            params=NormalizeParams,
            description="scale every row to a given maximum magnitude",
        )
    )
