"""The report's opening: five or six key messages, each naming a figure and what it is compared
with; what changed since the last report; and a question for the Panel on every KPI that calls
for one, naming its figure (or, for a rate too early to judge, the date from which it can be
judged).

Every list here is drawn from one list of KPIs for the Panel's attention
(:func:`kpi_lib.analyse.verdicts.flagged`, from the stored verdicts), so the messages, the
questions and the summary never disagree. The words follow the stored verdict and its evidence:
"larger than chance would explain" only where the test against last year says a real change.
Pure: result rows in, sentences out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date

import pandas as pd

from kpi_lib.config.catalogue import Kpi
from kpi_lib.present.narrative import format_value, number, shown_change, shown_difference
from kpi_lib.present.summary import plain_name

MAX_MESSAGES = 6
#: what each reason for attention asks of the force
ASK = {
    "worse": "what is behind this, and what will be done?",
    "no_longer_met": "what is behind this, and what will be done?",
    "worse_12m": "what lies behind the change over the year, and what will be done?",
    "neutral": "does it reflect more victims coming forward, or more offences, and what is being done?",
    "missing_target": "what is the plan to reach the target, and by when?",
    "unusual": "is this a lasting change, and what lies behind it?",
    "trend": "what lies behind the steady trend, and is it expected to continue?",
}


def flagged_kpis(results: pd.DataFrame) -> pd.DataFrame:
    """The KPIs for the Panel's attention (kpi_id, attention, ...): the one list the verdicts
    module keeps (:func:`kpi_lib.analyse.verdicts.flagged`), which the summary's questions and
    the count sentence also use."""
    from kpi_lib.analyse.verdicts import flagged
    return flagged(results)


def _headline(results: pd.DataFrame) -> pd.DataFrame:
    head = results[results["headline"].astype(str).str.lower().isin(["true", "1", "1.0"])]
    return head.drop_duplicates("kpi_id").set_index("kpi_id")


def subject(k: Kpi) -> str:
    """The KPI as the subject of a sentence ("Rape offences", "The share of 999 calls answered
    within 10 seconds")."""
    name = plain_name(k)
    if name.lower().startswith("volume of "):
        rest = name[len("volume of "):]
        return rest[:1].upper() + rest[1:]
    if name.startswith("%"):
        return "The share" + name[1:].replace(" of ", " of ", 1)
    return name


def _same_period(period: str) -> str:
    return "the same period last year" if "Q" not in period else "the same quarter last year"


def _real(row: Mapping) -> bool | None:
    """Whether the change against last year is a real change: True (higher or lower, a real
    change), False (no clear change: it could be chance), None (not tested, not comparable, not
    enough data, or possibly real but not confirmed: no claim either way)."""
    finding = str(row.get("last_year_finding") or "")
    if finding in ("higher", "lower"):
        return True
    if finding == "no_clear_change":
        return False
    if finding:
        return None
    sig = number(row.get("last_year_significant"))
    return None if math.isnan(sig) else sig >= 0.5


def _evidence(row: Mapping) -> str:
    """The chart's finding, where the chart found something (outside its usual range, a
    sustained shift, a steady trend): "on the chart, a steady rise since 2021" (the stored words,
    never worked out again)."""
    words = str(row.get("spc_words") or "").strip()
    if words and str(row.get("spc_finding") or "") in ("outside", "shift", "trend"):
        return f"on the chart, {words[:1].lower()}{words[1:]}"
    return ""


def flag_sentence(k: Kpi, row: Mapping, period: str) -> str:
    """A yes/no KPI: "Financial outturn is within the agreed budget: no this year (yes last year):
    £280.71m against a budget of £279.83m"."""
    v, ly = number(row.get("value")), number(row.get("last_year_value"))
    now = "yes" if v >= 0.5 else "no"
    text = f"{subject(k)}: {now} for {period}"
    if not math.isnan(ly):
        text += f" ({'yes' if ly >= 0.5 else 'no'} last year)"
    num, den = number(row.get("numerator")), number(row.get("denominator"))
    if k.id == "finance_outturn_within_budget" and not (math.isnan(num) or math.isnan(den)):
        text += f": outturn {format_value(num, 'gbp')} against a budget of {format_value(den, 'gbp')}"
    return text + "."


def _shown_unchanged(value: float, last_year: float, unit: str) -> bool:
    """Whether the change as shown rounds to nothing: "+0" or "+1 (+0.0%)" (2,516 against 2,515),
    "+0.0 points": too small to call a rise or a fall."""
    change, pct = shown_difference(value, last_year, unit)
    return change == 0 or (not math.isnan(pct) and abs(pct) < 0.05)


def change_sentence(k: Kpi, row: Mapping, period: str) -> str:
    """"Rape offences rose to 314 from 263 in the same quarter last year; the rise is larger
    than chance would explain." (the comparator at the same age for a maturing rate). A change
    that shows as nothing is no rise or fall: "Violence with injury was unchanged at 2,516 (2,515 a
    year ago)". Where the verdict rests on the chart rather than on the comparison, the chart's
    finding follows."""
    if k.unit == "flag":
        return flag_sentence(k, row, period)
    v, ly = number(row.get("value")), number(row.get("last_year_value"))
    now = format_value(v, k.unit)
    if math.isnan(ly) or str(row.get("last_year_finding") or "") == "not_comparable":
        why = str(row.get("last_year_words") or "").strip()
        why = why if why else f"there is no figure for {_same_period(period)} to compare with"
        text = f"{subject(k)} stood at {now} in {period}; {why}"
        evidence = _evidence(row)
        return text + (f"; {evidence}" if evidence else "") + "."
    before = format_value(ly, k.unit)
    same_age = not math.isnan(number(row.get("comparator_age_days"))) or \
        str(row.get("comparison_basis", "")).startswith("equal maturity")
    age = " (counted at the same age)" if same_age else ""
    if now == before:
        noun = "change"
        text = f"{subject(k)} stood at {now}, as in {_same_period(period)}{age}"
    elif _shown_unchanged(v, ly, k.unit):
        noun = "change"
        ago = "a year ago" if "Q" in period else "last year"
        text = f"{subject(k)} was unchanged at {now} ({before} {ago}{', counted at the same age' if same_age else ''})"
    else:
        verb, noun = ("rose to", "rise") if v > ly else ("fell to", "fall")
        text = f"{subject(k)} {verb} {now} from {before} in {_same_period(period)}{age}"
    real = _real(row)
    unchanged = now != before and _shown_unchanged(v, ly, k.unit)
    if real:
        text += f"; the {noun} is larger than chance would explain"
    elif real is False and not unchanged:
        text += f"; the {noun} could be chance"
    elif str(row.get("last_year_finding") or "") == "not_enough_data":
        text += "; there is not enough data to tell whether it is a real change"
    elif str(row.get("last_year_finding") or "") == "not_confirmed":
        text += f"; the {noun} is possibly real but not confirmed once the report's many tests are allowed for"
    evidence = _evidence(row)
    if evidence and real is False and not unchanged:
        text += f", but {evidence}"
    elif evidence:
        text += f"; {evidence}"
    return text + "."


#: how the quarter's own test against the same quarter last year reads beside a real 12-month change
QUARTER_ALONE = {"no_clear_change": "shows no clear change", "not_enough_data": "is too uncertain to tell",
                 "not_confirmed": "is possibly real but not confirmed once the report's many tests are allowed for"}


def twelve_month_sentence(k: Kpi, row: Mapping, with_quarter: bool = True) -> str:
    """Where the latest 12 months are worse than the 12 months before, a real change
    (:func:`kpi_lib.analyse.verdicts.worse_over_12_months`), that change in words that say which
    comparison it rests on, then what the quarter's own comparison with the same quarter last year
    says, so the two never seem to contradict each other: "Over the 12 months to March 2025 it was
    80.6 min, compared with 78.7 min in the 12 months before: +1.9 min, a real change (q < 0.001).
    The quarter alone, +1.7 min on the same quarter last year, shows no clear change." (the second
    sentence left out, ``with_quarter`` False, where the text before it has said the quarter's
    answer already). Otherwise the empty string."""
    from kpi_lib.analyse.verdicts import worse_over_12_months
    if not worse_over_12_months(row):
        return ""
    end = _period_end(row)
    r12, p12 = number(row.get("rolling12_value")), number(row.get("previous12_value"))
    q = number(row.get("change_12m_q_value"))
    q_words = "" if math.isnan(q) else f" ({'q < 0.001' if q < 0.001 else f'q = {q:.3f}'})"
    same_age = " (counted at the same age)" if not math.isnan(number(row.get("comparator_age_days"))) else ""
    text = (f"Over the 12 months to {end:%B %Y} it was {format_value(r12, k.unit)}, compared with "
            f"{format_value(p12, k.unit)} in the 12 months before{same_age}: {shown_change(r12, p12, k.unit)}, "
            f"a real change{q_words}.")
    if not with_quarter:
        return text
    v, ly = number(row.get("value")), number(row.get("last_year_value"))
    finding = str(row.get("last_year_finding") or "")
    if math.isnan(ly) or finding in ("", "not_comparable", "not_tested"):
        said = str(row.get("last_year_words") or "").strip()
        return text + (f" Against the same quarter last year, the quarter alone is {said}." if said else "")
    if finding in ("higher", "lower"):
        same_way = (finding == "higher") == (number(row.get("change_12m")) > 0)
        verdict = "is a real change too" if same_way else "is a real change the other way"
    else:
        verdict = QUARTER_ALONE.get(finding, finding.replace("_", " "))
    return text + f" The quarter alone, {shown_change(v, ly, k.unit)} on the same quarter last year, {verdict}."


def _period_end(row: Mapping) -> date:
    """The last day of the row's period (its ``period_end``, else worked out from ``period``)."""
    end = row.get("period_end")
    if end is not None and str(end) not in ("", "nan", "NaT"):
        return pd.Timestamp(end).date()
    from kpi_lib.core.periods import Period
    return Period.parse(str(row.get("period"))).end


def target_sentence(k: Kpi, row: Mapping, period: str) -> str:
    """"The share of 999 calls answered within 10 seconds was 88.2% against a target of 90.0%
    (88.2% in the same quarter last year)."."""
    now = format_value(number(row.get("value")), k.unit)
    ly = number(row.get("last_year_value"))
    last = "" if math.isnan(ly) else f" ({format_value(ly, k.unit)} in {_same_period(period)})"
    return f"{subject(k)} was {now} against a target of {format_value(k.target, k.unit)}{last}."


def too_early_sentence(k: Kpi, row: Mapping, when: date | None, threshold: float) -> str:
    pending = number(row.get("pending_share"))
    share = "" if math.isnan(pending) else f", with {pending:.0f}% of outcomes still pending"
    text = f"{subject(k)} is {format_value(number(row.get('value')), k.unit)}{share}: too early to tell"
    if when is not None:
        text += f"; it can be judged from about {when:%B %Y}, when fewer than {threshold:g}% of outcomes will be pending"
    return text + "."


def kpi_sentence(k: Kpi, row: Mapping, period: str, attention: str = "",
                 when: date | None = None, threshold: float = 10.0) -> str:
    """The key message about a KPI, by why it matters, with its 12-month change where that is
    worse, a real change (:func:`twelve_month_sentence`)."""
    if attention == "too_early" or str(row.get("verdict_code")) == "too_early":
        text = too_early_sentence(k, row, when, threshold)
    elif attention == "missing_target" or (k.target is not None and str(row.get("verdict_code")) == "missing_target"):
        text = target_sentence(k, row, period)
    else:  # the change sentence has said the quarter's own answer
        text = change_sentence(k, row, period)
        twelve = twelve_month_sentence(k, row, with_quarter=False)
        return f"{text} {twelve}" if twelve else text
    twelve = twelve_month_sentence(k, row)
    return f"{text} {twelve}" if twelve else text


def count_sentence(results: pd.DataFrame, catalogue: Sequence[Kpi], flagged: pd.DataFrame, period: str) -> str:
    """"Of the 24 budget KPIs reported for 2024/25 Q4, 6 call for the Panel's attention (...), 5
    are better than a year ago and 13 show no clear change."."""
    budget = {k.id for k in catalogue if not k.supplementary}
    head = _headline(results)
    head = head[head.index.isin(budget)]
    reported = head[head["status"] == "reported"]
    fl = flagged[flagged["kpi_id"].isin(reported.index)] if len(flagged) else flagged
    better = int((reported["verdict_code"] == "better").sum())
    n_fl = len(fl)
    parts = [f"{n_fl} call{'s' if n_fl == 1 else ''} for the Panel's attention"]
    if better:
        parts.append(f"{better} {'is' if better == 1 else 'are'} better than a year ago")
    rest = len(reported) - n_fl - better
    if rest > 0:
        parts.append(f"{rest} show{'s' if rest == 1 else ''} no clear change or {'is' if rest == 1 else 'are'} as expected")
    missing = len(head) - len(reported)
    tail = f" ({missing} cannot be reported this period)" if missing else ""
    return (f"Of the {len(reported)} budget KPIs reported for {period}{tail}, "
            + ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] + ".")


def key_messages(results: pd.DataFrame, catalogue: Sequence[Kpi], period: str,
                 judgeable: Mapping[str, date] | None = None, threshold: float = 10.0,
                 limit: int = MAX_MESSAGES) -> list[str]:
    """Five or six sentences for the front of the report, each naming its figure and comparator:
    the count, then one KPI of each kind in turn (worse, a yes/no measure no longer met, missing
    its target, unusual, a trend in the worse direction, too early to tell, worse over 12 months,
    better than a year ago), then a second of each kind, and so on, so that the front shows the
    whole picture rather than the longest list. Within a kind, a KPI whose latest 12 months are
    worse than the 12 before, a real change, comes first."""
    cat = {k.id: k for k in catalogue}
    budget = [k.id for k in catalogue if not k.supplementary]
    head = _headline(results)
    fl = flagged_kpis(results)
    fl = fl[fl["kpi_id"].isin(budget) & fl["kpi_id"].isin(head.index)] if len(fl) else fl
    out = [count_sentence(results, catalogue, fl, period)]
    kinds = ("worse", "no_longer_met", "missing_target", "unusual", "trend", "too_early", "worse_12m")
    # within a kind, a KPI whose latest 12 months are also worse, a real change, comes first
    fl = fl.sort_values("worse_12m", ascending=False, kind="stable") if "worse_12m" in fl else fl
    groups: list[list[str]] = [
        [kpi_sentence(cat[kid], head.loc[kid], period, kind, (judgeable or {}).get(kid), threshold)
         for kid in fl.loc[fl["attention"] == kind, "kpi_id"]] for kind in kinds]
    better = head[(head["verdict_code"] == "better") & head.index.isin(budget) & ~head.index.isin(set(fl["kpi_id"]))]
    groups.append([change_sentence(cat[kid], head.loc[kid], period) for kid in better.index])
    turn = 0
    while len(out) < limit and any(turn < len(g) for g in groups):
        out.extend(g[turn] for g in groups if turn < len(g))
        turn += 1
    return out[:limit]


def figure_phrase(k: Kpi, row: Mapping, attention: str = "") -> str:
    """The figure a question names, short: "314 against 263 a year ago", "88.2% against a target of
    90.0%", "no (yes last year; outturn £280.71m against a budget of £279.83m)"; for a steady trend,
    the trend from the stored chart words: "2,516, a steady rise since 2019 on the chart (2,515 a
    year ago)"."""
    v, ly = number(row.get("value")), number(row.get("last_year_value"))
    now = format_value(v, k.unit)
    if k.unit == "flag":
        text = ("yes" if v >= 0.5 else "no") + ("" if math.isnan(ly) else f" ({'yes' if ly >= 0.5 else 'no'} last year")
        num, den = number(row.get("numerator")), number(row.get("denominator"))
        if k.id == "finance_outturn_within_budget" and not (math.isnan(num) or math.isnan(den)):
            text += f"; outturn {format_value(num, 'gbp')} against a budget of {format_value(den, 'gbp')}"
        return text + ("" if math.isnan(ly) else ")")
    if attention == "missing_target" and k.target is not None:
        return f"{now} against a target of {format_value(k.target, k.unit)}"
    if math.isnan(ly):
        return now
    same_age = not math.isnan(number(row.get("comparator_age_days"))) or \
        str(row.get("comparison_basis", "")).startswith("equal maturity")
    trend = str(row.get("spc_words") or "").strip()
    if attention == "trend" and trend and str(row.get("spc_finding") or "") == "trend":
        return (f"{now}, {trend[:1].lower()}{trend[1:]} on the chart ({format_value(ly, k.unit)} a year ago"
                + (" at the same age" if same_age else "") + ")")
    return f"{now} against {format_value(ly, k.unit)} a year ago" + (" at the same age" if same_age else "")


def question(k: Kpi, row: Mapping, attention: str, when: date | None = None, threshold: float = 10.0) -> str:
    """The one question the report asks of a KPI for the Panel's attention (``attention``: why it
    is listed, :data:`kpi_lib.analyse.verdicts.ATTENTION`), naming its figure and what it is
    compared with, or, too early to tell, the date from which it can be judged (``when``). Where
    the latest 12 months are worse than the 12 before, a real change, the question says so and
    says which comparison each word rests on (:func:`twelve_month_sentence`). Both the questions
    list at the front and the one-page summary's "Question to ask" column show this text."""
    name = plain_name(k)
    twelve = twelve_month_sentence(k, row)
    if attention == "too_early":
        so_far = f"{name}, {format_value(number(row.get('value')), k.unit)} so far"
        if when is not None:
            lead = (f"{so_far}: judgeable from about {when:%B %Y}, when fewer than {threshold:g}% of outcomes "
                    "will be pending.")
            ask = "Can the Panel have the figure then?"
        else:
            lead, ask = f"{so_far}: too early to tell.", "When will enough outcomes be known to judge it?"
        return " ".join(p for p in (lead, twelve, ask) if p)
    why = "neutral" if attention == "unusual" and k.polarity == "neutral" else attention
    words = ASK.get(why, ASK["worse"])
    text = " ".join(p for p in (f"{name}: {figure_phrase(k, row, attention)}.", twelve,
                                words[:1].upper() + words[1:]) if p)
    if attention == "missing_target" and not math.isnan(number(row.get("outlook_value"))):
        from kpi_lib.analyse.outlook import outlook_words
        text += (f" The year-end outlook is {format_value(number(row['outlook_value']), k.unit)}, "
                 f"{outlook_words(number(row['outlook_p_meet']))}.")
    return text


def questions(results: pd.DataFrame, catalogue: Sequence[Kpi], period: str,
              judgeable: Mapping[str, date] | None = None, threshold: float = 10.0) -> list[tuple[str, str]]:
    """One question for every KPI for the Panel's attention (:func:`question`), naming its figure
    (or, too early to tell, the date from which it can be judged): (KPI id, question)."""
    cat = {k.id: k for k in catalogue}
    head = _headline(results)
    out = []
    for _, f in flagged_kpis(results).iterrows():
        k = cat.get(f["kpi_id"])
        if k is None or f["kpi_id"] not in head.index:
            continue
        out.append((k.id, question(k, head.loc[f["kpi_id"]], str(f["attention"]), (judgeable or {}).get(k.id),
                                   threshold)))
    return out


def changed_sentence(changes: pd.DataFrame | None, previous_name: str, names: Mapping[str, str]) -> str:
    """What changed since the last report, in one or two sentences."""
    if changes is None:
        return "This is the first report in this series."
    if changes.empty:
        return f"No KPI's verdict has changed since the last report ({previous_name})."
    items = [f"{names.get(r['kpi_id'], r['kpi_id'])} is now \"{r['verdict']}\" (was \"{r['previous_verdict']}\")"
             for _, r in changes.head(4).iterrows()]
    more = len(changes) - len(items)
    return (f"Since the last report ({previous_name}), {len(changes)} verdict{'s' if len(changes) != 1 else ''} "
            f"changed: " + "; ".join(items) + (f"; and {more} more (see What changed since the last report)" if more else "")
            + ".")


def judgeable_dates(results: pd.DataFrame, maturity: pd.DataFrame | None, measurements: pd.DataFrame | None,
                    period: str, extraction: date | None, threshold: float,
                    crime_kpis: Mapping[str, tuple[str, str]]) -> dict[str, date]:
    """For each cohort outcome rate too early to tell: the date from which it can be judged
    (:func:`kpi_lib.analyse.maturity.judgeable_from`), from the panel's maturity table and the
    monthly crime counts of its category (the category's volume KPI). ``crime_kpis``: crime KPI
    id -> (category, measure), as :func:`kpi_lib.analyse.lineage.crime_category_of` gives."""
    from kpi_lib.analyse.maturity import judgeable_from
    from kpi_lib.core.periods import Period
    if maturity is None or measurements is None or extraction is None or maturity.empty:
        return {}
    p = Period.parse(period)
    if p.is_year:
        return {}
    head = _headline(results)
    out = {}
    volumes = {cat: kpi for kpi, (cat, measure) in crime_kpis.items() if measure == "volume"}
    for kpi_id in head.index[head["verdict_code"] == "too_early"]:
        cat = crime_kpis.get(kpi_id, (None, None))[0]
        vol = volumes.get(cat)
        if cat is None or vol is None:
            continue
        m = measurements[(measurements["kpi_id"] == vol) & (measurements["window_kind"] == "month")]
        if "breakdown_dim" in m:
            m = m[m["breakdown_dim"].fillna("") == ""]
        crimes = pd.Series(m["value"].to_numpy(float), index=pd.to_datetime(m["window_start"]))
        when = judgeable_from(maturity, crimes, cat, p, extraction, threshold)
        if when is not None:
            out[kpi_id] = when
    return out
