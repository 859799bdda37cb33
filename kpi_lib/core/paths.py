"""Where the suite's own files are: parameters (params/), notebooks (notebooks/) and the report
template (kpi_lib/present/templates/), found through :mod:`importlib.resources` so that an installed wheel
finds the copies shipped inside the package and a checkout finds its own folders.

In the checkout ``kpi_lib/_resources/params`` and ``kpi_lib/_resources/notebooks`` are symbolic
links to the top-level folders; the wheel build follows them and ships the files themselves.
Nothing else in the suite walks up from ``__file__``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _resource_dir(*parts: str) -> Path:
    root = resources.files("kpi_lib")
    return Path(str(root.joinpath(*parts)))


def params_dir() -> Path:
    """The folder holding defaults.yaml, kpis.yaml, crime_categories.yaml and the other tables."""
    return _resource_dir("_resources", "params")


def notebooks_dir() -> Path:
    """The folder holding the family and report notebooks (.ipynb)."""
    return _resource_dir("_resources", "notebooks")


def templates_dir() -> Path:
    """The nbconvert template folder (``panel``)."""
    return _resource_dir("present", "templates")


def params_file(name: str) -> Path:
    """A file in :func:`params_dir`, e.g. ``params_file("kpis.yaml")``."""
    return params_dir() / name
