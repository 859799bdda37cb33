"""Words from numbers: formatting, plain-English findings and the "at a glance" paragraph.

The words follow the statistics (../shared/guide/STATS.md): "higher than usual (special cause)"
only when SPC says so; a change in a proportion is called an increase or decrease only when the
two-proportion test is significant, otherwise "no significant change".
"""

from __future__ import annotations

import math

import pandas as pd

from .spc import ASSURANCE_LABELS, VARIATION_LABELS

UNIT_SUFFIX = {"percent": "%", "minutes": " min", "seconds": " s", "tco2e": " tCO2e"}
STATUS_TEXT = {
    "reported": "Reported",
    "not_yet_available": "Not yet available",
    "annual": "Annual KPI (reported at year end)",
    "not_available_from_source": "Not available from this source",
}
# Shape and text, never colour alone (Making Data Count colours fail contrast on white).
VARIATION_ICON = {
    "common_cause": "●", "improvement_high": "▲", "improvement_low": "▼", "concern_high": "▲",
    "concern_low": "▼", "neutral_high": "◆", "neutral_low": "◆", "no_data": "–", "not_applicable": "–",
}
ASSURANCE_ICON = {"consistent_pass": "✔", "consistent_fail": "✖", "hit_and_miss": "↕",
                  "no_target": "–", "not_applicable": "–", "no_data": "–"}
CLASSES = ("improving", "deteriorating", "stable", "provisional", "not_reportable")


def _truthy(x) -> bool:
    """True for True, 'True', 1; False for anything else (CSV round trips give strings)."""
    return str(x).strip().lower() in ("true", "1", "1.0")


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x)


def format_value(value, unit: str) -> str:
    """88.2%, 19,847, 12.6 min, £1.25m, Yes/No, 2,278 tCO2e; an em dash for no value."""
    if _nan(value):
        return "—"
    if unit == "flag":
        return "Yes" if value >= 0.5 else "No"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "gbp":
        return f"£{value / 1e6:,.2f}m"
    if unit in ("percent", "minutes", "seconds"):
        return f"{value:,.1f}{UNIT_SUFFIX[unit]}"
    if unit == "tco2e":
        return f"{value:,.0f}{UNIT_SUFFIX[unit]}"
    return f"{value:,.2f}"


def format_change(change, pct, unit: str) -> str:
    """'+1.2 points', '-3.4% (-120)', or an em dash."""
    if _nan(change):
        return "—"
    change = 0.0 if abs(change) < 0.05 and unit in ("percent", "minutes", "seconds") else change
    if unit == "percent":
        return f"{change:+.1f} points"
    if unit in ("minutes", "seconds"):
        return f"{change:+.1f}{UNIT_SUFFIX[unit]}"
    if unit == "count":
        return f"{change:+,.0f}" + ("" if _nan(pct) else f" ({pct:+.1f}%)")
    if unit == "tco2e":
        return f"{change:+,.0f} tCO2e" + ("" if _nan(pct) else f" ({pct:+.1f}%)")
    return f"{change:+,.2f}"


def change_words(change, pct, significant, unit: str, against: str) -> str:
    """A sentence fragment for one comparison, honest about significance for proportions."""
    if _nan(change):
        return f"no comparison with {against} (no value for one of the periods)"
    text = format_change(change, pct, unit)
    if unit == "percent":
        if _nan(significant):
            return f"{text} against {against} (no test possible)"
        if not significant:
            return f"no significant change against {against} ({text}; two-proportion test, 5% level)"
        return f"{'an increase' if change > 0 else 'a decrease'} of {text[1:] if text[0] in '+-' else text} against {against} (significant at the 5% level)"
    return f"{text} against {against}"


def variation_text(variation: str) -> str:
    return f"{VARIATION_ICON.get(variation, '–')} {VARIATION_LABELS.get(variation, 'Not applicable')}"


def assurance_text(assurance: str) -> str:
    label = ASSURANCE_LABELS.get(assurance, "Not applicable")
    return f"{ASSURANCE_ICON.get(assurance, '–')} {label}"


def classify(row: pd.Series | dict) -> str:
    """improving / deteriorating / stable / not_reportable, from status and SPC (or, for
    KPIs without SPC such as finance flags, from the value against the aim)."""
    if row["status"] != "reported" or _nan(row["value"]):
        return "not_reportable"
    v = str(row.get("spc_variation", ""))
    if _truthy(row.get("provisional")) and not v.startswith("improvement"):
        return "provisional"
    if v.startswith("improvement"):
        return "improving"
    if v.startswith("concern"):
        return "deteriorating"
    if v == "not_applicable" and row["unit"] == "flag":
        return "stable" if row["value"] >= 0.5 else "deteriorating"
    if v == "not_applicable" and not _nan(row.get("target")):
        return "stable" if row["value"] >= row["target"] else "deteriorating"
    return "stable"


CLASS_TEXT = {"improving": "Improving (special cause)", "deteriorating": "Worse or off track",
              "stable": "Stable / on track",
              "provisional": "Provisional: outcomes still pending",
              "not_reportable": "Cannot report yet"}


def at_a_glance(results: pd.DataFrame, period_label: str) -> str:
    """One paragraph from the headline rows of the 25 budget KPIs (never hand-written)."""
    head = results[results["headline"] & ~results["supplementary"].astype(bool)]
    counts = head.apply(classify, axis=1).value_counts()
    n = len(head)
    worse = head[head.apply(classify, axis=1) == "deteriorating"]["name"].tolist()
    better = head[head.apply(classify, axis=1) == "improving"]["name"].tolist()
    parts = [f"Of the {n} budget KPIs for {period_label}: "
             f"{counts.get('improving', 0)} show special cause improvement, "
             f"{counts.get('deteriorating', 0)} show special cause concern or are off track, "
             f"{counts.get('stable', 0)} are within normal variation (or on track), "
             f"{counts.get('provisional', 0)} are provisional outcome rates (many crimes still "
             f"await an outcome, so the rate will rise), and "
             f"{counts.get('not_reportable', 0)} cannot be reported this period."]
    if better:
        parts.append("Improving: " + "; ".join(better) + ".")
    if worse:
        parts.append("Needing attention: " + "; ".join(worse) + ".")
    return " ".join(parts)


def reported_coverage(results: pd.DataFrame, catalogue: list) -> tuple[int, int]:
    """(reported, regularly reportable) over headline budget KPIs that are not annual."""
    regular_ids = [k.id for k in catalogue if k.frequency != "annual" and not k.supplementary]
    head = results[results["headline"] & results["kpi_id"].isin(regular_ids)]
    return int((head["status"] == "reported").sum()), len(head)


def finding(row: pd.Series | dict, period_label: str) -> str:
    """One plain-English sentence for a KPI: latest value, its interval or count, the comparison
    with the same period last year, and what SPC says."""
    name = row["name"]
    if row["status"] != "reported" or _nan(row["value"]):
        status = STATUS_TEXT.get(row["status"], row["status"])
        return f"{name}: {status[:1].lower() + status[1:]}. {row.get('note') or ''}".strip()
    unit = row["unit"]
    val = format_value(row["value"], unit)
    extra = ""
    if unit == "percent" and not _nan(row.get("ci_low")):
        extra = f" (95% interval {row['ci_low']:.1f}% to {row['ci_high']:.1f}%)"
    elif unit in ("minutes",) and not _nan(row.get("ci_low")):
        extra = f" (95% interval {row['ci_low']:.1f} to {row['ci_high']:.1f} min)"
    comp = change_words(row.get("change_last_year"), row.get("change_last_year_pct"),
                        row.get("last_year_significant"), unit, "the same period last year")
    v = str(row.get("spc_variation", ""))
    if v in ("not_applicable", "no_data", ""):
        spc_words = ""
    elif v == "common_cause":
        spc_words = " SPC: within normal variation (common cause)."
    else:
        spc_words = f" SPC: {VARIATION_LABELS[v].lower()} — a real change, not noise."
    trial = " Limits are trial limits (fewer than 12 points)." if _truthy(row.get("spc_trial")) else ""
    provisional = ""
    if _truthy(row.get("provisional")):
        provisional = (f" Provisional: {row['pending_share']:.1f}% of these crimes still await an "
                       "outcome, so this rate will rise as investigations close; a fall is not read "
                       "as deterioration.")
    return f"{name}: {val} in {period_label}{extra}; {comp}.{spc_words}{trial}{provisional}"
