"""One plain verdict per KPI, and the one set of symbols every output uses for it.

The Panel acts on words, so the words are computed once, here, from the statistics already in
the KPI result table (``kpis.csv``), and every table, notebook and chart shows ``verdict`` and
``VERDICTS[verdict_code]`` without restating them. Symbols are a shape plus words, never colour
alone (Making Data Count's palette fails 3:1 contrast for grey and blue on white).

The rule, first match wins (also in docs/methods.md):

1. **Cannot be reported** (``not_reported``): the status is not "reported", or there is no
   value. The words say why: not yet available, annual (reported at the year end), or not
   available from this source.
2. **Too early to tell** (``too_early``): a cohort outcome rate that is still maturing and
   cannot yet be compared fairly. That is: it has pending outcomes and no like-for-like
   comparison (``comparison_basis`` starts "not like-for-like", e.g. Home Office tables without
   outcome dates); or it is compared at equal maturity but most of its crimes (more than
   ``TOO_EARLY_PENDING_PCT``, 50%) still await an outcome, so the figure says little about the
   final rate; or it has no stated comparison basis and is provisional (more than
   ``provisional_pending_pct`` pending: the ``provisional`` column). Words: "Too early to tell
   (43% of outcomes pending)". A provisional rate compared at equal maturity with fewer than
   half its outcomes pending IS judged (rule 4): last year's cohort was counted at the same age,
   so the comparison is fair (docs/methods.md). This comes before the target because
   a rate that will still rise cannot yet be said to meet or miss one.
3. **Meeting target / Missing target** (``meeting_target`` / ``missing_target``): only where the
   KPI has a target and a direction (higher or lower is better). Met or missed is read from the
   latest value; the SPC assurance adds whether that is reliable ("consistently passing"),
   may not last ("hit and miss") or is unusual.
   A yes/no KPI (unit ``flag``, e.g. "Financial outturn is within the agreed budget") without a
   target has no sampling noise: a switch from last year is a real change ("Worse: no this year,
   yes last year"), an unchanged answer says so ("No change from last year (no)").
4. **Better / Worse, and a real change** (``better`` / ``worse``): only when the SPC signal on
   the latest point (special cause) or the test against the same period last year
   (significant at 5%) says the change is real, and the two do not point in opposite directions;
   better or worse follows the KPI's polarity. For a KPI with neutral polarity (more reporting
   of rape or domestic abuse may be good or bad) the words are **Higher / Lower, and a real
   change** (``higher`` / ``lower``).
5. **Normal ups and downs** (``normal``): otherwise, including when the chart and the test
   disagree (then the words say so).

The words name the evidence, so they never sit beside a figure that seems to contradict them:
"Worse, and a real change (the chart: a run of months on one side of its usual level; against
the same period last year it could be chance)" when only the chart signals; "(against the same
period last year; the chart shows no signal)" when only the test does; the plain label when both
agree. A real change beside a target verdict is added to it ("Missing target (consistently); and
worse, a real change (the chart: outside its usual range)"), never hidden by it. A whole
financial year is judged on the year against the year before (the test), not on the chart's
latest month: "Better than last year, and a real change".

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
    "better": Verdict("⊕", "Better, and a real change", "circled plus",
                      "The latest figure is better, and the change is more than normal ups and downs."),
    "worse": Verdict("⊖", "Worse, and a real change", "circled minus",
                     "The latest figure is worse, and the change is more than normal ups and downs."),
    "higher": Verdict("↑", "Higher, and a real change", "up arrow",
                      "Higher than usual, beyond normal ups and downs; neither better nor worse in itself."),
    "lower": Verdict("↓", "Lower, and a real change", "down arrow",
                     "Lower than usual, beyond normal ups and downs; neither better nor worse in itself."),
    "normal": Verdict("○", "Normal ups and downs", "open circle",
                      "No change beyond the usual variation."),
    "too_early": Verdict("◔", "Too early to tell", "quarter-filled circle",
                         "Many outcomes are still pending, so the figure will rise; no judgement yet."),
    "meeting_target": Verdict("✓", "Meeting target", "tick",
                              "The latest figure meets the target."),
    "missing_target": Verdict("✗", "Missing target", "cross",
                              "The latest figure misses the target."),
    "not_reported": Verdict("–", "Cannot be reported", "dash",
                            "No figure for this period; the words say why."),
}

#: The verdict symbol for an SPC point's variation, so chart markers use the same shapes as the
#: table (improvement is drawn as "better", concern as "worse", whatever side of the mean).
VARIATION_VERDICT: dict[str, str] = {
    "improvement_high": "better", "improvement_low": "better",
    "concern_high": "worse", "concern_low": "worse",
    "neutral_high": "higher", "neutral_low": "lower",
    "common_cause": "normal", "no_data": "not_reported",
}


def point_symbol(variation: str) -> Verdict:
    """The :data:`VERDICTS` entry to draw for an SPC point of the given variation."""
    return VERDICTS[VARIATION_VERDICT.get(str(variation), "not_reported")]


_STATUS_WORDS = {
    "not_yet_available": "not yet available for this period",
    "annual": "an annual measure, reported at the year end",
    "not_available_from_source": "not available from this source",
}


def _num(row: Mapping, key: str) -> float:
    v = row.get(key)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return math.nan
    return f


def _truthy(v) -> bool:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return False
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "1.0", "yes")
    return bool(v)


def _pending_words(pending: float) -> str:
    share = "under 1" if 0 < pending < 0.5 else f"{pending:.0f}"
    return f"Too early to tell ({share}% of outcomes pending)"


def _spc_direction(variation: object) -> int:
    v = str(variation or "")
    if v.startswith(("improvement_", "concern_", "neutral_")):
        return 1 if v.endswith("_high") else -1
    return 0


#: Plain words for the SPC rule behind a special-cause signal on the latest point.
RULE_WORDS = {
    "outside_limits": "outside its usual range",
    "shift": "a run of {grain}s on one side of its usual level",
    "trend": "a run of {grain}s all {direction}",
    "two_in_three": "two of the last three {grain}s near the edge of its usual range",
}


def _is_year(row: Mapping) -> bool:
    """A whole financial year ("2024/25"), not a quarter ("2024/25 Q4")."""
    period = str(row.get("period") or "")
    return bool(period) and "Q" not in period


def _chart_words(row: Mapping, direction: int) -> str:
    """Why the chart calls the latest point a real change, in words ("the chart: ...")."""
    grain = str(row.get("spc_grain") or "month")
    grain = grain if grain in ("month", "quarter") else "month"
    rule = str(row.get("spc_rule") or "")
    words = RULE_WORDS.get(rule, "beyond its usual variation")
    seasonal = " for the time of year" if _truthy(row.get("spc_seasonal")) else ""
    return "the chart: " + words.format(grain=grain, direction="rising" if direction > 0 else "falling") + seasonal


def _signal_words(row: Mapping, spc: int, test: int, tested: bool) -> str:
    """Which evidence makes a change real, so the words never sit beside a contradicting figure:
    the chart alone (and the comparison with last year could be chance, or was not tested), the
    test against last year alone, or both."""
    if spc and test:
        return ""
    if spc:
        last_year = "; against the same period last year it could be chance" if tested else ""
        return f" ({_chart_words(row, spc)}{last_year})"
    return " (against the same period last year; the chart shows no signal)"


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


def _flag_verdict(value: float, last_year: float, polarity: str) -> tuple[str, str]:
    """A yes/no KPI without a target: a yes/no answer has no sampling noise, so a switch from last
    year is a real change and an unchanged answer is said as such, never "ups and downs"."""
    answer = "yes" if value == 1 else "no"
    if math.isnan(last_year) or last_year == value:
        return "normal", f"No change from last year ({answer})" if not math.isnan(last_year) else \
            f"Answer this year: {answer}"
    direction = 1 if value > last_year else -1
    if polarity == "neutral":
        code = "higher" if direction > 0 else "lower"
    else:
        code = "better" if (direction > 0) == (polarity == "higher_better") else "worse"
    before = "yes" if last_year == 1 else "no"
    return code, f"{code.capitalize()}: {answer} this year, {before} last year"


def verdict_for(row: Mapping) -> tuple[str, str]:
    """(verdict_code, verdict words) for one KPI result row (a mapping of kpis.csv columns)."""
    status = str(row.get("status") or "")
    value = _num(row, "value")
    if status != "reported":
        why = _STATUS_WORDS.get(status, f"status is {status or 'missing'}")
        return "not_reported", f"Cannot be reported: {why}"
    if math.isnan(value):
        return "not_reported", "Cannot be reported: no value for this period"

    pending = _num(row, "pending_share")
    if not math.isnan(pending) and pending > 0:
        provisional = row.get("provisional")
        if provisional is None or (isinstance(provisional, float) and math.isnan(provisional)):
            is_provisional = pending > DEFAULT_PROVISIONAL_PCT
        else:
            is_provisional = _truthy(provisional)
        basis = str(row.get("comparison_basis") or "").lower()
        if basis.startswith("not like-for-like"):
            return "too_early", _pending_words(pending)
        if basis.startswith("equal maturity"):
            if pending > TOO_EARLY_PENDING_PCT:
                return "too_early", _pending_words(pending)
        elif is_provisional:
            return "too_early", _pending_words(pending)

    polarity = str(row.get("polarity") or "")
    target = _num(row, "target")
    year = _is_year(row)
    # A whole year is judged on the year against the year before (the test); the chart speaks of
    # its latest point, which is a month or quarter, not the year.
    spc = 0 if year else _spc_direction(row.get("spc_variation"))
    change = _num(row, "change_last_year")
    tested = not math.isnan(_num(row, "last_year_significant"))
    test = 0
    if _num(row, "last_year_significant") == 1.0 and not math.isnan(change) and change != 0:
        test = 1 if change > 0 else -1
    if not math.isnan(target) and polarity in ("higher_better", "lower_better"):
        code, words = _target_verdict(value, target, polarity == "higher_better",
                                      str(row.get("spc_assurance") or ""))
        signal = spc or test
        if signal:  # a real change beside a target verdict is said, never hidden by it
            how = "better" if (signal > 0) == (polarity == "higher_better") else "worse"
            because = _chart_words(row, spc) if spc else "against the same period last year"
            words += f"; and {how}, a real change ({because})"
        return code, words
    if str(row.get("unit") or "") == "flag":
        return _flag_verdict(value, _num(row, "last_year_value"), polarity)

    if spc and test and spc != test:
        return "normal", "Normal ups and downs (the chart and the test against last year disagree)"
    direction = spc or test
    if direction == 0:
        return "normal", VERDICTS["normal"].label
    if polarity == "neutral":
        code = "higher" if direction > 0 else "lower"
    else:
        code = "better" if (direction > 0) == (polarity == "higher_better") else "worse"
    if year:
        return code, VERDICTS[code].label.replace(", and", " than last year, and")
    return code, VERDICTS[code].label + _signal_words(row, spc, test, tested)


def add_verdicts(results: pd.DataFrame) -> pd.DataFrame:
    """The result table with ``verdict_code`` and ``verdict`` (the rule is in the module docstring).

    Pure: returns a copy; the only function that computes verdicts (engine.compute calls it once).
    """
    out = results.copy()
    pairs = [verdict_for(r) for r in out.to_dict("records")]
    out["verdict_code"] = [c for c, _ in pairs]
    out["verdict"] = [w for _, w in pairs]
    return out
