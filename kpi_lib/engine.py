"""The single entry point: ``compute(period, tables, params)`` returns the KPI result table.

The KPI result table is the one contract between stages: notebooks write it, the report reads
it, exports and tests check it. One row per KPI for the period (crime outcome rates have a second
row for the non-headline basis, ``headline`` False), with comparisons and SPC:

kpi_id, name, family, period, period_start, period_end, value, unit, numerator, denominator,
ci_low, ci_high, sample_n, status, basis, headline, source, note, target, polarity,
previous_value, last_year_value, rolling12_value, previous12_value, baseline_value,
change_previous, change_last_year, change_last_year_pct, last_year_significant, change_12m,
change_12m_pct, change_12m_significant, change_baseline, change_baseline_pct,
spc_grain, spc_points, spc_variation, spc_assurance, spc_rule, spc_trial.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd

from . import spc
from .catalogue import Kpi, load_catalogue
from .categories import load_categories
from .families import calls, confidence, crime, environment, finance, response, satisfaction
from .params import load_params
from .periods import Period
from .sources.canonical import Tables
from .stats import two_proportion_test
from .windows import Window, WindowSet, windows_for

OUTCOME_BASES = ("cohort", "in_period")
STATUSES = ("reported", "not_yet_available", "annual", "not_available_from_source")
RESULT_COLUMNS = [
    "kpi_id", "name", "family", "period", "period_start", "period_end", "value", "unit",
    "numerator", "denominator", "ci_low", "ci_high", "sample_n", "status", "basis", "headline",
    "source", "note", "target", "polarity", "supplementary", "pending_share", "provisional",
    "previous_value", "last_year_value", "rolling12_value", "previous12_value", "baseline_value",
    "change_previous", "change_last_year", "change_last_year_pct", "last_year_significant",
    "change_12m", "change_12m_pct", "change_12m_significant", "change_baseline", "change_baseline_pct",
    "spc_grain", "spc_points", "spc_variation", "spc_assurance", "spc_rule", "spc_trial",
    "synthetic_data",
]
FAMILY_TABLES = {
    "crime": ["crimes", "outcomes"], "calls": ["calls"], "response": ["incidents"],
    "confidence": ["survey_responses"], "satisfaction": ["survey_responses"],
    "finance": ["finance", "vfm"], "environment": ["carbon"],
}


# ------------------------------------------------------------------------------ measurements
def crime_counts(tables: Tables) -> crime.CrimeCounts | None:
    """Crime counts from a public source (already aggregated) or from record-level tables."""
    pre = tables.extras.get("crime_counts")
    if pre is not None:
        return pre
    crimes = tables.get("crimes")
    if crimes is None:
        return None
    return crime.counts_from_records(crimes, tables.get("outcomes"), load_categories(),
                                     tables.extraction_date)


def _missing(kpi_ids: list[str], windows: list[Window], why: str, status: str = "not_available_from_source") -> pd.DataFrame:
    from .families._common import frame, unavailable
    return frame([unavailable(k, w, status, why, source="none") for k in kpi_ids for w in windows])


def measure_family(family: str, tables: Tables, windows: list[Window], params: dict) -> pd.DataFrame:
    """Measurement rows of one family over the windows (no file access: tables are in memory)."""
    if family == "crime":
        counts = crime_counts(tables)
        if counts is None:
            return _missing(crime.KPI_IDS, windows, "No crime records or crime tables in the input.")
        return crime.measure(counts, windows, params)
    if family == "calls":
        c = tables.get("calls")
        if c is None:
            return _missing(calls.KPI_IDS, windows, "No call records in the input.")
        return calls.measure(calls.daily_counts(c, params), windows, params)
    if family == "response":
        i = tables.get("incidents")
        if i is None:
            return _missing(response.KPI_IDS, windows, "No incident records in the input.")
        return response.measure(response.prepare(i), windows, params)
    if family in ("satisfaction", "confidence"):
        s = tables.get("survey_responses")
        mod = satisfaction if family == "satisfaction" else confidence
        if s is None:
            return _missing(mod.KPI_IDS, windows, "No survey responses in the input.")
        return mod.measure(s, windows, params)
    if family == "finance":
        return finance.measure(tables.get("finance"), tables.get("vfm"), windows, params)
    if family == "environment":
        return environment.measure(tables.get("carbon"), windows)
    raise ValueError(f"unknown family {family!r}")


def breakdowns(period: Period | str, tables: Tables, params: dict | None = None,
               families: list[str] | None = None) -> pd.DataFrame:
    """Breakdowns for the period: by local area, crime type, outcome group, carbon source."""
    period = Period.parse(period)
    params = params or load_params()
    from .windows import period_window
    w = period_window(period)
    fams = families or list(FAMILY_TABLES)
    parts = []
    if "crime" in fams and (counts := crime_counts(tables)) is not None:
        parts.append(crime.breakdown(counts, w, params))
    if "response" in fams and tables.get("incidents") is not None:
        times = response.prepare(tables.get("incidents"))
        parts.append(response.breakdown(times, w))
        parts.append(response.within_target(times, w, params)
                     .assign(dimension="within target", category="all incidents")
                     [["kpi_id", "dimension", "category", "value", "numerator", "denominator", "basis"]])
    if "satisfaction" in fams and tables.get("survey_responses") is not None:
        parts.append(satisfaction.breakdown(tables.get("survey_responses"), w, params))
    if "confidence" in fams and tables.get("survey_responses") is not None:
        parts.append(confidence.breakdown(tables.get("survey_responses"), w, params))
    if "environment" in fams:
        parts.append(environment.breakdown(tables.get("carbon"), w))
    parts = [p for p in parts if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["kpi_id", "dimension", "category", "value", "numerator", "denominator", "basis"])
    out.insert(1, "period", period.label)
    return out.sort_values(["kpi_id", "dimension", "category", "basis"], kind="stable", ignore_index=True)


# ------------------------------------------------------------------------------ comparisons
def _pct_change(new: float, old: float) -> float:
    if old is None or new is None or math.isnan(old) or math.isnan(new) or old == 0:
        return math.nan
    return 100 * (new - old) / abs(old)


def _test(cur: pd.Series | None, old: pd.Series | None, unit: str) -> float:
    """1.0/0.0 when a two-proportion test is significant or not; nan when not applicable."""
    if unit != "percent" or cur is None or old is None:
        return math.nan
    if any(math.isnan(v) for v in (cur["value"], cur["test_n"], old["value"], old["test_n"])):
        return math.nan
    n1, n2 = cur["test_n"], old["test_n"]
    res = two_proportion_test(cur["value"] / 100 * n1, n1, old["value"] / 100 * n2, n2)
    return math.nan if math.isnan(res["p_value"]) else float(res["significant"])


def _series(m: pd.DataFrame, windows: list[Window]) -> pd.DataFrame:
    keys = {(w.kind, w.start, w.end) for w in windows}
    sel = m[[(k, s, e) in keys for k, s, e in zip(m["window_kind"], m["window_start"], m["window_end"], strict=True)]]
    sel = sel[(sel["status"] == "reported") & sel["value"].notna()]
    return pd.DataFrame({"x": sel["window_start"].to_numpy(), "y": sel["value"].to_numpy(dtype=float)})


def _chart(kpi: Kpi, m: pd.DataFrame, ws: WindowSet, params: dict) -> tuple[str, pd.DataFrame]:
    """The series grain used and the XmR chart table (monthly, falling back to quarterly when a
    source gives quarterly counts only)."""
    grain = (params.get("spc_grain") or {}).get(kpi.family, "quarter")
    series = _series(m, ws.months if grain == "month" else ws.quarters)
    if grain == "month" and len(series) < 2:  # e.g. a quarterly public source
        grain, series = "quarter", _series(m, ws.quarters)
    rebase = [date.fromisoformat(str(d)) for d in (params.get("spc_rebase") or {}).get(kpi.id, [])]
    return grain, spc.xmr(series, polarity=kpi.polarity, target=kpi.target,
                          screen_outliers=bool(params.get("spc_screen_outliers", True)), rebase=rebase)


def spc_for(kpi: Kpi, m: pd.DataFrame, ws: WindowSet, params: dict) -> dict:
    """SPC summary for one KPI's measurements (monthly or quarterly, by family parameter)."""
    grain = (params.get("spc_grain") or {}).get(kpi.family, "quarter")
    if kpi.frequency == "annual" or grain == "none":
        return {"spc_grain": "none", "spc_points": 0, "spc_variation": "not_applicable",
                "spc_assurance": "not_applicable", "spc_rule": "", "spc_trial": False}
    grain, chart = _chart(kpi, m, ws, params)
    return {"spc_grain": grain, **spc.summary(chart)}


def spc_chart(kpi: Kpi, m: pd.DataFrame, ws: WindowSet, params: dict) -> pd.DataFrame:
    """The full XmR chart table behind :func:`spc_for` (for plotting)."""
    return _chart(kpi, m, ws, params)[1]


# ------------------------------------------------------------------------------ entry point
def window_set(period: Period, params: dict) -> WindowSet:
    baseline = Period.parse(params["baseline_year"])
    history = Period(min(baseline.fy, period.fy - 1), 1)
    return windows_for(period, history_start=history, baseline=baseline)


def measurements(period: Period | str, tables: Tables, params: dict | None = None,
                 families: list[str] | None = None) -> tuple[pd.DataFrame, WindowSet]:
    """Every measurement (all windows) for the families, and the window set used."""
    period = Period.parse(period)
    params = params or load_params()
    ws = window_set(period, params)
    fams = families or list(FAMILY_TABLES)
    parts = [measure_family(f, tables, ws.all(), params) for f in fams]
    return pd.concat(parts, ignore_index=True), ws


def compute(period: Period | str, tables: Tables, params: dict | None = None,
            families: list[str] | None = None, catalogue: list[Kpi] | None = None) -> pd.DataFrame:
    """The KPI result table for ``period`` (a quarter or a whole financial year)."""
    return compute_all(period, tables, params, families, catalogue)[0]


def compute_all(period: Period | str, tables: Tables, params: dict | None = None,
                families: list[str] | None = None,
                catalogue: list[Kpi] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, WindowSet]:
    """The KPI result table, plus the measurements and windows behind it (for charts), from one
    pass over the data."""
    period = Period.parse(period)
    params = params or load_params()
    catalogue = catalogue or load_catalogue()
    m, ws = measurements(period, tables, params, families)
    fams = families or list(FAMILY_TABLES)
    key = lambda w: (w.kind, w.start, w.end)  # noqa: E731
    m = m.assign(variant=np.where(m["basis"].isin(OUTCOME_BASES), m["basis"], ""))
    index = {}
    for rec in m.to_dict("records"):
        index[(rec["kpi_id"], rec["variant"], rec["window_kind"], rec["window_start"], rec["window_end"])] = rec
    rows = []
    for kpi in catalogue:
        if kpi.family not in fams:
            continue
        mk = m[m["kpi_id"] == kpi.id]
        bases = sorted(set(mk["variant"]), key=lambda b: (b != params.get("headline_basis"), b)) or [""]
        for basis in bases:
            mb = mk[mk["variant"] == basis]
            got = {name: index.get((kpi.id, basis, *key(w))) for name, w in ws.named.items()}
            cur = got["current"]
            if cur is None:
                raise RuntimeError(f"family {kpi.family} returned no row for {kpi.id} in {period}")
            val = lambda name, got=got: (got[name]["value"] if got[name] is not None and got[name]["status"] == "reported" else math.nan)  # noqa: E731
            v = cur["value"] if cur["status"] == "reported" else math.nan
            sp = spc_for(kpi, mb, ws, params) if cur["status"] == "reported" else {
                "spc_grain": "none", "spc_points": 0, "spc_variation": "no_data",
                "spc_assurance": "no_target" if kpi.target is None else "no_data", "spc_rule": "", "spc_trial": False}
            rows.append({
                "kpi_id": kpi.id, "name": kpi.name, "family": kpi.family, "period": period.label,
                "period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
                "value": cur["value"], "unit": kpi.unit, "numerator": cur["numerator"],
                "denominator": cur["denominator"], "ci_low": cur["ci_low"], "ci_high": cur["ci_high"],
                "sample_n": cur["sample_n"], "status": cur["status"], "basis": cur["basis"],
                "headline": basis == bases[0], "source": cur["source"], "note": cur["note"],
                "target": kpi.target, "polarity": kpi.polarity, "supplementary": kpi.supplementary,
                "pending_share": cur["pending_share"],
                "provisional": bool(cur["pending_share"] > params.get("provisional_pending_pct", 10)),
                "previous_value": val("previous"), "last_year_value": val("last_year"),
                "rolling12_value": val("rolling12"), "previous12_value": val("previous12"),
                "baseline_value": val("baseline"),
                "change_previous": v - val("previous"),
                "change_last_year": v - val("last_year"),
                "change_last_year_pct": _pct_change(v, val("last_year")),
                "last_year_significant": _test(cur, got["last_year"], kpi.unit) if not math.isnan(v - val("last_year")) else math.nan,
                "change_12m": val("rolling12") - val("previous12"),
                "change_12m_pct": _pct_change(val("rolling12"), val("previous12")),
                "change_12m_significant": _test(got["rolling12"], got["previous12"], kpi.unit)
                if not math.isnan(val("rolling12") - val("previous12")) else math.nan,
                "change_baseline": v - val("baseline"),
                "change_baseline_pct": _pct_change(v, val("baseline")),
                **sp,
                "synthetic_data": bool(tables.synthetic),
            })
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    bad = ~out["status"].isin(STATUSES)
    if bad.any():
        raise RuntimeError(f"invalid status for {list(out.loc[bad, 'kpi_id'])}")
    for col in ("value", "numerator", "denominator", "ci_low", "ci_high", "sample_n"):
        out[col] = out[col].astype(float)
    return out, m.drop(columns="variant"), ws


def year_quarters(period: Period | str, tables: Tables, params: dict | None = None,
                  families: list[str] | None = None) -> pd.DataFrame:
    """For an end-of-year report: each quarter's headline value side by side (kpi_id x Q1..Q4)."""
    period = Period.parse(period)
    params = params or load_params()
    m, _ = measurements(Period(period.fy, 4), tables, params, families)
    m = m[(m["window_kind"] == "quarter")]
    cols = {}
    for q in period.year().quarters():
        sel = m[(m["window_start"] == q.start)
                & (~m["basis"].isin(OUTCOME_BASES) | (m["basis"] == params["headline_basis"]))]
        sel = sel.assign(v=np.where(sel["status"] == "reported", sel["value"], np.nan))
        cols[f"Q{q.quarter}"] = sel.set_index("kpi_id")["v"]
    return pd.DataFrame(cols).reset_index(names="kpi_id")
