"""Text headers of home-built consoles: ``key=value``, ``key: value`` or JCAMP-like
``##key= value``. Blank lines and comment lines are skipped; a line equal to the description's
end marker closes the header (data may follow in the same file)."""

from __future__ import annotations

import attrs

from hydrofw.errors import FormatError

__all__ = ["ParsedHeader", "SYNTAXES", "parse_header"]

SYNTAXES = ("key=value", "key: value", "jcamp")


@attrs.frozen
class ParsedHeader:
    """Header values (text), their 1-based line numbers and the header length in bytes."""

    values: dict[str, str]
    lines: dict[str, int]
    size_bytes: int


def _split(line: str, syntax: str) -> tuple[str, str] | None:
    if syntax == "jcamp":
        if not line.startswith("##"):
            return None
        key, sep, value = line[2:].partition("=")
    else:
        key, sep, value = line.partition("=" if syntax == "key=value" else ":")
    return (key.strip(), value.strip()) if sep and key.strip() else None


def parse_header(
    raw: bytes,
    where: str,
    *,
    syntax: str,
    comment: str = "#",
    end: str | None = None,
    encoding: str = "latin-1",
    skip_lines: int = 0,
) -> ParsedHeader:
    """Parse the header at the start of ``raw``; stops after the ``end`` line when given.

    The first ``skip_lines`` lines (a banner such as ``SPINBOX acquisition file``) are ignored.

    Without ``end`` every line must be a header line (a pure header file).
    """
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    pos = 0
    number = 0
    while pos < len(raw):
        cut = raw.find(b"\n", pos)
        stop = len(raw) if cut < 0 else cut + 1
        line = raw[pos:stop].decode(encoding, errors="replace").strip()
        pos = stop
        number += 1
        if number <= skip_lines:
            continue
        if end is not None and line == end:
            return ParsedHeader(values, lines, pos)
        if not line or (comment and line.startswith(comment) and syntax != "jcamp"):
            continue
        pair = _split(line, syntax)
        if pair is None:
            if syntax == "jcamp" and line.startswith("$$"):
                continue
            raise FormatError(where, f"not a {syntax!r} header line: {line[:60]!r}", line=number)
        values[pair[0]] = pair[1]
        lines[pair[0]] = number
    if end is not None:
        raise FormatError(where, f"header end marker {end!r} not found (truncated?)")
    return ParsedHeader(values, lines, pos)
