"""SPC rules on hand-built series. Each series is designed so that its mean, average moving range
and limits can be worked out by hand (shown in the comments); the expected flags follow the
Making Data Count rules as NHSRplotthedots implements them (``ptd_spc_standard``,
``ptd_calculate_point_type``, ``ptd_calculate_assurance_type``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpi_lib import spc


def chart(values, polarity="higher_better", **kw):
    return spc.xmr(pd.DataFrame({"x": range(len(values)), "y": values}), polarity=polarity, **kw)


def flagged(c):
    return {i: r for i, r in enumerate(c["rule"]) if r}


def test_limits_with_and_without_screening():
    # 10,11 alternating then 40: moving ranges ten 1s and one 30. mean mR = 40/11 = 3.636;
    # screening drops 30 (>= 3.267 * 3.636 = 11.88), leaving 1.
    y = np.array([10, 11] * 5 + [10, 40], dtype=float)
    assert spc.limits(y, screen_outliers=True).mr_bar == pytest.approx(1.0)
    assert spc.limits(y, screen_outliers=False).mr_bar == pytest.approx(40 / 11)
    lim = spc.limits(y, screen_outliers=True)
    assert lim.mean == pytest.approx(155 / 12)
    assert lim.upl == pytest.approx(155 / 12 + 2.66) and lim.near_high == pytest.approx(155 / 12 + 2 * 2.66 / 3)


def test_rule_point_outside_limits():
    # 9,11 alternating, a spike of 30 in the middle: sum 230 over 21 -> mean 10.952; mR eighteen 2s
    # and two 19s (mean 3.7; 19 >= 12.09 screened) -> mR-bar 2; limits 5.632 to 16.272.
    y = [9, 11] * 5 + [30] + [11, 9] * 5
    c = chart(y)
    assert flagged(c) == {10: "outside_limits"}
    assert c.loc[10, "variation"] == "improvement_high"
    assert c.loc[0, "upl"] == pytest.approx(230 / 21 + 2 * 2.66)


def test_rule_seven_point_trend():
    # 5,7 x4, then 1..7 (six rises), then 5,7 x3: mean 112/21 = 5.333; mR-bar 38/20 = 1.9;
    # limits 0.279 to 10.387 (nothing outside); near-low 1.964: only the 1 is beyond, so no 2-of-3.
    y = [5, 7] * 4 + [1, 2, 3, 4, 5, 6, 7] + [5, 7] * 3
    c = chart(y)
    assert flagged(c) == {i: "trend" for i in range(8, 15)}
    # a rising trend in a higher-is-better measure is improvement for every point of it, including
    # the 1, 2, 3, 4 and 5 below the mean of 5.333 (NHSRplotthedots since its pull request #180)
    assert set(c.loc[8:14, "variation"]) == {"improvement_high"}
    assert set(chart(y, polarity="lower_better").loc[8:14, "variation"]) == {"concern_high"}


def test_rule_two_of_three_beyond_near_limits_and_screening_switch():
    # 10,12 x6 then 16,12,16 then 6,10,6: mean 198/18 = 11; mR sum 52 over 17 (3.059); the 10 is
    # screened (>= 9.993) -> mR-bar 42/16 = 2.625; near limits 6.345 / 15.655, limits 4.018 / 17.98.
    y = [10, 12] * 6 + [16, 12, 16] + [6, 10, 6]
    c = chart(y)
    assert flagged(c) == {12: "two_in_three", 14: "two_in_three", 15: "two_in_three", 17: "two_in_three"}
    assert c.loc[15, "variation"] == "concern_low"
    # without screening mR-bar is 3.059, the near-high limit 16.42: 16 is no longer beyond it
    assert flagged(chart(y, screen_outliers=False)) == {}


def test_rule_run_of_seven_and_a_point_on_the_mean_breaks_it():
    # Above the mean: 11,13 alternating; below: 9,7. Mean exactly 10 by symmetry.
    up = [11, 13, 11, 13, 11, 13]
    down = [9, 7, 9, 7, 9, 7]
    broken = up + [10] + up[::-1] + down + [10] + down[::-1]
    assert chart(broken, polarity="lower_better")["y"].mean() == 10
    assert flagged(chart(broken, polarity="lower_better")) == {}
    run = up + [12] + up[::-1] + down + [8] + down[::-1]
    c = chart(run, polarity="lower_better")
    assert flagged(c) == {i: "shift" for i in range(26)}
    assert c.loc[0, "variation"] == "concern_high" and c.loc[25, "variation"] == "improvement_low"


def test_precedence_outside_limits_over_trend():
    y = [5, 7] * 4 + [1, 2, 3, 4, 5, 6, 30]
    c = chart(y)
    assert c.loc[14, "rule"] == "outside_limits" and c.loc[13, "rule"] == "trend"


def test_neutral_polarity():
    y = [9, 11] * 5 + [30] + [11, 9] * 5
    assert chart(y, polarity="neutral").loc[10, "variation"] == "neutral_high"


def test_trial_limits_under_twelve_points():
    assert chart([1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3])["trial"].all()
    assert not chart([1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2])["trial"].any()


def test_rebasing_recalculates_limits():
    y = [10, 12] * 7 + [20, 22] * 7
    c = spc.xmr(pd.DataFrame({"x": range(28), "y": y}), polarity="higher_better", rebase=[14])
    assert c.loc[0, "mean"] == 11 and c.loc[27, "mean"] == 21
    assert set(c["segment"]) == {0, 1}
    assert flagged(c) == {}  # each segment is stable around its own mean
    assert flagged(chart(y))  # without the rebase the step is special cause


@pytest.mark.parametrize("target, polarity, expected", [
    (20, "higher_better", "consistent_fail"), (5, "higher_better", "consistent_pass"),
    (11, "higher_better", "hit_and_miss"), (20, "lower_better", "consistent_pass"),
    (5, "lower_better", "consistent_fail"), (None, "higher_better", "no_target"),
    (11, "neutral", "no_target"),
])
def test_assurance(target, polarity, expected):
    # 10,12 alternating: mean 11, mR-bar 2, limits 5.68 to 16.32
    c = chart([10, 12] * 7, polarity=polarity, target=target)
    assert c["assurance"].iloc[-1] == expected


def test_summary_uses_the_last_point():
    s = spc.summary(chart([9, 11] * 5 + [30]))
    assert s["spc_variation"] == "improvement_high" and s["spc_points"] == 11 and s["spc_trial"]


# Vectors from NHSRplotthedots' own unit tests (tests/testthat/test-ptd_calculate_point_type.R),
# translated from its "pattern ends here" flags to "part of a pattern" flags (ptd_part_of_*).
@pytest.mark.parametrize("y, flagged_points", [
    (list(range(1, 7)), []),                       # 1:6, too short
    ([1, 2, 3, 3, 4, 5, 6], []),                   # c(1:3, 3:6): a tie breaks the trend
    (list(range(1, 8)), list(range(7))),           # 1:7
    ([2, *range(1, 8), 3], list(range(1, 8))),     # c(2, 1:7, 3)
    (list(range(7, 0, -1)), list(range(7))),       # 7:1
])
def test_trend_vectors_from_nhsrplotthedots(y, flagged_points):
    assert list(np.nonzero(spc.seven_point_trend(np.array(y, dtype=float)))[0]) == flagged_points


@pytest.mark.parametrize("signs, flagged_points", [
    ([1] * 6, []), ([1] * 6 + [-1], []),
    ([1] * 8 + [-1], list(range(8))), ([-1] * 8 + [1], list(range(8))),
])
def test_one_side_vectors_from_nhsrplotthedots(signs, flagged_points):
    y = np.array(signs, dtype=float)  # mean 0 reference: the sign is the side
    assert list(np.nonzero(spc.seven_point_one_side(y, 0.0))[0]) == flagged_points
