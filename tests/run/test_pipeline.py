"""The quarterly pipeline for real: Papermill runs of every notebook, results checked against
kpi_lib.compute, byte-identical reruns, failures that leave the last good report untouched,
Jupytext pairs, and every notebook run as in JupyterLab (nbconvert --execute, default parameters)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pandas as pd
import pytest

from kpi_lib import __version__, compute, load_params
from kpi_lib.core.errors import NotebookError
from kpi_lib.inputs import read_tables
from kpi_lib.measure.registry import NAMES as FAMILIES
from kpi_lib.run.runner import REPORT_NOTEBOOKS, run_period

from helpers import REPO, kpi, write_table

pytestmark = pytest.mark.notebooks
NOTEBOOKS = [REPO / "notebooks" / f"{name}.ipynb" for name in REPORT_NOTEBOOKS]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_produces_every_output(quarter_run):
    out = quarter_run.out
    for name in ("report.html", "report.pdf", "kpis.xlsx", "manifest.json", "results/kpis.csv"):
        assert (out / name).exists(), name
    for fam in [*FAMILIES, "report"]:
        nb = nbformat.read(out / "notebooks" / f"{fam}.ipynb", as_version=4)
        assert nb.metadata["papermill"]["exception"] is None or nb.metadata["papermill"]["exception"] is False
    assert not list(out.parent.glob(".*building*")), "the build folder was moved into place"


def test_the_explore_cells_run_in_each_family_notebook_and_never_reach_the_report(quarter_run):
    crime = nbformat.read(quarter_run.out / "notebooks" / "crime.ipynb", as_version=4)
    explore = [c for c in crime.cells if "explore" in c.metadata.get("tags", [])]
    shown = [o for c in explore if c.cell_type == "code" for o in c.outputs]
    assert any("text/html" in o.get("data", {}) and "kpi_id" in o["data"]["text/html"] for o in shown)
    assert any("image/png" in o.get("data", {}) or "<Figure size" in o.get("data", {}).get("text/plain", "")
               for o in shown), "the SPC chart as a matplotlib figure"
    html = (quarter_run.out / "report.html").read_text(encoding="utf-8")
    assert "Explore these figures" not in html and "spc_chart" not in html


def test_results_equal_kpi_lib_compute(quarter_run, small_sample):
    csv = pd.read_csv(quarter_run.out / "results" / "kpis.csv")
    direct = compute("2024/25 Q4", read_tables(small_sample), load_params())
    assert list(csv["kpi_id"]) == list(direct["kpi_id"])
    for col in ("value", "numerator", "denominator", "ci_low", "ci_high", "change_last_year", "change_12m"):
        pd.testing.assert_series_equal(csv[col].astype(float), direct[col].astype(float), check_names=False, rtol=1e-9)
    for col in ("status", "spc_variation", "spc_assurance"):
        assert list(csv[col]) == list(direct[col])


def test_manifest_records_inputs_parameters_and_versions(quarter_run, small_sample):
    m = json.loads((quarter_run.out / "manifest.json").read_text())
    assert m["period"] == "2024/25 Q4" and m["synthetic"] is True
    files = {i["file"]: i for i in m["inputs"]}
    assert files["crimes.parquet"]["sha256"] == sha(small_sample / "crimes.parquet")
    for entry in m["row_ledger"].values():
        assert entry["read"] == entry["used"] + entry["rejected"]
    assert m["parameters"]["headline_basis"] == "cohort"
    assert f"kpi_lib {__version__}" in m["code_version"] and m["library_versions"]["papermill"]
    assert set(m["seconds_by_step"]) >= {*FAMILIES, "report", "render"}


def _published_and_broken(quarter_run, small_sample, tmp_path, table, rows):
    """A copy of a good run (the 'last published report') and a copy of the inputs with one table
    replaced; returns (out folder, hash of its report.html, broken data folder)."""
    out = tmp_path / "published"
    shutil.copytree(quarter_run.out, out)
    bad = tmp_path / "bad"
    shutil.copytree(small_sample, bad)
    write_table(bad, table, rows)
    return out, sha(out / "report.html"), bad


def test_bad_input_stops_before_anything_runs_and_keeps_the_last_report(quarter_run, small_sample, tmp_path):
    out, before, bad = _published_and_broken(quarter_run, small_sample, tmp_path, "finance", ["2024/25,4,lots,1,1,1"])
    r = kpi("run", "2024/25-Q4", "--data", str(bad), "--out", str(out), "--quiet", "--no-pdf")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr + r.stdout
    assert "finance.csv, row 1 (line 2), column 'budget_gbp': not a number; found 'lots'" in r.stderr
    assert sha(out / "report.html") == before


def test_a_carbon_unit_without_a_factor_stops_before_any_notebook(quarter_run, small_sample, tmp_path):
    out, before, bad = _published_and_broken(quarter_run, small_sample, tmp_path, "carbon",
                                             ["2024-01-01,electricity,5,MWh"])
    r = kpi("run", "2024/25-Q4", "--data", str(bad), "--out", str(out), "--quiet", "--no-pdf")
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout
    assert ("carbon.csv, row 1 (line 2), column 'unit': no carbon conversion factor for electricity in "
            "this unit; found 'MWh'; expected one of kWh") in r.stderr
    assert not (tmp_path / "published.failed").exists(), "no notebook ran"
    assert sha(out / "report.html") == before


def test_failing_notebook_names_notebook_and_cell_and_keeps_it(quarter_run, small_sample, tmp_path, monkeypatch):
    # a copy of the notebooks whose environment notebook raises in the cell after its
    # parameters, and runs first (the others are stopped, not waited for)
    import kpi_lib.run.runner as runner
    nbs = tmp_path / "notebooks"
    shutil.copytree(runner.NOTEBOOKS, nbs, ignore=shutil.ignore_patterns("*.py", ".ipynb_checkpoints"))
    nb = nbformat.read(nbs / "environment.ipynb", as_version=4)
    at = 1 + next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at, nbformat.v4.new_code_cell('raise RuntimeError("no conversion factor: a test failure")'))
    nbformat.write(nb, nbs / "environment.ipynb")
    monkeypatch.setattr(runner, "notebook_order", lambda families, charts: sorted(
        families, key=lambda name: name != "environment"))
    monkeypatch.setattr(runner, "NOTEBOOKS", nbs)
    out, before, _ = _published_and_broken(quarter_run, small_sample, tmp_path, "finance",
                                           ["2024/25,4,1,1,1,1"])
    with pytest.raises(NotebookError) as e:
        run_period("2024/25 Q4", small_sample, out, jobs=2, quiet=True, pdf=False)
    msg = str(e.value)
    assert "notebook environment.ipynb failed at cell" in msg and "RuntimeError: no conversion factor" in msg
    assert str(tmp_path / "published.failed" / "notebooks" / "environment.ipynb") in msg
    assert (tmp_path / "published.failed" / "notebooks" / "environment.ipynb").exists()
    assert sha(out / "report.html") == before
    assert not list(tmp_path.glob(".published.*")), "no build folder or lock left behind"


def test_cli_rejects_a_bad_period():
    r = kpi("run", "2024/25-Q5", "--quiet")
    assert r.returncode == 1 and "Traceback" not in r.stderr and "2023-24-q1" in r.stderr


def test_year_report(year_run):
    res = year_run
    kpis = pd.read_csv(res.out / "results" / "kpis.csv").set_index("kpi_id")
    assert kpis.loc["finance_outturn_within_budget", "status"] == "reported"
    assert kpis.loc["finance_vfm_unqualified", "status"] == "reported"
    html = (res.out / "report.html").read_text()
    assert "Budget KPIs by quarter, 2023/24" in html and "Baseline year" in html


def test_jupytext_pairs_are_in_sync():
    for nb_path in NOTEBOOKS:
        py = nb_path.with_suffix(".py")
        assert py.exists(), f"{nb_path.name} has no paired .py"
        a, b = jupytext.read(nb_path), jupytext.read(py)
        strip = lambda nb: [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", []))) for c in nb.cells]  # noqa: E731
        assert strip(a) == strip(b), f"{nb_path.name} and {py.name} differ: run `jupytext --sync`"


def test_notebooks_are_committed_without_outputs_and_have_a_parameters_cell():
    for nb_path in NOTEBOOKS:
        nb = nbformat.read(nb_path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), nb_path.name
        assert any("parameters" in c.metadata.get("tags", []) for c in code), nb_path.name
        # it opens with a heading: written, or the family's own (shown by its first cell)
        assert nb.cells[0].cell_type == "markdown" or \
            nb.cells[0].source.endswith(f'show_heading("{nb_path.stem}")'), nb_path.name


def test_every_notebook_runs_as_in_jupyterlab_with_its_defaults(checkout_copy, tmp_path):
    """nbconvert --execute (no Papermill), default parameters, families then the summary, in a
    copy of the checkout's layout (the defaults point at ../data/sample and ../outputs)."""
    nbs = checkout_copy / "notebooks"
    for names in (FAMILIES, ["report"]):  # one nbconvert for the families (in turn), then the report
        r = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                            *[str(nbs / f"{name}.ipynb") for name in names],
                            "--output-dir", str(tmp_path / "executed"), "--ExecutePreprocessor.timeout=900"],
                           capture_output=True, text=True, cwd=nbs)
        assert r.returncode == 0, f"{names}: {r.stderr[-2000:]}"
    assert sorted(p.stem for p in (tmp_path / "executed").glob("*.ipynb")) == sorted([*FAMILIES, "report"])
    assert list((checkout_copy / "outputs").rglob("kpis.csv")), "the summary notebook wrote no kpis.csv"


def test_rerender_and_list_params(quarter_run, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(quarter_run.out, out)
    (out / "report.html").unlink()
    r = kpi("render", str(out), "--no-pdf")
    assert r.returncode == 0, r.stderr
    assert "SYNTHETIC SAMPLE DATA" in (out / "report.html").read_text()
    r = kpi("list", "--params")
    assert r.returncode == 0 and "crime.ipynb:" in r.stdout and "period = " in r.stdout


def test_the_combined_report_notebook_has_unique_cell_ids(quarter_run):
    """Family notebooks are stripped to sequential cell ids (nbstripout); combined into one report
    they must not collide (nbconvert would otherwise rewrite them with a warning per cell)."""
    from kpi_lib.present.render import combine
    nbs = quarter_run.out / "notebooks"
    nb = combine(nbs / "report.ipynb", [nbs / f"{f}.ipynb" for f in FAMILIES])
    ids = [c.id for c in nb.cells]
    assert len(ids) == len(set(ids)) and len(ids) > len(FAMILIES)


def test_the_report_names_the_months_read_beside_the_period(quarter_run, small_sample):
    """The period reported and the months read are both said (the months before
    the period feed the comparisons and charts)."""
    m = json.loads((quarter_run.out / "manifest.json").read_text())
    first, last = m["data_span"]
    crimes = pd.to_datetime(pd.read_parquet(small_sample / "crimes.parquet")["recorded_date"])
    assert first <= crimes.min().date().isoformat() and last >= crimes.max().date().isoformat()
    assert first == "2019-04-01"  # the sample starts with financial year 2019/20
    html = (quarter_run.out / "report.html").read_text()
    assert "months read: April 2019 to " in html and "1 January 2025 to 31 March 2025" in html


def test_the_officers_annex_gives_the_chart_grain_of_every_section(quarter_run):
    """The settings leave spc_grain empty (each family declares its own); the annex says the grain
    each section's charts used, never "none"."""
    import re
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", (quarter_run.out / "report.html").read_text(encoding="utf-8")))
    assert ("Chart points (month or quarter), by section crime volumes and charge/summons outcomes: month; "
            "call handling: month; emergency response times: month; public confidence and police "
            "visibility: quarter; victim satisfaction: quarter; finance: no chart; environment: month") in text
