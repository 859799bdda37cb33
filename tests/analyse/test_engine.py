"""The entry point on the sample: every catalogue id for every quarter with a valid status and
plausible values; invariants as property tests (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_lib import breakdowns, compute
from kpi_lib.analyse.engine import STATUSES
from kpi_lib.config.catalogue import load_catalogue
from kpi_lib.config.categories import load_categories
from kpi_lib.config.params import load_params
from kpi_lib.core.periods import Period, quarter_range
from kpi_lib.core.windows import period_window
from kpi_lib.inputs.canonical import Tables
from kpi_lib.measure.families import crime

IDS = [k.id for k in load_catalogue()]
PARAMS = load_params()


@pytest.fixture(scope="module")
def q4(small_panel, config):
    return compute("2024/25 Q4", small_panel, config)


def test_every_catalogue_id_with_a_valid_status(q4):
    assert set(IDS) == set(q4["kpi_id"])
    assert q4["status"].isin(STATUSES).all()
    assert (q4[q4["headline"]].groupby("kpi_id").size() == 1).all()


@pytest.mark.integration
@pytest.mark.parametrize("period", [str(p) for p in quarter_range("2019/20 Q1", "2024/25 Q4")][::5] + ["2023/24"])
def test_every_quarter_has_every_id(small_panel, config, period):
    r = compute(period, small_panel, config)
    assert set(IDS) == set(r["kpi_id"]) and r["status"].isin(STATUSES).all()


def test_statuses_say_why(q4):
    by = q4[q4["headline"]].set_index("kpi_id")
    assert by.loc["finance_vfm_unqualified", "status"] == "not_yet_available"  # not received yet
    assert by.loc["calls_999_within_10s", "status"] == "reported"
    q2 = compute("2024/25 Q2", Tables(frames={}, ledger=[], folder=""))
    assert (q2["status"] != "reported").all()


def test_plausible_ranges_on_the_sample(q4):
    by = q4[q4["headline"]].set_index("kpi_id")["value"]
    assert 60 <= by["victim_satisfaction"] <= 85
    assert 5 <= by["trc_charge_rate"] <= 15
    assert 70 <= by["calls_999_within_10s"] <= 95
    assert 40 <= by["calls_101_within_30s"] <= 70
    assert 5 <= by["response_grade1_median"] <= 25
    assert 30 <= by["response_grade2_median"] <= 150
    # 5% sample: 86,000 x 0.05 / 4 ~ 1,075 a quarter
    assert 800 <= by["trc_volume"] <= 1400


def test_percentages_and_intervals(q4):
    pct = q4[(q4["unit"] == "percent") & q4["value"].notna() & q4["ci_low"].notna()]
    assert len(pct) > 10
    assert ((pct["value"] >= 0) & (pct["value"] <= 100)).all()
    assert ((pct["ci_low"] <= pct["value"]) & (pct["value"] <= pct["ci_high"])).all()


def test_category_volumes_never_exceed_total(q4):
    by = q4[q4["headline"]].set_index("kpi_id")["value"]
    parts = ["vwi_volume", "rape_volume", "robbery_volume", "burglary_residential_volume", "vehicle_crime_volume"]
    assert sum(by[p] for p in parts) <= by["trc_volume"]
    assert by["domestic_abuse_volume"] <= by["trc_volume"]


def test_local_areas_add_up_to_the_total(small_panel, config, q4):
    bd = breakdowns("2024/25 Q4", small_panel, config)
    areas = bd[(bd["kpi_id"] == "trc_volume") & (bd["dimension"] == "local area")]
    assert areas["value"].sum() == q4.set_index("kpi_id").loc["trc_volume", "value"]


def test_at_q4_the_12_month_change_is_real_exactly_where_the_year_tables_change_is(small_panel, config, q4):
    """At Q4 the rolling 12 months are the financial year: the 12-month tests are the year's tests
    against last year, and a 12-month change is "a real change" by the same rule (q below 0.05
    across the report's tests), so kpis.csv, the spreadsheet and the year table agree."""
    year = compute("2024/25", small_panel, config).set_index(["kpi_id", "basis"])
    quarter = q4.set_index(["kpi_id", "basis"])
    tested = quarter.index[quarter["change_12m_p_value"].notna()]
    assert len(tested) > 10
    assert list(tested) == list(year.index[year["last_year_p_value"].notna()])
    np.testing.assert_allclose(quarter.loc[tested, "change_12m_p_value"], year.loc[tested, "last_year_p_value"])
    assert list(quarter.loc[tested, "change_12m_significant"]) == list(year.loc[tested, "last_year_significant"])


def test_comparisons_match_the_earlier_periods(small_panel, config, q4):
    last_year = compute("2023/24 Q4", small_panel, config).set_index(["kpi_id", "basis"])
    now = q4.set_index(["kpi_id", "basis"])
    for key in [("trc_volume", ""), ("calls_999_within_10s", ""), ("response_grade1_median", "")]:
        assert now.loc[key, "last_year_value"] == pytest.approx(last_year.loc[key, "value"])
        assert now.loc[key, "change_last_year"] == pytest.approx(now.loc[key, "value"] - last_year.loc[key, "value"])


@pytest.mark.integration
def test_same_inputs_same_table(small_tables, config, q4):
    again = compute("2024/25 Q4", small_tables, config)  # measured again from the tables
    pd.testing.assert_frame_equal(q4, again)


# ------------------------------------------------------------------- properties of crime counts
codes = st.sampled_from(["8N", "105A", "19C", "34B", "28E", "45", "126", "AF", "46"])
outcome = st.sampled_from(["0", "1", "1A", "2", "8", "14", "18"])


@st.composite
def crime_records(draw):
    n = draw(st.integers(1, 60))
    days = draw(st.lists(st.integers(0, 364), min_size=n, max_size=n))
    rec = pd.DataFrame({
        "crime_ref": [f"C{i}" for i in range(n)],
        "recorded_date": pd.to_datetime("2023-04-01") + pd.to_timedelta(days, unit="D"),
        "offence_code": draw(st.lists(codes, min_size=n, max_size=n)),
        "domestic_abuse": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        "local_area": draw(st.lists(st.sampled_from(["A", "B"]), min_size=n, max_size=n)),
    })
    types = draw(st.lists(outcome, min_size=n, max_size=n))
    lag = draw(st.lists(st.integers(0, 200), min_size=n, max_size=n))
    out = pd.DataFrame({"crime_ref": rec["crime_ref"], "outcome_type": types,
                        "outcome_date": rec["recorded_date"] + pd.to_timedelta(lag, unit="D")})
    out.loc[out["outcome_type"] == "0", "outcome_date"] = pd.NaT
    return rec, out, draw(st.randoms())


def _measure(rec, out):
    counts = crime.counts_from_records(rec, out, load_categories(), None, crime.crime_kpis(load_catalogue()))
    counts.first, counts.last_exclusive = Period(2023).start, Period(2024).end_exclusive
    return crime.measure(counts, [period_window(Period(2023, q)) for q in (1, 2, 3, 4)] + [period_window(Period(2023))],
                         PARAMS)


@pytest.mark.integration
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crime_records())
def test_shuffling_rows_changes_nothing(data):
    rec, out, rnd = data
    a = _measure(rec, out)
    idx = list(range(len(rec)))
    rnd.shuffle(idx)
    b = _measure(rec.iloc[idx].reset_index(drop=True), out.iloc[idx[::-1]].reset_index(drop=True))
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.integration
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crime_records())
def test_rates_bounded_and_quarters_add_to_the_year(data):
    rec, out, _ = data
    m = _measure(rec, out)
    rates = m[m["kpi_id"].str.endswith("rate") & m["value"].notna()]
    cohort = rates[rates["basis"] == "cohort"]
    assert ((cohort["value"] >= 0) & (cohort["value"] <= 100)).all()
    assert ((cohort["ci_low"] <= cohort["value"]) & (cohort["value"] <= cohort["ci_high"])).all()
    # in-period is a ratio (outcomes may belong to earlier crimes): never negative, no interval
    in_period = rates[rates["basis"] == "in_period"]
    assert (in_period["value"] >= 0).all() and in_period["ci_low"].isna().all()
    vol = m[m["kpi_id"] == "trc_volume"]
    assert vol[vol["window_kind"] == "quarter"]["value"].sum() == vol[vol["window_kind"] == "year"]["value"].iloc[0]
    assert vol[vol["window_kind"] == "year"]["value"].iloc[0] == (rec["offence_code"] != "AF").sum()
    cats = m[m["kpi_id"].isin(["vwi_volume", "rape_volume", "robbery_volume", "burglary_residential_volume",
                               "vehicle_crime_volume"]) & (m["window_kind"] == "year")]["value"].sum()
    assert cats <= vol[vol["window_kind"] == "year"]["value"].iloc[0]
    assert np.isfinite(m.loc[m["kpi_id"] == "trc_volume", "value"]).all()


@pytest.mark.integration
def test_year_table_equals_each_quarter_computed_alone(small_panel, config):
    from kpi_lib.analyse.engine import year_quarters
    table = year_quarters("2023/24", small_panel, config).set_index("kpi_id")
    for q in (1, 4):
        r = compute(Period(2023, q), small_panel, config)
        head = r[r["headline"]].set_index("kpi_id")
        for kpi in ("trc_volume", "trc_charge_rate", "calls_999_within_10s", "response_grade2_median"):
            assert table.loc[kpi, f"Q{q}"] == pytest.approx(head.loc[kpi, "value"])


@pytest.mark.integration
def test_rolling_12_months_is_the_sum_of_four_quarters(small_panel, config, q4):
    # an independent route: the four quarters to 2024/25 Q4, each computed alone, added up
    quarters = [Period(2024, q) for q in (1, 2, 3, 4)]
    total = sum(compute(p, small_panel, config).set_index("kpi_id").loc["trc_volume", "value"] for p in quarters)
    before = sum(compute(p, small_panel, config).set_index("kpi_id").loc["trc_volume", "value"]
                 for p in [Period(2023, q) for q in (1, 2, 3, 4)])
    row = q4.set_index("kpi_id").loc["trc_volume"]
    assert row["rolling12_value"] == total and row["previous12_value"] == before
    assert row["change_12m_pct"] == pytest.approx(100 * (total - before) / before)


def test_each_family_charts_at_its_own_grain_unless_the_setting_says_otherwise(q4, small_panel, config):
    """Month where records allow, quarter for the two surveys, no chart for finance (as each
    family declares); ``spc_grain: {crime: quarter}`` changes the crime charts only."""
    from dataclasses import replace
    grain = q4[q4["headline"]].groupby("family")["spc_grain"].agg(set).to_dict()
    assert grain == {"crime": {"month"}, "calls": {"month"}, "response": {"month"}, "environment": {"month"},
                     "satisfaction": {"quarter"}, "confidence": {"quarter"}, "finance": {"none"}}
    quarterly = replace(config, params={**config.params, "spc_grain": {"crime": "quarter"}})
    got = compute("2024/25 Q4", small_panel, quarterly, families=["crime", "calls"])
    got = got[got["headline"]].groupby("family")["spc_grain"].agg(set).to_dict()
    assert got == {"crime": {"quarter"}, "calls": {"month"}}


def test_the_catalogue_knows_exactly_the_registered_families():
    from kpi_lib.config.catalogue import FAMILIES as CATALOGUE_FAMILIES
    from kpi_lib.measure.registry import NAMES
    assert sorted(CATALOGUE_FAMILIES) == sorted(NAMES)
