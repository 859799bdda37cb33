"""Crime family: volumes and "% outcome 1 & 1A" for total recorded crime and each KPI category,
domestic abuse (a flag), and the action-taken rate with its breakdown.

Works from aggregated counts (:class:`CrimeCounts`), built either from record-level crimes and
outcomes (:func:`counts_from_records`) or from public tables (``kpi_lib.inputs``), so the same
measurement code serves both. Definitions (../shared/guide/STATS.md, Home Office Counting Rules):

- cohort basis (Home Office headline): outcomes assigned, as at the extraction date, to offences
  recorded in the period, divided by offences recorded in the period. Recent periods are
  immature: the share still "not yet assigned" (type 0) is given in the note.
- in-period basis: outcomes assigned in the period (whenever the offence was recorded), divided
  by offences recorded in the period.
- a crime with no outcome row counts as not yet assigned (type 0).
- which outcome types count as "1 & 1A" and as "action taken" are parameters.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from kpi_lib.config.categories import CrimeCategories
from kpi_lib.config.configuration import Configuration
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

CATEGORY_KPIS = {  # category -> (volume KPI, charge-rate KPI)
    "trc": ("trc_volume", "trc_charge_rate"),
    "vwi": ("vwi_volume", "vwi_charge_rate"),
    "rape": ("rape_volume", "rape_charge_rate"),
    "robbery": ("robbery_volume", "robbery_charge_rate"),
    "burglary_residential": ("burglary_residential_volume", "burglary_residential_charge_rate"),
    "vehicle_crime": ("vehicle_crime_volume", "vehicle_crime_charge_rate"),
    "domestic_abuse": ("domestic_abuse_volume", "domestic_abuse_charge_rate"),
}
KPI_IDS = [k for pair in CATEGORY_KPIS.values() for k in pair] + ["action_taken_rate"]
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
                        categories: CrimeCategories, extraction_date: date | None) -> CrimeCounts:
    """Record-level crimes (+ outcomes) to monthly counts by category, area and outcome type.

    An outcomes table with no rows is treated as no outcomes at all (rates "not available from
    source"), never as every crime still awaiting an outcome (which would read as 0%)."""
    notes = []
    if outcomes is not None and outcomes.empty:
        outcomes = None
        notes.append("The outcomes table has no rows: outcome rates are not available.")
    agg = crime_aggregates(crimes, outcomes, code_categories(crimes["offence_code"], categories))
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
                       extraction_date, maturity=agg["maturity"], notes=notes)


def code_categories(codes: pd.Series, categories: CrimeCategories) -> pd.DataFrame:
    """offence_code, category: one row per offence code present and KPI category it counts in
    (domestic abuse is a flag on the record, not a code, and is added by the aggregation)."""
    unique = pd.Series(sorted(set(codes)), dtype=object)
    flags = categories.flags_for_codes(unique)
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
RATE_KPIS = {pair[1] for pair in CATEGORY_KPIS.values()} | {"action_taken_rate"}


def _unavailable_all(w: Window, status: str, note: str, src: str) -> list[dict]:
    """Rows for every crime KPI (rates once per basis) when a window cannot be measured."""
    rows = []
    for k in KPI_IDS:
        for b in (BASES if k in RATE_KPIS else ("",)):
            rows.append(unavailable(k, w, status, note, basis=b, source=src))
    return rows


def _monthly(table: pd.DataFrame | None, types: list[str] | None = None) -> pd.DataFrame | None:
    """Counts by period_start (rows) and category (columns), optionally of some outcome types."""
    if table is None:
        return None
    t = table if types is None else table[table["outcome_type"].isin(types)]
    wide = t.groupby([pd.to_datetime(t["period_start"]), "category"])["count"].sum().unstack(fill_value=0)
    return wide.reindex(columns=list(CATEGORY_KPIS), fill_value=0)


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
    """Volumes, charge rates (both bases) and action-taken rate for every window."""
    p = params
    charge, action = list(p["charge_outcome_types"]), list(p["action_taken_types"])
    src = counts.source
    offences = _monthly(counts.offences)
    bases = {}
    for basis, table in (("cohort", counts.cohort), ("in_period", counts.in_period)):
        if table is not None:
            bases[basis] = {"charge": _monthly(table, charge), "action": _monthly(table, action),
                            "pending": _monthly(table, ["0"])}
    when = counts.extraction_date.isoformat() if counts.extraction_date else "unknown"
    rows: list[dict] = []
    for w in windows:
        if not _aligned(counts, w) or not covers(w, counts.first, counts.last_exclusive):
            why = ("the data do not cover this period" if _aligned(counts, w)
                   else f"the source gives {counts.grain}ly counts only")
            rows += _unavailable_all(w, "not_yet_available", f"No data: {why}.", src)
            continue
        off = _window_sum(offences, w)
        sums = {b: {k: _window_sum(v, w) for k, v in parts.items()} for b, parts in bases.items()}
        for cat, (vol_id, rate_id) in CATEGORY_KPIS.items():
            if cat in counts.unsupported:
                why = counts.unsupported[cat]
                rows.append(unavailable(vol_id, w, "not_available_from_source", why, source=src))
                rows += [unavailable(rate_id, w, "not_available_from_source", why, basis=b, source=src)
                         for b in BASES]
                continue
            n = float(off.get(cat, 0))
            rows.append(count_row(vol_id, w, n, source=src))
            for basis in BASES:
                if basis not in sums:
                    rows.append(unavailable(rate_id, w, "not_available_from_source",
                                            " ".join([f"No {basis.replace('_', '-')} outcome counts in this source.",
                                                      *counts.notes[:1]]) if src == "canonical" else
                                            f"No {basis.replace('_', '-')} outcome counts in this source.",
                                            basis=basis, source=src))
                    continue
                x = float(sums[basis]["charge"].get(cat, 0))
                note, share = "", float("nan")
                if basis == "cohort":
                    pending = float(sums[basis]["pending"].get(cat, 0))
                    share = 100 * pending / n if n else float("nan")
                    note = (f"As at extraction {when}; {share:.1f}% not yet assigned an outcome."
                            if n else f"As at extraction {when}.")
                rows.append(_rate(rate_id, w, x, n, basis, note, src, share))
        n = float(off.get("trc", 0))
        for basis in BASES:
            if basis not in sums or "trc" in counts.unsupported:
                rows.append(unavailable("action_taken_rate", w, "not_available_from_source",
                                        "No outcome counts in this source.", basis=basis, source=src))
                continue
            x = float(sums[basis]["action"].get("trc", 0))
            rows.append(_rate("action_taken_rate", w, x, n, basis, "", src))
    return frame(rows)


def breakdown(counts: CrimeCounts, w: Window, params: dict | None = None) -> pd.DataFrame:
    """Action-taken outcomes by group, and volumes by local area, for one window.

    Columns: kpi_id, dimension, category, value, numerator, denominator, basis.
    """
    rows = []
    if covers(w, counts.first, counts.last_exclusive) and _aligned(counts, w):
        off = _in(counts.offences, w)
        n = float(off.loc[off["category"] == "trc", "count"].sum())
        for basis, table in (("cohort", counts.cohort), ("in_period", counts.in_period)):
            if table is None:
                continue
            t = _in(table, w)
            t = t[t["category"] == "trc"]
            for group, types in ACTION_TAKEN_GROUPS.items():
                x = float(t.loc[t["outcome_type"].isin(types), "count"].sum())
                rows.append({"kpi_id": "action_taken_rate", "dimension": "outcome group",
                             "category": group, "value": 100 * x / n if n else float("nan"),
                             "numerator": x, "denominator": n, "basis": basis})
        if off["local_area"].astype(str).str.len().gt(0).any():
            by_area = off.groupby(["category", "local_area"])["count"].sum()
            for (cat, area), x in by_area.items():
                if cat in counts.unsupported:
                    continue
                rows.append({"kpi_id": CATEGORY_KPIS[cat][0], "dimension": "local area",
                             "category": area, "value": float(x), "numerator": float(x),
                             "denominator": float("nan"), "basis": ""})
    return breakdown_frame(pd.DataFrame(rows, columns=["kpi_id", "dimension", "category", "value",
                                                      "numerator", "denominator", "basis"]))


def prepare(tables, config: Configuration) -> CrimeCounts | None:
    """Crime counts from a public source (already aggregated) or from record-level tables."""
    pre = tables.extras.get("crime_counts")
    if pre is not None:
        return pre
    crimes = tables.get("crimes")
    if crimes is None:
        return None
    return counts_from_records(crimes, tables.get("outcomes"), config.categories, tables.extraction_date)


FAMILY = Family(
    name="crime", title="Crime volumes and charge/summons outcomes", tables=("crimes", "outcomes"),
    kpi_ids=tuple(KPI_IDS), prepare=prepare, measure=measure, breakdown=breakdown,
    missing_note="No crime records or crime tables in the input.",
    breakdown_dimensions=("outcome group", "local area"))
