"""JCAMP-DX labelled data records (``##LABEL= value``), shared by Bruker ``acqus`` and JCAMP-DX.

A record starts at a line beginning with ``##``; its value runs to the next record. ``$$``
starts a comment that runs to the end of the line. Labels compare after :func:`label_key`
(upper case, blanks, ``-``, ``_`` and ``/`` removed), as JCAMP-DX 5 requires, so
``##.OBSERVE FREQUENCY`` and ``##.OBSERVEFREQUENCY`` are the same key; Bruker's ``##$SW_h``
becomes ``$SWH``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from hydrofw.errors import FormatError

__all__ = ["Record", "label_key", "parse_records"]

_STRIP = str.maketrans("", "", " \t-_/")


class Record(NamedTuple):
    """One labelled data record: ``label`` as written, ``line`` 1-based."""

    label: str
    value: str
    line: int

    @property
    def key(self) -> str:
        """The normalised label (:func:`label_key`)."""
        return label_key(self.label)


def label_key(label: str) -> str:
    """Normalised label: ``'.OBSERVE FREQUENCY'`` -> ``'.OBSERVEFREQUENCY'``."""
    return label.translate(_STRIP).upper()


def _strip_comment(line: str) -> str:
    cut = line.find("$$")
    return line if cut < 0 else line[:cut]


def _first_bad_line(gap: str) -> int | None:
    """Index of the first line of ``gap`` that is neither blank nor a ``$$`` comment."""
    for k, text in enumerate(gap.split("\n")):
        stripped = text.strip()
        if stripped and not stripped.startswith("$$"):
            return k
    return None


def parse_records(text: str, where: str) -> Iterator[Record]:
    """Records of a JCAMP-style text, in file order (comments removed, values stripped).

    Anything but blank or ``$$`` lines before the first record, or a ``##`` line without
    ``=``, is refused with its line number.
    """
    chunks = text.split("\n##")
    if chunks[0].startswith("##"):
        chunks[0] = chunks[0][2:]
        line = 1
    else:
        preamble = chunks.pop(0)
        bad = _first_bad_line(preamble)
        if bad is not None:
            found = preamble.split("\n")[bad].strip()[:40]
            raise FormatError(where, f"not a '##LABEL= value' record: {found!r}", line=1 + bad)
        line = preamble.count("\n") + 2
    for chunk in chunks:
        label, sep, value = chunk.partition("=")
        if not sep or "\n" in label:
            found = "##" + label.split("\n")[0].strip()[:40]
            raise FormatError(where, f"record {found!r} has no '='", line=line)
        if "$$" in value:
            value = "\n".join(_strip_comment(v) for v in value.split("\n"))
        yield Record(label.strip(), value.strip(), line)
        line += chunk.count("\n") + 1
