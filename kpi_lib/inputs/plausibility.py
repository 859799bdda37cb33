"""Plausibility rules: what real extracts get wrong, checked for every table once it is read, in
``kpi validate`` and in every run.

Two kinds of rule (all listed in :data:`RULES` and in ``docs/guarantees.md``):

- **Impossible values** stop the reading with one message naming the file, the first row, the
  column, the value, what was expected, how many rows break the rule and a few more of them: an
  outcome dated before its crime was recorded, anything dated after the extraction date (or, when
  the extract does not state one, after today), a carbon month and source given twice, a source
  missing from a month. No figure is made from such a file: which value is right cannot be known.
  Every rule of a file is checked before it stops, and every one broken is in the message.
- **Judgement rules** (a ceiling, a range) are settings with stated defaults: an answer wait above
  ``max_answer_wait_seconds``, a grade 1 or 2 attendance above ``max_attendance_minutes``, a survey
  weight outside ``survey_weight_range``. Rows outside them are taken as recording errors and left
  out of the measures; each is counted in the row ledger under a reason naming the setting, and a
  note in the report says how many and which rows. Nothing is dropped silently.

Every function here is pure: tables and limits in, an exception or the rows to exclude out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from kpi_lib.core.errors import InputError, one_or_all

LOCAL_ZONE = "Europe/London"  # the calendar a force's days are counted in


@dataclass(frozen=True)
class Rule:
    """One plausibility rule: its table, what it checks, the setting that states it (judgement
    rules only) and what a breach does (``stop`` or ``exclude``)."""

    table: str
    says: str
    breach: str
    setting: str | None = None


RULES: tuple[Rule, ...] = (
    Rule("crimes", "recorded on or before the extraction date (or today, when none is stated)", "stop"),
    Rule("outcomes", "dated on or after the day its crime was recorded", "stop"),
    Rule("outcomes", "dated on or before the extraction date (or today)", "stop"),
    Rule("calls", "received and answered on or before the extraction date (or today)", "stop"),
    Rule("calls", "answered at most max_answer_wait_seconds after it was received", "exclude",
         "max_answer_wait_seconds"),
    Rule("incidents", "created and attended on or before the extraction date (or today)", "stop"),
    Rule("incidents", "grade 1 and 2: attended at most max_attendance_minutes after it was created",
         "exclude", "max_attendance_minutes"),
    Rule("survey_responses", "interviewed on or before the extraction date (or today)", "stop"),
    Rule("survey_responses", "weight within survey_weight_range", "exclude", "survey_weight_range"),
    Rule("carbon", "one row per month and source", "stop"),
    Rule("carbon", "period_start is the first day of a month, on or before the extraction date", "stop"),
    Rule("carbon", "every source in every month from its first month to the last month of the table",
         "stop"),
)

#: Defaults of the judgement settings (also in params/defaults.yaml, where they are described).
DEFAULTS = {"max_answer_wait_seconds": 14_400, "max_attendance_minutes": 10_080,
            "survey_weight_range": [0.05, 20.0]}


@dataclass(frozen=True)
class Limits:
    """What the rules compare with: the last day data can describe (the extraction date, else
    today), whether that day was stated, and the judgement settings."""

    last_day: date
    stated: bool
    max_answer_wait_seconds: float = DEFAULTS["max_answer_wait_seconds"]
    max_attendance_minutes: float = DEFAULTS["max_attendance_minutes"]
    survey_weight_range: tuple[float, float] = tuple(DEFAULTS["survey_weight_range"])  # type: ignore[assignment]

    @classmethod
    def of(cls, extraction_date: date | None, settings: dict | None = None, today: date | None = None) -> Limits:
        s = {**DEFAULTS, **{k: v for k, v in (settings or {}).items() if k in DEFAULTS and v is not None}}
        if extraction_date is None:
            last, stated = today or datetime.now(ZoneInfo(LOCAL_ZONE)).date(), False
        else:
            last, stated = extraction_date, True
        lo, hi = s["survey_weight_range"]
        return cls(last, stated, float(s["max_answer_wait_seconds"]), float(s["max_attendance_minutes"]),
                   (float(lo), float(hi)))

    @property
    def last_words(self) -> str:
        return (f"the extraction date ({self.last_day:%-d %B %Y}, metadata.yaml)" if self.stated
                else f"today ({self.last_day:%-d %B %Y}; no extraction date is stated in metadata.yaml)")

    def end_instant(self) -> pd.Timestamp:
        """The first instant (UTC) after the last day, in the local calendar."""
        return pd.Timestamp(self.last_day + timedelta(days=1), tz=LOCAL_ZONE).tz_convert("UTC")


@dataclass
class Exclusion:
    """Rows a judgement rule leaves out of one table: the mask, and the reason as the ledger and
    the report say it."""

    mask: np.ndarray
    reason: str
    note: str


# ------------------------------------------------------------------------------ messages
def _rows_text(positions: np.ndarray, shown: int = 3) -> str:
    rows = [f"{int(p) + 1:,}" for p in positions[:shown]]
    if not rows:
        return ""
    return rows[0] if len(rows) == 1 else ", ".join(rows[:-1]) + " and " + rows[-1]


def _show(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def stop(file: str, bad: np.ndarray | pd.Series, values: pd.Series, column: str, problem: str,
         expected: str) -> None:
    """Raise one InputError for the rows in ``bad``: the first row with its value, how many
    more, and the next few rows as examples."""
    mask = np.asarray(bad, dtype=bool)
    positions = np.flatnonzero(mask)
    if not positions.size:
        return
    first = int(positions[0])
    examples = positions[1:4]
    more = len(positions) - 1
    if examples.size:
        problem = f"{problem} (also rows {_rows_text(examples)}"
        rest = more - examples.size
        problem += f" and {rest:,} more row{'s' if rest != 1 else ''})" if rest > 0 else ")"
        more = 0
    raise InputError(file, problem, row=first + 1, column=column, value=_show(values.iloc[first]),
                     expected=expected, more=more)


def every_rule(*rules: Callable[[], None]) -> None:
    """Check every rule, then stop with all the breaches found (one InputError, or one listing
    each): a file is put right in one go, not one rule at a time."""
    found: list[InputError] = []
    for rule in rules:
        try:
            rule()
        except InputError as exc:
            found.append(exc)
    if found:
        raise one_or_all(found)


def _after(file: str, values: pd.Series, column: str, limits: Limits, what: str) -> None:
    """Dates or timestamps after the last day the data can describe."""
    if values.dt.tz is not None:
        bad = (values >= limits.end_instant()).fillna(False).to_numpy()
    else:
        bad = (values >= pd.Timestamp(limits.last_day + timedelta(days=1))).fillna(False).to_numpy()
    stop(file, bad, values, column, f"{what} after {limits.last_words}",
         f"a date on or before {limits.last_day:%Y-%m-%d} (a mistyped year, or a wrong extraction_date?)")


# ------------------------------------------------------------------------------ table rules
def check_crimes(file: str, crimes: pd.DataFrame, limits: Limits) -> None:
    _after(file, crimes["recorded_date"], "recorded_date", limits, "recorded")


def check_outcomes(file: str, outcomes: pd.DataFrame, crimes: pd.DataFrame, limits: Limits) -> None:
    """Outcomes dated after the last day, or before the day their crime was recorded (a charge
    cannot come before the crime it answers; such dates would count at every maturity)."""
    def before_crime() -> None:
        pos, recorded = _before_crime(outcomes, crimes)
        if pos.size:
            bad = np.zeros(len(outcomes), dtype=bool)
            bad[pos] = True
            first = pd.Timestamp(recorded[0]).date()
            stop(file, bad, outcomes["outcome_date"], "outcome_date",
                 f"outcome dated before its crime was recorded (crime {outcomes['crime_ref'].iloc[int(pos[0])]} "
                 f"recorded {first:%Y-%m-%d})", "a date on or after the crime's recorded_date")

    every_rule(lambda: _after(file, outcomes["outcome_date"], "outcome_date", limits, "outcome dated"),
               before_crime)


def _before_crime(outcomes: pd.DataFrame, crimes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """0-based positions of outcomes dated before their crime's recorded date (a DuckDB join,
    which handles millions of references in about a second), and those recorded dates."""
    import duckdb
    import pyarrow as pa
    probe = pa.table({"pos": np.arange(len(outcomes)),  # noqa: F841 - read by DuckDB
                      "ref": pa.array(outcomes["crime_ref"].astype(str), type=pa.large_string()),
                      "outcome_at": pa.array(outcomes["outcome_date"])})
    keys = pa.table({"ref": pa.array(crimes["crime_ref"].astype(str), type=pa.large_string()),  # noqa: F841
                     "recorded": pa.array(crimes["recorded_date"])})
    con = duckdb.connect()
    try:
        out = con.sql("SELECT pos, recorded FROM probe JOIN keys USING (ref) "
                      "WHERE outcome_at < recorded ORDER BY pos").fetchnumpy()
    finally:
        con.close()
    return np.asarray(out["pos"], dtype=np.int64), np.asarray(out["recorded"])


def check_calls(file: str, calls: pd.DataFrame, limits: Limits) -> Exclusion | None:
    every_rule(lambda: _after(file, calls["received_at"], "received_at", limits, "received"),
               lambda: _after(file, calls["answered_at"], "answered_at", limits, "answered"))
    wait = (calls["answered_at"] - calls["received_at"]).dt.total_seconds()
    over = (wait > limits.max_answer_wait_seconds).fillna(False).to_numpy()
    return _exclusion(file, over, wait, "answered_at", "answer wait",
                      f"over max_answer_wait_seconds ({limits.max_answer_wait_seconds:,.0f} s)", "s")


def check_incidents(file: str, incidents: pd.DataFrame, limits: Limits) -> Exclusion | None:
    every_rule(lambda: _after(file, incidents["created_at"], "created_at", limits, "created"),
               lambda: _after(file, incidents["arrived_at"], "arrived_at", limits, "attended"))
    minutes = (incidents["arrived_at"] - incidents["created_at"]).dt.total_seconds() / 60
    graded = incidents["grade"].isin([1, 2]).to_numpy()
    over = graded & (minutes > limits.max_attendance_minutes).fillna(False).to_numpy()
    return _exclusion(file, over, minutes, "arrived_at", "grade 1 or 2 attendance time",
                      f"over max_attendance_minutes ({limits.max_attendance_minutes:,.0f} minutes)", "minutes")


def check_survey(file: str, survey: pd.DataFrame, limits: Limits) -> Exclusion | None:
    _after(file, survey["interview_date"], "interview_date", limits, "interviewed")
    lo, hi = limits.survey_weight_range
    w = survey["weight"]
    outside = ((w < lo) | (w > hi)).fillna(False).to_numpy()
    return _exclusion(file, outside, w, "weight", "survey weight",
                      f"outside survey_weight_range ({lo:g} to {hi:g})", "")


def _exclusion(file: str, mask: np.ndarray, values: pd.Series, column: str, what: str, rule: str,
               unit: str) -> Exclusion | None:
    positions = np.flatnonzero(mask)
    if not positions.size:
        return None
    worst = float(np.nanmax(values.to_numpy(dtype=float)[positions]))
    n = len(positions)
    reason = f"{what} {rule}: taken as a recording error"
    note = (f"{file}: {n:,} row{'s' if n != 1 else ''} left out of the figures, {what} {rule} "
            f"(row{'s' if n != 1 else ''} {_rows_text(positions)}{', ...' if n > 3 else ''}; "
            f"largest {worst:,.6g}{' ' + unit if unit else ''}, column {column}). The setting says what "
            "is plausible; change it in the run's parameters if these values are real.")
    return Exclusion(mask, reason, note)


def check_carbon(file: str, carbon: pd.DataFrame, limits: Limits) -> None:
    """Carbon rows: one per month and source (a month pasted twice would be counted twice), on
    the first of the month, not after the last day, and every source in every month from its
    first month to the table's last (a source missing from a month would lower that month's
    footprint; a month with none of a source needs a row with quantity 0)."""
    start = carbon["period_start"]
    every_rule(lambda: stop(file, (start.dt.day != 1).to_numpy(), start, "period_start", "not the first day of a month",
                            "the first day of the month the quantity is for, e.g. 2024-04-01"),
               lambda: _after(file, start, "period_start", limits, "a month"),
               lambda: _carbon_twice(file, carbon),
               lambda: _carbon_missing(file, carbon))


def _carbon_twice(file: str, carbon: pd.DataFrame) -> None:
    """A month and source given twice."""
    start = carbon["period_start"]
    dup = carbon.duplicated(["period_start", "source"], keep=False).to_numpy()
    if dup.any():
        later = carbon.duplicated(["period_start", "source"], keep="first").to_numpy()
        i = int(np.flatnonzero(later)[0])
        month, source = start.iloc[i], carbon["source"].iloc[i]
        first = int(np.flatnonzero(dup & (start == month).to_numpy() & (carbon["source"] == source).to_numpy())[0])
        stop(file, later, start, "period_start",
             f"{source} for {month:%B %Y} is given twice (first at row {first + 1:,})",
             "one row per month and source (a month pasted twice would be counted twice)")


def _carbon_missing(file: str, carbon: pd.DataFrame) -> None:
    """A source missing from a month between its first month and the table's last."""
    start = carbon["period_start"]
    if carbon.empty:
        return
    months = pd.DatetimeIndex(start.unique()).sort_values()
    last = months.max()
    for source, rows in carbon.groupby("source", sort=True):
        have = set(pd.DatetimeIndex(rows["period_start"]))
        span = pd.date_range(rows["period_start"].min(), last, freq="MS")
        missing = [m for m in span if m not in have]
        if missing:
            shown = ", ".join(f"{m:%B %Y}" for m in missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            raise InputError(file, f"no {source} row for {shown}, though {source} is given for the months "
                             f"before and the table runs to {last:%B %Y}", column="source", value=str(source),
                             expected="every source in every month from its first month on (a quantity of 0 "
                                      "where none was used): a missing row would lower that month's footprint")


__all__ = ["DEFAULTS", "RULES", "Exclusion", "Limits", "Rule", "check_calls", "check_carbon", "check_crimes",
           "check_incidents", "check_outcomes", "check_survey", "every_rule", "stop"]
