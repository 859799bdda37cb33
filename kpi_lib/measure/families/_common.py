"""Measurement rows shared by every family.

A measurement is one KPI over one window: ``kpi_id, window_kind, window_start, window_end,
value, numerator, denominator, ci_low, ci_high, sample_n, status, basis, note`` plus ``test_n``
(the effective sample size used for tests of change in a proportion) and ``source``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from kpi_lib.config.configuration import Configuration
from kpi_lib.core.stats import wilson_intervals
from kpi_lib.core.windows import Window

COLUMNS = ["kpi_id", "window_kind", "window_start", "window_end", "value", "numerator",
           "denominator", "ci_low", "ci_high", "sample_n", "test_n", "status", "basis", "note",
           "source", "pending_share"]
NAN = math.nan
_WILSON = "_wilson"  # (successes, total) of a proportion row whose interval frame() adds


def row(kpi_id: str, w: Window, *, value: float = NAN, numerator: float = NAN,
        denominator: float = NAN, ci_low: float = NAN, ci_high: float = NAN,
        sample_n: float = NAN, test_n: float = NAN, status: str = "reported", basis: str = "",
        note: str = "", source: str = "canonical", pending_share: float = NAN) -> dict:
    return {"kpi_id": kpi_id, "window_kind": w.kind, "window_start": w.start,
            "window_end": w.end, "value": value, "numerator": numerator,
            "denominator": denominator, "ci_low": ci_low, "ci_high": ci_high,
            "sample_n": sample_n, "test_n": test_n, "status": status, "basis": basis,
            "note": note, "source": source, "pending_share": pending_share}


def count_row(kpi_id: str, w: Window, count: float, **kw) -> dict:
    return row(kpi_id, w, value=float(count), numerator=float(count), **kw)


def proportion_row(kpi_id: str, w: Window, successes: float, total: float, **kw) -> dict:
    """Percentage with a Wilson interval; undefined (not 0%) when the denominator is 0."""
    if total <= 0:
        note = " ".join(x for x in ("No cases in the period: the rate is undefined, not 0%.",
                                     kw.pop("note", "")) if x)
        return row(kpi_id, w, numerator=float(successes), denominator=float(total), sample_n=0,
                   test_n=0, status="reported", note=note, **kw)
    out = row(kpi_id, w, value=100 * successes / total, numerator=float(successes),
              denominator=float(total), sample_n=float(total), test_n=float(total), **kw)
    out[_WILSON] = (float(successes), float(total))  # the interval is added by frame(), in one call
    return out


def unavailable(kpi_id: str, w: Window, status: str, note: str, **kw) -> dict:
    return row(kpi_id, w, status=status, note=note, **kw)


def covers(w: Window, first: date | None, last_exclusive: date | None) -> bool:
    """True when the data cover the whole window."""
    return first is not None and last_exclusive is not None and w.start >= first and w.end <= last_exclusive


def frame(rows: list[dict]) -> pd.DataFrame:
    """Measurement rows as a table; the Wilson intervals of :func:`proportion_row` rows are
    computed here for all of them at once (:func:`kpi_lib.core.stats.wilson_intervals`)."""
    out = pd.DataFrame(rows, columns=COLUMNS)
    at = [i for i, r in enumerate(rows) if _WILSON in r]
    if at:
        x, n = np.array([rows[i][_WILSON] for i in at]).T
        lo, hi = wilson_intervals(x, n)
        out.loc[at, "ci_low"] = 100 * lo
        out.loc[at, "ci_high"] = 100 * hi
    return out


def month_start(d: date) -> date:
    return date(d.year, d.month, 1)


def next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


DISTRIBUTION_COLUMNS = ["kpi_id", "period_start", "value", "count"]
BREAKDOWN_COLUMNS = ["kpi_id", "dimension", "category", "value", "numerator", "denominator", "basis",
                     "ci_low", "ci_high", "sample_n"]


def breakdown_frame(rows: list[dict] | pd.DataFrame) -> pd.DataFrame:
    """Breakdown rows with every column of :data:`BREAKDOWN_COLUMNS` (missing ones empty)."""
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    return df.reindex(columns=BREAKDOWN_COLUMNS)


@dataclass(frozen=True)
class Family:
    """What a family module declares about itself, once (listed in :mod:`kpi_lib.measure.registry`).

    ``title`` heads the family's section of the report and its tables; ``spc_grain`` is how its
    charts are drawn (month where records allow, quarter, or none), unless the ``spc_grain``
    setting says otherwise for the family; ``introduction`` (plain
    English for councillors) opens the section, ``breakdown_dimensions`` are the breakdowns its
    section shows, in order (local areas have an appendix of their own, ``area_series``);
    prepare(tables, config) -> the family's aggregate of its inputs, or None when the input is
    absent (every KPI is then ``not_available_from_source`` with ``missing_note``);
    ``kpi_ids`` are the family's KPIs when fixed in code; empty when the catalogue lists them
    (see :func:`family_kpi_ids`);
    measure(aggregate, windows, params) -> measurement rows (``COLUMNS``);
    breakdown(aggregate, window, params) -> breakdown rows (``BREAKDOWN_COLUMNS``) for one window;
    distributions(aggregate) -> optional: what a test of a median needs, per month (``kpi_id,
    period_start, value, count``: the values binned, with how many fall in each bin).
    """

    name: str
    title: str
    introduction: str
    tables: tuple[str, ...]
    kpi_ids: tuple[str, ...]
    prepare: Callable[[Any, Configuration], Any]
    measure: Callable[[Any, list[Window], dict], pd.DataFrame]
    breakdown: Callable[[Any, Window, dict], pd.DataFrame]
    spc_grain: Literal["month", "quarter", "none"] = "month"
    missing_note: str = "No input for this family."
    breakdown_dimensions: tuple[str, ...] = ()
    #: series(aggregate, months, params) -> breakdown rows (``BREAKDOWN_COLUMNS`` plus
    #: window_kind, window_start, window_end) of monthly series by local area, or None
    area_series: Callable[[Any, list[Window], dict], pd.DataFrame] | None = None
    distributions: Callable[[Any], pd.DataFrame] | None = None
    #: the source in the Panel's words where the family's records are one named collection (a
    #: survey), said in place of the kind of input ("force records")
    source_words: str = ""
    #: (KPI id, what its numerator and denominator count) where they are not plain counts
    #: (a survey's weighted sums: "weighted respondents agreeing")
    counted_words: tuple[tuple[str, str], ...] = ()


def family_kpi_ids(fam: Family, config: Configuration) -> list[str]:
    """The family's KPI ids: those it declares, else those of the catalogue in ``config``."""
    if fam.kpi_ids:
        return list(fam.kpi_ids)
    return [k.id for k in (config.catalogue or []) if k.family == fam.name]
