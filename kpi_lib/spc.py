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
  polarity; the chart's icon comes from the last point.
- assurance against a target (higher is better): target above the upper limit = consistently
  fail; below the lower limit = consistently pass; otherwise hit and miss. Mirror for lower is
  better; none for neutral polarity or no target.
- fewer than 12 points in a (rebased) segment: limits are trial limits, flagged for a warning.
- rebasing: limits are recalculated from each rebase point on.

Deliberate deviation: none known. Points with a missing value are left out of the calculation
and get variation "no_data".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LIMIT = 2.66
NEAR = 2 * LIMIT / 3
SCREEN = 3.267
MIN_POINTS = 12
RUN = 7

VARIATION_LABELS = {
    "common_cause": "Common cause variation",
    "improvement_high": "Special cause improvement (higher)",
    "improvement_low": "Special cause improvement (lower)",
    "concern_high": "Special cause concern (higher)",
    "concern_low": "Special cause concern (lower)",
    "neutral_high": "Special cause variation (higher)",
    "neutral_low": "Special cause variation (lower)",
    "no_data": "Not enough data",
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
    """A point is part of a pattern ending at any of the next 6 points (inclusive)."""
    n = flags.size
    out = np.zeros(n, dtype=bool)
    for i in np.nonzero(flags)[0]:
        out[max(0, i - (RUN - 1)): i + 1] = True
    return out


def seven_point_trend(y: np.ndarray) -> np.ndarray:
    """Rule 2: every point of a run of 7 points each strictly higher (or lower) than the last."""
    n = y.size
    ends = np.zeros(n, dtype=bool)
    if n >= RUN:
        d = np.sign(np.diff(y))
        for i in range(RUN - 1, n):
            window = d[i - (RUN - 1): i]
            ends[i] = bool(np.all(window == 1) or np.all(window == -1))
    return _spread_back(ends)


def two_in_three(y: np.ndarray, lim: Limits) -> np.ndarray:
    """Rule 3: points beyond a near limit (inside the limits) that are 2 of 3 consecutive points
    beyond it, with all three points on the same side of the mean."""
    close = ~outside_limits(y, lim) & ((y < lim.near_low) | (y > lim.near_high))
    side = np.sign(y - lim.mean)
    n = y.size
    hit = np.zeros(n, dtype=bool)
    for start in range(0, max(0, n - 2)):
        w = slice(start, start + 3)
        if close[w].sum() >= 2 and abs(side[w].sum()) == 3:
            hit[w] = True
    return hit & close


def seven_point_one_side(y: np.ndarray, mean: float) -> np.ndarray:
    """Rule 4: every point of a run of 7 on the same side of the mean (a point on it breaks it)."""
    side = np.sign(y - mean)
    n = y.size
    ends = np.zeros(n, dtype=bool)
    for i in range(RUN - 1, n):
        w = side[i - (RUN - 1): i + 1]
        ends[i] = bool(w[0] != 0 and np.all(w == w[0]))
    return _spread_back(ends)


def special_cause_rule(y: np.ndarray, lim: Limits) -> np.ndarray:
    """Which rule flags each point (first in precedence), or '' for common cause."""
    rules = [("outside_limits", outside_limits(y, lim)), ("trend", seven_point_trend(y)),
             ("two_in_three", two_in_three(y, lim)), ("shift", seven_point_one_side(y, lim.mean))]
    out = np.array([""] * y.size, dtype=object)
    for name, flags in reversed(rules):
        out[flags] = name
    return out


def point_variation(y: np.ndarray, rule: np.ndarray, mean: float, polarity: str) -> np.ndarray:
    """common_cause / improvement_* / concern_* / neutral_* for each point."""
    high = y > mean
    out = np.empty(y.size, dtype=object)
    for i in range(y.size):
        if not rule[i]:
            out[i] = "common_cause"
            continue
        direction = "high" if high[i] else "low"
        if polarity == "neutral":
            out[i] = f"neutral_{direction}"
        elif (polarity == "higher_better") == bool(high[i]):
            out[i] = f"improvement_{direction}"
        else:
            out[i] = f"concern_{direction}"
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


def xmr(series: pd.DataFrame, *, polarity: str, target: float | None = None,
        screen_outliers: bool = True, rebase: list | None = None) -> pd.DataFrame:
    """XmR chart table for a series with columns ``x`` (ordered) and ``y``.

    Returns one row per point: x, y, segment, mean, lpl, upl, near_low, near_high, rule,
    variation, trial (True when the segment has fewer than 12 points). Rebase points (values of
    x) start a new segment with its own limits. Missing y: variation 'no_data'.
    """
    df = series[["x", "y"]].sort_values("x").reset_index(drop=True).copy()
    rebase = sorted(rebase or [])
    df["segment"] = np.searchsorted(np.array(rebase, dtype=object), df["x"].to_numpy(), side="right") \
        if rebase else 0
    cols = {k: np.full(len(df), np.nan) for k in ("mean", "lpl", "upl", "near_low", "near_high")}
    rule = np.array([""] * len(df), dtype=object)
    variation = np.array(["no_data"] * len(df), dtype=object)
    trial = np.zeros(len(df), dtype=bool)
    for _, idx in df.groupby("segment").groups.items():
        idx = np.asarray(idx)
        ok = idx[df.loc[idx, "y"].notna().to_numpy()]
        trial[idx] = ok.size < MIN_POINTS
        if ok.size < 2:
            continue
        y = df.loc[ok, "y"].to_numpy(dtype=float)
        lim = limits(y, screen_outliers)
        for k in cols:
            cols[k][idx] = getattr(lim, k)
        r = special_cause_rule(y, lim)
        rule[ok] = r
        variation[ok] = point_variation(y, r, lim.mean, polarity)
    for k, v in cols.items():
        df[k] = v
    df["rule"], df["variation"], df["trial"] = rule, variation, trial
    df["assurance"] = "no_target"
    if len(df) and not np.isnan(df["upl"].iloc[-1]):
        last = df.iloc[-1]
        lim = Limits(last["mean"], np.nan, last["lpl"], last["upl"], last["near_low"], last["near_high"])
        df["assurance"] = assurance(target, lim, polarity)
    return df


def summary(chart: pd.DataFrame) -> dict:
    """Variation of the last point, assurance, and whether the limits are trial limits."""
    if chart.empty:
        return {"spc_variation": "no_data", "spc_assurance": "no_target", "spc_trial": True,
                "spc_rule": "", "spc_points": 0}
    last = chart.iloc[-1]
    return {"spc_variation": last["variation"], "spc_assurance": last["assurance"],
            "spc_trial": bool(last["trial"]), "spc_rule": last["rule"],
            "spc_points": int(chart["y"].notna().sum())}
