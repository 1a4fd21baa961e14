"""Stable content hashes used as row ids (sha256, hex)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["content_id", "derive_id", "file_sha256"]


def _feed(h: Any, value: Any) -> None:
    if value is None:
        h.update(b"\x00N")
    elif isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
        h.update(b"\x00A" + str(arr.dtype).encode() + str(arr.shape).encode())
        h.update(arr.data)
    elif isinstance(value, bytes):
        h.update(b"\x00B" + len(value).to_bytes(8, "little") + value)
    elif isinstance(value, float):
        h.update(b"\x00F" + (b"nan" if math.isnan(value) else float(value).hex().encode()))
    elif isinstance(value, dict):
        h.update(b"\x00D" + json.dumps(value, sort_keys=True, default=str).encode())
    elif isinstance(value, list | tuple):
        h.update(b"\x00L" + str(len(value)).encode())
        for v in value:
            _feed(h, v)
    else:
        h.update(b"\x00S" + str(value).encode())


def content_id(*parts: Any) -> str:
    """sha256 hex digest of ``parts`` (strings, numbers, numpy arrays, dicts, lists, None)."""
    h = hashlib.sha256()
    for p in parts:
        _feed(h, p)
    return h.hexdigest()


def derive_id(input_id: str, step: str, params_json: str) -> str:
    """Id of a row derived from ``input_id`` by processing ``step`` with ``params_json``."""
    return content_id(input_id, step, params_json)


def derive_ids(input_ids: Iterable[str], step: str, params_json: str) -> list[str]:
    """:func:`derive_id` for many rows."""
    return [derive_id(i, step, params_json) for i in input_ids]


def file_sha256(data: bytes) -> str:
    """sha256 hex digest of raw file bytes."""
    return hashlib.sha256(data).hexdigest()
