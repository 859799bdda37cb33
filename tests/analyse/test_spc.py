"""SPC rules on hand-built series. Each series is designed so that its mean, average moving range
and limits can be worked out by hand (shown in the comments); the expected flags follow the
Making Data Count rules as NHSRplotthedots implements them (``ptd_spc_standard``,
``ptd_calculate_point_type``, ``ptd_calculate_assurance_type``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpi_lib.analyse import spc


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


# NHSRplotthedots tests/testthat/test-ptd_calculate_point_type.R at commit 8aac3239 (after its pull
# request #180, which gave trend points the trend's direction): ptd_seven_point_trend vectors
# ("a trend ends here", +1 rising / -1 falling) and ptd_part_of_seven_trend vectors.
@pytest.mark.parametrize("y, ends", [
    ([], []),
    (list(range(1, 7)), [0] * 6),                                   # 1:6
    ([1, 2, 3, 3, 4, 5, 6], [0] * 7),                               # c(1:3, 3:6)
    (list(range(1, 8)), [0] * 6 + [1]),                             # 1:7
    ([2, *range(1, 8), 3], [0] * 7 + [1, 0]),                       # c(2, 1:7, 3)
    (list(range(7, 0, -1)), [0] * 6 + [-1]),                        # 7:1
    ([2, *range(7, 0, -1), 3], [0] * 7 + [-1, 0]),                  # c(2, 7:1, 3)
])
def test_trend_ends_vectors_from_nhsrplotthedots(y, ends):
    assert list(spc.trend_ends(np.array(y, dtype=float))) == ends


@pytest.mark.parametrize("ends, part", [
    ([0] * 6, [0] * 6),
    ([0] * 6 + [1, 0], [1] * 7 + [0]), ([0] * 7 + [1, 0], [0] + [1] * 7 + [0]),
    ([0] * 6 + [-1, 0], [1] * 7 + [0]), ([0] * 7 + [-1, 0], [0] + [1] * 7 + [0]),
])
def test_part_of_seven_vectors_from_nhsrplotthedots(ends, part):
    assert list(spc._spread_back(np.array(ends) != 0).astype(int)) == part


# ptd_part_of_two_in_three(ptd_two_in_three(close, relative_to_mean), close) vectors, including
# "points on opposite sides of the mean" (its issue #143).
@pytest.mark.parametrize("close, side, expected", [
    ([1, 0, 1], [1, 1, 1], [1, 0, 1]), ([0, 1, 1], [1, 1, 1], [0, 1, 1]), ([1, 1, 0], [1, 1, 1], [1, 1, 0]),
    ([0, 0, 1, 0, 1, 0, 0], [1] * 7, [0, 0, 1, 0, 1, 0, 0]),
    ([0, 0, 1, 1, 0, 0, 0], [1] * 7, [0, 0, 1, 1, 0, 0, 0]),
    ([1, 0, 0, 1], [1] * 4, [0, 0, 0, 0]), ([1, 0, 0, 1, 1], [1] * 5, [0, 0, 0, 1, 1]),
    ([1, 0, 1], [1, -1, 1], [0, 0, 0]), ([0, 1, 1], [1, -1, 1], [0, 0, 0]), ([1, 1, 0], [1, -1, 1], [0, 0, 0]),
    ([0, 0, 1, 0, 1, 0, 0], [1, -1, 1, -1, 1, -1, 1], [0] * 7),
    ([0, 0, 1, 1, 0, 0, 0], [-1, 1, -1, 1, -1, 1, -1], [0] * 7),
])
def test_two_in_three_vectors_from_nhsrplotthedots(close, side, expected):
    assert list(spc.two_in_three_flags(np.array(close), np.array(side)).astype(int)) == expected


def test_special_cause_type_vector_from_nhsrplotthedots():
    # ptd_special_cause_type test: y = 1:8, relative_to_mean c(1,1,1,1,-1,-1,-1,-1), part of trend
    # c(1,-1,0,...), part of one side c(0,0,1,-1,0,...), part of 2-in-3 at 5, outside at 6 and 7.
    # The trend points 1-2 are "7 Point Trend (Increasing)" from the rise of y, not from the mean.
    rule, direction = spc.classify_points(
        np.arange(1, 9), [1, 1, 1, 1, -1, -1, -1, -1], outside=[0, 0, 0, 0, 0, 1, -1, 0],
        part_trend=[1, -1, 0, 0, 0, 0, 0, 0], part_two_in_three=[0, 0, 0, 0, 1, 0, 0, 0],
        part_one_side=[0, 0, 1, -1, 0, 0, 0, 0])
    assert list(rule) == ["trend", "trend", "shift", "shift", "two_in_three", "outside_limits",
                          "outside_limits", ""]
    # "Increasing", "Increasing", "Above CL", "Above CL", "Below CL", "Below LCL", "Below LCL"
    assert list(direction) == [1, 1, 1, 1, -1, -1, -1, 0]
    assert list(spc.point_variation(rule, direction, "lower_better")) == (
        ["concern_high"] * 4 + ["improvement_low"] * 3 + ["common_cause"])


def test_trend_crossing_the_mean_up_then_down():
    # The series of NHSRplotthedots issue #200, c(0:7, 6:1), worked by hand: mean 49/14 = 3.5,
    # every moving range 1, limits 3.5 -/+ 2.66 = 0.84 to 6.16. Rising trend 0..7 (points 0-7),
    # falling trend 7..1 (points 7-13): every point is in a trend. Outside the limits (first in
    # precedence): the 0 (below) and the 7 (above). The peak's trend direction is the step after it.
    c = chart(list(range(8)) + list(range(6, 0, -1)))
    assert c.loc[0, "upl"] == pytest.approx(6.16) and c.loc[0, "lpl"] == pytest.approx(0.84)
    assert list(c["rule"]) == ["outside_limits"] + ["trend"] * 6 + ["outside_limits"] + ["trend"] * 6
    assert list(c["variation"]) == (["concern_low"] + ["improvement_high"] * 7 + ["concern_low"] * 6)


def test_neutral_trend_direction():
    y = [5, 7] * 4 + [1, 2, 3, 4, 5, 6, 7] + [5, 7] * 3
    assert set(chart(y, polarity="neutral").loc[8:14, "variation"]) == {"neutral_high"}


# ------------------------------------------------------------------------------ seasonality
MONTHS = pd.date_range("2019-04-01", periods=72, freq="MS")


def seasonal_series(seed: int, step_at: int | None = None, noise: float = 0.03) -> pd.DataFrame:
    """72 months (April 2019 to March 2025): a summer peak of +/-15% around 1,000 a month, 3% noise,
    optionally a 15% rise from month ``step_at`` on."""
    rng = np.random.default_rng(seed)
    m = MONTHS.month.to_numpy()
    y = 1000 * (1 + 0.15 * np.cos(2 * np.pi * (m - 7) / 12)) * (1 + rng.normal(0, noise, 72))
    if step_at is not None:
        y[step_at:] *= 1.15
    return pd.DataFrame({"x": MONTHS.date, "y": y})


def test_seasonal_factors_recover_an_exact_pattern():
    # No noise: y = 100 (1 + 0.2 cos(2 pi (m - 7) / 12)) over three complete years (and a partial
    # fourth with wild values, which must not shape the factors). The pattern averages 1 over a
    # year, so the factors are exactly 1 + 0.2 cos(...): 1.2 in July, 0.8 in January.
    x = pd.date_range("2020-04-01", periods=40, freq="MS")
    m = x.month.to_numpy()
    y = 100 * (1 + 0.2 * np.cos(2 * np.pi * (m - 7) / 12))
    y[36:] = [500, 1, 300, 2]
    f, years = spc.seasonal_factors(pd.Series(x), y)
    assert years == 3
    assert f[m == 7] == pytest.approx(1.2) and f[m == 1] == pytest.approx(0.8)
    assert f[:12].mean() == pytest.approx(1.0)


def test_seasonal_needs_two_complete_years():
    x = pd.Series(pd.date_range("2020-04-01", periods=23, freq="MS"))  # one complete year
    f, years = spc.seasonal_factors(x, np.arange(23, dtype=float) + 10)
    assert years == 1 and (f == 1).all()
    c = spc.xmr(pd.DataFrame({"x": x.dt.date, "y": np.arange(23.0) + 10}), polarity="neutral", seasonal=True)
    assert (c["adjustment"] == 1).all() and (c["seasonal_years"] == 1).all()


def test_seasonal_chart_keeps_actual_values_and_moves_the_limits():
    s = seasonal_series(1)
    c = spc.xmr(s, polarity="lower_better", seasonal=True)
    assert list(c["y"]) == list(s["y"])  # actual values on the chart
    # limits on the adjusted scale are flat: upl / adjustment is the same every month
    assert np.ptp(c["upl"] / c["adjustment"]) == pytest.approx(0, abs=1e-9)
    assert c.loc[c["x"] == MONTHS[3].date(), "adjustment"].iloc[0] > 1.1   # July
    assert c.loc[c["x"] == MONTHS[9].date(), "adjustment"].iloc[0] < 0.9   # January
    assert (c["y_adjusted"] == c["y"] / c["adjustment"]).all()


def test_seasonal_series_without_change_is_rarely_flagged():
    # Plain XmR on seasonal data flags most of it; adjusted, the share flagged is what the rules
    # give on pure noise. XmR's run rule flags 7 points at a time, so one chance run puts a series
    # over 5%: the promise "at most 5% of points" holds for the typical (median) series, and the
    # average stays near pure noise's (6.4% in 200 simulations).
    adjusted = [(spc.xmr(seasonal_series(s), polarity="lower_better", seasonal=True)["rule"] != "").mean()
                for s in range(40)]
    plain = [(spc.xmr(seasonal_series(s), polarity="lower_better")["rule"] != "").mean() for s in range(5)]
    assert np.median(adjusted) <= 0.05 and np.mean(adjusted) <= 0.07
    assert adjusted[1] <= 0.05  # e.g. the series of seed 1: 1 point of 72 (plain XmR: most of them)
    assert min(plain) > 0.3


def test_seasonal_step_of_15_percent_is_flagged_within_three_months():
    for seed in range(20):
        c = spc.xmr(seasonal_series(seed, step_at=54), polarity="lower_better", seasonal=True)
        after = c.iloc[54:57]
        assert ((after["rule"] != "") & (after["variation"] == "concern_high")).any(), seed


def test_seasonal_with_rebase_pools_complete_years_of_both_segments():
    s = seasonal_series(3)
    s.loc[54:, "y"] *= 0.7  # a recording change at October 2023, annotated as a rebase
    c = spc.xmr(s, polarity="lower_better", seasonal=True, rebase=[MONTHS[54].date()])
    # complete financial years inside one segment: 2019-2022 (segment 0) and 2024 (segment 1)
    assert c["seasonal_years"].iloc[0] == 5 and set(c["segment"]) == {0, 1}
    assert (c["rule"] != "").mean() <= 0.15


def test_seasonal_needs_dates():
    with pytest.raises(ValueError, match="dates"):
        spc.xmr(pd.DataFrame({"x": [f"point {i:02d}" for i in range(30)], "y": range(30)}),
                polarity="neutral", seasonal=True)


# ------------------------------------------------------------------------------ points table
def test_points_table_clips_percent_limits_and_says_so():
    # 97, 99 alternating: mean 98, mR-bar 2, limits 92.68 to 103.32 -> upper clipped to 100
    c = chart([97, 99] * 7)
    t = spc.points_table(c, "calls_999_within_10s", "", "percent")
    assert list(t.columns) == ["kpi_id", "basis", "x", "y", "mean", "lpl", "upl", "variation", "rule",
                               "segment", "adjustment", "limits_clipped", "in_window"]
    assert (t["upl"] == 100).all() and t["limits_clipped"].all()
    assert t["lpl"].iloc[0] == pytest.approx(92.68) and (t["adjustment"] == 1).all()
    counts = spc.points_table(c, "trc_volume", "", "count")
    assert counts["upl"].iloc[0] == pytest.approx(103.32) and not counts["limits_clipped"].any()
    assert (t["kpi_id"] == "calls_999_within_10s").all() and len(t) == 14


def test_summary_reports_seasonal_adjustment():
    assert spc.summary(spc.xmr(seasonal_series(2), polarity="neutral", seasonal=True))["spc_seasonal"]
    assert not spc.summary(spc.xmr(seasonal_series(2), polarity="neutral"))["spc_seasonal"]


# ------------------------------------------------------------------------------ invariants
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

VALUES = st.lists(st.integers(0, 60), min_size=2, max_size=40)


@given(VALUES, st.sampled_from([0.5, 4.0, 1024.0]), st.sampled_from([-16.0, 0.0, 8.0]))
def test_rules_do_not_depend_on_units_or_origin(values, scale, shift):
    # the rules compare points with limits built from the same points: rescaling (a count in
    # hundreds) or shifting the series must flag the same points in the same directions
    base = chart(values)
    moved = chart([v * scale + shift for v in values])
    assert list(moved["rule"]) == list(base["rule"]) and list(moved["variation"]) == list(base["variation"])


@given(VALUES)
def test_polarity_swaps_improvement_and_concern(values):
    up, down = chart(values, "higher_better"), chart(values, "lower_better")
    swap = {"improvement": "concern", "concern": "improvement"}
    for a, b in zip(up["variation"], down["variation"], strict=True):
        kind, _, side = a.partition("_")
        assert b == (f"{swap[kind]}_{side}" if kind in swap else a)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.01, 2.0, 500.0]))
def test_seasonal_factors_average_one_and_ignore_the_level(seed, scale):
    s = seasonal_series(seed)
    f, years = spc.seasonal_factors(s["x"], s["y"].to_numpy())
    g, _ = spc.seasonal_factors(s["x"], scale * s["y"].to_numpy())
    assert years == 6 and f[:12].mean() == pytest.approx(1.0) and g == pytest.approx(f)


@given(st.lists(st.floats(0, 100), min_size=2, max_size=30))
def test_percent_points_stay_within_0_to_100(values):
    t = spc.points_table(chart(values), "k", "", "percent")
    lim = t[["mean", "lpl", "upl"]].dropna()
    assert ((lim >= 0) & (lim <= 100)).all().all()
    raw = chart(values)
    assert list(t["limits_clipped"]) == list((raw["lpl"] < 0) | (raw["upl"] > 100))


def test_seasonality_test_finds_a_season_and_not_noise():
    assert spc.seasonality_test(seasonal_series(0)["x"], seasonal_series(0)["y"].to_numpy())["p_value"] < 1e-6
    flat = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        flat.append(spc.seasonality_test(pd.Series(MONTHS.date), 1000 * (1 + rng.normal(0, 0.03, 72)))["p_value"])
    assert 0.0 <= np.mean(np.array(flat) < 0.05) <= 0.15  # about 5% false alarms at the 5% level


def test_seasonality_test_by_hand():
    # independent route: the F statistic written out. Ratios r of the complete years; the null
    # model fits each year's mean (exactly 1), so RSS0 = sum (r - 1)^2; the full model adds the
    # four harmonic terms (orthogonal to the year levels over complete years).
    s = seasonal_series(5)
    r = spc.seasonality_test(s["x"], s["y"].to_numpy())
    y = s["y"].to_numpy().reshape(6, 12)
    ratio = (y / y.mean(axis=1, keepdims=True)).ravel()
    m = MONTHS.month.to_numpy()
    X = np.column_stack([np.cos(2 * np.pi * m / 12), np.cos(4 * np.pi * m / 12),
                         np.sin(2 * np.pi * m / 12), np.sin(4 * np.pi * m / 12)])
    beta = np.linalg.lstsq(X, ratio - 1, rcond=None)[0]
    rss0, rss1 = ((ratio - 1) ** 2).sum(), ((ratio - 1 - X @ beta) ** 2).sum()
    f = ((rss0 - rss1) / 4) / (rss1 / (72 - 6 - 4))
    from scipy.stats import f as f_dist
    assert r["p_value"] == pytest.approx(f_dist.sf(f, 4, 62), rel=1e-6)
    assert r["years"] == 6 and 0.1 < r["swing"] < 0.2
    assert np.isnan(spc.seasonality_test(s["x"][:20], s["y"].to_numpy()[:20])["p_value"])


@pytest.mark.parametrize("to_x", [lambda d: d, pd.Timestamp, lambda d: d.isoformat()])
def test_rebase_dates_work_whatever_type_x_has(to_x):
    from datetime import date
    x = [to_x(d.date()) for d in pd.date_range("2022-01-01", periods=28, freq="MS")]
    y = [10, 12] * 7 + [20, 22] * 7
    c = spc.xmr(pd.DataFrame({"x": x, "y": y}), polarity="neutral", rebase=[date(2023, 3, 1)])
    assert list(c["segment"]) == [0] * 14 + [1] * 14


def test_classify_points_on_tiny_series():
    assert [list(a) for a in spc.classify_points([], [], [], [], [], [])] == [[], []]
    rule, direction = spc.classify_points([5.0], [1], [1], [0], [0], [0])
    assert list(rule) == ["outside_limits"] and list(direction) == [1]
