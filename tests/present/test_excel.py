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
         "last_year_p_value": 0.01234, "last_year_q_value": 0.3038880725, "change_12m_p_value": 5.3316e-05,
         "change_last_year_pct_low": -1.2345, "headline": True, "note": "=HYPERLINK(\"http://x\",\"click\")",
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
    out = write_workbook(_results(), tmp_path / "kpis.xlsx", spc=_spc(),
                         names={"rape_volume": "Volume of rape offences",
                                "trc_charge_rate": "Total recorded crime: % charged or summonsed"})
    return load_workbook(out)


def _col(ws, header: str) -> str:
    """The column letter under a header."""
    for c in ws[1]:
        if c.value == header:
            return c.column_letter
    raise KeyError(header)


def test_sheets_names_first_ids_last_and_hidden(book):
    assert book.sheetnames == ["About", "KPI results", "SPC points", "data"]
    for name in ("KPI results", "SPC points", "data"):
        ws = book[name]
        headers = [c.value for c in ws[1]]
        assert headers[0] == "KPI" and headers[-1] == "KPI id", name
        assert ws.column_dimensions[ws.cell(row=1, column=len(headers)).column_letter].hidden, name
    ws = book["KPI results"]
    assert ws["A2"].value == "Volume of rape offences"
    assert ws["A3"].value == "Total recorded crime: % charged or summonsed"
    assert "Verdict" in [c.value for c in ws[1]]
    assert "SYNTHETIC SAMPLE DATA" in book["About"]["A2"].value


def test_values_rounded_as_shown_and_full_precision_on_the_data_sheet(book):
    ws, data = book["KPI results"], book["data"]
    v = _col(ws, "Value")
    assert ws[f"{v}2"].value == 314 and ws[f"{v}2"].number_format == "#,##0"   # a count
    assert ws[f"{v}3"].value == pytest.approx(8.0) and ws[f"{v}3"].number_format == "0.0"  # 8.04% shown 8.0%
    assert data[f"{v}3"].value == pytest.approx(8.04)  # full precision
    p = _col(ws, "p-value (last year)")
    # p- and q-values to three significant figures, in General format: a tiny p never reads 0
    assert ws[f"{p}2"].value == pytest.approx(0.0123, rel=1e-9) and data[f"{p}2"].value == pytest.approx(0.01234)
    q = _col(ws, "q-value (last year, Benjamini-Hochberg)")
    assert ws[f"{q}2"].value == pytest.approx(0.304, rel=1e-9) and ws[f"{q}2"].number_format == "General"
    assert ws[f"{_col(ws, 'p-value (12 months)')}2"].value == pytest.approx(5.33e-05, rel=1e-9)
    low = ws[f"{_col(ws, 'Change on last year (%), 95% interval low')}2"]
    assert low.value == pytest.approx(-1.2, rel=1e-9) and low.number_format == "0.0"
    assert ws[f"{p}3"].value is None  # missing p-value: an empty cell, not "nan"
    start = ws[f"{_col(ws, 'Period start')}2"]
    assert isinstance(start.value, datetime) and start.value == datetime(2025, 1, 1)
    assert start.number_format == "d mmm yyyy"


def test_words_not_codes_in_every_visible_cell(book):
    """No visible cell holds one of the suite's codes (a snake_case id or code such as
    not_yet_available, improvement_low, two_in_three, or a unit code); booleans read Yes/No."""
    import re
    code = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
    codes = {"flag", "gbp", "tco2e", "canonical", "cohort", "month", "quarter", "crime", "better", "worse", "higher",
             "lower", "final"}
    for ws in book:
        hidden = {k for k, d in ws.column_dimensions.items() if d.hidden}
        for row in ws.iter_rows():
            for c in row:
                if c.column_letter in hidden or not isinstance(c.value, str):
                    continue
                assert not code.match(c.value) and c.value not in codes, (ws.title, c.coordinate, c.value)
    ws = book["KPI results"]
    assert ws[f"{_col(ws, 'Headline row')}2"].value == "Yes"
    assert ws[f"{_col(ws, 'Unit')}3"].value == "Per cent"
    spc = book["SPC points"]
    assert spc[f"{_col(spc, 'Variation')}2"].value == "Common cause variation"


def test_print_setup_landscape_fit_to_width_header_repeated(book):
    for ws in book:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    assert book["KPI results"].print_title_rows == "$1:$1"


def test_frozen_panes_filters_and_widths(book):
    ws = book["KPI results"]
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref.startswith("A1:") and ws.auto_filter.ref.endswith("3")
    assert 10 <= ws.column_dimensions["B"].width <= 50
    spc = book["SPC points"]
    assert spc.freeze_panes == "B2" and spc.auto_filter.ref.startswith("A1:")
    assert [c.value for c in spc[1]][:5] == ["KPI", "Basis", "Period starting", "Value", "Mean"]
    assert isinstance(spc["C2"].value, datetime) and spc["D3"].value == 110.0 and spc["D3"].number_format == "#,##0"


def test_formula_looking_text_stays_text(book):
    ws = book["KPI results"]
    n = _col(ws, "Note")
    note = ws[f"{n}2"]
    assert note.value == "=HYPERLINK(\"http://x\",\"click\")"
    assert note.data_type == "s" and note.quotePrefix
    assert ws[f"{n}3"].value == "-5 points; +3 @home" and ws[f"{n}3"].data_type == "s" and ws[f"{n}3"].quotePrefix


@settings(max_examples=20, deadline=None)
@given(st.text(alphabet=st.sampled_from("=+-@ABC(),;\"'1 "), min_size=1, max_size=30))
def test_any_text_round_trips_as_text(tmp_path_factory, text: str):
    df = _results().head(1).assign(note=text)
    path = write_workbook(df, tmp_path_factory.mktemp("x") / "k.xlsx")
    ws = load_workbook(path)["KPI results"]
    cell = ws[f"{_col(ws, 'Note')}2"]
    assert cell.value == text and cell.data_type == "s"
