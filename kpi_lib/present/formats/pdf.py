"""report.pdf for the agenda pack: the HTML page printed by headless Chromium. Optional: without
Chromium the run still succeeds and the manifest says why there is no PDF."""

from __future__ import annotations

from pathlib import Path

from kpi_lib.core.errors import KpiError
from kpi_lib.present.formats import OutputFormat, RenderContext


def write(context: RenderContext) -> Path:
    from kpi_lib.present.render import print_pdf
    page = context.written.get("html")
    if page is None:
        raise KpiError("report.pdf is printed from report.html, which this render did not write")
    return print_pdf(page, context.folder / "report.pdf")


FORMAT = OutputFormat("pdf", "report (PDF for the agenda pack)", "report.pdf", write, optional=True)
