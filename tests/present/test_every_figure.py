"""The "every figure" table of a family section and the rounded spreadsheet say each figure as
the one-page summary does: a change is the difference of the values as shown."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from kpi_lib.present.excel import readable
from kpi_lib.present.narrative import shown_change
from kpi_lib.present.summary import comparator_text
from kpi_lib.present.views import chart_reading, kpi_overview, sources_html

NAN = math.nan


def _row(kpi_id: str, basis: str, value: float, last_year: float, **extra) -> dict:
    row = {"kpi_id": kpi_id, "name": kpi_id, "basis": basis, "unit": "percent", "status": "reported",
           "value": value, "ci_low": NAN, "ci_high": NAN, "numerator": NAN, "denominator": NAN,
           "last_year_value": last_year, "change_last_year": value - last_year, "change_last_year_pct": NAN,
           "rolling12_value": NAN, "previous12_value": NAN, "change_12m": NAN, "change_12m_pct": NAN,
           "source": "force_records", "family": "crime", "headline": True}
    row.update(extra)
    return row


# values as stored in the 2024/25 Q4 sample's kpis.csv; the changes worked out by hand from the
# values as shown: 73.0 - 75.0 = -2.0 (stored -2.05 would read -2.1); 10.1 - 7.7 = +2.4 (stored
# +2.34 would read +2.3); 0.6 - 0.4 = +0.2 (stored +0.257 would read +0.3)
CASES = [
    _row("confidence_overall", "", 72.962761, 75.014574),
    _row("vwi_charge_rate", "cohort", 10.055644, 7.713718),
    _row("rape_charge_rate", "cohort", 0.636943, 0.380228),
]
SHOWN = ["-2.0 points", "+2.4 points", "+0.2 points"]
SHOWN_NUMBERS = [-2.0, 2.4, 0.2]


def test_shown_change_is_the_difference_of_the_shown_values():
    assert [shown_change(r["value"], r["last_year_value"], "percent") for r in CASES] == SHOWN
    assert comparator_text(CASES[0], "percent").startswith("-2.0 points on 75.0%")


def test_every_figure_table_shows_the_same_change_as_the_summary():
    table = kpi_overview(SimpleNamespace(results=pd.DataFrame(CASES), catalogue=[]))
    assert list(table["Change"]) == SHOWN
    assert list(table["Same period last year"]) == ["75.0%", "7.7%", "0.4%"]


def test_rounded_sheet_shows_the_change_of_the_shown_values_and_data_sheet_the_stored_one():
    rounded = readable(pd.DataFrame(CASES), {}, rounded=True)
    assert list(rounded["change_last_year"]) == pytest.approx(SHOWN_NUMBERS)
    full = readable(pd.DataFrame(CASES), {}, rounded=False)
    assert list(full["change_last_year"]) == pytest.approx([-2.051813, 2.341926, 0.256715])


# grade 2 in the 2024/25 Q4 sample: 14,460 attended incidents, 5,350 of them within the 60-minute
# target (the row's numerator; the median, 80.8 min, is over all 14,460)
MEDIANS = [
    _row("response_grade2_median", "", 80.8, 78.0, unit="minutes", numerator=5350.0, denominator=14460.0,
         family="response"),
    _row("response_grade1_median", "", 12.633333, 12.5, unit="minutes", numerator=4860.0, denominator=7941.0,
         family="response"),
    _row("vwi_charge_rate", "cohort", 10.055644, 7.713718, numerator=253.0, denominator=2516.0),
]
TARGETS = {"grade1_target_minutes": 15, "grade2_target_minutes": 60.0}


def test_a_median_says_what_its_counts_are_with_the_target_of_the_setting():
    table = kpi_overview(SimpleNamespace(results=pd.DataFrame(MEDIANS), catalogue=[], params=TARGETS))
    assert "Numerator" not in table and "Denominator" not in table
    assert list(table["Counts"]) == ["attended within 60 min: 5,350 of 14,460",
                                     "attended within 15 min: 4,860 of 7,941", "253 of 2,516"]
    moved = kpi_overview(SimpleNamespace(results=pd.DataFrame(MEDIANS[:1]), catalogue=[],
                                         params={"grade2_target_minutes": 45}))
    assert moved["Counts"].iloc[0] == "attended within 45 min: 5,350 of 14,460"


def test_spreadsheet_leaves_a_medians_numerator_empty_and_says_its_counts_in_words():
    rounded = readable(pd.DataFrame(MEDIANS), {}, rounded=True, params=TARGETS)
    assert rounded["numerator"].iloc[:2].isna().all() and rounded["denominator"].iloc[:2].isna().all()
    assert (rounded["numerator"].iloc[2], rounded["denominator"].iloc[2]) == (253, 2516)
    assert list(rounded["counted"]) == ["attended within 60 min: 5,350 of 14,460",
                                        "attended within 15 min: 4,860 of 7,941", "253 of 2,516"]
    assert list(rounded.columns).index("counted") == list(rounded.columns).index("denominator") + 1
    full = readable(pd.DataFrame(MEDIANS), {}, rounded=False, params=TARGETS)
    assert list(full["numerator"]) == [5350.0, 4860.0, 253.0]  # the data sheet keeps kpis.csv as stored


# public confidence in the 2024/25 Q4 sample: weighted sums 747.324 of 1,024.254 from 981 respondents
SURVEY = [_row("confidence_overall", "", 72.962761, 75.014574, numerator=747.324, denominator=1024.254,
               sample_n=981.0, family="confidence", source="canonical"),
          _row("victim_satisfaction", "", 69.179951, 70.0, numerator=474.791, denominator=686.313,
               sample_n=577.0, family="satisfaction", source="canonical"),
          _row("vwi_charge_rate", "cohort", 10.055644, 7.713718, numerator=253.0, denominator=2516.0,
               family="crime", source="canonical")]


def test_survey_counts_read_as_weighted_and_name_the_survey_as_source():
    table = kpi_overview(SimpleNamespace(results=pd.DataFrame(SURVEY), catalogue=[], params={}))
    assert list(table["Counts"]) == ["weighted respondents agreeing: 747 of 1,024",
                                     "weighted respondents satisfied: 475 of 686", "253 of 2,516"]
    assert list(table["Source"]) == ["the public confidence survey", "the victim satisfaction survey",
                                     "force records"]
    assert "public confidence survey" in sources_html(pd.DataFrame(SURVEY[:1]))
    assert "force records" not in sources_html(pd.DataFrame(SURVEY[:1]))


def test_spreadsheet_says_survey_counts_are_weighted_and_names_the_survey():
    rounded = readable(pd.DataFrame(SURVEY), {}, rounded=True)
    assert list(rounded["counted"]) == ["weighted respondents agreeing: 747 of 1,024",
                                        "weighted respondents satisfied: 475 of 686", "253 of 2,516"]
    assert list(rounded["source"]) == ["The public confidence survey", "The victim satisfaction survey",
                                       "Force records"]


def test_a_monthly_cohort_chart_says_why_the_quarter_sits_above_its_months():
    chart = pd.DataFrame({"x": pd.date_range("2024-01-01", periods=15, freq="MS"), "y": [9.0] * 15})
    row = _row("vwi_charge_rate", "cohort", 10.055644, 7.713718, comparator_age_days=45.0)
    assert chart_reading(row, chart, "month") == (
        "Each month's point counts outcomes within 45 days of the month's end; the quarter's figure "
        "(10.1%) counts outcomes up to 45 days after the quarter ends, so its earlier months have had "
        "longer to gather outcomes and it tends to sit above the months.")
    later = chart_reading({**row, "comparator_age_days": 76.0}, chart, "month")
    assert "within 76 days of the month's end" in later and "up to 76 days after" in later
    assert chart_reading({**row, "basis": "in_period", "comparator_age_days": math.nan}, chart, "month") == ""
    assert chart_reading(row, chart, "quarter") == ""
