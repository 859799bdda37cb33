"""kpis.xlsx for analysts: the KPI result table, the Table 1 summary and every SPC point."""

from __future__ import annotations

from pathlib import Path

from kpi_lib.present.formats import OutputFormat, RenderContext


def write(context: RenderContext) -> Path:
    from kpi_lib.analyse.columns import read_csv
    from kpi_lib.present.render import write_excel
    results = read_csv(context.folder / "results" / "kpis.csv")
    return write_excel(results, context.folder / "kpis.xlsx")


FORMAT = OutputFormat("xlsx", "spreadsheet (Excel)", "kpis.xlsx", write)
