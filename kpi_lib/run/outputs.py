"""Output folders are owned, never assumed.

A run replaces an output folder only when that folder carries this suite's marker (a
``manifest.json`` or ``inputs.json`` naming the suite, written by an earlier run). Before any work
it refuses, with one sentence, an ``--out`` that is an existing file, a symbolic link, an existing
folder without the marker, the current folder (or a folder containing it), or any folder that
contains or lies inside the data folder or the repository's own source folders. Replacing the
wrong folder loses a user's files, so every check errs on the side of refusing.

One lock file per output folder (``.<name>.lock`` beside it, held with ``flock``) makes a second
concurrent run to the same folder refuse. The operating system releases the lock when its holder
dies, so a lock left by a dead process (even after ``kill -9``) is simply taken over.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from kpi_lib.core.errors import OutputFolderError

SUITE = "kpi_lib budget KPI report"  # written as "suite" in manifest.json and inputs.json
MARKER_FILES = ("manifest.json", "inputs.json")
MAX_MARKER_BYTES = 50_000_000  # a marker file larger than this is not read (and not trusted)
PACKAGE = Path(__file__).resolve().parents[1]  # kpi_lib/ (this module is kpi_lib/run/outputs.py)
REPO = PACKAGE.parent
# the checkout's own folders: never written into, never replaced, never contained in an --out
SOURCE_FOLDERS = ("kpi_lib", "notebooks", "params", "tests", "docs", "data", "bench", ".git")


def _marker(folder: Path, name: str) -> dict | None:
    """The parsed JSON marker file ``folder/name``, or None when absent, unreadable or not an object."""
    f = folder / name
    try:
        if f.is_symlink() or not f.is_file() or f.stat().st_size > MAX_MARKER_BYTES:
            return None
        data = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def carries_marker(folder: Path) -> bool:
    """True when ``folder`` was written by ``kpi run``: its manifest.json (a published run) or
    inputs.json (a kept failed build) names this suite. Runs made before the marker existed are
    recognised by their ``code_version`` ("kpi_lib <version>...")."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    for name in MARKER_FILES:
        data = _marker(folder, name)
        if data is None:
            continue
        if data.get("suite") == SUITE:
            return True
        version = data.get("code_version")
        if isinstance(version, str) and version.startswith("kpi_lib ") and "period" in data:
            return True
    return False


def protected_folders(data: Path | None) -> list[tuple[Path, str]]:
    """Folders an output may neither be, lie inside, nor contain: the data folder, the installed
    package and, in a checkout, its source folders (each with the words used in a refusal)."""
    folders: list[tuple[Path, str]] = []
    if data is not None:
        folders.append((Path(data).resolve(), "the data folder"))
    folders.append((PACKAGE, "the suite's own code"))
    if (REPO / ".git").exists() or (REPO / "pyproject.toml").exists():
        for name in SOURCE_FOLDERS:
            path = REPO / name
            if path.exists() and path.resolve() != PACKAGE:
                folders.append((path.resolve(), f"the repository's {name}/ folder"))
    return folders


def _inside(a: Path, b: Path) -> bool:
    """``a`` is ``b`` or lies inside it (both resolved)."""
    return a == b or a.is_relative_to(b)


def failed_folder(out: Path) -> Path:
    """Where a failed run keeps its notebooks for inspection: ``<out>.failed`` beside ``out``."""
    return out.with_name(f"{out.name}.failed")


def output_problem(out: str | Path, *, data: str | Path | None, cwd: str | Path | None = None) -> str | None:
    """Why ``out`` may not be used as a run's output folder (words for a refusal), or None when it
    may: it does not exist yet, or it is a folder written by an earlier run. Reads, never writes."""
    given = Path(out)
    absolute = Path(os.path.abspath(given))
    if absolute.is_symlink():
        return "it is a symbolic link, and the folder it points to was not created by kpi run"
    target = absolute.resolve()
    here = Path(cwd if cwd is not None else os.getcwd()).resolve()
    if target == here:
        return "it is the current folder"
    if here.is_relative_to(target):
        return f"it contains the current folder ({here})"
    for folder, what in protected_folders(Path(data) if data is not None else None):
        if _inside(target, folder):
            return f"it is {what}" if target == folder else f"it is inside {what} ({folder})"
        if folder.is_relative_to(target):
            return f"it contains {what} ({folder})"
    if target.exists() and not target.is_dir():
        return "it is an existing file"
    if target.is_dir() and not carries_marker(target):
        return ("it is an existing folder that was not written by kpi run "
                "(it has no manifest.json from this suite)")
    failed = failed_folder(target)
    if (failed.exists() or failed.is_symlink()) and not carries_marker(failed):
        return (f"{failed}, where a failed run keeps its notebooks, already exists and was not "
                "written by kpi run")
    return None


def check_output_folder(out: str | Path, *, data: str | Path | None, cwd: str | Path | None = None) -> Path:
    """The resolved output folder, or OutputFolderError (one sentence) when it may not be used."""
    problem = output_problem(out, data=data, cwd=cwd)
    if problem:
        raise OutputFolderError(
            f"refusing --out {out}: {problem}; nothing was changed. Choose a folder that does not "
            "exist yet (for example outputs/<period>) or one written by an earlier kpi run.")
    return Path(os.path.abspath(out)).resolve()


def _stale_name(out: Path, name: str) -> int | None:
    """The pid in ``.<out>.building-<pid>`` or ``.<out>.old-<pid>``, else None."""
    for kind in ("building", "old"):
        prefix = f".{out.name}.{kind}-"
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            return int(name[len(prefix):])
    return None


def clean_stale_builds(out: Path) -> list[Path]:
    """Remove the build folders (``.<name>.building-<pid>``) and set-aside old outputs
    (``.<name>.old-<pid>``) that earlier runs to ``out`` left behind when they died.

    Call it only while holding ``out``'s lock: then no other run can be building there, so every
    such folder of another pid is stale. Only folders carrying the suite's marker, or empty ones,
    are removed; anything else is left alone. Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        pid = _stale_name(out, entry.name)
        if pid is None or pid == os.getpid() or entry.is_symlink() or not entry.is_dir():
            continue
        empty = not any(p.is_file() or p.is_symlink() for p in entry.rglob("*"))
        if carries_marker(entry) or empty:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def lock_path(out: Path) -> Path:
    """The lock file of an output folder: ``.<name>.lock`` beside it (the folder itself is swapped)."""
    return out.with_name(f".{out.name}.lock")


def _holder(fd: int) -> str:
    """Who holds a lock, in words, from the lock file's contents."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 4096).decode("utf-8"))
        return f"pid {int(info['pid'])} on {info.get('host', '?')}, started {info.get('started', '?')}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextmanager
def output_lock(out: Path) -> Iterator[Path]:
    """Hold the output folder's lock for the duration of the block.

    A second run that asks for the same lock while it is held gets OutputFolderError naming the
    holder. A lock file left behind by a process that died is not held (the kernel releases
    ``flock`` locks of dead processes), so it is taken over. The lock file is removed on release;
    a run that opened the old file just before that notices and opens the new one.
    """
    import fcntl

    path = lock_path(out)
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputFolderError(f"cannot use --out {out}: the lock file {path} cannot be created "
                                    f"({exc.strerror or exc})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = _holder(fd)
            os.close(fd)
            raise OutputFolderError(
                f"refusing --out {out}: another kpi run ({who}) is writing to it; wait for that run "
                "to finish, or choose another --out.") from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed the file after we opened it: try again
    info = {"suite": SUITE, "pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps(info).encode("utf-8"))
    try:
        yield path
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        os.close(fd)


__all__ = ["SUITE", "carries_marker", "check_output_folder", "clean_stale_builds", "failed_folder", "lock_path",
           "output_lock", "output_problem", "protected_folders"]
