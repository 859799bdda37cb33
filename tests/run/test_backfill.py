"""A backfill: each report says when its figures stand (as first reported with --as-at +N days,
else retrospective), and an index page gives every budget KPI across the quarters with a link
to each report."""

from __future__ import annotations

import re

import pytest

from kpi_lib.run.manifest import figures_as_at
from kpi_lib.run.runner import run_many

pytestmark = pytest.mark.notebooks


def test_report_facts_say_when_the_figures_stand():
    assert figures_as_at({}) == ""
    assert figures_as_at({"backfill": True, "extraction_date": "2025-05-15"}).startswith(
        "Retrospective, as at 15 May 2025: the figures as they stand in that extract")
    assert figures_as_at({"backfill": True, "as_at": "2025-02-14"}).startswith("As at 14 February 2025:")


def test_a_backfill_as_first_reported_writes_an_index_page(small_sample, tmp_path):
    runs = run_many("2024/25-Q3", "2024/25-Q4", small_sample, out_root=tmp_path / "backfill", as_at_days=45,
                    jobs=2, quiet=True, pdf=False)
    q3, q4 = runs
    assert q3.manifest["as_at"] == "2025-02-14" and q4.manifest["as_at"] == "2025-05-15"
    assert "As at 14 February 2025" in (q3.out / "report.html").read_text(encoding="utf-8")
    # "what changed" compares Q4 with Q3 as first reported, with no old folders kept anywhere
    assert q4.manifest["previous_run"] == str(q3.out)
    page = (tmp_path / "backfill" / "index.html").read_text(encoding="utf-8")
    assert '<a href="2024-25-q3/report.html">2024/25 Q3</a>' in page
    assert '<a href="2024-25-q4/report.html">2024/25 Q4</a>' in page
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td>[^<]*</td>)+)</tr>', page)
    names = [n for n, _ in rows]
    assert len(rows) == 25 and "Volume of total recorded crime" in names  # every budget KPI
    trc = dict(rows)["Volume of total recorded crime"]
    import pandas as pd
    k3 = pd.read_csv(q3.out / "results" / "kpis.csv").set_index("kpi_id").loc["trc_volume", "value"]
    assert f"<td>{k3:,.0f}</td>" in trc
    assert "as first reported" in page
