"""The folder transaction of a run: it builds in a folder beside the output (marker first),
moves into place only when every step succeeded (signals held meanwhile), and keeps a failed
build in ``<out>.failed/`` for inspection, so the last good report is never half replaced."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from kpi_lib.core.errors import KpiError, NotebookError, OutputFolderError
from kpi_lib.run.outputs import carries_marker, failed_folder
from kpi_lib.run.plan import Plan
from kpi_lib.run.processes import signals_held


def start_build(pl: Plan, inputs: dict) -> Path:
    """Create the build folder, marker (inputs.json) first, so that a later run can recognise
    and remove it if this run dies."""
    build = pl.build
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    (build / "inputs.json").write_text(json.dumps(inputs, indent=2, default=str, sort_keys=True), encoding="utf-8")
    (build / "notebooks").mkdir()
    (build / "logs").mkdir()
    return build


def swap_into_place(build: Path, out: Path) -> None:
    """Move the finished build to ``out``, replacing the previous run there. ``out`` was checked
    before the run; it is checked again here, under the lock, so that a folder which appeared in
    the meantime without the suite's marker is never replaced (the build is kept instead)."""
    if (out.exists() or out.is_symlink()) and not carries_marker(out):
        raise OutputFolderError(f"{out} appeared during the run and was not written by kpi run; it was "
                                f"left untouched and the new report is in {build}")
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    try:
        os.replace(build, out)
    except OSError:
        if old.exists():
            os.replace(old, out)
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def publish(pl: Plan, build: Path, manifest: dict) -> None:
    """Step 7: write the manifest and move the build into place, replacing the previous run
    (signals are held meanwhile, so the move is never left half done)."""
    with signals_held():
        (build / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        swap_into_place(build, pl.out)
        failed = failed_folder(pl.out)
        if carries_marker(failed):
            shutil.rmtree(failed, ignore_errors=True)


def keep_failed(pl: Plan, build: Path, message: str) -> KpiError:
    """Move a failed build to ``<out>.failed`` for inspection; the error names where it is."""
    failed = failed_folder(pl.out)
    if not build.exists():  # already moved into place, or never made
        return NotebookError(message)
    if carries_marker(failed):
        shutil.rmtree(failed, ignore_errors=True)
    if failed.exists():  # not ours (checked at the start): leave both alone
        return NotebookError(f"{message} (notebooks kept in {build})")
    os.replace(build, failed)
    return NotebookError(message.replace(str(build), str(failed)))
