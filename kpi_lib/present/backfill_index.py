"""The index page of a backfill (``kpi run FIRST --to LAST``): one self-contained HTML page with a
trend table of every budget KPI across the quarters run, each quarter's column headed by a link
to its report. It reads each report's own ``results/kpis.csv`` (the figures the reports show) and
computes nothing; a KPI that was not a budget KPI in a quarter's year shows a dash with a note.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from kpi_lib.analyse.columns import read_csv
from kpi_lib.config.catalogue import run_catalogue
from kpi_lib.present.narrative import STATUS_TEXT, format_value
from kpi_lib.present.summary import plain_name

INDEX = "index.html"
MARKER = '<meta name="generator" content="kpi_lib backfill index">'
STATUS_SHORT = {"not_yet_available": "not yet available", "annual": "annual",
                "not_available_from_source": "not from this source"}


def trend_table(runs: list[tuple[str, Path]]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Budget KPIs (rows, in catalogue order) by quarter (columns): each report's headline value
    as it shows it. Returns the table (text cells) and each quarter's report link."""
    rows: dict[str, dict[str, str]] = {}
    names: dict[str, str] = {}
    links = {}
    for label, folder in runs:
        links[label] = f"{folder.name}/report.html"
        catalogue = {k.id: k for k in run_catalogue(folder)}
        res = read_csv(folder / "results" / "kpis.csv")
        head = res[res["headline"].astype(bool) & ~res["supplementary"].astype(bool)]
        for _, r in head.iterrows():
            k = catalogue.get(r["kpi_id"])
            names.setdefault(r["kpi_id"], plain_name(k) if k is not None else str(r["name"]))
            cell = (format_value(r["value"], r["unit"]) if r["status"] == "reported"
                    else STATUS_SHORT.get(r["status"], STATUS_TEXT.get(r["status"], r["status"])))
            rows.setdefault(r["kpi_id"], {})[label] = cell
    labels = [label for label, _ in runs]
    table = pd.DataFrame([{"KPI": names[k], **{q: cells.get(q, "—") for q in labels}} for k, cells in rows.items()])
    return table, links


def index_html(runs: list[tuple[str, Path]], title: str, note: str = "", synthetic: bool = False) -> str:
    """The page: title, what the figures are (``note``), and the trend table with its links."""
    e = html.escape
    table, links = trend_table(runs)
    head = "".join(f'<th scope="col"><a href="{e(links[q])}">{e(q)}</a></th>' for q in table.columns[1:])
    body = "".join("<tr>" + f'<th scope="row">{e(str(r["KPI"]))}</th>'
                   + "".join(f"<td>{e(str(r[q]))}</td>" for q in table.columns[1:]) + "</tr>"
                   for _, r in table.iterrows())
    banner = ('<p class="synthetic"><strong>SYNTHETIC SAMPLE DATA.</strong> Every number here is invented, '
              "for testing and demonstration only.</p>") if synthetic else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">{MARKER}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>
body {{ font-family: Arial, Helvetica, sans-serif; margin: 1.5rem; color: #0b0c0c; }}
.table-scroll {{ overflow-x: auto; }}
table {{ border-collapse: collapse; font-size: 0.9rem; }}
th, td {{ border-bottom: 1px solid #b1b4b6; padding: 0.3rem 0.6rem; text-align: right; white-space: nowrap; }}
th[scope=row] {{ text-align: left; white-space: normal; min-width: 16rem; }}
thead th {{ position: sticky; top: 0; background: #fff; }}
a {{ color: #1d70b8; }}
.synthetic {{ border: 3px solid #d4351c; padding: 0.5rem; }}
</style></head>
<body>
<h1>{e(title)}</h1>
{banner}<p>{e(note)}</p>
<p>Each column is one quarter's report (select its heading to open it); each row a budget KPI, as that
report shows it (outcome rates on the headline basis). A dash: not a budget KPI that year, or no figure.</p>
<div class="table-scroll" role="region" aria-label="Budget KPIs by quarter" tabindex="0">
<table><caption>Budget KPIs by quarter</caption>
<thead><tr><th scope="col">KPI</th>{head}</tr></thead>
<tbody>{body}</tbody></table></div>
</body></html>
"""


def may_write(path: Path) -> bool:
    """An index page is written only where none is, or over one this suite wrote."""
    if not path.exists():
        return True
    try:
        return MARKER in path.read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        return False
