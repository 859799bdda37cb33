"""Satisfaction family: % of victims satisfied with the whole experience, overall and by crime
type (weighted, Wilson interval on the Kish effective sample size; see ``_survey``)."""

from __future__ import annotations

import pandas as pd

from ..windows import Window
from ._common import frame
from ._survey import coverage, weighted_breakdown, weighted_rows

KPI_IDS = ["victim_satisfaction"]
DEFAULTS = {
    "satisfaction_question": "overall_satisfaction",
    "satisfied_answers": ["Completely satisfied", "Very satisfied", "Fairly satisfied"],
}


def _responses(survey: pd.DataFrame, p: dict) -> pd.DataFrame:
    return survey[(survey["survey"] == "victim") & (survey["question"] == p["satisfaction_question"])]


def measure(survey: pd.DataFrame, windows: list[Window], params: dict | None = None) -> pd.DataFrame:
    p = {**DEFAULTS, **(params or {})}
    r = _responses(survey, p)
    first, last = coverage(r)
    return frame(weighted_rows(r, "victim_satisfaction", p["satisfied_answers"], windows, first, last))


def breakdown(survey: pd.DataFrame, w: Window, params: dict | None = None) -> pd.DataFrame:
    p = {**DEFAULTS, **(params or {})}
    return weighted_breakdown(_responses(survey, p), "victim_satisfaction", p["satisfied_answers"],
                              w, "crime_type", "crime type")
