"""kpis.xlsx, opened with openpyxl as an analyst's spreadsheet would open it: human headers, real
dates, number formats, frozen header rows, filters, widths, an SPC sheet, and formula-looking text
kept as text."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from kpi_lib.present.excel import write_workbook


def _results() -> pd.DataFrame:
    return pd.DataFrame([
        {"kpi_id": "rape_volume", "name": "Volume of rape offences", "period": "2024/25 Q4",
         "period_start": "2025-01-01", "period_end": "2025-03-31", "value": 314.0, "unit": "count",
         "last_year_p_value": 0.01234, "headline": True, "note": "=HYPERLINK(\"http://x\",\"click\")",
         "verdict": "Worse, and a real change", "synthetic_data": True},
        {"kpi_id": "trc_charge_rate", "name": "TRC - % outcome 1 & 1A", "period": "2024/25 Q4",
         "period_start": "2025-01-01", "period_end": "2025-03-31", "value": 8.04, "unit": "percent",
         "last_year_p_value": math.nan, "headline": True, "note": "-5 points; +3 @home",
         "verdict": "Too early to tell (43% of outcomes pending)", "synthetic_data": True},
    ])


def _spc() -> pd.DataFrame:
    return pd.DataFrame({"kpi_id": ["rape_volume"] * 2, "basis": ["", ""], "x": ["2025-02-01", "2025-03-01"],
                         "y": [101.0, 110.0], "mean": [97.5, 97.5], "lpl": [70.1, 70.1], "upl": [124.9, 124.9],
                         "variation": ["common_cause", "common_cause"], "rule": ["", ""], "segment": [0, 0],
                         "adjustment": [1.0, 1.0], "limits_clipped": [False, False], "unit": ["count", "count"]})


@pytest.fixture()
def book(tmp_path: Path):
    out = write_workbook(_results(), tmp_path / "kpis.xlsx", spc=_spc())
    return load_workbook(out)


def test_sheets_and_human_headers(book):
    assert book.sheetnames == ["About", "KPI results", "SPC points"]
    ws = book["KPI results"]
    headers = [c.value for c in ws[1]]
    assert headers[:8] == ["KPI id", "KPI", "Period", "Period start", "Period end", "Value", "Unit",
                           "p-value (last year)"]
    assert "Verdict" in headers and "Synthetic data" in headers
    assert "SYNTHETIC SAMPLE DATA" in book["About"]["A2"].value


def test_dates_are_dates_and_numbers_have_formats(book):
    ws = book["KPI results"]
    start = ws["D2"]
    assert isinstance(start.value, datetime) and start.value == datetime(2025, 1, 1)
    assert start.number_format == "d mmm yyyy"
    assert ws["F2"].value == 314.0 and ws["F2"].number_format == "#,##0"   # a count
    assert ws["F3"].value == pytest.approx(8.04) and ws["F3"].number_format == "0.0"  # a percent
    assert ws["H2"].value == pytest.approx(0.01234) and ws["H2"].number_format == "0.0000"
    assert ws["H3"].value is None  # missing p-value: an empty cell, not "nan"
    assert ws["I2"].value is True  # booleans stay booleans


def test_frozen_panes_filters_and_widths(book):
    ws = book["KPI results"]
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == "A1:L3"
    assert 10 <= ws.column_dimensions["B"].width <= 50
    spc = book["SPC points"]
    assert spc.freeze_panes == "B2" and spc.auto_filter.ref.startswith("A1:")
    assert [c.value for c in spc[1]][:5] == ["KPI id", "Basis", "Period starting", "Value", "Mean"]
    assert isinstance(spc["C2"].value, datetime) and spc["D3"].value == 110.0 and spc["D3"].number_format == "#,##0"


def test_formula_looking_text_stays_text(book):
    ws = book["KPI results"]
    note = ws["J2"]
    assert note.value == "=HYPERLINK(\"http://x\",\"click\")"
    assert note.data_type == "s" and note.quotePrefix
    assert ws["J3"].value == "-5 points; +3 @home" and ws["J3"].data_type == "s" and ws["J3"].quotePrefix


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.sampled_from("=+-@ABC(),;\"'1 "), min_size=1, max_size=30))
def test_any_text_round_trips_as_text(tmp_path_factory, text: str):
    df = _results().head(1).assign(note=text)
    path = write_workbook(df, tmp_path_factory.mktemp("x") / "k.xlsx")
    cell = load_workbook(path)["KPI results"]["J2"]
    assert cell.value == text and cell.data_type == "s"
