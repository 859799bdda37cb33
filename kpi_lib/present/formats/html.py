"""The report as one self-contained HTML page (nbconvert with the project's template)."""

from __future__ import annotations

from pathlib import Path

from kpi_lib.present.formats import OutputFormat, RenderContext


def write(context: RenderContext) -> Path:
    from kpi_lib.present.render import combine, render_html
    notebooks = context.folder / "notebooks"
    nb = combine(notebooks / "report.ipynb", [notebooks / f"{f}.ipynb" for f in context.families])
    return render_html(nb, context.meta, context.folder / "report.html")


FORMAT = OutputFormat("html", "report (HTML page)", "report.html", write)
