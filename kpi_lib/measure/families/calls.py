"""Calls family: % of 999 calls answered within 10 s and of 101 calls within 30 s, 101 average
wait, and abandonment rates.

Definitions (../shared/guide/STATS.md): answered within N seconds / all calls presented, so
abandoned calls count against the KPI; average wait is over answered calls only. A call belongs
to the day (Europe/London) on which it was received. Thresholds are parameters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi_lib.config.configuration import Configuration
from kpi_lib.core.windows import Window
from kpi_lib.measure.families._common import (
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


def _local_day(ts: pd.Timestamp) -> int:
    """Days since 1970-01-01 of the local (Europe/London) calendar day of a UTC timestamp."""
    return int(np.datetime64(ts.tz_convert("Europe/London").tz_localize(None).date(), "D").astype(np.int64))


LINES = ("101", "999")  # the validated lines, in the order the daily table lists them
#: Calls counted at a time: the working arrays of a slice take about 40 bytes a call.
SLICE_ROWS = 2_000_000


def daily_counts(calls: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Calls per local day and line: presented, answered, within threshold, abandoned, wait.

    Counted a slice of calls at a time with ``numpy.bincount`` on (day, line), so that the memory
    used is bounded by the slice whatever the number of calls (27 million at 10 times the
    sample), not by the table."""
    p = params
    thresholds = np.array([p["threshold_101_seconds"], p["threshold_999_seconds"]], dtype=float)
    line_codes = pd.Categorical(calls["line"], categories=list(LINES)).codes
    sums: dict[str, np.ndarray] = {}
    first_day = _local_day(calls["received_at"].min()) if len(calls) else 0  # local day never runs backwards
    for lo in range(0, len(calls), SLICE_ROWS):
        part = calls.iloc[lo:lo + SLICE_ROWS]
        local = part["received_at"].dt.tz_convert("Europe/London").dt.tz_localize(None)
        day = local.to_numpy().astype("datetime64[D]").astype(np.int64)
        code = line_codes[lo:lo + SLICE_ROWS].astype(np.int64)
        key = (day - first_day) * len(LINES) + code
        wait = (part["answered_at"] - part["received_at"]).dt.total_seconds().to_numpy()
        answered = part["answered_at"].notna().to_numpy()
        within = answered & (wait <= thresholds[code])
        for name, weights in (("presented", None), ("answered", answered), ("within", within),
                              ("wait_sum", np.where(answered, wait, 0.0))):
            add = np.bincount(key, weights=weights)
            total = sums.get(name, np.zeros(0))
            if len(add) > len(total):
                total = np.concatenate([total, np.zeros(len(add) - len(total))])
            total[:len(add)] += add
            sums[name] = total
    if not sums:
        return pd.DataFrame(columns=["day", "line", "presented", "answered", "within", "abandoned", "wait_sum"])
    present = np.flatnonzero(sums["presented"] > 0)
    days = (first_day + present // len(LINES)).astype("datetime64[D]")
    out = pd.DataFrame({
        "day": pd.to_datetime(days).date, "line": np.array(LINES)[present % len(LINES)],
        "presented": sums["presented"][present].astype("int64"),
        "answered": sums["answered"][present].astype("int64"),
        "within": sums["within"][present].astype("int64"),
    })
    out["abandoned"] = out["presented"] - out["answered"]
    out["wait_sum"] = sums["wait_sum"][present]
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


def prepare(tables, config: Configuration) -> pd.DataFrame | None:
    c = tables.get("calls")
    return None if c is None else daily_counts(c, config.params)


def breakdown(daily: pd.DataFrame, w: Window, params: dict) -> pd.DataFrame:
    """No breakdown: calls carry no area."""
    return breakdown_frame([])


FAMILY = Family(
    name="calls", title="Call handling",
    spc_grain="month",
    introduction=(
        "How quickly 999 and 101 calls were answered. Abandoned calls count against the "
        "measure."),
    tables=("calls",), kpi_ids=tuple(KPI_IDS),
    prepare=prepare, measure=measure, breakdown=breakdown,
    missing_note="No call records in the input.")
