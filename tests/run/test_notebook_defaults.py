"""Notebook defaults: a family notebook's output folder follows its period; only the registered
report notebooks are the report's (an analyst's own notebook beside them breaks nothing)."""

from __future__ import annotations

import re
import shutil

import nbformat
from typer.testing import CliRunner

from kpi_lib.cli import app
from kpi_lib.present.notebook import default_out_dir
from kpi_lib.run.runner import FAMILIES, REPORT_NOTEBOOKS

from helpers import REPO


def test_family_notebooks_write_where_their_period_says(tmp_path):
    for name in REPORT_NOTEBOOKS:
        nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert re.search(r"^out_dir = None\b", cell.source, flags=re.M), name
    assert default_out_dir("2023/24 Q2", tmp_path / "notebooks") == tmp_path / "outputs" / "interactive" / "2023-24-q2"
    assert default_out_dir("2024/25 Q4", tmp_path) == tmp_path / "outputs" / "interactive" / "2024-25-q4"


def test_an_analysts_own_notebook_is_not_a_report_notebook(tmp_path, monkeypatch):
    import kpi_lib.run.runner as runner
    nbs = shutil.copytree(REPO / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("*.py"))
    own = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(own, nbs / "my-hotspots.ipynb")
    monkeypatch.setattr(runner, "NOTEBOOKS", nbs)
    r = CliRunner().invoke(app, ["list", "--params"])
    assert r.exit_code == 0, r.output
    listed = re.findall(r"^(\S+)\.ipynb:", r.output, flags=re.M)
    assert listed == REPORT_NOTEBOOKS and "my-hotspots" not in r.output
    assert REPORT_NOTEBOOKS == [*FAMILIES, "report"]
