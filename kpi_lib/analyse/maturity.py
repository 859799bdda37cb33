"""When a maturing outcome rate can be judged: from the maturity curve of past cohorts, the date
by which fewer than a given share of a cohort's crimes will still await an outcome.

A cohort outcome rate rises as investigations close; while many outcomes are pending the report
calls it "too early to tell". The Panel's next question is "when can it be judged?". The answer
comes from how fast earlier cohorts matured: for the latest complete quarters old enough to have
matured (:data:`LOOKBACK` quarters, each at least :data:`MAX_DAYS` days old at the extraction
date), the share of their crimes still without an outcome ``d`` days after the quarter ended,
pooled; the first ``d`` at which that share falls below the threshold, added to the current
quarter's end, is the date from which it can be judged ("about August 2025").

Pure: the panel's maturity table (outcomes by month of recording, category, outcome type and
days after the recording month's last day) and monthly crime counts in, a date out.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from kpi_lib.core.periods import Period

#: Past quarters pooled for the curve.
LOOKBACK = 4
#: How old (days after the quarter's end) a past quarter must be to be used, and the longest
#: horizon looked at.
MAX_DAYS = 730


def pending_curve(maturity: pd.DataFrame, crimes_by_month: pd.Series, category: str,
                  quarters: list[Period], max_days: int = MAX_DAYS) -> pd.Series:
    """Share (%) of the crimes recorded in ``quarters`` still without an outcome ``d`` days after
    each quarter's end, for d = 0 .. ``max_days`` (index), pooled over the quarters.
    ``crimes_by_month``: crimes recorded in the category, by first day of the month."""
    m = maturity[(maturity["category"] == category) & (maturity["outcome_type"].astype(str) != "0")]
    starts = pd.to_datetime(m["period_start"])
    ages = np.arange(max_days + 1)
    assigned = np.zeros(len(ages))
    crimes = 0.0
    for q in quarters:
        end = pd.Timestamp(q.end)
        inq = (starts >= pd.Timestamp(q.start)) & (starts <= end)
        part = m[inq]
        # days after the recording month's last day -> days after the quarter's end
        month_end = pd.to_datetime(part["period_start"]) + pd.offsets.MonthEnd(0)
        after_q = part["days"].to_numpy() - (end - month_end).dt.days.to_numpy()
        counts = np.bincount(np.clip(after_q, 0, None).astype(int), weights=part["count"].to_numpy(float),
                             minlength=max_days + 1)[:max_days + 1]
        assigned += np.cumsum(counts)
        months = pd.date_range(q.start, q.end, freq="MS")
        crimes += float(crimes_by_month.reindex(months).fillna(0).sum())
    if crimes <= 0:
        return pd.Series(dtype=float)
    return pd.Series(100.0 * (1 - assigned / crimes), index=ages)


def matured_quarters(period: Period, extraction: date, n: int = LOOKBACK, max_days: int = MAX_DAYS) -> list[Period]:
    """The ``n`` latest quarters at least ``max_days`` old at ``extraction`` (before ``period``)."""
    out = []
    q = period.previous()
    while len(out) < n and q.fy > period.fy - 20:
        if (extraction - q.end).days >= max_days:
            out.append(q)
        q = q.previous()
    return out


def judgeable_from(maturity: pd.DataFrame, crimes_by_month: pd.Series, category: str, period: Period,
                   extraction: date, threshold_pct: float) -> date | None:
    """The first date at which the period's cohort is expected to have fewer than
    ``threshold_pct`` % of its outcomes pending, or None when past cohorts never got there within
    :data:`MAX_DAYS` days (or there are none to learn from)."""
    quarters = matured_quarters(period, extraction)
    if not quarters:
        return None
    curve = pending_curve(maturity, crimes_by_month, category, quarters)
    below = curve[curve < threshold_pct]
    if below.empty:
        return None
    return period.end + timedelta(days=int(below.index[0]))


def month_words(d: date) -> str:
    """"August 2025"."""
    return f"{d:%B %Y}"
