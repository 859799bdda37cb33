"""kpis.xlsx for a finance colleague and an analyst: the Table 1 summary, every KPI row and every
SPC point, in words (never the suite's codes), with the plain KPI name in the first column and the
internal id last (hidden), values rounded as the report shows them, and the same rows at full
precision on the "data" sheet. Human headers, real dates, number formats, frozen header rows,
filters, sensible widths, and a print setup an officer can use as it is (landscape, fitted to the
page width, the header row repeated on every page).

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


def write_sheet(ws, df: pd.DataFrame, *, units: pd.Series | None = None, widths: Mapping[str, int] | None = None,
                labels: Mapping[str, str] | None = None, hidden: tuple[str, ...] = (),
                title: str = "") -> None:
    """One table on a sheet: bold header row (frozen, filtered, repeated on every printed page),
    typed cells, formats, widths; ``labels`` override the headers, ``hidden`` columns are hidden,
    and the sheet prints landscape, fitted to the page width."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    cols = list(df.columns)
    for j, c in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=j, value=(labels or {}).get(c) or header(c))
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
    ws.freeze_panes = "B2"
    if cols:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{max(ws.max_row, 1)}"
    for j, c in enumerate(cols, start=1):
        if widths and c in widths:
            width = widths[c]
        else:
            sample = [len(header(c)) * 0.6] + [len(str(x)) for x in df[c].head(200) if x is not None]
            width = min(max(10, int(max(sample)) + 2), 50)
        ws.column_dimensions[get_column_letter(j)].width = width
        if c in hidden:
            ws.column_dimensions[get_column_letter(j)].hidden = True
    print_setup(ws, title)


def print_setup(ws, title: str = "") -> None:
    """Landscape A4, fitted to one page wide (as many pages long as needed), the header row
    repeated on every page, the sheet's title in the page header and page numbers in the footer."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    if title:
        ws.oddHeader.left.text = title
    ws.oddFooter.right.text = "Page &P of &N"


#: the suite's codes, in words (any other code-like text is spelled out by :func:`words`)
CODE_WORDS = {
    "reported": "Reported", "not_yet_available": "Not yet available",
    "annual": "Annual (reported at the year end)", "not_available_from_source": "Not available from this source",
    "cohort": "Cohort basis", "in_period": "In-period basis",
    "canonical": "Force records", "home_office": "Home Office open data tables",
    "police_uk": "data.police.uk street files", "none": "None",
    "higher_better": "Higher is better", "lower_better": "Lower is better", "neutral": "Neither",
    "count": "Count", "percent": "Per cent", "minutes": "Minutes", "seconds": "Seconds", "gbp": "Pounds",
    "flag": "Yes or no", "tco2e": "Tonnes of CO2 equivalent",
    "month": "Month", "quarter": "Quarter", "not_applicable": "Not applicable",
    "outside_limits": "A point outside the usual range", "shift": "A run on one side of the mean",
    "trend": "A run rising or falling", "two_in_three": "Two of three points near a limit",
    "better": "Better", "worse": "Worse", "higher": "Higher", "lower": "Lower", "final": "Final",
}
UNIT_DECIMALS = {"count": 0, "percent": 1, "minutes": 1, "seconds": 1, "tco2e": 0, "gbp": -4, "flag": 0}


def shown_decimals(number_format: str) -> int | None:
    """The decimal places an Excel number format shows ("0.0" -> 1, "#,##0" -> 0); None for
    General (p- and q-values), which the rounded sheets keep to three significant figures."""
    if number_format == "General":
        return None
    return len(number_format.split(".", 1)[1]) if "." in number_format else 0


#: columns with a fixed number format, rounded on the rounded sheets to what that format shows
FIXED_DECIMALS = {name: shown_decimals(fmt) for name, fmt in FIXED_FORMATS.items()}
#: text columns whose values are codes of the suite (shown in words)
_CODE_RE = __import__("re").compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def words(value) -> object:
    """A value as a reader sees it: the suite's codes in words, booleans as Yes/No, else as is."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        if value in CODE_WORDS:
            return CODE_WORDS[value]
        from kpi_lib.analyse.spc import ASSURANCE_LABELS, VARIATION_LABELS
        if value in VARIATION_LABELS:
            return VARIATION_LABELS[value]
        if value in ASSURANCE_LABELS:
            return ASSURANCE_LABELS[value]
        if _CODE_RE.match(value):
            text = value.replace("_", " ")
            return text[:1].upper() + text[1:]
    return value


def _rounded(v, unit: str, column: str):
    if v is None or isinstance(v, bool | str) or (isinstance(v, float) and math.isnan(v)):
        return v
    if column in FIXED_DECIMALS:
        places = FIXED_DECIMALS[column]
        return float(f"{float(v):.3g}") if places is None else round(float(v), places)
    if column in VALUE_COLUMNS and unit in UNIT_DECIMALS:
        return round(float(v), UNIT_DECIMALS[unit])
    return v


#: each change column and the two values it is the change between (the rounded sheets show the
#: difference of the two values as shown, as the report does)
CHANGE_BETWEEN = {"change_previous": ("value", "previous_value"), "change_last_year": ("value", "last_year_value"),
                  "change_12m": ("rolling12_value", "previous12_value"),
                  "change_baseline": ("value", "baseline_value")}


def shown_changes(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` with each stored change replaced by the difference of its two values as the
    report shows them (:func:`kpi_lib.present.narrative.shown_difference`); a change left empty
    (no comparison) stays empty."""
    from kpi_lib.present.narrative import shown_difference
    out = results.copy()
    if "unit" not in out:
        return out
    for change, (now, then) in CHANGE_BETWEEN.items():
        if change in out and now in out and then in out:
            out[change] = [c if pd.isna(c) else shown_difference(a, b, u)[0]
                           for c, a, b, u in zip(out[change], out[now], out[then], out["unit"].astype(str),
                                                 strict=True)]
    return out


#: KPI result columns left out of the sheets: codes whose words are in another column
DROPPED = ("verdict_code", "last_year_finding", "spc_finding")
TEXT_FLAGS = ("last_year_significant", "change_12m_significant")


def readable(results: pd.DataFrame, names: Mapping[str, str], *, rounded: bool,
             first: str = "name", params: Mapping | None = None) -> pd.DataFrame:
    """A result-like table (kpis.csv, spc.csv) for a reader: the plain KPI name first, every code
    in words, booleans as Yes/No, significance as "A real change" / "Could be chance", values
    rounded as the report shows them (or at full precision), the KPI id last. A KPI row's counts
    are also said in words, as the report's "every figure" table says them
    (:func:`kpi_lib.present.views.counted_text`); on the rounded sheet a median response time
    leaves the numerator and denominator empty, as they are not the median's own parts."""
    df = results.drop(columns=[c for c in DROPPED if c in results]).copy()
    counted = None
    if "numerator" in df and "denominator" in df and "kpi_id" in df:
        from kpi_lib.measure.families.response import WITHIN_TARGET_SETTING
        from kpi_lib.present.views import counted_text
        counted = [counted_text(r, params) for r in df.to_dict("records")]
    if "source" in df and "family" in df:  # a survey's rows name the survey, as the report does
        from kpi_lib.present.views import named_source
        named = [named_source(r) for r in df.to_dict("records")]
        df["source"] = [n[:1].upper() + n[1:] if n else s for n, s in zip(named, df["source"], strict=True)]
        if rounded:
            median = df["kpi_id"].isin(list(WITHIN_TARGET_SETTING))
            df.loc[median, ["numerator", "denominator"]] = math.nan
    if rounded:
        df = shown_changes(df)
    unit = df["unit"].astype(str) if "unit" in df else pd.Series("", index=df.index)
    basis = df["basis"].fillna("").astype(str) if "basis" in df else pd.Series("", index=df.index)
    kpi = df["kpi_id"].map(lambda k: names.get(k, k))
    multi = df.assign(_b=basis).groupby("kpi_id")["_b"].transform("nunique") > 1 if "kpi_id" in df else False
    label = [f"{n} ({CODE_WORDS.get(b, b).lower()})" if m and b else n
             for n, b, m in zip(kpi, basis, multi if not isinstance(multi, bool) else [False] * len(df), strict=True)]
    out = pd.DataFrame({first: label}, index=df.index)
    for c in df.columns:
        if c in ("kpi_id", first) or c == "name":
            continue
        col = df[c]
        if c in TEXT_FLAGS:
            out[c] = col.map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v))
                             else ("A real change" if float(v) >= 0.5 else "Could be chance"))
        elif c == "family":
            from kpi_lib.present.views import FAMILY_TITLES
            out[c] = col.map(lambda f: FAMILY_TITLES.get(f, words(f)))
        elif col.dtype == bool or col.map(lambda v: isinstance(v, bool)).all():
            out[c] = col.map(words)
        elif col.dtype == object or pd.api.types.is_string_dtype(col):
            out[c] = col.map(words)
        elif rounded:
            out[c] = [_rounded(v, u, c) for v, u in zip(col.map(_cell_value), unit, strict=True)]
        else:
            out[c] = col
    if "unit" in df and rounded and "value" in out:  # a yes/no KPI reads Yes or No, as in the report
        flag = df["unit"].astype(str).eq("flag") & df["value"].notna()
        out["value"] = out["value"].astype(object)
        out.loc[flag, "value"] = df.loc[flag, "value"].map(lambda v: "Yes" if v >= 0.5 else "No")
    if counted is not None:
        out.insert(out.columns.get_loc("denominator") + 1, "counted", counted)
    out["kpi_id"] = df["kpi_id"]
    return out


def summary_sheet(summary: pd.DataFrame) -> pd.DataFrame:
    """The Table 1 layout for the spreadsheet: the plain KPI name first, words only, the id last."""
    cols = [c for c in ("kpi", "plan_priority", "improvement_area", "value", "latest", "count_or_sample",
                        "vs_last_year", "last_year_plain", "vs_12_months", "spc_variation", "spc_assurance",
                        "verdict", "target", "outlook", "pmf_integration", "table1_name", "note")
            if c in summary]
    out = summary[cols].copy()
    if "unit" in summary and "value" in out:
        out["value"] = [("Yes" if v >= 0.5 else "No") if u == "flag" and not pd.isna(v) else _rounded(v, u, "value")
                        for v, u in zip(summary["value"], summary["unit"], strict=True)]
    out["kpi_id"] = summary["kpi_id"]
    return out


SUMMARY_LABELS = {"kpi": "KPI", "value": "Latest", "latest": "Latest (as shown)",
                  "last_year_plain": "Is the change real?", "target": "Target",
                  "outlook": "Year-end outlook", "kpi_id": "KPI id"}
SPC_LABELS = {"name": "KPI", "kpi_id": "KPI id"}
RESULT_LABELS = {"name": "KPI", "kpi_id": "KPI id", "counted": "Counts (in words)"}


def write_workbook(results: pd.DataFrame, out: Path, *, summary: pd.DataFrame | None = None,
                   spc: pd.DataFrame | None = None, names: Mapping[str, str] | None = None,
                   params: Mapping | None = None) -> Path:
    """kpis.xlsx: About, Summary (Table 1 layout), KPI results (every row, rounded as shown), SPC
    points, and data (every KPI row at full precision). ``names``: KPI id -> plain name (default:
    the result table's own names); ``params``: the run's settings (the labels that name one)."""
    from openpyxl import Workbook

    synthetic = "synthetic_data" in results and results["synthetic_data"].astype(str).str.lower().eq("true").any()
    period = str(results["period"].iloc[0]) if len(results) and "period" in results else ""
    names = dict(names or {})
    if "name" in results:
        for k, n in zip(results["kpi_id"], results["name"], strict=True):
            names.setdefault(k, n)
    wb = Workbook()
    about = wb.active
    about.title = "About"
    lines = [
        f"Budget KPI metrics report: {period}",
        "SYNTHETIC SAMPLE DATA: every number here is invented, for testing and demonstration only."
        if synthetic else "Figures computed from the force's inputs listed in manifest.json beside this file.",
        "Sheets: Summary (the budget KPIs in the layout of Table 1), KPI results (every KPI and basis, "
        "rounded as in the report), SPC points (every point of every chart, rounded), data (every KPI "
        "and basis at full precision).",
        "Values are in the KPI's unit (per cent as 0-100; minutes; seconds; counts; pounds).",
        "Each sheet's last column (hidden) is the KPI's internal id, for joining sheets and quarters.",
        "Provenance (settings, input files with SHA-256, code version): manifest.json and results/lineage.json.",
    ]
    for i, text in enumerate(lines, start=1):
        about.cell(row=i, column=1, value=text).data_type = "s"
    about.column_dimensions["A"].width = 110
    print_setup(about, "About")
    hidden = ("kpi_id",)
    if summary is not None and len(summary):
        sheet = summary_sheet(summary)
        write_sheet(wb.create_sheet("Summary"), sheet, units=summary["unit"] if "unit" in summary else None,
                    labels=SUMMARY_LABELS, hidden=hidden, title=f"Budget KPIs, {period}")
    units = results["unit"] if "unit" in results else None
    write_sheet(wb.create_sheet("KPI results"), readable(results, names, rounded=True, params=params), units=units,
                labels=RESULT_LABELS, hidden=hidden, title=f"KPI results, {period}")
    if spc is not None and len(spc):
        unit = spc["unit"] if "unit" in spc else None
        write_sheet(wb.create_sheet("SPC points"), readable(spc, names, rounded=True), units=unit,
                    labels=SPC_LABELS, hidden=hidden, title=f"SPC points, {period}")
    write_sheet(wb.create_sheet("data"), readable(results, names, rounded=False, params=params), units=units,
                labels=RESULT_LABELS, hidden=hidden,
                title=f"KPI results at full precision, {period}")
    return write_atomic(out, wb.save, suffix=".xlsx")
