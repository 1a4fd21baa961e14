"""Read-only views of raw data handed to readers: a file, a folder, or either inside a zip.

Readers never open paths themselves; they receive a :class:`Source` and ask it for bytes. A zip
archive is read member by member without extracting anything to disk, and members whose names
escape the archive (absolute paths, ``..``) are refused.
"""

from __future__ import annotations

import abc
import hashlib
import io
import os
import posixpath
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import ReadError

__all__ = ["Source", "FileSource", "ZipSource", "open_source"]

_IGNORED = ("__MACOSX/", ".DS_Store")


class Source(abc.ABC):
    """A file or folder of raw data. ``relpath`` arguments are '/'-separated, relative."""

    #: Human-readable location used in error messages ("run/1", "exp.zip!/10/fid").
    path: str

    @property
    def name(self) -> str:
        return posixpath.basename(self.path.rstrip("/")) or self.path

    @property
    def suffix(self) -> str:
        return posixpath.splitext(self.name)[1].lower()

    @property
    def local_path(self) -> Path | None:
        """The real filesystem path, or None for data inside an archive."""
        return None

    @abc.abstractmethod
    def is_dir(self) -> bool:
        """True for a folder."""

    @abc.abstractmethod
    def exists(self, relpath: str = "") -> bool:
        """True when ``relpath`` (a file or folder below this source) exists."""

    @abc.abstractmethod
    def listdir(self, relpath: str = "") -> list[str]:
        """Names directly inside a folder (sorted)."""

    @abc.abstractmethod
    def open(self, relpath: str = "") -> BinaryIO:
        """A binary file object; raises :class:`ReadError` naming the file."""

    @abc.abstractmethod
    def size(self, relpath: str = "") -> int:
        """Size of a file in bytes."""

    @abc.abstractmethod
    def child(self, relpath: str) -> Source:
        """The source one level (or more) down."""

    @abc.abstractmethod
    def parent(self) -> Source:
        """The folder holding this file or folder (the archive root stops the climb)."""

    def describe(self, relpath: str = "") -> str:
        """Location of ``relpath`` for error messages."""
        return posixpath.join(self.path, relpath) if relpath else self.path

    # -- derived helpers --------------------------------------------------------------------
    def read_bytes(self, relpath: str = "") -> bytes:
        try:
            with self.open(relpath) as fh:
                return fh.read()
        except OSError as exc:
            raise ReadError(
                self.describe(relpath), f"cannot read ({exc.strerror or exc})"
            ) from None

    def read_text(self, relpath: str = "", encoding: str = "latin-1") -> str:
        return self.read_bytes(relpath).decode(encoding, errors="replace")

    def head(self, n: int = 4096, relpath: str = "") -> bytes:
        """First ``n`` bytes of a file (empty for folders or missing files)."""
        target = self.child(relpath) if relpath else self
        if not target.exists() or target.is_dir():
            return b""
        try:
            with target.open() as fh:
                return fh.read(n)
        except (OSError, ReadError):
            return b""

    def sha256(self, relpath: str = "") -> str:
        h = hashlib.sha256()
        with self.open(relpath) as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    def walk(self) -> Iterator[str]:
        """Relative paths of every file below this source (depth first, sorted)."""
        if not self.is_dir():
            yield ""
            return
        stack = [""]
        while stack:
            base = stack.pop()
            for name in self.listdir(base):
                rel = posixpath.join(base, name) if base else name
                if self.child(rel).is_dir():
                    stack.append(rel)
                else:
                    yield rel

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"


class FileSource(Source):
    """A file or folder on the local filesystem."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._root = Path(path)
        self.path = str(path)

    @property
    def local_path(self) -> Path:
        return self._root

    def _p(self, relpath: str) -> Path:
        return self._root / relpath if relpath else self._root

    def is_dir(self) -> bool:
        return self._root.is_dir()

    def exists(self, relpath: str = "") -> bool:
        return self._p(relpath).exists()

    def listdir(self, relpath: str = "") -> list[str]:
        try:
            return sorted(p.name for p in self._p(relpath).iterdir())
        except OSError as exc:
            raise ReadError(
                self.describe(relpath), f"cannot list folder ({exc.strerror})"
            ) from None

    def open(self, relpath: str = "") -> BinaryIO:
        try:
            return open(self._p(relpath), "rb")  # noqa: SIM115 - caller closes
        except IsADirectoryError:
            raise ReadError(self.describe(relpath), "is a folder, not a file") from None
        except OSError as exc:
            raise ReadError(self.describe(relpath), f"cannot open ({exc.strerror})") from None

    def size(self, relpath: str = "") -> int:
        return self._p(relpath).stat().st_size

    def child(self, relpath: str) -> FileSource:
        return FileSource(self._p(relpath))

    def parent(self) -> FileSource:
        return FileSource(self._root.parent)


class ZipSource(Source):
    """A folder (``prefix``) or a file inside a zip archive, read without extraction."""

    def __init__(self, archive: zipfile.ZipFile, archive_path: str, prefix: str = "") -> None:
        self._zip = archive
        self._archive_path = archive_path
        self._prefix = prefix.strip("/")
        self.path = f"{archive_path}!/{self._prefix}" if self._prefix else archive_path
        self._names = _safe_members(archive, archive_path)

    def _full(self, relpath: str) -> str:
        return (
            posixpath.normpath(posixpath.join(self._prefix, relpath)) if relpath else self._prefix
        )

    def is_dir(self) -> bool:
        return self._is_dir(self._prefix)

    def _is_dir(self, full: str) -> bool:
        if full in ("", "."):
            return True
        return any(n.startswith(full + "/") for n in self._names)

    def exists(self, relpath: str = "") -> bool:
        full = self._full(relpath)
        return full in self._names or self._is_dir(full)

    def listdir(self, relpath: str = "") -> list[str]:
        full = self._full(relpath)
        base = "" if full in ("", ".") else full + "/"
        return sorted({n[len(base) :].split("/")[0] for n in self._names if n.startswith(base)})

    def open(self, relpath: str = "") -> BinaryIO:
        full = self._full(relpath)
        if full not in self._names:
            problem = "is a folder, not a file" if self._is_dir(full) else "no such member"
            raise ReadError(self.describe(relpath), problem)
        try:
            return io.BytesIO(self._zip.read(full))
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ReadError(self.describe(relpath), f"corrupt zip member ({exc})") from None

    def size(self, relpath: str = "") -> int:
        return self._zip.getinfo(self._full(relpath)).file_size

    def child(self, relpath: str) -> ZipSource:
        return ZipSource(self._zip, self._archive_path, self._full(relpath))

    def parent(self) -> ZipSource:
        return ZipSource(self._zip, self._archive_path, posixpath.dirname(self._prefix))


def _safe_members(archive: zipfile.ZipFile, where: str) -> frozenset[str]:
    names = set()
    for info in archive.infolist():
        name = info.filename
        if name.startswith("/") or name.startswith("\\") or ".." in name.split("/") or ":" in name:
            raise ReadError(where, f"zip member {name!r} escapes the archive; refused")
        if info.is_dir() or any(name.startswith(p) or name.endswith(p) for p in _IGNORED):
            continue
        names.add(name.rstrip("/"))
    return frozenset(names)


def open_source(path: str | os.PathLike[str] | Source) -> Source:
    """A :class:`Source` for a file, folder, or zip archive (descending into a zip's single
    top-level folder, so ``exp.zip`` holding ``exp/10/...`` reads like the folder ``exp``)."""
    if isinstance(path, Source):
        return path
    p = Path(path)
    if not p.exists():
        raise ReadError(p, "no such file or folder")
    if p.is_file() and zipfile.is_zipfile(p):
        try:
            archive = zipfile.ZipFile(p)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ReadError(p, f"corrupt zip archive ({exc})") from None
        src = ZipSource(archive, str(p))
        top = src.listdir()
        if len(top) == 1 and src.child(top[0]).is_dir():
            return src.child(top[0])
        return src
    return FileSource(p)
