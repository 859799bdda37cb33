"""The Panel's summaries, built from the KPI result table and never recomputed.

Two tables:

- :func:`verdict_table` / :func:`verdict_table_html`: the one-page "Is it real?" summary, one row
  per budget KPI in Table 1 order with the latest value and the basis it is on, a sparkline from
  the same quarter last year to the latest (``results/history.csv``, on the basis the KPI is
  judged on: a cohort rate at the same age), the verdict (``verdict`` / ``verdict_code`` from
  ``kpis.csv``, shown with the symbol of :data:`kpi_lib.analyse.verdicts.VERDICTS`), the change
  against the same period last year with the comparator it was judged against ("+1.5 points on
  6.5% at the same age", the difference of the values as shown) and the answer of its test,
  a link to the KPI's section and, for every KPI that :func:`kpi_lib.analyse.verdicts.flagged`
  lists, the question the front of the report asks of it (:func:`kpi_lib.present.messages.question`:
  one source for both).
- :func:`summary_table` / :func:`summary_html`: the full Table 1 layout (plan priority,
  improvement area, the 2023 paper's status in the force PMF).

Every function here is pure (frames in, frame or string out); the HTML escapes every string and
carries each figure's source value in ``data-value`` so tests can check the page against
``results/kpis.csv``.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from kpi_lib.analyse.verdicts import flagged
from kpi_lib.config.catalogue import Kpi
from kpi_lib.present.narrative import (
    STATUS_TEXT,
    assurance_text,
    format_value,
    number,
    shown_change,
    significance_words,
    unit_words,
    variation_text,
)

NO_VERDICT = "No verdict in this run"


def kpi_anchor(kpi_id: str) -> str:
    """The id of a KPI's section in the report (its card in the family section)."""
    return f"kpi-{kpi_id}"


def plain_name(kpi: Kpi) -> str:
    """A short plain-English name for the one-page summary. Table 1's wording stays verbatim in
    the Table 1 layout; here "TRC - % outcome 1 & 1A" reads "Total recorded crime: % charged or
    summonsed", and a long "Topic - % of respondents ..." name keeps its topic and measure."""
    name = kpi.name.strip()
    name = re.sub(r"^TRC\b", "Total recorded crime", name)
    m = re.match(r"^(.*?)\s*-\s*% outcome 1 & 1A$", name)
    if m:
        name = f"{m.group(1)}: % charged or summonsed"
    else:
        m = re.match(r"^(.*?)\s+-\s+(.*)$", name)
        if m and len(name) > 60:
            topic = m.group(1)
            name = f"{topic[:1].upper()}{topic[1:].lower()}"
    name = name.replace("VFM", "value for money")
    for word in ("Robbery", "Burglary", "Outturn", "External Auditors"):  # sentence case after the first word
        name = re.sub(rf"(?<=\S )\b{word}\b", word.lower(), name)
    return name


def _str(x: Any) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x) else str(x)


def short_significance_words(test: Any, p_value: Any, significant: Any) -> str:
    """The test in a few words for the printed one-page summary: the p-value and what it means,
    or, where there is no p-value, the test's own words (e.g. "too few events to test (7)")."""
    p = number(p_value)
    if math.isnan(p):
        return significance_words(test, p_value, significant)
    sig = number(significant)
    text = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
    if not math.isnan(sig):
        text += ", real" if sig >= 0.5 else ", chance"
    return text


def clean_test_words(text: str) -> str:
    """A test's words with no raw unit codes: "no test for a change in tco2e" reads "... in
    tonnes of CO2e", "... in flag" reads "... in a yes/no measure"."""
    return unit_words(text)


#: the answer against last year in a few words, from ``last_year_finding``
FINDING_WORDS = {"higher": "a real change", "lower": "a real change", "no_clear_change": "no clear change",
                 "not_enough_data": "not enough data to tell", "not_confirmed": "possibly, not confirmed",
                 "not_comparable": "not comparable",
                 "not_tested": "not tested"}


#: beside a yes/no measure's change: a yes/no answer has no chance variation, so no test is needed
NO_TEST_NEEDED = "a yes/no answer: no test needed"


def plain_test_word(p_value: Any, significant: Any, finding: Any = None, unit: Any = None) -> str:
    """The answer against last year in the Panel's words, from ``last_year_finding`` where the
    row has it: "a real change", "no clear change", "not enough data to tell", "possibly, not
    confirmed" (p below 0.05 but not after allowing for the report's many tests), "not comparable"
    or "not tested"; from the significance alone otherwise ("could be chance"). A yes/no measure
    (``unit`` "flag") compared with last year reads "a yes/no answer: no test needed": it has no
    chance variation, and "a real change" is kept for a tested difference."""
    f = _str(finding)
    if _str(unit) == "flag" and f in ("higher", "lower", "no_clear_change"):
        return NO_TEST_NEEDED
    if f:
        return FINDING_WORDS.get(f, f.replace("_", " "))
    sig = number(significant)
    if math.isnan(sig):
        return "not tested"
    return "a real change" if sig >= 0.5 else "could be chance"


def comparator_text(r: Mapping[str, Any], unit: str) -> str:
    """The comparison with the same period last year as shown on a row: the change as the
    difference of the values shown and the comparator it was judged against: "+1.5 points on 6.5%
    at the same age", "+121 (+0.6%) on 19,726", or why there is none."""
    if _str(r.get("status")) != "reported" or pd.isna(r.get("value")):
        return "—"
    finding = _str(r.get("last_year_finding"))
    if finding == "not_comparable" or pd.isna(r.get("last_year_value")):
        words = _str(r.get("last_year_words"))
        return words[:1].upper() + words[1:] if words else "—"
    if unit == "flag":  # "from Yes to No" names both values already
        return shown_change(r["value"], r["last_year_value"], unit)
    same_age = " at the same age" if not pd.isna(number(r.get("comparator_age_days"))) else ""
    return (f"{shown_change(r['value'], r['last_year_value'], unit)} on "
            f"{format_value(r['last_year_value'], unit)}{same_age}")


SPARK_QUARTERS = 5  # the same quarter last year to the latest: the ends compare like with like


def sparkline_series(history: pd.DataFrame | None, kpi_id: str, basis: str, n: int = SPARK_QUARTERS) -> pd.DataFrame:
    """The last ``n`` quarters of one KPI's headline value from ``results/history.csv``
    (columns label, value; value NaN where the quarter was not reported), on the basis the KPI is
    judged on (``same_age_value``: a cohort rate at the same age as the latest quarter)."""
    cols = ["label", "value"]
    if history is None or history.empty:
        return pd.DataFrame(columns=cols)
    h = history[history["kpi_id"] == kpi_id]
    if "basis" in h:
        b = h["basis"].fillna("").astype(str)
        if (b == basis).any():
            h = h[b == basis]
    label_col = next((c for c in ("quarter", "label", "quarter_label", "period") if c in h), None)
    h = h.sort_values("period_start").tail(n)
    column = "same_age_value" if "same_age_value" in h else "value"
    values = pd.to_numeric(h[column], errors="coerce").astype(float)
    if "status" in h:
        values = values.where(h["status"].fillna("reported").eq("reported"))
    labels = h[label_col].astype(str) if label_col else pd.to_datetime(h["period_start"]).dt.strftime("%b %Y")
    return pd.DataFrame({"label": labels.to_list(), "value": values.to_list()})


def sparkline_alt(series: pd.DataFrame, unit: str, name: str, same_age: bool = False) -> str:
    """Alt text for a sparkline: the span, the same quarter a year apart, lowest and highest."""
    s = series.dropna(subset=["value"])
    if s.empty:
        return f"{name}: no quarterly history to draw."
    last = series.iloc[-1]
    lo, hi = s.loc[s["value"].idxmin()], s.loc[s["value"].idxmax()]
    f = lambda v: format_value(v, unit)  # noqa: E731
    text = f"{name}, {series['label'].iloc[0]} to {series['label'].iloc[-1]}"
    if same_age:
        text += ", each quarter counted at the same age as the latest"
    first = series.iloc[0]
    if len(series) == SPARK_QUARTERS and not pd.isna(first["value"]) and not pd.isna(last["value"]):
        text += f": {f(first['value'])} a year before, {f(last['value'])} now"
    elif not pd.isna(last["value"]):
        text += f": {f(last['value'])} now"
    text += f"; lowest {f(lo['value'])} ({lo['label']}), highest {f(hi['value'])} ({hi['label']})."
    missing = len(series) - len(s)
    if missing:
        text += f" {missing} quarter{'s' if missing > 1 else ''} not in the data or not reported."
    return text


def sparkline_ends(series: pd.DataFrame, unit: str) -> tuple[str, str]:
    """The values shown at the ends of a sparkline: the same quarter a year apart (the first and
    last of its five quarters); only the latest when the quarter a year before has no value."""
    if series is None or series.empty:
        return "", ""
    last = series["value"].iloc[-1]
    if pd.isna(last):
        return "", ""
    first = series["value"].iloc[0] if len(series) == SPARK_QUARTERS else math.nan
    return ("" if pd.isna(first) else format_value(first, unit)), format_value(last, unit)


def sparkline_svg(series: pd.DataFrame, alt: str, width: int = 88, height: int = 24) -> str:
    """A small inline SVG line (role img, with the alt text as its accessible name and title).
    Gaps where a quarter was not reported; the latest point is marked."""
    e = html.escape
    vals = [number(v) for v in series["value"]] if len(series) else []
    ok = [v for v in vals if not math.isnan(v)]
    head = (f'<svg class="spark" role="img" aria-label="{e(alt)}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><title>{e(alt)}</title>')
    if not ok:
        return head + "</svg>"
    lo, hi = min(ok), max(ok)
    span = hi - lo or 1.0
    step = (width - 6) / max(len(vals) - 1, 1)
    pts: list[list[tuple[float, float]]] = [[]]
    last_xy = None
    for i, v in enumerate(vals):
        if math.isnan(v):
            if pts[-1]:
                pts.append([])
            continue
        xy = (3 + i * step, height - 3 - (v - lo) / span * (height - 6))
        pts[-1].append(xy)
        last_xy = xy
    lines = "".join(
        '<polyline fill="none" stroke="#12436D" stroke-width="1.6" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in seg) + '"/>'
        for seg in pts if len(seg) > 1)
    dot = f'<circle cx="{last_xy[0]:.1f}" cy="{last_xy[1]:.1f}" r="2.4" fill="#0b0c0c"/>' if last_xy else ""
    return head + lines + dot + "</svg>"


def _verdict_parts(row: pd.Series, verdicts: Mapping[str, Any]) -> tuple[str, str, str]:
    """(code, symbol, words) of a row's verdict, read from kpis.csv and the one symbol set."""
    code = _str(row.get("verdict_code")).strip()
    words = _str(row.get("verdict")).strip()
    if not code:
        return "", "–", NO_VERDICT
    v = verdicts.get(code)
    symbol = getattr(v, "symbol", "") if v is not None else ""
    return code, symbol or "–", words or (getattr(v, "label", "") if v is not None else code)


BASIS_NOTE = {"cohort": "cohort", "in_period": "in-period"}


def latest_parts(r: Mapping[str, Any], unit: str) -> tuple[str, str]:
    """The latest value and the basis it is on: ("8.0%", "cohort, provisional"),
    ("12.6 min", "median"), ("19,847", ""); the status in words when not reported."""
    if _str(r.get("status")) != "reported" or pd.isna(r.get("value")):
        return STATUS_TEXT.get(_str(r.get("status")), _str(r.get("status"))), ""
    notes = []
    if _str(r.get("basis")) in BASIS_NOTE:
        notes.append(BASIS_NOTE[_str(r.get("basis"))])
    elif unit == "minutes":
        notes.append("median")
    if str(r.get("provisional")).strip().lower() in ("true", "1", "1.0"):
        notes.append("provisional")
    return format_value(r["value"], unit), ", ".join(notes)


def latest_text(r: Mapping[str, Any], unit: str) -> str:
    """The latest value with the basis it is on, stated beside it: "8.0% (cohort, provisional)",
    "12.6 min (median)", "19,847"."""
    value, note = latest_parts(r, unit)
    return value + (f" ({note})" if note else "")


def verdict_table(results: pd.DataFrame, catalogue: list[Kpi], history: pd.DataFrame | None,
                  verdicts: Mapping[str, Any], judgeable: Mapping[str, Any] | None = None,
                  threshold: float = 10.0) -> pd.DataFrame:
    """One row per budget KPI (headline row), in Table 1 order: everything the one-page summary
    shows, as plain values and words. A KPI that :func:`kpi_lib.analyse.verdicts.flagged` lists
    gets the question the front of the report asks of it (:func:`kpi_lib.present.messages.question`,
    naming its figure, or for a rate too early to tell the date in ``judgeable`` from which it can
    be judged, with ``threshold`` the share of outcomes pending then)."""
    from kpi_lib.present.messages import question

    attention = dict(zip(*(lambda f: (f["kpi_id"], f["attention"]))(flagged(results)), strict=True))
    rows = []
    for k, head in _budget_headline_rows(results, catalogue):
        r = head.loc[k.id]
        reported = r["status"] == "reported" and not pd.isna(r["value"])
        code, symbol, words = _verdict_parts(r, verdicts)
        name = plain_name(k)
        series = sparkline_series(history, k.id, _str(r.get("basis")))
        if k.unit == "flag":  # a yes/no KPI: no line to draw
            series = series.iloc[:0]
        same_age = not pd.isna(number(r.get("comparator_age_days")))
        alt = (f"{name}: a yes/no measure, no trend line." if k.unit == "flag"
               else sparkline_alt(series, k.unit, name, same_age))
        first, last = sparkline_ends(series, k.unit)
        rows.append({
            "kpi_id": k.id, "kpi": name, "table1_name": k.name, "anchor": kpi_anchor(k.id),
            "value": float(r["value"]) if reported else math.nan,
            "latest": latest_text(r, k.unit), "latest_note": latest_parts(r, k.unit)[1],
            "spark_alt": alt, "spark_svg": "" if k.unit == "flag" else sparkline_svg(series, alt),
            "spark_first": first, "spark_last": last,
            "verdict_code": code, "verdict_symbol": symbol, "verdict": words,
            "verdict_direction": _str(r.get("verdict_direction")),
            "vs_last_year": comparator_text(r, k.unit) if reported else "—",
            **_test_columns(r, reported),
            "question": question(k, r, attention[k.id], (judgeable or {}).get(k.id), threshold)
            if k.id in attention else "",
        })
    return pd.DataFrame(rows)


def _budget_headline_rows(results: pd.DataFrame, catalogue: list[Kpi]):
    """(KPI, its headline row) for each budget KPI with a result, in Table 1 order."""
    head = results[results["headline"].astype(str).str.lower().isin(["true", "1", "1.0"])]
    head = head.drop_duplicates("kpi_id").set_index("kpi_id")
    for k in catalogue:
        if not k.supplementary and k.id in head.index:
            yield k, head


def _test_columns(r: Mapping[str, Any], reported: bool) -> dict[str, str]:
    """The answer against last year in three lengths (full words, short, plain), for one row."""
    if not reported:
        return {"last_year_test": "", "last_year_test_short": "", "last_year_plain": ""}
    words = _str(r.get("last_year_words"))
    # where the stored answer is given, it says what the test means: no "could be chance" beside it
    args = (r.get("last_year_test"), r.get("last_year_p_value"),
            math.nan if words else r.get("last_year_significant"))
    full = clean_test_words(significance_words(*args))
    q = number(r.get("last_year_q_value"))
    q_words = "" if math.isnan(q) else ("q < 0.001" if q < 0.001 else f"q = {q:.3f}")
    if q_words:
        full += f"; {q_words} across the report's tests"
    short = clean_test_words(short_significance_words(*args))
    if q_words and short.startswith("p "):
        short += f", {q_words}"
    finding = _str(r.get("last_year_finding"))
    if finding == "not_comparable":
        plain = ""
    elif not pd.isna(r.get("change_last_year")) or finding:
        plain = plain_test_word(r.get("last_year_p_value"), r.get("last_year_significant"), finding, r.get("unit"))
    else:
        plain = ""
    return {
        "last_year_test": f"{words[:1].upper()}{words[1:]}. {full}" if words else full,
        "last_year_test_short": short,
        "last_year_plain": plain,
    }


def verdict_key_html(verdicts: Mapping[str, Any], used: Any = None) -> str:
    """The key to the verdict symbols (shape plus words), from the one symbol set: every verdict,
    or only those ``used`` (the codes the table shows) when given."""
    e = html.escape
    shown = {c: v for c, v in verdicts.items() if used is None or c in set(used)}
    items = "".join(f'<span><span class="verdict-symbol" aria-hidden="true">{e(getattr(v, "symbol", ""))}</span>'
                    f'{e(getattr(v, "label", code))}</span>' for code, v in shown.items())
    return f'<p class="key"><strong>Key:</strong> {items}</p>' if items else ""


def verdict_table_html(table: pd.DataFrame, caption: str) -> str:
    """The one-page summary as an accessible table inside its own scrolling box (phone width)."""
    e = html.escape
    heads = ["Budget KPI", "Verdict", "Latest",
             '<span class="screen-only">Same quarter last year to now</span><span class="print-only">Trend</span>',
             '<span class="screen-only">Change on same period last year</span>'
             '<span class="print-only">Change on last year</span>', "Question to ask"]
    out = [f'<div class="table-scroll" role="region" aria-label="{e(caption)}" tabindex="0">'
           f'<table class="verdicts"><caption>{e(caption)}</caption>'
           '<colgroup><col class="c-kpi"><col class="c-verdict"><col class="c-latest"><col class="c-spark">'
           '<col class="c-change"><col class="c-question"></colgroup><thead><tr>']
    out += [f'<th scope="col">{h}</th>' for h in heads]
    out.append("</tr></thead><tbody>")
    for _, r in table.iterrows():
        val = "" if pd.isna(r["value"]) else repr(float(r["value"]))
        code = r["verdict_code"] or "none"
        # a yes/no answer that changed is shaded as its direction (better or worse), as a tested change is
        shade = f" v-{r['verdict_direction']}" if code.startswith("answer_") and r.get("verdict_direction") else ""
        out.append(f'<tr data-kpi="{e(r["kpi_id"])}" data-verdict="{e(code)}" class="v-{e(code)}{e(shade)}">'
                   f'<th scope="row"><a href="#{e(r["anchor"])}">{e(r["kpi"])}</a></th>'
                   f'<td class="verdict"><span class="verdict-symbol" aria-hidden="true">'
                   f'{e(r["verdict_symbol"])}</span> {e(r["verdict"])}</td>'
                   f'<td class="latest" data-value="{val}"><span class="cell-label">Latest: </span>'
                   f'{_latest_cell(r)}</td>'
                   f'<td class="spark">{_spark_cell(r)}</td>'
                   f'<td class="change"'
                   + (f' title="{e(r["last_year_test"])}"' if r["last_year_test"] else "")
                   + f'><span class="cell-label">On last year: </span>{e(r["vs_last_year"])}'
                   + (f'<span class="test-plain">{e(r["last_year_plain"])}</span>' if r["last_year_plain"] else "")
                   + '</td><td class="question">'
                   + (f'<span class="cell-label">Ask: </span>{e(r["question"])}' if r["question"] else "")
                   + "</td></tr>")
    out.append("</tbody></table></div>")
    out.append(TEST_FOOTNOTE)
    return "".join(out)


TEST_FOOTNOTE = (
    '<p class="footnote" id="summary-tests"><span class="screen-only"><strong>About "a real change".'
    "</strong> Each KPI is compared with the same period last year, like with like (an outcome rate "
    "at the same age), and tested: a percentage with the two-proportion z-test, a count with a "
    "quasi-Poisson test that allows for how much more the count varies than chance alone, a median "
    "with Mood's median test. \"A real change\" needs a q-value below 0.05 after allowing for the "
    "number of tests in the report (Benjamini-Hochberg); \"possibly, not confirmed\" means p is "
    "below 0.05 but the change does not survive that allowance; \"not enough data to tell\" means the "
    "95% interval of the change is too wide to say; \"not tested\" means no test applies (money and "
    "carbon measures, in-period rates); a yes/no answer needs none, as it has no chance variation. The chart is a separate question (is the figure "
    "outside its usual range, shifting or trending?) and is never called a real change. The "
    "sparkline runs from the same quarter last year to the latest. Each KPI's section gives the "
    "test, its p-value and interval.</span>"
    '<span class="print-only">A real change: q below 0.05 against last year, allowing for the report\'s '
    "many tests. A chart finding is never called a real change. Not tested: money, carbon, in-period "
    "rates; a yes/no answer needs no test.</span></p>")


def _latest_cell(r: pd.Series) -> str:
    """The latest value, with the basis it is on under it ("cohort, provisional")."""
    e = html.escape
    note = _str(r.get("latest_note"))
    if not note:
        return e(_str(r["latest"]))
    value = _str(r["latest"])[: -len(note) - 3]  # "8.0% (cohort, provisional)" -> "8.0%"
    return f'{e(value)}<span class="latest-note"> ({e(note)})</span>'


def _spark_cell(r: pd.Series) -> str:
    """The sparkline with its first and last values shown beside it (none for yes/no KPIs)."""
    if not r["spark_svg"]:
        return '<span class="spark-none">no trend line (yes/no)</span>' if "yes/no" in r["spark_alt"] else ""
    e = html.escape
    ends = ""
    if r["spark_first"]:
        ends = (f'<span class="spark-ends" aria-hidden="true"><span>{e(r["spark_first"])}</span>'
                f'<span>{e(r["spark_last"])}</span></span>')
    return f'{r["spark_svg"]}{ends}'



def _sample(row: pd.Series) -> str:
    if row["status"] != "reported":
        return ""
    u = row["unit"]
    if u == "percent" and not pd.isna(row["denominator"]):
        if row.get("family") in ("satisfaction", "confidence") and not pd.isna(row.get("sample_n")):
            return f"n = {row['sample_n']:,.0f} respondents"
        text = f"{row['numerator']:,.0f} of {row['denominator']:,.0f}"
        pending = number(row.get("pending_share"))
        if row.get("basis") == "cohort" and not math.isnan(pending) and pending > 0:
            text += f"; {pending:.0f}% still awaiting an outcome"
        return text
    if u == "minutes" and not pd.isna(row["sample_n"]):
        return f"n = {row['sample_n']:,.0f} attended"
    if u == "flag" and not pd.isna(row["denominator"]):
        return f"outturn {format_value(row['numerator'], 'gbp')} vs budget {format_value(row['denominator'], 'gbp')}"
    return ""


def summary_table(results: pd.DataFrame, catalogue: list[Kpi]) -> pd.DataFrame:
    """One row per budget KPI (headline basis), in Table 1 order, in the Table 1 layout."""
    rows = []
    for k, head in _budget_headline_rows(results, catalogue):
        r = head.loc[k.id].copy()
        r["kpi_id"] = k.id
        reported = r["status"] == "reported"
        rows.append({
            "kpi_id": k.id, "plan_priority": k.plan_priority, "improvement_area": k.improvement_area,
            "kpi": plain_name(k), "table1_name": k.name, "unit": k.unit, "value": r["value"] if reported else float("nan"),
            "latest": latest_text(r, k.unit) if reported else STATUS_TEXT.get(r["status"], r["status"]),
            "count_or_sample": _sample(r),
            "vs_last_year": comparator_text(r, k.unit),
            **_test_columns(r, reported),
            "vs_12_months": shown_change(r.get("rolling12_value"), r.get("previous12_value"), k.unit),
            "spc_variation": variation_text(r["spc_variation"]),
            "spc_assurance": assurance_text(r["spc_assurance"]),
            "verdict": _str(r.get("verdict")) or NO_VERDICT,
            "verdict_code": _str(r.get("verdict_code")),
            "status": r["status"],
            "pmf_integration": spell_out(k.pmf_integration),
            "note": _str(r.get("note")),
        })
    return pd.DataFrame(rows)


HEADERS = [("plan_priority", "Plan priority"), ("improvement_area", "Improvement area"),
           ("kpi", "Key performance indicator"), ("latest", "Latest"),
           ("count_or_sample", "Count or sample"), ("vs_last_year", "Change on same period last year"),
           ("vs_12_months", "12 months vs previous 12"), ("verdict", "Verdict"),
           ("pmf_integration", "Status in the 2023 paper")]

#: abbreviations spelled out at their first use in a cell of the Table 1 layout
ABBREVIATIONS = {
    "PMF": "performance management framework", "VFM": "value for money",
    "DCC": "Deputy Chief Constable",
    "PCC": "Police and Crime Commissioner", "TIC": "taken into consideration",
    "PND": "penalty notice for disorder", "PCSO": "Police Community Support Officer",
    "tCO2e": "tonnes of carbon dioxide equivalent",
}


ABBREVIATIONS_NOTE = (
    "Abbreviations: PMF, performance management framework; VFM, value for money; PCC, Police and "
    "Crime Commissioner; DCC, Deputy Chief Constable; PCSO, Police Community Support Officer; TIC, "
    "offences taken into consideration; PND, penalty notice for disorder; tCO2e, tonnes of carbon "
    "dioxide equivalent; SMSR, a report named in the 2023 paper, which does not spell it out.")


def spell_out(text: str, seen: set[str] | None = None) -> str:
    """``text`` with each abbreviation of :data:`ABBREVIATIONS` spelled out at its first use
    ("VFM" reads "value for money (VFM)"); an abbreviation already spelled out is left alone."""
    seen = set() if seen is None else seen
    for abbr, words in ABBREVIATIONS.items():
        if abbr in seen or words.lower() in text.lower():
            continue
        m = re.search(rf"\b{re.escape(abbr)}\b(?!\))", text)
        if m:
            text = f"{text[:m.start()]}{words} ({abbr}){text[m.end():]}"
            seen.add(abbr)
    return text


def summary_html(table: pd.DataFrame, caption: str) -> str:
    """The Table 1 layout as an accessible table (caption, scoped headers, escaped text), in its
    own scrolling box."""
    e = html.escape
    out = [f'<div class="table-scroll" role="region" aria-label="{e(caption)}" tabindex="0">'
           f'<table class="kpi-summary"><caption>{e(caption)}</caption><colgroup>'
           + "".join(f'<col class="t-{key}">' for key, _ in HEADERS) + "</colgroup><thead><tr>"]
    out += [f'<th scope="col">{e(label)}</th>' for _, label in HEADERS]
    out.append("</tr></thead><tbody>")
    labels = dict(HEADERS)
    for _, r in table.iterrows():
        out.append(f'<tr data-kpi="{e(r["kpi_id"])}" class="status-{e(r["status"])}">')
        for key, _ in HEADERS:
            text = e(str(r[key]))
            dl = f' data-label="{e(labels[key])}"'
            if key == "kpi":
                paper = str(r.get("table1_name", "") or "")
                sub = (f'<span class="paper-name">Table 1: {e(spell_out(paper))}</span>'
                       if paper and paper.lower() != str(r[key]).lower() else "")
                out.append(f'<th scope="row">{text}{sub}</th>')
            elif key == "vs_last_year" and r["last_year_test"]:
                out.append(f'<td class="{key}"{dl} title="{e(r["last_year_test"])}">{text}'
                           f'<span class="test-plain">{e(r["last_year_plain"])}</span></td>')
            elif key == "latest":
                val = "" if pd.isna(r["value"]) else repr(float(r["value"]))
                out.append(f'<td class="latest"{dl} data-value="{val}">{text}</td>')
            else:
                out.append(f'<td class="{key}"{dl}>{text}</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def frame_html(df: pd.DataFrame, caption: str, *, scroll: bool = False) -> str:
    """Any small table as accessible, escaped HTML (optionally in its own scrolling box). Each
    cell carries its column's name (``data-label``), so that on a phone a row can be shown as a
    card of labelled values instead of a table that scrolls sideways."""
    e = html.escape

    def text(v) -> str:
        return "—" if v is None or (not isinstance(v, str) and pd.isna(v)) else e(str(v))
    cols = [str(c) for c in df.columns]
    head = "".join(f'<th scope="col">{e(c)}</th>' for c in cols)
    rows = "".join("<tr>" + "".join(f'<td data-label="{e(c)}">{text(v)}</td>' for c, v in zip(cols, r, strict=True))
                   + "</tr>" for r in df.itertuples(index=False, name=None))
    body = (f'<table class="kpi-table"><caption>{e(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table>")
    if scroll:
        body = f'<div class="table-scroll" role="region" aria-label="{e(caption)}" tabindex="0">{body}</div>'
    return body
