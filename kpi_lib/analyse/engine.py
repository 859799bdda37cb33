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
- two questions, answered apart and stored apart (docs/methods.md): against the same period
  last year (:mod:`kpi_lib.analyse.compare`: an estimate, its 95% interval and a test; counts by
  quasi-Poisson with the dispersion of the KPI's own monthly history, proportions by the
  two-proportion z-test, medians by Mood's median test; Benjamini-Hochberg across every
  last-year test of the panel's KPIs, so a family's figures are the same computed alone) and
  over time (:mod:`kpi_lib.analyse.overtime`: SPC with limits from a recent window); one verdict
  combines them (:mod:`kpi_lib.analyse.verdicts`).
- the baseline comparison is like for like: the same quarter of the baseline year (the baseline
  year itself for a whole-year period), at equal maturity for cohort rates.

For convenience ``compute`` also accepts canonical :class:`~kpi_lib.inputs.canonical.Tables`,
in which case it first builds the panel from them (what tests and interactive use want).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from kpi_lib.analyse import compare, overtime, spc
from kpi_lib.analyse.columns import RESULTS, SPC_POINTS, STATUSES
from kpi_lib.analyse.outlook import add_outlook
from kpi_lib.analyse.verdicts import add_verdicts
from kpi_lib.config.annotations import rebase_dates
from kpi_lib.config.catalogue import Kpi, for_year
from kpi_lib.config.configuration import Configuration
from kpi_lib.core import stats
from kpi_lib.core.periods import Period
from kpi_lib.core.windows import Window, WindowSet, period_window, windows_for
from kpi_lib.measure import registry
from kpi_lib.measure.panel import Panel, build_panel, matured_counts

OUTCOME_BASES = ("cohort", "in_period")
RESULT_COLUMNS = RESULTS.names
COMPARISONS = ("previous", "last_year", "rolling12", "previous12", "baseline")
NO_SPC = {"spc_grain": "none", "spc_points": 0, "spc_variation": "not_applicable",
          "spc_assurance": "not_applicable", "spc_rule": "", "spc_trial": False,
          "spc_seasonal": False, "spc_finding": "none", "spc_direction": 0, "spc_words": "",
          "spc_since": "", "spc_trend": 0, "spc_window_start": "", "spc_window_points": 0}


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
    """The windows of ``period``: the baseline is the same quarter of the baseline year (like
    with like), or the baseline year itself for a whole-year period."""
    base_year = Period.parse(params["baseline_year"])
    baseline = Period(base_year.fy, period.quarter) if period.quarter else Period(base_year.fy)
    history = Period(min(base_year.fy, period.fy - 1), 1)
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
def _days(w: Window) -> int:
    return (w.end - w.start).days


def _margins(params: dict) -> dict:
    return {"practical_margin_pct": params.get("practical_margin_pct", compare.DEFAULT_MARGIN_PCT),
            "practical_margin_points": params.get("practical_margin_points", compare.DEFAULT_MARGIN_POINTS)}


def count_series(rows: pd.DataFrame, through: date) -> pd.DataFrame:
    """A count KPI's own history (period_start, value, days) to ``through`` (exclusive): its
    reported months, or its quarters when the source gives quarterly counts only. Missing
    periods (not reported) are left out, never read as zero."""
    ok = rows[(rows["status"] == "reported") & rows["value"].notna()
              & (pd.to_datetime(rows["window_end"]) <= pd.Timestamp(through))]
    for kind in ("month", "quarter"):
        k = ok[ok["window_kind"] == kind]
        if len(k) >= 2:
            days = (pd.to_datetime(k["window_end"]) - pd.to_datetime(k["window_start"])).dt.days
            return pd.DataFrame({"period_start": k["window_start"].to_numpy(),
                                 "value": k["value"].to_numpy(dtype=float), "days": days.to_numpy()})
    return pd.DataFrame(columns=["period_start", "value", "days"])


def binned_times(panel: Panel, kpi_id: str, w: Window) -> tuple[np.ndarray, np.ndarray] | None:
    """The binned times (value, count) behind a median KPI over a window, from the panel's
    distributions; None when the panel holds none for it."""
    d = getattr(panel, "distributions", None)
    if d is None or d.empty:
        return None
    sel = d[(d["kpi_id"] == kpi_id)]
    if sel.empty:
        return None
    start = pd.to_datetime(sel["period_start"])
    sel = sel[(start >= pd.Timestamp(w.start)) & (start < pd.Timestamp(w.end))]
    g = sel.groupby("value")["count"].sum()
    return g.index.to_numpy(dtype=float), g.to_numpy(dtype=np.int64)


def change_between(kpi: Kpi, basis: str, cur: dict | None, old: dict | None, w_cur: Window,
                   w_old: Window, params: dict, *, like_for_like: str = "",
                   dispersion: dict | None = None, panel: Panel | None = None) -> dict:
    """The change between two windows with its interval and test (before multiplicity control):
    :func:`kpi_lib.analyse.compare.last_year_change` with this KPI's unit, dispersion and, for a
    median, the binned times of both windows."""
    times = None
    if kpi.unit in ("minutes", "seconds") and panel is not None:
        a, b = binned_times(panel, kpi.id, w_cur), binned_times(panel, kpi.id, w_old)
        if a is not None and b is not None:
            times = (*a, *b)
    return compare.last_year_change(
        kpi.unit, basis, cur, old, days=(_days(w_cur), _days(w_old)), other_label=w_old.label,
        like_for_like=like_for_like, dispersion=dispersion, times=times, margins=_margins(params),
        min_events=int(params.get("min_events_for_count_test", stats.MIN_EVENTS_FOR_COUNT_TEST)))


# ------------------------------------------------------------------------------ SPC
def _series(rows: pd.DataFrame, windows: list[Window]) -> pd.DataFrame:
    """One point per window (x = its start, y = its value, nan where the window is not reported:
    missing is never zero), from the first reported window on."""
    by = {(k, s, e): (v, d) for k, s, e, v, d, st in zip(
        rows["window_kind"], rows["window_start"], rows["window_end"], rows["value"],
        rows["denominator"], rows["status"], strict=True) if st == "reported" and not pd.isna(v)}
    xs, ys, ends, dens = [], [], [], []
    for w in windows:
        v, d = by.get((w.kind, w.start, w.end), (math.nan, math.nan))
        xs.append(w.start), ys.append(float(v)), ends.append(w.end), dens.append(float(d))
    out = pd.DataFrame({"x": xs, "y": ys, "end": ends, "denominator": dens})
    valid = np.flatnonzero(out["y"].notna().to_numpy())
    return out.iloc[valid[0]:].reset_index(drop=True) if valid.size else out.iloc[:0]


def _grain(kpi: Kpi, params: dict) -> str:
    """The KPI's chart grain: the ``spc_grain`` setting for its family, else the family's own."""
    return registry.chart_grains(params)[kpi.family]


def seasonal_for(kpi: Kpi, basis: str, grain: str, params: dict) -> bool:
    """Seasonally adjusted limits: the KPIs listed in ``spc_seasonal``, and every in-period
    outcome rate (its denominator, the crimes recorded in a month, follows the seasons while the
    outcomes given lag behind them: swings of 11-16% a year in the sample)."""
    return grain == "month" and (kpi.id in (params.get("spc_seasonal") or []) or basis == "in_period")


def _chart_series(kpi: Kpi, basis: str, rows: pd.DataFrame, ws: WindowSet, params: dict, panel: Panel,
                  maturity: Maturity) -> tuple[str, pd.DataFrame]:
    """The series grain used and the series (monthly, falling back to quarterly when a source
    gives quarterly counts only); cohort-rate points at equal maturity where records allow."""
    grain = _grain(kpi, params)
    series = _series(rows, ws.months if grain == "month" else ws.quarters)
    if grain == "month" and series["y"].notna().sum() < 2:  # e.g. a quarterly public source
        grain, series = "quarter", _series(rows, ws.quarters)
    if basis == "cohort" and kpi.is_outcome_rate and maturity.lag is not None and len(series):
        cat, types = kpi.category, outcome_types(kpi, params)
        values = []
        for x, end, n, y in zip(series["x"], series["end"], series["denominator"], series["y"], strict=True):
            if pd.isna(y):
                values.append(math.nan)
                continue
            w = Window(grain, "", x, end)
            cutoff = _end_incl(w) + timedelta(days=maturity.lag)
            months = pd.date_range(w.start, w.end, freq="MS", inclusive="left").date
            xs = matured_counts(panel, cat, list(types), [(m, cutoff) for m in months]).sum()
            values.append(100 * xs / n if n else math.nan)
        series = series.assign(y=values)
    return grain, series


def over_time_for(kpi: Kpi, basis: str, rows: pd.DataFrame, ws: WindowSet, period: Period, params: dict,
                  panel: Panel, maturity: Maturity, annotations: list) -> tuple[dict, pd.DataFrame]:
    """The over-time answer of one KPI row (the ``spc_*`` columns) and its chart table."""
    grain, series = _chart_series(kpi, basis, rows, ws, params, panel, maturity)
    ot = overtime.over_time(
        series[["x", "y"]], period_start=period.start, period_end=period.end_exclusive,
        period_word="year" if period.is_year else "quarter", polarity=kpi.polarity, target=kpi.target,
        rebase=rebase_dates(annotations, kpi.id), seasonal=seasonal_for(kpi, basis, grain, params),
        screen_outliers=bool(params.get("spc_screen_outliers", True)),
        window_months=int(params.get("spc_window_months", overtime.WINDOW_MONTHS)),
        min_points=int(params.get("spc_min_points", overtime.MIN_POINTS)))
    chart = ot.chart
    last = chart.iloc[-1] if len(chart) else None
    summary = {
        "spc_grain": grain, "spc_points": int(chart["y"].notna().sum()),
        "spc_variation": "no_data" if last is None else str(last["variation"]),
        "spc_assurance": ot.assurance, "spc_rule": "" if last is None else str(last["rule"]),
        "spc_trial": ot.finding == "too_few",
        "spc_seasonal": bool(len(chart) and (chart["adjustment"] != 1.0).any()),
        "spc_finding": ot.finding, "spc_direction": ot.direction, "spc_words": ot.words,
        "spc_since": ot.since, "spc_trend": ot.trend,
        "spc_window_start": ot.window_start.isoformat() if ot.window_start else "",
        "spc_window_points": ot.window_points,
    }
    return summary, chart


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
    """The KPI result table with the measurements, windows and SPC charts behind it.

    The last-year tests of every KPI the panel holds are made (they are cheap), so that the
    Benjamini-Hochberg q-values are those of the whole report whichever families are asked for;
    rows, charts and verdicts are then made for the families asked for."""
    period = Period.parse(period)
    params, annotations = config.params, config.annotations
    catalogue = for_year(config.catalogue, period.fy)  # the period's budget year: its KPIs and targets
    panel = _as_panel(source, config, families, period)
    fams = families or panel.families
    m_all = panel.whole_force()
    ws = window_set(period, params)
    index = _index(m_all)
    key = lambda w: (w.kind, w.start, w.end)  # noqa: E731
    current_w = ws.named["current"]
    maturity = maturity_for(panel, current_w)
    threshold = params.get("provisional_pending_pct", 10)
    rows, charts = [], {}
    by_kpi = dict(tuple(m_all.groupby("kpi_id")))
    tested_families = set(panel.families) | set(fams)
    for kpi in catalogue:
        if kpi.family not in tested_families:
            continue
        wanted = kpi.family in fams
        mk = by_kpi.get(kpi.id, m_all.iloc[:0])
        variants = set(np.where(mk["basis"].isin(OUTCOME_BASES), mk["basis"], ""))
        bases = sorted(variants, key=lambda b: (b != params.get("headline_basis"), b)) or [""]
        dispersion = stats.count_dispersion(*count_series(mk, current_w.end).T.to_numpy()) \
            if kpi.unit == "count" else None
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
            unmatched = ""
            if cohort and maturity.lag is None and provisional:
                unmatched = "not like-for-like (" + maturity.basis.split(": ", 1)[-1] + ")"
            cur_row = like["current"] if cur["status"] == "reported" else None
            t_ly = change_between(kpi, basis, cur_row, got["last_year"] if like["last_year"] is None
                                  else like["last_year"], current_w, ws.named["last_year"], params,
                                  like_for_like=unmatched, dispersion=dispersion, panel=panel)
            r12 = like["rolling12"] if got["rolling12"]["status"] == "reported" else None
            t_12 = change_between(kpi, basis, r12, got["previous12"] if like["previous12"] is None
                                  else like["previous12"], ws.named["rolling12"], ws.named["previous12"],
                                  params, like_for_like=unmatched, dispersion=dispersion, panel=panel)
            sp: dict = dict(NO_SPC)
            if not wanted:
                pass
            elif cur["status"] == "reported" and kpi.frequency != "annual" and _grain(kpi, params) != "none":
                sp, chart = over_time_for(kpi, basis, by_kpi_basis(mk, basis), ws, period, params, panel,
                                          maturity, annotations)
                charts[(kpi.id, basis)] = chart
            elif cur["status"] != "reported":
                sp.update({"spc_variation": "no_data",
                           "spc_assurance": "no_target" if kpi.target is None else "no_data",
                           "spc_finding": ""})
            sig12 = t_12["p_value"]
            rows.append({
                "kpi_id": kpi.id, "name": kpi.name, "family": kpi.family, "period": period.label,
                "period_start": period.start.isoformat(), "period_end": period.end.isoformat(),
                "value": cur["value"], "unit": kpi.unit, "numerator": cur["numerator"],
                "denominator": cur["denominator"], "ci_low": cur["ci_low"], "ci_high": cur["ci_high"],
                "sample_n": cur["sample_n"], "status": cur["status"], "basis": cur["basis"],
                "headline": basis == bases[0], "source": cur["source"], "note": cur["note"],
                "target": kpi.target, "target_source": (kpi.target_source or "") if kpi.target is not None else "",
                "polarity": kpi.polarity, "supplementary": kpi.supplementary,
                "budget_year": kpi.budget_year or period.year().label, "new_this_year": kpi.new_this_year,
                "pending_share": cur["pending_share"], "provisional": provisional,
                **{f"{n}_value": val[n] for n in COMPARISONS},
                **{f"{n}_value_mature": mature[n] for n in COMPARISONS},
                "comparison_basis": comparison_basis,
                "comparator_age_days": float(maturity.lag) if cohort and maturity.lag is not None else math.nan,
                "last_year_period": ws.named["last_year"].label,
                "change_previous": v - val["previous"],
                "change_last_year": t_ly["change"], "change_last_year_pct": t_ly["pct"],
                "change_last_year_low": t_ly["low"], "change_last_year_high": t_ly["high"],
                "change_last_year_pct_low": t_ly["pct_low"], "change_last_year_pct_high": t_ly["pct_high"],
                "last_year_test": t_ly["test"], "last_year_p_value": t_ly["p_value"],
                "last_year_dispersion": t_ly["dispersion"],
                "_finding": t_ly["finding"], "_too_wide": t_ly["too_wide"], "_reason": t_ly["reason"],
                "change_12m": t_12["change"], "change_12m_pct": t_12["pct"],
                "change_12m_test": t_12["test"] or t_12["reason"], "change_12m_p_value": sig12,
                "change_12m_q_value": math.nan, "change_12m_significant": math.nan,  # Benjamini-Hochberg, below
                "change_baseline": v - val["baseline"],
                "change_baseline_pct": compare.pct_change(v, val["baseline"]),
                "baseline_period": ws.named["baseline"].label,
                **sp, "verdict_code": "", "verdict": "", "verdict_direction": "",
                "synthetic_data": panel.synthetic, "_family_wanted": wanted,
            })
    out = pd.DataFrame(rows)
    bad = ~out["status"].isin(STATUSES)
    if bad.any():
        raise RuntimeError(f"invalid status for {list(out.loc[bad, 'kpi_id'])}")
    for col in ("value", "numerator", "denominator", "ci_low", "ci_high", "sample_n",
                "last_year_p_value", "change_12m_p_value", "change_12m_significant"):
        out[col] = out[col].astype(float)
    out = not_compared_with_last_year(out)
    fdr_q = float(params.get("fdr_q", compare.DEFAULT_FDR_Q))
    out = compare.finalise(out, fdr_q)
    out = compare.finalise_12_months(out, fdr_q)
    out = out[out.pop("_family_wanted").astype(bool)].reset_index(drop=True)
    m = m_all[m_all["family"].isin(fams)]
    out = add_verdicts(out)
    out = add_outlook(out, period, m, catalogue, annotations)[RESULT_COLUMNS]
    return Computed(out, m, ws, charts)


#: the comparison with the same period last year, left out for a KPI new this budget year
LAST_YEAR_COLUMNS = ("last_year_value", "last_year_value_mature", "change_last_year",
                     "change_last_year_pct", "change_last_year_low", "change_last_year_high",
                     "change_last_year_pct_low", "change_last_year_pct_high", "last_year_p_value",
                     "last_year_dispersion")


def not_compared_with_last_year(out: pd.DataFrame) -> pd.DataFrame:
    """A KPI new in this budget year was not one of last year's KPIs: it is not compared with
    last year (the Panel never saw last year's figure), and its row says so."""
    new = out["new_this_year"].astype(bool)
    if new.any():
        out.loc[new, list(LAST_YEAR_COLUMNS)] = math.nan
        out.loc[new, "last_year_test"] = "no comparison: a KPI new in this budget year"
        if "_finding" in out:  # before the false discovery rate: its test is not one of the report's
            out.loc[new, "_finding"] = "not_comparable"
            out.loc[new, "_reason"] = "not comparable: a KPI new in this budget year"
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
    kpi_id, basis, quarter, period_start, value, status, unit, same_age_value (sparklines, "what
    changed"). ``value`` is as measured at this extraction (cohort rates as they stand today,
    what "what changed" compares); ``same_age_value`` is the value on the basis
    the KPI is judged on: a cohort rate counted at the same age as the period reported (equal
    maturity, as its chart and its comparison with last year), else the value itself. Missing
    quarters have no value, never zero."""
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
    maturity = maturity_for(panel, period_window(period))
    rows = []
    for kpi in catalogue:
        if kpi.family not in fams:
            continue
        for q in qs:
            r = idx.get((kpi.id, q.start))
            value = math.nan if r is None or r["status"] != "reported" else r["value"]
            same_age = value
            if (r is not None and not math.isnan(value) and r["basis"] == "cohort" and kpi.is_outcome_rate
                    and maturity.lag is not None):
                same_age = _matured_rate(panel, kpi, period_window(q), r["denominator"], maturity.lag,
                                         params)["value"]
            rows.append({"kpi_id": kpi.id, "basis": "" if r is None else r["basis"], "quarter": q.label,
                         "period_start": q.start.isoformat(), "value": value,
                         "status": "not_yet_available" if r is None else r["status"], "unit": kpi.unit,
                         "same_age_value": same_age})
    return pd.DataFrame(rows, columns=["kpi_id", "basis", "quarter", "period_start", "value", "status", "unit",
                                       "same_age_value"])


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
