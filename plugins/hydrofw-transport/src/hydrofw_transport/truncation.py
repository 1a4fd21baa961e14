"""A text log whose last line was cut mid-write (the logger killed, the disk full).

A line without a line break at the end of the file may hold a partial number (``+1.33`` of
``+1.33596E-04``) or fewer fields than the others; it is never parsed. Readers drop it and
flag the record ``truncated:<byte offset of the dropped line>``.
"""

from __future__ import annotations

__all__ = ["last_line_cut", "truncation_flag"]


def last_line_cut(data: bytes) -> int | None:
    """Byte offset of the last line when ``data`` does not end with a line break (and that line
    is not blank), else None."""
    if not data or data.endswith((b"\n", b"\r")):
        return None
    start = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
    if not data[start:].strip():
        return None
    return start


def truncation_flag(offset: int) -> str:
    """The record flag of a dropped, cut last line starting at byte ``offset``."""
    return f"truncated:{offset}"
