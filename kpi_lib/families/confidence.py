"""Confidence family: overall confidence in local policing (% agree or strongly agree) and
visibility (% seeing an officer or PCSO at least weekly), overall and by local area (weighted,
Wilson interval on the Kish effective sample size; see ``_survey``)."""

from __future__ import annotations

import pandas as pd

from ..windows import Window
from ._common import frame
from ._survey import coverage, weighted_breakdown, weighted_rows

KPI_IDS = ["confidence_overall", "visibility_weekly"]
DEFAULTS = {
    "confidence_question": "confidence_local_policing",
    "confidence_answers": ["Strongly agree", "Agree"],
    "visibility_question": "seen_officer_frequency",
    "visibility_answers": ["Daily", "At least weekly"],
}


def _questions(p: dict) -> list[tuple[str, str, list[str]]]:
    return [("confidence_overall", p["confidence_question"], p["confidence_answers"]),
            ("visibility_weekly", p["visibility_question"], p["visibility_answers"])]


def measure(survey: pd.DataFrame, windows: list[Window], params: dict | None = None) -> pd.DataFrame:
    p = {**DEFAULTS, **(params or {})}
    conf = survey[survey["survey"] == "confidence"]
    first, last = coverage(conf)
    rows = []
    for kpi, question, yes in _questions(p):
        rows += weighted_rows(conf[conf["question"] == question], kpi, yes, windows, first, last)
    return frame(rows)


def breakdown(survey: pd.DataFrame, w: Window, params: dict | None = None) -> pd.DataFrame:
    p = {**DEFAULTS, **(params or {})}
    conf = survey[survey["survey"] == "confidence"]
    return pd.concat([weighted_breakdown(conf[conf["question"] == q], kpi, yes, w, "local_area", "local area")
                      for kpi, q, yes in _questions(p)], ignore_index=True)
