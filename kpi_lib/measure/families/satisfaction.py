"""Satisfaction family: % of victims satisfied with the whole experience, overall and by crime
type (weighted, Wilson interval on the Kish effective sample size; see ``_survey``).

The question is part of the KPI's definition (``QUESTION``); which answers count as satisfied is
a run setting (``satisfied_answers``)."""

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

KPI_IDS = ["victim_satisfaction"]
QUESTION = "overall_satisfaction"


def _responses(survey: pd.DataFrame) -> pd.DataFrame:
    return survey[(survey["survey"] == "victim") & (survey["question"] == QUESTION)]


def measure(data: SurveyData, windows: list[Window], params: dict) -> pd.DataFrame:
    r = _responses(data.responses)
    first, last = coverage(r)
    return frame(weighted_rows(r, "victim_satisfaction", params["satisfied_answers"], windows, first, last))


def breakdown(data: SurveyData, w: Window, params: dict) -> pd.DataFrame:
    yes = params["satisfied_answers"]
    sums = data.sums("victim_satisfaction", lambda: _responses(data.responses), yes, "crime_type")
    return breakdown_frame(weighted_breakdown(None, "victim_satisfaction", yes, w, "crime_type",
                                              "crime type", sums=sums))


FAMILY = Family(
    name="satisfaction", title="Victim satisfaction",
    spc_grain="quarter",  # a survey: too few interviews a month for a monthly point
    introduction=(
        "The share of victims surveyed who were satisfied with the whole service they "
        "received."),
    tables=("survey_responses",),
    kpi_ids=tuple(KPI_IDS), prepare=prepare, measure=measure, breakdown=breakdown,
    missing_note="No survey responses in the input.", breakdown_dimensions=("crime type",),
    source_words="the victim satisfaction survey",
    counted_words=(("victim_satisfaction", "weighted respondents satisfied"),))
