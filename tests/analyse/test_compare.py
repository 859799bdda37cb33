"""The last-year question: the change, its interval and test, the false discovery rate, and the
words; a simulation pins the false-alarm rate of overdispersed counts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kpi_lib.analyse import compare
from kpi_lib.core import stats


def _row(value, **kw) -> dict:
    return {"value": value, "status": "reported", **kw}


def test_a_missing_other_period_is_not_comparable_and_names_it():
    r = compare.last_year_change("count", "", _row(20593.0), {"value": math.nan, "status": "not_in_data"},
                                 days=(92, 92), other_label="2024/25 Q3")
    assert r["finding"] == "not_comparable"
    assert r["reason"] == "not comparable: 2024/25 Q3 is not in the data"
    assert math.isnan(r["change"]) and math.isnan(r["p_value"])


def test_a_count_change_with_overdispersion():
    d = {"dispersion": 1.44, "df": 60.0}
    r = compare.last_year_change("count", "", _row(300.0), _row(250.0), days=(91, 91), other_label="x",
                                 dispersion=d)
    assert r["change"] == 50.0 and r["pct"] == pytest.approx(20.0)
    res = stats.quasi_poisson_change(300, 250, 91, 91, dispersion=1.44, df=60.0)
    assert r["p_value"] == res["p_value"] and r["pct_low"] == res["pct_low"]
    # the interval in crimes is last year's count times the % interval
    assert r["low"] == pytest.approx(250 * res["pct_low"] / 100)
    assert r["test"] == "quasi-Poisson test (dispersion 1.44)"


def test_too_few_events_is_not_enough_data():
    r = compare.last_year_change("count", "", _row(4.0), _row(3.0), days=(91, 91), other_label="x")
    assert r["finding"] == "not_enough_data" and r["reason"] == "not enough data to tell (too few events to test (7))"


def test_a_proportion_change_in_points_with_newcombe_interval():
    r = compare.last_year_change("percent", "cohort", _row(50.0, test_n=100.0), _row(30.0, test_n=100.0),
                                 days=(91, 91), other_label="x")
    assert r["change"] == pytest.approx(20.0)
    assert (r["low"], r["high"]) == pytest.approx((6.44, 32.57), abs=0.02)
    assert r["too_wide"]  # half-width 13 points is wider than the 5-point margin


def test_in_period_rates_and_totals_are_not_tested():
    ip = compare.last_year_change("percent", "in_period", _row(11.0), _row(9.0), days=(91, 91), other_label="x")
    assert ip["finding"] == "not_tested" and "ratio" in ip["reason"]
    money = compare.last_year_change("gbp", "", _row(1.0), _row(2.0), days=(91, 91), other_label="x")
    assert money["finding"] == "not_tested"


def test_a_yes_no_switch_is_a_change_in_itself():
    r = compare.last_year_change("flag", "", _row(0.0), _row(1.0), days=(365, 366), other_label="x")
    assert r["finding"] == "lower"
    assert compare.words("lower", r["reason"], math.nan) == "no this year, yes last year"


def test_a_median_change_uses_the_binned_times():
    a = (np.array([10.0, 12.0, 14.0]), np.array([30, 40, 30]))
    b = (np.array([9.0, 11.0, 13.0]), np.array([30, 40, 30]))
    r = compare.last_year_change("minutes", "", _row(12.0), _row(11.0), days=(91, 91), other_label="x",
                                 times=(*a, *b))
    assert r["test"] == "Mood's median test" and r["change"] == 1.0
    assert r["low"] <= 1.0 <= r["high"] and 0 <= r["p_value"] <= 1


def _frame(rows):
    return pd.DataFrame([{"last_year_p_value": p, "change_last_year": c, "_finding": f, "_too_wide": w,
                          "_reason": reason} for p, c, f, w, reason in rows])


def test_finalise_applies_benjamini_hochberg_across_the_tests():
    df = _frame([(0.001, 5.0, "", False, "95% interval +2.0% to +8.0%"),
                 (0.028, 51.0, "", True, "95% interval +1.0% to +41.1%"),
                 (0.5, -1.0, "", False, "95% interval -3.0% to +2.0%"),
                 (0.9, -2.0, "", True, "95% interval -30% to +40%"),
                 (math.nan, math.nan, "not_comparable", False, "not comparable: 2023/24 Q4 is not in the data")])
    out = compare.finalise(df)
    # q: .001 * 4 / 1 = .004; .028 * 4 / 2 = .056; .5 * 4 / 3 = .667; .9
    assert list(out["last_year_q_value"].round(4)[:4]) == [0.004, 0.056, 0.6667, 0.9]
    # row 2: p < 0.05 but q is not, with a wide interval: possible, not confirmed (not "not enough data")
    assert list(out["last_year_finding"]) == ["higher", "not_confirmed", "no_clear_change", "not_enough_data",
                                              "not_comparable"]
    assert list(out["last_year_significant"][:4]) == [1.0, 0.0, 0.0, 0.0]
    assert math.isnan(out["last_year_significant"].iloc[4])
    assert out["last_year_words"].iloc[0] == "higher, a real change (q = 0.004; 95% interval +2.0% to +8.0%)"
    assert out["last_year_words"].iloc[1] == ("possibly higher, not confirmed once the report's 4 tests are "
                                              "allowed for (p = 0.028, q = 0.06; 95% interval +1.0% to +41.1%)")
    assert out["last_year_words"].iloc[4] == "not comparable: 2023/24 Q4 is not in the data"
    assert not any(c.startswith("_") for c in out.columns)


def test_p_below_005_that_fails_the_false_discovery_rate_is_possible_not_confirmed():
    """A change with plenty of data whose p is below 0.05 but whose q is not is "possibly higher
    (lower), not confirmed", never "not enough data to tell" and never a real change."""
    df = _frame([(0.001, 5.0, "", False, "95% interval +2.0% to +8.0%"),
                 (0.03, -2.0, "", False, "95% interval -3.9 to -0.1 points"),
                 (0.045, 0.3, "", False, "95% interval +0.0 to +0.6 min"),
                 (0.9, -2.0, "", False, "95% interval -9.0% to +8.0%")])
    out = compare.finalise(df)
    # q: .03 * 4 / 2 = .06; .045 * 4 / 3 = .06
    assert list(out["last_year_q_value"].round(4)) == [0.004, 0.06, 0.06, 0.9]
    assert list(out["last_year_finding"]) == ["higher", "not_confirmed", "not_confirmed", "no_clear_change"]
    assert list(out["last_year_significant"]) == [1.0, 0.0, 0.0, 0.0]
    assert out["last_year_words"].iloc[1] == ("possibly lower, not confirmed once the report's 4 tests are allowed "
                                              "for (p = 0.030, q = 0.06; 95% interval -3.9 to -0.1 points)")
    assert out["last_year_words"].iloc[2] == ("possibly higher, not confirmed once the report's 4 tests are allowed "
                                              "for (p = 0.045, q = 0.06; 95% interval +0.0 to +0.6 min)")


def test_a_12_month_change_is_real_only_after_benjamini_hochberg_and_keeps_its_q_value():
    # four tests: sorted .001, .028, .04, .9 -> p * 4 / rank = .004, .056, .0533, .9; each q is the
    # smallest of these from its rank up, so .028 takes .0533 (p below 0.05, q not)
    df = pd.DataFrame({"change_12m_p_value": [0.028, 0.001, math.nan, 0.04, 0.9]})
    out = compare.finalise_12_months(df)
    q = out["change_12m_q_value"]
    assert q.round(4).tolist()[:2] == [0.0533, 0.004] and q.round(4).tolist()[3:] == [0.0533, 0.9]
    assert math.isnan(q[2]) and math.isnan(out["change_12m_significant"][2])
    assert out["change_12m_significant"].tolist()[:2] + out["change_12m_significant"].tolist()[3:] == \
        [0.0, 1.0, 0.0, 0.0]
    assert "change_12m_q_value" not in df  # a copy
    two = compare.finalise_12_months(pd.DataFrame({"change_12m_p_value": [0.028, 0.001]}))
    assert two["change_12m_q_value"].tolist() == [0.028, 0.002] and two["change_12m_significant"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("bound, shown", [
    (-0.030222, "-0.03"),  # rounds to "-0.0" at one decimal: more decimals, until the sign is honest
    (0.0079, "+0.01"), (3.950803, "+4.0"), (-9.6, "-9.6"), (0.0, "0.0"), (0.25, "+0.2"),
    (-0.0004, "-0.0004"),
])
def test_an_interval_bound_shows_its_own_sign(bound, shown):
    assert compare.signed_bound(bound) == shown


def test_an_interval_that_straddles_zero_beside_p_below_005_says_why():
    """The sample's unresourced incidents, 2024/25 against 2023/24: 21,167 against 20,764, a
    leap year before (365 days against 366), dispersion 1.00 on 62 degrees of freedom. By hand:
    log rate ratio r = ln((21167/365)/(20764/366)) = 0.02196, se = sqrt(1/21167 + 1/20764) =
    0.009767, t = 2.248 on 62 df, p = 0.0281; t(62) 97.5% point 1.9990, so per day
    exp(r -/+ 1.999 se) - 1 = +0.24% to +4.2%, and for the count itself (times 365/366) -0.030% to
    +3.95%: the count's interval crosses zero while the per-day test finds p < 0.05."""
    r = compare.last_year_change("count", "", _row(21167.0), _row(20764.0), days=(365, 366), other_label="x",
                                 dispersion={"dispersion": 1.0, "df": 62.0})
    assert round(r["p_value"], 4) == 0.0281
    assert r["reason"] == "95% interval -0.03% to +4.0%; per day, as tested over 365 days against 366, +0.2% to +4.2%"
    # equal days, or an interval that agrees with its test: the interval alone
    same = compare.last_year_change("count", "", _row(300.0), _row(250.0), days=(91, 91), other_label="x")
    assert same["reason"].startswith("95% interval +") and "per day" not in same["reason"]
    leap = compare.last_year_change("count", "", _row(300.0), _row(250.0), days=(90, 91), other_label="x")
    assert "per day" not in leap["reason"]  # p < 0.05 and the interval is above zero: they agree


@pytest.mark.integration  # a simulation: hundreds of series
def test_overdispersed_counts_with_no_change_are_rarely_a_real_change():
    """Counts with dispersion 1.4 and no change (6 years of months, seasons): the quasi-Poisson
    test with the dispersion estimated from each series' own history calls "a real change" in
    at most 6% of series (a plain Poisson test: about 10%)."""
    rng = np.random.default_rng(20240401)
    months = pd.date_range("2019-04-01", "2025-03-01", freq="MS")
    days = months.days_in_month.to_numpy()
    mu = 12 * days * (1 + 0.12 * np.cos(2 * np.pi * (months.month.to_numpy() - 7) / 12))
    real, plain, n = 0, 0, 300
    for _ in range(n):
        y = rng.negative_binomial(mu / 0.4, 1 / 1.4).astype(float)  # variance 1.4 x mean
        cur, old = y[-3:].sum(), y[-15:-12].sum()
        t = (days[-3:].sum(), days[-15:-12].sum())
        r = compare.last_year_change("count", "", _row(cur), _row(old), days=t, other_label="x",
                                     dispersion=stats.count_dispersion(months, y, days))
        # one test alone: its q-value is its p-value
        finding = compare.finding_after_q(r["finding"], r["p_value"], r["change"], r["too_wide"], 0.05)
        real += finding in ("higher", "lower")
        plain += stats.poisson_test(cur, old, *t)["p_value"] < 0.05
    assert real / n <= 0.06
    assert plain > real  # the plain Poisson test is fooled more often: the simulation has bite
