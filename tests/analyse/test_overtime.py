"""The over-time question: SPC limits from a recent window, a trend as its own finding, missing
months left out, too few points; simulated series pin how often each finding is made."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from kpi_lib.analyse import spc
from kpi_lib.analyse.overtime import over_time, trend_test

MONTHS = pd.date_range("2019-04-01", "2025-03-01", freq="MS")
Q4 = {"period_start": date(2025, 1, 1), "period_end": date(2025, 4, 1), "period_word": "quarter"}


def _run(y, x=MONTHS, **kw):
    return over_time(pd.DataFrame({"x": x, "y": np.asarray(y, dtype=float)}),
                     **{**Q4, "polarity": "lower_better", **kw})


def test_limits_come_from_the_latest_24_months_only():
    # six years: a low first four years, then two flat years at 100 +/- 1; limits from the window
    y = np.r_[np.full(48, 50.0), 100 + np.tile([1.0, -1.0], 12)]
    ot = _run(y)
    win = ot.chart[ot.chart["in_window"]]
    assert len(win) == 24 and ot.window_start == date(2023, 4, 1)
    lim = spc.limits(y[-24:])
    assert win["mean"].iloc[0] == pytest.approx(lim.mean) and win["upl"].iloc[0] == pytest.approx(lim.upl)
    assert ot.chart.loc[~ot.chart["in_window"], "upl"].isna().all()
    assert set(ot.chart.loc[~ot.chart["in_window"], "variation"]) == {"not_judged"}
    assert ot.finding == "within" and ot.words == "within its usual range"


def test_a_quarterly_series_takes_its_latest_12_points():
    x = pd.date_range("2019-04-01", "2025-01-01", freq="QS-JAN")
    y = 100 + np.tile([2.0, -2.0], len(x) // 2 + 1)[: len(x)]
    ot = _run(y, x=x)
    assert ot.window_points == 12 and ot.chart["in_window"].sum() == 12


def test_too_few_points_to_judge():
    # a one-year Home Office table: four quarters
    x = pd.date_range("2017-04-01", periods=4, freq="QS-JAN")
    ot = over_time(pd.DataFrame({"x": x, "y": [100.0, 110.0, 90.0, 105.0]}), period_start=date(2018, 1, 1),
                   period_end=date(2018, 4, 1), period_word="quarter", polarity="lower_better")
    assert (ot.finding, ot.words) == ("too_few", "too few points to judge (4 of 12)")
    assert ot.chart["upl"].isna().all()


def test_missing_months_are_left_out_never_zero():
    y = 100 + np.tile([1.0, -1.0], 36)
    y[-20:-12] = np.nan  # eight months not in the data
    ot = _run(y)
    assert ot.chart["y"].isna().sum() == 8  # kept as gaps: a chart line breaks there
    gap = ot.chart["y"].isna()
    assert not ot.chart.loc[gap, "in_window"].any()
    assert ot.window_points == 16
    lim = spc.limits(y[-24:][~np.isnan(y[-24:])])
    assert ot.chart.loc[ot.chart["in_window"], "mean"].iloc[-1] == pytest.approx(lim.mean)
    assert ot.finding == "within"


def test_points_since_the_rebase_only():
    y = np.r_[np.full(60, 50.0) + np.tile([1, -1], 30), np.full(12, 80.0) + np.tile([1, -1], 6)]
    ot = _run(y, rebase=[date(2024, 4, 1)])
    assert ot.window_points == 12 and ot.window_start == date(2024, 4, 1)
    ot = _run(y, rebase=[date(2024, 6, 1)])
    assert (ot.finding, ot.words) == ("too_few", "too few points to judge (10 of 12)")


def test_a_point_of_the_quarter_outside_its_range_is_named_with_its_month():
    y = 100 + np.tile([1.0, -1.0], 36)
    y[-2] = 120.0  # February 2025
    ot = _run(y)
    assert ot.finding == "outside" and ot.direction == 1
    assert ot.words == "above its usual range this quarter (February 2025)"


def test_a_sustained_shift_names_its_first_month():
    y = 100 + np.tile([1.0, -1.0], 36)
    y[-8:] += 2.5  # eight months above the centre line, inside the limits
    ot = _run(y)
    assert ot.finding == "shift" and ot.since == "August 2024"
    assert ot.words == "a sustained shift up since August 2024"


def test_a_steady_trend_is_named_with_its_first_year_and_not_a_change_this_quarter():
    rng = np.random.default_rng(3)
    y = 1000 * 1.02 ** (np.arange(72) / 12) + rng.normal(0, 5, 72)
    ot = _run(y)
    assert (ot.finding, ot.trend, ot.words) == ("trend", 1, "a steady rise since 2019")
    # around the trend, the centre line follows it
    win = ot.chart[ot.chart["in_window"]]
    assert win["mean"].iloc[-1] > win["mean"].iloc[0]
    assert trend_test(MONTHS, y)["significant"]


def test_assurance_is_judged_on_the_quarter_not_its_last_month():
    # seasonal limits: the target of 90 sits below the limits in January and February but
    # inside them in March: hit and miss for the quarter, whatever the last month says
    y = np.tile([95.0, 95.5, 96, 95.5, 95, 94.5, 94, 93.5, 93, 92.5, 92.0, 90.5], 6) + np.tile([0.2, -0.2], 36)
    ot = _run(y, polarity="higher_better", target=90.0, seasonal=True)
    c = ot.chart[ot.chart["in_window"]].tail(3)
    passing = [spc.assurance(90.0, spc.Limits(r.mean, 0, r.lpl, r.upl, 0, 0), "higher_better") for r in c.itertuples()]
    assert len(set(passing)) > 1  # the months disagree...
    assert ot.assurance == "hit_and_miss"  # ...so the quarter is hit and miss


def _nb(rng, mu, dispersion=1.4):
    return rng.negative_binomial(mu / (dispersion - 1), 1 / dispersion).astype(float)


SEASON = 1 + 0.1 * np.cos(2 * np.pi * (MONTHS.month.to_numpy() - 7) / 12)


@pytest.mark.integration  # a simulation: hundreds of series
def test_a_steady_trend_with_nothing_happening_this_quarter_is_rarely_called_a_change():
    """+1.8% a year over six years, seasons and overdispersed noise, nothing new this quarter:
    "changed this quarter" (outside its range or a sustained shift) in at most 10% of series,
    and the trend named in most of them (limits over the whole history flagged the latest point
    of almost every such series)."""
    rng = np.random.default_rng(20240401)
    findings, named = [], 0
    for _ in range(150):
        mu = 1000 * 1.018 ** (np.arange(72) / 12) * SEASON
        ot = _run(_nb(rng, mu), seasonal=True)
        findings.append(ot.finding)
        named += ot.trend == 1
    changed = np.mean([f in ("outside", "shift") for f in findings])
    assert changed <= 0.10
    assert named / 150 >= 0.75


@pytest.mark.integration  # a simulation: hundreds of series
def test_a_15_percent_step_is_flagged_within_three_months():
    rng = np.random.default_rng(7)
    flagged = 0
    for _ in range(100):
        mu = 1000 * SEASON
        mu[-3:] *= 1.15  # the step started in January 2025: three months of it by March
        ot = _run(_nb(rng, mu), seasonal=True)
        flagged += ot.finding in ("outside", "shift") and ot.direction == 1
    assert flagged >= 95
