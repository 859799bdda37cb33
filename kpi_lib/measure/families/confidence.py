"""Confidence family: overall confidence in local policing (% agree or strongly agree) and
visibility (% seeing an officer or PCSO at least weekly), overall and by local area (weighted,
Wilson interval on the Kish effective sample size; see ``_survey``).

The questions are part of the KPIs' definitions (``QUESTIONS``); which answers count as "yes"
are run settings (``confidence_answers``, ``visibility_answers``)."""

from __future__ import annotations

import pandas as pd

from kpi_lib.core.windows import Window
from kpi_lib.measure.families._common import Family, breakdown_frame, frame
from kpi_lib.measure.families._survey import (
    SurveyData,
    coverage,
    prepare,
    weighted_breakdown,
    weighted_rows,
)

KPI_IDS = ["confidence_overall", "visibility_weekly"]
QUESTIONS = {  # KPI -> (question, setting naming the answers that count)
    "confidence_overall": ("confidence_local_policing", "confidence_answers"),
    "visibility_weekly": ("seen_officer_frequency", "visibility_answers"),
}


def _questions(p: dict) -> list[tuple[str, str, list[str]]]:
    return [(kpi, q, p[key]) for kpi, (q, key) in QUESTIONS.items()]


def measure(data: SurveyData, windows: list[Window], params: dict) -> pd.DataFrame:
    survey = data.responses
    conf = survey[survey["survey"] == "confidence"]
    first, last = coverage(conf)
    rows = []
    for kpi, question, yes in _questions(params):
        rows += weighted_rows(conf[conf["question"] == question], kpi, yes, windows, first, last)
    return frame(rows)


def breakdown(data: SurveyData, w: Window, params: dict) -> pd.DataFrame:
    survey = data.responses
    parts = []
    for kpi, q, yes in _questions(params):
        sub = lambda q=q: survey[(survey["survey"] == "confidence") & (survey["question"] == q)]  # noqa: E731
        parts.append(weighted_breakdown(None, kpi, yes, w, "local_area", "local area",
                                        sums=data.sums(kpi, sub, yes, "local_area")))
    return breakdown_frame(pd.concat(parts, ignore_index=True))


FAMILY = Family(
    name="confidence", title="Public confidence and police visibility",
    spc_grain="quarter",  # a survey: too few interviews a month for a monthly point
    introduction=(
        "The share of people surveyed who have confidence in local policing, and who see "
        "a police officer or PCSO at least weekly."),
    tables=("survey_responses",),
    kpi_ids=tuple(KPI_IDS), prepare=prepare, measure=measure, breakdown=breakdown,
    missing_note="No survey responses in the input.", breakdown_dimensions=("local area",),
    source_words="the public confidence survey",
    counted_words=(("confidence_overall", "weighted respondents agreeing"),
                   ("visibility_weekly", "weighted respondents seeing an officer at least weekly")))
