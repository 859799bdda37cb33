"""The verdict rule, branch by branch, on small hand-built result rows (columns of kpis.csv), and
the one list of KPIs for the Panel's attention (verdicts.flagged)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kpi_lib.analyse.verdicts import (
    ATTENTION,
    VERDICTS,
    add_verdicts,
    flagged,
    verdict_for,
    verdict_parts,
    worse_over_12_months,
)


def row(**kw) -> dict:
    """A reported count KPI with nothing special about it; tests change what they need."""
    base = {"kpi_id": "k", "period": "2024/25 Q4", "status": "reported", "value": 100.0, "unit": "count",
            "target": math.nan, "polarity": "lower_better", "pending_share": math.nan, "provisional": False,
            "comparison_basis": "", "change_last_year": 5.0, "last_year_significant": 0.0,
            "last_year_finding": "no_clear_change", "last_year_words": "no clear change (95% interval -3.0% to +8.0%)",
            "spc_finding": "within", "spc_direction": 0, "spc_words": "within its usual range",
            "spc_assurance": "no_target"}
    return {**base, **kw}


@pytest.mark.parametrize("status, words", [
    ("not_yet_available", "Cannot be reported: not yet available for this period"),
    ("annual", "Cannot be reported: an annual measure, reported at the year end"),
    ("not_available_from_source", "Cannot be reported: not available from this source"),
    ("not_in_data", "Cannot be reported: this period is not in the data"),
])
def test_not_reported(status, words):
    assert verdict_for(row(status=status, value=math.nan)) == ("not_reported", words)


def test_reported_without_a_value_cannot_be_reported():
    assert verdict_for(row(value=math.nan))[0] == "not_reported"


def test_provisional_rate_without_a_stated_basis_is_too_early_with_the_pending_share():
    r = row(unit="percent", polarity="higher_better", pending_share=43.2, provisional=True,
            last_year_finding="lower", spc_finding="outside", spc_direction=-1)
    assert verdict_for(r) == ("too_early", "Too early to tell (43% of outcomes pending)")


def test_provisional_rate_at_equal_maturity_is_judged_on_the_fair_comparison():
    # the sample's TRC 2024/25 Q4: 14% pending, 6.50% -> 7.99% at equal maturity (q < 0.001)
    r = row(unit="percent", polarity="higher_better", pending_share=14.0, provisional=True,
            comparison_basis="equal maturity: outcomes up to 45 days after each period end",
            last_year_finding="higher", last_year_words="higher, a real change (q < 0.001)",
            change_last_year=1.49)
    assert verdict_for(r) == ("better", "Better than a year ago, a real change; "
                              "nothing unusual on the chart")


@pytest.mark.parametrize("pending, code", [(49.9, "normal"), (50.1, "too_early"), (75.0, "too_early")])
def test_equal_maturity_with_most_outcomes_pending_is_too_early(pending, code):
    r = row(unit="percent", polarity="higher_better", pending_share=pending, provisional=True,
            comparison_basis="equal maturity: outcomes up to 45 days after each period end")
    assert verdict_for(r)[0] == code


def test_maturing_rate_without_like_for_like_basis_is_too_early_even_below_the_threshold():
    r = row(unit="percent", pending_share=6.0, provisional=False,
            comparison_basis="not like-for-like: the source has no outcome dates")
    assert verdict_for(r) == ("too_early", "Too early to tell (6% of outcomes pending)")


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
    r = row(unit="percent", value=value, target=90.0, polarity=polarity, spc_assurance=assurance)
    assert verdict_for(r) == (code, words)


def test_a_chart_signal_beside_a_target_is_said_but_never_called_worse():
    # the sample's confidence, 2024/25 Q4: missing its 88% target, falling steadily on the chart,
    # and no real change against last year (p = 0.33): never "worse"
    r = row(unit="percent", value=73.0, target=88.0, polarity="higher_better",
            spc_assurance="consistent_fail", spc_finding="trend", spc_direction=-1,
            spc_words="a steady fall since 2019")
    code, words, direction = verdict_parts(r)
    assert (code, words) == ("missing_target", "Missing target (consistently); a steady fall since 2019 on the chart")
    assert "worse" not in words and direction == ""
    # a real fall against last year is said beside the target, with the word worse
    r = row(unit="percent", value=73.0, target=88.0, polarity="higher_better", spc_assurance="consistent_fail",
            last_year_finding="lower", last_year_words="lower, a real change (q = 0.010)")
    assert verdict_parts(r) == ("missing_target", "Missing target (consistently); worse than a year ago, "
                                "a real change", "worse")


def test_target_with_neutral_polarity_is_not_judged_against_it():
    assert verdict_for(row(target=90.0, polarity="neutral"))[0] == "normal"


@pytest.mark.parametrize("polarity, finding, code", [
    ("lower_better", "higher", "worse"), ("lower_better", "lower", "better"),
    ("higher_better", "higher", "better"), ("higher_better", "lower", "worse"),
    ("neutral", "higher", "higher"), ("neutral", "lower", "lower"),
])
def test_only_the_test_against_last_year_makes_a_real_change(polarity, finding, code):
    r = row(polarity=polarity, last_year_finding=finding, last_year_words=f"{finding}, a real change (q = 0.002)")
    got, words, direction = verdict_parts(r)
    assert got == code and direction == code
    assert words.startswith(f"{code.capitalize()} than a year ago, a real change")


@pytest.mark.parametrize("finding, direction, words", [
    ("outside", 1, "above its usual range this quarter"),
    ("shift", 1, "a sustained shift up since November 2024"),
])
def test_a_chart_signal_alone_is_unusual_never_a_real_change(finding, direction, words):
    # the sample's vehicle crime before: a run of months above a six-year mean, -0.4% on last year
    r = row(spc_finding=finding, spc_direction=direction, spc_words=words, change_last_year=-4.0)
    code, text, towards = verdict_parts(r)
    assert code == "unusual" and towards == "worse"
    assert text == f"Unusual on the chart: {words}; no clear change on a year ago"
    assert "real change" not in text and "worse" not in text


def test_a_steady_trend_is_its_own_finding():
    r = row(polarity="lower_better", unit="minutes", spc_finding="trend", spc_direction=1,
            spc_words="a steady rise since 2019")
    assert verdict_parts(r) == ("trend", "A steady rise since 2019 on the chart; no clear change on "
                                "a year ago", "worse")


def test_a_change_not_confirmed_by_the_false_discovery_rate_is_no_clear_change_and_not_flagged():
    words = ("possibly higher, not confirmed once the report's 25 tests are allowed for (p = 0.043, q = 0.18; "
             "95% interval +0.0 to +0.6 min)")
    r = row(unit="minutes", polarity="lower_better", change_last_year=0.3, last_year_finding="not_confirmed",
            last_year_words=words)
    assert verdict_parts(r) == ("normal", "Possibly higher on a year ago, not confirmed once the report's 25 tests "
                                "are allowed for; nothing unusual on the chart", "")
    assert flagged(add_verdicts(pd.DataFrame([{**r, "headline": True, "name": "k"}]))).empty


def test_weak_comparisons_are_not_enough_data_to_tell():
    # robbery "% charged": +1.5 points, 95% interval -4.2 to +7.2
    r = row(unit="percent", polarity="higher_better", last_year_finding="not_enough_data",
            last_year_words="not enough data to tell (95% interval -4.2 to +7.2 points)")
    assert verdict_for(r) == ("unclear", "Not enough data to tell on a year ago; "
                              "nothing unusual on the chart")


def test_too_few_points_and_nothing_to_compare_with_cannot_be_judged():
    # a one-year Home Office table: 4 quarterly points, no year before
    r = row(spc_finding="too_few", spc_words="too few points to judge (4 of 12)",
            last_year_finding="not_comparable", last_year_words="not comparable: 2016/17 Q4 is not in the data")
    assert verdict_for(r) == ("unclear", "Not enough data to tell: not comparable: 2016/17 Q4 is not in the "
                              "data; too few points on the chart to judge (4 of 12)")


def test_no_clear_change_gives_both_answers():
    assert verdict_for(row()) == ("normal", "No clear change on a year ago or on the chart")
    assert verdict_for(row(spc_finding="too_few", spc_words="too few points to judge (8 of 12)")) == \
        ("normal", "No clear change on a year ago; too few points on the chart to judge (8 of 12)")


def test_a_year_uses_the_same_rule_with_year_words():
    r = row(period="2024/25", last_year_finding="lower", last_year_words="lower, a real change (q = 0.001)",
            spc_finding="outside", spc_direction=-1, spc_words="below its usual range this year")
    assert verdict_for(r) == ("better", "Better than last year, a real change; "
                              "below its usual range this year on the chart")


def test_add_verdicts_is_pure_and_adds_three_columns():
    df = pd.DataFrame([row(kpi_id="a"), row(kpi_id="b", status="annual", value=math.nan)])
    before = df.copy()
    out = add_verdicts(df)
    pd.testing.assert_frame_equal(df, before)
    assert list(out["verdict_code"]) == ["normal", "not_reported"]
    assert list(out.columns) == list(df.columns) + ["verdict_code", "verdict", "verdict_direction"]


def test_add_verdicts_reads_a_csv_round_trip():
    # from kpis.csv the flags arrive as strings or floats; the rule must read them the same way
    df = pd.DataFrame([row(provisional="True", pending_share="43.0", unit="percent", spc_direction="1")])
    assert add_verdicts(df)["verdict_code"].iloc[0] == "too_early"


def test_symbols_are_distinct_shapes_with_words():
    symbols = [v.symbol for v in VERDICTS.values()]
    assert len(set(symbols)) == len(symbols)
    assert len({v.shape_name for v in VERDICTS.values()}) == len(VERDICTS)
    assert all(v.label and v.meaning for v in VERDICTS.values())
    assert set(VERDICTS) >= {"better", "worse", "normal", "unusual", "trend", "unclear", "too_early",
                             "meeting_target", "missing_target", "not_reported"}


TARGETLESS = st.fixed_dictionaries({
    "status": st.sampled_from(["reported", "annual", "not_yet_available", "not_available_from_source"]),
    "value": st.floats(0, 1e5), "polarity": st.sampled_from(["higher_better", "lower_better", "neutral"]),
    "unit": st.sampled_from(["count", "percent", "flag", "minutes"]),
    "period": st.sampled_from(["2024/25 Q4", "2024/25"]),
    "target": st.just(math.nan), "pending_share": st.one_of(st.just(math.nan), st.floats(0, 100)),
    "provisional": st.booleans(), "comparison_basis": st.sampled_from(["", "not like-for-like: x", "equal maturity"]),
    "last_year_finding": st.sampled_from(["", "higher", "lower", "no_clear_change", "not_enough_data", "not_confirmed",
                                          "not_comparable", "not_tested"]),
    "last_year_words": st.just("words"),
    "spc_finding": st.sampled_from(["", "outside", "shift", "trend", "within", "too_few", "none"]),
    "spc_direction": st.sampled_from([-1, 0, 1]), "spc_words": st.just("chart words"),
    "spc_assurance": st.sampled_from(["no_target", "hit_and_miss"]),
})


@given(TARGETLESS)
@example({"status": "reported", "value": 0.0, "polarity": "higher_better", "unit": "flag", "period": "2024/25 Q4",
          "target": math.nan, "pending_share": math.nan, "provisional": False, "comparison_basis": "",
          "last_year_finding": "higher", "last_year_words": "words", "spc_finding": "", "spc_direction": -1,
          "spc_words": "chart words", "spc_assurance": "no_target"})  # a yes/no answer's words follow its finding
def test_never_meeting_or_missing_without_a_target_and_real_change_only_from_the_test(r):
    code, words, direction = verdict_parts(r)
    assert code in VERDICTS
    assert code not in ("meeting_target", "missing_target")
    assert "target" not in words.lower() and "on track" not in words.lower()
    if r["polarity"] == "neutral":
        assert code not in ("better", "worse") and direction not in ("better", "worse")
    if "real change" in words:  # only the test against last year makes a real change
        assert r["last_year_finding"] in ("higher", "lower")
    if "worse" in words.lower():
        assert direction == "worse"


def test_chart_points_use_the_same_symbols():
    from kpi_lib.analyse.spc import VARIATION_LABELS
    from kpi_lib.analyse.verdicts import VARIATION_VERDICT, point_symbol
    assert set(VARIATION_VERDICT) == set(VARIATION_LABELS)
    assert point_symbol("concern_high") is VERDICTS["worse"] and point_symbol("concern_low") is VERDICTS["worse"]
    assert point_symbol("improvement_low") is VERDICTS["better"]
    assert point_symbol("neutral_high") is VERDICTS["higher"] and point_symbol("common_cause") is VERDICTS["normal"]
    assert point_symbol("not_applicable") is VERDICTS["not_reported"]


@pytest.mark.parametrize("value, last_year, finding, polarity, expected", [
    (0.0, 1.0, "lower", "higher_better", ("answer_worse", "Worse: not met this year, met last year", "worse")),
    (1.0, 0.0, "higher", "higher_better", ("answer_better", "Better: met this year, not met last year", "better")),
    # where "yes" is the bad answer, a yes this year after a no last year is no longer met
    (1.0, 0.0, "higher", "lower_better", ("answer_worse", "Worse: not met this year, met last year", "worse")),
    (1.0, 0.0, "higher", "neutral", ("answer_changed", "Changed: yes this year, no last year", "")),
    (0.0, 0.0, "no_clear_change", "higher_better", ("normal", "No clear change on a year ago", "")),
])
def test_a_yes_no_kpi_without_target_claims_no_test(value, last_year, finding, polarity, expected):
    # a yes/no answer has no chance variation: a switch is a change in itself, never "a real change"
    words = {"lower": "no this year, yes last year", "higher": "yes this year, no last year"}.get(
        finding, "no clear change (the same answer)")
    r = row(unit="flag", value=value, last_year_value=last_year, polarity=polarity,
            last_year_finding=finding, last_year_words=words, spc_finding="none", spc_words="")
    assert verdict_parts(r) == expected
    assert "real change" not in expected[1] and VERDICTS[expected[0]].label
    assert "real change" not in VERDICTS[expected[0]].label


def test_a_yes_no_kpi_with_a_target_meets_or_misses_it():
    r = row(unit="flag", value=0.0, last_year_value=1.0, target=1.0, polarity="higher_better")
    assert verdict_for(r) == ("missing_target", "Missing target")
    r = row(unit="flag", value=0.0, last_year_value=1.0, target=1.0, polarity="higher_better",
            last_year_finding="lower", last_year_words="no this year, yes last year", spc_finding="none")
    assert verdict_for(r) == ("missing_target", "Missing target; worse: not met this year, met last year")


# ------------------------------------------------------------------------------ flagged
def _results(rows: list[dict]) -> pd.DataFrame:
    df = add_verdicts(pd.DataFrame([{**row(), "headline": True, "supplementary": False, "name": r["kpi_id"], **r}
                                    for r in rows]))
    return df


def test_flagged_lists_every_kpi_whose_verdict_says_worse_and_why():
    df = _results([
        {"kpi_id": "worse", "last_year_finding": "higher", "last_year_words": "higher, a real change (q = 0.01)"},
        {"kpi_id": "target", "unit": "percent", "target": 90.0, "value": 80.0, "polarity": "higher_better",
         "last_year_finding": "lower", "last_year_words": "lower, a real change (q = 0.02)"},
        {"kpi_id": "unusual", "spc_finding": "outside", "spc_direction": 1, "spc_words": "above its usual range"},
        {"kpi_id": "unusual_good", "spc_finding": "outside", "spc_direction": -1, "spc_words": "below"},
        {"kpi_id": "trend", "spc_finding": "trend", "spc_direction": 1, "spc_words": "a steady rise since 2019"},
        {"kpi_id": "fine"},
        {"kpi_id": "early", "unit": "percent", "pending_share": 60.0, "provisional": True},
    ])
    f = flagged(df).set_index("kpi_id")
    assert list(f.index) == ["worse", "target", "unusual", "trend", "early"]
    assert dict(f["attention"]) == {"worse": "worse", "target": "missing_target", "unusual": "unusual",
                                    "trend": "trend", "early": "too_early"}
    says_worse = df.loc[df["verdict"].str.contains("worse", case=False), "kpi_id"]
    assert set(says_worse) <= set(f.index)
    assert set(f["attention"]) <= set(ATTENTION)


def test_a_yes_no_measure_no_longer_met_is_flagged_under_words_that_claim_no_test():
    df = _results([{"kpi_id": "outturn", "unit": "flag", "polarity": "higher_better", "value": 0.0,
                    "last_year_value": 1.0, "last_year_finding": "lower", "spc_finding": "none",
                    "last_year_words": "no this year, yes last year"},
                   {"kpi_id": "vfm", "unit": "flag", "polarity": "higher_better", "value": 1.0,
                    "last_year_value": 0.0, "last_year_finding": "higher", "spc_finding": "none",
                    "last_year_words": "yes this year, no last year"}])
    f = flagged(df).set_index("kpi_id")
    assert list(f.index) == ["outturn"]
    assert f.loc["outturn", "attention"] == "no_longer_met" and f.loc["outturn", "verdict_direction"] == "worse"
    assert "real change" not in ATTENTION["no_longer_met"]


def test_worse_over_12_months_is_flagged_whatever_the_quarters_verdict():
    """Grade 2 in the sample's 2024/25 Q4: the quarter is no clear change on the same quarter a
    year before, while the 12 months to March 2025 are 80.6 min against 78.7 min, q < 0.05."""
    twelve = {"unit": "minutes", "polarity": "lower_better", "change_12m": 1.9, "change_12m_significant": 1.0}
    df = _results([
        {"kpi_id": "grade2", **twelve},  # quarter: no clear change, nothing on the chart
        {"kpi_id": "better12", **twelve, "change_12m": -1.9},  # 12 months better: not flagged for it
        {"kpi_id": "chance12", **twelve, "change_12m_significant": 0.0},  # could be chance
        {"kpi_id": "neutral12", **twelve, "polarity": "neutral"},  # neither direction is worse
        {"kpi_id": "year", **twelve, "period": "2024/25"},  # a year's 12 months are its last-year test
        {"kpi_id": "trend12", **twelve, "spc_finding": "trend", "spc_direction": 1,
         "spc_words": "a steady rise since 2019"},
    ])
    f = flagged(df).set_index("kpi_id")
    assert list(f.index) == ["grade2", "trend12"]
    assert dict(f["attention"]) == {"grade2": "worse_12m", "trend12": "trend"}  # the first reason
    assert f["worse_12m"].tolist() == [True, True]
    assert worse_over_12_months(df.set_index("kpi_id").loc["grade2"])
    assert not worse_over_12_months(row(**twelve, status="not_yet_available"))
    assert list(ATTENTION)[-1] == "worse_12m"


def test_flagged_uses_headline_rows_only_and_is_empty_without_verdicts():
    df = _results([{"kpi_id": "a", "last_year_finding": "higher", "last_year_words": "higher, a real change"}])
    df = pd.concat([df, df.assign(headline=False, kpi_id="b")])
    assert list(flagged(df)["kpi_id"]) == ["a"]
    assert flagged(pd.DataFrame()).empty
