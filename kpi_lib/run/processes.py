"""The processes of a run: clean interruption, workers that die with their parent, and a
run-scoped temporary folder (Chromium profiles and kernel scratch files) that is always removed.

- :func:`interruptible` turns SIGINT and SIGTERM into :class:`~kpi_lib.core.errors.Interrupted` in the
  runner, so the run can stop its children, remove its build folder and leave the last good
  report as it was. Signals that arrive while the new report is being moved into place are held
  until the move has finished (a half-published report is never left behind).
- :func:`worker_init` runs in every notebook worker: it leaves the terminal's process group
  (a Ctrl-C reaches the runner only, which then stops everyone in order), ignores SIGINT, and
  starts a thread that watches the runner: if the runner disappears (even by ``kill -9``) the
  worker kills its own kernels and exits within about a second.
- :func:`stop_children` terminates every descendant of this process (workers, kernels, Chromium),
  then kills whatever is still alive after a grace period.
- :func:`run_tempdir` points ``TMPDIR`` at ``<tmp>/kpi-run-<pid>-<random>`` for the run and removes
  it afterwards; :func:`clean_stale_tempdirs` removes such folders left by runs that died.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from kpi_lib.core.errors import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)
TEMP_PREFIX = "kpi-run-"
_TEMP_NAME = re.compile(rf"^{TEMP_PREFIX}(\d+)-")
GRACE_SECONDS = 3.0
WATCH_SECONDS = 0.5


class _Guard:
    """State shared with the signal handler: whether signals are being held, and which arrived."""

    def __init__(self) -> None:
        self.holding = False
        self.pending: int | None = None


_guard: _Guard | None = None


def _handler(signum: int, _frame) -> None:
    guard = _guard
    if guard is not None and guard.holding:
        guard.pending = guard.pending or signum
        return
    for s in SIGNALS:  # a second Ctrl-C while stopping must not interrupt the clean-up
        signal.signal(s, signal.SIG_IGN)
    raise Interrupted(signum)


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM raise Interrupted inside the block (main thread only; elsewhere the
    block runs with the signals as they were). Previous handlers are restored afterwards."""
    global _guard
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    outer, _guard = _guard, _Guard()
    for s in SIGNALS:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        _guard = outer


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM for the block (e.g. while the report is moved into place); a signal
    that arrived meanwhile is raised as Interrupted when the block ends."""
    guard = _guard
    if guard is None:
        yield
        return
    guard.holding = True
    try:
        yield
    finally:
        guard.holding = False
    if guard.pending is not None:
        signum, guard.pending = guard.pending, None
        for s in SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum, published=True)


def _kill_tree(procs: list[psutil.Process], grace: float) -> None:
    for p in procs:
        try:
            p.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=grace)


def _is_resource_tracker(p: psutil.Process) -> bool:
    """multiprocessing's resource tracker: it exits by itself with its parent, and killing it
    makes the parent print warnings."""
    try:
        return any("resource_tracker" in part for part in p.cmdline())
    except psutil.Error:
        return False


def stop_children(grace: float = GRACE_SECONDS) -> None:
    """Terminate every descendant of this process (listed once, before any is stopped, so that
    grandchildren in their own sessions, such as Jupyter kernels, are found too), then kill what
    is still alive after ``grace`` seconds."""
    try:
        procs = [p for p in psutil.Process().children(recursive=True) if not _is_resource_tracker(p)]
    except psutil.Error:
        return
    _kill_tree(procs, grace)


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        if os.getppid() != parent:
            try:
                _kill_tree(psutil.Process().children(recursive=True), 1.0)
            finally:
                os._exit(1)


def worker_init(parent: int) -> None:
    """Initializer of every notebook worker process (see the module docstring)."""
    try:
        os.setpgid(0, 0)
    except OSError:  # pragma: no cover - already a group leader
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if os.getppid() != parent:  # the runner is already gone
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="watch-runner").start()


def _pid_dead(pid: int, since: float) -> bool:
    """True when no process ``pid`` exists, or the one that does started after ``since`` (a
    reused pid), so it cannot be the process that made the folder."""
    try:
        return psutil.Process(pid).create_time() > since + 1
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


def clean_stale_tempdirs(base: str | Path | None = None) -> list[Path]:
    """Remove ``kpi-run-<pid>-*`` temporary folders (Chromium profiles, kernel files) of runs
    whose process is gone. Returns what was removed."""
    root = Path(base or tempfile.gettempdir())
    removed = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if not m or entry.is_symlink() or not entry.is_dir():
            continue
        try:
            if entry.stat().st_uid != os.getuid():
                continue
            made = entry.stat().st_mtime
        except OSError:
            continue
        if int(m.group(1)) != os.getpid() and _pid_dead(int(m.group(1)), made):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


@contextmanager
def run_tempdir() -> Iterator[Path]:
    """A temporary folder for the run, named after its pid; ``TMPDIR`` (inherited by workers,
    kernels and Chromium) and :mod:`tempfile` point there during the block. Removed afterwards."""
    base = tempfile.gettempdir()
    clean_stale_tempdirs(base)
    folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=base))
    old_env, old_tempdir = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = old_tempdir
        if old_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = old_env
        shutil.rmtree(folder, ignore_errors=True)


__all__ = ["clean_stale_tempdirs", "interruptible", "run_tempdir", "signals_held", "stop_children",
           "worker_init"]
