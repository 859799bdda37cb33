"""The single entry point: ``compute(period, panel, config)`` returns the KPI result table.

It derives everything from the measurement panel (:mod:`kpi_lib.measure.panel`) alone: the period's row
per KPI (crime outcome rates have a second row for the non-headline basis, ``headline`` False),
its comparisons (like for like), the tests of change, SPC and one verdict. Columns are
:data:`RESULT_COLUMNS` (the schema is :mod:`kpi_lib.analyse.results`).

Like for like (docs/methods.md):

- cohort outcome rates from record-level data are compared at equal maturity: a cohort counted at
  extraction date E has had L = E - (its period end) days; every comparison cohort (previous
  quarter, same quarter last year, 12 months, baseline, each SPC point) counts only outcomes dated
  on or before its own period end + L. Today's fully matured values are kept in ``*_mature``.
- cohort rates from sources without outcome dates cannot be matched: the comparison is named "not
  like-for-like", and no test is given while the current period is still maturing.
- proportions are tested with the two-proportion z-test, counts with the exact test for two
  Poisson counts (exposure = days in each window); the words say which, or why none.

For convenience ``compute`` also accepts canonical :class:`~kpi_lib.inputs.canonical.Tables`,
in which case it first builds the panel from them (what tests and interactive use want).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from kpi_lib.analyse import spc
from kpi_lib.analyse.columns import RESULTS, SPC_POINTS, STATUSES
from kpi_lib.analyse.outlook import add_outlook
from kpi_lib.analyse.verdicts import add_verdicts
from kpi_lib.config.annotations import rebase_dates
from kpi_lib.config.catalogue import Kpi, for_year
from kpi_lib.config.configuration import Configuration
from kpi_lib.core import stats
from kpi_lib.core.periods import Period
from kpi_lib.core.windows import Window, WindowSet, period_window, windows_for
from kpi_lib.measure.panel import Panel, build_panel, matured_counts

OUTCOME_BASES = ("cohort", "in_period")
RESULT_COLUMNS = RESULTS.names
COMPARISONS = ("previous", "last_year", "rolling12", "previous12", "baseline")
NO_SPC = {"spc_grain": "none", "spc_points": 0, "spc_variation": "not_applicable",
          "spc_assurance": "not_applicable", "spc_rule": "", "spc_trial": False,
          "spc_seasonal": False}


@dataclass
class Computed:
    """A period's KPI table with what lies behind it: the measurement rows used, the windows,
    and each KPI's SPC chart (keyed by (kpi_id, basis))."""

    results: pd.DataFrame
    measurements: pd.DataFrame
    windows: WindowSet
    charts: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)


# ------------------------------------------------------------------------------ windows
def window_set(period: Period, params: dict) -> WindowSet:
    baseline = Period.parse(params["baseline_year"])
    history = Period(min(baseline.fy, period.fy - 1), 1)
    return windows_for(period, history_start=history, baseline=baseline)


def _end_incl(w: Window) -> date:
    return w.end - timedelta(days=1)


# ------------------------------------------------------------------------------ maturity
@dataclass(frozen=True)
class Maturity:
    """How the period's cohort rates are matched: ``lag`` days after each period end (None when
    no like-for-like basis exists), and the words for ``comparison_basis``."""

    lag: int | None
    basis: str
    record_level: bool


def maturity_for(panel: Panel, current: Window) -> Maturity:
    extraction = panel.extraction_date
    if not panel.info.get("outcome_dates"):
        return Maturity(None, "not like-for-like: the source has no outcome dates", False)
    if extraction is None:
        return Maturity(None, "not like-for-like: the extraction date is not known", True)
    lag = (extraction - _end_incl(current)).days
    if lag < 0:
        return Maturity(None, "not like-for-like: the period ends after the extraction date", True)
    return Maturity(lag, f"equal maturity: outcomes up to {lag} days after each period end", True)


def outcome_types(kpi: Kpi, params: dict) -> list[str]:
    """The outcome types an outcome-rate KPI counts (its measure's setting)."""
    return list(params["action_taken_types"] if kpi.measure == "action_taken_rate" else params["charge_outcome_types"])


def _matured_rate(panel: Panel, kpi: Kpi, w: Window, n: float, lag: int, params: dict) -> dict:
    """A cohort rate for window ``w`` counting only outcomes dated up to ``lag`` days after its end."""
    cutoff = _end_incl(w) + timedelta(days=lag)
    months = pd.date_range(w.start, w.end, freq="MS", inclusive="left").date
    pairs = [(m, cutoff) for m in months]
    x = float(matured_counts(panel, kpi.category, outcome_types(kpi, params), pairs).sum())
    if not n or n <= 0 or math.isnan(n):
        return {"value": math.nan, "test_n": math.nan, "x": x}
    return {"value": 100 * x / n, "test_n": n, "x": x}


# ------------------------------------------------------------------------------ tests
def _pct_change(new: float, old: float) -> float:
    if old is None or new is None or math.isnan(old) or math.isnan(new) or old == 0:
        return math.nan
    return 100 * (new - old) / abs(old)


def _days(w: Window) -> int:
    return (w.end - w.start).days


def change_test(kpi: Kpi, basis: str, cur: dict | None, old: dict | None, w_cur: Window,
                w_old: Window, params: dict, like_for_like: bool = True) -> dict:
    """The test of a change between two windows: words, p-value and 1.0/0.0/nan significance."""
    none = {"test": "", "p_value": math.nan, "significant": math.nan}
    if cur is None or old is None or math.isnan(cur["value"]) or math.isnan(old["value"]):
        return {**none, "test": "no test: a value is missing"}
    if not like_for_like:
        return {**none, "test": "not like-for-like: no test"}
    if kpi.unit == "count":
        res = stats.poisson_test(cur["value"], old["value"], _days(w_cur), _days(w_old),
                                 min_events=int(params.get("min_events_for_count_test", 10)))
    elif kpi.unit == "percent":
        if basis == "in_period":
            return {**none, "test": "no test: the in-period rate is a ratio, not a proportion"}
        n1, n2 = cur.get("test_n", math.nan), old.get("test_n", math.nan)
        if any(math.isnan(v) for v in (n1, n2)):
            return {**none, "test": "no test: no sample size"}
        res = stats.two_proportion_test(cur["value"] / 100 * n1, n1, old["value"] / 100 * n2, n2)
    else:
        return {**none, "test": f"no test for a change in {kpi.unit}"}
    p = res["p_value"]
    sig = math.nan if p is None or math.isnan(p) or res["significant"] is None else float(res["significant"])
    return {"test": res["test"], "p_value": p, "significant": sig}


# ------------------------------------------------------------------------------ SPC
def _series(rows: pd.DataFrame, windows: list[Window]) -> pd.DataFrame:
    keys = {(w.kind, w.start, w.end) for w in windows}
    sel = rows[[(k, s, e) in keys for k, s, e in
                zip(rows["window_kind"], rows["window_start"], rows["window_end"], strict=True)]]
    sel = sel[(sel["status"] == "reported") & sel["value"].notna()]
    return pd.DataFrame({"x": sel["window_start"].to_numpy(), "y": sel["value"].to_numpy(dtype=float),
                         "end": sel["window_end"].to_numpy(),
                         "denominator": sel["denominator"].to_numpy(dtype=float)})


def _xmr(series: pd.DataFrame, kpi: Kpi, grain: str, annotations: list, params: dict) -> pd.DataFrame:
    """XmR chart: limits rebased only at annotated dates, seasonally adjusted limits for the
    monthly series of KPIs listed in ``spc_seasonal``."""
    return spc.xmr(series[["x", "y"]], polarity=kpi.polarity, target=kpi.target,
                   screen_outliers=bool(params.get("spc_screen_outliers", True)),
                   rebase=rebase_dates(annotations, kpi.id),
                   seasonal=grain == "month" and kpi.id in (params.get("spc_seasonal") or []))


def _chart(kpi: Kpi, basis: str, rows: pd.DataFrame, ws: WindowSet, params: dict, panel: Panel,
           maturity: Maturity, annotations: list | None) -> tuple[str, pd.DataFrame]:
    """The series grain used and the XmR chart (monthly, falling back to quarterly when a source
    gives quarterly counts only); cohort-rate points at equal maturity where records allow."""
    grain = (params.get("spc_grain") or {}).get(kpi.family, "quarter")
    series = _series(rows, ws.months if grain == "month" else ws.quarters)
    if grain == "month" and len(series) < 2:  # e.g. a quarterly public source
        grain, series = "quarter", _series(rows, ws.quarters)
    if basis == "cohort" and kpi.is_outcome_rate and maturity.lag is not None and len(series):
        cat, types = kpi.category, outcome_types(kpi, params)
        values = []
        for x, end, n in zip(series["x"], series["end"], series["denominator"], strict=True):
            w = Window(grain, "", x, end)
            cutoff = _end_incl(w) + timedelta(days=maturity.lag)
            months = pd.date_range(w.start, w.end, freq="MS", inclusive="left").date
            xs = matured_counts(panel, cat, list(types), [(m, cutoff) for m in months]).sum()
            values.append(100 * xs / n if n else math.nan)
        series = series.assign(y=values)
    return grain, _xmr(series, kpi, grain, annotations, params)


def spc_points(computed: Computed, catalogue: list[Kpi]) -> pd.DataFrame:
    """Every chart point of a computed period (results/<family>_spc.csv)."""
    units = {k.id: k.unit for k in catalogue}
    parts = [spc.points_table(chart, kpi_id, basis, units[kpi_id])
             for (kpi_id, basis), chart in computed.charts.items()]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SPC_POINTS.names)


# ------------------------------------------------------------------------------ entry point
def _as_panel(source, config: Configuration, families: list[str] | None, period: Period) -> Panel:
    if isinstance(source, Panel):
        return source
    return build_panel(source, config, families, through=period)


def compute(period: Period | str, panel, config: Configuration,
            families: list[str] | None = None) -> pd.DataFrame:
    """The KPI result table for ``period`` (a quarter or a whole financial year), from the panel
    (or from canonical tables, which are measured first) and the run's configuration."""
    return compute_all(period, panel, config, families).results


def _index(m: pd.DataFrame) -> dict:
    variant = np.where(m["basis"].isin(OUTCOME_BASES), m["basis"], "")
    recs = m.to_dict("records")
    return {(r["kpi_id"], v, r["window_kind"], r["window_start"], r["window_end"]): r
            for r, v in zip(recs, variant, strict=True)}


def _missing_row(kpi_id: str, w: Window, basis: str) -> dict:
    return {"kpi_id": kpi_id, "basis": basis, "window_kind": w.kind, "window_start": w.start,
            "window_end": w.end, "value": math.nan, "numerator": math.nan, "denominator": math.nan,
            "ci_low": math.nan, "ci_high": math.nan, "sample_n": math.nan, "test_n": math.nan,
            "status": "not_yet_available", "note": "No data cover this period.", "source": "none",
            "pending_share": math.nan}


def compute_all(period: Period | str, source, config: Configuration,
                families: list[str] | None = None) -> Computed:
    """The KPI result table with the measurements, windows and SPC charts behind it."""
    period = Period.parse(period)
    params, annotations = config.params, config.annotations
    catalogue = for_year(config.catalogue, period.fy)  # the period's budget year: its KPIs and targets
    panel = _as_panel(source, config, families, period)
    fams = families or panel.families
    m = panel.whole_force()
    m = m[m["family"].isin(fams)]
    ws = window_set(period, params)
    index = _index(m)
    key = lambda w: (w.kind, w.start, w.end)  # noqa: E731
    current_w = ws.named["current"]
    maturity = maturity_for(panel, current_w)
    threshold = params.get("provisional_pending_pct", 10)
    rows, charts = [], {}
    by_kpi = dict(tuple(m.groupby("kpi_id")))
    for kpi in catalogue:
        if kpi.family not in fams:
            continue
        mk = by_kpi.get(kpi.id, m.iloc[:0])
        variants = set(np.where(mk["basis"].isin(OUTCOME_BASES), mk["basis"], ""))
        bases = sorted(variants, key=lambda b: (b != params.get("headline_basis"), b)) or [""]
        for basis in bases:
            got = {name: index.get((kpi.id, basis, *key(w))) for name, w in ws.named.items()}
            got = {name: (r if r is not None else _missing_row(kpi.id, ws.named[name], basis))
                   for name, r in got.items()}
            cur = got["current"]
            rep = {name: (r if r["status"] == "reported" else None) for name, r in got.items()}
            mature = {name: (r["value"] if r is not None else math.nan) for name, r in rep.items()}
            cohort = basis == "cohort" and kpi.is_outcome_rate
            # like-for-like comparison values
            like = dict(rep)
            comparison_basis = ""
            if cohort:
                comparison_basis = maturity.basis
                if maturity.lag is not None:
                    for name in COMPARISONS:
                        r = rep[name]
                        if r is not None:
                            mr = _matured_rate(panel, kpi, ws.named[name], r["denominator"], maturity.lag, params)
                            like[name] = {**r, "value": mr["value"], "test_n": mr["test_n"]}
            val = {name: (r["value"] if r is not None else math.nan) for name, r in like.items()}
            v = val["current"]
            provisional = bool(cur["pending_share"] > threshold) if not math.isnan(cur["pending_share"]) else False
            testable = not (cohort and maturity.lag is None and provisional)
            t_ly = change_test(kpi, basis, like["current"], like["last_year"], current_w,
                               ws.named["last_year"], params, testable)
            t_12 = change_test(kpi, basis, like["rolling12"], like["previous12"], ws.named["rolling12"],
                               ws.named["previous12"], params, testable)
            if cur["status"] == "reported" and kpi.frequency != "annual" and \
                    (params.get("spc_grain") or {}).get(kpi.family, "quarter") != "none":
                grain, chart = _chart(kpi, basis, by_kpi_basis(mk, basis), ws, params, panel,
                                      maturity, annotations)
                charts[(kpi.id, basis)] = chart
                sp = {"spc_grain": grain, **spc.summary(chart)}
            elif cur["status"] == "reported":
                sp = dict(NO_SPC)
            else:
                sp = {"spc_grain": "none", "spc_points": 0, "spc_variation": "no_data",
                      "spc_assurance": "no_target" if kpi.target is None else "no_data",
                      "spc_rule": "", "spc_trial": False, "spc_seasonal": False}
            rows.append({
                "kpi_id": kpi.id, "name": kpi.name, "family": kpi.family, "period": period.label,
                "period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
                "value": cur["value"], "unit": kpi.unit, "numerator": cur["numerator"],
                "denominator": cur["denominator"], "ci_low": cur["ci_low"], "ci_high": cur["ci_high"],
                "sample_n": cur["sample_n"], "status": cur["status"], "basis": cur["basis"],
                "headline": basis == bases[0], "source": cur["source"], "note": cur["note"],
                "target": kpi.target, "polarity": kpi.polarity, "supplementary": kpi.supplementary,
                "budget_year": kpi.budget_year or period.year().label, "new_this_year": kpi.new_this_year,
                "pending_share": cur["pending_share"], "provisional": provisional,
                **{f"{n}_value": val[n] for n in COMPARISONS},
                **{f"{n}_value_mature": mature[n] for n in COMPARISONS},
                "comparison_basis": comparison_basis,
                "change_previous": v - val["previous"],
                "change_last_year": v - val["last_year"],
                "change_last_year_pct": _pct_change(v, val["last_year"]),
                "last_year_test": t_ly["test"], "last_year_p_value": t_ly["p_value"],
                "last_year_significant": t_ly["significant"],
                "change_12m": val["rolling12"] - val["previous12"],
                "change_12m_pct": _pct_change(val["rolling12"], val["previous12"]),
                "change_12m_test": t_12["test"], "change_12m_p_value": t_12["p_value"],
                "change_12m_significant": t_12["significant"],
                "change_baseline": v - val["baseline"],
                "change_baseline_pct": _pct_change(v, val["baseline"]),
                **sp, "verdict_code": "", "verdict": "",
                "synthetic_data": panel.synthetic,
            })
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    bad = ~out["status"].isin(STATUSES)
    if bad.any():
        raise RuntimeError(f"invalid status for {list(out.loc[bad, 'kpi_id'])}")
    for col in ("value", "numerator", "denominator", "ci_low", "ci_high", "sample_n",
                "last_year_p_value", "change_12m_p_value", "last_year_significant",
                "change_12m_significant"):
        out[col] = out[col].astype(float)
    out = add_verdicts(not_compared_with_last_year(out))
    out = add_outlook(out, period, m, catalogue, annotations)[RESULT_COLUMNS]
    return Computed(out, m, ws, charts)


#: the comparison with the same period last year, left out for a KPI new this budget year
LAST_YEAR_COLUMNS = ("last_year_value", "last_year_value_mature", "change_last_year",
                     "change_last_year_pct", "last_year_p_value", "last_year_significant")


def not_compared_with_last_year(out: pd.DataFrame) -> pd.DataFrame:
    """A KPI new in this budget year was not one of last year's KPIs: it is not compared with
    last year (the Panel never saw last year's figure), and its row says so."""
    new = out["new_this_year"].astype(bool)
    if new.any():
        out.loc[new, list(LAST_YEAR_COLUMNS)] = math.nan
        out.loc[new, "last_year_test"] = "no comparison: a KPI new in this budget year"
        said = [f"New KPI for {y}: not one of last year's KPIs, so not compared with last year."
                for y in out.loc[new, "budget_year"]]
        out.loc[new, "note"] = [f"{s} {n}".strip() if isinstance(n, str) else s
                                for s, n in zip(said, out.loc[new, "note"], strict=True)]
    return out


def by_kpi_basis(mk: pd.DataFrame, basis: str) -> pd.DataFrame:
    variant = np.where(mk["basis"].isin(OUTCOME_BASES), mk["basis"], "")
    return mk[variant == basis]


# ------------------------------------------------------------------------------ derived tables
def breakdowns(period: Period | str, source, config: Configuration,
               families: list[str] | None = None) -> pd.DataFrame:
    """Breakdowns for the period (by local area, crime type, outcome group, carbon source)."""
    period = Period.parse(period)
    panel = _as_panel(source, config, families, period)
    fams = families or panel.families
    b = panel.breakdowns()
    w = period_window(period)
    b = b[b["family"].isin(fams) & (b["window_start"] == w.start) & (b["window_end"] == w.end)
          & (b["window_kind"] == w.kind)]
    out = pd.DataFrame({"kpi_id": b["kpi_id"], "period": period.label, "dimension": b["breakdown_dim"],
                        "category": b["breakdown_value"], "value": b["value"],
                        "numerator": b["numerator"], "denominator": b["denominator"],
                        "basis": b["basis"], "ci_low": b["ci_low"], "ci_high": b["ci_high"],
                        "sample_n": b["sample_n"]})
    return out.sort_values(["kpi_id", "dimension", "category", "basis"], kind="stable", ignore_index=True)


def measurements(period: Period | str, source, config: Configuration,
                 families: list[str] | None = None) -> tuple[pd.DataFrame, WindowSet]:
    """Measurement rows (whole force, every window the panel holds) and the period's windows."""
    period, m = _whole_force(period, source, config, families)
    return m.reset_index(drop=True), window_set(period, config.params)


def _whole_force(period, source, config: Configuration, families) -> tuple[Period, pd.DataFrame]:
    """The parsed period and the panel's whole-force rows of the families."""
    period = Period.parse(period)
    m = _as_panel(source, config, families, period).whole_force()
    return period, (m[m["family"].isin(families)] if families else m)


def history(period: Period | str, panel: Panel, config: Configuration,
            families: list[str] | None = None, quarters: int = 8) -> pd.DataFrame:
    """The last ``quarters`` quarters (to the period's end) of every KPI's headline value:
    kpi_id, basis, quarter, period_start, value, status, unit (sparklines, "what
    changed"). Values are as measured at this extraction (cohort rates as they stand today)."""
    period = Period.parse(period)
    params, catalogue = config.params, for_year(config.catalogue, period.fy)
    last = period if not period.is_year else Period(period.fy, 4)
    qs = [last]
    while len(qs) < quarters:
        qs.insert(0, qs[0].previous())
    fams = families or panel.families
    m = panel.whole_force()
    m = m[(m["window_kind"] == "quarter") & m["family"].isin(fams)]
    headline = params.get("headline_basis", "cohort")
    m = m[~m["basis"].isin(OUTCOME_BASES) | (m["basis"] == headline)]
    idx = {(r["kpi_id"], r["window_start"]): r for r in m.to_dict("records")}
    rows = []
    for kpi in catalogue:
        if kpi.family not in fams:
            continue
        for q in qs:
            r = idx.get((kpi.id, q.start))
            rows.append({"kpi_id": kpi.id, "basis": "" if r is None else r["basis"], "quarter": q.label,
                         "period_start": q.start.isoformat(),
                         "value": math.nan if r is None or r["status"] != "reported" else r["value"],
                         "status": "not_yet_available" if r is None else r["status"], "unit": kpi.unit})
    return pd.DataFrame(rows, columns=["kpi_id", "basis", "quarter", "period_start", "value", "status", "unit"])


def year_quarters(period: Period | str, source, config: Configuration,
                  families: list[str] | None = None) -> pd.DataFrame:
    """For an end-of-year report: each quarter's headline value side by side (kpi_id x Q1..Q4)."""
    params = config.params
    period, m = _whole_force(period, source, config, families)
    m = m[m["window_kind"] == "quarter"]
    cols = {}
    for q in period.year().quarters():
        sel = m[(m["window_start"] == q.start)
                & (~m["basis"].isin(OUTCOME_BASES) | (m["basis"] == params["headline_basis"]))]
        sel = sel.assign(v=np.where(sel["status"] == "reported", sel["value"], np.nan))
        cols[f"Q{q.quarter}"] = sel.set_index("kpi_id")["v"]
    return pd.DataFrame(cols).reset_index(names="kpi_id")
