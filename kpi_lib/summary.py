"""The Panel's summary table (Table 1 layout) built from the KPI result table, never recomputed.

``summary_table`` is pure (results in, tidy frame out); ``summary_html`` escapes every string and
carries each figure's source value in ``data-value`` so tests can check the page against
``results/kpis.csv``.
"""

from __future__ import annotations

import html
import re

import pandas as pd

from .catalogue import Kpi
from .narrative import (
    CLASS_TEXT,
    STATUS_TEXT,
    assurance_text,
    classify,
    format_change,
    format_value,
    variation_text,
)


def _sample(row: pd.Series) -> str:
    if row["status"] != "reported":
        return ""
    u = row["unit"]
    if u == "percent" and not pd.isna(row["denominator"]):
        if row["kpi_id"] in ("victim_satisfaction", "confidence_overall", "visibility_weekly"):
            return f"n = {row['sample_n']:,.0f} respondents"
        text = f"{row['numerator']:,.0f} of {row['denominator']:,.0f}"
        note = row.get("note") or ""
        if row.get("basis") == "cohort" and "not yet assigned" in note:
            share = note.split(";")[-1].strip().split("%")[0]
            text += f"; provisional: {share}% still awaiting an outcome"
        return text
    if u == "minutes" and not pd.isna(row["sample_n"]):
        return f"n = {row['sample_n']:,.0f} attended"
    if u == "flag" and not pd.isna(row["denominator"]):
        return f"outturn {format_value(row['numerator'], 'gbp')} vs budget {format_value(row['denominator'], 'gbp')}"
    return ""


def summary_table(results: pd.DataFrame, catalogue: list[Kpi]) -> pd.DataFrame:
    """One row per budget KPI (headline basis), in Table 1 order."""
    head = results[results["headline"].astype(bool)].set_index("kpi_id")
    rows = []
    for k in catalogue:
        if k.supplementary or k.id not in head.index:
            continue
        r = head.loc[k.id]
        r = r.copy()
        r["kpi_id"] = k.id
        basis = f" ({r['basis'].replace('_', '-')} basis)" if r["basis"] in ("cohort", "in_period") else ""
        rows.append({
            "kpi_id": k.id, "plan_priority": k.plan_priority, "improvement_area": k.improvement_area,
            "kpi": k.name, "value": r["value"] if r["status"] == "reported" else float("nan"),
            "latest": (format_value(r["value"], k.unit) + basis) if r["status"] == "reported"
            else STATUS_TEXT[r["status"]],
            "count_or_sample": _sample(r),
            "vs_last_year": format_change(r["change_last_year"], r["change_last_year_pct"], k.unit)
            + (" (not significant)" if r["last_year_significant"] == 0 else
               " (significant)" if r["last_year_significant"] == 1 else ""),
            "vs_12_months": format_change(r["change_12m"], r["change_12m_pct"], k.unit),
            "spc_variation": variation_text(r["spc_variation"]),
            "spc_assurance": assurance_text(r["spc_assurance"]),
            "overall": CLASS_TEXT[classify(r)], "glance": classify(r),
            "status": r["status"],
            "pmf_integration": k.pmf_integration,
            "note": r["note"] if isinstance(r["note"], str) else "",
        })
    return pd.DataFrame(rows)


HEADERS = [("plan_priority", "Plan priority"), ("improvement_area", "Improvement area"),
           ("kpi", "Key performance indicator"), ("latest", "Latest"),
           ("count_or_sample", "Count or sample"), ("vs_last_year", "Change on same period last year"),
           ("vs_12_months", "12 months vs previous 12"), ("spc_variation", "SPC variation"),
           ("spc_assurance", "Assurance against target"), ("overall", "At a glance"),
           ("pmf_integration", "Integration into Force PMF")]


def summary_html(table: pd.DataFrame, caption: str) -> str:
    """An accessible HTML table (caption, scoped headers, escaped text)."""
    e = html.escape
    out = [f'<table class="kpi-summary"><caption>{e(caption)}</caption><thead><tr>']
    out += [f'<th scope="col">{e(label)}</th>' for _, label in HEADERS]
    out.append("</tr></thead><tbody>")
    for _, r in table.iterrows():
        cls = {"deteriorating": "worse", "not_reportable": "cannot"}.get(r["glance"], r["glance"])
        out.append(f'<tr data-kpi="{e(r["kpi_id"])}" class="status-{e(r["status"])} glance-{e(cls)}">')
        for key, _ in HEADERS:
            text = e(str(r[key]))
            if key == "kpi":
                out.append(f'<th scope="row">{text}</th>')
            elif key == "latest":
                val = "" if pd.isna(r["value"]) else repr(float(r["value"]))
                out.append(f'<td class="latest" data-value="{val}">{text}</td>')
            else:
                out.append(f'<td class="{key}">{text}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def frame_html(df: pd.DataFrame, caption: str) -> str:
    """Any small table as accessible, escaped HTML."""
    body = df.to_html(index=False, escape=True, border=0, na_rep="—", classes="kpi-table")
    body = re.sub(r"<table[^>]*>", f'<table class="kpi-table"><caption>{html.escape(caption)}</caption>',
                  body, count=1)
    body = re.sub(r'<tr style="[^"]*">', "<tr>", body)
    return body.replace("<th>", '<th scope="col">')
