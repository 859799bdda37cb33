"""Intervals and tests, against values worked out by hand (formulas in kpi_lib.core.stats)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_lib.core.stats import (
    kish_effective_n,
    median_interval_ranks,
    median_with_interval,
    poisson_test,
    two_proportion_test,
    weighted_proportion,
    wilson_interval,
)


def test_wilson_5_of_10():
    # p = .5, z^2 = 3.8415: centre = (.5 + .19207)/1.38415 = .5; half = 1.96*sqrt(.025 + .0096)/1.38415
    lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)


def test_wilson_0_of_10_and_10_of_10():
    # 0/10: upper = z^2/n / (1 + z^2/n) = .38415/1.38415 = .2775
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)


def test_wilson_undefined_without_cases():
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_kish_effective_n():
    assert kish_effective_n(np.array([1, 1, 2, 2])) == pytest.approx(36 / 10)
    assert kish_effective_n(np.ones(7)) == pytest.approx(7)


def test_weighted_proportion_by_hand():
    # weights 1,1,2,2; yes on the first and third: (1 + 2) / 6 = 50%; n_eff 3.6
    r = weighted_proportion(np.array([True, False, True, False]), np.array([1, 1, 2, 2]))
    assert r["value"] == pytest.approx(50.0) and r["n"] == 4 and r["n_eff"] == pytest.approx(3.6)
    lo, hi = wilson_interval(1.8, 3.6)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((100 * lo, 100 * hi))


def test_two_proportion_by_hand():
    # 50/100 vs 30/100: pooled .4; se = sqrt(.4 * .6 * .02) = .069282; z = 2.8868; p = .00389
    r = two_proportion_test(50, 100, 30, 100)
    assert r["z"] == pytest.approx(2.8868, abs=1e-4)
    assert r["p_value"] == pytest.approx(0.00389, abs=1e-5)
    assert r["significant"]
    assert not two_proportion_test(52, 100, 50, 100)["significant"]
    assert not two_proportion_test(0, 0, 1, 10)["significant"]


def test_median_interval_ranks_by_hand():
    # n = 10: P(Bin(10,.5) <= 1) = 11/1024 = .0107 <= .025 but P(<= 2) = 56/1024 = .0547 > .025
    assert median_interval_ranks(10) == (2, 9)
    # n = 6: P(<= 0) = 1/64 = .0156 <= .025
    assert median_interval_ranks(6) == (1, 6)
    assert median_interval_ranks(5) is None  # 1/32 = .031 > .025


def test_median_with_interval():
    r = median_with_interval(np.array([10, 1, 9, 2, 8, 3, 7, 4, 6, 5], dtype=float))
    assert r["value"] == 5.5 and (r["ci_low"], r["ci_high"]) == (2.0, 9.0) and r["n"] == 10


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_contains_estimate(x, n):
    x = min(x, n)
    lo, hi = wilson_interval(x, n)
    assert 0 <= lo <= x / n <= hi <= 1


@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=300))
def test_median_interval_contains_median(values):
    r = median_with_interval(np.array(values))
    if not math.isnan(r["ci_low"]):
        assert r["ci_low"] <= r["value"] <= r["ci_high"]


# ------------------------------------------------------------------------------ library-backed tests
def test_two_proportion_test_names_itself_and_refuses_no_variation():
    assert two_proportion_test(50, 100, 30, 100)["test"] == "two-proportion z-test"
    r = two_proportion_test(0, 10, 0, 12)
    assert math.isnan(r["p_value"]) and not r["significant"] and "no variation" in r["test"]


@given(st.integers(1, 400), st.integers(2, 400), st.integers(1, 400), st.integers(2, 400))
def test_two_proportion_matches_the_pooled_formula(x1, n1, x2, n2):
    # independent route: the textbook pooled z statistic, written out here
    x1, x2 = min(x1, n1 - 1), min(x2, n2 - 1)
    p = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    r = two_proportion_test(x1, n1, x2, n2)
    assert r["z"] == pytest.approx(z, rel=1e-9, abs=1e-12)
    assert r["p_value"] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-9, abs=1e-15)


def test_poisson_test_by_hand():
    # 15 against 5, same exposure: given 20 events, 15 ~ Bin(20, 1/2). P(X >= 15) = (C(20,15) +
    # C(20,16) + ... + C(20,20)) / 2^20 = (15504 + 4845 + 1140 + 190 + 20 + 1) / 1048576 = 21700 /
    # 1048576; the distribution is symmetric, so the two-sided p-value is twice that, 0.041389.
    r = poisson_test(15, 5)
    assert r["p_value"] == pytest.approx(2 * 21700 / 2 ** 20) and r["significant"] is True
    assert r["test"] == "exact test for two Poisson counts" and r["rate_ratio"] == 3.0
    # unequal exposure: 10 in 2 units of time against 5 in 1 is exactly the same rate: p = 1
    assert poisson_test(10, 5, 2, 1)["p_value"] == pytest.approx(1.0)
    assert poisson_test(10, 5, 2, 1)["significant"] is False


def test_poisson_test_too_few_events():
    r = poisson_test(4, 3)
    assert r["test"] == "too few events to test (7)" and r["significant"] is None and math.isnan(r["p_value"])
    assert poisson_test(6, 3, min_events=5)["test"] == "exact test for two Poisson counts"
    assert poisson_test(5, 5)["test"] == "exact test for two Poisson counts"  # 10 events: tested


def test_poisson_test_refuses_fractions():
    with pytest.raises(ValueError, match="whole"):
        poisson_test(2.5, 10)


@given(st.integers(0, 2000), st.integers(0, 2000), st.floats(0.2, 5), st.floats(0.2, 5))
def test_poisson_test_agrees_with_statsmodels_exact_conditional_test(a, b, t_a, t_b):
    # independent route: statsmodels' own implementation of the same conditional test
    import warnings

    from statsmodels.stats.rates import test_poisson_2indep
    r = poisson_test(a, b, t_a, t_b)
    if a + b < 10:
        assert math.isnan(r["p_value"])
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = test_poisson_2indep(a, t_a, b, t_b, method="exact-cond").pvalue
    assert r["p_value"] == pytest.approx(min(1.0, expected), rel=1e-6, abs=1e-12)
    if b > 0 and a > 0:
        assert r["ratio_low"] <= r["rate_ratio"] <= r["ratio_high"]


@given(st.integers(10, 500), st.integers(10, 500))
def test_poisson_test_is_symmetric(a, b):
    assert poisson_test(a, b)["p_value"] == pytest.approx(poisson_test(b, a)["p_value"])


@given(st.lists(st.floats(0.01, 100), min_size=1, max_size=200))
def test_kish_matches_the_coefficient_of_variation_form(weights):
    # independent route (Kish 1965): n_eff = n / (1 + cv^2), cv the weights' coefficient of
    # variation with the population variance
    w = np.array(weights)
    cv2 = w.var() / w.mean() ** 2
    assert kish_effective_n(w) == pytest.approx(w.size / (1 + cv2), rel=1e-9)


@pytest.mark.parametrize("n", list(range(1, 60)) + [99, 100, 1001])
def test_median_ranks_agree_with_scipy_quantile_test(n):
    # the rank rule and scipy's quantile_test interval pick the same order statistics
    from scipy.stats import quantile_test
    v = np.arange(1, n + 1, dtype=float)
    ci = quantile_test(v, q=float(np.median(v)), p=0.5).confidence_interval(0.95)
    ranks = median_interval_ranks(n)
    if ranks is None:
        assert math.isnan(ci.low)
    else:
        assert (ci.low, ci.high) == (float(ranks[0]), float(ranks[1]))



def test_wilson_intervals_for_arrays_are_statsmodels_wilson_for_each():
    """The panel computes its intervals in one call: each equals statsmodels' Wilson interval for
    that proportion alone (95%), with 0 at no successes, 1 at all, nan without cases."""
    from statsmodels.stats.proportion import proportion_confint

    from kpi_lib.core.stats import wilson_intervals
    x = np.array([5, 0, 10, 1.8, 37, 3, 7])
    n = np.array([10, 10, 10, 3.6, 1234, 0, np.nan])
    lo, hi = wilson_intervals(x, n)
    for i in (0, 3, 4):
        assert (lo[i], hi[i]) == pytest.approx(proportion_confint(x[i], n[i], alpha=0.05, method="wilson"),
                                               rel=1e-12)
    assert lo[1] == 0.0 and hi[1] == pytest.approx(0.2775, abs=1e-4)
    assert hi[2] == 1.0 and lo[2] == pytest.approx(0.7225, abs=1e-4)
    assert np.isnan([lo[5], hi[5], lo[6], hi[6]]).all()


# ------------------------------------------------------------------------------ changes with intervals
@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore:Perfect separation")
def test_quasi_poisson_matches_a_statsmodels_glm_with_its_scale_fixed():
    import statsmodels.api as sm

    from kpi_lib.core.stats import quasi_poisson_change
    fit = sm.GLM(np.array([1088.0, 1092.0]), np.array([[1.0, 1.0], [1.0, 0.0]]),
                 family=sm.families.Poisson(), offset=np.log([90.0, 91.0])).fit(scale=1.3)
    r = quasi_poisson_change(1088, 1092, 90, 91, dispersion=1.3)
    assert math.log(r["rate_ratio"]) == pytest.approx(fit.params[1], rel=1e-9)
    # normal distribution when the dispersion's degrees of freedom are not given
    assert r["p_value"] == pytest.approx(fit.pvalues[1], rel=1e-6)
    lo, hi = np.exp(fit.conf_int()[1])
    assert (r["ratio_low"], r["ratio_high"]) == pytest.approx((lo, hi), rel=1e-6)


def test_quasi_poisson_by_hand():
    # 300 against 250 in equal periods, dispersion 1.44: log ratio .18232; se = 1.2 * sqrt(1/300 +
    # 1/250) = .10276; z = 1.7743; two-sided p = .0760 (a plain Poisson test would give p = .025)
    from kpi_lib.core.stats import quasi_poisson_change
    r = quasi_poisson_change(300, 250, 91, 91, dispersion=1.44)
    assert r["p_value"] == pytest.approx(0.0760, abs=2e-4)
    assert r["pct_low"] == pytest.approx(100 * (math.exp(0.18232 - 1.95996 * 0.10276) - 1), abs=0.01)
    assert r["test"] == "quasi-Poisson test (dispersion 1.44)"
    # a dispersion below 1 is never used: a count is never steadier than Poisson
    assert quasi_poisson_change(300, 250, 91, 91, dispersion=0.7)["dispersion"] == 1.0
    assert quasi_poisson_change(4, 3, 91, 91)["test"] == "too few events to test (7)"


def test_count_dispersion_recovers_a_known_overdispersion():
    from kpi_lib.core.stats import count_dispersion
    rng = np.random.default_rng(7)
    months = pd.date_range("2019-04-01", periods=72, freq="MS")
    days = months.days_in_month.to_numpy()
    season = 1 + 0.12 * np.cos(2 * np.pi * (months.month.to_numpy() - 7) / 12)
    mu = 26 * days * season * np.repeat(1.03 ** np.arange(6), 12)  # crimes a day, seasons, yearly drift
    estimates = []
    for _ in range(40):
        y = rng.negative_binomial(mu / 0.4, 1 / 1.4)  # variance = 1.4 x mean
        estimates.append(count_dispersion(months, y, days)["raw"])
    assert np.mean(estimates) == pytest.approx(1.4, abs=0.1)
    short = count_dispersion(months[:8], np.full(8, 100), np.full(8, 30))
    assert short == {"dispersion": 1.0, "raw": pytest.approx(math.nan, nan_ok=True), "df": math.inf,
                     "points": 8, "estimated": False}


def test_proportion_difference_by_hand():
    # 50/100 vs 30/100: Newcombe's hybrid score interval (Newcombe 1998, example (a) style):
    # Wilson 50/100 = (.4038, .5962), 30/100 = (.2189, .3958); d = .2;
    # low = .2 - sqrt((.5 - .4038)^2 + (.3958 - .3)^2) = .0644; high = .2 + sqrt((.5962 - .5)^2 + (.3 - .2189)^2) = .3257
    from kpi_lib.core.stats import proportion_difference
    r = proportion_difference(50, 100, 30, 100)
    assert r["diff"] == pytest.approx(20.0)
    assert (r["low"], r["high"]) == pytest.approx((6.44, 32.57), abs=0.02)
    assert r["p_value"] == pytest.approx(0.00389, abs=1e-5)


def test_median_difference_agrees_with_scipy_on_the_raw_values():
    from scipy import stats as sps

    from kpi_lib.core.stats import median_difference
    a = np.array([5, 6, 7, 7, 8, 9, 10, 11, 12, 14, 15, 20], dtype=float)
    b = np.array([3, 4, 4, 5, 5, 6, 6, 7, 8, 9, 10, 11], dtype=float)
    va, ca = np.unique(a, return_counts=True)
    vb, cb = np.unique(b, return_counts=True)
    r = median_difference(va, ca, vb, cb)
    assert r["p_value"] == pytest.approx(sps.median_test(a, b)[1])
    # medians of the binned data: the lower middle value (9 and 6)
    assert r["diff"] == 3.0 and r["low"] <= 3.0 <= r["high"]
    assert median_difference(va, ca, vb, cb) == r  # seeded: the same data give the same interval


def test_benjamini_hochberg_by_hand():
    # p sorted .01, .03, .04, .5 (m = 4): q = min over k >= i of p_(k) m / k -> .04, .0533, .0533, .5
    from kpi_lib.core.stats import benjamini_hochberg
    q = benjamini_hochberg([0.04, 0.01, math.nan, 0.03, 0.5])
    assert q[1] == pytest.approx(0.04) and q[0] == pytest.approx(0.16 / 3) and q[3] == pytest.approx(0.16 / 3)
    assert q[4] == pytest.approx(0.5) and math.isnan(q[2])


def test_bootstrap_medians_follow_the_exact_distribution_by_hand():
    """Three values once each: the median of three draws with replacement is 1 when at least two
    draws are 1: 3 x (1/3)^2 x (2/3) + (1/3)^3 = 7/27; likewise 3; so 2 with 13/27."""
    from kpi_lib.core.stats import bootstrap_binned_medians
    draws = bootstrap_binned_medians(np.array([1.0, 2.0, 3.0]), np.array([1, 1, 1]), 200_000,
                                     np.random.default_rng(7))
    share = {v: float(np.mean(draws == v)) for v in (1.0, 2.0, 3.0)}
    assert share == pytest.approx({1.0: 7 / 27, 2.0: 13 / 27, 3.0: 7 / 27}, abs=0.005)


def test_bootstrap_medians_match_resampling_every_observation():
    """Independent route: resample the counts (a multinomial draw of n over the bins) and take
    the binned median; its quantiles equal those of the order-statistic draws."""
    from kpi_lib.core.stats import bootstrap_binned_medians
    rng = np.random.default_rng(11)
    values = np.arange(0, 600, 1.0)  # a bin a second: one bin out is a failure
    counts = rng.poisson(30 * np.exp(-values / 60))
    n = int(counts.sum())
    resampled = rng.multinomial(n, counts / n, size=20_000)
    cum = np.cumsum(resampled, axis=1)
    by_resampling = values[(cum < ((n + 1) // 2)).sum(axis=1)]
    drawn = bootstrap_binned_medians(values, counts, 20_000, np.random.default_rng(12))
    for q in (0.025, 0.5, 0.975):
        assert np.quantile(drawn, q) == pytest.approx(np.quantile(by_resampling, q), abs=0.5)
