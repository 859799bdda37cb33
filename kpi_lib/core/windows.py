"""Time windows a KPI is measured over: months, quarters, rolling 12 months, years.

A family measures every KPI over a list of windows at once, so that the current quarter, its
comparisons and the SPC series all come from one pass over the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kpi_lib.core.periods import Period


@dataclass(frozen=True)
class Window:
    """Half-open date range [start, end) with a kind and a label."""

    kind: str  # "month" | "quarter" | "year" | "rolling12"
    label: str
    start: date
    end: date  # exclusive

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month


def period_window(p: Period) -> Window:
    return Window("year" if p.is_year else "quarter", p.label, p.start, p.end_exclusive)


def month_windows(first: date, end: date) -> list[Window]:
    out, d = [], date(first.year, first.month, 1)
    while d < end:
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        out.append(Window("month", d.strftime("%Y-%m"), d, nxt))
        d = nxt
    return out


def quarter_windows(first: Period, last: Period) -> list[Window]:
    out, p = [], first
    while p <= last:
        out.append(period_window(p))
        p = p.next()
    return out


@dataclass(frozen=True)
class WindowSet:
    """The windows needed to report one period: named comparisons and the SPC series."""

    named: dict[str, Window]
    months: list[Window]
    quarters: list[Window]

    def all(self) -> list[Window]:
        """Every distinct window, each once (families measure this list)."""
        seen: dict[tuple, Window] = {}
        for w in [*self.named.values(), *self.months, *self.quarters]:
            seen.setdefault((w.kind, w.start, w.end), w)
        return list(seen.values())


def windows_for(period: Period, *, history_start: Period, baseline: Period) -> WindowSet:
    """Every window needed to report ``period``: the period itself, its comparisons and the
    monthly and quarterly series (from ``history_start`` to the period's end) that SPC uses."""
    last_q = period if not period.is_year else Period(period.fy, 4)
    r_start, r_end = last_q.rolling_12_months()
    p_start, p_end = last_q.previous_12_months()
    named = {
        "current": period_window(period),
        "previous": period_window(period.previous()),
        "last_year": period_window(period.same_quarter_last_year()),
        "rolling12": Window("rolling12", f"12 months to {(r_end.replace(day=1)).strftime('%Y-%m')}", r_start, r_end),
        "previous12": Window("rolling12", f"12 months to {(p_end.replace(day=1)).strftime('%Y-%m')}", p_start, p_end),
        "baseline": period_window(baseline),
    }
    first_q = history_start if not history_start.is_year else Period(history_start.fy, 1)
    return WindowSet(named, month_windows(first_q.start, last_q.end_exclusive),
                     quarter_windows(first_q, last_q))
