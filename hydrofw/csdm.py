"""CSDM (``.csdf``, the Core Scientific Dataset Model read by csdmpy and mrsimulator) export
of ``spectrum`` rows, through the ``csdmpy`` package.

Each row becomes one dataset: a linear dimension (time in s; frequency in Hz; a ppm axis is
written in Hz offsets from the 0 ppm reference frequency, which is the dimension's
``origin_offset``, so ``dimension.to("ppm", "nmr_frequency_ratio")`` gives the ppm axis back)
and one complex dependent variable (re + i im). The row's scalar columns (id, cell, nucleus,
observe frequency, ...) go into the dataset's ``application`` metadata under ``org.hydrofw``.
One row is written to the destination; several rows to ``<stem>-<nnnn>.csdf`` beside it.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .atomic import TMP_PREFIX, atomic_path
from .errors import ExportError
from .schema import identify

__all__ = ["export_csdm", "csdm_paths", "APPLICATION_KEY"]

APPLICATION_KEY = "org.hydrofw"
_UNITS = {"s": "s", "Hz": "Hz", "ppm": "Hz"}


def csdm_paths(destination: str | os.PathLike[str], n_rows: int) -> list[Path]:
    """The files :func:`export_csdm` writes for ``n_rows`` rows."""
    p = Path(destination)
    if n_rows == 1:
        return [p]
    return [p.with_name(f"{p.stem}-{i:04d}{p.suffix}") for i in range(n_rows)]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _dataset(row: dict[str, Any], re: np.ndarray, im: np.ndarray, where: str) -> Any:
    import csdmpy as cp

    unit = row.get("x_unit")
    if unit not in _UNITS:
        raise ExportError(f"{where}: x_unit {unit!r} has no CSDM dimension (s, Hz or ppm)")
    start, step = row.get("x_start"), row.get("x_step")
    if start is None or step is None or not step:
        raise ExportError(f"{where}: the row has no x axis (x_start, x_step)")
    kwargs: dict[str, Any] = {}
    if unit == "ppm":
        ref = row.get("reference_frequency_hz")
        if ref is None or not math.isfinite(ref) or ref <= 0:
            raise ExportError(f"{where}: a ppm axis needs reference_frequency_hz for CSDM")
        start, step = start * ref * 1e-6, step * ref * 1e-6
        kwargs["origin_offset"] = f"{ref!r} Hz"
    elif unit == "Hz" and row.get("observe_frequency_hz"):
        kwargs["origin_offset"] = f"{row['observe_frequency_hz']!r} Hz"
    label = "time" if unit == "s" else f"{row.get('nucleus') or ''} frequency".strip()
    dim = cp.Dimension(
        type="linear",
        count=int(re.size),
        increment=f"{step!r} {_UNITS[unit]}",
        coordinates_offset=f"{start!r} {_UNITS[unit]}",
        label=label,
        **kwargs,
    )
    var = cp.DependentVariable(
        type="internal",
        quantity_type="scalar",
        numeric_type="complex128",
        components=[re + 1j * im],
        name=str(row.get("experiment") or row.get("id") or "spectrum"),
    )
    meta = {k: _jsonable(v) for k, v in row.items()}
    return cp.CSDM(
        dimensions=[dim],
        dependent_variables=[var],
        description=(
            f"hydrofw spectrum {row.get('id')} ({row.get('nucleus')}, cell {row.get('cell')})"
        ),
        application={APPLICATION_KEY: meta},
    )


def export_csdm(table: pa.Table, destination: str | os.PathLike[str]) -> None:
    """Write every ``spectrum`` row as a ``.csdf`` file (see the module docstring)."""
    found = identify(table)
    if not found or found[0] != "spectrum":
        raise ExportError(
            f"{destination}: CSDM holds spectra; table {found[0] if found else None!r} is not "
            "a spectrum table (export it as csv, parquet or arrow)"
        )
    try:
        import csdmpy  # noqa: F401
    except ImportError as exc:
        raise ExportError(f"{destination}: CSDM export needs csdmpy ({exc})") from None
    if table.num_rows == 0:
        raise ExportError(f"{destination}: no spectrum rows to export")
    scalars = [
        f.name
        for f in table.schema
        if not pa.types.is_nested(f.type) and f.name not in ("re", "im")
    ]
    rows = table.select(scalars).to_pylist()
    paths = csdm_paths(destination, table.num_rows)
    done: list[Path] = []
    try:
        for i, (row, path) in enumerate(zip(rows, paths, strict=True)):
            re = np.asarray(table.column("re")[i].values.to_numpy(zero_copy_only=False), float)
            im_cell = table.column("im")[i]
            im = (
                np.asarray(im_cell.values.to_numpy(zero_copy_only=False), float)
                if im_cell.is_valid
                else np.zeros_like(re)
            )
            data = _dataset(row, re, im, f"{destination} (row {i}, id {row.get('id')})")
            # csdmpy picks the format from the name: the temporary file keeps the suffix
            with atomic_path(
                path, tmp=path.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}-{path.name}")
            ) as tmp:
                data.save(str(tmp))
            done.append(path)
    except BaseException:
        for p in done:
            p.unlink(missing_ok=True)
        raise
