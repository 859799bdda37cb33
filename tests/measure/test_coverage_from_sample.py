"""The sample made incomplete the ways real extracts are: taken mid-month without an extraction
date, a crime typed into a far-future year, a month missing inside the span. Each ends in "not
yet available", a named error or a gap, never in a figure that reads the absent records as zero."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest

from kpi_lib.core.errors import InputError
from kpi_lib.inputs.as_at import cut_as_at
from kpi_lib.measure.panel import build_panel

pytestmark = pytest.mark.integration  # builds panels from the small sample


def _row(panel, kpi_id: str, kind: str, start: date) -> pd.Series:
    m = panel.whole_force()
    hit = m[(m["kpi_id"] == kpi_id) & (m["window_kind"] == kind) & (m["window_start"] == start)]
    assert len(hit) == 1, (kpi_id, kind, start)
    return hit.iloc[0]


def _crimes_between(tables, first: str, end: str) -> int:
    """Crimes recorded in [first, end), counted with pandas from the table itself."""
    d = pd.to_datetime(tables.frames["crimes"]["recorded_date"])
    return int(((d >= pd.Timestamp(first)) & (d < pd.Timestamp(end))).sum())


def test_an_extract_taken_on_10_march_without_its_date_leaves_the_quarter_not_yet_available(small_tables, config):
    """Cut on 10 March 2025 and the extraction date forgotten: 2024/25 Q4 is not reported for
    crime (a third of March missing would read as a fall) nor for calls; Q3 is unchanged."""
    cut = replace(cut_as_at(small_tables, date(2025, 3, 10)), extraction_date=None)
    panel = build_panel(cut, config, ["crime", "calls"])
    for kpi_id in ("trc_volume", "calls_999_within_10s"):
        q4 = _row(panel, kpi_id, "quarter", date(2025, 1, 1))
        assert q4["status"] == "not_yet_available" and math.isnan(q4["value"]), kpi_id
    q3 = _row(panel, "trc_volume", "quarter", date(2024, 10, 1))
    assert q3["value"] == _crimes_between(small_tables, "2024-10-01", "2025-01-01")


def test_one_crime_typed_into_a_far_future_year_is_an_error_naming_it(small_tables, config):
    """Without an extraction date, a crime dated 2031 would stretch the coverage over six empty
    years and make them reportable as 0 crimes: it stops the run, naming the file and the date."""
    crimes = small_tables.frames["crimes"]
    typo = crimes.iloc[[0]].copy()
    typo["crime_ref"] = "TYPO-2031"
    typo["recorded_date"] = pd.Timestamp("2031-01-04").as_unit(crimes["recorded_date"].dt.unit)
    frames = {**small_tables.frames, "crimes": pd.concat([crimes, typo], ignore_index=True)}
    broken = replace(small_tables, frames=frames, extraction_date=None)
    with pytest.raises(InputError) as err:
        build_panel(broken, config, ["crime"])
    assert "2031-01-04" in str(err.value) and "recorded_date" in str(err.value)


def test_a_month_missing_inside_the_crimes_is_a_gap_never_zero(small_tables, config):
    """June 2023 removed from the crimes: that month, its quarter (2023/24 Q1) and the quarter a
    year on (whose last-year comparison needs it) carry no figure read as zero."""
    crimes = small_tables.frames["crimes"]
    d = pd.to_datetime(crimes["recorded_date"])
    june = (d >= pd.Timestamp("2023-06-01")) & (d < pd.Timestamp("2023-07-01"))
    assert june.sum() > 0
    gap = replace(small_tables, frames={**small_tables.frames, "crimes": crimes[~june].reset_index(drop=True)})
    panel = build_panel(gap, config, ["crime"])
    month = _row(panel, "trc_volume", "month", date(2023, 6, 1))
    assert month["status"] == "not_in_data" and math.isnan(month["value"])
    quarter = _row(panel, "trc_volume", "quarter", date(2023, 4, 1))
    assert quarter["status"] == "not_in_data" and math.isnan(quarter["value"])
    may = _row(panel, "trc_volume", "month", date(2023, 5, 1))
    assert may["value"] == _crimes_between(small_tables, "2023-05-01", "2023-06-01")
