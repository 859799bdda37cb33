"""Which months each input covers: missing is never zero.

A table's *span* runs from its first period with rows to the end of its coverage. Inside the
span, a period with no rows at all (a month of a record table, or a quarter of a survey or of a
Home Office table that has no row for the force) is **missing**: it is never summed, charted,
tested or used in limits, and a comparison with it says "not comparable: <period> is not in the
data". The rule (docs/methods.md, "Coverage"):

- **grain**: months for the record tables (crimes, calls, incidents) and carbon; quarters for
  survey responses and for public tables given by quarter; months for data.police.uk files.
- **coverage end**: with an extraction date, the start of the extraction month (a part month is
  incomplete), and never beyond the month after a table's last record. Without one, the extract
  was taken on or after its latest record, but when is unknown: a month is complete for a
  record table only when the table has a record on its last day or later, and every table's
  coverage ends at the last complete month that *every* record table reaches (an extract taken
  on 10 March covers February, for crimes as for calls). A table with no record tables beside
  it ends at its own last complete period.
- **isolated far-future records are errors, not coverage**: rows after a gap of at least
  ``ISOLATED_GAP_MONTHS`` empty months at the end of a table, holding under ``ISOLATED_SHARE`` of
  its rows (a date typed into the wrong year), stop the run with a message naming the file, the
  column and the dates; they would otherwise make empty months "covered", as zeros.

:func:`coverage_of` works out the coverage of every input table; :func:`apply_coverage` turns the
measurement rows of windows that touch a missing period into ``not_in_data`` (no value) and
those that end after the coverage end into ``not_yet_available``. Pure: tables in, frames out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from kpi_lib.core.errors import InputError

#: Record tables (rows dated to the day) whose ends, together, say where an extract stops.
RECORD_TABLES = {"crimes": "recorded_date", "calls": "received_at", "incidents": "created_at"}
#: Other dated tables: the column and the grain of their coverage.
PERIOD_TABLES = {"survey_responses": ("interview_date", "quarter"), "carbon": ("period_start", "month")}
#: Which tables each family needs (the crime family reads a public crime source under "crimes").
FAMILY_TABLES = {"crime": ("crimes",), "calls": ("calls",), "response": ("incidents",),
                 "confidence": ("survey_responses",), "satisfaction": ("survey_responses",),
                 "environment": ("carbon",), "finance": ()}
ISOLATED_GAP_MONTHS = 3
ISOLATED_SHARE = 0.01
COLUMNS = ["table", "grain", "first", "end", "periods", "missing", "source", "files"]


@dataclass
class TableCoverage:
    """One table's coverage: ``grain`` (month or quarter), ``first`` (start of its first period
    with rows), ``end`` (exclusive end of its coverage), ``present`` (period starts with rows)
    and ``missing`` (period starts inside [first, end) with none)."""

    table: str
    grain: str
    first: date | None
    end: date | None
    present: list[date] = field(default_factory=list)
    missing: list[date] = field(default_factory=list)
    source: str = "canonical"
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"table": self.table, "grain": self.grain,
                "first": self.first.isoformat() if self.first else None,
                "end": self.end.isoformat() if self.end else None,
                "periods": len(self.present), "missing": [d.isoformat() for d in self.missing],
                "source": self.source, "files": list(self.files)}

    @classmethod
    def from_dict(cls, d: dict) -> TableCoverage:
        day = lambda v: date.fromisoformat(v) if v else None  # noqa: E731
        return cls(d["table"], d["grain"], day(d.get("first")), day(d.get("end")), [],
                   [date.fromisoformat(m) for m in d.get("missing", [])], d.get("source", "canonical"),
                   list(d.get("files", [])))


# ------------------------------------------------------------------------------ periods
def _month(d: date) -> date:
    return date(d.year, d.month, 1)


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _quarter(d: date) -> date:
    """Start of the calendar quarter containing d (financial quarters start in Apr, Jul, Oct, Jan)."""
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _next(d: date, grain: str) -> date:
    out = _next_month(d)
    if grain == "quarter":
        out = _next_month(_next_month(out))
    return out


def _periods(first: date, end: date, grain: str) -> list[date]:
    out, d = [], first
    while d < end:
        out.append(d)
        d = _next(d, grain)
    return out


def month_label(months: list[date]) -> str:
    """Months (or quarter starts) as readable runs: "May 2024 to December 2024; March 2025"."""
    if not months:
        return ""
    ms = sorted(set(months))
    runs, start, prev = [], ms[0], ms[0]
    for m in ms[1:]:
        if m == _next_month(prev):
            prev = m
            continue
        runs.append((start, prev))
        start = prev = m
    runs.append((start, prev))
    return "; ".join(f"{a:%B %Y}" if a == b else f"{a:%B %Y} to {b:%B %Y}" for a, b in runs)


def _dates(s: pd.Series) -> pd.Series:
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("Europe/London").dt.tz_localize(None)
    return pd.to_datetime(s)


def _files(tables, names: tuple[str, ...]) -> list[str]:
    return [e.file for e in getattr(tables, "ledger", []) if e.table in names]


# ------------------------------------------------------------------------------ isolated records
def check_isolated(table: str, column: str, dates: pd.Series, files: list[str]) -> None:
    """Stop with a clear message when the last months of a table are isolated far-future records
    (see the module docstring)."""
    d = _dates(dates.dropna())
    if d.empty:
        return
    months = d.dt.to_period("M")
    counts = months.value_counts().sort_index()
    idx = counts.index
    gaps = np.array([(b - a).n for a, b in zip(idx[:-1], idx[1:], strict=True)]) - 1
    big = np.flatnonzero(gaps >= ISOLATED_GAP_MONTHS)
    if big.size == 0:
        return
    cut = big[-1] + 1  # the months after the last long gap
    tail = counts.iloc[cut:]
    if tail.sum() >= ISOLATED_SHARE * counts.sum():
        return
    bad = d[months >= idx[cut]]
    shown = ", ".join(sorted({f"{x:%Y-%m-%d}" for x in bad})[:3])
    raise InputError(files[0] if files else table,
                     f"{len(bad):,} record{'s' if len(bad) != 1 else ''} dated {shown} lie far beyond the "
                     f"rest of the {table.replace('_', ' ')} (which end in {idx[cut - 1].strftime('%B %Y')}, "
                     f"{gaps[big[-1]]} empty months before them): a mistyped date?",
                     column=column, value=shown, expected="dates within the period the extract covers")


# ------------------------------------------------------------------------------ coverage
def _complete_end(last: date) -> date:
    """Exclusive end of the last complete month given the last record's day: the month is
    complete when the record is on its last day."""
    return _next_month(last) if (last + timedelta(days=1)).day == 1 else _month(last)


def coverage_of(tables) -> dict[str, TableCoverage]:
    """The coverage of every dated input table (see the module docstring); raises
    :class:`kpi_lib.core.errors.InputError` for isolated far-future records."""
    extraction = getattr(tables, "extraction_date", None)
    out: dict[str, TableCoverage] = {}
    last_days: dict[str, date] = {}
    for name, col in RECORD_TABLES.items():
        df = tables.get(name)
        if df is None or not len(df):
            continue
        check_isolated(name, col, df[col], _files(tables, (name,)))
        d = _dates(df[col]).dt.date
        present = sorted(set(_month(x) for x in d.dropna()))
        last_days[name] = max(d.dropna())
        out[name] = TableCoverage(name, "month", present[0], None, present, [], "canonical",
                                  _files(tables, (name,)))
    counts = getattr(tables, "extras", {}).get("crime_counts")
    if "crimes" not in out and counts is not None and counts.first is not None and len(counts.offences):
        grain = counts.grain
        starts = pd.to_datetime(counts.offences["period_start"]).dt.date
        present = sorted({(_month(x) if grain == "month" else _quarter(x)) for x in starts})
        src = getattr(counts, "source", "public")
        out["crimes"] = TableCoverage("crimes", grain, present[0], _next(present[-1], grain), present, [],
                                      src, _files(tables, ("police_uk_street", "home_office_pfa",
                                                           "home_office_outcomes")))
    for name, (col, grain) in PERIOD_TABLES.items():
        df = tables.get(name)
        if df is None or not len(df):
            continue
        d = _dates(df[col]).dt.date.dropna()
        start = _quarter if grain == "quarter" else _month
        present = sorted({start(x) for x in d})
        out[name] = TableCoverage(name, grain, present[0], _next(present[-1], grain), present, [],
                                  "canonical", _files(tables, (name,)))
    # coverage ends
    if extraction is not None:
        common = _month(extraction)
        for name, last in last_days.items():
            out[name].end = min(common, _next_month(last))
        for name, c in out.items():
            if name not in last_days:
                c.end = min(c.end, common) if c.end else common
    else:
        ends = [_complete_end(last) for last in last_days.values()]
        common = min(ends) if ends else None
        for name, c in out.items():
            if name in last_days:
                c.end = common
            elif common is not None:
                c.end = min(c.end, common) if c.end else common
    for c in out.values():
        if c.first is None or c.end is None or c.end <= c.first:
            c.missing = []
            continue
        have = set(c.present)
        c.missing = [p for p in _periods(c.first, c.end, c.grain) if p not in have]
    return out


def gaps_for(coverage: dict[str, TableCoverage], family: str) -> tuple[list[date], date | None, str]:
    """The missing months (each month of a missing quarter), the coverage end and the tables'
    names for a family's tables."""
    missing: set[date] = set()
    ends = []
    names = []
    for t in FAMILY_TABLES.get(family, ()):
        c = coverage.get(t)
        if c is None:
            continue
        names.append(t)
        for p in c.missing:
            missing.update(_periods(p, _next(p, c.grain), "month"))
        if c.end is not None:
            ends.append(c.end)
    return sorted(missing), (min(ends) if ends else None), ", ".join(names)


def apply_coverage(rows: pd.DataFrame, missing: list[date], end: date | None) -> pd.DataFrame:
    """Measurement rows with coverage applied: a reported row whose window touches a missing
    month becomes ``not_in_data`` (no value, count or interval; the note names the months), and
    one whose window ends after the coverage end becomes ``not_yet_available``. Rows already not
    reported are left as they are. Pure: returns a copy."""
    if rows.empty or (not missing and end is None):
        return rows
    out = rows.copy()
    starts = pd.to_datetime(out["window_start"]).dt.date.to_numpy()
    ends = pd.to_datetime(out["window_end"]).dt.date.to_numpy()
    keys = pd.Series(list(zip(starts, ends, strict=True)))
    gap_note, late = {}, set()
    for s, e in set(keys):
        inside = [m for m in missing if s <= m < e]
        if inside:
            gap_note[(s, e)] = f"Not in the data: {month_label(inside)} (no records at all, never read as zero)."
        elif end is not None and e > end:
            late.add((s, e))
    reported = (out["status"] == "reported").to_numpy()
    gap = np.array([k in gap_note for k in keys]) & reported
    after = np.array([k in late for k in keys]) & reported
    blank = gap | after
    for col in ("value", "numerator", "denominator", "ci_low", "ci_high", "sample_n", "test_n", "pending_share"):
        if col in out:
            out.loc[blank, col] = math.nan
    out.loc[gap, "status"] = "not_in_data"
    out.loc[gap, "note"] = [gap_note[k] for k in keys[gap]]
    if after.any():
        out.loc[after, "status"] = "not_yet_available"
        out.loc[after, "note"] = f"No data cover this period yet (the data end in {end - timedelta(days=1):%B %Y})."
    return out


def drop_uncovered(rows: pd.DataFrame, missing: list[date], end: date | None) -> pd.DataFrame:
    """Breakdown rows without those of windows that touch a missing month or end after the
    coverage end (a breakdown of a period the data do not cover is not given)."""
    if rows.empty or (not missing and end is None):
        return rows
    s = pd.to_datetime(rows["window_start"]).dt.date
    e = pd.to_datetime(rows["window_end"]).dt.date
    bad = pd.Series(False, index=rows.index)
    for m in missing:
        bad |= (s <= m) & (e > m)
    if end is not None:
        bad |= e > end
    return rows[~bad]


def coverage_table(coverage: dict[str, TableCoverage]) -> pd.DataFrame:
    """The coverage as a results table (``results/coverage.csv``): table, grain, first, end
    (exclusive), periods with rows, missing periods (ISO dates joined by ";"), source, files."""
    rows = []
    for c in coverage.values():
        d = c.as_dict()
        rows.append({**d, "missing": ";".join(d["missing"]), "files": ";".join(d["files"])})
    return pd.DataFrame(rows, columns=COLUMNS)


def gaps_sentence(coverage: dict[str, TableCoverage] | list[dict]) -> str:
    """The gaps in words for the report's data line: "not in the data: crimes May 2024 to
    December 2024" ("" when there are none)."""
    items = coverage.values() if isinstance(coverage, dict) else [TableCoverage.from_dict(d) for d in coverage]
    parts = []
    for c in items:
        if c.missing:
            months = sorted({m for p in c.missing for m in _periods(p, _next(p, c.grain), "month")})
            parts.append(f"{c.table.replace('_', ' ')} {month_label(months)}")
    return ("not in the data: " + "; ".join(parts)) if parts else ""
