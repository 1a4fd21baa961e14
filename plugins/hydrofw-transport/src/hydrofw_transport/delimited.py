"""Delimited text logs: preamble, column header, delimiter, and a fast columnar body parse.

A log is ``[preamble][header line][data lines]``. The preamble holds comment lines (``#``,
``;``, ``%``, ``//``, ``!``), blank lines and uncommented text lines (LabVIEW writes
``Date<TAB>2012/11/09``); the last text line before the first numeric line names the columns.
When there is none (QCoDeS-style files keep the names in a comment), the names come from the
last comment line with as many fields as the data. The delimiter is the first of tab, comma,
semicolon, whitespace that splits the header and most of the first data lines into the same
number (>= 2) of fields. The body is parsed by ``pyarrow.csv`` (multi-threaded, columnar); line
numbers for error messages are recovered by a slow scan only when something is wrong.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import attrs
import pyarrow as pa
import pyarrow.csv as pacsv

from hydrofw.errors import FormatError

__all__ = ["TextLog", "split_log", "parse_columns", "line_of_row"]

_COMMENT = ("#", ";", "%", "//", "!")
_DELIMITERS = ("\t", ",", ";", " ")
_NUMERIC = re.compile(r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$")
_LEADING_NUMBER = re.compile(r"^\s*[+-]?\.?\d")
_PROBE_LINES = 20


@attrs.frozen
class TextLog:
    """A log split into its parts. ``body_start`` is the byte offset of the first data line,
    ``first_data_line`` its 1-based line number."""

    where: str
    data: bytes
    preamble: tuple[str, ...]
    headers: tuple[str, ...]
    delimiter: str
    body_start: int
    first_data_line: int
    decimal_comma: bool = False


def _is_comment(line: str) -> bool:
    s = line.lstrip()
    return s.startswith(_COMMENT)


def _uncomment(line: str) -> str:
    s = line.strip()
    for c in _COMMENT:
        if s.startswith(c):
            return s[len(c) :].strip()
    return s


def _split(line: str, delimiter: str) -> list[str]:
    line = line.strip("\r\n")
    if delimiter == " ":
        return line.split()
    fields = line.split(delimiter)
    return [f.strip().strip('"') for f in fields]


def _split_header(line: str, delimiter: str, n: int) -> list[str] | None:
    """Header fields; whitespace headers may hold spaces inside names ('T (K)')."""
    fields = _split(line, delimiter)
    if delimiter == "," and len(fields) == n - 1:  # trailing delimiter on data lines only
        fields.append("")
    if len(fields) == n + 1 and fields[-1] == "":  # trailing delimiter on the header only
        fields.pop()
    if len(fields) == n:
        return fields
    if delimiter == " ":
        for pattern in (r"\t|\s{2,}", r"\s+(?![\(\[\{])"):
            fields = [f for f in re.split(pattern, line.strip()) if f]
            if len(fields) == n:
                return fields
    return None


def _lines(data: bytes, start: int, count: int) -> list[str]:
    """Up to ``count`` lines (decoded, line ends stripped) from byte offset ``start``."""
    out: list[str] = []
    pos = start
    while pos < len(data) and len(out) < count:
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end + 1
        out.append(data[pos:end].decode("utf-8", errors="replace").strip("\r\n"))
        pos = end
    return out


def _count_fields(lines: Sequence[str], delimiter: str) -> int | None:
    """The field count (>= 2) shared by at least 80 % of ``lines`` (a damaged line further down
    is reported by the parser with its number), or None."""
    counts = Counter(len(_split(line, delimiter)) for line in lines)
    n, seen = counts.most_common(1)[0]
    return n if n >= 2 and seen >= 0.8 * len(lines) else None


def split_log(data: bytes, where: str, *, max_preamble_lines: int = 10_000) -> TextLog:
    """Find the preamble, the header and the delimiter of a text log.

    Raises :class:`FormatError` naming ``where`` (and the line) for binary data, a file with no
    data lines, or lines that no delimiter splits into at least two consistent fields.
    """
    if b"\x00" in data[:65536]:
        raise FormatError(where, "holds binary data (NUL bytes), not a text log")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    preamble: list[str] = []
    pos = 0
    number = 0
    header_line: str | None = None
    header_number = 0
    while pos < len(data) and number < max_preamble_lines:
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end + 1
        text = data[pos:end].decode("utf-8", errors="replace").strip("\r\n")
        number += 1
        if not text.strip() or _is_comment(text):
            preamble.append(_uncomment(text))
            pos = end
            continue
        if not _looks_numeric_row(text):  # the last text line before the data names columns
            if header_line is not None:
                preamble.append(header_line.strip())  # LabVIEW-style uncommented header lines
            header_line, header_number = text, number
            pos = end
            continue
        break
    else:
        raise FormatError(where, "holds no data lines", line=number or None)
    body_start, first_line = pos, number
    probe = _lines(data, body_start, _PROBE_LINES * 3)
    probe = [t for t in probe if t.strip() and not _is_comment(t)][:_PROBE_LINES]
    if not probe:
        raise FormatError(where, "holds a header but no data lines", line=header_number or None)
    for delimiter in _DELIMITERS:
        n = _count_fields(probe, delimiter)
        if n is None:
            continue
        if header_line is not None:
            headers = _split_header(header_line, delimiter, n)
            if headers is None:
                continue
        else:
            headers = _headers_from_comments(preamble, delimiter, n)
        decimal_comma = delimiter == ";" and any(re.search(r"\d,\d", t) for t in probe)
        return TextLog(
            where,
            data,
            tuple(preamble),
            tuple(headers),
            delimiter,
            body_start,
            first_line,
            decimal_comma,
        )
    raise FormatError(
        where,
        "cannot find a delimiter (tab, comma, semicolon or spaces) that splits the lines into "
        "the same number of columns (at least two)",
        line=first_line,
    )


def _looks_numeric_row(text: str) -> bool:
    """A data line: starts with a number (or a date), or is mostly numbers."""
    if _LEADING_NUMBER.match(text):
        return True
    for delimiter in _DELIMITERS:
        fields = [f for f in _split(text, delimiter) if f]
        if len(fields) >= 2:
            return sum(bool(_NUMERIC.match(f)) for f in fields) >= max(1, len(fields) // 2)
    return bool(_NUMERIC.match(text))


def _headers_from_comments(preamble: Sequence[str], delimiter: str, n: int) -> list[str]:
    for line in reversed(preamble):
        if not line:
            continue
        fields = _split_header(line, delimiter, n)
        if fields is not None and not all(_NUMERIC.match(f) for f in fields if f):
            return fields
    return [f"column {i}" for i in range(n)]


_COMMENT_LINE = re.compile(rb"(?m)^[ \t]*(?:#|;|%|//|!)[^\n]*\n?")


def _body(log: TextLog, strip_comments: bool) -> bytes | memoryview:
    """The data lines for the CSV parser (a zero-copy view when nothing needs rewriting):
    comment lines removed on request (the optimistic first parse skips that scan),
    whitespace runs turned into single tabs."""
    if not strip_comments and log.delimiter != " ":
        return memoryview(log.data)[log.body_start :]
    body = log.data[log.body_start :]
    if strip_comments:
        body = _COMMENT_LINE.sub(b"", body)
    if log.delimiter == " ":
        body = re.sub(rb"(?m)^[ \t]+", b"", body)
        body = re.sub(rb"[ \t]+", b"\t", body)
        body = re.sub(rb"\t(\r?\n)", rb"\1", body)
    return body


def parse_columns(log: TextLog, indices: Sequence[int]) -> dict[int, pa.Array]:
    """Parse the data lines; return the columns ``indices`` as Arrow arrays (types inferred:
    float64/int64, timestamp for ISO dates, string for anything else).

    The first parse assumes no comment lines among the data; when it fails, or a wanted column
    comes back as text, comment lines are removed and the body is parsed again.
    """
    out = _parse(log, indices, strip_comments=False)
    if isinstance(out, str) or (
        any(pa.types.is_string(a.type) for a in out.values())
        and _COMMENT_LINE.search(log.data, log.body_start)
    ):
        out = _parse(log, indices, strip_comments=True)
    if isinstance(out, str):
        raise _locate_error(log, len(log.headers), out)
    for array in out.values():
        if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
            raise _locate_error(log, len(log.headers), "bytes that are not UTF-8 text")
    return out


def _parse(
    log: TextLog, indices: Sequence[int], *, strip_comments: bool
) -> dict[int, pa.Array] | str:
    """The wanted columns, or the parser's complaint (located by the caller)."""
    body = _body(log, strip_comments)
    n = len(log.headers)
    names = [f"c{i}" for i in range(n)]
    delimiter = "\t" if log.delimiter == " " else log.delimiter
    trailing = _has_trailing_delimiter(body, delimiter, n)
    if trailing:
        names.append("trailing")
    wanted = sorted(set(indices))
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(body)),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                include_columns=[names[i] for i in wanted],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                decimal_point="," if log.decimal_comma else ".",
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError) as exc:
        return str(exc)
    return {i: table.column(names[i]).combine_chunks() for i in wanted}


def _has_trailing_delimiter(body: bytes | memoryview, delimiter: str, n: int) -> bool:
    if delimiter != ",":
        return False
    head = bytes(body[:65536])
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    return first.endswith(b",") and first.count(b",") == n


def _data_lines(log: TextLog) -> list[tuple[int, str]]:
    """(1-based line number, text) of every data line (blank and comment lines skipped)."""
    text = log.data[log.body_start :].decode("utf-8", errors="replace")
    out = []
    for k, line in enumerate(text.split("\n")):
        if line.strip() and not _is_comment(line):
            out.append((log.first_data_line + k, line.rstrip("\r")))
    return out


def line_of_row(log: TextLog, row: int) -> int | None:
    """1-based line number of data row ``row`` (slow: for error messages only)."""
    lines = _data_lines(log)
    return lines[row][0] if 0 <= row < len(lines) else None


def _locate_error(log: TextLog, n: int, arrow_message: str) -> FormatError:
    """The first data line that explains a failed parse (slow path: errors only)."""
    for number, line in _data_lines(log):
        if "\ufffd" in line:
            return FormatError(log.where, "holds bytes that are not UTF-8 text", line=number)
        fields = _split(line, log.delimiter)
        if len(fields) == n + 1 and fields[-1] == "":  # trailing delimiter
            fields.pop()
        if len(fields) != n:
            return FormatError(
                log.where,
                f"expected {n} fields separated by {_name(log.delimiter)}, found {len(fields)} "
                f"(truncated line or wrong delimiter?)",
                line=number,
            )
    return FormatError(log.where, f"cannot parse the data lines ({arrow_message.strip()})")


def _name(delimiter: str) -> str:
    return {"\t": "tabs", ",": "commas", ";": "semicolons", " ": "spaces"}[delimiter]
