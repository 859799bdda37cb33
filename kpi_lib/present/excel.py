"""kpis.xlsx for analysts: the KPI result table and the Table 1 summary with human column headers,
real dates, number formats, frozen header rows, filters and sensible widths, plus every SPC point
(``results/spc.csv``).

Cells are written one by one with openpyxl so that types are exact: dates are dates, numbers are
numbers with a format for their unit, and text is text. Text that starts with ``= + - @`` (which a
spreadsheet could take for a formula) is stored as a string with Excel's quote prefix, never as a
formula.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from kpi_lib.analyse.columns import RESULTS, SPC_POINTS, Table
from kpi_lib.core.io import write_atomic

FORMULA_START = ("=", "+", "-", "@")
#: Headers of the Table 1 summary sheet (the result and SPC columns bring their own labels).
SUMMARY_HEADERS = {
    "plan_priority": "Plan priority", "improvement_area": "Improvement area", "kpi": "KPI",
    "table1_name": "KPI (wording of Table 1)",
    "latest": "Latest (as shown)", "count_or_sample": "Count or sample",
    "vs_last_year": "Change on last year (as shown)", "vs_12_months": "12 months vs previous 12 (as shown)",
    "pmf_integration": "Status in the 2023 paper (force performance framework)",
}
TABLES: tuple[Table, ...] = (RESULTS, SPC_POINTS)
UNIT_FORMATS = {"count": "#,##0", "percent": "0.0", "minutes": "0.0", "seconds": "0.0",
                "gbp": "£#,##0", "flag": "0", "tco2e": "#,##0"}


def _declared(tables: tuple[Table, ...]) -> dict:
    """Each declared column by name, the first table's where two tables share a name."""
    out: dict = {}
    for t in tables:
        for c in t.columns:
            out.setdefault(c.name, c)
    return out


def headers(tables: tuple[Table, ...] = TABLES) -> dict[str, str]:
    """Column name -> spreadsheet header: the declared labels, then the summary sheet's."""
    return {**{name: c.label for name, c in _declared(tables).items()}, **SUMMARY_HEADERS}


def formats(tables: tuple[Table, ...] = TABLES) -> tuple[set[str], set[str], dict[str, str]]:
    """(date columns, columns shown in the KPI's unit, columns with a fixed number format)."""
    cols = _declared(tables).values()
    dates = {c.name for c in cols if c.excel == "date"}
    in_unit = {c.name for c in cols if c.excel == "unit"}
    fixed = {c.name: c.excel for c in cols if c.excel not in ("", "date", "unit")}
    return dates, in_unit, fixed


HEADERS = headers()
DATE_COLUMNS, VALUE_COLUMNS, FIXED_FORMATS = formats()
DATE_FORMAT = "d mmm yyyy"


def header(column: str, names: dict[str, str] | None = None) -> str:
    """A human header for a column name (from ``names``, default :data:`HEADERS`)."""
    return (HEADERS if names is None else names).get(column, column.replace("_", " ").capitalize())


def _cell_value(v):
    """A Python value openpyxl writes with the right type (None for missing)."""
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if hasattr(v, "item") and not isinstance(v, str | bytes):
        v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _to_date(v):
    if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
        return None
    if isinstance(v, datetime | date):
        return v
    ts = pd.to_datetime(v, errors="coerce")
    return None if pd.isna(ts) else ts.to_pydatetime()


def write_sheet(ws, df: pd.DataFrame, *, units: pd.Series | None = None, widths: Mapping[str, int] | None = None) -> None:
    """One table on a sheet: bold header row (frozen, filtered), typed cells, formats, widths."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    cols = list(df.columns)
    for j, c in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=j, value=header(c))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="12436D")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, (_, row) in enumerate(df.iterrows(), start=2):
        unit = str(units.iloc[i - 2]) if units is not None else ""
        for j, c in enumerate(cols, start=1):
            v = row[c]
            if c in DATE_COLUMNS:
                v = _to_date(v)
                cell = ws.cell(row=i, column=j, value=v)
                if v is not None:
                    cell.number_format = DATE_FORMAT
                continue
            v = _cell_value(v)
            cell = ws.cell(row=i, column=j)
            if isinstance(v, str):
                cell.value = v
                cell.data_type = "s"  # never a formula
                if v.startswith(FORMULA_START):
                    cell.quotePrefix = True
                continue
            cell.value = v
            if isinstance(v, bool) or v is None:
                continue
            if c in VALUE_COLUMNS and unit in UNIT_FORMATS:
                cell.number_format = UNIT_FORMATS[unit]
            elif c in FIXED_FORMATS:
                cell.number_format = FIXED_FORMATS[c]
    ws.freeze_panes = "B2" if cols and cols[0] in ("kpi_id", "plan_priority") else "A2"
    if cols:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(ws.max_row, 1)}"
    for j, c in enumerate(cols, start=1):
        if widths and c in widths:
            width = widths[c]
        else:
            sample = [len(header(c)) * 0.6] + [len(str(x)) for x in df[c].head(200) if x is not None]
            width = min(max(10, int(max(sample)) + 2), 50)
        ws.column_dimensions[get_column_letter(j)].width = width


def write_workbook(results: pd.DataFrame, out: Path, *, summary: pd.DataFrame | None = None,
                   spc: pd.DataFrame | None = None) -> Path:
    """kpis.xlsx: About, Summary (Table 1 layout), KPI results (the full table) and SPC points."""
    from openpyxl import Workbook

    synthetic = "synthetic_data" in results and results["synthetic_data"].astype(str).str.lower().eq("true").any()
    period = str(results["period"].iloc[0]) if len(results) and "period" in results else ""
    wb = Workbook()
    about = wb.active
    about.title = "About"
    lines = [
        "Budget KPI metrics report",
        "SYNTHETIC SAMPLE DATA: every number here is invented, for testing and demonstration only."
        if synthetic else "Figures computed by kpi_lib from the inputs listed in manifest.json.",
        f"Period: {period}",
        "Sheets: Summary (Table 1 layout, headline rows), KPI results (every KPI row), "
        "SPC points (every point of every SPC chart).",
        "Values are in the KPI's unit (per cent as 0-100; minutes; counts; pounds).",
        "Provenance (settings, input files with SHA-256, code version): manifest.json beside this file.",
    ]
    for i, text in enumerate(lines, start=1):
        about.cell(row=i, column=1, value=text).data_type = "s"
    about.column_dimensions["A"].width = 100
    if summary is not None and len(summary):
        cols = [c for c in ("kpi_id", "plan_priority", "improvement_area", "kpi", "table1_name", "value", "latest",
                            "count_or_sample", "vs_last_year", "last_year_test", "vs_12_months",
                            "spc_variation", "spc_assurance", "verdict", "status", "pmf_integration", "note")
                if c in summary]
        write_sheet(wb.create_sheet("Summary"), summary[cols],
                    units=summary["unit"] if "unit" in summary else None)
    write_sheet(wb.create_sheet("KPI results"), results, units=results["unit"] if "unit" in results else None)
    if spc is not None and len(spc):
        unit = spc["unit"] if "unit" in spc else None
        write_sheet(wb.create_sheet("SPC points"), spc, units=unit)
    return write_atomic(out, wb.save, suffix=".xlsx")
