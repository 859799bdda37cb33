"""In a real run, the crime notebook shows the local areas (charge rates with intervals, one SPC
chart per area on one scale) and the report carries them as its area appendix, after Methods."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from statsmodels.stats.proportion import proportion_confint

from kpi_lib.config.categories import load_categories

from helpers import REPO

pytestmark = pytest.mark.notebooks


def test_the_report_ends_with_the_area_appendix(quarter_run):
    page = (quarter_run.out / "report.html").read_text(encoding="utf-8")
    methods, appendix = page.index('id="methods"'), page.index('id="appendix-areas"')
    assert methods < appendix
    tail = page[appendix:]
    assert "Charge and summons rates by local area, 2024/25 Q4" in tail
    assert "Recorded crime by local area, 2024/25 Q4" in tail
    assert "SPC charts of Volume of total recorded crime, one per area" in tail
    assert "% to " in tail and "data:image/png;base64," in tail
    assert '<a href="#appendix-areas">' in page  # in the contents
    nb = (quarter_run.out / "notebooks" / "crime.ipynb").read_text(encoding="utf-8")
    assert "Appendix D: local areas" in nb and "one per area" in nb


def test_the_area_charge_rates_are_those_counted_by_hand(quarter_run, small_sample):
    """Vehicle crime charge rates of each area in 2024/25 Q4, counted from the sample files with
    pandas (crimes recorded January to March 2025 with a code of the vehicle crime subgroups,
    charged or summonsed by the extraction date), with Wilson 95% intervals from statsmodels."""
    doc = yaml.safe_load((REPO / "params" / "crime_categories.yaml").read_text(encoding="utf-8"))
    subgroups = set(doc["categories"]["vehicle_crime"])
    codes = {str(c) for c, row in load_categories().codes.iterrows() if row["subgroup"] in subgroups}
    crimes = pd.read_parquet(small_sample / "crimes.parquet")
    outcomes = pd.read_parquet(small_sample / "outcomes.parquet")
    day = pd.to_datetime(crimes["recorded_date"])
    q4 = crimes[crimes["offence_code"].astype(str).isin(codes) & (day >= "2025-01-01") & (day < "2025-04-01")]
    charged = set(outcomes.loc[outcomes["outcome_type"].astype(str).isin(["1", "1A"]), "crime_ref"])
    page = (quarter_run.out / "report.html").read_text(encoding="utf-8")
    tail = page[page.index('id="appendix-areas"'):]
    shown = 0
    for area, rows in q4.groupby(q4["local_area"].astype(str)):
        n, x = len(rows), int(rows["crime_ref"].isin(charged).sum())
        lo, hi = proportion_confint(x, n, alpha=0.05, method="wilson")
        assert f"{100 * x / n:.1f}% ({100 * lo:.1f}% to {100 * hi:.1f}%; {x:,} of {n:,})" in tail, area
        shown += 1
    assert shown >= 3
