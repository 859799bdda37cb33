"""How a figure was made, for a reader: the lineage records of ``results/lineage.json``
(:mod:`kpi_lib.analyse.lineage`) as a short collapsed "How this figure was made" under each KPI's
card, and as the officers' annex of the printed report. Reads the records; computes nothing.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from kpi_lib.present.narrative import format_value

LINEAGE_FILE = "lineage.json"


def load_lineage(results_dir: str | Path) -> dict[str, dict]:
    """The run's lineage records by id (empty when the run wrote none, e.g. a notebook run on its
    own in JupyterLab)."""
    path = Path(results_dir) / LINEAGE_FILE
    if not path.exists():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {r["id"]: r for r in doc.get("records", [])}


def record_id(kpi_id: str, basis: str = "", figure: str = "value") -> str:
    return "/".join(x for x in (kpi_id, basis, figure) if x)


def _day(iso: str) -> str:
    return f"{date.fromisoformat(iso):%-d %B %Y}"


def _count(x) -> str:
    if x is None:
        return "—"
    return f"{x:,.0f}" if float(x) == round(float(x)) else f"{x:,.2f}"


def period_words(rec: Mapping) -> str:
    """"1 January 2025 to 31 March 2025; outcomes counted to 15 May 2025 (45 days after the
    period ended)"."""
    p = rec["period"]
    text = f"{_day(p['start'])} to {_day(p['end'])}"
    c = rec.get("cohort")
    if c:
        text += (f"; outcomes counted to {_day(c['outcomes_up_to'])} ({c['age_days']} days after the "
                 "period ended)")
    return text


def input_words(entry: Mapping, short_hash: bool = False) -> str:
    sha = str(entry.get("sha256") or "")
    counted = entry.get("rows_counted")
    rows = (f"{_count(counted)} rows counted of {_count(entry.get('rows_in_file'))}" if counted is not None
            else f"{_count(entry.get('rows_in_file'))} rows")
    return f"{entry.get('file')} ({rows}; SHA-256 {sha[:12] + '…' if short_hash else sha})"


def details_html(rec: Mapping | None) -> str:
    """The collapsed "How this figure was made" of one figure ("" without a record)."""
    if not rec:
        return ""
    e = html.escape
    rows = [("Definition", e(str(rec.get("definition", ""))))]
    unit = str(rec.get("unit", ""))
    if rec.get("numerator_words"):
        rows.append(("Numerator", f"{e(_count(rec.get('numerator')))}: {e(rec['numerator_words'])}"
                     if rec.get("numerator") is not None else e(rec["numerator_words"])))
    if rec.get("denominator_words"):
        rows.append(("Denominator", f"{e(_count(rec.get('denominator')))}: {e(rec['denominator_words'])}"
                     if rec.get("denominator") is not None else e(rec["denominator_words"])))
    if rec.get("filters"):
        rows.append(("Filters", "<br>".join(e(f) for f in rec["filters"])))
    rows.append(("Period", e(period_words(rec))))
    if rec.get("inputs"):
        rows.append(("Input files", "<br>".join(e(input_words(i)) for i in rec["inputs"])))
    rows.append(("Code version", e(str(rec.get("code_version", "")))))
    rows.append(("Reproduce", f"<code>{e(str(rec.get('reproduce', '')))}</code>"))
    if rec.get("value") is not None:
        rows.insert(0, ("Figure", e(f"{format_value(rec.get('value'), unit)} ({rec.get('figure_words', 'this period')})")))
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return (f'<details class="lineage"><summary>How this figure was made'
            f'</summary><dl class="lineage">{body}</dl></details>')
