"""Sniff and read a home-built console dataset described by a :class:`ConsoleFormat`.

A dataset is a header file (matched by extension and optional magic text) and a data file
named from it (``{stem}`` = header file name without extension, ``{name}`` = the header file
itself). Rows: ``rows`` from a header key (default 1), each ``points`` complex points. Data are
stored as written, times the optional ``scale`` header value. Time domain, ``x_step = dwell_s``.

Flags: ``trailing_bytes`` (more data than announced), ``points_from_file_size`` (the description
takes the point count from the file size, so a file cut at a whole point cannot be detected),
``truncated:<byte offset>`` (a header file not ending in a newline: its last value may be cut).
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
from collections.abc import Iterator
from typing import Any

import numpy as np

import hydrofw
from hydrofw.errors import FormatError, ValidationError
from hydrofw.header_values import excerpt, to_count, to_size
from hydrofw.ids import content_id, file_sha256
from hydrofw.nuclei import resolve_nucleus
from hydrofw.source import MAX_READ_BYTES, Source, open_source, read_margin

from . import __version__
from .description import FIELDS, ConsoleFormat, FieldSpec
from .header_syntax import ParsedHeader, parse_header
from .units import UNITS, to_si

__all__ = ["sniff", "read", "READER"]

READER = f"hydrofw-console {__version__}"
_TEXT_FIELDS = ("experiment", "pulse_program", "nucleus")
_MAX_HEADER_BYTES = 16 << 20  # a text header file of its own


def _magic_ok(fmt: ConsoleFormat, head: bytes) -> bool:
    return fmt.magic is None or head.lstrip().startswith(fmt.magic.encode(fmt.encoding))


def _header_in(fmt: ConsoleFormat, folder: Source) -> str | None:
    for name in folder.listdir():
        if posixpath.splitext(name)[1].lower() in fmt.extensions or not fmt.extensions:
            if not folder.child(name).is_dir() and _magic_ok(fmt, folder.head(256, name)):
                return name
    return None


def _locate(fmt: ConsoleFormat, source: Source) -> tuple[Source, str] | None:
    """The folder holding the dataset and the header file's name in it."""
    if source.is_dir():
        name = _header_in(fmt, source)
        return (source, name) if name is not None else None
    if fmt.extensions and source.suffix not in fmt.extensions:
        return None
    if not _magic_ok(fmt, source.head(256)):
        return None
    local = source.local_path
    if local is None:
        return None
    return open_source(local.parent), source.name


def _data_name(fmt: ConsoleFormat, header_name: str) -> str:
    stem = posixpath.splitext(header_name)[0]
    return fmt.data.file.format(stem=stem, name=header_name)


def sniff(fmt: ConsoleFormat, source: Source) -> float:
    """Confidence that ``source`` is a dataset of ``fmt`` (its data file must exist): 0.97 when
    extension and magic text match (a lab's own format beats generic sniffers), 0.9 on magic
    alone, 0.6 on the extension alone."""
    found = _locate(fmt, source)
    if found is None:
        return 0.0
    folder, header_name = found
    if not folder.exists(_data_name(fmt, header_name)):
        return 0.0
    if fmt.magic is None:
        return 0.6
    return 0.97 if fmt.extensions else 0.9


class _Fields:
    """Header values converted to our fields as the description maps them."""

    def __init__(self, fmt: ConsoleFormat, header: ParsedHeader, where: str) -> None:
        self.fmt, self.header, self.where = fmt, header, where

    def _raw(self, spec: FieldSpec, name: str) -> Any:
        if spec.key is None:
            return spec.value
        if spec.key not in self.header.values:
            raise FormatError(self.where, f"header key {spec.key!r} (for {name}) is missing")
        return self.header.values[spec.key]

    def _error(self, spec: FieldSpec, problem: str) -> FormatError:
        return FormatError(self.where, problem, line=self.header.lines.get(spec.key or ""))

    def get(self, name: str) -> Any:
        spec = self.fmt.fields.get(name)
        if spec is None:
            return None
        raw = self._raw(spec, name)
        if name in _TEXT_FIELDS:
            return str(raw).strip().strip("\"'")
        if name == "acquired_at":
            return self._time(spec, str(raw))
        try:
            number = float(str(raw).split()[0])
        except (ValueError, IndexError):
            number = math.nan
        if not math.isfinite(number):
            raise self._error(
                spec, f"{spec.key!r} (for {name}) is not a number: {excerpt(raw)}"
            )
        if spec.unit is not None:
            number = to_si(number, spec.unit)
        number *= spec.scale
        if name == "n_scans":
            line = self.header.lines.get(spec.key or "")
            return to_count(number, where=self.where, key=spec.key or name, line=line)
        if not math.isfinite(number):
            raise self._error(spec, f"{spec.key!r} (for {name}) overflows after unit scaling")
        return number

    def _time(self, spec: FieldSpec, raw: str) -> dt.datetime:
        try:
            stamp = dt.datetime.strptime(raw.strip(), spec.format or "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise self._error(
                spec, f"{spec.key!r}: {raw!r} does not match {spec.format!r}"
            ) from None
        return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)


def _count(header: ParsedHeader, key: str, where: str) -> int:
    """A positive count (rows, points), range-checked by :func:`hydrofw.header_values.to_size`."""
    raw = header.values.get(key)
    if raw is None:
        raise FormatError(where, f"header key {key!r} (a positive count) is missing")
    return to_size(raw, where=where, key=key, line=header.lines.get(key), limit=MAX_READ_BYTES)


def _expected_bytes(fmt: ConsoleFormat, header: ParsedHeader, where: str) -> int | None:
    """Data bytes the header announces (None when the point count is the file size)."""
    spec = fmt.data
    if spec.points == "file_size":
        return None
    rows = _count(header, spec.rows, where) if spec.rows else 1
    per_point = 1 if spec.layout == "real" else 2
    offset = header.size_bytes if spec.offset == "header" else int(spec.offset)
    points = _count(header, spec.points, where)
    return offset + rows * points * per_point * np.dtype(spec.numpy_dtype).itemsize


def _data(
    fmt: ConsoleFormat, header: ParsedHeader, raw: bytes, where: str, data_where: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    spec = fmt.data
    dtype = np.dtype(spec.numpy_dtype)
    body = raw[header.size_bytes if spec.offset == "header" else int(spec.offset) :]
    rows = _count(header, spec.rows, where) if spec.rows else 1
    per_point = 1 if spec.layout == "real" else 2
    if spec.points == "file_size":
        n_values = len(body) // dtype.itemsize
        if n_values == 0 or n_values % (rows * per_point) or len(body) % dtype.itemsize:
            raise FormatError(
                data_where,
                f"{len(body)} data bytes are not {rows} rows of {spec.dtype} {spec.layout} points",
            )
        points = n_values // (rows * per_point)
    else:
        points = _count(header, spec.points, where)
    need = rows * points * per_point * dtype.itemsize
    if len(body) < need:
        raise FormatError(
            data_where,
            f"truncated: {len(body)} data bytes, the header announces "
            f"{rows} x {points} points ({need} bytes)",
        )
    flags: tuple[str, ...] = ("trailing_bytes",) if len(body) > need else ()
    if spec.points == "file_size":
        # nothing in the header states the length: a file cut at a whole point looks complete
        flags += ("points_from_file_size",)
    values = np.frombuffer(body, dtype=dtype, count=rows * points * per_point).astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise FormatError(data_where, "data hold non-finite values (wrong dtype or endianness?)")
    if spec.scale_key:
        values = values * _scale(header, spec.scale_key, where)
    if spec.layout == "interleaved":
        pairs = values.reshape(rows, points, 2)
        return pairs[..., 0] + 1j * pairs[..., 1], flags
    if spec.layout == "separate":
        blocks = values.reshape(rows, 2, points)
        return blocks[:, 0] + 1j * blocks[:, 1], flags
    return values.reshape(rows, points) + 0j, flags + ("real_only",)


def _scale(header: ParsedHeader, key: str, where: str) -> float:
    try:
        return float(header.values[key])
    except (KeyError, ValueError):
        raise FormatError(
            where, f"scale key {key!r} is missing or not a number", line=header.lines.get(key)
        ) from None


def _array_values(
    fmt: ConsoleFormat, header: ParsedHeader, rows: int, where: str
) -> list[float] | None:
    spec = fmt.data.array
    if spec is None:
        return None
    raw = header.values.get(spec.key)
    try:
        items = [float(v) for v in (raw or "").replace(",", " ").split()]
    except ValueError:
        items = []
    if len(items) != rows:
        raise FormatError(
            where,
            f"{spec.key!r} must list {rows} values, got {raw!r}",
            line=header.lines.get(spec.key),
        )
    return [to_si(v, spec.unit) for v in items] if spec.unit else items


def _array_unit(fmt: ConsoleFormat) -> str | None:
    """SI unit of the arrayed variable's values (``s`` for delays), None when unitless."""
    unit = fmt.data.array.unit if fmt.data.array else None
    return UNITS[unit][0] if unit else None


def read(
    fmt: ConsoleFormat, source: Source, nucleus: str | None = None
) -> Iterator[hydrofw.Spectrum]:
    """Rows of one dataset; ``nucleus`` overrides the header's (flag ``nucleus_overridden``)."""
    found = _locate(fmt, source)
    if found is None:
        raise FormatError(source.path, f"not a {fmt.name!r} dataset (see {fmt.origin})")
    folder, header_name = found
    where = folder.describe(header_name)
    data_name = _data_name(fmt, header_name)
    header_limit = None if data_name == header_name else _MAX_HEADER_BYTES
    header_raw = folder.read_bytes(header_name, limit=header_limit)
    header = parse_header(
        header_raw,
        where,
        syntax=fmt.syntax,
        comment=fmt.comment,
        end=fmt.end,
        encoding=fmt.encoding,
        skip_lines=fmt.skip_lines,
    )
    if data_name == header_name:
        raw = header_raw
    else:
        expected = _expected_bytes(fmt, header, where)
        limit = None if expected is None else expected + read_margin(expected)
        raw = folder.read_bytes(data_name, limit=limit)
    data, flags = _data(fmt, header, raw, where, folder.describe(data_name))
    params = dict(header.values)
    if fmt.end is None and data_name != header_name and header_raw and not header_raw.endswith(
        b"\n"
    ):
        # a header file must end with a newline: without it the last value may be cut short;
        # the flag gives the byte offset where that last line starts
        last_line_at = header_raw.rfind(b"\n") + 1
        flags += (f"truncated:{last_line_at}",)
    fields = _Fields(fmt, header, where)
    values = {name: fields.get(name) for name in FIELDS}
    raw_nucleus = values.pop("nucleus")
    observe_hz = values.get("observe_frequency_hz")
    chosen, nucleus_flags = resolve_nucleus(
        raw_nucleus or None,
        observe_hz if observe_hz is not None else math.nan,
        where,
        override=nucleus,
    )
    flags += nucleus_flags
    sw_hz, dwell_s = values.pop("spectral_width_hz"), values.pop("dwell_s")
    if dwell_s is None or dwell_s <= 0:
        dwell_s = 1.0 / sw_hz if sw_hz else None
    if sw_hz is None and dwell_s:
        sw_hz = 1.0 / dwell_s
    if not (sw_hz and sw_hz > 0 and dwell_s):
        raise FormatError(where, "spectral width / dwell must be positive")
    tz = fmt.fields.get("acquired_at")
    if tz is not None and tz.timezone == "local":
        flags += ("acquired_at_local_time",)
    array = _array_values(fmt, header, data.shape[0], where)
    data_sha, header_sha = file_sha256(raw), file_sha256(header_raw)
    for k, row in enumerate(data):
        try:
            yield hydrofw.Spectrum(
                id=content_id(data_sha, header_sha, fmt.name, chosen, k),
                nucleus=chosen,
                spectral_width_hz=sw_hz,
                dwell_s=dwell_s,
                x_step=dwell_s,
                re=row.real,
                im=row.imag,
                domain="time",
                x_start=0.0,
                x_unit="s",
                source_path=where,
                source_sha256=data_sha,
                format=fmt.reader_name,
                reader=READER,
                flags=flags,
                parameters=params,
                increment=k if data.shape[0] > 1 else None,
                array_variable=fmt.data.array.variable if fmt.data.array else None,
                array_value=array[k] if array else None,
                array_unit=_array_unit(fmt) if array else None,
                **values,
            )
        except ValidationError as exc:
            raise FormatError(where, str(exc)) from None
