"""One plain verdict per KPI, and the one set of symbols every output uses for it.

The Panel asks two questions of a KPI, and the suite answers each on its own before combining
them (docs/methods.md):

- (a) **against the same period last year** (:mod:`kpi_lib.analyse.compare`): a like-for-like
  change with its interval and a test, after Benjamini-Hochberg across the report:
  ``last_year_finding`` is higher / lower (a real change), no_clear_change, not_enough_data,
  not_confirmed (possibly higher / lower: p below 0.05 but not after allowing for the report's
  many tests), not_comparable or not_tested, and ``last_year_words`` says it;
- (b) **over time** (:mod:`kpi_lib.analyse.overtime`): an SPC chart with limits from a recent
  window: ``spc_finding`` is outside (this period), shift (a sustained shift since a month),
  trend (a steady rise or fall since a year), within, too_few (too few points to judge) or
  none (no chart), and ``spc_words`` says it.

The verdict combines them by this precedence, first match wins:

1. **Cannot be reported** (``not_reported``): the status is not "reported", or there is no value;
   the words say why (not yet available, annual, not available from this source, or the period
   is not in the data).
2. **Too early to tell** (``too_early``): a cohort outcome rate still maturing that cannot be
   compared fairly: some outcomes pending and no like-for-like comparison; or more than
   ``TOO_EARLY_PENDING_PCT`` (50%) pending even at equal maturity; or provisional with no stated
   comparison basis.
3. **Meeting / Missing target** (``meeting_target`` / ``missing_target``): only where the KPI has a
   target and a better direction, judged on the period's value; the SPC assurance (on the
   period's points) says whether that is reliable. A real change against last year, or a chart
   finding, is added after it in words, never hidden by it.
4. **Better / Worse / Higher / Lower, a real change** (``better`` / ``worse`` / ``higher`` /
   ``lower``): only when (a) says so (q < 0.05). Higher / lower for a KPI where neither direction
   is better. The chart's finding follows. A yes/no answer that switched has no chance variation
   and no test, so it is never "a real change": it is **better: now met** / **worse: no longer
   met** (``answer_better`` / ``answer_worse``; ``answer_changed`` where neither answer is
   better), in words such as "Worse: not met this year, met last year".
5. **Unusual on the chart** (``unusual``): (b) finds the period outside its usual range or a
   sustained shift, and (a) does not find a real change. The words say "above" or "below",
   never "better" or "worse": a chart signal is never called a real change.
6. **A steady trend** (``trend``): (b) finds a steady rise or fall since a year, (a) no real change.
7. **Not enough data to tell** (``unclear``): (a) cannot tell (the interval is wider than the
   practical margin, or too few events) and the chart shows nothing unusual, or there are too few
   points on the chart and no answer from (a).
8. **No clear change** (``normal``): otherwise; the words give both answers. A change that is
   possibly real but not confirmed once the report's many tests are allowed for is no clear
   change, its words say "possibly higher (or lower) on a year ago, not confirmed ...".

The words always name the evidence ("on a year ago", "on the chart"), so
they never sit beside a figure that seems to contradict them. The quarter and the year use this
same rule (for a year, "last year" and "this year"). ``verdict_direction`` says which way the
verdict's words point (better, worse, higher, lower, or empty); :func:`flagged` is the one list
of KPIs for the Panel's attention, from which every list in the report is drawn.

"On track" is never said: meeting or missing appears only where a target exists.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

DEFAULT_PROVISIONAL_PCT = 10.0
# Above this share of outcomes pending, even an equal-maturity comparison is "too early".
TOO_EARLY_PENDING_PCT = 50.0


@dataclass(frozen=True)
class Verdict:
    """How a verdict is drawn: ``symbol`` (a Unicode shape that differs from every other verdict's),
    ``label`` (the words shown beside it in a key), ``shape_name`` (the shape in words, for
    screen readers and chart markers) and ``meaning`` (one sentence for the report's key)."""

    symbol: str
    label: str
    shape_name: str
    meaning: str = ""


VERDICTS: dict[str, Verdict] = {
    "better": Verdict("⊕", "Better, a real change", "circled plus",
                      "Better than the same period last year, by more than chance would give."),
    "worse": Verdict("⊖", "Worse, a real change", "circled minus",
                     "Worse than the same period last year, by more than chance would give."),
    "higher": Verdict("↑", "Higher, a real change", "up arrow",
                      "Higher than the same period last year, by more than chance would give; "
                      "neither better nor worse in itself."),
    "lower": Verdict("↓", "Lower, a real change", "down arrow",
                     "Lower than the same period last year, by more than chance would give; "
                     "neither better nor worse in itself."),
    "answer_better": Verdict("⊞", "Better: a yes/no measure now met", "squared plus",
                             "A yes/no measure met this year and not last year; a yes/no answer has no "
                             "chance variation, so no test is needed."),
    "answer_worse": Verdict("⊟", "Worse: a yes/no measure no longer met", "squared minus",
                            "A yes/no measure not met this year and met last year; a yes/no answer has no "
                            "chance variation, so no test is needed."),
    "answer_changed": Verdict("⊡", "Changed: a yes/no answer", "squared dot",
                              "A yes/no answer that differs from last year's, where neither answer is better."),
    "unusual": Verdict("◇", "Unusual on the chart", "diamond",
                       "Outside its usual range, or a sustained shift, on the chart this period; "
                       "not a real change against last year."),
    "trend": Verdict("⋰", "A steady trend", "rising dots",
                     "Rising or falling steadily for years on the chart; not a change this period."),
    "normal": Verdict("○", "No clear change", "open circle",
                      "No real change against last year and nothing unusual on the chart."),
    "unclear": Verdict("◌", "Not enough data to tell", "dotted circle",
                       "The figures are too few or too uncertain to say whether it changed."),
    "too_early": Verdict("◔", "Too early to tell", "quarter-filled circle",
                         "Many outcomes are still pending, so the figure will rise; no judgement yet."),
    "meeting_target": Verdict("✓", "Meeting target", "tick",
                              "The figure for the period meets the target."),
    "missing_target": Verdict("✗", "Missing target", "cross",
                              "The figure for the period misses the target."),
    "not_reported": Verdict("–", "Cannot be reported", "dash",
                            "No figure for this period; the words say why."),
}

#: The verdict symbol for an SPC point's variation, so chart markers use the same shapes as the
#: table (improvement is drawn as "better", concern as "worse", whatever side of the mean).
VARIATION_VERDICT: dict[str, str] = {
    "improvement_high": "better", "improvement_low": "better",
    "concern_high": "worse", "concern_low": "worse",
    "neutral_high": "higher", "neutral_low": "lower",
    "common_cause": "normal", "no_data": "not_reported", "not_judged": "not_reported",
}


def point_symbol(variation: str) -> Verdict:
    """The :data:`VERDICTS` entry to draw for an SPC point of the given variation."""
    return VERDICTS[VARIATION_VERDICT.get(str(variation), "not_reported")]


_STATUS_WORDS = {
    "not_yet_available": "not yet available for this period",
    "annual": "an annual measure, reported at the year end",
    "not_available_from_source": "not available from this source",
    "not_in_data": "this period is not in the data",
}


def _num(row: Mapping, key: str) -> float:
    v = row.get(key)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f


def _str(row: Mapping, key: str) -> str:
    v = row.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


def _truthy(v) -> bool:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return False
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "1.0", "yes")
    return bool(v)


def _pending_words(pending: float) -> str:
    share = "under 1" if 0 < pending < 0.5 else f"{pending:.0f}"
    return f"Too early to tell ({share}% of outcomes pending)"


def _is_year(row: Mapping) -> bool:
    """A whole financial year ("2024/25"), not a quarter ("2024/25 Q4")."""
    period = _str(row, "period")
    return bool(period) and "Q" not in period


def _against(row: Mapping) -> str:
    """The comparison, said short: "a year ago" (the same quarter a year before) or "last year"
    (a whole year against the year before)."""
    return "last year" if _is_year(row) else "a year ago"


def _direction_word(direction: int, polarity: str) -> str:
    """better / worse for a KPI with a better direction; higher / lower otherwise."""
    if direction == 0:
        return ""
    if polarity in ("higher_better", "lower_better"):
        return "better" if (direction > 0) == (polarity == "higher_better") else "worse"
    return "higher" if direction > 0 else "lower"


def _target_verdict(value: float, target: float, higher_better: bool, assurance: str) -> tuple[str, str]:
    met = value >= target if higher_better else value <= target
    qualifier = {
        (True, "consistent_pass"): "", (True, "hit_and_miss"): " (hit and miss: may not last)",
        (True, "consistent_fail"): " (unusual: the chart says it is usually missed)",
        (False, "consistent_fail"): " (consistently)",
        (False, "hit_and_miss"): " (hit and miss: may be met)",
        (False, "consistent_pass"): " (unusual: the chart says it is usually met)",
    }.get((met, assurance), "")
    if met:
        return "meeting_target", "Meeting target" + qualifier
    return "missing_target", "Missing target" + qualifier


def _last_year_direction(row: Mapping) -> int:
    f = _str(row, "last_year_finding")
    return 1 if f == "higher" else -1 if f == "lower" else 0


def _chart_clause(row: Mapping) -> str:
    """The over-time answer as a clause: "nothing unusual on the chart" (within its usual range),
    "a steady rise since 2019 on the chart"."""
    words = _str(row, "spc_words")
    if not words or _str(row, "spc_finding") in ("", "none"):
        return ""
    if _str(row, "spc_finding") == "too_few":  # "too few points to judge (4 of 12)"
        return words.replace("too few points", "too few points on the chart", 1)
    if _str(row, "spc_finding") == "within":
        return "nothing unusual on the chart"
    return f"{words} on the chart"


def _last_year_clause(row: Mapping) -> str:
    """The last-year answer as a short clause naming the comparison ("no clear change on a year
    ago"; "not comparable: 2023/24 Q4 is not in the data"; "not tested on a year ago"); its
    interval and test are in ``last_year_words``, shown beside the change."""
    words = _str(row, "last_year_words")
    finding = _str(row, "last_year_finding")
    against = _against(row)
    if not words:
        return ""
    if finding == "not_tested":
        return f"not tested on {against}"
    if finding == "not_comparable":
        return words
    if finding == "not_confirmed":  # "possibly higher on a year ago, not confirmed once ... allowed for"
        head, _, rest = words.partition(" (")[0].partition(", ")
        return f"{head} on {against}, {rest}" if rest else f"{head} on {against}"
    for head in ("no clear change", "not enough data to tell", "higher, a real change", "lower, a real change"):
        if words.startswith(head):
            return f"{head} on {against}"
    return words


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def answer_words(direction: int, polarity: str) -> str:
    """A yes/no measure whose answer changed (``direction`` +1: now yes, last year no; -1: the
    other way), in words that claim no test (a yes/no answer has no chance variation): "Worse: not
    met this year, met last year", "Better: met this year, not met last year"; where neither
    answer is better, "Changed: yes this year, no last year". "Met" is the better answer: yes
    where higher is better, no where lower is better."""
    if polarity not in ("higher_better", "lower_better"):
        now, then = ("yes", "no") if direction > 0 else ("no", "yes")
        return f"Changed: {now} this year, {then} last year"
    if _direction_word(direction, polarity) == "better":
        return "Better: met this year, not met last year"
    return "Worse: not met this year, met last year"


def worse_over_12_months(row: Mapping) -> bool:
    """Whether a quarter's KPI row has a real change for the worse over the latest 12 months against
    the 12 months before (``change_12m_significant``: q below the false discovery rate, after
    Benjamini-Hochberg across the report's 12-month tests), whatever its verdict, which rests on
    the quarter. False for a whole year (its comparison with last year is the 12-month one), a
    KPI where neither direction is better, and a row that is not reported."""
    if _str(row, "status") != "reported" or _is_year(row):
        return False
    significant, change = _num(row, "change_12m_significant"), _num(row, "change_12m")
    if math.isnan(significant) or significant < 0.5 or math.isnan(change) or change == 0:
        return False
    return _direction_word(1 if change > 0 else -1, _str(row, "polarity")) == "worse"


def verdict_parts(row: Mapping) -> tuple[str, str, str]:
    """(verdict_code, verdict words, verdict_direction) for one KPI result row (a mapping of
    kpis.csv columns); the rule is in the module docstring."""
    status = _str(row, "status")
    value = _num(row, "value")
    if status != "reported":
        why = _STATUS_WORDS.get(status, f"status is {status or 'missing'}")
        return "not_reported", f"Cannot be reported: {why}", ""
    if math.isnan(value):
        return "not_reported", "Cannot be reported: no value for this period", ""

    pending = _num(row, "pending_share")
    if not math.isnan(pending) and pending > 0:
        provisional = row.get("provisional")
        if provisional is None or (isinstance(provisional, float) and math.isnan(provisional)):
            is_provisional = pending > DEFAULT_PROVISIONAL_PCT
        else:
            is_provisional = _truthy(provisional)
        basis = _str(row, "comparison_basis").lower()
        if basis.startswith("not like-for-like"):
            return "too_early", _pending_words(pending), ""
        if basis.startswith("equal maturity"):
            if pending > TOO_EARLY_PENDING_PCT:
                return "too_early", _pending_words(pending), ""
        elif is_provisional:
            return "too_early", _pending_words(pending), ""

    polarity = _str(row, "polarity")
    target = _num(row, "target")
    ly = _str(row, "last_year_finding")
    chart = _str(row, "spc_finding")
    chart_dir = int(_num(row, "spc_direction")) if not math.isnan(_num(row, "spc_direction")) else 0
    real = _direction_word(_last_year_direction(row), polarity)
    flag = _str(row, "unit") == "flag"
    against = "last year" if flag else _against(row)
    if flag and real:
        real_clause = answer_words(_last_year_direction(row), polarity)
    elif real:
        real_clause = f"{real} than {against}, a real change"
    else:
        real_clause = ""
    signal = chart in ("outside", "shift", "trend")

    if not math.isnan(target) and polarity in ("higher_better", "lower_better"):
        code, words = _target_verdict(value, target, polarity == "higher_better",
                                      _str(row, "spc_assurance"))
        extra = _join(real_clause[:1].lower() + real_clause[1:], _chart_clause(row) if signal else "")
        return code, words + (f"; {extra}" if extra else ""), real
    if flag and real:
        code = {"better": "answer_better", "worse": "answer_worse"}.get(real, "answer_changed")
        return code, real_clause, real if code != "answer_changed" else ""
    if real:
        return real, _sentence(_join(real_clause, _chart_clause(row))), real
    if chart in ("outside", "shift"):
        return ("unusual", "Unusual on the chart: " + _join(_str(row, "spc_words"), _last_year_clause(row)),
                _direction_word(chart_dir, polarity))
    if chart == "trend":
        return ("trend", _sentence(_join(_chart_clause(row), _last_year_clause(row))),
                _direction_word(chart_dir, polarity))
    if ly == "not_enough_data":
        return "unclear", _sentence(_join(_last_year_clause(row), _chart_clause(row))), ""
    if chart in ("too_few", "none", "") and ly in ("not_comparable", "not_tested", ""):
        return "unclear", "Not enough data to tell: " + _join(_last_year_clause(row), _chart_clause(row)), ""
    if ly == "no_clear_change" and chart == "within":
        return "normal", f"No clear change on {against} or on the chart", ""
    if ly in ("no_clear_change", "not_confirmed"):
        return "normal", _sentence(_join(_last_year_clause(row), _chart_clause(row))), ""
    return "normal", _sentence(_join(_chart_clause(row), _last_year_clause(row))), ""


def verdict_for(row: Mapping) -> tuple[str, str]:
    """(verdict_code, verdict words) for one KPI result row (see :func:`verdict_parts`)."""
    code, words, _ = verdict_parts(row)
    return code, words


def add_verdicts(results: pd.DataFrame) -> pd.DataFrame:
    """The result table with ``verdict_code``, ``verdict`` (the words) and ``verdict_direction``
    (the rule is in the module docstring).

    Pure: returns a copy; the only function that computes verdicts (engine.compute calls it once).
    """
    out = results.copy()
    parts = [verdict_parts(r) for r in out.to_dict("records")]
    out["verdict_code"] = [c for c, _, _ in parts]
    out["verdict"] = [w for _, w, _ in parts]
    out["verdict_direction"] = [d for _, _, d in parts]
    return out


#: Why a KPI is for the Panel's attention, most pressing first (see :func:`flagged`).
ATTENTION = {
    "worse": "worse than last year, a real change",
    "no_longer_met": "a yes/no measure no longer met (no test is needed)",
    "missing_target": "missing its target",
    "unusual": "unusual on the chart, or a real change in a KPI where neither direction is better",
    "trend": "a steady trend in the worse direction",
    "too_early": "too early to tell",
    "worse_12m": "worse over the latest 12 months than the 12 months before, a real change",
}


def flagged(results: pd.DataFrame) -> pd.DataFrame:
    """The KPIs for the Panel's attention, from the stored verdicts alone: the one list from which
    the report's count sentence, key messages, commentary checklist and questions are all drawn,
    so that they never disagree with the verdicts or with each other.

    One row per KPI (its headline row), in the table's order, with ``attention`` (a key of
    :data:`ATTENTION`) and ``supplementary``. A KPI is flagged when its verdict's words say
    worse (``verdict_direction`` "worse": a real change for the worse against last year, with or
    without a target), a yes/no measure is no longer met, it misses its target, it is unusual on
    the chart or changed for real where neither direction is better (higher / lower), a steady
    trend runs in the worse direction, or it is too early to tell; and, whatever its verdict (which
    rests on the quarter), when its latest 12 months are worse than the 12 months before, a real
    change (:func:`worse_over_12_months`). A KPI flagged for several reasons takes the first in
    :data:`ATTENTION`'s order, ``worse_12m`` last. Columns: kpi_id, name, verdict_code, verdict,
    verdict_direction, attention, supplementary, worse_12m (whether the 12-month change is real
    and for the worse, whatever the reason it is listed). Pure.
    """
    cols = ["kpi_id", "name", "verdict_code", "verdict", "verdict_direction", "attention", "supplementary",
            "worse_12m"]
    if results is None or results.empty or "verdict_code" not in results:
        return pd.DataFrame(columns=cols)
    head = results[results["headline"].map(_truthy)] if "headline" in results else results
    head = head.drop_duplicates("kpi_id") if "kpi_id" in head else head
    rows = []
    for r in head.to_dict("records"):
        code = _str(r, "verdict_code")
        direction = _str(r, "verdict_direction")
        worse_12m = worse_over_12_months(r)
        if code == "answer_worse":
            attention = "no_longer_met"
        elif code == "worse" or (direction == "worse" and code not in ("missing_target", "unusual", "trend")):
            attention = "worse"
        elif code == "missing_target":
            attention = "missing_target"
        elif code in ("higher", "lower") or (code == "unusual" and direction != "better"):
            attention = "unusual"
        elif code == "trend" and direction == "worse":
            attention = "trend"
        elif code == "too_early":
            attention = "too_early"
        elif worse_12m:
            attention = "worse_12m"
        else:
            continue
        rows.append({"kpi_id": _str(r, "kpi_id") or _str(r, "name"), "name": _str(r, "name"), "verdict_code": code,
                     "verdict": _str(r, "verdict"), "verdict_direction": direction,
                     "attention": attention, "supplementary": _truthy(r.get("supplementary")),
                     "worse_12m": worse_12m})
    return pd.DataFrame(rows, columns=cols)
