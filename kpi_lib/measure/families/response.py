"""Response family: median grade 1 and grade 2 response times, % within target times, and
unresourced incidents.

Definitions: response time = arrival minus creation, in minutes, computed on UTC instants so
that incidents across a clock change are timed correctly. The median is over incidents created
in the period that were attended; incidents not attended are left out of the median and counted
in the note. The median's 95% interval is the binomial order-statistic interval
(``kpi_lib.core.stats.median_with_interval``). An incident belongs to the local (Europe/London) day it
was created. Unresourced incidents: resourced flag false, any grade.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from kpi_lib.config.configuration import Configuration
from kpi_lib.core.stats import median_with_interval
from kpi_lib.core.windows import Window
from kpi_lib.measure.families._common import (
    Family,
    breakdown_frame,
    count_row,
    covers,
    frame,
    next_month,
    proportion_row,
    row,
    unavailable,
)

KPI_IDS = ["response_grade1_median", "response_grade2_median", "unresourced_incidents"]
#: each median KPI and the setting of its target minutes: the row's numerator is the count of
#: attended incidents within that target (shown beside the median, not part of it) and its
#: denominator the attended incidents the median is over
WITHIN_TARGET_SETTING = {"response_grade1_median": "grade1_target_minutes",
                         "response_grade2_median": "grade2_target_minutes"}


@dataclass
class IncidentTimes:
    """Incidents sorted by local creation day, with minutes to arrival (nan = not attended)."""

    day: np.ndarray  # datetime64[D]
    grade: np.ndarray
    minutes: np.ndarray
    resourced: np.ndarray
    local_area: pd.Categorical
    first: date | None
    last_exclusive: date | None


def prepare(incidents: pd.DataFrame) -> IncidentTimes:
    """The arrays the measures slice by day. Incidents already in day order (as extracts
    usually are) are not copied again; areas are kept as categories (two bytes an incident)."""
    local = incidents["created_at"].dt.tz_convert("Europe/London").dt.tz_localize(None)
    day = local.to_numpy().astype("datetime64[D]")
    del local
    minutes = ((incidents["arrived_at"] - incidents["created_at"]).dt.total_seconds() / 60).to_numpy(dtype=float)
    grade = incidents["grade"].to_numpy()
    resourced = incidents["resourced"].to_numpy(dtype=bool)
    area = incidents["local_area"].astype("category").array
    if len(day) and not bool((day[1:] >= day[:-1]).all()):
        order = np.argsort(day, kind="stable")
        day, grade, minutes, resourced, area = day[order], grade[order], minutes[order], resourced[order], area[order]
    first = last = None
    if len(day):
        first = pd.Timestamp(day[0]).date().replace(day=1)
        last_day = pd.Timestamp(day[-1]).date()
        last = next_month(last_day)
        if (pd.Timestamp(last) - pd.Timedelta(days=1)).date() != last_day:
            last = last_day.replace(day=1)
    return IncidentTimes(day, grade, minutes, resourced, area, first, last)


def _slice(t: IncidentTimes, w: Window) -> slice:
    lo = np.searchsorted(t.day, np.datetime64(w.start, "D"), side="left")
    hi = np.searchsorted(t.day, np.datetime64(w.end, "D"), side="left")
    return slice(lo, hi)


def measure(t: IncidentTimes, windows: list[Window], params: dict,
            source: str = "canonical") -> pd.DataFrame:
    p = params
    rows = []
    for w in windows:
        if not covers(w, t.first, t.last_exclusive):
            for k in KPI_IDS:
                rows.append(unavailable(k, w, "not_yet_available", "No incident data cover this period.", source=source))
            continue
        s = _slice(t, w)
        grade, minutes = t.grade[s], t.minutes[s]
        for g, kpi in ((1, "response_grade1_median"), (2, "response_grade2_median")):
            m = minutes[grade == g]
            attended = m[~np.isnan(m)]
            not_attended = int(np.isnan(m).sum())
            med = median_with_interval(attended)
            target = p[f"grade{g}_target_minutes"]
            within = int((attended <= target).sum())
            pct = f"{100 * within / attended.size:.1f}%" if attended.size else "n/a"
            note = (f"{attended.size:,} attended grade {g} incidents; {not_attended:,} not attended "
                    f"(left out of the median). {pct} attended within {target} minutes.")
            if attended.size == 0:
                rows.append(row(kpi, w, sample_n=0, note=note + " No attended incidents: median undefined.", source=source))
            else:
                rows.append(row(kpi, w, value=med["value"], ci_low=med["ci_low"], ci_high=med["ci_high"],
                                numerator=float(within), denominator=float(attended.size),
                                sample_n=float(attended.size), note=note, source=source))
        rows.append(count_row("unresourced_incidents", w, float((~t.resourced[s]).sum()),
                              denominator=float(s.stop - s.start), source=source,
                              note=f"of {s.stop - s.start:,} incidents created in the period"))
    return frame(rows)


def within_target(t: IncidentTimes, w: Window, params: dict) -> pd.DataFrame:
    """% of attended grade 1 / grade 2 incidents within their target times, with intervals."""
    p = params
    s = _slice(t, w)
    rows = []
    for g in (1, 2):
        m = t.minutes[s][t.grade[s] == g]
        m = m[~np.isnan(m)]
        target = p[f"grade{g}_target_minutes"]
        rows.append(proportion_row(f"response_grade{g}_within_target", w, float((m <= target).sum()),
                                   float(m.size), note=f"target {target} minutes"))
    return frame(rows)


def by_area(t: IncidentTimes, w: Window) -> pd.DataFrame:
    """Median grade 1 and 2 response times and unresourced incidents by local area."""
    s = _slice(t, w)
    df = pd.DataFrame({"grade": t.grade[s], "minutes": t.minutes[s], "resourced": t.resourced[s],
                       "area": t.local_area[s]})
    rows = []
    for area, d in df.groupby("area", observed=True):
        for g in (1, 2):
            m = d.loc[(d["grade"] == g) & d["minutes"].notna(), "minutes"]
            rows.append({"kpi_id": f"response_grade{g}_median", "dimension": "local area",
                         "category": area, "value": float(m.median()) if len(m) else float("nan"),
                         "numerator": float("nan"), "denominator": float(len(m)), "basis": ""})
        rows.append({"kpi_id": "unresourced_incidents", "dimension": "local area", "category": area,
                     "value": float((~d["resourced"]).sum()), "numerator": float((~d["resourced"]).sum()),
                     "denominator": float(len(d)), "basis": ""})
    return pd.DataFrame(rows, columns=["kpi_id", "dimension", "category", "value", "numerator",
                                       "denominator", "basis"])


#: Response times are kept for the median test to the nearest tenth of a minute (6 seconds).
TIME_BIN_MINUTES = 0.1


def distributions(t: IncidentTimes) -> pd.DataFrame:
    """The attended grade 1 and grade 2 response times of each month, to the nearest
    ``TIME_BIN_MINUTES`` (value, count): what Mood's median test against last year and the
    bootstrap interval of the change need (:func:`kpi_lib.core.stats.median_difference`)."""
    month = t.day.astype("datetime64[M]")
    parts = []
    for g, kpi in ((1, "response_grade1_median"), (2, "response_grade2_median")):
        sel = (t.grade == g) & ~np.isnan(t.minutes)
        if not sel.any():
            continue
        binned = np.round(t.minutes[sel] / TIME_BIN_MINUTES) * TIME_BIN_MINUTES
        d = pd.DataFrame({"period_start": month[sel], "value": np.round(binned, 1)})
        c = d.groupby(["period_start", "value"]).size().rename("count").reset_index()
        parts.append(c.assign(kpi_id=kpi))
    if not parts:
        return pd.DataFrame(columns=["kpi_id", "period_start", "value", "count"])
    out = pd.concat(parts, ignore_index=True)
    out["period_start"] = pd.to_datetime(out["period_start"]).dt.date
    out["count"] = out["count"].astype("int64")
    return out[["kpi_id", "period_start", "value", "count"]]


def prepare_tables(tables, config: Configuration) -> IncidentTimes | None:
    i = tables.get("incidents")
    return None if i is None else prepare(i)


def breakdown(t: IncidentTimes, w: Window, params: dict) -> pd.DataFrame:
    """By local area, and the % of attended incidents within their target times."""
    within = within_target(t, w, params).assign(dimension="within target", category="all incidents")
    within = within[["kpi_id", "dimension", "category", "value", "numerator", "denominator", "basis"]]
    return breakdown_frame(pd.concat([by_area(t, w), within], ignore_index=True))


FAMILY = Family(
    name="response", title="Emergency response times",
    spc_grain="month",
    introduction=(
        "How long it took to reach emergency (grade 1) and priority (grade 2) incidents, "
        "the share reached within target, and how many incidents were not attended."),
    tables=("incidents",),
    kpi_ids=tuple(KPI_IDS), prepare=prepare_tables, measure=measure, breakdown=breakdown,
    missing_note="No incident records in the input.",
    breakdown_dimensions=("within target", "local area"), distributions=distributions)
