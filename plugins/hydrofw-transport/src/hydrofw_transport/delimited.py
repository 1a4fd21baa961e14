"""Delimited text logs: preamble, column header, delimiter, and a fast columnar body parse.

A log is ``[preamble][header line][data lines]``. The preamble holds comment lines (``#``,
``;``, ``%``, ``//``, ``!``), blank lines and uncommented text lines (LabVIEW writes
``Date<TAB>2012/11/09``); the last text line before the first numeric line names the columns.
When there is none (QCoDeS-style files keep the names in a comment), the names come from the
last comment line with as many fields as the data. The delimiter is the first of tab, comma,
semicolon, whitespace that splits the header and most of the first data lines into the same
number (>= 2) of fields. The body is parsed by ``pyarrow.csv`` (multi-threaded, columnar); line
numbers for error messages are recovered by a slow scan only when something is wrong.

Overrides: ``delimiter`` (``"\t"``/``"tab"``, ``","``, ``";"``, ``" "``/``"whitespace"`` or any
single character), ``header_line`` (1-based number of the column-name line) and ``names`` (the
column names, e.g. from a separate header file: the data then has no header line). Rows may
carry more fields than there are names when the extra fields are empty (trailing delimiters,
flag ``trailing_empty_fields``), or fewer (names without data are dropped, flag
``names_without_data:<k>``). A last line without a line break is cut mid-write: it is never
parsed (``truncated_at``, :mod:`.truncation`). With ``skip_bad_lines`` rows with the wrong
number of fields are dropped and their line numbers returned (:class:`Parsed`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import attrs
import pyarrow as pa
import pyarrow.csv as pacsv

from hydrofw.errors import FormatError, ParameterError

from .truncation import last_line_cut

__all__ = [
    "TextLog", "Parsed", "split_log", "parse_columns", "line_of_row", "lines_of_rows",
    "delimiter_option",
]  # fmt: skip

_COMMENT = ("#", ";", "%", "//", "!")
_DELIMITERS = ("\t", ",", ";", " ")
_NUMERIC = re.compile(r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$")
_LEADING_NUMBER = re.compile(r"^\s*[+-]?\.?\d")
_PROBE_LINES = 20
_BLOCK_BYTES = 4 << 20  # pyarrow parses blocks in parallel; 4 MiB beats the 1 MiB default


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
    truncated_at: int | None = None
    flags: tuple[str, ...] = ()


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


_DELIMITER_NAMES = {
    "tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "space": " ", "spaces": " ",
    "whitespace": " ",
}  # fmt: skip


def delimiter_option(value: str | None) -> str | None:
    """The delimiter named by a ``delimiter=`` option (None: detect)."""
    if value is None:
        return None
    text = _DELIMITER_NAMES.get(str(value).lower(), str(value))
    if len(text) != 1 or text in '\r\n"':
        raise ParameterError(
            f"delimiter={value!r}: give one character or one of {', '.join(_DELIMITER_NAMES)}"
        )
    return text


def split_log(
    data: bytes,
    where: str,
    *,
    delimiter: str | None = None,
    header_line: int | None = None,
    names: Sequence[str] | None = None,
    max_preamble_lines: int = 10_000,
) -> TextLog:
    """Find the preamble, the header and the delimiter of a text log (see the module
    docstring for the overrides).

    Raises :class:`FormatError` naming ``where`` (and the line) for binary data, a file with no
    data lines, or lines that no delimiter splits into at least two consistent fields.
    """
    if b"\x00" in data[:65536]:
        raise FormatError(where, "holds binary data (NUL bytes), not a text log")
    truncated_at = last_line_cut(data)
    if truncated_at is not None:
        data = data[:truncated_at]
    if data.startswith(b"\xef\xbb\xbf"):
        data = b"   " + data[3:]  # keep byte offsets and line numbers
    preamble: list[str] = []
    pos = 0
    number = 0
    header_text: str | None = None
    header_number = 0
    while pos < len(data) and number < max_preamble_lines:
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end + 1
        text = data[pos:end].decode("utf-8", errors="replace").strip("\r\n")
        number += 1
        if header_line is not None:
            if number < header_line:
                preamble.append(_uncomment(text))
            elif number == header_line:
                header_text, header_number = _uncomment(text), number
            elif text.strip() and not _is_comment(text):
                break
            pos = end
            continue
        if not text.strip() or _is_comment(text):
            preamble.append(_uncomment(text))
            pos = end
            continue
        if not _looks_numeric_row(text):  # the last text line before the data names columns
            if header_text is not None:
                preamble.append(header_text.strip())  # LabVIEW-style uncommented header lines
            header_text, header_number = text, number
            pos = end
            continue
        break
    else:
        cut = (
            ""
            if truncated_at is None
            else f" (its last line, cut at byte {truncated_at}, is dropped)"
        )
        raise FormatError(where, f"holds no data lines{cut}", line=number or None)
    if header_line is not None and header_text is None:
        raise FormatError(where, f"header_line={header_line} but the file has {number} lines")
    if names is not None and header_text is not None and header_line is None:
        preamble.append(header_text.strip())  # names come from elsewhere: this is text
        header_text = None
    body_start, first_line = pos, number
    probe = _lines(data, body_start, _PROBE_LINES * 3)
    probe = [t for t in probe if t.strip() and not _is_comment(t)][:_PROBE_LINES]
    if not probe:
        raise FormatError(where, "holds a header but no data lines", line=header_number or None)
    explicit = delimiter is not None or names is not None or header_line is not None
    for candidate in (delimiter,) if delimiter is not None else _DELIMITERS:
        n = _count_fields(probe, candidate)
        if n is None:
            continue
        if names is not None:
            fitted = _fit_names(list(names), n, probe, candidate, lenient=True)
        elif header_text is not None:
            headers = _split_header(header_text, candidate, n)
            fitted = (
                (headers, ())
                if headers is not None
                else _fit_names(
                    _split(header_text, candidate), n, probe, candidate,
                    lenient=explicit or candidate == "\t",
                )
            )  # fmt: skip
        else:
            fitted = (_headers_from_comments(preamble, candidate, n), ())
        if fitted is None:
            continue
        headers, flags = fitted
        decimal_comma = candidate == ";" and any(re.search(r"\d,\d", t) for t in probe)
        return TextLog(
            where,
            data,
            tuple(preamble),
            tuple(headers),
            candidate,
            body_start,
            first_line,
            decimal_comma,
            truncated_at,
            tuple(flags),
        )
    if delimiter is not None:
        raise FormatError(
            where,
            f"the lines are not split into the same number (>= 2) of fields by {_name(delimiter)}",
            line=first_line,
        )
    raise FormatError(
        where,
        "cannot find a delimiter (tab, comma, semicolon or spaces) that splits the lines into "
        "the same number of columns (at least two); name it with delimiter=",
        line=first_line,
    )


def _fit_names(
    names: list[str], n: int, probe: Sequence[str], delimiter: str, *, lenient: bool
) -> tuple[list[str], tuple[str, ...]] | None:
    """Names for ``n`` data fields: extra data fields must be empty (trailing delimiters);
    surplus names (no data) are dropped when ``lenient``. None when they do not fit."""
    while names and not names[-1].strip() and len(names) > n:
        names.pop()  # trailing delimiters on the header line
    if len(names) == n:
        return names, ()
    if len(names) < n:
        extra = n - len(names)
        if all(not f.strip() for t in probe for f in _split(t, delimiter)[len(names) :]):
            return names + [""] * extra, ("trailing_empty_fields",)
        return None
    if not lenient:
        return None
    return names[:n], (f"names_without_data:{len(names) - n}",)


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


@attrs.frozen
class Parsed:
    """The wanted columns (Arrow arrays by index) and the 1-based line numbers of the lines
    dropped by ``skip_bad_lines`` (wrong number of fields)."""

    columns: dict[int, pa.Array]
    skipped_lines: tuple[int, ...] = ()


def parse_columns(log: TextLog, indices: Sequence[int], *, skip_bad_lines: bool = False) -> Parsed:
    """Parse the data lines; return the columns ``indices`` as Arrow arrays (types inferred:
    float64/int64, timestamp for ISO dates, string for anything else).

    The first parse assumes no comment lines among the data; when it fails, or a wanted column
    comes back as text, comment lines are removed and the body is parsed again. Without
    ``skip_bad_lines`` a line with the wrong number of fields is a :class:`FormatError` naming
    the line and the option.
    """
    bad: list[str] = []
    out = _parse(log, indices, strip_comments=False, bad=bad if skip_bad_lines else None)
    if isinstance(out, str) or (
        any(pa.types.is_string(a.type) for a in out.values()) and _has_comment_lines(log)
    ):
        bad.clear()
        out = _parse(log, indices, strip_comments=True, bad=bad if skip_bad_lines else None)
    if isinstance(out, str):
        raise _locate_error(log, len(log.headers), out)
    for array in out.values():
        if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
            raise _locate_error(log, len(log.headers), "bytes that are not UTF-8 text")
    return Parsed(out, _bad_line_numbers(log, len(bad)) if bad else ())


def _has_comment_lines(log: TextLog) -> bool:
    """Whether a comment line sits among the data lines (a fast byte test first: most logs
    hold none of the comment characters at all)."""
    if not any(log.data.find(c, log.body_start) >= 0 for c in (b"#", b";", b"%", b"//", b"!")):
        return False
    return _COMMENT_LINE.search(log.data, log.body_start) is not None


def _bad_line_numbers(log: TextLog, count: int) -> tuple[int, ...]:
    """Line numbers of the data lines with the wrong number of fields (slow: only when the
    parser skipped some)."""
    n = len(log.headers)
    numbers = tuple(number for number, line in _data_lines(log) if _field_count(line, log) != n)
    return numbers[:count] if len(numbers) >= count else numbers


def _field_count(line: str, log: TextLog) -> int:
    fields = _split(line, log.delimiter)
    return len(fields)


def _parse(
    log: TextLog, indices: Sequence[int], *, strip_comments: bool, bad: list[str] | None
) -> dict[int, pa.Array] | str:
    """The wanted columns, or the parser's complaint (located by the caller). Rows with the
    wrong number of fields are skipped into ``bad`` when it is a list."""
    body = _body(log, strip_comments)
    n = len(log.headers)
    names = [f"c{i}" for i in range(n)]
    delimiter = "\t" if log.delimiter == " " else log.delimiter
    trailing = _has_trailing_delimiter(body, delimiter, n)
    if trailing:
        names.append("trailing")
    wanted = sorted(set(indices))

    def skip(row: pacsv.InvalidRow) -> str:
        assert bad is not None
        bad.append(row.text)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(body)),
            read_options=pacsv.ReadOptions(column_names=names, block_size=_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=False,
                invalid_row_handler=skip if bad is not None else None,
            ),
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


def line_of_row(log: TextLog, row: int, skipped: Sequence[int] = ()) -> int | None:
    """1-based line number of data row ``row`` (slow: for error messages only), the lines in
    ``skipped`` not counted as rows."""
    return lines_of_rows(log, [row], skipped)[0]


def lines_of_rows(
    log: TextLog, rows: Sequence[int], skipped: Sequence[int] = ()
) -> list[int | None]:
    """1-based line numbers of data rows ``rows`` (one slow scan)."""
    gone = set(skipped)
    lines = [number for number, _ in _data_lines(log) if number not in gone]
    return [lines[r] if 0 <= r < len(lines) else None for r in rows]


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
                f"(a damaged line or the wrong delimiter=?); pass skip_bad_lines=True to drop "
                f"such lines (their numbers are reported in the record's flags)",
                line=number,
            )
    return FormatError(log.where, f"cannot parse the data lines ({arrow_message.strip()})")


def _name(delimiter: str) -> str:
    known = {"\t": "tabs", ",": "commas", ";": "semicolons", " ": "spaces"}
    return known.get(delimiter, repr(delimiter))
