"""The report's opening: key messages that name a figure and its comparator, a question for every
KPI for the Panel's attention (naming its figure, or the date from which it can be judged), and
that date worked out from a hand-made maturity curve."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

from kpi_lib.analyse.maturity import judgeable_from, pending_curve
from kpi_lib.config.catalogue import load_catalogue
from kpi_lib.core.periods import Period
from kpi_lib.present import messages

CATALOGUE = load_catalogue()
KPI = {k.id: k for k in CATALOGUE}


def _row(kpi_id: str, value: float, last_year: float, code: str, **extra) -> dict:
    k = KPI[kpi_id]
    return {"kpi_id": kpi_id, "name": k.name, "period": "2024/25 Q4", "value": value, "unit": k.unit,
            "last_year_value": last_year, "status": "reported", "headline": True, "supplementary": k.supplementary,
            "verdict_code": code, "verdict": extra.pop("verdict", code), "basis": extra.pop("basis", ""),
            "target": k.target, "polarity": k.polarity, **extra}


def _results(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def test_a_real_rise_is_said_with_its_figure_and_comparator():
    row = _row("rape_volume", 314.0, 263.0, "higher", last_year_finding="higher")
    assert messages.change_sentence(KPI["rape_volume"], row, "2024/25 Q4") == (
        "Rape offences rose to 314 from 263 in the same quarter last year; the rise is larger than "
        "chance would explain.")
    row = _row("rape_volume", 250.0, 263.0, "normal", last_year_finding="no_clear_change")
    assert messages.change_sentence(KPI["rape_volume"], row, "2024/25 Q4") == (
        "Rape offences fell to 250 from 263 in the same quarter last year; the fall could be chance.")


def test_a_rate_at_equal_maturity_says_so():
    row = _row("trc_charge_rate", 7.986, 6.504, "better", last_year_finding="higher", basis="cohort",
               comparison_basis="equal maturity: outcomes up to 45 days after each period end")
    assert messages.change_sentence(KPI["trc_charge_rate"], row, "2024/25 Q4") == (
        "Total recorded crime: % charged or summonsed rose to 8.0% from 6.5% in the same quarter last "
        "year (counted at the same age); the rise is larger than chance would explain.")


def test_a_target_a_yes_no_answer_and_a_rate_too_early_to_tell():
    calls = _row("calls_999_within_10s", 88.2038, 88.208, "missing_target")
    assert messages.target_sentence(KPI["calls_999_within_10s"], calls, "2024/25 Q4") == (
        "The share of 999 calls answered within 10 seconds was 88.2% against a target of 90.0% (88.2% "
        "in the same quarter last year).")
    outturn = _row("finance_outturn_within_budget", 0.0, 1.0, "worse", numerator=280_712_000.0,
                   denominator=279_830_000.0)
    assert messages.change_sentence(KPI["finance_outturn_within_budget"], outturn, "2024/25 Q4") == (
        "Financial outturn is within the agreed budget: no for 2024/25 Q4 (yes last year): outturn "
        "£280.71m against a budget of £279.83m.")
    rape = _row("rape_charge_rate", 0.637, 0.38, "too_early", pending_share=75.48, basis="cohort")
    assert messages.too_early_sentence(KPI["rape_charge_rate"], rape, date(2026, 7, 31), 10) == (
        "Rape: % charged or summonsed is 0.6%, with 75% of outcomes still pending: too early to tell; "
        "it can be judged from about July 2026, when fewer than 10% of outcomes will be pending.")


def test_every_kpi_for_attention_has_a_question_naming_its_figure_or_its_date():
    results = _results(
        _row("rape_volume", 314.0, 263.0, "higher", last_year_finding="higher"),
        _row("calls_999_within_10s", 88.2, 88.2, "missing_target"),
        _row("rape_charge_rate", 0.637, 0.38, "too_early", pending_share=75.5, basis="cohort"),
        _row("trc_volume", 19847.0, 19726.0, "normal", last_year_finding="no_clear_change"),
    )
    flagged = set(messages.flagged_kpis(results)["kpi_id"])
    assert flagged == {"rape_volume", "calls_999_within_10s", "rape_charge_rate"}
    asks = dict(messages.questions(results, CATALOGUE, "2024/25 Q4", {"rape_charge_rate": date(2026, 7, 31)}))
    assert set(asks) == flagged
    assert "314" in asks["rape_volume"] and "263" in asks["rape_volume"]
    assert "more victims coming forward" in asks["rape_volume"]  # neither direction is better
    assert "88.2%" in asks["calls_999_within_10s"] and "90.0%" in asks["calls_999_within_10s"]
    assert "judgeable from about July 2026, when fewer than 10% of outcomes will be pending" in asks["rape_charge_rate"]


def test_key_messages_are_at_most_six_and_each_names_a_figure():
    results = _results(
        _row("rape_volume", 314.0, 263.0, "higher", last_year_finding="higher"),
        _row("calls_999_within_10s", 88.2, 88.2, "missing_target"),
        _row("trc_charge_rate", 8.0, 6.5, "better", last_year_finding="higher", basis="cohort"),
        _row("trc_volume", 19847.0, 19726.0, "normal", last_year_finding="no_clear_change"),
    )
    msgs = messages.key_messages(results, CATALOGUE, "2024/25 Q4")
    assert 2 <= len(msgs) <= 6
    assert msgs[0] == ("Of the 4 budget KPIs reported for 2024/25 Q4, 2 call for the Panel's attention, "
                       "1 is better than a year ago and 1 shows no clear change or is as expected.")
    # most urgent first: a missed target, then a real change where neither direction is better
    assert msgs[1].startswith("The share of 999 calls answered within 10 seconds was 88.2%")
    assert msgs[2].startswith("Rape offences rose to 314 from 263")
    assert all(any(ch.isdigit() for ch in m) for m in msgs)


def test_what_changed_since_the_last_report():
    assert messages.changed_sentence(None, "", {}) == "This is the first report in this series."
    none = pd.DataFrame(columns=["kpi_id", "previous_verdict", "verdict"])
    assert messages.changed_sentence(none, "2024/25 Q3", {}) == \
        "No KPI's verdict has changed since the last report (2024/25 Q3)."
    one = pd.DataFrame([{"kpi_id": "rape_volume", "previous_verdict": "Normal ups and downs",
                         "verdict": "Higher, and a real change"}])
    assert messages.changed_sentence(one, "2024/25 Q3", {"rape_volume": "Volume of rape offences"}) == (
        "Since the last report (2024/25 Q3), 1 verdict changed: Volume of rape offences is now "
        "\"Higher, and a real change\" (was \"Normal ups and downs\").")


def _maturity(quarters: list[Period], crimes_per_month: int, days_after_quarter: list[int]) -> tuple[pd.DataFrame, pd.Series]:
    """Every month of each quarter: ``crimes_per_month`` rape crimes; one outcome for each crime
    at each of ``days_after_quarter`` (days after the quarter's end), spread evenly."""
    rows, counts = [], {}
    per = crimes_per_month // len(days_after_quarter)
    for q in quarters:
        for month in pd.date_range(q.start, q.end, freq="MS"):
            counts[month] = crimes_per_month
            month_end = month + pd.offsets.MonthEnd(0)
            for d in days_after_quarter:
                rows.append({"period_start": month, "category": "rape", "outcome_type": "15",
                             "days": d + (pd.Timestamp(q.end) - month_end).days, "count": per})
    return pd.DataFrame(rows), pd.Series(counts)


def test_the_date_from_which_a_rate_can_be_judged_comes_from_the_maturity_curve():
    """Past cohorts: a quarter of the crimes get an outcome 30, 100, 200 and 400 days after the
    quarter ends. So 75% are pending from day 30, 50% from 100, 25% from 200, 0% from 400:
    fewer than 10% pending first on day 400 (worked out by hand), i.e. 31 March 2025 + 400 days."""
    period = Period.parse("2024/25 Q4")
    past = [Period.parse(x) for x in ("2021/22 Q4", "2022/23 Q1", "2022/23 Q2", "2022/23 Q3")]
    maturity, crimes = _maturity(past, 100, [30, 100, 200, 400])
    curve = pending_curve(maturity, crimes, "rape", past)
    assert curve[29] == 100 and curve[30] == 75 and curve[100] == 50 and curve[399] == 25 and curve[400] == 0
    when = judgeable_from(maturity, crimes, "rape", period, date(2025, 5, 15), 10)
    assert when == date(2025, 3, 31) + pd.Timedelta(days=400)
    assert judgeable_from(maturity, crimes, "rape", period, date(2025, 5, 15), 60) == date(2025, 3, 31) + pd.Timedelta(days=100)
    # nothing to learn from (no quarter old enough): no date
    assert judgeable_from(maturity, crimes, "rape", Period.parse("2021/22 Q1"), date(2021, 8, 1), 10) is None


def test_each_rate_too_early_to_tell_gets_the_date_of_its_own_category():
    """The rape charge rate is too early to tell; its date comes from rape crimes (volume KPI of the
    same category) and the rape maturity table; a rate not too early gets no date."""
    past = [Period.parse(x) for x in ("2021/22 Q4", "2022/23 Q1", "2022/23 Q2", "2022/23 Q3")]
    maturity, crimes = _maturity(past, 100, [30, 100, 200, 400])
    measurements = pd.DataFrame({"kpi_id": "rape_volume", "window_kind": "month",
                                 "window_start": crimes.index, "value": crimes.to_numpy()})
    results = _results(_row("rape_charge_rate", 0.6, 0.4, "too_early", pending_share=75.0, basis="cohort"),
                       _row("trc_charge_rate", 8.0, 6.5, "better", basis="cohort"))
    crime_kpis = {"rape_volume": ("rape", "volume"), "rape_charge_rate": ("rape", "charge_rate"),
                  "trc_volume": ("all", "volume"), "trc_charge_rate": ("all", "charge_rate")}
    dates = messages.judgeable_dates(results, maturity, measurements, "2024/25 Q4", date(2025, 5, 15), 60,
                                     crime_kpis)
    assert dates == {"rape_charge_rate": date(2025, 3, 31) + pd.Timedelta(days=100)}
    assert messages.judgeable_dates(results, maturity, measurements, "2024/25", date(2025, 5, 15), 60,
                                    crime_kpis) == {}  # a whole year: no date


@pytest.mark.notebooks
def test_the_sample_report_opens_with_key_messages_and_a_question_for_every_flagged_kpi(quarter_run):
    """In a real run: the first section is the key messages, each naming a figure; every KPI for
    the Panel's attention (the one list, from kpis.csv) has a question naming its latest figure
    as the summary shows it, or, too early to tell, a month from which it can be judged; and the
    one-page summary's question column shows each budget KPI's question in the same words."""
    from bs4 import BeautifulSoup

    from kpi_lib.present.narrative import format_value

    page = BeautifulSoup((quarter_run.out / "report.html").read_text(encoding="utf-8"), "html.parser")
    first = page.select("main h2[id]")[0]
    assert first["id"] == "key-messages"
    msgs = [li.get_text(" ", strip=True) for li in page.select("ul.key-messages li")]
    assert 3 <= len(msgs) <= 6 and all(any(ch.isdigit() for ch in m) for m in msgs)
    results = pd.read_csv(quarter_run.out / "results" / "kpis.csv")
    flagged = messages.flagged_kpis(results)
    flagged = flagged[flagged["kpi_id"].isin([k.id for k in CATALOGUE])]
    asks = {li.find("a")["href"]: li.get_text(" ", strip=True) for li in page.select("ol.questions li")}
    assert len(asks) == len(flagged) > 0
    head = results[results["headline"]].set_index("kpi_id")
    for kpi_id, attention in zip(flagged["kpi_id"], flagged["attention"], strict=True):
        ask = asks[f"#kpi-{kpi_id}"]
        k = KPI[kpi_id]
        assert format_value(head.loc[kpi_id, "value"], k.unit) in ask, (kpi_id, ask)
        if attention == "too_early":
            assert re.search(r"(January|February|March|April|May|June|July|August|September|October|"
                             r"November|December) 20\d\d|When will enough outcomes be known", ask), ask
    # the one-page summary's "Question to ask" column reads the same text as the list at the front
    column = {tr["data-kpi"]: tr.select_one("td.question").get_text(" ", strip=True).removeprefix("Ask: ")
              for tr in page.select("table.verdicts tbody tr")}
    listed = {href.removeprefix("#kpi-"): text.removesuffix(" (chart)") for href, text in asks.items()}
    for kpi_id, text in column.items():
        assert text == listed.get(kpi_id, ""), kpi_id
    assert {k for k, t in column.items() if t} == {k for k in listed if not KPI[k].supplementary}


def test_the_front_shows_one_of_each_kind_before_a_second_of_any():
    """Three KPIs worse, one missing its target, one better: the count, then the first worse, the
    target, the better one, then the second and third worse (limit 6)."""
    results = _results(
        _row("trc_volume", 21000.0, 19000.0, "worse", last_year_finding="higher"),
        _row("rape_volume", 320.0, 263.0, "worse", last_year_finding="higher"),
        _row("robbery_volume", 200.0, 150.0, "worse", last_year_finding="higher"),
        _row("calls_999_within_10s", 88.2, 88.2, "missing_target"),
        _row("trc_charge_rate", 8.0, 6.5, "better", last_year_finding="higher", basis="cohort"),
    )
    msgs = messages.key_messages(results, CATALOGUE, "2024/25 Q4")
    assert len(msgs) == 6
    assert [m.split(" ")[0:2] for m in msgs[1:]] == [
        ["Total", "recorded"], ["The", "share"], ["Total", "recorded"], ["Rape", "offences"], ["Robbery", "offences"]]
    assert msgs[3].startswith("Total recorded crime: % charged or summonsed rose to 8.0% from 6.5%")


def test_no_claim_without_a_test_and_the_charts_finding_in_its_own_words():
    """Not tested (a median): neither "could be chance" nor "larger than chance"; a chart finding
    is added in the stored words; a period not in the data last year says so."""
    row = _row("response_grade2_median", 80.8, 79.1, "unusual", last_year_finding="not_tested",
               spc_finding="outside", spc_words="Above its usual range this quarter")
    assert messages.change_sentence(KPI["response_grade2_median"], row, "2024/25 Q4") == (
        "Median Grade 2 response time rose to 80.8 min from 79.1 min in the same quarter last year; on the "
        "chart, above its usual range this quarter.")
    row = _row("rape_volume", 250.0, 263.0, "unusual", last_year_finding="no_clear_change",
               spc_finding="shift", spc_words="A sustained shift upwards since June 2024")
    assert messages.change_sentence(KPI["rape_volume"], row, "2024/25 Q4") == (
        "Rape offences fell to 250 from 263 in the same quarter last year; the fall could be chance, but on "
        "the chart, a sustained shift upwards since June 2024.")
    row = _row("rape_volume", 250.0, float("nan"), "unclear", last_year_finding="not_comparable",
               last_year_words="not comparable: 2023/24 Q4 is not in the data")
    assert messages.change_sentence(KPI["rape_volume"], row, "2024/25 Q4") == (
        "Rape offences stood at 250 in 2024/25 Q4; not comparable: 2023/24 Q4 is not in the data.")


def test_a_change_not_confirmed_is_neither_chance_nor_real():
    row = _row("response_grade1_median", 12.6, 12.3, "normal", last_year_finding="not_confirmed")
    assert messages.change_sentence(KPI["response_grade1_median"], row, "2024/25 Q4") == (
        "Median Grade 1 response time rose to 12.6 min from 12.3 min in the same quarter last year; the rise is "
        "possibly real but not confirmed once the report's many tests are allowed for.")


def test_a_change_that_shows_as_nothing_is_unchanged_and_a_trend_question_names_the_trend():
    """2,516 against 2,515 is +1 (+0.0%): neither a rise nor a fall; the question on a steady
    trend quotes the trend, not only the year-ago pair."""
    row = _row("vwi_volume", 2516.0, 2515.0, "trend", last_year_finding="no_clear_change", spc_finding="trend",
               spc_words="a steady rise since 2019", verdict_direction="worse")
    assert messages.change_sentence(KPI["vwi_volume"], row, "2024/25 Q4") == (
        "Violence with injury was unchanged at 2,516 (2,515 a year ago); on the chart, a steady rise since 2019.")
    asks = dict(messages.questions(_results(row), CATALOGUE, "2024/25 Q4"))
    assert asks["vwi_volume"] == ("Volume of violence with injury: 2,516, a steady rise since 2019 on the chart "
                                  "(2,515 a year ago). What lies behind the steady trend, and is it expected to "
                                  "continue?")
    # +5 on 2,515 is +0.2%: a rise, as before
    row = _row("vwi_volume", 2520.0, 2515.0, "normal", last_year_finding="no_clear_change")
    assert messages.change_sentence(KPI["vwi_volume"], row, "2024/25 Q4") == (
        "Violence with injury rose to 2,520 from 2,515 in the same quarter last year; the rise could be chance.")


def test_questions_are_short_and_name_the_figure_and_comparator():
    results = _results(
        _row("rape_volume", 314.0, 263.0, "higher", last_year_finding="higher"),
        _row("calls_999_within_10s", 88.2, 87.3, "missing_target", outlook_value=89.0, outlook_p_meet=0.1),
        _row("finance_outturn_within_budget", 0.0, 1.0, "worse", numerator=280_712_000.0,
             denominator=279_830_000.0, last_year_finding="lower"),
    )
    asks = dict(messages.questions(results, CATALOGUE, "2024/25 Q4"))
    assert asks["rape_volume"] == ("Volume of rape offences: 314 against 263 a year ago. Does it reflect more "
                                   "victims coming forward, or more offences, and what is being done?")
    assert asks["calls_999_within_10s"].startswith(
        "% of 999 calls answered within 10 seconds: 88.2% against a target of 90.0%. What is the plan to reach "
        "the target, and by when? The year-end outlook is 89.0%, unlikely to meet the target")
    assert asks["finance_outturn_within_budget"] == (
        "Financial outturn is within the agreed budget: no (yes last year; outturn £280.71m against a budget of "
        "£279.83m). What is behind this, and what will be done?")


# ------------------------------------------------------------------------------ 12 months, one source
def _grade2(**extra) -> dict:
    """The sample's Grade 2 median, 2024/25 Q4: 80.8 min against 79.1 min (Mood's test, no clear
    change); the 12 months to March 2025, 80.583 min against 78.667 min in the 12 before, p =
    5.33e-5, the 6th smallest of the report's 25 twelve-month p-values: q = 5.33e-5 * 25 / 6 =
    0.000222, a real change; a steady rise since 2019 on the chart."""
    fields = {"last_year_finding": "no_clear_change", "spc_finding": "trend", "spc_words": "a steady rise since 2019",
              "verdict_direction": "worse", "period_end": "2025-03-31", "rolling12_value": 80.583333,
              "previous12_value": 78.666667, "change_12m": 1.916667, "change_12m_q_value": 0.000222,
              "change_12m_significant": 1.0}
    return _row("response_grade2_median", 80.8, 79.108333, "trend", **{**fields, **extra})


def test_a_real_12_month_rise_is_asked_about_naming_the_comparison_each_word_rests_on():
    """80.6 - 78.7 = +1.9 min over 12 months (a real change); 80.8 - 79.1 = +1.7 min on the same
    quarter (no clear change): both said, each with its comparison, neither contradicting."""
    asks = dict(messages.questions(_results(_grade2()), CATALOGUE, "2024/25 Q4"))
    assert asks["response_grade2_median"] == (
        "Median Grade 2 response time: 80.8 min, a steady rise since 2019 on the chart (79.1 min a year ago). "
        "Over the 12 months to March 2025 it was 80.6 min, compared with 78.7 min in the 12 months before: "
        "+1.9 min, a real change (q < 0.001). The quarter alone, +1.7 min on the same quarter last year, shows "
        "no clear change. What lies behind the steady trend, and is it expected to continue?")
    msgs = messages.key_messages(_results(_grade2()), CATALOGUE, "2024/25 Q4")
    assert msgs[1] == (
        "Median Grade 2 response time rose to 80.8 min from 79.1 min in the same quarter last year; the rise could "
        "be chance, but on the chart, a steady rise since 2019. Over the 12 months to March 2025 it was 80.6 min, "
        "compared with 78.7 min in the 12 months before: +1.9 min, a real change (q < 0.001).")


def test_a_kpi_flagged_only_for_its_12_months_gets_a_question_and_a_key_message():
    """Nothing on the chart and no clear change on the quarter, but 12 months worse, a real
    change: listed (worse_12m) with a question; a 12-month change that could be chance, or in
    the better direction, is not."""
    quiet = _grade2(verdict="No clear change on a year ago or on the chart", spc_finding="within",
                    spc_words="within its usual range", verdict_direction="")
    quiet["verdict_code"] = "normal"
    better = _row("response_grade1_median", 12.6, 12.3, "normal", last_year_finding="no_clear_change",
                  period_end="2025-03-31", rolling12_value=12.4, previous12_value=12.6, change_12m=-0.2,
                  change_12m_q_value=0.01, change_12m_significant=1.0)
    results = _results(quiet, better)
    assert messages.flagged_kpis(results)[["kpi_id", "attention"]].values.tolist() == \
        [["response_grade2_median", "worse_12m"]]
    asks = dict(messages.questions(results, CATALOGUE, "2024/25 Q4"))
    assert asks == {"response_grade2_median": (
        "Median Grade 2 response time: 80.8 min against 79.1 min a year ago. Over the 12 months to March 2025 it "
        "was 80.6 min, compared with 78.7 min in the 12 months before: +1.9 min, a real change (q < 0.001). The "
        "quarter alone, +1.7 min on the same quarter last year, shows no clear change. What lies behind the "
        "change over the year, and what will be done?")}
    assert any("Over the 12 months to March 2025" in m for m in messages.key_messages(results, CATALOGUE, "2024/25 Q4"))
    # a cohort rate's 12 months before are counted at the same age, and the words say so
    rate = _row("trc_charge_rate", 8.0, 8.4, "normal", basis="cohort", comparator_age_days=45.0,
                last_year_finding="no_clear_change", period_end="2025-03-31", rolling12_value=7.46,
                previous12_value=8.04, change_12m=-0.58, change_12m_q_value=0.004, change_12m_significant=1.0)
    assert messages.twelve_month_sentence(KPI["trc_charge_rate"], rate) == (
        "Over the 12 months to March 2025 it was 7.5%, compared with 8.0% in the 12 months before (counted at the "
        "same age): -0.5 points, a real change (q = 0.004). The quarter alone, -0.4 points on the same quarter "
        "last year, shows no clear change.")


def test_the_summarys_question_column_and_the_questions_list_are_one_text():
    """One function writes both: for each budget KPI the summary table's question equals the
    front's question (figure, comparator, date), and a KPI not listed has none."""
    from kpi_lib.analyse.verdicts import VERDICTS
    from kpi_lib.present.summary import verdict_table
    results = _results(
        _grade2(),
        _row("rape_volume", 314.0, 263.0, "higher", last_year_finding="higher"),
        _row("calls_999_within_10s", 88.2, 88.2, "missing_target", outlook_value=89.0, outlook_p_meet=0.1),
        _row("rape_charge_rate", 0.637, 0.38, "too_early", pending_share=75.5, basis="cohort"),
        _row("finance_outturn_within_budget", 0.0, 1.0, "answer_worse", verdict_direction="worse",
             numerator=280_712_000.0, denominator=279_830_000.0, last_year_finding="lower"),
        _row("trc_volume", 19847.0, 19726.0, "normal", last_year_finding="no_clear_change"),
    )
    when = {"rape_charge_rate": date(2026, 7, 31)}
    asks = dict(messages.questions(results, CATALOGUE, "2024/25 Q4", when, 10.0))
    table = verdict_table(results, CATALOGUE, None, VERDICTS, when, 10.0).set_index("kpi_id")
    assert set(asks) == {"response_grade2_median", "rape_volume", "calls_999_within_10s", "rape_charge_rate",
                         "finance_outturn_within_budget"}
    for kpi_id, ask in asks.items():
        assert table.loc[kpi_id, "question"] == ask
    assert table.loc["trc_volume", "question"] == ""
    assert table.loc["rape_charge_rate", "question"] == (
        "Rape: % charged or summonsed, 0.6% so far: judgeable from about July 2026, when fewer than 10% of "
        "outcomes will be pending. Can the Panel have the figure then?")
    # a yes/no measure no longer met: asked about, and its own flag says no test was needed
    assert table.loc["finance_outturn_within_budget", "last_year_plain"] == "a yes/no answer: no test needed"
