"""Appendix A lists each chart's latest points in the words of the KPI's section: never a raw
code of the suite."""

from __future__ import annotations

import math

import pandas as pd

from kpi_lib.config.catalogue import load_catalogue
from kpi_lib.present.annex import appendix_numbers, chart_tables

VARIATIONS = ["not_judged", "common_cause", "concern_low", "improvement_high", "concern_high",
              "improvement_low", "neutral_high", "neutral_low", "no_data", math.nan, "common_cause",
              "concern_low", "not_judged"]


def _points() -> pd.DataFrame:
    n = len(VARIATIONS)
    return pd.DataFrame({"kpi_id": "confidence_overall", "basis": "",
                         "x": pd.date_range("2022-01-01", periods=n, freq="MS"),
                         "y": [76.4 - 0.1 * i for i in range(n)], "mean": [75.0] * n,
                         "lpl": [70.0] * n, "upl": [80.0] * n, "variation": VARIATIONS})


def _no_code(frame: pd.DataFrame) -> None:
    for col in frame.columns:
        for cell in frame[col]:
            assert "_" not in str(cell) and str(cell) != "nan", (col, cell)


def test_points_read_as_the_kpi_section_says_them():
    t = appendix_numbers(_points(), "percent")
    _no_code(t)
    assert list(t.columns) == ["Month", "Value", "Mean", "Lower", "Upper", "Point"]
    first = t.iloc[0]
    assert (first["Month"], first["Value"]) == ("Jan 2022", "76.4%")
    assert first["Point"] == "Not judged (before the window the limits come from, or too few points)"
    assert t.iloc[2]["Point"] == "Special cause concern (lower)"
    assert t.iloc[3]["Point"] == "Special cause improvement (higher)"
    assert t.iloc[1]["Point"] == "Common cause variation"
    assert t.iloc[9]["Point"] == "—"


def test_every_appendix_table_is_free_of_codes():
    results = pd.DataFrame([{"kpi_id": "confidence_overall", "basis": "", "headline": True,
                             "spc_grain": "month"}])
    catalogue = [k for k in load_catalogue() if k.id == "confidence_overall"]
    tables = chart_tables(results, _points(), catalogue)
    assert len(tables) == 1
    _no_code(tables[0][1])
