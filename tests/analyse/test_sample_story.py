"""The full synthetic sample's 2024/25 Q4, as the report shows it: one story per KPI (the figures
behind the verdicts, the comparator beside a cohort rate, every list from the verdicts), and the
worked examples of docs/methods.md, which must match this run."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from kpi_lib.analyse import examples
from kpi_lib.analyse.engine import compute_all
from kpi_lib.analyse.verdicts import VERDICTS, flagged
from kpi_lib.config.configuration import load_configuration

from helpers import REPO

pytestmark = pytest.mark.integration  # measures the full sample

CONFIG = load_configuration()
PARAMS = CONFIG.params


@pytest.fixture(scope="module")
def q4(full_panel):
    return compute_all("2024/25 Q4", full_panel, CONFIG)


@pytest.fixture(scope="module")
def head(q4):
    r = q4.results
    return r[r["headline"]].set_index("kpi_id")


def test_the_worked_examples_of_the_methods_match_this_run(q4):
    doc = (REPO / "docs" / "methods.md").read_text(encoding="utf-8")
    made = examples.worked_examples(q4.results)
    assert set(made) == set(examples.blocks(doc))
    assert examples.stale(doc, made) == [], ("docs/methods.md examples differ from the run: refresh them with "
                                             "python -m kpi_lib.analyse.examples docs/methods.md data/sample 2024/25-Q4")


def test_vehicle_crime_drift_is_not_worse(head):
    v = head.loc["vehicle_crime_volume"]
    assert v["verdict_code"] != "worse" and "worse" not in v["verdict"].lower()
    assert v["last_year_finding"] in ("no_clear_change", "not_enough_data")


def test_grade_2_change_on_last_year_has_a_test_p_value_and_interval(head):
    g = head.loc["response_grade2_median"]
    assert g["last_year_test"] == "Mood's median test"
    assert 0 < g["last_year_p_value"] <= 1
    assert g["change_last_year_low"] < g["change_last_year"] < g["change_last_year_high"]


def test_overall_confidence_is_worse_only_if_its_like_for_like_test_says_so(head):
    c = head.loc["confidence_overall"]
    says_worse = "worse" in c["verdict"].lower() or c["verdict_code"] == "worse"
    assert says_worse == (c["last_year_finding"] == "lower")


def test_the_baseline_of_a_quarterly_count_is_the_same_quarter(q4, head):
    t = head.loc["trc_volume"]
    m = q4.measurements
    base = m[(m["kpi_id"] == "trc_volume") & (m["window_kind"] == "quarter")
             & (pd.to_datetime(m["window_start"]) == pd.Timestamp("2020-01-01"))]
    assert t["baseline_period"] == "2019/20 Q4"
    assert t["baseline_value"] == base["value"].iloc[0]
    assert t["change_baseline"] == t["value"] - base["value"].iloc[0]


def test_the_action_taken_rate_has_a_pending_share(q4):
    r = q4.results
    a = r[(r["kpi_id"] == "action_taken_rate") & (r["basis"] == "cohort")].iloc[0]
    trc = r[(r["kpi_id"] == "trc_charge_rate") & (r["basis"] == "cohort")].iloc[0]
    assert a["pending_share"] == trc["pending_share"] > 0
    assert bool(a["provisional"]) == (a["pending_share"] > PARAMS["provisional_pending_pct"])


def test_every_kpi_whose_verdict_says_worse_is_in_every_list(q4):
    from kpi_lib.present.commentary import missing_commentary
    from kpi_lib.present.narrative import at_a_glance
    from kpi_lib.present.summary import plain_name, verdict_table
    results = q4.results
    cat = CONFIG.catalogue
    names = {k.id: plain_name(k) for k in cat}
    head = results[results["headline"]]
    worse = head[(head["verdict_code"] == "worse") | head["verdict"].str.contains("worse", case=False)]
    budget = worse[~worse["supplementary"]]
    sentence = at_a_glance(results, "2024/25 Q4", dict(VERDICTS), names)
    table = verdict_table(results, cat, None, VERDICTS).set_index("kpi_id")
    checklist = missing_commentary(results, {})
    listed = set(flagged(results)["kpi_id"])
    for kpi_id in worse["kpi_id"]:
        assert kpi_id in listed and kpi_id in checklist
    for kpi_id in budget["kpi_id"]:
        assert names[kpi_id] in sentence
        assert table.loc[kpi_id, "question"]
    # and the lists never disagree: every budget KPI with a question is flagged, and vice versa
    asked = set(table.index[table["question"].astype(bool)])
    assert asked == set(flagged(results).query("not supplementary")["kpi_id"])


def test_the_trc_charged_row_shows_its_equal_maturity_comparator(q4, head):
    from kpi_lib.present.summary import verdict_table
    t = head.loc["trc_charge_rate"]
    assert t["comparison_basis"].startswith("equal maturity")
    row = verdict_table(q4.results, CONFIG.catalogue, None, VERDICTS).set_index("kpi_id").loc["trc_charge_rate"]
    shown = f"{t['last_year_value']:.1f}%"
    change = round(round(t["value"], 1) - round(t["last_year_value"], 1), 1)
    assert row["vs_last_year"] == f"{change:+.1f} points on {shown} at the same age"
    assert row["latest"].startswith(f"{t['value']:.1f}% (cohort")


def test_every_test_against_last_year_has_a_q_value_and_real_changes_need_q_below_005(q4):
    r = q4.results
    tested = r["last_year_p_value"].notna()
    assert r.loc[tested, "last_year_q_value"].notna().all()
    assert (r.loc[tested, "last_year_q_value"] >= r.loc[tested, "last_year_p_value"] - 1e-12).all()
    real = r["last_year_finding"].isin(["higher", "lower"]) & (r["unit"] != "flag")
    assert (r.loc[real, "last_year_q_value"] < 0.05).all()
    assert not r.loc[~real & tested, "verdict"].str.contains("real change").any()


def test_no_chart_signal_is_called_a_real_change(q4):
    r = q4.results
    chart_only = r["verdict_code"].isin(["unusual", "trend"])
    assert not r.loc[chart_only, "verdict"].str.contains(r"real change|\bworse\b|\bbetter\b", regex=True).any()
    sampled = r["unit"] != "flag"  # a yes/no switch is a change in itself, not "a real change"
    assert set(r.loc[sampled & r["last_year_finding"].isin(["higher", "lower"]), "kpi_id"]) == \
        set(r.loc[r["verdict"].str.contains("real change"), "kpi_id"])
    assert all(re.search(r"against|last year|on the chart|target|Cannot|Too early", w) for w in r["verdict"])


def _bh_by_hand(p: pd.Series) -> pd.Series:
    """Benjamini-Hochberg written out: sort the m p-values, p * m / rank, then the running
    minimum from the largest rank down (nan stays nan)."""
    tested = p.dropna().sort_values()
    m = len(tested)
    raw = tested.to_numpy() * m / pd.Series(range(1, m + 1)).to_numpy()
    q = pd.Series(raw[::-1]).cummin().to_numpy()[::-1].clip(max=1.0)
    return pd.Series(q, index=tested.index).reindex(p.index)


def test_grade_2s_real_12_month_rise_is_asked_about_beside_the_quarters_no_clear_change(q4, head):
    from kpi_lib.present.messages import questions
    r = q4.results
    q = _bh_by_hand(r["change_12m_p_value"])
    assert (r["change_12m_q_value"] - q).abs().max() < 1e-12
    assert ((r["change_12m_q_value"] < 0.05) == (r["change_12m_significant"] == 1.0))[r["change_12m_p_value"].notna()].all()
    g = head.loc["response_grade2_median"]
    assert g["last_year_finding"] == "no_clear_change" and g["change_12m_q_value"] < 0.001
    r12, p12 = round(g["rolling12_value"], 1), round(g["previous12_value"], 1)
    now, before = round(g["value"], 1), round(g["last_year_value"], 1)
    ask = dict(questions(r, CONFIG.catalogue, "2024/25 Q4"))["response_grade2_median"]
    assert (f"Over the 12 months to March 2025 it was {r12:.1f} min, compared with {p12:.1f} min in the 12 months "
            f"before: {r12 - p12:+.1f} min, a real change (q < 0.001). The quarter alone, {now - before:+.1f} min on "
            "the same quarter last year, shows no clear change.") in ask


def test_financial_outturn_is_worse_without_claiming_a_test_in_every_list(q4):
    from kpi_lib.present.narrative import at_a_glance
    from kpi_lib.present.summary import plain_name, verdict_table
    r = q4.results
    o = r[r["headline"]].set_index("kpi_id").loc["finance_outturn_within_budget"]
    assert (o["verdict_code"], o["verdict"], o["verdict_direction"]) == \
        ("answer_worse", "Worse: not met this year, met last year", "worse")
    f = flagged(r).set_index("kpi_id")
    assert f.loc["finance_outturn_within_budget", "attention"] == "no_longer_met"
    name = plain_name(next(k for k in CONFIG.catalogue if k.id == "finance_outturn_within_budget"))
    text = at_a_glance(r, "2024/25 Q4", dict(VERDICTS), {k.id: plain_name(k) for k in CONFIG.catalogue})
    listed = re.search(r"No longer met \(a yes/no measure: no test is needed\): ([^.]*)\.", text)
    assert listed and name in listed.group(1)
    real = re.search(r"Worse than last year, a real change: ([^.]*)\.", text)
    assert real is None or name not in real.group(1)
    row = verdict_table(r, CONFIG.catalogue, None, VERDICTS).set_index("kpi_id").loc["finance_outturn_within_budget"]
    assert row["question"] and row["last_year_plain"] == "a yes/no answer: no test needed"
