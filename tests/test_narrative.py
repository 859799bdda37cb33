"""Words from numbers: formats, honest change words, test words, findings, the verdict count."""

from __future__ import annotations

import math

import pandas as pd

from kpi_lib.narrative import (
    at_a_glance,
    change_words,
    finding,
    format_change,
    format_value,
    significance_words,
)


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
            "target": math.nan, "provisional": False, "headline": True, "supplementary": False, "name": "X",
            "verdict_code": "normal", "verdict": "Normal ups and downs"}
    return {**base, **kw}


def test_test_words_name_the_test_its_p_value_and_meaning():
    assert significance_words("exact test for two Poisson counts", 0.0123, 1.0) == \
        "exact test for two Poisson counts, p = 0.012: a real change"
    assert significance_words("two-proportion z-test", 0.4, 0.0) == "two-proportion z-test, p = 0.400: could be chance"
    assert significance_words("two-proportion z-test", 0.0002, 1.0).endswith("p < 0.001: a real change")
    assert significance_words("too few events to test (7)", math.nan, math.nan) == "too few events to test (7)"
    assert significance_words("", math.nan, math.nan) == "no test"
    assert significance_words(math.nan, math.nan, math.nan) == "no test"


def test_finding_uses_the_test_words_and_never_restates_the_verdict():
    row = _row(name="Rape volume", unit="count", value=314.0, last_year_value=263.0, change_last_year=51.0,
               change_last_year_pct=19.39, last_year_test="exact test for two Poisson counts",
               last_year_p_value=0.03, last_year_significant=1.0, verdict="Worse, and a real change")
    text = finding(row, "2024/25 Q4")
    assert text == ("314 in 2024/25 Q4; +51 (+19.4%) on the same period last year (263; exact test for "
                    "two Poisson counts, p = 0.030: a real change).")
    assert "Worse" not in text and "special cause" not in text


def test_finding_names_the_comparison_basis_and_provisional_share():
    row = _row(value=8.0, ci_low=7.6, ci_high=8.4, last_year_value=6.5, change_last_year=1.5,
               change_last_year_pct=math.nan, last_year_test="two-proportion z-test", last_year_p_value=0.01,
               last_year_significant=1.0, comparison_basis="equal maturity: outcomes up to 45 days after each period end",
               provisional=True, pending_share=43.2)
    text = finding(row, "2024/25 Q4")
    assert "(95% interval 7.6% to 8.4%)" in text
    assert "Compared on equal maturity: outcomes up to 45 days after each period end." in text
    assert "43% of these crimes still await an outcome" in text


def test_at_a_glance_counts_the_verdicts_from_the_table():
    class V:  # the shape of kpi_lib.verdicts.Verdict that the paragraph reads
        def __init__(self, label):
            self.label = label
    verdicts = {"better": V("Better, and a real change"), "worse": V("Worse, and a real change"),
                "normal": V("Normal ups and downs"), "not_reported": V("Cannot be reported")}
    df = pd.DataFrame([_row(name="A"), _row(name="B", verdict_code="worse"), _row(name="C", verdict_code="worse"),
                       _row(name="D", status="not_yet_available", value=math.nan, verdict_code="not_reported"),
                       _row(name="E", supplementary=True, verdict_code="worse")])
    text = at_a_glance(df, "2024/25 Q4", verdicts)
    assert text == ("Of the 4 budget KPIs for 2024/25 Q4: 2 worse, and a real change; 1 normal ups and "
                    "downs; 1 cannot be reported. Worse, and a real change: B; C.")


def test_reported_coverage_counts_regular_headline_kpis():
    from kpi_lib.catalogue import load_catalogue
    from kpi_lib.narrative import reported_coverage
    cat = load_catalogue()
    df = pd.DataFrame([{"kpi_id": k.id, "headline": True, "status": "reported"} for k in cat])
    df.loc[df["kpi_id"] == "carbon_footprint", "status"] = "not_yet_available"
    # 23 regular budget KPIs (25 less outturn and VFM); carbon not reported -> 22 of 23
    assert reported_coverage(df, cat) == (22, 23)
