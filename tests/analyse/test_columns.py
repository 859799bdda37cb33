"""The result columns are declared once (kpi_lib.analyse.columns): the CSV order, the schema, the
spreadsheet headers and the typed reader all follow the declaration."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpi_lib.analyse import columns, results
from kpi_lib.analyse.columns import RESULTS, SPC_POINTS, Column, between
from kpi_lib.core.errors import KpiError
from kpi_lib.present import excel


def _row(**over) -> dict:
    """One valid KPI result row, every column filled by hand."""
    row = {c.name: (math.nan if c.kind is float else False if c.kind is bool else 0 if c.kind is int else "")
           for c in RESULTS.columns}
    row.update(kpi_id="trc_volume", name="Total recorded crime", family="crime", period="2024/25 Q4",
               period_start="2025-01-01", period_end="2025-03-31", value=12345.0, unit="count",
               status="reported", headline=True, polarity="lower_better", spc_grain="month",
               spc_points=24, note="N/A", verdict_code="", synthetic_data=True)
    row.update(over)
    return row


def test_a_column_added_in_one_place_reaches_the_csv_the_schema_the_headers_and_the_reader(tmp_path):
    toy = Column("toy_score", float, "Toy score (0 to 10)", nullable=True, check=between(0, 10), excel="0.00")
    table = RESULTS.with_column(toy, after="value")
    # CSV order
    assert table.names.index("toy_score") == table.names.index("value") + 1
    frame = pd.DataFrame([_row(toy_score=7.5)])[table.names[::-1]]  # any order in, declared order out
    path = tmp_path / "kpis.csv"
    results.write_results(frame, path, table)
    assert pd.read_csv(path, nrows=0).columns.tolist() == table.names
    # schema: the column is checked with its declared range
    assert "toy_score" in results.schema(table).columns
    with pytest.raises(KpiError, match=r"row 2 \(trc_volume\), column toy_score: value 11\.0"):
        results.validate(pd.DataFrame([_row(toy_score=11.0)]), table=table)
    # spreadsheet header and number format
    assert excel.headers((table,))["toy_score"] == "Toy score (0 to 10)"
    assert excel.formats((table,))[2]["toy_score"] == "0.00"
    # typed reader
    back = columns.read_csv(path, table)
    assert back["toy_score"].dtype == float and back.loc[0, "toy_score"] == 7.5
    # and the table without it refuses the extra column
    with pytest.raises(KpiError, match="unexpected \\['toy_score'\\]"):
        results.validate(back)


def test_every_declared_column_has_a_spreadsheet_header_of_its_own():
    for table in (RESULTS, SPC_POINTS):
        for c in table.columns:
            assert excel.header(c.name) == c.label and c.label
    assert excel.header("spc_seasonal") == "SPC seasonal limits"


def test_the_typed_reader_keeps_text_as_written_and_types_flags_and_numbers(tmp_path):
    path = tmp_path / "kpis.csv"
    path.write_text("kpi_id,note,basis,spc_grain,headline,spc_points,value,last_year_significant\n"
                    "a,N/A,,month,True,12,1.5,\n"
                    "b,,cohort,none,false,,NA,1.0\n", encoding="utf-8")
    df = columns.read_csv(path)
    assert df["note"].tolist() == ["N/A", ""]
    assert df["basis"].tolist() == ["", "cohort"]
    assert df["spc_grain"].tolist() == ["month", "none"]
    assert df["headline"].tolist() == [True, False] and df["headline"].dtype == bool
    assert df["spc_points"].tolist() == [12, 0]
    assert df["value"].iloc[0] == 1.5 and math.isnan(df["value"].iloc[1])
    assert math.isnan(df["last_year_significant"].iloc[0]) and df["last_year_significant"].iloc[1] == 1.0


def test_required_text_may_not_be_empty_and_domains_are_checked():
    with pytest.raises(KpiError, match="column kpi_id"):
        results.validate(pd.DataFrame([_row(kpi_id="")]))
    with pytest.raises(KpiError, match="column status: value 'done'"):
        results.validate(pd.DataFrame([_row(status="done")]))
    with pytest.raises(KpiError, match="column family: value 'weather'"):
        results.validate(pd.DataFrame([_row(family="weather")]))
    with pytest.raises(KpiError, match="column last_year_p_value"):
        results.validate(pd.DataFrame([_row(last_year_p_value=1.5)]))
    ok = results.validate(pd.DataFrame([_row(verdict_code="", basis="", note="")]))
    assert ok.loc[0, "note"] == "" and ok.columns.tolist() == RESULTS.names


def test_spc_points_follow_their_declaration():
    from kpi_lib.analyse.spc import points_table, xmr
    chart = xmr(pd.DataFrame({"x": pd.date_range("2022-04-01", periods=14, freq="MS"),
                              "y": [10.0, 12, 11, 13, 12, 11, 10, 12, 13, 11, 12, 10, 11, 12]}),
                polarity="higher_is_better")
    assert points_table(chart, "k", "", "count").columns.tolist() == SPC_POINTS.names
