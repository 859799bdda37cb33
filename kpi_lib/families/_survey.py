"""Weighted survey proportions shared by the satisfaction and confidence families.

Rule (../shared/guide/STATS.md): weighted estimate; Kish effective sample size
n_eff = (sum w)^2 / sum(w^2); 95% Wilson interval computed with n_eff. The respondent count and
n_eff are always reported. Every respondent who answered the question is in the denominator
(including "Don't know"), which is stated in the note.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from ..stats import weighted_proportion
from ..windows import Window
from ._common import covers, next_month, row, unavailable


def coverage(responses: pd.DataFrame) -> tuple[date | None, date | None]:
    if responses is None or responses.empty:
        return None, None
    d = responses["interview_date"]
    first = d.min().date().replace(day=1)
    last_day = d.max().date()
    last = next_month(last_day)
    return first, last


def weighted_rows(responses: pd.DataFrame, kpi_id: str, yes: list[str], windows: list[Window],
                  first: date | None, last: date | None, source: str = "canonical") -> list[dict]:
    rows = []
    dates = responses["interview_date"].dt.date if len(responses) else pd.Series([], dtype=object)
    for w in windows:
        if not covers(w, first, last):
            rows.append(unavailable(kpi_id, w, "not_yet_available", "No survey responses cover this period.", source=source))
            continue
        sel = responses[(dates >= w.start) & (dates < w.end)]
        res = weighted_proportion(sel["answer"].isin(yes).to_numpy(), sel["weight"].to_numpy())
        note = (f"{res['n']:,} respondents (effective sample size {res['n_eff']:.0f} after weighting)."
                if res["n"] else "No respondents in the period: the percentage is undefined.")
        rows.append(row(kpi_id, w, value=res["value"], ci_low=res["ci_low"], ci_high=res["ci_high"],
                        numerator=res["weighted_yes"], denominator=res["weighted_total"],
                        sample_n=float(res["n"]), test_n=res["n_eff"], note=note, source=source))
    return rows


def weighted_breakdown(responses: pd.DataFrame, kpi_id: str, yes: list[str], w: Window,
                       by: str, dimension: str) -> pd.DataFrame:
    dates = responses["interview_date"].dt.date
    sel = responses[(dates >= w.start) & (dates < w.end)]
    rows = []
    for key, d in sel.groupby(by):
        res = weighted_proportion(d["answer"].isin(yes).to_numpy(), d["weight"].to_numpy())
        rows.append({"kpi_id": kpi_id, "dimension": dimension, "category": key,
                     "value": res["value"], "numerator": res["weighted_yes"],
                     "denominator": res["weighted_total"], "basis": "",
                     "ci_low": res["ci_low"], "ci_high": res["ci_high"], "sample_n": res["n"]})
    return pd.DataFrame(rows, columns=["kpi_id", "dimension", "category", "value", "numerator",
                                       "denominator", "basis", "ci_low", "ci_high", "sample_n"])
