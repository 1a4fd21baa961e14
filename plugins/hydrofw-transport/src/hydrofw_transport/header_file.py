"""Column names kept in a separate header file beside a data file (LabVIEW loggers write
``run.txt`` and ``run_header.txt``).

The names are the last line of the header file that the delimiter (given, else tab, comma,
semicolon) splits into two or more fields; a header file whose lines hold one field each gives
one name per line. Comment lines (``#``, ``;``, ``%``, ``//``, ``!``) and blank lines are
skipped. A relative ``header_file`` is taken beside the data file.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from hydrofw.errors import FormatError, HydrofwError, ParameterError
from hydrofw.ids import file_sha256
from hydrofw.source import Source

__all__ = ["header_file_names", "CANDIDATES"]

#: header-file names tried beside ``<stem><ext>`` when the data has no usable header
CANDIDATES = ("{stem}_header{ext}", "{stem}_header.txt", "{stem}.hdr", "{stem}.header")
_COMMENT = ("#", ";", "%", "//", "!")


def _names(text: str, delimiter: str | None, where: str) -> tuple[str, ...]:
    lines = [
        line.strip("\r\n")
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith(_COMMENT)
    ]
    if not lines:
        raise FormatError(where, "holds no column names")
    for candidate in (delimiter,) if delimiter else ("\t", ",", ";"):
        fields = lines[-1].split(candidate) if candidate != " " else lines[-1].split()
        if len(fields) >= 2:
            return tuple(f.strip().strip('"') for f in fields)
    if len(lines) >= 2:
        return tuple(line.strip().strip('"') for line in lines)
    raise FormatError(where, "holds a single name; a header file names every column")


def header_file_names(
    source: Source, header_file: str | None, delimiter: str | None, *, auto: bool = False
) -> tuple[tuple[str, ...] | None, str | None, str | None]:
    """(names, header file path, its sha256) of ``header_file``, or of the first candidate
    beside ``source`` when ``auto``; (None, None, None) when there is none."""
    if header_file is None and not auto:
        return None, None, None
    try:
        folder = source.parent()
    except (HydrofwError, OSError, ValueError):
        if header_file is not None:
            raise ParameterError(
                f"header_file={header_file!r}: {source.path} has no folder to look in"
            ) from None
        return None, None, None
    if header_file is not None:
        relative = [str(header_file)]
    else:
        name = PurePosixPath(source.name)
        stem, ext = name.stem, name.suffix
        relative = [c.format(stem=stem, ext=ext) for c in CANDIDATES]
    for rel in relative:
        try:
            if not folder.exists(rel):
                continue
            child = folder.child(rel)
            data = child.read_bytes()
        except (HydrofwError, OSError):
            continue
        text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
        return _names(text, delimiter, child.path), child.path, file_sha256(data)
    if header_file is not None:
        raise ParameterError(f"header_file={header_file!r} not found beside {source.path}")
    return None, None, None
