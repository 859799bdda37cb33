"""Weighted survey proportions shared by the satisfaction and confidence families.

Rule (../shared/guide/STATS.md): weighted estimate; Kish effective sample size
n_eff = (sum w)^2 / sum(w^2); 95% Wilson interval computed with n_eff. The respondent count and
n_eff are always reported. Every respondent who answered the question is in the denominator
(including "Don't know"), which is stated in the note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from kpi_lib.config.configuration import Configuration
from kpi_lib.core.stats import wilson_interval
from kpi_lib.core.windows import Window
from kpi_lib.measure.families._common import covers, next_month, row, unavailable


def coverage(responses: pd.DataFrame) -> tuple[date | None, date | None]:
    if responses is None or responses.empty:
        return None, None
    d = responses["interview_date"]
    first = d.min().date().replace(day=1)
    last_day = d.max().date()
    last = next_month(last_day)
    return first, last


@dataclass
class SurveyData:
    """Survey responses with their monthly sums, computed once per question, answer set and
    grouping and reused for every window (the panel measures many windows)."""

    responses: pd.DataFrame
    memo: dict = field(default_factory=dict)

    def sums(self, key: str, subset, yes: list[str], by: str | None = None) -> pd.DataFrame:
        """Monthly sums of ``subset()`` (a callable giving the responses concerned), memoised."""
        k = (key, tuple(yes), by)
        if k not in self.memo:
            self.memo[k] = monthly_sums(subset(), yes, by)
        return self.memo[k]


def monthly_sums(responses: pd.DataFrame, yes: list[str], by: str | None = None) -> pd.DataFrame:
    """Weighted survey sums per interview month (and per ``by`` group): respondents n, sum of
    weights, sum of weights answering yes, sum of squared weights. A window's estimate, Kish
    effective sample size and interval follow from the sums of its months (:func:`from_sums`)."""
    keys = ["month"] + ([by] if by else [])
    w = responses["weight"].to_numpy(dtype=float)
    df = pd.DataFrame({"month": responses["interview_date"].dt.to_period("M").dt.start_time.dt.date,
                       "n": 1, "sw": w, "swy": np.where(responses["answer"].isin(yes), w, 0.0),
                       "sw2": w * w})
    if by:
        df[by] = responses[by].to_numpy()
    return df.groupby(keys, as_index=False, sort=True)[["n", "sw", "swy", "sw2"]].sum()


def from_sums(n: float, sw: float, swy: float, sw2: float) -> dict:
    """Weighted share with a Wilson interval on the Kish effective sample size, from sums (the
    same rule as :func:`kpi_lib.core.stats.weighted_proportion`, which works from the rows)."""
    if n <= 0:
        return {"value": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": 0, "n_eff": 0.0,
                "weighted_yes": 0.0, "weighted_total": 0.0}
    p = swy / sw
    n_eff = sw * sw / sw2
    lo, hi = wilson_interval(p * n_eff, n_eff)
    return {"value": 100 * p, "ci_low": 100 * lo, "ci_high": 100 * hi, "n": int(n), "n_eff": n_eff,
            "weighted_yes": swy, "weighted_total": sw}


def _in_window(sums: pd.DataFrame, w: Window) -> pd.DataFrame:
    return sums[(sums["month"] >= w.start) & (sums["month"] < w.end)]


def weighted_rows(responses: pd.DataFrame, kpi_id: str, yes: list[str], windows: list[Window],
                  first: date | None, last: date | None, source: str = "canonical") -> list[dict]:
    rows = []
    sums = monthly_sums(responses, yes)
    for w in windows:
        if not covers(w, first, last):
            rows.append(unavailable(kpi_id, w, "not_yet_available", "No survey responses cover this period.", source=source))
            continue
        t = _in_window(sums, w)[["n", "sw", "swy", "sw2"]].sum()
        res = from_sums(t["n"], t["sw"], t["swy"], t["sw2"])
        note = (f"{res['n']:,} respondents (effective sample size {res['n_eff']:.0f} after weighting)."
                if res["n"] else "No respondents in the period: the percentage is undefined.")
        rows.append(row(kpi_id, w, value=res["value"], ci_low=res["ci_low"], ci_high=res["ci_high"],
                        numerator=res["weighted_yes"], denominator=res["weighted_total"],
                        sample_n=float(res["n"]), test_n=res["n_eff"], note=note, source=source))
    return rows


def weighted_breakdown(responses: pd.DataFrame | None, kpi_id: str, yes: list[str], w: Window,
                       by: str, dimension: str, sums: pd.DataFrame | None = None) -> pd.DataFrame:
    """The weighted share by ``by`` (e.g. local area) for one window; ``sums`` from
    :func:`monthly_sums` when the caller has them already (many windows)."""
    sums = monthly_sums(responses, yes, by) if sums is None else sums
    t = _in_window(sums, w).groupby(by, sort=True)[["n", "sw", "swy", "sw2"]].sum()
    rows = []
    for key, g in t.iterrows():
        res = from_sums(g["n"], g["sw"], g["swy"], g["sw2"])
        rows.append({"kpi_id": kpi_id, "dimension": dimension, "category": key,
                     "value": res["value"], "numerator": res["weighted_yes"],
                     "denominator": res["weighted_total"], "basis": "",
                     "ci_low": res["ci_low"], "ci_high": res["ci_high"], "sample_n": res["n"]})
    return pd.DataFrame(rows, columns=["kpi_id", "dimension", "category", "value", "numerator",
                                       "denominator", "basis", "ci_low", "ci_high", "sample_n"])


def prepare(tables, config: Configuration) -> SurveyData | None:
    """The survey families' input: the survey responses, or None when the input has none."""
    survey = tables.get("survey_responses")
    return None if survey is None else SurveyData(survey)
