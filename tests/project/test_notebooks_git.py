"""Opening, running and saving a notebook in JupyterLab leaves `git status` clean: outputs and
volatile metadata are stripped by the nbstripout filter (.gitattributes, registered by `make lab`),
and the paired Jupytext .py keeps a stable header (jupytext.toml)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import REPO

pytestmark = pytest.mark.e2e


def _git(cwd: Path, *args: str) -> str:
    r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return r.stdout


def _as_saved_by_jupyterlab(path: Path) -> None:
    """What a run and a save in JupyterLab add: outputs, execution counts, kernel metadata."""
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = i + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"ran cell {i}\n")]
        cell.metadata["execution"] = {"iopub.execute_input": "2026-11-30T10:00:00Z"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    nb.metadata.setdefault("widgets", {})
    nbformat.write(nb, path)


def test_saving_a_run_notebook_leaves_git_status_clean(tmp_path):
    repo = tmp_path / "repo"
    (repo / "notebooks").mkdir(parents=True)
    for name in (".gitattributes", "jupytext.toml"):
        shutil.copy(REPO / name, repo / name)
    for f in ("crime.ipynb", "crime.py"):
        shutil.copy(REPO / "notebooks" / f, repo / "notebooks" / f)
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.org")
    _git(repo, "config", "user.name", "test")
    subprocess.run([sys.executable, "-m", "nbstripout", "--install"], cwd=repo, check=True)
    keys = re.search(r"^NBSTRIP_KEYS := (.+)$", (REPO / "Makefile").read_text(), re.M).group(1)
    _git(repo, "config", "filter.nbstripout.extrakeys", keys)  # as `make lab` does
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "notebooks without outputs")
    _as_saved_by_jupyterlab(repo / "notebooks" / "crime.ipynb")
    # Jupytext's pairing rewrites the .py from the saved notebook
    subprocess.run([sys.executable, "-m", "jupytext", "--sync", "notebooks/crime.ipynb"], cwd=repo,
                   check=True, capture_output=True)
    saved = nbformat.read(repo / "notebooks" / "crime.ipynb", as_version=4)
    assert any(c.get("outputs") for c in saved.cells if c.cell_type == "code"), "the save kept outputs"
    # nothing to review and nothing to commit: the filter strips what the save added
    assert _git(repo, "diff") == ""
    _git(repo, "add", "-A")
    assert _git(repo, "diff", "--cached", "--stat") == ""
    # git lists a filtered file by its changed size until the index is refreshed; then it is clean
    _git(repo, "update-index", "-q", "--refresh")
    assert _git(repo, "status", "--porcelain") == ""
