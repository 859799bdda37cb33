"""Crime family: for each crime KPI of the catalogue, a category (of the crime categories file) and
a measure: the volume, the "% outcome 1 & 1A" charge rate or the action-taken rate, plus the
action-taken breakdown by outcome group and every measure by local area.

Which KPIs there are is data (:func:`crime_kpis` reads them off the catalogue); this module names
no category and no KPI. Works from aggregated counts (:class:`CrimeCounts`), built either from
record-level crimes and outcomes (:func:`counts_from_records`) or from public tables
(``kpi_lib.inputs``), so the same measurement code serves both. Definitions
(../shared/guide/STATS.md, Home Office Counting Rules):

- cohort basis (Home Office headline): outcomes assigned, as at the extraction date, to offences
  recorded in the period, divided by offences recorded in the period. Recent periods are
  immature: the share still "not yet assigned" (type 0) is given in the note.
- in-period basis: outcomes assigned in the period (whenever the offence was recorded), divided
  by offences recorded in the period.
- a crime with no outcome row counts as not yet assigned (type 0).
- which outcome types count as "1 & 1A" and as "action taken" are parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from kpi_lib.config.categories import CrimeCategories
from kpi_lib.config.configuration import Configuration
from kpi_lib.core.stats import wilson_intervals
from kpi_lib.core.windows import Window
from kpi_lib.inputs.aggregates import CrimeCounts, crime_aggregates
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


@dataclass(frozen=True)
class CrimeKpi:
    """One crime KPI: its id, the category it counts and what it measures of it."""

    id: str
    category: str
    measure: str  # volume | charge_rate | action_taken_rate

    @property
    def is_rate(self) -> bool:
        return self.measure != "volume"


def crime_kpis(catalogue: Iterable) -> tuple[CrimeKpi, ...]:
    """The crime KPIs of a catalogue (entries with ``family: crime``), in catalogue order."""
    return tuple(CrimeKpi(k.id, k.category, k.measure) for k in catalogue if k.family == "crime")


def kpi_ids(kpis: Iterable[CrimeKpi]) -> list[str]:
    return [k.id for k in kpis]


ACTION_TAKEN_GROUPS = {  # outcome group -> Home Office outcome types (seed paper, footnote 1)
    "Charge/summons": ["1", "1A"],
    "Caution": ["2", "2A", "3", "3A"],
    "Taken into consideration": ["4"],
    "Penalty notice for disorder": ["6"],
    "Cannabis/khat warning": ["7"],
    "Community resolution": ["8"],
}


def _month(col: pd.Series) -> pd.Series:
    """First day of the month, as datetime64 (NaT stays NaT)."""
    return pd.to_datetime(col).dt.to_period("M").dt.start_time.astype("datetime64[ns]")


def counts_from_records(crimes: pd.DataFrame, outcomes: pd.DataFrame | None,
                        categories: CrimeCategories, extraction_date: date | None,
                        kpis: tuple[CrimeKpi, ...] = ()) -> CrimeCounts:
    """Record-level crimes (+ outcomes) to monthly counts by category, area and outcome type, for
    the categories ``kpis`` name (every category of the file when none are given).

    An outcomes table with no rows is treated as no outcomes at all (rates "not available from
    source"), never as every crime still awaiting an outcome (which would read as 0%)."""
    notes = []
    if outcomes is not None and outcomes.empty:
        outcomes = None
        notes.append("The outcomes table has no rows: outcome rates are not available.")
    wanted = list(dict.fromkeys(k.category for k in kpis)) or categories.names
    flags = {c: col for c, col in categories.flags.items() if c in wanted}
    agg = crime_aggregates(crimes, outcomes, code_categories(crimes["offence_code"], categories, wanted), flags)
    if len(crimes):
        first = _month(crimes["recorded_date"]).min().date()
        last = crimes["recorded_date"].max().date()
        # covered to the end of the month of the last record, but never past the start of the
        # extraction month (a part month is incomplete)
        last_exclusive = next_month(last)
        if extraction_date:
            last_exclusive = min(last_exclusive, date(extraction_date.year, extraction_date.month, 1))
    else:
        first = last_exclusive = None
    return CrimeCounts("month", agg["offences"], agg["cohort"], agg["in_period"], first, last_exclusive,
                       extraction_date, maturity=agg["maturity"], notes=notes, kpis=tuple(kpis))


def code_categories(codes: pd.Series, categories: CrimeCategories,
                    only: list[str] | None = None) -> pd.DataFrame:
    """offence_code, category: one row per offence code present and category it counts in (of
    ``only``, when given; flag categories such as domestic abuse are not codes, and are added
    by the aggregation)."""
    unique = pd.Series(sorted(set(codes)), dtype=object)
    flags = categories.flags_for_codes(unique, only)
    flags.index = unique.to_numpy()
    long = flags.stack()
    long = long[long.to_numpy(dtype=bool)]
    return pd.DataFrame({"offence_code": long.index.get_level_values(0).astype(str),
                         "category": long.index.get_level_values(1).astype(str)})


def _in(df: pd.DataFrame, w: Window) -> pd.DataFrame:
    start = pd.to_datetime(df["period_start"])
    return df[(start >= pd.Timestamp(w.start)) & (start < pd.Timestamp(w.end))]


def _aligned(counts: CrimeCounts, w: Window) -> bool:
    if counts.grain == "month":
        return True
    return w.kind != "month" and w.start.month in (1, 4, 7, 10) and w.end.month in (1, 4, 7, 10)


BASES = ("cohort", "in_period")


def _unavailable_all(kpis: Iterable[CrimeKpi], w: Window, status: str, note: str, src: str) -> list[dict]:
    """Rows for every crime KPI (rates once per basis) when a window cannot be measured."""
    rows = []
    for k in kpis:
        for b in (BASES if k.is_rate else ("",)):
            rows.append(unavailable(k.id, w, status, note, basis=b, source=src))
    return rows


def _monthly(table: pd.DataFrame | None, categories: list[str], types: list[str] | None = None) -> pd.DataFrame | None:
    """Counts by period_start (rows) and category (columns), optionally of some outcome types."""
    if table is None:
        return None
    t = table if types is None else table[table["outcome_type"].isin(types)]
    wide = t.groupby([pd.to_datetime(t["period_start"]), "category"])["count"].sum().unstack(fill_value=0)
    return wide.reindex(columns=categories, fill_value=0)


def _unsupported(counts: CrimeCounts, category: str) -> str | None:
    """Why the source cannot measure ``category`` (None when it can)."""
    if category in counts.unsupported:
        return counts.unsupported[category]
    if counts.measured is not None and category not in counts.measured:
        return f"This source does not separate the category '{category}'."
    return None


def _window_sum(wide: pd.DataFrame, w: Window) -> pd.Series:
    idx = wide.index
    return wide[(idx >= pd.Timestamp(w.start)) & (idx < pd.Timestamp(w.end))].sum()


IN_PERIOD_NOTE = ("In-period ratio: outcomes assigned in the period over offences recorded in it; "
                  "not a proportion (the outcomes may belong to earlier crimes), so no interval or "
                  "significance test is given and it can exceed 100% when numbers are small.")


def _rate(kpi_id: str, w: Window, x: float, n: float, basis: str, note: str, src: str,
          pending_share: float = float("nan")) -> dict:
    """Cohort rates are proportions (Wilson interval); in-period rates are ratios (no interval)."""
    if basis == "cohort":
        return proportion_row(kpi_id, w, x, n, basis=basis, note=note, source=src,
                              pending_share=pending_share)
    if n <= 0:
        return row(kpi_id, w, numerator=x, denominator=n, sample_n=0, basis=basis, source=src,
                   note="No cases in the period: the rate is undefined, not 0%. " + IN_PERIOD_NOTE)
    return row(kpi_id, w, value=100 * x / n, numerator=x, denominator=n, sample_n=n, basis=basis,
               note=IN_PERIOD_NOTE, source=src)


def measure(counts: CrimeCounts, windows: list[Window], params: dict) -> pd.DataFrame:
    """Every crime KPI of ``counts.kpis`` for every window: volumes, charge and action-taken
    rates (both bases)."""
    p = params
    types = {"charge_rate": list(p["charge_outcome_types"]), "action_taken_rate": list(p["action_taken_types"])}
    kpis = counts.kpis
    cats = list(dict.fromkeys(k.category for k in kpis))
    src = counts.source
    offences = _monthly(counts.offences, cats)
    bases = {}
    for basis, table in (("cohort", counts.cohort), ("in_period", counts.in_period)):
        if table is not None:
            bases[basis] = {**{m: _monthly(table, cats, t) for m, t in types.items()},
                            "pending": _monthly(table, cats, ["0"])}
    when = counts.extraction_date.isoformat() if counts.extraction_date else "unknown"
    rows: list[dict] = []
    for w in windows:
        if not _aligned(counts, w) or not covers(w, counts.first, counts.last_exclusive):
            why = ("the data do not cover this period" if _aligned(counts, w)
                   else f"the source gives {counts.grain}ly counts only")
            rows += _unavailable_all(kpis, w, "not_yet_available", f"No data: {why}.", src)
            continue
        off = _window_sum(offences, w)
        sums = {b: {k: _window_sum(v, w) for k, v in parts.items()} for b, parts in bases.items()}
        for k in kpis:
            why = _unsupported(counts, k.category)
            if why is not None:
                rows += [unavailable(k.id, w, "not_available_from_source", why, basis=b, source=src)
                         for b in (BASES if k.is_rate else ("",))]
                continue
            n = float(off.get(k.category, 0))
            if not k.is_rate:
                rows.append(count_row(k.id, w, n, source=src))
                continue
            for basis in BASES:
                if basis not in sums:
                    note = f"No {basis.replace('_', '-')} outcome counts in this source."
                    if src == "canonical":
                        note = " ".join([note, *counts.notes[:1]])
                    rows.append(unavailable(k.id, w, "not_available_from_source", note, basis=basis, source=src))
                    continue
                x = float(sums[basis][k.measure].get(k.category, 0))
                note, share = "", float("nan")
                if basis == "cohort":  # any outcome rate of the category: its crimes still pending
                    pending = float(sums[basis]["pending"].get(k.category, 0))
                    share = 100 * pending / n if n else float("nan")
                    note = (f"As at extraction {when}; {share:.1f}% not yet assigned an outcome."
                            if n else f"As at extraction {when}.")
                rows.append(_rate(k.id, w, x, n, basis, note, src, share))
    return frame(rows)


def breakdown(counts: CrimeCounts, w: Window, params: dict | None = None) -> pd.DataFrame:
    """For one window: each action-taken KPI's outcomes by group, and every crime KPI by local
    area (volumes as counts; rates with a Wilson interval on the cohort basis, which is a
    proportion, and without one on the in-period basis, which is a ratio).

    Columns: kpi_id, dimension, category, value, numerator, denominator, basis, ci_low, ci_high,
    sample_n.
    """
    rows = []
    if covers(w, counts.first, counts.last_exclusive) and _aligned(counts, w):
        off = _in(counts.offences, w)
        tables = [(b, t) for b, t in (("cohort", counts.cohort), ("in_period", counts.in_period)) if t is not None]
        for k in counts.kpis:
            if k.measure != "action_taken_rate" or _unsupported(counts, k.category) is not None:
                continue
            n = float(off.loc[off["category"] == k.category, "count"].sum())
            for basis, table in tables:
                t = _in(table, w)
                t = t[t["category"] == k.category]
                for group, types in ACTION_TAKEN_GROUPS.items():
                    x = float(t.loc[t["outcome_type"].isin(types), "count"].sum())
                    rows.append({"kpi_id": k.id, "dimension": "outcome group",
                                 "category": group, "value": 100 * x / n if n else float("nan"),
                                 "numerator": x, "denominator": n, "basis": basis})
        if off["local_area"].astype(str).str.len().gt(0).any():
            rows += area_rows(counts, off, tables, w, params or {})
    out = breakdown_frame(pd.DataFrame(rows, columns=["kpi_id", "dimension", "category", "value",
                                                     "numerator", "denominator", "basis"]))
    return with_intervals(out)


def with_intervals(b: pd.DataFrame) -> pd.DataFrame:
    """Wilson 95% intervals on the local-area rows of cohort rates, which
    are proportions; volumes and in-period ratios get none."""
    at = (b["dimension"] == "local area") & (b["basis"] == "cohort") & (b["denominator"] > 0)
    if at.any():
        lo, hi = wilson_intervals(b.loc[at, "numerator"].to_numpy(float), b.loc[at, "denominator"].to_numpy(float))
        b.loc[at, "ci_low"], b.loc[at, "ci_high"] = 100 * lo, 100 * hi
    return b


def area_rows(counts: CrimeCounts, off: pd.DataFrame, tables: list, w: Window, params: dict) -> list[dict]:
    """Every crime KPI by local area in one window: counts for volumes, and for rates the
    numerator over the area's crimes of the category (intervals: :func:`with_intervals`)."""
    rows: list[dict] = []
    by_area = off.groupby(["category", "local_area"], observed=True)["count"].sum()
    all_areas = sorted(set(off["local_area"].astype(str)) - {""})
    types = {"charge_rate": list(params.get("charge_outcome_types", ["1", "1A"])),
             "action_taken_rate": list(params.get("action_taken_types", []))}
    sums = {}
    for basis, table in tables:
        t = _in(table, w)
        sums[basis] = {m: t[t["outcome_type"].isin(ts)].groupby(["category", "local_area"], observed=True)["count"].sum()
                       for m, ts in types.items()} if "local_area" in t else None
    for k in counts.kpis:
        if _unsupported(counts, k.category) is not None:
            continue
        # an area with no crimes of the category in a covered period has 0 of them, not none
        got_areas = by_area.xs(k.category, level=0) if k.category in by_area.index.get_level_values(0) \
            else pd.Series(dtype=float)
        got_areas.index = got_areas.index.astype(str)
        per_area = got_areas.reindex([a for a in sorted(set(got_areas.index) | set(all_areas)) if a],
                                     fill_value=0)
        if not k.is_rate:
            rows += [{"kpi_id": k.id, "dimension": "local area", "category": area, "value": float(x),
                      "numerator": float(x), "denominator": float("nan"), "basis": ""}
                     for area, x in per_area.items()]
            continue
        for basis, parts in sums.items():
            if parts is None:
                continue
            got = parts[k.measure]
            for area, n in per_area.items():
                x = float(got.get((k.category, area), 0))
                rows.append({"kpi_id": k.id, "dimension": "local area", "category": area,
                             "value": 100 * x / n if n else float("nan"), "numerator": x,
                             "denominator": float(n), "basis": basis})
    return rows


def area_series(counts: CrimeCounts, months: list[Window], params: dict | None = None) -> pd.DataFrame:
    """Each volume KPI by local area for every month the data cover (the monthly series behind
    the areas' small multiples); an area with no crimes of a category in a covered month counts
    0 that month. Columns as :func:`breakdown` plus window_kind, window_start, window_end."""
    covered = [w for w in months if covers(w, counts.first, counts.last_exclusive)]
    off = counts.offences
    vols = [k for k in counts.kpis if k.measure == "volume" and _unsupported(counts, k.category) is None]
    if counts.grain != "month" or not covered or not vols or off.empty:
        return pd.DataFrame()
    area = off["local_area"].astype(str)
    areas = sorted(set(area) - {""})
    if not areas:
        return pd.DataFrame()
    sums = off.assign(_a=area, _m=pd.to_datetime(off["period_start"])) \
        .groupby(["category", "_a", "_m"])["count"].sum()
    starts = [pd.Timestamp(w.start) for w in covered]
    grid = pd.MultiIndex.from_product([areas, starts])
    parts = []
    for k in vols:
        v = (sums.xs(k.category, level=0) if k.category in sums.index.get_level_values(0)
             else pd.Series(dtype=float)).reindex(grid, fill_value=0).astype(float)
        parts.append(pd.DataFrame({"kpi_id": k.id, "category": grid.get_level_values(0), "value": v.to_numpy(),
                                   "window_start": grid.get_level_values(1)}))
    rows = pd.concat(parts, ignore_index=True)
    out = breakdown_frame(rows.assign(dimension="local area", numerator=rows["value"],
                                      denominator=float("nan"), basis=""))
    out["window_kind"] = "month"
    out["window_start"] = rows["window_start"].dt.date.to_numpy()
    out["window_end"] = [next_month(d) for d in out["window_start"]]
    return out


def prepare(tables, config: Configuration) -> CrimeCounts | None:
    """Crime counts of the catalogue's crime KPIs, from a public source (already aggregated) or
    from record-level tables."""
    kpis = crime_kpis(config.catalogue or ())
    pre = tables.extras.get("crime_counts")
    if pre is not None:
        return replace(pre, kpis=kpis)
    crimes = tables.get("crimes")
    if crimes is None:
        return None
    return counts_from_records(crimes, tables.get("outcomes"), config.categories, tables.extraction_date, kpis)


FAMILY = Family(
    name="crime", title="Crime volumes and charge/summons outcomes",
    spc_grain="month",
    introduction=(
        "How many crimes were recorded, and what share of them led to a charge or summons "
        "(the Home Office outcome types listed in the settings), for total recorded crime and "
        "each crime type with a KPI, plus the wider action-taken rate."),
    tables=("crimes", "outcomes"),
    kpi_ids=(), prepare=prepare, measure=measure, breakdown=breakdown,
    missing_note="No crime records or crime tables in the input.",
    breakdown_dimensions=("outcome group",), area_series=area_series)
