"""Inputs as they stood at a past extraction date (``kpi run PERIOD --as-at DATE``).

A force's extract holds today's records; the figures first reported for a past quarter came from
an extract taken then. :func:`cut_as_at` gives the tables as that earlier extract would have held
them, so every figure (and its coverage) is computed as it stood on ``day``:

- each record is kept only if it is dated on or before ``day``: crimes by their recorded date,
  calls by the local day they were received, incidents by the local day they were created, survey
  responses by their interview date, carbon rows by the month they start;
- a crime outcome dated after ``day`` had not been assigned yet: its row is removed, so the crime
  counts as "not yet assigned" (type 0) in cohort rates, as it did then;
- an incident attended, or a call answered, after ``day`` had no arrival (answer) in that extract:
  the time is left empty, as it was then (the handful of calls still ringing at midnight);
- a finance return is kept only for quarters ended by ``day``, a value-for-money conclusion only
  for years ended by ``day``;
- the extraction date becomes ``day``, so coverage ends where that extract's would have.

Rows left out are counted in the row ledger under their reason (nothing is dropped silently).
Published totals (Home Office tables, police.uk files) carry no record dates and cannot be cut:
asking for them is an error.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd

from kpi_lib.core.errors import InputError
from kpi_lib.core.periods import Period

LOCAL_ZONE = "Europe/London"  # the local days records belong to, as the coverage rules count them


def _local_day_end(day: date) -> pd.Timestamp:
    """The first instant after ``day`` ends in the local zone, in UTC."""
    return pd.Timestamp(day + timedelta(days=1)).tz_localize(LOCAL_ZONE).tz_convert("UTC")


def keep_masks(tables, day: date) -> dict[str, pd.Series]:
    """table -> the rows kept as at ``day`` (see the module doc)."""
    end_naive = pd.Timestamp(day + timedelta(days=1))
    end_utc = _local_day_end(day)
    keep: dict[str, pd.Series] = {}
    for table, column in (("crimes", "recorded_date"), ("survey_responses", "interview_date"),
                          ("carbon", "period_start")):
        df = tables.get(table)
        if df is not None:
            keep[table] = df[column] < end_naive
    for table, column in (("calls", "received_at"), ("incidents", "created_at")):
        df = tables.get(table)
        if df is not None:
            keep[table] = df[column] < end_utc
    outcomes = tables.get("outcomes")
    if outcomes is not None:
        dated_later = outcomes["outcome_date"].notna() & (outcomes["outcome_date"] >= end_naive)
        kept = ~dated_later
        crimes = tables.get("crimes")
        if crimes is not None and "crimes" in keep:
            later_crimes = crimes.loc[~keep["crimes"], "crime_ref"]
            kept &= ~outcomes["crime_ref"].isin(later_crimes)
        keep["outcomes"] = kept
    for table, ended in (("finance", lambda r: Period(Period.parse(r["financial_year"]).fy, int(r["quarter"])).end),
                         ("vfm", lambda r: Period.parse(r["financial_year"]).end)):
        df = tables.get(table)
        if df is not None:
            keep[table] = pd.Series([ended(r) <= day for r in df.to_dict("records")], index=df.index, dtype=bool)
    return keep


REASONS = {"outcomes": "outcome dated after {day}, or of a crime recorded after it (not yet assigned then)",
           "finance": "quarter not ended by {day}", "vfm": "year not ended by {day}"}


def cut_as_at(tables, day: date):
    """The tables as an extract taken on ``day`` would have held them (a new
    :class:`~kpi_lib.inputs.canonical.Tables`; the input is not changed)."""
    if tables.extras.get("crime_counts") is not None:
        raise InputError(tables.folder, "--as-at needs the force's own records",
                         expected="record-level crimes and outcomes: published tables (Home Office, "
                                  "police.uk) carry no record dates and cannot be cut at a date")
    if tables.extraction_date is not None and day > tables.extraction_date:
        raise InputError(tables.folder, f"--as-at {day.isoformat()} is after the extraction date "
                         f"{tables.extraction_date.isoformat()}",
                         expected="a date on or before the extraction date (figures cannot be shown "
                                  "as they will stand later)")
    keep = keep_masks(tables, day)
    frames = dict(tables.frames)
    end = _local_day_end(day)
    later: list[str] = []
    for table, column, what in (("incidents", "arrived_at", "attended"), ("calls", "answered_at", "answered")):
        df = frames.get(table)
        if df is not None:
            after = (df[column] >= end).to_numpy() & keep[table].to_numpy()
            if after.any():
                df = df.copy()
                df.loc[after, column] = pd.NaT
                frames[table] = df
                later.append(f"{int(after.sum()):,} {table} {what} after it (not yet {what} then)")
    ledger = []
    for entry in tables.ledger:
        mask = keep.get(entry.table)
        if mask is None or entry.table not in frames:
            ledger.append(entry)
            continue
        gone = int((~mask).sum())
        if gone:
            reason = REASONS.get(entry.table, "dated after {day} (not yet in the extract then)").format(day=day.isoformat())
            entry = replace(entry, rows_used=entry.rows_used - gone, rejected={**entry.rejected, reason: gone})
        ledger.append(entry)
    for table, mask in keep.items():
        frames[table] = frames[table][mask.to_numpy()].reset_index(drop=True)
    note = (f"Figures as they stood on {day:%-d %B %Y}: records dated after it, and crime outcomes "
            "assigned after it, are left out (as in an extract taken that day)"
            + (f"; {'; '.join(later)}" if later else "") + ".")
    return replace(tables, frames=frames, ledger=ledger, extraction_date=day, notes=[*tables.notes, note])
