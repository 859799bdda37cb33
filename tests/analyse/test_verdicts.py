"""The verdict rule, branch by branch, on small hand-built result rows (columns of kpis.csv)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_lib.analyse.verdicts import VERDICTS, add_verdicts, verdict_for


def row(**kw) -> dict:
    """A reported count KPI with nothing special about it; tests change what they need."""
    base = {"kpi_id": "k", "status": "reported", "value": 100.0, "unit": "count", "target": math.nan,
            "polarity": "lower_better", "pending_share": math.nan, "provisional": False,
            "comparison_basis": "", "change_last_year": 5.0, "last_year_significant": 0.0,
            "spc_variation": "common_cause", "spc_assurance": "no_target"}
    return {**base, **kw}


@pytest.mark.parametrize("status, words", [
    ("not_yet_available", "Cannot be reported: not yet available for this period"),
    ("annual", "Cannot be reported: an annual measure, reported at the year end"),
    ("not_available_from_source", "Cannot be reported: not available from this source"),
])
def test_not_reported(status, words):
    assert verdict_for(row(status=status, value=math.nan)) == ("not_reported", words)


def test_reported_without_a_value_cannot_be_reported():
    assert verdict_for(row(value=math.nan))[0] == "not_reported"


def test_provisional_rate_without_a_stated_basis_is_too_early_with_the_pending_share():
    r = row(unit="percent", polarity="higher_better", pending_share=43.2, provisional=True,
            last_year_significant=1.0, change_last_year=-2.8, spc_variation="concern_low")
    assert verdict_for(r) == ("too_early", "Too early to tell (43% of outcomes pending)")


def test_provisional_rate_at_equal_maturity_is_judged_on_the_fair_comparison():
    # the sample's TRC 2024/25 Q4: 14% pending, 6.50% -> 7.99% at equal maturity (significant)
    r = row(unit="percent", polarity="higher_better", pending_share=14.0, provisional=True,
            comparison_basis="equal maturity: outcomes up to 45 days after each period end",
            last_year_significant=1.0, change_last_year=1.49, spc_variation="common_cause")
    assert verdict_for(r) == ("better", "Better, and a real change (against the same period last year; the chart shows no signal)")


@pytest.mark.parametrize("pending, code", [(49.9, "normal"), (50.1, "too_early"), (75.0, "too_early")])
def test_equal_maturity_with_most_outcomes_pending_is_too_early(pending, code):
    r = row(unit="percent", polarity="higher_better", pending_share=pending, provisional=True,
            comparison_basis="equal maturity: outcomes up to 45 days after each period end")
    assert verdict_for(r)[0] == code


def test_maturing_rate_without_like_for_like_basis_is_too_early_even_below_the_threshold():
    r = row(unit="percent", pending_share=6.0, provisional=False,
            comparison_basis="not like-for-like: the source has no outcome dates")
    assert verdict_for(r) == ("too_early", "Too early to tell (6% of outcomes pending)")


def test_maturing_rate_with_like_for_like_basis_below_the_threshold_is_judged():
    r = row(unit="percent", polarity="higher_better", pending_share=6.0, provisional=False,
            comparison_basis="equal maturity: outcomes up to 400 days after each period end",
            last_year_significant=1.0, change_last_year=1.5)
    assert verdict_for(r) == ("better", "Better, and a real change (against the same period last year; the chart shows no signal)")


def test_provisional_from_pending_share_when_the_flag_is_missing():
    assert verdict_for(row(pending_share=12.0, provisional=None))[0] == "too_early"
    assert verdict_for(row(pending_share=0.3, provisional=True))[1] == \
        "Too early to tell (under 1% of outcomes pending)"


@pytest.mark.parametrize("value, polarity, assurance, code, words", [
    (92, "higher_better", "consistent_pass", "meeting_target", "Meeting target"),
    (92, "higher_better", "hit_and_miss", "meeting_target", "Meeting target (hit and miss: may not last)"),
    (90, "higher_better", "no_target", "meeting_target", "Meeting target"),  # on the target meets it
    (85, "higher_better", "consistent_fail", "missing_target", "Missing target (consistently)"),
    (85, "higher_better", "hit_and_miss", "missing_target", "Missing target (hit and miss: may be met)"),
    (85, "higher_better", "consistent_pass", "missing_target",
     "Missing target (unusual: the chart says it is usually met)"),
    (85, "lower_better", "consistent_pass", "meeting_target", "Meeting target"),
    (95, "lower_better", "hit_and_miss", "missing_target", "Missing target (hit and miss: may be met)"),
])
def test_target(value, polarity, assurance, code, words):
    r = row(unit="percent", value=value, target=90.0, polarity=polarity, spc_assurance=assurance,
            spc_variation="common_cause", last_year_significant=0.0, change_last_year=4.0)
    assert verdict_for(r) == (code, words)


def test_a_real_change_beside_a_target_verdict_is_said_not_hidden():
    # the sample's confidence, 2024/25 Q4: below its lower limit and missing its 88% target
    r = row(unit="percent", value=73.0, target=88.0, polarity="higher_better",
            spc_assurance="consistent_fail", spc_variation="concern_low", spc_rule="outside_limits",
            spc_grain="quarter", last_year_significant=0.0, change_last_year=-2.1)
    assert verdict_for(r) == ("missing_target", "Missing target (consistently); and worse, a real change "
                              "(the chart: outside its usual range)")
    # the 999 year: a significant rise against the previous year, still missing the target
    r = row(unit="percent", period="2024/25", value=88.0, target=90.0, polarity="higher_better",
            spc_assurance="consistent_fail", spc_variation="common_cause", last_year_significant=1.0,
            change_last_year=6.0)
    assert verdict_for(r) == ("missing_target", "Missing target (consistently); and better, a real change "
                              "(against the same period last year)")


def test_target_with_neutral_polarity_is_not_judged_against_it():
    assert verdict_for(row(target=90.0, polarity="neutral"))[0] == "normal"


@pytest.mark.parametrize("polarity, spc, significant, change, code", [
    ("lower_better", "concern_high", 0.0, 5.0, "worse"),        # SPC alone
    ("lower_better", "common_cause", 1.0, -30.0, "better"),     # the test alone
    ("lower_better", "improvement_low", 1.0, -30.0, "better"),  # both agree
    ("higher_better", "improvement_high", math.nan, math.nan, "better"),
    ("higher_better", "concern_low", 1.0, -2.0, "worse"),
    ("higher_better", "improvement_high", 0.0, -2.0, "better"),  # an insignificant test is silent
    ("neutral", "neutral_high", 1.0, 51.0, "higher"),            # rape volume 314 vs 263
    ("neutral", "common_cause", 1.0, -20.0, "lower"),
])
def test_better_worse_higher_lower(polarity, spc, significant, change, code):
    r = row(polarity=polarity, spc_variation=spc, last_year_significant=significant, change_last_year=change)
    got_code, words = verdict_for(r)
    assert got_code == code and words.startswith(VERDICTS[code].label)


def test_the_words_name_the_evidence_so_they_never_contradict_the_figures_beside_them():
    # the sample's vehicle crime, 2024/25 Q4: -0.4% on last year (p = 0.86) but nine months above
    # the seasonal level on the chart
    r = row(polarity="lower_better", spc_variation="concern_high", spc_rule="shift", spc_grain="month",
            spc_seasonal=True, last_year_significant=0.0, change_last_year=-4.0)
    assert verdict_for(r) == ("worse", "Worse, and a real change (the chart: a run of months on one side "
                              "of its usual level for the time of year; against the same period last "
                              "year it could be chance)")
    # grade 2 response: no test exists for a median's change; the chart alone
    r = row(polarity="lower_better", unit="minutes", spc_variation="concern_high", spc_rule="outside_limits",
            last_year_significant=math.nan, change_last_year=1.7)
    assert verdict_for(r) == ("worse", "Worse, and a real change (the chart: outside its usual range)")
    # both agree: the plain label
    r = row(polarity="lower_better", spc_variation="improvement_low", last_year_significant=1.0,
            change_last_year=-30.0)
    assert verdict_for(r) == ("better", "Better, and a real change")


def test_a_year_is_judged_on_the_year_against_the_year_before_not_its_last_month():
    # rape volume for 2024/25: +4.3%, p = 0.27 (chance), though the last month is a chart signal
    r = row(period="2024/25", polarity="neutral", spc_variation="neutral_high", spc_rule="outside_limits",
            last_year_significant=0.0, change_last_year=50.0)
    assert verdict_for(r) == ("normal", "Normal ups and downs")
    r = row(period="2024/25", polarity="lower_better", spc_variation="common_cause",
            last_year_significant=1.0, change_last_year=-300.0)
    assert verdict_for(r) == ("better", "Better than last year, and a real change")


def test_disagreeing_signals_are_normal_and_say_so():
    r = row(polarity="lower_better", spc_variation="concern_high", last_year_significant=1.0, change_last_year=-40.0)
    assert verdict_for(r) == ("normal", "Normal ups and downs (the chart and the test against last year disagree)")


@pytest.mark.parametrize("spc", ["common_cause", "no_data", "not_applicable", "", None])
def test_normal_ups_and_downs(spc):
    assert verdict_for(row(spc_variation=spc)) == ("normal", "Normal ups and downs")


def test_add_verdicts_is_pure_and_adds_two_columns():
    df = pd.DataFrame([row(kpi_id="a"), row(kpi_id="b", status="annual", value=math.nan)])
    before = df.copy()
    out = add_verdicts(df)
    pd.testing.assert_frame_equal(df, before)
    assert list(out["verdict_code"]) == ["normal", "not_reported"]
    assert list(out.columns) == list(df.columns) + ["verdict_code", "verdict"]


def test_add_verdicts_reads_a_csv_round_trip():
    # from kpis.csv the flags arrive as strings or floats; the rule must read them the same way
    df = pd.DataFrame([row(provisional="True", pending_share="43.0", unit="percent")])
    assert add_verdicts(df)["verdict_code"].iloc[0] == "too_early"


def test_symbols_are_distinct_shapes_with_words():
    symbols = [v.symbol for v in VERDICTS.values()]
    assert len(set(symbols)) == len(symbols)
    assert len({v.shape_name for v in VERDICTS.values()}) == len(VERDICTS)
    assert all(v.label and v.meaning for v in VERDICTS.values())
    assert set(VERDICTS) >= {"better", "worse", "normal", "too_early", "meeting_target", "missing_target",
                             "not_reported"}


TARGETLESS = st.fixed_dictionaries({
    "status": st.sampled_from(["reported", "annual", "not_yet_available", "not_available_from_source"]),
    "value": st.floats(0, 1e5), "polarity": st.sampled_from(["higher_better", "lower_better", "neutral"]),
    "unit": st.sampled_from(["count", "percent", "flag", "minutes"]),
    "last_year_value": st.one_of(st.just(math.nan), st.sampled_from([0.0, 1.0]), st.floats(0, 1e5)),
    "target": st.just(math.nan), "pending_share": st.one_of(st.just(math.nan), st.floats(0, 100)),
    "provisional": st.booleans(), "comparison_basis": st.sampled_from(["", "not like-for-like: x", "equal maturity"]),
    "change_last_year": st.floats(-1e4, 1e4), "last_year_significant": st.sampled_from([0.0, 1.0, math.nan]),
    "spc_variation": st.sampled_from(["common_cause", "improvement_high", "concern_low", "neutral_high", "no_data"]),
    "spc_assurance": st.sampled_from(["no_target", "hit_and_miss"]),
})


@given(TARGETLESS)
def test_never_meeting_or_missing_without_a_target(r):
    code, words = verdict_for(r)
    assert code not in ("meeting_target", "missing_target")
    assert "target" not in words.lower() and "on track" not in words.lower()
    assert code in VERDICTS
    if r["polarity"] == "neutral":
        assert code not in ("better", "worse")


def test_chart_points_use_the_same_symbols():
    from kpi_lib.analyse.spc import VARIATION_LABELS
    from kpi_lib.analyse.verdicts import VARIATION_VERDICT, point_symbol
    assert set(VARIATION_VERDICT) == set(VARIATION_LABELS)
    assert point_symbol("concern_high") is VERDICTS["worse"] and point_symbol("concern_low") is VERDICTS["worse"]
    assert point_symbol("improvement_low") is VERDICTS["better"]
    assert point_symbol("neutral_high") is VERDICTS["higher"] and point_symbol("common_cause") is VERDICTS["normal"]
    assert point_symbol("not_applicable") is VERDICTS["not_reported"]


@pytest.mark.parametrize("value, last_year, polarity, expected", [
    (0.0, 1.0, "higher_better", ("worse", "Worse: no this year, yes last year")),  # outturn over budget
    (1.0, 0.0, "higher_better", ("better", "Better: yes this year, no last year")),
    (0.0, 0.0, "higher_better", ("normal", "No change from last year (no)")),
    (1.0, math.nan, "higher_better", ("normal", "Answer this year: yes")),
])
def test_a_yes_no_kpi_without_target(value, last_year, polarity, expected):
    # a yes/no answer has no sampling noise: a switch is real, no switch is not "ups and downs"
    r = row(unit="flag", value=value, last_year_value=last_year, polarity=polarity,
            spc_variation="not_applicable", last_year_significant=math.nan)
    assert verdict_for(r) == expected


def test_a_yes_no_kpi_with_a_target_meets_or_misses_it():
    r = row(unit="flag", value=0.0, last_year_value=1.0, target=1.0, polarity="higher_better")
    assert verdict_for(r) == ("missing_target", "Missing target")
