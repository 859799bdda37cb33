"""Words from numbers: formatting, plain-English findings and the "at a glance" paragraph.

The words follow the statistics (../shared/guide/STATS.md): "higher than usual (special cause)"
only when SPC says so; a change in a proportion is called an increase or decrease only when the
two-proportion test is significant, otherwise "no significant change".
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from kpi_lib.analyse.spc import ASSURANCE_LABELS, VARIATION_LABELS

UNIT_SUFFIX = {"percent": "%", "minutes": " min", "seconds": " s", "tco2e": " tCO2e"}
STATUS_TEXT = {
    "reported": "Reported",
    "not_yet_available": "Not yet available",
    "annual": "Annual KPI (reported at year end)",
    "not_available_from_source": "Not available from this source",
}
def _truthy(x) -> bool:
    """True for True, 'True', 1; False for anything else (CSV round trips give strings)."""
    return str(x).strip().lower() in ("true", "1", "1.0")


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x)


def number(x: object) -> float:
    """``x`` as a float, or NaN when it is not a number (None, text, a missing value)."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def significance_words(test: Any, p_value: Any, significant: Any) -> str:
    """The words of a significance test as the Panel reads them: the test's name (or why there is
    none), its p-value, and what that means ("a real change" or "could be chance")."""
    words = ("" if _nan(test) else str(test)).strip()
    p = number(p_value)
    sig = number(significant)
    if not words and math.isnan(p):
        return "no test"
    parts = [words] if words else []
    if not math.isnan(p):
        parts.append("p < 0.001" if p < 0.001 else f"p = {p:.3f}")
    text = ", ".join(parts)
    if not math.isnan(sig):
        text += ": a real change" if sig >= 0.5 else ": could be chance"
    return unit_words(text)


#: raw unit codes as the reader says them ("no test for a change in tco2e" reads "in tonnes of CO2e")
UNIT_WORDS = {"tco2e": "tonnes of CO2e", "flag": "a yes/no measure", "gbp": "pounds"}


def unit_words(text: str) -> str:
    """``text`` with raw unit codes (tco2e, flag, gbp) in words."""
    return re.sub(r"\b(tco2e|flag|gbp)\b", lambda m: UNIT_WORDS[m.group(1)], text)


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
    if unit == "flag":  # a yes/no KPI: say what changed, never "-1.00"
        return "no change" if abs(change) < 0.5 else ("from Yes to No" if change < 0 else "from No to Yes")
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


#: decimal places a value is shown with, by unit (format_value); a shown change is worked out from
#: the shown values, so it always equals their difference (85.1% against 79.0% is +6.1 points)
SHOWN_DECIMALS = {"percent": 1, "minutes": 1, "seconds": 1, "count": 0, "tco2e": 0}


def shown_difference(value, other, unit: str) -> tuple[float, float]:
    """The change from ``other`` to ``value`` worked out from the two values as shown
    (:func:`format_value`): (difference, % change of the shown values), NaN where either is
    missing. The one rule every output follows for a shown change: 73.0% against 75.0% is -2.0
    points even when the stored change is -2.05."""
    if _nan(value) or _nan(other):
        return math.nan, math.nan
    places = SHOWN_DECIMALS.get(unit)
    if places is None:
        return float(value) - float(other), math.nan
    a, b = round(float(value), places), round(float(other), places)
    pct = 100 * (a - b) / abs(b) if b else math.nan
    return round(a - b, places), pct


def shown_change(value, other, unit: str) -> str:
    """The change from ``other`` to ``value`` as the difference of the two values as shown
    (:func:`shown_difference`), so that "85.1% against 79.0%" reads "+6.1 points", never "+6.0";
    counts and carbon add the % change of the shown values."""
    if _nan(value) or _nan(other):
        return "—"
    change, pct = shown_difference(value, other, unit)
    return format_change(change, pct, unit)


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
    """The SPC variation in words only: the verdict symbols of kpi_lib.analyse.verdicts are the one set
    of symbols in the report."""
    return VARIATION_LABELS.get(variation, "Not applicable")


def assurance_text(assurance: str) -> str:
    """The SPC assurance against a target, in words only."""
    return ASSURANCE_LABELS.get(assurance, "Not applicable")


#: how the count sentence names each reason a KPI is listed (kpi_lib.analyse.verdicts.ATTENTION)
LIST_HEADS = {"worse": "Worse than last year, a real change",
              "no_longer_met": "No longer met (a yes/no measure: no test is needed)",
              "missing_target": "Missing target",
              "unusual": "Unusual on the chart, or a real change where neither direction is better",
              "trend": "A steady trend in the worse direction", "too_early": "Too early to tell",
              "worse_12m": "Worse over the latest 12 months than the 12 before, a real change"}


def at_a_glance(results: pd.DataFrame, period_label: str, verdicts: dict | None = None,
                names: dict | None = None) -> str:
    """One paragraph counting the budget KPIs' verdicts (the ``verdict_code`` column of
    kpis.csv; never recomputed), then naming the KPIs for the Panel's attention by reason, from
    :func:`kpi_lib.analyse.verdicts.flagged` (the one list every summary list comes from; a KPI
    whose verdict says worse is always named, whatever its verdict code)."""
    from kpi_lib.analyse.verdicts import flagged

    head = results[results["headline"].astype(bool) & ~results["supplementary"].astype(bool)]
    if "verdict_code" not in head:
        return f"The {len(head)} budget KPIs for {period_label} carry no verdicts in this run."
    codes = head["verdict_code"].fillna("").astype(str)
    counts = codes.value_counts()
    labels = {k: getattr(v, "label", k) for k, v in (verdicts or {}).items()}
    order = [c for c in (verdicts or {}) if counts.get(c, 0)] + \
        [c for c in counts.index if c not in (verdicts or {}) and c]
    parts = [f"{counts[c]} {labels.get(c, c.replace('_', ' ')).lower()}" for c in order]
    text = f"Of the {len(head)} budget KPIs for {period_label}: " + "; ".join(parts) + "."
    f = flagged(head)
    for reason, head_words in LIST_HEADS.items():
        rows = f[f["attention"] == reason]
        if len(rows):
            listed = [(names or {}).get(i, n) for i, n in zip(rows["kpi_id"], rows["name"], strict=True)]
            text += f" {head_words}: " + "; ".join(listed) + "."
    return text


def reported_coverage(results: pd.DataFrame, catalogue: list) -> tuple[int, int]:
    """(reported, regularly reportable) over headline budget KPIs that are not annual."""
    regular_ids = [k.id for k in catalogue if k.frequency != "annual" and not k.supplementary]
    head = results[results["headline"] & results["kpi_id"].isin(regular_ids)]
    return int((head["status"] == "reported").sum()), len(head)


def last_year_sentence(row: pd.Series | dict) -> str:
    """The comparison with the same period last year as a KPI's section says it: the change as the
    difference of the values shown (:func:`shown_change`), the comparator, the stored answer
    (``last_year_words``: "no clear change (95% interval ...)", "not comparable: ...") and the
    test with its p-value and its q-value (after allowing for the report's many tests, as the
    summary's note says)."""
    unit = row["unit"]
    words = "" if _nan(row.get("last_year_words")) else str(row.get("last_year_words") or "").strip()
    if str(row.get("last_year_finding") or "") == "not_comparable" and words:
        return words
    if _nan(row.get("change_last_year")) or _nan(row.get("last_year_value")):
        return "no comparison with the same period last year"
    head = (f"{shown_change(row['value'], row['last_year_value'], unit)} on the same period last year "
            f"({format_value(row['last_year_value'], unit)})")
    if not words:  # a table from before the two questions were answered apart
        return (f"{head[:-1]}; {significance_words(row.get('last_year_test'), row.get('last_year_p_value'), row.get('last_year_significant'))})")
    test = ("" if _nan(row.get("last_year_test")) else str(row.get("last_year_test") or "")).strip()
    p, q = number(row.get("last_year_p_value")), number(row.get("last_year_q_value"))
    said = [test] if test and test.lower() not in words.lower() else []  # "not tested: ..." is said once
    if not math.isnan(p):
        said.append("p < 0.001" if p < 0.001 else f"p = {p:.3f}")
    if not math.isnan(q) and not re.search(r"\bq [<=]", words):  # a real change's words give q already
        said.append(f"q {'< 0.001' if q < 0.001 else f'= {q:.3f}'}")
    return unit_words(f"{head}: {words}" + (f"; {', '.join(said)}" if said else ""))


def finding(row: pd.Series | dict, period_label: str) -> str:
    """One plain-English sentence for a KPI: latest value, its interval, the comparison with the
    same period last year and the words of its test (from kpis.csv), and whether the figure is
    provisional. The verdict itself is shown beside it, never restated here."""
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
    comp = last_year_sentence(row)
    basis = str(row.get("comparison_basis") or "").strip()
    basis = "" if basis in ("", "nan") else f" Compared on {basis[:1].lower()}{basis[1:]}."
    provisional = ""
    if _truthy(row.get("provisional")) and not _nan(row.get("pending_share")):
        provisional = (f" Provisional: {row['pending_share']:.0f}% of these crimes still await an "
                       "outcome, so this rate will rise as investigations close.")
    return f"{val} in {period_label}{extra}; {comp}.{basis}{provisional}"
