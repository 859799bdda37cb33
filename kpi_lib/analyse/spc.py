"""Statistical process control: NHS England "Making Data Count" XmR charts.

Reference implementation: the R package NHSRplotthedots (v0.2.x), functions ``ptd_spc_standard``,
``ptd_calculate_point_type`` and ``ptd_calculate_assurance_type``. One rule, one function:

- limits: centre = mean; mR = |x_i - x_{i-1}|; limits = mean +/- 2.66 mR-bar; near limits
  (2 sigma) = mean +/- 2 (2.66 / 3) mR-bar. Outlier screening (default on) drops moving ranges
  not below 3.267 mR-bar and recomputes mR-bar (switch off to reproduce the Excel tool).
- special cause (any of, reported in this precedence): (1) a point outside the limits; (2) a trend
  of 7 points all rising or all falling (a tie breaks it); (3) two of three consecutive points
  beyond a near limit (but inside the limits), all three on the same side of the mean; (4) a run
  of 7 points on one side of the mean (a point exactly on the mean breaks the run). Every point of
  a qualifying trend or run is flagged, as in NHSRplotthedots.
- variation per point: common cause, improvement, concern, or neutral (high/low) for neutral
  polarity; the chart's icon comes from the last point. The direction of a flagged point is the
  direction of the pattern that flags it (NHSRplotthedots ``ptd_special_cause_type`` and
  ``ptd_point_type``, since its pull request #180): above/below the limits or the mean for rules
  1, 3 and 4, and rising/falling for a trend. So a rising 7-point trend in a higher-is-better
  measure is improvement for every point of it, including points still below the mean. A point
  where a rising trend meets a falling one takes the direction of the step after it (as there).
- assurance against a target (higher is better): target above the upper limit = consistently
  fail; below the lower limit = consistently pass; otherwise hit and miss. Mirror for lower is
  better; none for neutral polarity or no target.
- fewer than 12 points in a (rebased) segment: limits are trial limits, flagged for a warning.
- rebasing: limits are recalculated from each rebase point on (rebase dates come only from
  ``kpi_lib.config.annotations``, so every rebase has a plain-English reason).
- seasonal adjustment (``seasonal=True``; our addition, not in NHSRplotthedots): see
  :func:`seasonal_factors`. The XmR limits and all four rules are applied to the seasonally
  adjusted series y / f(month); the chart keeps the actual values and shows the limits multiplied
  back by f(month), so they follow the seasons.

Deviations from NHSRplotthedots, all deliberate: seasonal adjustment (above); points with a
missing value are left out of the calculation and get variation "no_data"; no
``fix_after_n_points`` baseline (limits use every point of the segment, as its default does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from kpi_lib.analyse.columns import SPC_POINTS

LIMIT = 2.66
NEAR = 2 * LIMIT / 3
SCREEN = 3.267
MIN_POINTS = 12
RUN = 7
#: Complete years needed to estimate seasonal factors; with one year the factors would copy that
#: year's noise and the adjusted series would be flat, so its limits would collapse.
MIN_SEASONAL_YEARS = 2
#: Sine and cosine pairs in the fitted seasonal curve (see :func:`seasonal_factors`).
HARMONICS = 2

VARIATION_LABELS = {
    "common_cause": "Common cause variation",
    "improvement_high": "Special cause improvement (higher)",
    "improvement_low": "Special cause improvement (lower)",
    "concern_high": "Special cause concern (higher)",
    "concern_low": "Special cause concern (lower)",
    "neutral_high": "Special cause variation (higher)",
    "neutral_low": "Special cause variation (lower)",
    "no_data": "Not enough data",
    "not_judged": "Not judged (before the window the limits come from, or too few points)",
}
ASSURANCE_LABELS = {
    "consistent_pass": "Consistently passing the target",
    "consistent_fail": "Consistently failing the target",
    "hit_and_miss": "Hit and miss: may or may not meet the target",
    "no_target": "No target",
}


@dataclass(frozen=True)
class Limits:
    mean: float
    mr_bar: float
    lpl: float
    upl: float
    near_low: float
    near_high: float


def limits(values: np.ndarray, screen_outliers: bool = True) -> Limits:
    """Centre line and process limits of an XmR chart (needs at least 2 values)."""
    y = np.asarray(values, dtype=float)
    mean = float(y.mean())
    mr = np.abs(np.diff(y))
    mr_bar = float(mr.mean()) if mr.size else float("nan")
    if screen_outliers and mr.size:
        kept = mr[mr < SCREEN * mr_bar]
        mr_bar = float(kept.mean()) if kept.size else float("nan")
    return Limits(mean, mr_bar, mean - LIMIT * mr_bar, mean + LIMIT * mr_bar,
                  mean - NEAR * mr_bar, mean + NEAR * mr_bar)


def outside_limits(y: np.ndarray, lim: Limits) -> np.ndarray:
    """Rule 1: points above the upper or below the lower process limit."""
    return (y > lim.upl) | (y < lim.lpl)


def _spread_back(flags: np.ndarray) -> np.ndarray:
    """A point is part of a pattern ending at any of the next 6 points (inclusive)
    (NHSRplotthedots ``ptd_part_of_seven_trend``)."""
    n = flags.size
    out = np.zeros(n, dtype=bool)
    for i in np.nonzero(flags)[0]:
        out[max(0, i - (RUN - 1)): i + 1] = True
    return out


def trend_ends(y: np.ndarray) -> np.ndarray:
    """+1 / -1 where a run of 7 points each strictly higher / lower than the last ends, else 0
    (NHSRplotthedots ``ptd_seven_point_trend``: a tie breaks a trend)."""
    y = np.asarray(y, dtype=float)
    n = y.size
    ends = np.zeros(n, dtype=int)
    if n >= RUN:
        d = np.sign(np.diff(y))
        for i in range(RUN - 1, n):
            window = d[i - (RUN - 1): i]
            ends[i] = 1 if np.all(window == 1) else (-1 if np.all(window == -1) else 0)
    return ends


def seven_point_trend(y: np.ndarray) -> np.ndarray:
    """Rule 2: every point of a run of 7 points each strictly higher (or lower) than the last."""
    return _spread_back(trend_ends(y) != 0)


def two_in_three_flags(close: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Rule 3 on flags: ``close`` (beyond a near limit, inside the limits) and ``side`` (+1 / -1 /
    0 against the mean). A close point is flagged when some window of 3 consecutive points around
    it has at least 2 close points and all 3 on the same side of the mean (NHSRplotthedots
    ``ptd_two_in_three`` and ``ptd_part_of_two_in_three``)."""
    close = np.asarray(close) != 0
    side = np.sign(np.asarray(side, dtype=float))
    n = close.size
    hit = np.zeros(n, dtype=bool)
    for start in range(0, max(0, n - 2)):
        w = slice(start, start + 3)
        if close[w].sum() >= 2 and abs(side[w].sum()) == 3:
            hit[w] = True
    return hit & close


def two_in_three(y: np.ndarray, lim: Limits) -> np.ndarray:
    """Rule 3: points beyond a near limit (inside the limits) that are 2 of 3 consecutive points
    beyond it, with all three points on the same side of the mean."""
    close = ~outside_limits(y, lim) & ((y < lim.near_low) | (y > lim.near_high))
    return two_in_three_flags(close, np.sign(y - lim.mean))


def seven_point_one_side(y: np.ndarray, mean: float) -> np.ndarray:
    """Rule 4: every point of a run of 7 on the same side of the mean (a point on it breaks it)."""
    side = np.sign(y - mean)
    n = y.size
    ends = np.zeros(n, dtype=bool)
    for i in range(RUN - 1, n):
        w = side[i - (RUN - 1): i + 1]
        ends[i] = bool(w[0] != 0 and np.all(w == w[0]))
    return _spread_back(ends)


def classify_points(y: np.ndarray, relative_to_mean: np.ndarray, outside: np.ndarray,
                    part_trend: np.ndarray, part_two_in_three: np.ndarray,
                    part_one_side: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rule that flags each point (first in precedence) and the pattern's direction.

    Returns (rule, direction): rule is "outside_limits", "trend", "two_in_three", "shift" or ""
    (common cause); direction is +1 (above the limit or mean, or a rising trend), -1 or 0.
    A trend's direction is the sign of the step after the point when the next point is also part
    of a trend, else the step before it (NHSRplotthedots ``ptd_special_cause_type``).
    """
    y = np.asarray(y, dtype=float)
    n = y.size
    rtm = np.sign(np.asarray(relative_to_mean, dtype=float))
    trend = np.asarray(part_trend) != 0
    d = np.sign(np.diff(y)) if n > 1 else np.zeros(0)
    right = np.append(d, 0.0)[:n]      # step after i (unused for the last point)
    left = np.insert(d, 0, 0.0)[:n]    # step before i (first point: 0)
    trend_dir = np.where(trend & np.append(trend[1:], False), right, left)
    rule = np.full(n, "", dtype=object)
    direction = np.zeros(n, dtype=int)
    for name, flags, dirs in reversed([
            ("outside_limits", np.asarray(outside) != 0, np.where(rtm == 1, 1, -1)),
            ("trend", trend, np.where(trend_dir == 1, 1, -1)),
            ("two_in_three", np.asarray(part_two_in_three) != 0, np.where(rtm > 0, 1, -1)),
            ("shift", np.asarray(part_one_side) != 0, np.where(rtm > 0, 1, -1))]):
        rule[flags] = name
        direction[flags] = dirs[flags]
    return rule, direction


def special_cause(y: np.ndarray, lim: Limits) -> tuple[np.ndarray, np.ndarray]:
    """(rule, direction) of every point against its limits; see :func:`classify_points`."""
    y = np.asarray(y, dtype=float)
    return classify_points(y, np.sign(y - lim.mean), outside_limits(y, lim), seven_point_trend(y),
                           two_in_three(y, lim), seven_point_one_side(y, lim.mean))


def point_variation(rule: np.ndarray, direction: np.ndarray, polarity: str) -> np.ndarray:
    """common_cause / improvement_* / concern_* / neutral_* for each point; the suffix is the
    pattern's direction (high = above or rising), NHSRplotthedots ``ptd_point_type``."""
    out = np.empty(len(rule), dtype=object)
    for i, (r, d) in enumerate(zip(rule, direction, strict=True)):
        if not r:
            out[i] = "common_cause"
            continue
        side = "high" if d > 0 else "low"
        if polarity == "neutral":
            out[i] = f"neutral_{side}"
        elif (polarity == "higher_better") == (d > 0):
            out[i] = f"improvement_{side}"
        else:
            out[i] = f"concern_{side}"
    return out


def assurance(target: float | None, lim: Limits, polarity: str) -> str:
    """Assurance icon: is the target consistently met, consistently missed, or hit and miss?"""
    if target is None or pd.isna(target) or polarity == "neutral" or np.isnan(lim.upl):
        return "no_target"
    increasing = polarity == "higher_better"
    if target > lim.upl:
        return "consistent_fail" if increasing else "consistent_pass"
    if target < lim.lpl:
        return "consistent_pass" if increasing else "consistent_fail"
    return "hit_and_miss"


# ------------------------------------------------------------------------------ seasonality
def _season_keys(x: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(month, financial year starting April) of each x; x must be dates."""
    s = pd.Series(x).reset_index(drop=True)
    if not (pd.api.types.is_datetime64_any_dtype(s) or all(isinstance(v, date) for v in s)):
        raise ValueError("seasonal SPC needs dates in x (the start of each month or quarter)")
    t = pd.to_datetime(s)
    month = t.dt.month.to_numpy()
    return month, t.dt.year.to_numpy() - (month < 4)


def _harmonics(month: np.ndarray) -> np.ndarray:
    """Design matrix of ``HARMONICS`` pairs of annual cosine and sine terms of the month number."""
    angle = 2 * np.pi * np.asarray(month, dtype=float)[:, None] * np.arange(1, HARMONICS + 1) / 12
    return np.hstack([np.cos(angle), np.sin(angle)])


def _complete_year_ratios(x: pd.Series, y: np.ndarray, segment: np.ndarray | None):
    """(month, financial year, seasons, ratio to its year's mean or nan, years used)."""
    y = np.asarray(y, dtype=float)
    seg = np.zeros(y.size, dtype=int) if segment is None else np.asarray(segment)
    month, fy = _season_keys(x)
    ok = ~np.isnan(y)
    seasons = np.unique(month[ok])
    ratio = np.full(y.size, np.nan)
    years = 0
    if seasons.size < 3:
        return month, fy, seasons, ratio, 0
    for key in sorted(set(zip(seg[ok].tolist(), fy[ok].tolist(), strict=True))):
        sel = ok & (seg == key[0]) & (fy == key[1])
        if sel.sum() != seasons.size or set(month[sel]) != set(seasons.tolist()):
            continue
        year_mean = y[sel].mean()
        if not year_mean > 0:
            continue
        years += 1
        ratio[sel] = y[sel] / year_mean
    return month, fy, seasons, ratio, years


def seasonal_factors(x: pd.Series, y: np.ndarray, segment: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Multiplicative seasonal factor of each point, and the number of complete years behind them.

    Method (ratio to the year's mean, smoothed): a *complete year* is a financial year (April to
    March) with a value for every season the series has (12 months, or 4 quarters) lying wholly
    inside one rebase segment. Within each complete year every value is divided by that year's
    mean; the ratios of all complete years are fitted by least squares with ``HARMONICS`` pairs of
    annual sine and cosine terms, f(month) = 1 + sum_k (a_k cos(2 pi k month / 12) +
    b_k sin(2 pi k month / 12)), and the factors are scaled to average exactly 1 over the seasons.
    Why smoothed: twelve separate monthly means each carry their own sampling noise into every
    year's limits (in our simulation that raised false alarms on pure noise from 6% to 10% of
    points); crime and call demand rise and fall smoothly through the year, which two harmonics
    follow (one summer peak, or a summer and a winter one). The latest, incomplete year never
    shapes its own factors. Years from every segment are pooled: a rebase marks a change of level
    (e.g. a recording rule) and ratios to each year's own mean do not depend on the level. With
    fewer than ``MIN_SEASONAL_YEARS`` complete years every factor is 1 (no adjustment).
    """
    month, _, seasons, ratio, years = _complete_year_ratios(x, y, segment)
    if years < MIN_SEASONAL_YEARS:
        return np.ones(month.size), years
    used = ~np.isnan(ratio)
    coef, *_ = np.linalg.lstsq(_harmonics(month[used]), ratio[used] - 1, rcond=None)
    by_season = 1 + _harmonics(seasons) @ coef
    by_season = np.maximum(by_season, 0.05)  # a factor must stay positive (guard, not reached)
    by_season = by_season / by_season.mean()
    lookup = dict(zip(seasons.tolist(), by_season.tolist(), strict=True))
    return np.array([lookup.get(int(m), 1.0) for m in month]), years


def seasonality_test(x: pd.Series, y: np.ndarray, segment: np.ndarray | None = None) -> dict:
    """Is there a yearly pattern? The evidence for listing a KPI in ``spc_seasonal``.

    An F-test (statsmodels ``compare_f_test``) of the complete years' ratios to their year's mean:
    a model with one level per year and the seasonal curve of :func:`seasonal_factors`, against
    one level per year alone. Returns p_value, swing (half the gap between the largest and
    smallest fitted factor, e.g. 0.10 for +/-10%) and years; p_value is nan with fewer than
    ``MIN_SEASONAL_YEARS`` complete years.
    """
    import statsmodels.api as sm

    month, fy, _, ratio, years = _complete_year_ratios(x, y, segment)
    if years < MIN_SEASONAL_YEARS:
        return {"p_value": float("nan"), "swing": 0.0, "years": years}
    used = ~np.isnan(ratio)
    dummies = pd.get_dummies(pd.Series(fy[used]).astype(str), dtype=float).to_numpy()
    null = sm.OLS(ratio[used], dummies).fit()
    full = sm.OLS(ratio[used], np.hstack([dummies, _harmonics(month[used])])).fit()
    _, p_value, _ = full.compare_f_test(null)
    f, _ = seasonal_factors(x, y, segment)
    return {"p_value": float(p_value), "swing": float((f.max() - f.min()) / 2), "years": years}


# ------------------------------------------------------------------------------ the chart
def xmr(series: pd.DataFrame, *, polarity: str, target: float | None = None,
        screen_outliers: bool = True, rebase: list | None = None, seasonal: bool = False) -> pd.DataFrame:
    """XmR chart table for a series with columns ``x`` (ordered) and ``y``.

    Returns one row per point: x, y, segment, mean, lpl, upl, near_low, near_high, rule,
    direction, variation, trial (True when the segment has fewer than 12 points), assurance,
    adjustment (the seasonal factor; 1.0 when not adjusted), y_adjusted (y / adjustment),
    seasonal_years (complete years behind the factors; 0 when not adjusted) and limits_clipped
    (False here; :func:`clip_percent_limits` sets it). Rebase points (values of x) start a new
    segment with its own limits. With ``seasonal`` (x must be dates) the limits and rules use the
    seasonally adjusted series and the limit columns are multiplied back by the factor, so the
    chart shows actual values against limits that follow the seasons. Missing y: 'no_data'.
    """
    df = series[["x", "y"]].sort_values("x").reset_index(drop=True).copy()
    rebase = sorted(rebase or [])
    if rebase:
        xs = df["x"].to_numpy()
        df["segment"] = np.searchsorted(np.array(_like(rebase, xs), dtype=object), xs, side="right")
    else:
        df["segment"] = 0
    raw = df["y"].to_numpy(dtype=float)
    factor, years = (seasonal_factors(df["x"], raw, df["segment"].to_numpy()) if seasonal and len(df)
                     else (np.ones(len(df)), 0))
    adj = raw / factor
    cols = {k: np.full(len(df), np.nan) for k in ("mean", "lpl", "upl", "near_low", "near_high")}
    rule = np.array([""] * len(df), dtype=object)
    direction = np.zeros(len(df), dtype=int)
    variation = np.array(["no_data"] * len(df), dtype=object)
    trial = np.zeros(len(df), dtype=bool)
    for _, idx in df.groupby("segment").groups.items():
        idx = np.asarray(idx)
        ok = idx[~np.isnan(adj[idx])]
        trial[idx] = ok.size < MIN_POINTS
        if ok.size < 2:
            continue
        y = adj[ok]
        lim = limits(y, screen_outliers)
        for k in cols:
            cols[k][idx] = getattr(lim, k) * factor[idx]
        r, d = special_cause(y, lim)
        rule[ok], direction[ok] = r, d
        variation[ok] = point_variation(r, d, polarity)
    for k, v in cols.items():
        df[k] = v
    df["rule"], df["direction"], df["variation"], df["trial"] = rule, direction, variation, trial
    df["assurance"] = "no_target"
    if len(df) and not np.isnan(df["upl"].iloc[-1]):
        last = df.iloc[-1]  # the target against the latest point's limits (seasonal: that month's)
        lim = Limits(last["mean"], np.nan, last["lpl"], last["upl"], last["near_low"], last["near_high"])
        df["assurance"] = assurance(target, lim, polarity)
    df["adjustment"] = factor
    df["y_adjusted"] = adj
    df["seasonal_years"] = years
    df["limits_clipped"] = False
    return df


def _like(rebase: list, xs: np.ndarray) -> list:
    """Rebase dates in the same type as x (date vs Timestamp) so that they compare."""
    if len(xs) and isinstance(xs[0], pd.Timestamp):
        return [pd.Timestamp(r) for r in rebase]
    if len(xs) and isinstance(xs[0], np.datetime64):
        return [np.datetime64(pd.Timestamp(r)) for r in rebase]
    if len(xs) and isinstance(xs[0], str):  # ISO dates read back from a CSV
        return [r.isoformat() if isinstance(r, date) else str(r) for r in rebase]
    return list(rebase)


def clip_percent_limits(chart: pd.DataFrame, unit: str) -> pd.DataFrame:
    """For a percentage, limits (and centre, near limits) shown clipped to 0-100, with
    ``limits_clipped`` True on the points where a limit went beyond (a rate cannot); other units
    are returned unchanged. Judgements are unaffected: no percentage lies outside 0-100."""
    out = chart.copy()
    if "limits_clipped" not in out:
        out["limits_clipped"] = False
    if unit != "percent" or out.empty:
        return out
    cols = [c for c in ("mean", "lpl", "upl", "near_low", "near_high") if c in out]
    beyond = ((out["lpl"] < 0) | (out["upl"] > 100)).to_numpy()
    out[cols] = out[cols].clip(lower=0, upper=100)
    out["limits_clipped"] = out["limits_clipped"].to_numpy(dtype=bool) | beyond
    return out


POINT_COLUMNS = SPC_POINTS.names


def points_table(chart: pd.DataFrame, kpi_id: str, basis: str, unit: str) -> pd.DataFrame:
    """One row per chart point for ``results/spc.csv``: kpi_id, basis, x, y, mean,
    lpl, upl, variation, rule, segment, adjustment, limits_clipped, in_window (whether the
    point is among those the limits come from: a chart of the whole series has them all);
    percent limits clipped to 0-100 and the clipping flagged. A missing point (no data) stays
    missing: y is empty, never zero."""
    c = clip_percent_limits(chart, unit)
    if "adjustment" not in c:
        c["adjustment"] = 1.0
    if "in_window" not in c:
        c["in_window"] = True
    out = c.assign(kpi_id=kpi_id, basis=basis or "")
    return out[POINT_COLUMNS].reset_index(drop=True)


def summary(chart: pd.DataFrame) -> dict:
    """Variation of the last point, assurance, whether the limits are trial limits, and whether
    they are seasonally adjusted."""
    if chart.empty:
        return {"spc_variation": "no_data", "spc_assurance": "no_target", "spc_trial": True,
                "spc_rule": "", "spc_points": 0, "spc_seasonal": False}
    last = chart.iloc[-1]
    return {"spc_variation": last["variation"], "spc_assurance": last["assurance"],
            "spc_trial": bool(last["trial"]), "spc_rule": last["rule"],
            "spc_points": int(chart["y"].notna().sum()),
            "spc_seasonal": bool("adjustment" in chart and (chart["adjustment"] != 1.0).any())}
