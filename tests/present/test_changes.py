"""What changed since the last report: verdict changes and revised back-figures, on hand-made
tables (values worked out by hand), plus a real Q3-then-Q4 run with a Q3 input row altered in
between."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_lib.present.changes import (
    WHY_COHORT,
    WHY_UNKNOWN,
    published_values,
    revisions,
    verdict_changes,
)


def _kpis(period: str, rows: list[tuple]) -> pd.DataFrame:
    """(kpi_id, basis, value, unit, verdict_code, verdict) rows as kpis.csv has them."""
    return pd.DataFrame([{"kpi_id": k, "name": k.replace("_", " "), "period": period, "basis": b,
                          "headline": True, "status": "reported", "value": v, "unit": u,
                          "verdict_code": c, "verdict": w} for k, b, v, u, c, w in rows])


def _history(rows: list[tuple]) -> pd.DataFrame:
    """(kpi_id, basis, quarter, period_start, value, unit) rows as results/history.csv has them."""
    return pd.DataFrame([{"kpi_id": k, "basis": b, "quarter": q, "period_start": s, "value": v,
                          "status": "reported", "unit": u} for k, b, q, s, v, u in rows])


def test_verdict_changes_list_both_verdicts():
    prev = _kpis("2024/25 Q3", [("rape_volume", "", 280, "count", "normal", "Normal ups and downs"),
                                ("trc_volume", "", 20000, "count", "normal", "Normal ups and downs")])
    cur = _kpis("2024/25 Q4", [("rape_volume", "", 314, "count", "worse", "Worse, and a real change"),
                               ("trc_volume", "", 19847, "count", "normal", "Normal ups and downs")])
    vc = verdict_changes(prev, cur)
    assert vc.to_dict("records") == [{"kpi_id": "rape_volume", "name": "rape volume",
                                      "previous_period": "2024/25 Q3",
                                      "previous_verdict": "Normal ups and downs",
                                      "verdict": "Worse, and a real change"}]


def test_verdict_changes_empty_when_a_run_has_no_verdicts():
    prev = _kpis("2024/25 Q3", [("trc_volume", "", 1, "count", "normal", "x")]).drop(columns="verdict_code")
    assert verdict_changes(prev, _kpis("2024/25 Q4", [("trc_volume", "", 1, "count", "worse", "y")])).empty


def test_revised_back_figures_with_both_values_and_why():
    prev = _kpis("2024/25 Q3", [("trc_charge_rate", "cohort", 6.5, "percent", "too_early", "Too early"),
                                ("trc_volume", "", 20000, "count", "normal", "Normal")])
    prev_hist = _history([("trc_volume", "", "2024/25 Q2", "2024-07-01", 20500, "count"),
                          ("trc_volume", "", "2024/25 Q3", "2024-10-01", 19999, "count")])  # kpis.csv wins
    now = _history([("trc_charge_rate", "cohort", "2024/25 Q3", "2024-10-01", 7.84, "percent"),
                    ("trc_volume", "", "2024/25 Q2", "2024-07-01", 20500.4, "count"),  # shows as 20,500: same
                    ("trc_volume", "", "2024/25 Q3", "2024-10-01", 20013, "count")])
    rv = revisions(published_values(prev, prev_hist), now, {"trc_volume": "Total recorded crime"})
    got = rv.set_index(["kpi_id", "quarter"])
    assert len(rv) == 2
    rate = got.loc[("trc_charge_rate", "2024/25 Q3")]
    assert (rate["published"], rate["now"], rate["change"], rate["why"]) == ("6.5%", "7.8%", "+1.3 points", WHY_COHORT)
    vol = got.loc[("trc_volume", "2024/25 Q3")]
    # 20,000 -> 20,013: +13, +0.065% -> "+0.1%"
    assert (vol["name"], vol["published"], vol["now"], vol["change"], vol["why"]) == \
        ("Total recorded crime", "20,000", "20,013", "+13 (+0.1%)", WHY_UNKNOWN)


def test_unreported_quarters_are_not_revisions():
    prev = _kpis("2024/25 Q3", [("trc_volume", "", 100, "count", "normal", "Normal")])
    prev.loc[0, "status"] = "not_yet_available"
    now = _history([("trc_volume", "", "2024/25 Q3", "2024-10-01", 120, "count")])
    assert revisions(published_values(prev, None), now).empty


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=8))
def test_the_same_values_are_never_a_revision(values: list[float]):
    prev_hist = _history([("trc_volume", "", f"Q{i}", f"2020-{i + 1:02d}-01", v, "count") for i, v in enumerate(values)])
    prev = _kpis("Q99", [("trc_volume", "", math.nan, "count", "normal", "Normal")])
    assert revisions(published_values(prev, prev_hist), prev_hist).empty


@pytest.mark.notebooks
def test_q3_then_q4_with_a_q3_row_altered_reports_the_revision(small_sample, previous_quarter_run, tmp_path):
    """Q3 as run (the shared Q3 run of the small sample); then one Q3 crime withdrawn from a copy of
    the data and Q4 run against the Q3 run: the report lists total recorded crime for Q3 as
    revised, with both values."""
    import inspect
    import shutil

    from kpi_lib.run.runner import run_period
    if "previous_dir" not in inspect.signature(run_period).parameters:
        pytest.fail("run_period has no previous_dir parameter")
    data = tmp_path / "data"
    shutil.copytree(small_sample, data)
    q3 = previous_quarter_run
    published = pd.read_csv(q3.out / "results" / "kpis.csv").set_index("kpi_id")
    before = published.loc["trc_volume", "value"]
    crimes = pd.read_parquet(data / "crimes.parquet")
    dates = crimes["recorded_date"].astype(str).str[:10]
    gone = crimes.loc[dates.between("2024-10-01", "2024-12-31"), "crime_ref"].iloc[0]
    crimes[crimes["crime_ref"] != gone].to_parquet(data / "crimes.parquet", index=False)  # one Q3 crime withdrawn
    outcomes = pd.read_parquet(data / "outcomes.parquet")
    outcomes[outcomes["crime_ref"] != gone].to_parquet(data / "outcomes.parquet", index=False)
    q4 = run_period("2024/25 Q4", data, tmp_path / "out" / "2024-25-q4", jobs=2, quiet=True, pdf=False,
                    previous_dir=q3.out)
    html = (q4.out / "report.html").read_text(encoding="utf-8")
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find(id="changes") is not None
    caption = soup.find("caption", string="Figures revised since they were published")
    assert caption is not None, soup.find(id="changes").find_next("p")
    table = caption.find_parent("table")
    rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])] for tr in table.find_all("tr")]
    trc = [r for r in rows if r and r[0] == "Volume of total recorded crime" and r[1] == "2024/25 Q3"]
    assert trc, rows
    assert trc[0][2] == f"{before:,.0f}" and trc[0][3] == f"{before - 1:,.0f}"


def test_report_section_shows_surprising_revisions_and_collapses_maturing_ones(tmp_path):
    from kpi_lib.config.catalogue import load_catalogue
    from kpi_lib.core.periods import Period
    from kpi_lib.present.report import ReportRun, changes_html
    prev = _kpis("2024/25 Q3", [("trc_charge_rate", "cohort", 6.5, "percent", "too_early", "Too early to tell"),
                                ("trc_volume", "", 20000, "count", "normal", "Normal ups and downs")])
    cur = _kpis("2024/25 Q4", [("trc_charge_rate", "cohort", 8.0, "percent", "too_early", "Too early to tell"),
                               ("trc_volume", "", 19847, "count", "worse", "Worse, and a real change")])
    now = _history([("trc_charge_rate", "cohort", "2024/25 Q3", "2024-10-01", 7.84, "percent"),
                    ("trc_volume", "", "2024/25 Q3", "2024-10-01", 20013, "count")])
    rep = ReportRun(Period.parse("2024/25 Q4"), tmp_path, cur, pd.DataFrame(), None, load_catalogue(), {},
                    history=now, previous=prev, previous_name="2024/25 Q3")
    page = changes_html(rep)
    assert "<p>Compared with the report for 2024/25 Q3.</p>" in page
    cells = re.sub(r'<td data-label="[^"]*">', "<td>", page)  # each cell carries its column's name
    assert "<td>Volume of total recorded crime</td><td>Normal ups and downs</td><td>Worse, and a real change</td>" in cells
    visible, collapsed = cells.split("<details>")
    assert "<td>20,000</td>" in visible and "<td>20,013</td>" in visible and "+13 (+0.1%)" in visible
    assert "6.5%" not in visible
    assert "expected): 1 figure</summary>" in collapsed and "<td>6.5%</td>" in collapsed and "<td>7.8%</td>" in collapsed
