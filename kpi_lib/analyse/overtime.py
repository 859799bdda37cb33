"""The second question a Panel asks of a KPI: is it behaving differently over time?

Answered by an XmR chart (:func:`kpi_lib.analyse.spc.xmr`, Making Data Count) whose limits come
from a *recent window*, never from the whole history: limits over six years flag almost any
series that drifts slowly at its latest point, which is a trend, not a change this quarter.

The rule (:func:`over_time`), also in docs/methods.md:

1. **Points.** The series since the last rebase (a dated event in the annotations registry).
   Missing months (no data, never zero) are left out. Fewer than ``min_points`` (12) points:
   **too few points to judge (n of 12)**, and no limits are drawn.
2. **Seasons.** For a seasonal KPI, month factors come from every complete year of the whole
   series before the period being judged (:func:`kpi_lib.analyse.spc.seasonal_factors`; the
   period's own year never shapes its factors, so a step this quarter is not adjusted away);
   limits and rules use the adjusted series, and the limits drawn are multiplied back by each
   month's factor.
3. **A steady trend is its own finding.** An ordinary least squares line through the adjusted
   points since the rebase (at least two windows' worth of them), with Newey-West standard errors
   (statsmodels, so that runs of similar months do not fake precision), is a trend when its slope
   has p < ``trend_alpha`` (0.01) and the window's own slope points the same way (the trend has not
   reversed). Its words: **a steady rise (fall) since <year>**, the year of the first point.
4. **The window.** Limits come from the latest ``window_months`` (24) calendar months of points
   since the rebase, extended back to the latest ``min_points`` points when that is fewer (a
   quarterly series: 12 quarters). Around a trend the centre line follows the trend line (the
   chart of the residuals, with the line added back), so that a point is judged against where
   the trend says it would be.
5. **This period's finding**, first match wins: **outside its usual range this quarter** (a point
   of the period beyond the limits, or two of three near a limit); **a sustained shift since
   <month>** (the latest point ends a run of 7 or more on one side of the centre line, or of 7
   rising or falling); **a steady rise or fall since <year>** (step 3); otherwise **within its
   usual range**. A shift or an outside point on top of a trend says so ("..., on top of a
   steady rise since 2019").
6. **Assurance** against a target is judged on the period's points, not on its last month: the
   target beyond the limits of every point of the period (consistently passing or failing), or
   else hit and miss.

Pure: frames in, a frame and words out; the caller chooses which points make the series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from kpi_lib.analyse import spc

WINDOW_MONTHS = 24
MIN_POINTS = 12
TREND_ALPHA = 0.01

#: Finding codes of the over-time question and how each reads (``{period}``: quarter or year).
FINDINGS = {
    "outside": "outside its usual range this {period}",
    "shift": "a sustained shift since {since}",
    "trend": "a steady {rise} since {since}",
    "within": "within its usual range",
    "too_few": "too few points to judge ({n} of {min})",
    "none": "no chart",
}
NOT_JUDGED = "not_judged"
LIMIT_COLUMNS = ("mean", "lpl", "upl", "near_low", "near_high")


@dataclass
class OverTime:
    """The over-time answer for one KPI: ``finding`` (a :data:`FINDINGS` code), ``direction``
    (+1 up, -1 down, 0), ``words`` (the finding in plain English), ``since`` (the month or year a
    shift or trend started, as words), ``trend`` (+1 / -1 / 0: a steady trend, whatever the
    finding), ``window_start`` and ``window_points`` (the points the limits come from),
    ``assurance`` (against a target, on the period's points) and ``chart`` (every point, with
    limits on the window's points only; see :func:`over_time`)."""

    finding: str
    direction: int
    words: str
    since: str
    trend: int
    trend_since: str
    window_start: date | None
    window_points: int
    points: int
    assurance: str
    chart: pd.DataFrame = field(repr=False)


def _months_before(d: date, months: int) -> date:
    total = d.year * 12 + d.month - 1 - months
    return date(total // 12, total % 12 + 1, 1)


def _as_dates(x: pd.Series) -> pd.Series:
    return pd.to_datetime(pd.Series(x).reset_index(drop=True))


def _years(t: pd.Series) -> np.ndarray:
    """Time in years from the first point (for trend slopes)."""
    return ((t - t.iloc[0]).dt.days / 365.25).to_numpy(dtype=float)


def _fit_line(t: np.ndarray, y: np.ndarray, hac_lags: int) -> tuple[float, float, float]:
    """(intercept, slope, p-value of the slope) of y on t, Newey-West standard errors."""
    import statsmodels.api as sm

    fit = sm.OLS(y, sm.add_constant(t)).fit(cov_type="HAC", cov_kwds={"maxlags": hac_lags}, use_t=True)
    return float(fit.params[0]), float(fit.params[1]), float(fit.pvalues[1])


def trend_test(x: pd.Series, y: np.ndarray, *, alpha: float = TREND_ALPHA) -> dict:
    """Is there a steady trend in ``y`` (already seasonally adjusted, no missing values)?

    Ordinary least squares of y on time in years with Newey-West (HAC) standard errors, lags
    floor(4 (n / 100)^(2/9)) (Newey and West 1994). Returns intercept, slope (per year), p_value
    and significant (p < ``alpha``)."""
    t = _years(_as_dates(x))
    y = np.asarray(y, dtype=float)
    if y.size < 3 or np.ptp(t) == 0:
        return {"intercept": math.nan, "slope": math.nan, "p_value": math.nan, "significant": False}
    lags = max(1, int(4 * (y.size / 100) ** (2 / 9)))
    a, b, p = _fit_line(t, y, lags)
    return {"intercept": a, "slope": b, "p_value": p, "significant": bool(p < alpha)}


def _run_start(side: np.ndarray) -> int:
    """Index where the run of equal non-zero signs ending at the last point starts."""
    i = side.size - 1
    while i > 0 and side[i - 1] == side[-1] and side[-1] != 0:
        i -= 1
    return i


def _rising_start(y: np.ndarray) -> int:
    """Index where the run of strictly rising (or falling) points ending at the last starts."""
    d = np.sign(np.diff(y))
    if d.size == 0 or d[-1] == 0:
        return y.size - 1
    i = d.size - 1
    while i > 0 and d[i - 1] == d[-1]:
        i -= 1
    return i


def _month_words(x) -> str:
    return pd.Timestamp(x).strftime("%B %Y")


def _chart_frame(x: np.ndarray, y: np.ndarray, segment: np.ndarray, factor: np.ndarray, years: int,
                 cols: dict[str, np.ndarray]) -> pd.DataFrame:
    """The chart table in the column order of :func:`kpi_lib.analyse.spc.xmr`, plus ``in_window``."""
    return pd.DataFrame({"x": x, "y": y, "segment": segment,
                         **{c: cols[c] for c in LIMIT_COLUMNS},
                         "rule": cols["rule"], "direction": cols["direction"],
                         "variation": cols["variation"], "trial": np.zeros(x.size, dtype=bool),
                         "assurance": cols["assurance"], "adjustment": factor, "y_adjusted": y / factor,
                         "seasonal_years": years, "limits_clipped": np.zeros(x.size, dtype=bool),
                         "in_window": cols["in_window"]})


def _blank(n: int, y: np.ndarray) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {c: np.full(n, np.nan) for c in LIMIT_COLUMNS}
    cols["rule"] = np.full(n, "", dtype=object)
    cols["direction"] = np.zeros(n, dtype=int)
    cols["variation"] = np.where(np.isnan(y), "no_data", NOT_JUDGED).astype(object)
    cols["assurance"] = np.full(n, "no_target", dtype=object)
    cols["in_window"] = np.zeros(n, dtype=bool)
    return cols


def period_assurance(chart: pd.DataFrame, period_start: date, target: float | None, polarity: str) -> str:
    """Assurance against a target judged on all the period's points (each against its own
    limits, which follow the seasons): consistent_pass / consistent_fail when the target lies
    beyond every one of them on the same side, else hit_and_miss; no_target without a target or
    a direction, or without limits."""
    if target is None or pd.isna(target) or polarity not in ("higher_better", "lower_better"):
        return "no_target"
    c = chart[chart["in_window"].astype(bool) & (pd.to_datetime(chart["x"]) >= pd.Timestamp(period_start))
              & chart["upl"].notna()]
    if c.empty:
        return "no_target"
    kinds = {spc.assurance(target, spc.Limits(r.mean, math.nan, r.lpl, r.upl, r.near_low, r.near_high), polarity)
             for r in c.itertuples()}
    return kinds.pop() if len(kinds) == 1 else "hit_and_miss"


def over_time(series: pd.DataFrame, *, period_start: date, period_end: date, period_word: str,
              polarity: str, target: float | None = None, rebase: list | None = None,
              seasonal: bool = False, screen_outliers: bool = True,
              window_months: int = WINDOW_MONTHS, min_points: int = MIN_POINTS,
              trend_alpha: float = TREND_ALPHA) -> OverTime:
    """The over-time finding for a series with columns ``x`` (the start date of each month or
    quarter, up to the period's end) and ``y`` (nan where the data are missing): the rule is in
    the module docstring.

    The chart has every point of ``series`` with the columns of :func:`kpi_lib.analyse.spc.xmr`
    plus ``in_window``; points outside the window have no limits and variation ``not_judged``.
    ``period_end`` is exclusive (the first day after the period)."""
    df = pd.DataFrame({"x": pd.to_datetime(series["x"]).dt.date.to_numpy(),
                       "y": series["y"].to_numpy(dtype=float)}).sort_values("x", kind="stable")
    xs = df["x"].to_numpy()
    y = df["y"].to_numpy(dtype=float)
    rebase = sorted(pd.Timestamp(r).date() for r in (rebase or []))
    segment = (np.searchsorted(np.array(rebase, dtype=object), xs, side="right") if rebase
               else np.zeros(xs.size, dtype=int))
    df = pd.DataFrame({"x": xs, "y": y, "segment": segment})
    # the period being judged never shapes its own seasonal factors: its year counts as incomplete
    before = np.where(np.array([x >= period_start for x in xs], dtype=bool), np.nan, y)
    factor, years = ((spc.seasonal_factors(df["x"], before, df["segment"].to_numpy())) if seasonal and len(df)
                     else (np.ones(len(df)), 0))
    adj = y / factor
    last_seg = int(segment.max()) if segment.size else 0
    in_seg = (segment == last_seg) & ~np.isnan(adj)
    n_seg = int(in_seg.sum())
    cols = _blank(xs.size, y)
    if n_seg < min_points:
        words = FINDINGS["too_few"].format(n=n_seg, min=min_points)
        chart = _chart_frame(xs, y, segment, factor, years, cols)
        return OverTime("too_few", 0, words, "", 0, "", None, 0, n_seg, "no_target", chart)

    seg_idx = np.flatnonzero(in_seg)
    cutoff = _months_before(period_end, window_months)
    win_idx = seg_idx[np.array([x >= cutoff for x in xs[seg_idx]])]
    if win_idx.size < min_points:
        win_idx = seg_idx[-min_points:]
    t_all = _as_dates(df["x"])

    # a steady trend since the rebase (needs more points than one window)
    trend, trend_since, line = 0, "", None
    if seg_idx.size >= 2 * min_points:
        tt = trend_test(df["x"].iloc[seg_idx], adj[seg_idx], alpha=trend_alpha)
        if tt["significant"]:
            win = trend_test(df["x"].iloc[win_idx], adj[win_idx], alpha=1.0)
            if np.sign(win["slope"]) == np.sign(tt["slope"]):
                trend = 1 if tt["slope"] > 0 else -1
                trend_since = str(pd.Timestamp(xs[seg_idx[0]]).year)
                t_years = ((t_all - t_all.iloc[seg_idx[0]]).dt.days / 365.25).to_numpy(dtype=float)
                line = tt["intercept"] + tt["slope"] * t_years

    # limits from the window (around the trend line when there is a trend)
    yw = adj[win_idx]
    shift = np.zeros(win_idx.size)
    if line is not None:
        lw = line[win_idx]
        shift = lw - lw.mean()
        yw = yw - shift
    sub = spc.xmr(pd.DataFrame({"x": xs[win_idx], "y": yw}), polarity=polarity, target=None,
                  screen_outliers=screen_outliers)
    f = factor[win_idx]
    for c in LIMIT_COLUMNS:
        cols[c][win_idx] = (sub[c].to_numpy(dtype=float) + shift) * f
    for c in ("rule", "direction", "variation"):
        cols[c][win_idx] = sub[c].to_numpy()
    cols["in_window"][win_idx] = True

    # this period's finding
    win_x = pd.to_datetime(pd.Series(xs[win_idx]))
    in_period = (win_x >= pd.Timestamp(period_start)).to_numpy()
    rules = sub["rule"].to_numpy()
    dirs = sub["direction"].to_numpy(dtype=int)
    period_word = period_word or "quarter"
    finding, direction, since, extra = "within", 0, "", ""
    outside = np.flatnonzero(in_period & np.isin(rules, ["outside_limits", "two_in_three"]))
    last_rule = rules[-1] if rules.size else ""
    if outside.size:
        i = outside[-1]
        direction = int(dirs[i])
        finding = "outside"
        where = "above" if direction > 0 else "below"
        if rules[i] == "two_in_three":
            extra = f"near the top of its usual range this {period_word}" if direction > 0 else \
                f"near the bottom of its usual range this {period_word}"
        else:
            extra = f"{where} its usual range this {period_word}"
        if in_period.sum() > 1:
            extra += f" ({win_x.iloc[i]:%B %Y})"
    elif last_rule in ("shift", "trend") and in_period[-1]:
        finding, direction = "shift", int(dirs[-1])
        if last_rule == "shift":
            side = np.sign(yw - sub["mean"].to_numpy(dtype=float))
            start = _run_start(side)
            since = _month_words(win_x.iloc[start])
            extra = f"a sustained shift {'up' if direction > 0 else 'down'} since {since}"
        else:
            start = _rising_start(yw)
            since = _month_words(win_x.iloc[start])
            extra = f"{'rising' if direction > 0 else 'falling'} every {'month' if len(win_x) and _grain_is_month(win_x) else 'quarter'} since {since}"
    elif trend:
        finding, direction, since = "trend", trend, trend_since
        extra = FINDINGS["trend"].format(rise="rise" if trend > 0 else "fall", since=trend_since)
    else:
        extra = FINDINGS["within"]
    if trend and finding in ("outside", "shift"):
        extra += f", on top of a steady {'rise' if trend > 0 else 'fall'} since {trend_since}"
    chart = _chart_frame(xs, y, segment, factor, years, cols)
    assurance = period_assurance(chart, period_start, target, polarity)
    chart["assurance"] = assurance
    window_start = pd.Timestamp(xs[win_idx[0]]).date()
    return OverTime(finding, direction, extra, since, trend, trend_since, window_start,
                    int(win_idx.size), n_seg, assurance, chart)


def _grain_is_month(x: pd.Series) -> bool:
    if len(x) < 2:
        return True
    return (x.iloc[-1] - x.iloc[-2]).days < 40
