"""Provenance: code version, library versions, and the inputs record written before notebooks run."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata as md
import platform
import subprocess
from pathlib import Path

from kpi_lib import __version__

# the checkout this module runs from, if any (an installed wheel has no .git beside it): used
# only to name the git commit, never to find the suite's own files (kpi_lib.core.paths does that)
REPO = Path(__file__).resolve().parents[2]  # this module is kpi_lib/core/provenance.py
LIBRARIES = ("pandas", "numpy", "pyarrow", "duckdb", "scipy", "statsmodels", "pydantic", "matplotlib",
             "seaborn", "afcharts", "papermill", "nbconvert", "nbformat", "pandera", "ipykernel",
             "jupytext", "openpyxl", "markdown-it-py")


@functools.cache
def code_digest() -> str:
    """SHA-256 of the package version and every kpi_lib Python source file (path and bytes),
    taken once per process: the code a process runs is the code it loaded, even if files are
    edited meanwhile. Part of the panel cache's key and of the stamp on a run's saved figures.
    Cheap to import (no readers, no schema library), so every notebook kernel can check it."""
    pkg = Path(__file__).resolve().parents[1]  # the whole kpi_lib package
    h = hashlib.sha256(__version__.encode())
    for path in sorted(pkg.rglob("*.py")):
        rel = path.relative_to(pkg)
        if rel.parts[0] != "_resources" and "__pycache__" not in rel.parts:
            h.update(rel.as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def code_version() -> str:
    """'kpi_lib 0.1.0, git <commit>[+dirty]' (git part only when run from a checkout)."""
    text = f"kpi_lib {__version__}"
    if (REPO / ".git").exists():
        try:
            commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                                    text=True, timeout=10, check=True).stdout.strip()
            dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True, timeout=10, check=True).stdout.strip()
            text += f", git {commit}{'+dirty' if dirty else ''}"
        except (OSError, subprocess.SubprocessError):
            pass
    return text


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out
