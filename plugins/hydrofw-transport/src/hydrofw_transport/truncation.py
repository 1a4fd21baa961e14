"""A text log whose last line was cut mid-write (the logger killed, the disk full).

A line without a line break at the end of the file may hold a partial number (``+1.33`` of
``+1.33596E-04``) or fewer fields than the others; it is never parsed (nor a line whose CR LF
was cut after the CR: the write stopped inside the line break). Readers drop it and
flag the record ``truncated:<byte offset of the dropped line>``.
"""

from __future__ import annotations

__all__ = ["last_line_cut", "truncation_flag"]


def last_line_cut(data: bytes) -> int | None:
    """Byte offset of the last line when ``data`` does not end with a whole line break (and
    that line is not blank), else None. In a file whose lines end with CR LF, a last line
    ending in a lone CR was cut between the two bytes: it counts as cut too."""
    if not data or data.endswith(b"\n"):
        return None
    if data.endswith(b"\r"):
        if b"\r\n" not in data:
            return None  # CR-only line ends (classic Mac OS)
        start = data.rfind(b"\n", 0, len(data) - 1) + 1
    else:
        start = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
    if not data[start:].strip():
        return None
    return start


def truncation_flag(offset: int) -> str:
    """The record flag of a dropped, cut last line starting at byte ``offset``."""
    return f"truncated:{offset}"
