"""Intervals and tests, against values worked out by hand (formulas in kpi_lib.stats)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_lib.stats import (
    kish_effective_n,
    median_interval_ranks,
    median_with_interval,
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
