"""The back of the Panel paper: appendices a reader may turn to (the numbers behind every chart,
the KPI definitions and targets with their sources, how the figures are made)
and the annex for officers (settings, input files with their fingerprints, the row ledger, the
KPIs' internal ids, and how each figure was made).

The public part of the report holds no internal ids, file hashes or raw labels; everything of
that kind is here, in the annex titled for officers. Every builder is pure (frames and records in,
HTML out) and escapes every string.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import pandas as pd

from kpi_lib.config.catalogue import Kpi
from kpi_lib.present.lineage_view import input_words, period_words, record_id
from kpi_lib.present.narrative import format_value
from kpi_lib.present.summary import frame_html, plain_name, spell_out
from kpi_lib.present.views import chart_numbers, limits_clipped

ANNEX_TITLE = "Annex for officers: how this report was produced"
#: how many of the latest points of each chart the appendix lists
CHART_POINTS = 13


def _headline(results: pd.DataFrame) -> pd.DataFrame:
    head = results[results["headline"].astype(str).str.lower().isin(["true", "1", "1.0"])]
    return head.drop_duplicates("kpi_id")


def _basis(x) -> str:
    return x if isinstance(x, str) else ""


def appendix_numbers(points: pd.DataFrame, unit: str, grain: str = "month") -> pd.DataFrame:
    """The latest points of one chart as the appendix lists them: the period, the value, the
    mean, the limits and the point in the words of the KPI's section (the one label table,
    :data:`kpi_lib.analyse.spc.VARIATION_LABELS`, through :func:`chart_numbers`)."""
    t = chart_numbers(points, unit, CHART_POINTS)
    return t.rename(columns={"Period starting": grain.capitalize(), "Lower limit": "Lower",
                             "Upper limit": "Upper", "Variation": "Point"})


def chart_tables(results: pd.DataFrame, spc: pd.DataFrame | None, catalogue: Sequence[Kpi]) -> list[tuple[Kpi, pd.DataFrame, bool]]:
    """For every charted headline KPI, in catalogue order: (KPI, the latest points behind its
    chart as the card shows them, whether limits were clipped at 0 or 100%)."""
    if spc is None or spc.empty:
        return []
    head = _headline(results).set_index("kpi_id")
    basis = spc["basis"].map(_basis) if "basis" in spc else pd.Series("", index=spc.index)
    out = []
    for k in catalogue:
        if k.id not in head.index:
            continue
        b = _basis(head.loc[k.id, "basis"])
        pts = spc[(spc["kpi_id"] == k.id) & (basis == b)].sort_values("x")
        if len(pts) < 2:
            continue
        grain = str(head.loc[k.id, "spc_grain"]) if "spc_grain" in head else "month"
        grain = grain if grain in ("month", "quarter") else "month"
        out.append((k, appendix_numbers(pts, k.unit, grain), limits_clipped(pts, k.unit, CHART_POINTS)))
    return out


def chart_numbers_html(tables: list[tuple[Kpi, pd.DataFrame, bool]]) -> str:
    """Appendix: the numbers behind every chart (the latest points, as drawn)."""
    if not tables:
        return ""
    e = html.escape
    blocks = []
    for k, t, clipped in tables:
        name = plain_name(k)
        note = ('<p class="footnote">Limits shown clipped at 0% (and 100%): a percentage cannot go '
                "beyond them.</p>") if clipped else ""
        blocks.append(f'<div class="appendix-block"><h3 class="appendix-kpi">{e(name)}</h3>{note}'
                      + frame_html(t, f"The numbers behind the chart: {name}") + "</div>")
    return ('<h2 id="appendix-charts">Appendix A: the numbers behind the charts</h2>'
            f"<p>The latest {CHART_POINTS} points of each chart in this report, as drawn: the value, the "
            "chart's mean and its usual range (the process limits), and whether the point is unusual.</p>"
            f'<details class="print-open"><summary>The numbers behind all {len(blocks)} charts</summary>'
            f'<div class="appendix-grid">{"".join(blocks)}</div></details>')


def definitions_table(catalogue: Sequence[Kpi]) -> pd.DataFrame:
    """Every KPI's definition, its target and the target's source, in the catalogue's order."""
    import re

    def plain_definition(text: str) -> str:  # no file paths in the report body
        return re.sub(r"\s*(in|from)\s+params/[\w./-]+\.ya?ml", " in the report's settings", text)
    return pd.DataFrame([{
        "KPI": plain_name(k) + (" (supplementary)" if k.supplementary else ""),
        "Definition": spell_out(plain_definition(k.definition)),
        "Target": "None" if k.target is None else format_value(k.target, k.unit),
        "Source of the target": "" if k.target is None else (k.target_source or "not stated"),
    } for k in catalogue])


def _collapsed(summary: str, body: str) -> str:
    """Collapsed on screen, open on paper (the printed copy opens ``print-open`` details)."""
    return f'<details class="print-open"><summary>{html.escape(summary)}</summary>{body}</details>'


def definitions_html(catalogue: Sequence[Kpi]) -> str:
    return ('<h2 id="appendix-definitions">Appendix B: KPI definitions and targets</h2>'
            "<p>What each KPI counts, and, where it has one, its target and where the target comes "
            "from. A KPI without a target is judged on change and variation alone.</p>"
            + _collapsed("Every KPI's definition and target",
                         frame_html(definitions_table(catalogue), "KPI definitions and targets")))


# ------------------------------------------------------------------------------ the officers' annex
def inputs_table(inputs: Sequence[Mapping]) -> pd.DataFrame:
    """Each input file: its table, rows read, used and rejected (with the reasons), and its full
    SHA-256 fingerprint."""
    rows = []
    for i in inputs:
        reasons = i.get("rejected_reasons") or {}
        rows.append({"Table": str(i.get("table", "")), "File": str(i.get("file", "")),
                     "Rows read": f"{i.get('rows_read', 0):,}", "Rows used": f"{i.get('rows_used', 0):,}",
                     "Rows rejected": f"{i.get('rows_rejected', 0):,}"
                     + (" (" + "; ".join(f"{k}: {v:,}" for k, v in reasons.items()) + ")" if reasons else ""),
                     "SHA-256": str(i.get("sha256", ""))})
    return pd.DataFrame(rows, columns=["Table", "File", "Rows read", "Rows used", "Rows rejected", "SHA-256"])


def ids_table(catalogue: Sequence[Kpi]) -> pd.DataFrame:
    """Each KPI's internal id beside its name in this report and in Table 1."""
    return pd.DataFrame([{"KPI in this report": plain_name(k), "Table 1 wording": k.name,
                          "Internal id": k.id, "Section": k.family} for k in catalogue])


def lineage_rows(results: pd.DataFrame, lineage: Mapping[str, Mapping], catalogue: Sequence[Kpi]) -> pd.DataFrame:
    """How each headline figure was made, one row per KPI: the figure, numerator and denominator,
    filters, period, input files (with their fingerprints) and the line that reproduces it."""
    head = _headline(results).set_index("kpi_id")
    rows = []
    for k in catalogue:
        if k.supplementary or k.id not in head.index:
            continue
        rec = lineage.get(record_id(k.id, _basis(head.loc[k.id, "basis"])))
        if rec is None:
            continue
        value = format_value(rec.get("value"), k.unit) if rec.get("value") is not None else "no figure"
        counted = []
        for part in ("numerator", "denominator"):
            n = rec.get(part)
            if n is not None and rec.get(f"{part}_words"):
                counted.append(f"{part} {n:,.0f}")
        rows.append({"KPI (id)": f"{plain_name(k)} ({k.id}{', ' + rec['basis'] if rec.get('basis') else ''})",
                     "Figure": value, "Counted": "; ".join(counted).capitalize() or "—",
                     "Filters": "; ".join(rec.get("filters") or []) or "—",
                     "Period": period_words(rec),
                     "Input files": "; ".join(input_words(i, short_hash=True) for i in rec.get("inputs") or []) or "—"})
    return pd.DataFrame(rows)


def annex_html(settings: pd.DataFrame, provenance: Mapping, catalogue: Sequence[Kpi],
               lineage_table: pd.DataFrame, previous: str = "", reproduce: str = "") -> str:
    """The annex for officers: settings, input files and fingerprints with the row ledger, code
    version, what the report was compared with, the KPIs' internal ids, and how each figure was
    made (every figure is in ``results/lineage.json``)."""
    e = html.escape
    parts = [f'<h2 id="officers-annex">{e(ANNEX_TITLE)}</h2>',
             "<p>For the officers who assemble and check the agenda pack: the settings this report was "
             "produced with, the input files with their fingerprints and how many of their rows were "
             "used, the code version, the KPIs' internal ids, and how each headline figure was made. "
             "The same record, for every figure, is in the run's results/lineage.json and "
             "manifest.json.</p>"]
    if len(settings):
        parts.append('<h3 id="annex-settings">Settings</h3>'
                     + _collapsed("The settings", frame_html(settings, "Settings used for this report")))
    inputs = list(provenance.get("inputs") or [])
    if inputs:
        parts.append('<h3 id="annex-inputs">Input files, fingerprints and the row ledger</h3>'
                     + _collapsed(f"The {len(inputs)} input files",
                                  frame_html(inputs_table(inputs), "Input files, rows and SHA-256 fingerprints",
                                             scroll=True)))
    facts = []
    if provenance.get("data_folder"):
        facts.append(f"<li>Data folder: {e(str(provenance['data_folder']))}</li>")
    if provenance.get("extraction_date"):
        facts.append(f"<li>Extraction date: {e(str(provenance['extraction_date']))}</li>")
    if provenance.get("code_version"):
        facts.append(f"<li>Code version: {e(str(provenance['code_version']))}</li>")
    if previous:
        facts.append(f"<li>Compared with the report for {e(previous)}</li>")
    if provenance.get("input_kinds"):
        facts.append(f"<li>Input kinds: {e(', '.join(map(str, provenance['input_kinds'])))}</li>")
    if facts:
        parts.append(f'<ul class="annex-facts">{"".join(facts)}</ul>')
    parts.append('<h3 id="annex-ids">KPI ids</h3>'
                 + _collapsed("The KPIs' internal ids", frame_html(ids_table(catalogue), "KPIs and their internal ids")))
    if len(lineage_table):
        parts.append('<h3 id="annex-lineage">How each figure was made</h3>'
                     "<p>The headline figure of every budget KPI: what was counted, the filters, the "
                     "period and the input files (fingerprints shortened; in full above). The filters "
                     "and files let anyone recompute a figure without the suite; with it, one line does: "
                     f"<code>{e(reproduce)}</code> (the KPI's id, and its basis where it has two).</p>"
                     + _collapsed("How each headline figure was made",
                                  '<div class="lineage-wrap">'
                                  + frame_html(lineage_table, "How each headline figure was made") + "</div>"))
    return '<section class="officers-annex" aria-labelledby="officers-annex">' + "".join(parts) + "</section>"
