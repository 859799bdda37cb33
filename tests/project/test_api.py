"""The analyst's API (kpi_lib.open_run and friends) on two real runs, and notebooks/explore.ipynb
answering its three questions with it."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest

import kpi_lib
from kpi_lib.api import first_reported_and_now, verdict_changes

from helpers import REPO

pytestmark = pytest.mark.notebooks


def test_open_run_reads_the_runs_tables(quarter_run):
    run = kpi_lib.open_run(quarter_run.out)
    assert run.period == "2024/25 Q4"
    kpis = pd.read_csv(quarter_run.out / "results" / "kpis.csv")
    assert list(run.results["kpi_id"]) == list(kpis["kpi_id"])
    assert run.results["headline"].dtype == bool and run.results["note"].map(type).eq(str).all()
    assert len(run.spc) == len(pd.read_csv(quarter_run.out / "results" / "spc.csv"))
    assert set(run.inputs["table"]) >= {"crimes", "calls"} and run.manifest["period"] == "2024/25 Q4"
    assert set(run.measurements["window_kind"]) >= {"month", "quarter"}


def test_one_kpi_by_area_adds_up_to_the_force_in_each_quarter(quarter_run):
    run = kpi_lib.open_run(quarter_run.out)
    areas = run.by_area("trc_volume", 8)
    assert areas["quarter"].nunique() == 8 and areas["quarter"].max() == "2024/25 Q4"
    # an independent route: the run's own history table (whole force, last 8 quarters)
    force = run.history[run.history["kpi_id"] == "trc_volume"].set_index("quarter")["value"]
    assert areas.groupby("quarter")["value"].sum().to_dict() == force.to_dict()


def test_first_reported_and_verdict_changes_between_two_runs(quarter_run, previous_quarter_run):
    now, before = kpi_lib.open_run(quarter_run.out), kpi_lib.open_run(previous_quarter_run.out)
    both = first_reported_and_now(before, now)
    q3 = both[both["quarter"] == "2024/25 Q3"].set_index(["kpi_id", "basis"])
    published = before.results[before.results["headline"] & (before.results["status"] == "reported")]
    for r in published.itertuples():
        assert q3.loc[(r.kpi_id, r.basis), "value_first_reported"] == pytest.approx(r.value)
    # the same data in both runs: a count as first reported is the count now
    assert q3.loc[("trc_volume", ""), "change"] == 0
    changed = verdict_changes(before, now)
    b = before.results[before.results["headline"]].set_index("kpi_id")["verdict_code"]
    a = now.results[now.results["headline"]].set_index("kpi_id")["verdict_code"]
    assert set(changed["kpi_id"]) == {k for k in a.index if k in b.index and a[k] != b[k]}


def test_the_explore_notebook_answers_its_three_questions(quarter_run, previous_quarter_run, tmp_path):
    import papermill as pm
    out = tmp_path / "explore.ipynb"
    pm.execute_notebook(str(REPO / "notebooks" / "explore.ipynb"), str(out), kernel_name="python3",
                        parameters={"out_dir": str(quarter_run.out), "previous_dir": str(previous_quarter_run.out),
                                    "kpi_id": "trc_volume"}, progress_bar=False, cwd=str(REPO / "notebooks"))
    nb = nbformat.read(out, as_version=4)
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
             if o.get("output_type") in ("execute_result", "display_data")]
    texts = [o["data"].get("text/plain", "") for o in shown]
    assert any("Bromsgrove" in t for t in texts), "question 1: a table by local area"
    assert any("value_first_reported" in t for t in texts), "question 2: first reported against now"
    assert any("previous_verdict" in t for t in texts), "question 3: verdicts that changed"
    assert any("image/png" in o.get("data", {}) for o in shown) or any("Legend" in t for t in texts), "a chart"
