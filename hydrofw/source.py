"""Read-only views of raw data handed to readers: a file, a folder, or either inside a zip.

Readers never open paths themselves; they receive a :class:`Source` and ask it for bytes. A zip
archive is read member by member without extracting anything to disk, and members whose names
escape the archive (absolute paths, ``..`` with either slash kind, drive letters) are refused.

Hostile inputs: only regular files are opened (a FIFO or a device, also behind a symlink, is a
:class:`ReadError`, never a hang); :meth:`Source.read_bytes` reads at most ``limit`` bytes (the
size a header implies plus a margin, default :data:`MAX_READ_BYTES`) and checks a zip member's
declared size and compression ratio before decompressing anything.
"""

from __future__ import annotations

import abc
import hashlib
import io
import os
import posixpath
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from zlib import error as zlib_error

from .errors import FormatError, ReadError
from .header_values import excerpt

__all__ = [
    "Source",
    "FileSource",
    "ZipSource",
    "open_source",
    "MAX_READ_BYTES",
    "read_margin",
    "member_escapes",
    "relative_inside",
    "resolve_inside",
]

_IGNORED = ("__MACOSX/", ".DS_Store")

#: Largest file any reader reads whole, bytes (``HYDROFW_MAX_READ_BYTES`` overrides; 4 GiB).
MAX_READ_BYTES = int(os.environ.get("HYDROFW_MAX_READ_BYTES", str(4 << 30)))

#: Largest compression ratio (uncompressed / compressed) of a zip member: deflate cannot exceed
#: ~1032, so a larger ratio is a bomb or a lying header.
MAX_ZIP_RATIO = 1100

#: Zip compression methods the standard library decodes (stored, deflate, bzip2, lzma).
_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def read_margin(expected_bytes: int) -> int:
    """Bytes a reader accepts beyond what its header implies: 1 MiB or 10 %, whichever is more
    (block padding, trailing records)."""
    return max(1 << 20, expected_bytes // 10)


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
    def read_bytes(self, relpath: str = "", limit: int | None = None) -> bytes:
        """The whole file; a :class:`FormatError` when it holds more than ``limit`` bytes
        (default :data:`MAX_READ_BYTES`). Never reads more than ``limit + 1`` bytes."""
        cap = MAX_READ_BYTES if limit is None else min(limit, MAX_READ_BYTES)
        declared = self.size(relpath)
        if declared > cap:
            raise FormatError(
                self.describe(relpath),
                f"holds {declared} bytes, more than the {cap} its header implies (or the "
                "reading limit HYDROFW_MAX_READ_BYTES); not read",
            )
        try:
            with self.open(relpath) as fh:
                # never ask for more than the declared size (+1 to notice growth): a buffer of
                # the full limit would be allocated up front
                data = fh.read(declared + 1)
        except OSError as exc:
            raise ReadError(
                self.describe(relpath), f"cannot read ({exc.strerror or exc})"
            ) from None
        if len(data) > declared:
            raise FormatError(
                self.describe(relpath), f"holds more than its {declared} bytes (it is growing)"
            )
        return data

    def read_text(
        self, relpath: str = "", encoding: str = "latin-1", limit: int | None = None
    ) -> str:
        return self.read_bytes(relpath, limit).decode(encoding, errors="replace")

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
        read = 0
        with self.open(relpath) as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                read += len(block)
                if read > MAX_READ_BYTES:
                    raise FormatError(self.describe(relpath), "larger than the reading limit")
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

    def _regular(self, relpath: str) -> os.stat_result:
        """stat of a regular file (symlinks followed); ReadError for anything else."""
        try:
            st = os.stat(self._p(relpath))
        except OSError as exc:
            raise ReadError(self.describe(relpath), f"cannot open ({exc.strerror})") from None
        if stat.S_ISDIR(st.st_mode):
            raise ReadError(self.describe(relpath), "is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise ReadError(
                self.describe(relpath), f"is not a regular file ({_file_kind(st.st_mode)}); refused"
            )
        return st

    def open(self, relpath: str = "") -> BinaryIO:
        self._regular(relpath)
        try:
            return open(self._p(relpath), "rb")  # noqa: SIM115 - caller closes
        except IsADirectoryError:
            raise ReadError(self.describe(relpath), "is a folder, not a file") from None
        except OSError as exc:
            raise ReadError(self.describe(relpath), f"cannot open ({exc.strerror})") from None

    def size(self, relpath: str = "") -> int:
        return self._regular(relpath).st_size

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

    def _info(self, relpath: str) -> zipfile.ZipInfo:
        full = self._full(relpath)
        if full not in self._names:
            problem = "is a folder, not a file" if self._is_dir(full) else "no such member"
            raise ReadError(self.describe(relpath), problem)
        info = self._zip.getinfo(self._names[full])
        if info.compress_type not in _ZIP_METHODS:
            raise FormatError(
                self.describe(relpath), f"zip compression method {info.compress_type} unsupported"
            )
        if info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise FormatError(
                self.describe(relpath),
                f"zip member claims {info.file_size} bytes from {info.compress_size} compressed "
                f"(ratio above {MAX_ZIP_RATIO}); refused as a zip bomb or corrupt header",
            )
        return info

    def open(self, relpath: str = "") -> BinaryIO:
        info = self._info(relpath)
        try:
            return _BoundedMember(self._zip.open(info), info.file_size, self.describe(relpath))
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError) as exc:
            raise FormatError(self.describe(relpath), f"corrupt zip member ({exc})") from None

    def read_bytes(self, relpath: str = "", limit: int | None = None) -> bytes:
        try:
            return super().read_bytes(relpath, limit)
        except (
            zipfile.BadZipFile,
            EOFError,
            NotImplementedError,
            ValueError,
            RuntimeError,
            zlib_error,
        ) as exc:
            raise FormatError(self.describe(relpath), f"corrupt zip member ({exc})") from None

    def size(self, relpath: str = "") -> int:
        return self._info(relpath).file_size

    def child(self, relpath: str) -> ZipSource:
        return ZipSource(self._zip, self._archive_path, self._full(relpath))

    def parent(self) -> ZipSource:
        return ZipSource(self._zip, self._archive_path, posixpath.dirname(self._prefix))


class _BoundedMember(io.RawIOBase):
    """A zip member stream that fails once it yields more bytes than the member declares."""

    def __init__(self, inner: BinaryIO, declared: int, where: str) -> None:
        self._inner, self._left, self._where = inner, declared, where

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            chunk = self._inner.read(min(len(buffer), self._left + 1))
        except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, zlib_error) as exc:
            raise FormatError(self._where, f"corrupt zip member ({exc})") from None
        if len(chunk) > self._left:
            raise FormatError(self._where, "zip member holds more bytes than its header says")
        self._left -= len(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a plain file"


def member_escapes(name: str) -> bool:
    """True when a zip member name leaves the archive: absolute, a drive letter, or ``..``
    with either slash kind."""
    unified = name.replace("\\", "/")
    return unified.startswith("/") or ".." in unified.split("/") or ":" in unified


def _safe_members(archive: zipfile.ZipFile, where: str) -> dict[str, str]:
    """Normalised member name -> name in the archive; escaping members refuse the archive."""
    names: dict[str, str] = {}
    for info in archive.infolist():
        name = info.filename
        if member_escapes(name):
            raise ReadError(where, f"zip member {excerpt(name)} escapes the archive; refused")
        if info.is_dir() or any(name.startswith(p) or name.endswith(p) for p in _IGNORED):
            continue
        names[name.replace("\\", "/").rstrip("/")] = name
    return names


def open_source(path: str | os.PathLike[str] | Source) -> Source:
    """A :class:`Source` for a file, folder, or zip archive (descending into a zip's single
    top-level folder, so ``exp.zip`` holding ``exp/10/...`` reads like the folder ``exp``)."""
    if isinstance(path, Source):
        return path
    p = Path(path)
    if not p.exists():
        raise ReadError(p, "no such file or folder")
    try:
        mode = os.stat(p).st_mode
    except OSError as exc:
        raise ReadError(p, f"cannot open ({exc.strerror})") from None
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise ReadError(p, f"is not a regular file ({_file_kind(mode)}); refused")
    if stat.S_ISREG(mode) and _is_zip(p):
        try:
            archive = zipfile.ZipFile(p)
        except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError, EOFError) as exc:
            raise FormatError(p, f"corrupt zip archive ({exc})") from None
        src = ZipSource(archive, str(p))
        top = src.listdir()
        if len(top) == 1 and src.child(top[0]).is_dir():
            return src.child(top[0])
        return src
    return FileSource(p)


def _is_zip(path: Path) -> bool:
    try:
        return zipfile.is_zipfile(path)
    except (OSError, ValueError, NotImplementedError, EOFError):
        return False


def relative_inside(name: str) -> str | None:
    """``name`` as a normalised '/'-separated relative path when it stays inside the folder it
    is relative to, else None: absolute paths, drive letters and ``..`` that climb out
    (anywhere in the path, with either slash kind) are refused."""
    unified = str(name).replace("\\", "/").strip()
    if not unified or unified.startswith("/") or ":" in unified:
        return None
    normal = posixpath.normpath(unified)
    if normal == ".." or normal.startswith("../"):
        return None
    return normal


def resolve_inside(base: str | os.PathLike[str], name: str) -> Path | None:
    """``base / name`` when it stays inside ``base`` both as written (see
    :func:`relative_inside`) and after following symlinks; None otherwise."""
    rel = relative_inside(name)
    if rel is None:
        return None
    root = Path(base).resolve()
    target = (root / rel).resolve()
    return target if target == root or target.is_relative_to(root) else None
