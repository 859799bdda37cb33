"""Year-end outlook: for a KPI with a target, in the first three quarters of a financial year,
the full-year value the KPI is heading for, an 80% prediction interval and the probability of
meeting the target.

The model (also in docs/methods.md, "Year-end outlook"):

- **The series.** The KPI's whole-force monthly values (quarterly where the KPI is measured only
  by quarter, e.g. savings delivered), from the measurement panel. A year-to-date KPI is modelled
  by its increments (what each month or quarter adds).
- **How a year is made of its months** is found from the data, never assumed: the full-year value
  must equal, for every complete past year, either the sum of the months' numerators over the sum
  of their denominators (percentages such as calls answered within 10 seconds or weighted survey
  shares), the sum of the months' values (counts), or the last value of the year (year to date).
  A KPI whose year follows none of these rules (a median, a yes/no answer) gets no outlook.
- **The seasonal model** (statsmodels ``UnobservedComponents``): a local linear trend (level and
  slope that drift slowly) plus a trigonometric seasonal pattern (two harmonics for months, one
  for quarters) and noise. A dated change recorded in the annotations with ``rebase: true`` on or
  before the period's end enters as a level shift from its date (a regression state, so its size
  is learnt from the months after it). Parameters are estimated by maximum likelihood on the
  complete past financial years only (at least :data:`MIN_YEARS`); the months of the current year
  so far then update the states with the parameters held fixed.
- **Uncertainty.** The remaining months of the year are simulated from the model
  (:data:`DRAWS` paths), each path with parameters drawn from their estimated sampling
  distribution (the inverse Hessian of the log-likelihood, on the unconstrained scale), so the
  interval allows for the few years the parameters are estimated from as well as for the months
  still to come. Each path gives a full-year value (for percentages weighted by the same months'
  denominators last year); the outlook is the model's mean path, the interval the 10th and 90th
  percentiles of the paths and the probability the share of paths meeting the target.
- **When.** Only for a quarter Q1 to Q3, a KPI with a target and a direction (higher or lower is
  better), reported this quarter. At Q4 and for a whole year the year's own figure is known.

Everything here is pure: measurement rows in, numbers out; random draws are seeded from the KPI
and the period, so a run is reproducible. :func:`backtest` replays the method on complete past
years (data to the end of Q1, Q2 and Q3 of each year, the model fitted on the years before it)
and :func:`backtest_summary` gives the coverage of the 80% intervals and the Brier score of the
probabilities.
"""

from __future__ import annotations

import math
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from kpi_lib.core.periods import Period

#: Complete past financial years needed before an outlook is given.
MIN_YEARS = 3
#: Simulated paths of the rest of the year (each with its own parameter draw).
DRAWS = 2000
#: Parameter draws (each used for DRAWS / PARAMETER_DRAWS paths).
PARAMETER_DRAWS = 100
#: The interval: 80% (the 10th to the 90th percentile of the simulated year values).
LEVEL = 0.80
#: Probability bands for the words: likely at or above LIKELY, unlikely at or below UNLIKELY.
LIKELY, UNLIKELY = 0.8, 0.2
OUTLOOK_COLUMNS = ["outlook_value", "outlook_low", "outlook_high", "outlook_p_meet"]
MODEL_WORDS = ("a seasonal time-series model (local linear trend plus a seasonal pattern, "
               "statsmodels UnobservedComponents) fitted on the complete past financial years")
RULES = ("ratio", "sum", "year_to_date")


@dataclass(frozen=True)
class Outlook:
    """One KPI's year-end outlook: the full-year value, its 80% interval, the probability of
    meeting the target, and how it was made (grain, how the year is built from its months, the
    years the model was fitted on)."""

    kpi_id: str
    value: float
    low: float
    high: float
    p_meet: float
    grain: str
    rule: str
    years_fitted: tuple[int, ...]
    subperiods_seen: int
    subperiods_left: int


def outlook_words(p_meet: float) -> str:
    """"likely", "unlikely" or "uncertain" to meet the target, with the probability:
    "likely to meet the target (p = 0.93)". Empty when there is no outlook."""
    if p_meet is None or (isinstance(p_meet, float) and math.isnan(p_meet)):
        return ""
    word = "likely" if p_meet >= LIKELY else "unlikely" if p_meet <= UNLIKELY else "uncertain"
    shown = "< 0.01" if p_meet < 0.005 else "> 0.99" if p_meet > 0.995 else f"= {p_meet:.2f}"
    return f"{word} to meet the target (p {shown})"


# ------------------------------------------------------------------------------ the series
def _fy(d) -> int:
    d = pd.Timestamp(d)
    return d.year if d.month >= 4 else d.year - 1


def _rows(m: pd.DataFrame, kpi_id: str, kind: str) -> pd.DataFrame:
    r = m[(m["kpi_id"] == kpi_id) & (m["window_kind"] == kind)]
    if "breakdown_dim" in r:
        r = r[r["breakdown_dim"].fillna("") == ""]
    r = r.assign(window_start=pd.to_datetime(r["window_start"]), window_end=pd.to_datetime(r["window_end"]))
    r = r.sort_values("window_start").drop_duplicates("window_start", keep="first")
    return r.assign(fy=r["window_start"].map(_fy)).reset_index(drop=True)


def _complete_years(sub: pd.DataFrame, years: pd.DataFrame, per: int, before: int) -> list[int]:
    """Financial years before ``before`` whose every sub-period and the year itself are reported,
    and consecutive up to ``before`` (a gap breaks the series: the years before it are not used)."""
    ok = []
    for fy in sorted(set(years["fy"])):
        if fy >= before:
            continue
        s = sub[sub["fy"] == fy]
        y = years[years["fy"] == fy]
        if len(s) == per and (s["status"] == "reported").all() and len(y) and y["status"].iloc[0] == "reported":
            ok.append(fy)
        else:
            ok = []
    while ok and ok[-1] != before - 1:
        ok = []
    return ok


def year_rule(sub: pd.DataFrame, years: pd.DataFrame, fitted: list[int]) -> str | None:
    """How the full-year value is made of its sub-periods, as the complete past years show it:
    "ratio" (sum of numerators over sum of denominators, as a percentage), "sum" (of values) or
    "year_to_date" (the last value); None when no rule reproduces every year."""
    for rule in RULES:
        good = True
        for fy in fitted:
            s = sub[sub["fy"] == fy]
            actual = float(years.loc[years["fy"] == fy, "value"].iloc[0])
            if rule == "ratio":
                den = s["denominator"].sum()
                got = 100.0 * s["numerator"].sum() / den if den else math.nan
            elif rule == "sum":
                got = s["value"].sum()
            else:
                got = float(s["value"].iloc[-1])
                inc = s["numerator"].diff()
                if s["denominator"].nunique() != 1 or (inc.dropna() < -1e-9).any():
                    good = False
                    break
            if not (math.isfinite(got) and math.isclose(got, actual, rel_tol=1e-6, abs_tol=1e-6)):
                good = False
                break
        if good:
            return rule
    return None


def _modelled(sub: pd.DataFrame, rule: str) -> np.ndarray:
    """The values the model sees: each sub-period's value, or for a year-to-date KPI what each
    sub-period adds (as a percentage of the year's denominator)."""
    if rule != "year_to_date":
        return sub["value"].to_numpy(float)
    num = sub["numerator"].to_numpy(float)
    first = sub["fy"].ne(sub["fy"].shift()).to_numpy()
    inc = np.where(first, num, num - np.r_[0.0, num[:-1]])
    return 100.0 * inc / sub["denominator"].to_numpy(float)


# ------------------------------------------------------------------------------ the model
def _model(y: np.ndarray, per: int, steps: np.ndarray | None):
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    kw = {"level": "lltrend", "freq_seasonal": [{"period": per, "harmonics": 2 if per == 12 else 1}]}
    if steps is not None:
        kw.update(exog=steps, mle_regression=False)
    return UnobservedComponents(y, **kw)


def _simulate(y_past: np.ndarray, y_now: np.ndarray, per: int, left: int, steps: np.ndarray | None,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(mean path, simulated paths [left x DRAWS]) of the sub-periods still to come.

    The parameters are estimated on the complete past years; for each of :data:`PARAMETER_DRAWS`
    parameter draws the whole series (past years and this year so far) is filtered and paths are
    simulated forward from the filtered state: the state at the last sub-period drawn from its
    filtered distribution, then the state equation and the observation noise step by step. Level
    shifts are all in force by then, so the last design row holds for the months to come."""
    n_fit, n_all = len(y_past), len(y_past) + len(y_now)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_model = _model(y_past, per, None if steps is None else steps[:n_fit])
        fit = fit_model.fit(disp=False, maxiter=500, cov_type="none")
        full = _model(np.r_[y_past, y_now], per, None if steps is None else steps[:n_all])
        unconstrained = fit_model.untransform_params(fit.params)
        cov = np.linalg.pinv(-fit_model.hessian(unconstrained, transformed=False))
    cov = (cov + cov.T) / 2
    w, v = np.linalg.eigh(cov)
    cov = (v * np.clip(w, 0, None)) @ v.T
    if not np.isfinite(cov).all():
        cov = np.zeros_like(cov)
    draws = [fit.params] + [fit_model.transform_params(d) for d in
                            rng.multivariate_normal(unconstrained, cov, size=PARAMETER_DRAWS)]
    each = DRAWS // PARAMETER_DRAWS
    mean = None
    paths = []
    for i, params in enumerate(draws):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = full.filter(params, cov_type="none")
        ssm = full.ssm
        design = np.asarray(ssm["design"])
        z = design[:, :, -1] if design.ndim == 3 else design
        t, sel = np.asarray(ssm["transition"]), np.asarray(ssm["selection"])
        q, h = np.asarray(ssm["state_cov"]), float(np.asarray(ssm["obs_cov"]).reshape(-1)[0])
        a, pcov = res.filtered_state[:, -1], res.filtered_state_cov[:, :, -1]
        if i == 0:  # the mean path under the estimated parameters
            state, out = a.copy(), []
            for _ in range(left):
                state = t @ state
                out.append(float((z @ state)[0]))
            mean = np.array(out)
            continue
        pcov = (pcov + pcov.T) / 2
        state = rng.multivariate_normal(a, pcov, size=each, method="eigh").T
        sim = np.empty((left, each))
        for j in range(left):
            state = t @ state + sel @ rng.multivariate_normal(np.zeros(len(q)), q, size=each, method="eigh").T
            sim[j] = (z @ state)[0] + rng.normal(0.0, math.sqrt(max(h, 0.0)), size=each)
        paths.append(sim)
    return mean, np.hstack(paths)


def _steps(starts: pd.Series, rebases: Iterable[date], through: pd.Timestamp, first: pd.Timestamp,
           n_extra: int, per: int) -> np.ndarray | None:
    """Level-shift regressors (0 before, 1 from the rebase date) for rebases after the series'
    first sub-period and on or before ``through``; the rows cover the series and ``n_extra``
    sub-periods after it. None when there is none."""
    dates = [pd.Timestamp(d) for d in rebases if first < pd.Timestamp(d) <= through]
    if not dates:
        return None
    months = 12 // per
    extra = [starts.iloc[-1] + pd.DateOffset(months=months * (i + 1)) for i in range(n_extra)]
    idx = pd.DatetimeIndex(list(starts) + extra)
    return np.column_stack([(idx >= d).astype(float) for d in sorted(set(dates))])


def _year_values(rule: str, seen: pd.DataFrame, paths: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Full-year values from the sub-periods seen and simulated paths of those still to come."""
    if rule == "ratio":
        num0, den0 = seen["numerator"].sum(), seen["denominator"].sum()
        return (100.0 * num0 + (paths * weights[:, None]).sum(0)) / (den0 + weights.sum())
    if rule == "sum":
        return seen["value"].sum() + paths.sum(0)
    return float(seen["value"].iloc[-1]) + paths.sum(0)


def _meets(values: np.ndarray, target: float, polarity: str) -> np.ndarray:
    return values >= target if polarity == "higher_better" else values <= target


def forecast_year(measurements: pd.DataFrame, kpi_id: str, target: float, polarity: str,
                  fy: int, through_quarter: int, rebases: Iterable[date] = (),
                  seed: int | None = None) -> Outlook | None:
    """The outlook for financial year ``fy`` (e.g. 2024 for 2024/25) with data to the end of its
    quarter ``through_quarter`` (1 to 3), from whole-force measurement rows. None when the KPI
    cannot have one (too few complete past years, a year not built from its months, a
    sub-period of this year not reported)."""
    if through_quarter not in (1, 2, 3) or polarity not in ("higher_better", "lower_better") \
            or target is None or not math.isfinite(float(target)):
        return None
    years = _rows(measurements, kpi_id, "year")
    for kind, per in (("month", 12), ("quarter", 4)):
        sub = _rows(measurements, kpi_id, kind)
        fitted = _complete_years(sub, years, per, fy)
        if len(fitted) >= MIN_YEARS:
            break
    else:
        return None
    rule = year_rule(sub, years, fitted)
    if rule is None:
        return None
    n_seen = through_quarter * per // 4
    now = sub[sub["fy"] == fy].iloc[:n_seen]
    if len(now) != n_seen or not (now["status"] == "reported").all():
        return None
    past = sub[sub["fy"].isin(fitted)]
    if rule == "ratio":
        last = sub[sub["fy"] == fy - 1]
        weights = last["denominator"].to_numpy(float)[n_seen:]
        if len(weights) != per - n_seen or not np.isfinite(weights).all():
            return None
    else:
        weights = np.zeros(per - n_seen)
    series = pd.concat([past, now])
    y = _modelled(series, rule)
    through = pd.Timestamp(now["window_end"].iloc[-1]) - pd.Timedelta(days=1)
    steps = _steps(series["window_start"], rebases, through, series["window_start"].iloc[0],
                   per - n_seen, per)
    rng = np.random.default_rng(seed if seed is not None else zlib.crc32(f"{kpi_id}|{fy}|{through_quarter}".encode()))
    left = per - n_seen
    mean, paths = _simulate(y[:len(past)], y[len(past):], per, left, steps, rng)
    values = _year_values(rule, now, paths, weights)
    point = float(_year_values(rule, now, mean[:, None], weights)[0])
    lo, hi = np.quantile(values, [(1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2])
    return Outlook(kpi_id, point, float(lo), float(hi), float(_meets(values, float(target), polarity).mean()),
                   "month" if per == 12 else "quarter", rule, tuple(fitted), n_seen, left)


# ------------------------------------------------------------------------------ a period's outlooks
def outlooks(period: Period | str, measurements: pd.DataFrame, catalogue, annotations: Iterable = ()) -> list[Outlook]:
    """The outlook of every KPI with a target and a direction, for a quarter Q1 to Q3 (none at Q4
    or for a whole year)."""
    p = Period.parse(period)
    if p.is_year or p.quarter == 4:
        return []
    anns = list(annotations)
    out = []
    for k in catalogue:
        if k.target is None or k.polarity not in ("higher_better", "lower_better"):
            continue
        rebases = sorted({a.date for a in anns if a.rebase and a.applies_to(k.id)})
        o = forecast_year(measurements, k.id, k.target, k.polarity, p.fy, p.quarter, rebases)
        if o is not None:
            out.append(o)
    return out


def add_outlook(results: pd.DataFrame, period: Period | str, measurements: pd.DataFrame, catalogue,
                annotations: Iterable = ()) -> pd.DataFrame:
    """The result table with ``outlook_value``, ``outlook_low``, ``outlook_high`` and
    ``outlook_p_meet`` (NaN where there is no outlook), on each KPI's headline row reported this
    quarter."""
    out = results.copy()
    for c in OUTLOOK_COLUMNS:
        out[c] = math.nan
    head = out["headline"].astype(str).str.lower().isin(["true", "1", "1.0"]) & (out["status"] == "reported")
    wanted = set(out.loc[head, "kpi_id"])
    cat = [k for k in catalogue if k.id in wanted]
    for o in outlooks(period, measurements, cat, annotations):
        rows = head & (out["kpi_id"] == o.kpi_id)
        out.loc[rows, OUTLOOK_COLUMNS] = [o.value, o.low, o.high, o.p_meet]
    return out


# ------------------------------------------------------------------------------ backtest
def backtest(measurements: pd.DataFrame, catalogue, annotations: Iterable = ()) -> pd.DataFrame:
    """The method replayed on every complete past year it could have been used in: for each KPI
    with a target, each year with at least :data:`MIN_YEARS` complete years before it and each of
    Q1 to Q3, the outlook made with the data to that quarter's end (and only the annotations dated
    by then) against the year's actual value. One row per case: kpi_id, year, quarter, value,
    low, high, p_meet, actual, met (the target was met), covered (the actual lies in the interval)."""
    anns = list(annotations)
    rows = []
    for k in catalogue:
        if k.target is None or k.polarity not in ("higher_better", "lower_better"):
            continue
        years = _rows(measurements, k.id, "year")
        reported = years[years["status"] == "reported"]
        for fy in sorted(reported["fy"]):
            actual = float(reported.loc[reported["fy"] == fy, "value"].iloc[0])
            for q in (1, 2, 3):
                end = Period(fy, q).end
                rebases = sorted({a.date for a in anns if a.rebase and a.applies_to(k.id) and a.date <= end})
                o = forecast_year(measurements, k.id, k.target, k.polarity, fy, q, rebases)
                if o is None:
                    continue
                rows.append({"kpi_id": k.id, "year": Period(fy).label, "quarter": q, "value": o.value,
                             "low": o.low, "high": o.high, "p_meet": o.p_meet, "actual": actual,
                             "met": bool(_meets(np.array([actual]), k.target, k.polarity)[0]),
                             "covered": bool(o.low <= actual <= o.high)})
    return pd.DataFrame(rows, columns=["kpi_id", "year", "quarter", "value", "low", "high", "p_meet",
                                       "actual", "met", "covered"])


def backtest_summary(cases: pd.DataFrame) -> dict:
    """Coverage of the 80% intervals (share of actual values inside them), the Brier score of the
    probabilities of meeting the target (mean squared difference from what happened: 0 is
    perfect, 0.25 is a coin toss) and the number of cases."""
    if cases.empty:
        return {"cases": 0, "coverage": math.nan, "brier": math.nan}
    return {"cases": int(len(cases)), "coverage": float(cases["covered"].mean()),
            "brier": float(((cases["p_meet"] - cases["met"].astype(float)) ** 2).mean())}
