"""Calls family: % of 999 calls answered within 10 s and of 101 calls within 30 s, 101 average
wait, and abandonment rates.

Definitions (../shared/guide/STATS.md): answered within N seconds / all calls presented, so
abandoned calls count against the KPI; average wait is over answered calls only. A call belongs
to the day (Europe/London) on which it was received. Thresholds are parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..windows import Window
from ._common import (
    Config,
    Family,
    breakdown_frame,
    covers,
    frame,
    next_month,
    proportion_row,
    row,
    unavailable,
)

KPI_IDS = ["calls_999_within_10s", "calls_101_within_30s", "calls_101_average_wait",
           "calls_999_abandoned_rate", "calls_101_abandoned_rate"]


def daily_counts(calls: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Calls per local day and line: presented, answered, within threshold, abandoned, wait."""
    p = params
    # local calendar day, kept as datetime64 for a fast group-by (dates only for the ~2,000 days)
    day = calls["received_at"].dt.tz_convert("Europe/London").dt.tz_localize(None).dt.normalize()
    wait = (calls["answered_at"] - calls["received_at"]).dt.total_seconds()
    threshold = np.where(calls["line"] == "999", p["threshold_999_seconds"], p["threshold_101_seconds"])
    answered = calls["answered_at"].notna()
    df = pd.DataFrame({
        "day": day, "line": calls["line"].astype(str), "presented": 1,
        "answered": answered.astype(int),
        "within": (answered & (wait <= threshold)).astype(int),
        "abandoned": (~answered).astype(int),
        "wait_sum": wait.where(answered, 0.0),
    })
    out = df.groupby(["day", "line"], as_index=False).sum()
    out["day"] = out["day"].dt.date
    return out


def measure(daily: pd.DataFrame, windows: list[Window], params: dict | None = None,
            source: str = "canonical") -> pd.DataFrame:
    rows = []
    first = daily["day"].min() if len(daily) else None
    last = next_month(daily["day"].max()) if len(daily) else None
    if last is not None and daily["day"].max() != pd.Timestamp(last).date() - pd.Timedelta(days=1):
        last = daily["day"].max().replace(day=1)  # last month is incomplete
    for w in windows:
        if not covers(w, first, last):
            for k in KPI_IDS:
                rows.append(unavailable(k, w, "not_yet_available",
                                        "No call data cover this period.", source=source))
            continue
        sel = daily[(daily["day"] >= w.start) & (daily["day"] < w.end)]
        tot = sel.groupby("line")[["presented", "answered", "within", "abandoned", "wait_sum"]].sum()
        get = lambda line, col, tot=tot: float(tot[col].get(line, 0.0))  # noqa: E731
        rows.append(proportion_row("calls_999_within_10s", w, get("999", "within"), get("999", "presented"), source=source))
        rows.append(proportion_row("calls_101_within_30s", w, get("101", "within"), get("101", "presented"), source=source))
        answered = get("101", "answered")
        mean_wait = get("101", "wait_sum") / answered if answered else float("nan")
        rows.append(row("calls_101_average_wait", w, value=mean_wait, numerator=get("101", "wait_sum"),
                        denominator=answered, sample_n=answered, source=source,
                        note="" if answered else "No answered 101 calls: the average is undefined."))
        rows.append(proportion_row("calls_999_abandoned_rate", w, get("999", "abandoned"), get("999", "presented"), source=source))
        rows.append(proportion_row("calls_101_abandoned_rate", w, get("101", "abandoned"), get("101", "presented"), source=source))
    return frame(rows)


def prepare(tables, config: Config) -> pd.DataFrame | None:
    c = tables.get("calls")
    return None if c is None else daily_counts(c, config.params)


def breakdown(daily: pd.DataFrame, w: Window, params: dict) -> pd.DataFrame:
    """No breakdown: calls carry no area."""
    return breakdown_frame([])


FAMILY = Family(
    name="calls", title="Call handling", tables=("calls",), kpi_ids=tuple(KPI_IDS),
    prepare=prepare, measure=measure, breakdown=breakdown,
    missing_note="No call records in the input.")
