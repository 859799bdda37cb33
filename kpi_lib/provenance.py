"""Provenance: code version, library versions, and the inputs record written before notebooks run."""

from __future__ import annotations

import importlib.metadata as md
import platform
import subprocess
from pathlib import Path

from . import __version__

# the checkout this module runs from, if any (an installed wheel has no .git beside it): used
# only to name the git commit, never to find the suite's own files (kpi_lib.paths does that)
REPO = Path(__file__).resolve().parent.parent
LIBRARIES = ("pandas", "numpy", "pyarrow", "duckdb", "scipy", "statsmodels", "pydantic", "matplotlib",
             "seaborn", "afcharts", "papermill", "nbconvert", "nbformat", "pandera", "ipykernel",
             "jupytext", "openpyxl", "markdown-it-py")


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
