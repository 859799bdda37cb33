"""Words from numbers: formats, honest change words, test words, findings, the verdict count."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_lib.present.narrative import (
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


def test_finding_says_the_stored_answer_with_p_and_q_and_the_change_of_the_shown_values():
    # 72.96% against 75.01% shows as 73.0% against 75.0%: -2.0 points (the raw change is -2.05)
    row = _row(name="Overall confidence", value=72.9628, last_year_value=75.0146, change_last_year=-2.0518,
               last_year_test="two-proportion z-test", last_year_p_value=0.3279, last_year_q_value=0.4822,
               last_year_finding="no_clear_change",
               last_year_words="no clear change (95% interval -6.2 to +2.1 points)")
    assert finding(row, "2024/25 Q4") == (
        "73.0% in 2024/25 Q4; -2.0 points on the same period last year (75.0%): no clear change (95% "
        "interval -6.2 to +2.1 points); two-proportion z-test, p = 0.328, q = 0.482.")
    real = {**row, "value": 7.9861, "last_year_value": 6.5041, "last_year_p_value": 1.3e-08,
            "last_year_q_value": 3.3e-07, "last_year_finding": "higher",
            "last_year_words": "higher, a real change (q < 0.001; 95% interval +1.0 to +2.0 points)"}
    assert finding(real, "2024/25 Q4").endswith(
        "+1.5 points on the same period last year (6.5%): higher, a real change (q < 0.001; 95% "
        "interval +1.0 to +2.0 points); two-proportion z-test, p < 0.001.")
    gap = {**row, "last_year_value": math.nan, "change_last_year": math.nan, "last_year_finding": "not_comparable",
           "last_year_words": "not comparable: 2024/25 Q3 is not in the data"}
    assert finding(gap, "2025/26 Q3") == "73.0% in 2025/26 Q3; not comparable: 2024/25 Q3 is not in the data."
    untested = {**row, "unit": "seconds", "value": 105.5, "last_year_value": 106.7, "last_year_p_value": math.nan,
                "last_year_q_value": math.nan, "last_year_finding": "not_tested",
                "last_year_test": "not tested: the waits behind the average are not kept",
                "last_year_words": "not tested: the waits behind the average are not kept"}
    assert finding(untested, "2024/25 Q4") == ("105.5 s in 2024/25 Q4; -1.2 s on the same period last year "
                                               "(106.7 s): not tested: the waits behind the average are not kept.")


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
    class V:  # the shape of kpi_lib.analyse.verdicts.Verdict that the paragraph reads
        def __init__(self, label):
            self.label = label
    verdicts = {"better": V("Better, and a real change"), "worse": V("Worse, and a real change"),
                "normal": V("Normal ups and downs"), "not_reported": V("Cannot be reported")}
    df = pd.DataFrame([_row(name="A"), _row(name="B", verdict_code="worse"), _row(name="C", verdict_code="worse"),
                       _row(name="D", status="not_yet_available", value=math.nan, verdict_code="not_reported"),
                       _row(name="E", supplementary=True, verdict_code="worse")])
    text = at_a_glance(df, "2024/25 Q4", verdicts)
    assert text == ("Of the 4 budget KPIs for 2024/25 Q4: 2 worse, and a real change; 1 normal ups and "
                    "downs; 1 cannot be reported. Worse than last year, a real change: B; C.")


def test_at_a_glance_names_every_kpi_whose_verdict_says_worse_and_why():
    from kpi_lib.analyse.verdicts import VERDICTS
    df = pd.DataFrame([
        _row(kpi_id="a", name="A", verdict_code="worse", verdict_direction="worse"),
        _row(kpi_id="b", name="B", verdict_code="missing_target", verdict_direction="worse",
             verdict="Missing target; worse than the same quarter last year, a real change"),
        _row(kpi_id="c", name="C", verdict_code="unusual", verdict_direction="worse"),
        _row(kpi_id="d", name="D", verdict_code="trend", verdict_direction="better")])
    text = at_a_glance(df, "2024/25 Q4", VERDICTS)
    assert text.endswith("Worse than last year, a real change: A. Missing target: B. Unusual on the chart, "
                         "or a real change where neither direction is better: C.")


def test_a_yes_no_measure_no_longer_met_is_counted_without_claiming_a_test():
    """Financial outturn "no this year, yes last year": counted as "worse: a yes/no measure no
    longer met" and listed under "No longer met", never under "a real change"."""
    from kpi_lib.analyse.verdicts import VERDICTS
    df = pd.DataFrame([
        _row(kpi_id="outturn", name="Outturn", unit="flag", verdict_code="answer_worse", verdict_direction="worse",
             verdict="Worse: not met this year, met last year"),
        _row(kpi_id="a", name="A", verdict_code="worse", verdict_direction="worse")])
    text = at_a_glance(df, "2024/25 Q4", VERDICTS)
    assert text == ("Of the 2 budget KPIs for 2024/25 Q4: 1 worse, a real change; 1 worse: a yes/no measure no "
                    "longer met. Worse than last year, a real change: A. No longer met (a yes/no measure: no test "
                    "is needed): Outturn.")


def test_reported_coverage_counts_regular_headline_kpis():
    from kpi_lib.config.catalogue import load_catalogue
    from kpi_lib.present.narrative import reported_coverage
    cat = load_catalogue()
    df = pd.DataFrame([{"kpi_id": k.id, "headline": True, "status": "reported"} for k in cat])
    df.loc[df["kpi_id"] == "carbon_footprint", "status"] = "not_yet_available"
    # 23 regular budget KPIs (25 less outturn and VFM); carbon not reported -> 22 of 23
    assert reported_coverage(df, cat) == (22, 23)


# ------------------------------------------------------------------------------ one-page summary
def _verdicts():
    from kpi_lib.analyse.verdicts import Verdict
    return {"better": Verdict("⊕", "Better, and a real change", "circled plus"),
            "worse": Verdict("⊖", "Worse, and a real change", "circled minus"),
            "normal": Verdict("○", "Normal ups and downs", "open circle"),
            "too_early": Verdict("◔", "Too early to tell", "quarter-filled circle")}


def _kpi_rows():
    """Headline rows for three budget KPIs, deliberately given in reverse Table 1 order."""
    return pd.DataFrame([
        {"kpi_id": "rape_volume", "name": "Volume of rape offences", "headline": True, "status": "reported",
         "value": 314.0, "unit": "count", "basis": "", "change_last_year": 51.0, "change_last_year_pct": 19.39,
         "last_year_value": 263.0, "last_year_finding": "higher",
         "last_year_words": "higher, a real change (q = 0.030)",
         "last_year_test": "exact test for two Poisson counts", "last_year_p_value": 0.0301,
         "last_year_significant": 1.0, "spc_variation": "concern_high",  # the chart alone would say worse
         "verdict_code": "normal", "verdict": "Normal ups and downs (the chart and the test disagree)"},
        {"kpi_id": "trc_charge_rate", "name": "TRC - % outcome 1 & 1A", "headline": True, "status": "reported",
         "value": 8.04, "unit": "percent", "basis": "cohort", "change_last_year": 1.5, "change_last_year_pct": math.nan,
         "last_year_value": 6.54, "comparator_age_days": 45.0, "provisional": True,
         "last_year_test": "two-proportion z-test", "last_year_p_value": 0.2, "last_year_significant": 0.0,
         "verdict_code": "too_early", "verdict": "Too early to tell (43% of outcomes pending)"},
        {"kpi_id": "trc_charge_rate", "name": "TRC - % outcome 1 & 1A", "headline": False, "status": "reported",
         "value": 99.0, "unit": "percent", "basis": "in_period", "verdict_code": "better", "verdict": "x"},
        {"kpi_id": "victim_satisfaction", "name": "% of victims satisfied with service", "headline": True,
         "status": "not_yet_available", "value": math.nan, "unit": "percent", "basis": "",
         "change_last_year": math.nan, "change_last_year_pct": math.nan,
         "verdict_code": "not_reported", "verdict": "Cannot be reported: not yet available for this period"},
    ])


def _history():
    rows = []
    for i, v in enumerate([10, 11, 12, math.nan, 9, 8, 7.5, 8.04, 6.0]):  # 9 quarters: first is dropped
        rows.append({"kpi_id": "trc_charge_rate", "basis": "cohort", "quarter": f"Q{i}",
                     "period_start": f"2023-{i + 1:02d}-01", "value": v, "unit": "percent",
                     "status": "not_yet_available" if math.isnan(v) else "reported"})
        rows.append({"kpi_id": "trc_charge_rate", "basis": "in_period", "quarter": f"Q{i}",
                     "period_start": f"2023-{i + 1:02d}-01", "value": 50.0, "unit": "percent", "status": "reported"})
    return pd.DataFrame(rows)


def test_plain_names_for_the_one_page_summary():
    from kpi_lib.config.catalogue import load_catalogue
    from kpi_lib.present.summary import plain_name
    names = {k.id: plain_name(k) for k in load_catalogue()}
    assert names["trc_charge_rate"] == "Total recorded crime: % charged or summonsed"
    assert names["rape_charge_rate"] == "Rape: % charged or summonsed"
    assert names["confidence_overall"] == "Overall confidence"
    assert names["trc_volume"] == "Volume of total recorded crime"
    assert names["finance_vfm_unqualified"].startswith("Unqualified annual value for money conclusion")


def test_sparkline_series_runs_from_the_same_quarter_last_year_on_the_judged_basis():
    from kpi_lib.present.summary import sparkline_ends, sparkline_series
    s = sparkline_series(_history(), "trc_charge_rate", "cohort")
    assert s["label"].tolist() == [f"Q{i}" for i in range(4, 9)]
    assert s["value"].tolist() == [9, 8, 7.5, 8.04, 6.0]
    assert sparkline_ends(s, "percent") == ("9.0%", "6.0%")  # the same quarter a year apart
    # a cohort rate is drawn at the same age as the latest quarter when the history has it
    same_age = _history().assign(same_age_value=lambda h: h["value"] - 0.5)
    assert sparkline_series(same_age, "trc_charge_rate", "cohort")["value"].tolist() == pytest.approx([8.5, 7.5, 7.0, 7.54, 5.5])
    assert sparkline_series(None, "trc_charge_rate", "cohort").empty
    # no value a year before: only the latest value is shown
    gap = _history()
    gap.loc[gap["quarter"] == "Q4", "status"] = "not_in_data"
    assert sparkline_ends(sparkline_series(gap, "trc_charge_rate", "cohort"), "percent") == ("", "6.0%")


def test_sparkline_alt_text_and_svg():
    from kpi_lib.present.summary import sparkline_alt, sparkline_series, sparkline_svg
    s = sparkline_series(_history(), "trc_charge_rate", "cohort", n=8)
    alt = sparkline_alt(s, "percent", "TRC charged")
    assert alt == ("TRC charged, Q1 to Q8: 6.0% now; lowest 6.0% (Q8), highest 12.0% (Q2). 1 quarter "
                   "not in the data or not reported.")
    assert sparkline_alt(sparkline_series(_history(), "trc_charge_rate", "cohort"), "percent", "TRC", True) == \
        ("TRC, Q4 to Q8, each quarter counted at the same age as the latest: 9.0% a year before, 6.0% now; "
         "lowest 6.0% (Q8), highest 9.0% (Q4).")
    svg = sparkline_svg(s, alt)
    assert svg.startswith('<svg class="spark" role="img" aria-label="TRC charged, Q1 to Q8')
    assert svg.count("<polyline") == 2  # a gap where the quarter was not reported
    assert "<title>TRC charged" in svg and svg.count("<circle") == 1
    assert sparkline_svg(s.iloc[:0], "none").endswith("</svg>")


def test_plain_test_words_and_no_raw_unit_codes():
    from kpi_lib.present.narrative import significance_words
    from kpi_lib.present.summary import plain_test_word
    assert plain_test_word(0.01, 1.0) == "a real change"
    assert plain_test_word(0.3, 0.0) == "could be chance"
    assert plain_test_word(math.nan, math.nan) == "not tested"
    assert plain_test_word(0.043, 0.0, "not_confirmed") == "possibly, not confirmed"
    assert significance_words("no test for a change in tco2e", math.nan, math.nan) == \
        "no test for a change in tonnes of CO2e"
    assert "flag" not in significance_words("no test for a change in flag", math.nan, math.nan)


def test_a_yes_no_change_is_said_in_words():
    from kpi_lib.present.narrative import format_change
    assert format_change(-1.0, math.nan, "flag") == "from Yes to No"
    assert format_change(1.0, math.nan, "flag") == "from No to Yes"
    assert format_change(0.0, math.nan, "flag") == "no change"


def test_spell_out_abbreviations_at_first_use():
    from kpi_lib.present.summary import spell_out
    assert spell_out("Unqualified annual VFM conclusion") == "Unqualified annual value for money (VFM) conclusion"
    assert spell_out("Integration into Force PMF; PMF") == \
        "Integration into Force performance management framework (PMF); PMF"


def test_verdict_table_shows_the_verdict_as_given_in_table_1_order():
    from kpi_lib.config.catalogue import load_catalogue
    from kpi_lib.present.summary import verdict_table
    t = verdict_table(_kpi_rows(), load_catalogue(), _history(), _verdicts())
    assert t["kpi_id"].tolist() == ["victim_satisfaction", "trc_charge_rate", "rape_volume"]
    rape = t.set_index("kpi_id").loc["rape_volume"]
    # shown exactly as kpis.csv says, although the SPC column alone would suggest "worse"
    assert (rape["verdict_code"], rape["verdict_symbol"], rape["verdict"]) == \
        ("normal", "○", "Normal ups and downs (the chart and the test disagree)")
    assert rape["latest"] == "314" and rape["vs_last_year"] == "+51 (+19.4%) on 263"
    # the stored answer says what the test means; no "could be chance" or "a real change" after it
    assert rape["last_year_test"] == ("Higher, a real change (q = 0.030). exact test for two Poisson counts, "
                                      "p = 0.030")
    assert rape["question"] == "" and rape["anchor"] == "kpi-rape_volume"
    rate = t.set_index("kpi_id").loc["trc_charge_rate"]
    assert rate["value"] == 8.04 and rate["question"] == (
        "Total recorded crime: % charged or summonsed, 8.0% so far: too early to tell. When will enough "
        "outcomes be known to judge it?")
    # the comparator it was judged against, and the change as the difference of the values shown
    assert rate["latest"] == "8.0% (cohort, provisional)"
    assert rate["vs_last_year"] == "+1.5 points on 6.5% at the same age"
    assert rate["last_year_test_short"] == "p = 0.200, chance"
    sat = t.set_index("kpi_id").loc["victim_satisfaction"]
    assert sat["latest"] == "Not yet available" and math.isnan(sat["value"]) and sat["last_year_test"] == ""


def test_verdict_table_html_links_each_kpi_and_escapes_text():
    from kpi_lib.config.catalogue import load_catalogue
    from kpi_lib.present.summary import verdict_table, verdict_table_html
    rows = _kpi_rows()
    rows.loc[0, "verdict"] = "<script>x</script>"
    html = verdict_table_html(verdict_table(rows, load_catalogue(), _history(), _verdicts()), "Caption")
    assert '<th scope="row"><a href="#kpi-rape_volume">Volume of rape offences</a></th>' in html
    assert '<td class="latest" data-value="314.0"><span class="cell-label">Latest: </span>314</td>' in html
    # the verdict comes second, after the KPI name; the test's name is in a title, not the cell text
    assert html.index('<td class="verdict">') < html.index('<td class="latest"')
    assert 'title="Higher, a real change (q = 0.030). exact test for two Poisson counts, p = 0.030"' in html
    assert '<span class="test-plain">a real change</span>' in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
    assert 'role="region" aria-label="Caption" tabindex="0"' in html
    assert html.count("<tr data-kpi=") == 3
    # a yes/no measure no longer met is shaded as worse, as a tested change for the worse is
    rows.loc[rows["kpi_id"] == "rape_volume", ["verdict_code", "verdict_direction"]] = ["answer_worse", "worse"]
    html = verdict_table_html(verdict_table(rows, load_catalogue(), _history(), _verdicts()), "Caption")
    assert '<tr data-kpi="rape_volume" data-verdict="answer_worse" class="v-answer_worse v-worse">' in html


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["better", "worse", "normal", "too_early", "weird_code", ""]),
                          st.text(min_size=0, max_size=40)), min_size=3, max_size=3))
def test_the_summary_never_recomputes_a_verdict(pairs):
    """Whatever verdict_code and words kpis.csv holds, the summary shows those words (or says
    there is no verdict), and a symbol only from the one symbol set."""
    from kpi_lib.config.catalogue import load_catalogue
    from kpi_lib.present.summary import NO_VERDICT, verdict_table
    rows = _kpi_rows()
    head = rows.index[rows["headline"]]
    for i, (code, words) in zip(head, pairs, strict=True):
        rows.loc[i, "verdict_code"], rows.loc[i, "verdict"] = code, words
    t = verdict_table(rows, load_catalogue(), None, _verdicts()).set_index("kpi_id")
    for i, (code, words) in zip(head, pairs, strict=True):
        r = t.loc[rows.loc[i, "kpi_id"]]
        if not code:
            assert r["verdict"] == NO_VERDICT and r["verdict_symbol"] == "–"
        else:
            expected = words.strip() or (_verdicts()[code].label if code in _verdicts() else code)
            assert r["verdict"] == expected
            assert r["verdict_symbol"] == (_verdicts()[code].symbol if code in _verdicts() else "–")


# ------------------------------------------------------------------------------ report sections
def test_year_table_lists_every_kpi_with_a_verdict_against_the_previous_year():
    from kpi_lib.config.catalogue import load_catalogue
    from kpi_lib.present.report import year_table
    year = pd.DataFrame([
        {"kpi_id": "rape_volume", "period": "2024/25", "headline": True, "status": "reported", "value": 1250.0,
         "last_year_value": 1100.0, "change_last_year": 150.0, "change_last_year_pct": 13.64,
         "last_year_test": "exact test for two Poisson counts", "last_year_p_value": 0.004,
         "last_year_significant": 1.0, "verdict_code": "worse", "verdict": "Worse, and a real change"},
        {"kpi_id": "trc_volume", "period": "2024/25", "headline": True, "status": "reported", "value": 80000.0,
         "last_year_value": 80000.0, "change_last_year": 0.0, "change_last_year_pct": 0.0,
         "last_year_test": "exact test for two Poisson counts", "last_year_p_value": 1.0,
         "last_year_significant": 0.0, "verdict_code": "", "verdict": ""},  # no verdict: not listed
    ])
    t = year_table(year, load_catalogue())
    assert t.to_dict("records") == [{"KPI": "Volume of rape offences", "The year": "1,250", "Previous year": "1,100",
                                     "Change": "+150 (+13.6%)", "Is the change real?": "a real change",
                                     "Verdict": "Worse, and a real change"}]
    # a cohort rate shows its basis beside the year's value and its comparator's age
    rate = pd.DataFrame([{"kpi_id": "trc_charge_rate", "period": "2024/25", "headline": True, "status": "reported",
                          "basis": "cohort", "value": 9.712, "last_year_value": 7.996, "comparator_age_days": 45.0,
                          "change_last_year": 1.716, "last_year_finding": "higher", "provisional": False,
                          "verdict_code": "better", "verdict": "Better than last year, a real change"}])
    row = year_table(rate, load_catalogue()).iloc[0]
    assert (row["The year"], row["Previous year"], row["Change"]) == ("9.7% (cohort)", "8.0% at the same age",
                                                                     "+1.7 points")
    # a yes/no measure that switched: no test is claimed, in the year table as in the summary
    outturn = pd.DataFrame([{"kpi_id": "finance_outturn_within_budget", "period": "2024/25", "headline": True,
                             "status": "reported", "unit": "flag", "value": 0.0, "last_year_value": 1.0,
                             "change_last_year": -1.0, "last_year_finding": "lower", "verdict_code": "answer_worse",
                             "verdict": "Worse: not met this year, met last year"}])
    row = year_table(outturn, load_catalogue()).iloc[0]
    assert (row["Change"], row["Is the change real?"]) == ("from Yes to No", "a yes/no answer: no test needed")


def test_settings_are_a_readable_table_without_paths():
    from kpi_lib.present.report import settings_table
    t = settings_table({"headline_basis": "cohort", "charge_outcome_types": ["1", "1A"], "timezone": None,
                        "spc_grain": {"crime": "month"}, "peers_file": "/home/x/peers.yaml",
                        "spc_seasonal": ["trc_volume"], "grade1_target_minutes": 15},
                       {"trc_volume": "Volume of total recorded crime"})
    assert t.to_dict("records") == [
        {"Setting": "Outcome types counted as charged or summonsed", "Value": "1, 1A"},
        {"Setting": "Grade 1 (emergency) attendance target, minutes", "Value": "15"},
        {"Setting": "Headline basis for outcome rates", "Value": "cohort"},
        {"Setting": "Chart points (month or quarter), by section", "Value": "crime volumes and charge/summons outcomes: month"},
        {"Setting": "Measures whose chart limits allow for the seasons", "Value": "Volume of total recorded crime"},
        {"Setting": "Time zone", "Value": "not set"}]


def test_what_changed_says_so_when_there_is_nothing_to_compare(tmp_path):
    from kpi_lib.config.catalogue import load_catalogue
    from kpi_lib.core.periods import Period
    from kpi_lib.present.report import ReportRun, changes_html
    rep = ReportRun(Period.parse("2024/25 Q4"), tmp_path, pd.DataFrame(), pd.DataFrame(), None, load_catalogue(), {})
    assert changes_html(rep) == ('<h2 id="changes">What changed since the last report</h2><p>This is the first '
                                 "report in this series, so there is no earlier report to compare with.</p>")


def test_table1_separates_not_yet_from_not_available_from_this_source(tmp_path):
    from kpi_lib.config.catalogue import load_catalogue
    from kpi_lib.core.periods import Period
    from kpi_lib.present.report import ReportRun, table1_html
    cat = load_catalogue()
    rows = []
    for k in cat:
        status = {"rape_volume": "not_available_from_source", "finance_vfm_unqualified": "not_yet_available"}.get(k.id, "reported")
        rows.append({"kpi_id": k.id, "name": k.name, "headline": True, "supplementary": k.supplementary,
                     "status": status, "value": 1.0 if status == "reported" else math.nan, "unit": k.unit,
                     "basis": "", "note": "why" if status != "reported" else "", "numerator": math.nan,
                     "denominator": math.nan, "sample_n": math.nan, "change_last_year": math.nan,
                     "change_last_year_pct": math.nan, "change_12m": math.nan, "change_12m_pct": math.nan,
                     "spc_variation": "common_cause", "spc_assurance": "no_target", "frequency": k.frequency,
                     "verdict_code": "normal", "verdict": "Normal ups and downs"})
    rep = ReportRun(Period.parse("2024/25 Q4"), tmp_path, pd.DataFrame(rows), pd.DataFrame(), None, cat, {})
    page = table1_html(rep)
    cannot, source = page.split("<strong>Not available from this source</strong>")
    assert ("<strong>Unqualified annual value for money conclusion is received from the external auditors</strong>: "
            "not yet available. why") in cannot
    assert "23 of 25 budget KPIs reported this quarter; not reported: Volume of rape offences" in cannot
    assert "(annual, not yet due)" in cannot and "Status in the 2023 paper" in page
    assert "Volume of rape offences" not in cannot.split("Cannot be reported this period")[1]
    assert "<li><strong>Volume of rape offences</strong>: not available from this source. why</li>" in source
    assert page.count('<tr data-kpi="') == 25


def test_the_change_column_compares_the_shown_values_and_names_the_comparator():
    from kpi_lib.present.summary import comparator_text
    row = {"status": "reported", "value": 85.14, "last_year_value": 78.96}
    assert comparator_text(row, "percent") == "+6.1 points on 79.0%"  # 85.1 - 79.0, never +6.2
    aged = {**row, "comparator_age_days": 45.0}
    assert comparator_text(aged, "percent") == "+6.1 points on 79.0% at the same age"
    assert comparator_text({"status": "reported", "value": 0.0, "last_year_value": 1.0}, "flag") == "from Yes to No"
    gap = {"status": "reported", "value": 5.0, "last_year_value": math.nan, "last_year_finding": "not_comparable",
           "last_year_words": "not comparable: 2024/25 Q3 is not in the data"}
    assert comparator_text(gap, "count") == "Not comparable: 2024/25 Q3 is not in the data"
