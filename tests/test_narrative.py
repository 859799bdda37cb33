"""Words from numbers: formats, honest change words, classification, the at-a-glance paragraph."""

from __future__ import annotations

import math

import pandas as pd

from kpi_lib.narrative import at_a_glance, change_words, classify, format_change, format_value


def test_formats():
    assert format_value(88.2039, "percent") == "88.2%"
    assert format_value(19847, "count") == "19,847"
    assert format_value(12.63, "minutes") == "12.6 min"
    assert format_value(1, "flag") == "Yes" and format_value(0, "flag") == "No"
    assert format_value(2277.7, "tco2e") == "2,278 tCO2e"
    assert format_value(math.nan, "percent") == "—"
    assert format_change(-0.01, math.nan, "percent") == "+0.0 points"  # no "-0.0"
    assert format_change(121, 0.61, "count") == "+121 (+0.6%)"


def test_change_words_follow_the_test():
    assert change_words(-2.5, math.nan, 0.0, "percent", "last year").startswith("no significant change")
    assert change_words(3.0, math.nan, 1.0, "percent", "last year").startswith("an increase of 3.0 points")
    assert change_words(math.nan, math.nan, math.nan, "count", "last year").startswith("no comparison")


def _row(**kw):
    base = {"status": "reported", "value": 50.0, "unit": "percent", "spc_variation": "common_cause",
            "target": math.nan, "provisional": False, "headline": True, "supplementary": False, "name": "X"}
    return {**base, **kw}


def test_classify():
    assert classify(_row()) == "stable"
    assert classify(_row(spc_variation="improvement_high")) == "improving"
    assert classify(_row(spc_variation="concern_low")) == "deteriorating"
    assert classify(_row(spc_variation="concern_low", provisional=True)) == "provisional"
    assert classify(_row(status="annual", value=math.nan)) == "not_reportable"
    assert classify(_row(unit="flag", value=0.0, spc_variation="not_applicable")) == "deteriorating"
    assert classify(_row(spc_variation="not_applicable", value=91.0, target=100.0)) == "deteriorating"


def test_at_a_glance_counts():
    df = pd.DataFrame([_row(name="A"), _row(name="B", spc_variation="concern_high"),
                       _row(name="C", status="not_yet_available", value=math.nan)])
    text = at_a_glance(df, "2024/25 Q4")
    assert text.startswith("Of the 3 budget KPIs for 2024/25 Q4: 0 show special cause improvement, 1 show")
    assert "1 cannot be reported" in text and "Needing attention: B." in text


def test_reported_coverage_counts_regular_headline_kpis():
    from kpi_lib.catalogue import load_catalogue
    from kpi_lib.narrative import reported_coverage
    cat = load_catalogue()
    df = pd.DataFrame([{"kpi_id": k.id, "headline": True, "status": "reported"} for k in cat])
    df.loc[df["kpi_id"] == "carbon_footprint", "status"] = "not_yet_available"
    # 23 regular budget KPIs (25 less outturn and VFM); carbon not reported -> 22 of 23
    assert reported_coverage(df, cat) == (22, 23)
