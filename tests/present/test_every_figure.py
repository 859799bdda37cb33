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
from kpi_lib.present.views import kpi_overview

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
