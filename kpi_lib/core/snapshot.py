"""Input files read exactly as they were hashed.

A run's figures, its cache key and its manifest must all describe the same bytes. So a
:class:`Snapshot` opens each input file once, hashes it (SHA-256) through that open file, and
keeps it open: every later read of that file, while the snapshot is active (:meth:`Snapshot.active`),
goes through :func:`open_bytes` to the very file that was hashed, even if the path is replaced
meanwhile (a nightly export renaming a new file into place). A file written over in place
changes the open file too: :meth:`Snapshot.changed` notices (its size or modification time moved)
and the run stops rather than use bytes that were never hashed. :meth:`Snapshot.verify` checks the
paths themselves again at the end, so a file replaced during the run stops it too: no figure is
ever stored or published under the SHA-256 of other bytes.

Files that are never inputs are left out of a folder's snapshot and listed with the reason:
Office lock files (``~$name.xlsx``, which Excel writes beside an open workbook and which change
while it is open) and hidden files (``.name``). Sub-folders are not read by any reader and are
not part of a folder's snapshot.

Reads are positioned (``os.pread``), so any number of readers can share one open file without
disturbing each other's place.
"""

from __future__ import annotations

import contextvars
import hashlib
import io
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kpi_lib.core.errors import InputError
from kpi_lib.core.io import file_sha256

_BLOCK = 1 << 20
_ACTIVE: contextvars.ContextVar[Snapshot | None] = contextvars.ContextVar("kpi_snapshot", default=None)


def skip_reason(name: str) -> str | None:
    """Why a file in a data folder is not an input (None when it may be one)."""
    if name.startswith("~$"):
        return "an Office lock file (written while the workbook is open; not data)"
    if name.startswith("."):
        return "a hidden file"
    return None


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (through the active snapshot when it holds the file)."""
    snap = _ACTIVE.get()
    if snap is not None and snap.holds(path):
        return snap.digest(path)
    return file_sha256(path)


def _key(path: str | Path) -> str:
    """One spelling per file: the real path of its folder, then its name (a link to the folder
    is the same file; the file itself is not followed, so a link put in its place later is not)."""
    p = Path(path)
    return os.path.join(os.path.realpath(p.parent), p.name)


class _PinnedReader(io.RawIOBase):
    """A read-only view of an open file with its own position (positioned reads)."""

    def __init__(self, fd: int, size: int) -> None:
        super().__init__()
        self._fd, self._size, self._pos = fd, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = os.pread(self._fd, len(buffer), self._pos)
        n = len(data)
        buffer[:n] = data
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:  # the snapshot owns the descriptor
        super().close()


@dataclass
class Pinned:
    """One hashed file, held open: where it was found, its SHA-256, and its identity then."""

    path: Path
    sha256: str
    fd: int
    size: int
    mtime_ns: int
    ino: int
    dev: int


class Snapshot:
    """Input files hashed once and held open (see the module doc). Use as a context manager, or
    call :meth:`close`."""

    def __init__(self) -> None:
        self.files: dict[str, Pinned] = {}
        self.folders: set[str] = set()
        self.skipped: dict[str, str] = {}  # file name -> why it is not an input

    # ---- taking -------------------------------------------------------------------------
    @classmethod
    def of(cls, folder: str | Path | None = None, extra_files: Iterable[str | Path] = ()) -> Snapshot:
        snap = cls()
        try:
            if folder is not None:
                snap.add_folder(folder)
            for f in extra_files:
                snap.add(f)
        except BaseException:
            snap.close()
            raise
        return snap

    def add_folder(self, folder: str | Path) -> None:
        """Every input file directly in ``folder`` (lock files and hidden files listed as skipped)."""
        folder = Path(folder)
        self.folders.add(os.path.realpath(folder))
        for p in sorted(folder.iterdir()):
            why = skip_reason(p.name)
            if why is not None:
                self.skipped[p.name] = why
            elif p.is_file():
                self.add(p)

    def add(self, path: str | Path) -> Pinned:
        """Open, hash and hold one file (once: a second call returns the first)."""
        key = _key(path)
        if key in self.files:
            return self.files[key]
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            raise InputError(str(path), f"cannot be opened ({exc.strerror})") from None
        try:
            st = os.fstat(fd)
            digest = _hash_fd(fd)
            after = os.fstat(fd)
        except OSError as exc:
            os.close(fd)
            raise InputError(str(path), f"cannot be read ({exc.strerror})") from None
        pinned = Pinned(Path(path), digest, fd, st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
        self.files[key] = pinned
        if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):  # written while hashed
            raise InputError(str(path), "changed while it was being read (it is still being written?)",
                             expected="a complete file: run again once it is written")
        return pinned

    # ---- reading ------------------------------------------------------------------------
    def holds(self, path: str | Path) -> bool:
        return _key(path) in self.files

    def covers(self, folder: str | Path) -> bool:
        return os.path.realpath(folder) in self.folders

    def digest(self, path: str | Path) -> str:
        return self.files[_key(path)].sha256

    def open(self, path: str | Path) -> BinaryIO:
        p = self.files[_key(path)]
        return io.BufferedReader(_PinnedReader(p.fd, p.size), buffer_size=_BLOCK)  # type: ignore[return-value]

    def listing(self, folder: str | Path) -> list[Path]:
        """The input files of a folder the snapshot took, by the paths they were found at."""
        real = os.path.realpath(folder)
        return sorted(Path(folder) / p.path.name for k, p in self.files.items() if os.path.dirname(k) == real)

    def digests(self, folder: str | Path | None = None) -> dict[str, str]:
        """File name -> SHA-256 for a folder's files (``folder``), or full path -> SHA-256 of the
        files taken one by one (None)."""
        if folder is None:
            folders = self.folders
            return {k: p.sha256 for k, p in self.files.items() if os.path.dirname(k) not in folders}
        real = os.path.realpath(folder)
        return {p.path.name: p.sha256 for k, p in self.files.items() if os.path.dirname(k) == real}

    # ---- checking -----------------------------------------------------------------------
    def changed(self, deep: bool = True) -> list[str]:
        """Files whose bytes are no longer those hashed: written over in place (the open file's
        bytes differ; looked at when its size or time moved, or always with ``deep``, since a
        rewrite of the same size within one clock tick leaves both unchanged) or replaced or
        removed at their path. A file merely touched (same bytes) is not changed."""
        out = []
        for p in self.files.values():
            try:
                st = os.fstat(p.fd)
                moved = (st.st_size, st.st_mtime_ns) != (p.size, p.mtime_ns)
                if (moved or deep) and _hash_fd(p.fd) != p.sha256:
                    out.append(str(p.path))
                    continue
                now = os.stat(p.path)
                if (now.st_ino, now.st_dev) != (p.ino, p.dev) and file_sha256(p.path) != p.sha256:
                    out.append(str(p.path))
            except OSError:  # removed, or no longer readable
                out.append(str(p.path))
        return out

    def verify(self, when: str, deep: bool = True) -> None:
        """Stop (InputError) when an input changed since it was hashed, naming the file(s)."""
        changed = self.changed(deep)
        if changed:
            names = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
            raise InputError(names, f"changed {when}, after the run had hashed and read it",
                             expected="input files left unchanged while a run reads them: nothing was "
                                      "cached or published; run again once the new file is complete")

    # ---- lifetime -----------------------------------------------------------------------
    @contextmanager
    def active(self) -> Iterator[Snapshot]:
        """Readers in this block read this snapshot's files (:func:`open_bytes`)."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    def close(self) -> None:
        for p in self.files.values():
            try:
                os.close(p.fd)
            except OSError:
                pass
        self.files = {}

    def __enter__(self) -> Snapshot:
        return self

    def __del__(self) -> None:  # a snapshot nobody closed still lets its files go
        self.close()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _hash_fd(fd: int) -> str:
    h = hashlib.sha256()
    pos = 0
    while True:
        block = os.pread(fd, _BLOCK, pos)
        if not block:
            return h.hexdigest()
        h.update(block)
        pos += len(block)


def active() -> Snapshot | None:
    """The snapshot readers are reading from now, if any."""
    return _ACTIVE.get()


def open_bytes(path: str | Path) -> BinaryIO:
    """Open a file for reading: the hashed file when the active snapshot holds it; a file that
    appeared in a snapshotted folder after the snapshot is an error (its bytes were never
    hashed); any other file is opened by its path."""
    snap = _ACTIVE.get()
    if snap is not None:
        if snap.holds(path):
            return snap.open(path)
        if snap.covers(Path(path).parent):
            raise InputError(str(Path(path).name), "appeared after the run hashed its inputs",
                             expected="input files left unchanged while a run reads them; run again")
    return open(path, "rb")


def native_path(path: str | Path) -> str:
    """A path a native reader (Arrow's Parquet reader) can open for this file: on Linux, for a
    file the active snapshot holds, ``/proc/self/fd/N``, which opens the very file that was hashed
    (even if its path was replaced since) at native speed; otherwise the path itself."""
    snap = _ACTIVE.get()
    if snap is not None and snap.holds(path) and os.path.isdir("/proc/self/fd"):
        return f"/proc/self/fd/{snap.files[_key(path)].fd}"
    if snap is not None and not snap.holds(path) and snap.covers(Path(path).parent):
        open_bytes(path)  # raises: a file that appeared after the snapshot
    return str(path)


def size_of(path: str | Path) -> int:
    """A file's size in bytes (as hashed, when the active snapshot holds it)."""
    snap = _ACTIVE.get()
    if snap is not None and snap.holds(path):
        return snap.files[_key(path)].size
    return os.stat(path).st_size


def list_files(folder: str | Path) -> list[Path]:
    """The files of a folder that may be inputs: the active snapshot's when it took this folder,
    else the folder's regular files now, lock files and hidden files left out."""
    snap = _ACTIVE.get()
    if snap is not None and snap.covers(folder):
        return snap.listing(folder)
    return sorted(p for p in Path(folder).iterdir() if skip_reason(p.name) is None and p.is_file())


def skipped_files(folder: str | Path) -> dict[str, str]:
    """Files of a folder that are never inputs, with the reason (see :func:`skip_reason`)."""
    snap = _ACTIVE.get()
    if snap is not None and snap.covers(folder):
        return dict(snap.skipped)
    out = {}
    for p in sorted(Path(folder).iterdir()):
        why = skip_reason(p.name)
        if why is not None:
            out[p.name] = why
    return out


__all__ = ["Pinned", "Snapshot", "active", "list_files", "native_path", "open_bytes", "sha256_of", "size_of",
           "skip_reason", "skipped_files"]
