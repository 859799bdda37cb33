"""The order the runner starts the family notebooks in: those drawing most charts first, so the
two workers finish together."""

from __future__ import annotations

import pandas as pd

from kpi_lib.measure import registry
from kpi_lib.run import pool


def test_notebooks_drawing_most_charts_start_first_registry_order_among_equals():
    charts = {"crime": 15, "calls": 5, "response": 3, "confidence": 2, "satisfaction": 1,
              "finance": 0, "environment": 1}
    assert pool.notebook_order(list(registry.NAMES), charts) == [
        "crime", "calls", "response", "confidence", "satisfaction", "environment", "finance"]
    assert pool.notebook_order(["finance", "crime"], {}) == ["finance", "crime"]


def test_charts_drawn_counts_the_headline_rows_reported_with_a_chart():
    rows = pd.DataFrame({"headline": [True, True, True, False, True],
                         "status": ["reported", "reported", "not_yet_available", "reported", "reported"],
                         "spc_grain": ["month", "quarter", "month", "month", "none"]})
    assert pool.charts_drawn(rows) == 2
