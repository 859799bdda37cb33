"""The report notebook's helpers: read the run's results and present the Panel paper in order:
the key messages and questions, the Recommendation, the one-page "Is it real?" summary, the
Background, the KPIs (Table 1 layout, year-end outlook or end-of-year view, what the force says,
what changed since the last report, then each section's charts), the accountability route,
Implications, Contact points, the appendices (numbers behind the charts, definitions and targets,
local areas, how the figures are made) and the annex for officers. Reads results; never
recomputes a figure or a verdict.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kpi_lib.core.kernel import imports_settled

with imports_settled():  # in a run's kernel: no collection while importing pandas (kpi_lib.core.kernel)
    import pandas as pd

    from kpi_lib.analyse import spc
    from kpi_lib.analyse.columns import read_csv as read_table
    from kpi_lib.analyse.lineage import reproduce_line
    from kpi_lib.analyse.outlook import outlook_words
    from kpi_lib.analyse.spc import ASSURANCE_LABELS, VARIATION_LABELS
    from kpi_lib.analyse.verdicts import VERDICTS
    from kpi_lib.config.catalogue import Kpi, pmf_coverage, run_catalogue
    from kpi_lib.config.params import load_params
    from kpi_lib.config.settings import LABELS
    from kpi_lib.core.errors import ParameterError
    from kpi_lib.core.periods import Period
    from kpi_lib.measure.registry import chart_grains
    from kpi_lib.present.annex import (
        annex_html,
        chart_numbers_html,
        chart_tables,
        definitions_html,
        lineage_rows,
    )
    from kpi_lib.present.changes import WHY_COHORT, published_values, revisions, verdict_changes
    from kpi_lib.present.commentary import Commentary, load_commentary, missing_commentary
    from kpi_lib.present.lineage_view import load_lineage
    from kpi_lib.present.messages import (
        changed_sentence,
        judgeable_dates,
        key_messages,
        questions,
    )
    from kpi_lib.present.narrative import (
        STATUS_TEXT,
        at_a_glance,
        format_value,
        shown_change,
    )
    from kpi_lib.present.paper import (
        PaperNames,
        accountability_html,
        background_html,
        contacts_html,
        implications_html,
        paper_names,
        recommendation_html,
    )
    from kpi_lib.present.summary import (
        ABBREVIATIONS_NOTE,
        frame_html,
        kpi_anchor,
        latest_text,
        plain_name,
        plain_test_word,
        spell_out,
        summary_html,
        summary_table,
        verdict_key_html,
        verdict_table,
        verdict_table_html,
    )
    from kpi_lib.present.views import FAMILY_TITLES, _html

def read_results_csv(path: Path) -> pd.DataFrame:
    """A results CSV (kpis.csv, year_kpis.csv, history.csv, ...) read by the one typed reader:
    text as text (empty, not NaN), flags as booleans, numbers as floats."""
    return read_table(path)


@dataclass
class ReportRun:
    period: Period
    out_dir: Path
    results: pd.DataFrame
    breakdowns: pd.DataFrame
    quarters: pd.DataFrame | None
    catalogue: list[Kpi]
    provenance: dict
    history: pd.DataFrame | None = None
    year_results: pd.DataFrame | None = None
    previous: pd.DataFrame | None = None
    previous_history: pd.DataFrame | None = None
    previous_name: str = ""
    commentary: dict[str, Commentary] = field(default_factory=dict)
    verdicts: Mapping[str, Any] = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    names: PaperNames | None = None
    lineage: dict = field(default_factory=dict)
    spc: pd.DataFrame | None = None
    judgeable: dict = field(default_factory=dict)


def _optional_csv(path: Path) -> pd.DataFrame | None:
    return read_results_csv(path) if path.exists() else None


def start_report(period: str, out_dir: str | None, previous_dir: str | None = None,
                 commentary_file: str | None = None) -> ReportRun:
    """Read this run's results (``results/kpis.csv``; combined from the family results first when
    the notebooks were run by hand), the quarterly history and the year table when present, the
    earlier run to compare with (``previous_dir``) and the force commentary (``commentary_file``)."""
    p = Period.parse(period)
    if out_dir is None:  # opened on its own: the folder the family notebooks used for this period
        from kpi_lib.present.notebook import default_out_dir
        out_dir = default_out_dir(p)
    out = Path(out_dir)
    res_dir = out / "results"
    cat = run_catalogue(out, p)
    if not (res_dir / "kpis.csv").exists():
        # run in JupyterLab after the family notebooks: combine them here (imported only then, so
        # that a report kernel in a run never imports the schema library)
        from kpi_lib.analyse.results import combine_run
        combine_run(out)
    results = read_results_csv(res_dir / "kpis.csv")
    bd = _optional_csv(res_dir / "breakdowns.csv")
    quarters = None
    if p.is_year:
        from kpi_lib.measure.registry import NAMES
        qs = [read_results_csv(res_dir / f"{f}_quarters.csv") for f in NAMES
              if (res_dir / f"{f}_quarters.csv").exists()]
        quarters = pd.concat(qs, ignore_index=True) if qs else None
    prov_path = out / "inputs.json"
    provenance = json.loads(prov_path.read_text(encoding="utf-8")) if prov_path.exists() else {}
    previous = prev_history = None
    prev_name = ""
    if previous_dir:
        prev = Path(previous_dir)
        if not (prev / "results" / "kpis.csv").exists():
            raise ParameterError(f"previous_dir {prev.name!r}: no results/kpis.csv there; expected the "
                                 "output folder of an earlier `kpi run`")
        previous = read_results_csv(prev / "results" / "kpis.csv")
        prev_history = _optional_csv(prev / "results" / "history.csv")
        prev_name = str(previous["period"].iloc[0]) if len(previous) else prev.name
    commentary = load_commentary(commentary_file, p.label, [k.id for k in cat])
    params = provenance.get("parameters") or load_params()
    panel_info = res_dir / "panel.json"
    data_force = json.loads(panel_info.read_text(encoding="utf-8")).get("force") if panel_info.exists() else None
    spc_path = res_dir / "spc.csv"
    judgeable = _judgeable(results, res_dir, p, provenance.get("extraction_date"), params, cat)
    return ReportRun(p, out, results, bd if bd is not None else pd.DataFrame(), quarters, cat, provenance,
                     history=_optional_csv(res_dir / "history.csv"),
                     year_results=_optional_csv(res_dir / "year_kpis.csv"),
                     previous=previous, previous_history=prev_history, previous_name=prev_name,
                     commentary=commentary, verdicts=VERDICTS, params=params,
                     names=paper_names(params, p, data_force), lineage=load_lineage(res_dir),
                     spc=pd.read_csv(spc_path) if spc_path.exists() else None, judgeable=judgeable)


def _judgeable(results: pd.DataFrame, res_dir: Path, p: Period, extraction: str | None, params: dict,
               catalogue: list[Kpi]) -> dict:
    """For each outcome rate too early to tell, the date from which it can be judged (read from
    the run's maturity table and monthly crime counts; nothing when the run has none)."""
    if "verdict_code" not in results or not (results["verdict_code"] == "too_early").any() or not extraction:
        return {}
    maturity, measures = res_dir / "maturity.parquet", res_dir / "measurements.parquet"
    if not maturity.exists() or not measures.exists():
        return {}
    from datetime import date as _date

    from kpi_lib.analyse.lineage import crime_category_of
    crime_kpis = crime_category_of(catalogue)
    volumes = [k for k, (_, measure) in crime_kpis.items() if measure == "volume"]
    m = pd.read_parquet(measures, filters=[("kpi_id", "in", volumes), ("window_kind", "=", "month")])
    return judgeable_dates(results, pd.read_parquet(maturity), m, p.label, _date.fromisoformat(str(extraction)),
                           float(params.get("provisional_pending_pct", 10)), crime_kpis)


# ------------------------------------------------------------------------------ key messages
def key_messages_html(rep: ReportRun) -> str:
    """The opening section: the key messages, what changed since the last report, and a
    question for every KPI that calls for one."""
    e = html.escape
    threshold = float(rep.params.get("provisional_pending_pct", 10))
    msgs = key_messages(rep.results, rep.catalogue, rep.period.label, rep.judgeable, threshold)
    names = {k.id: plain_name(k) for k in rep.catalogue}
    changes = verdict_changes(rep.previous, rep.results) if rep.previous is not None else None
    asks = questions(rep.results, rep.catalogue, rep.period.label, rep.judgeable, threshold)
    parts = ['<section class="paper opening" aria-labelledby="key-messages">',
             '<h2 id="key-messages">Key messages</h2>',
             '<ul class="key-messages">' + "".join(f"<li>{e(m)}</li>" for m in msgs) + "</ul>",
             f'<p class="changed"><strong>Since the last report:</strong> '
             f"{e(changed_sentence(changes, rep.previous_name, names))}</p>"]
    if asks:
        items = "".join(f'<li>{e(q)} <a class="to-chart" href="#{kpi_anchor(k)}" '
                        f'aria-label="Chart and figures: {e(names.get(k, k))}">(chart)</a></li>' for k, q in asks)
        parts.append(f'<h3 id="questions">Questions for the Panel to ask</h3><ol class="questions">{items}</ol>')
    parts.append("</section>")
    return "".join(parts)


def show_key_messages(rep: ReportRun) -> None:
    _html(key_messages_html(rep))


# ------------------------------------------------------------------------------ one-page summary
def show_verdicts(rep: ReportRun) -> None:
    """The one-page "Is it real?" summary, after the opening pages and the contents: one landscape
    A4 page."""
    table = verdict_table(rep.results, rep.catalogue, rep.history, rep.verdicts, rep.judgeable,
                          float(rep.params.get("provisional_pending_pct", 10)))
    intro = ("One row per budget KPI, in the order of Table 1. Each verdict answers two questions: has "
             "the figure really changed since a year ago (a test that allows for the many tests in the "
             "report), and is it unusual on its chart (outside its usual range, shifting or trending)? "
             "The change column shows the figure it was compared with. Each KPI name links to its chart "
             "and figures.")
    _html('<section class="one-page" aria-labelledby="summary">'
          f'<h2 id="summary">Is it real? The budget KPIs at a glance, {html.escape(rep.period.label)}</h2>'
          f'<p class="intro">{html.escape(intro)}</p>'
          '<p class="print-only">Table 1 order. Each verdict answers: a real change since a year ago (the '
          "test)? Unusual on the chart? (See the note under the table.)</p>"
          + verdict_key_html(rep.verdicts, set(table["verdict_code"]))
          + verdict_table_html(table, f"Budget KPIs, {rep.period.label}: latest value, recent "
                               "quarters, verdict and change on last year")
          + "</section>")


# ------------------------------------------------------------------------------ commentary
def commentary_html(rep: ReportRun) -> str:
    """What the force says, per KPI, beside that KPI's latest figure and verdict; "worse" KPIs
    without commentary are listed as "no commentary given"."""
    e = html.escape
    cat = {k.id: k for k in rep.catalogue}
    head = rep.results[rep.results["headline"].astype(bool)].drop_duplicates("kpi_id").set_index("kpi_id")
    out = ['<h2 id="commentary">What the force says</h2>']
    for kpi_id, c in rep.commentary.items():
        k = cat[kpi_id]
        figs = ""
        if kpi_id in head.index:
            r = head.loc[kpi_id]
            value = format_value(r["value"], k.unit) if r["status"] == "reported" else STATUS_TEXT.get(r["status"], "")
            sym = getattr(rep.verdicts.get(str(r.get("verdict_code", ""))), "symbol", "")
            figs = (f'<p class="figures"><strong>{e(value)}</strong>; '
                    f'<span aria-hidden="true">{e(sym)}</span> {e(str(r.get("verdict", "")))}; '
                    f'<a href="#{kpi_anchor(kpi_id)}">chart and figures</a></p>')
        out.append(f'<h3 id="commentary-{e(kpi_id)}">{e(plain_name(k))}</h3>{figs}'
                   f'<div class="commentary">{c.html}</div>')
    missing = missing_commentary(rep.results, rep.commentary)
    if missing:
        items = "".join(f'<li><a href="#{kpi_anchor(k)}">{e(plain_name(cat[k]))}</a>: no commentary given</li>'
                        for k in missing if k in cat)
        out.append('<div class="commentary-missing"><p><strong>For the Panel\'s attention (worse than '
                   "last year, a yes/no measure no longer met, missing target, unusual on the chart, trending "
                   "the wrong way, or worse over the latest 12 months), with no "
                   f"commentary from the force:</strong></p><ul>{items}</ul></div>")
    return "".join(out)


def show_commentary(rep: ReportRun) -> None:
    """What the force says, when it has said something or a KPI calls for it (no section at
    all otherwise)."""
    if rep.commentary or missing_commentary(rep.results, rep.commentary):
        _html(commentary_html(rep))


# ------------------------------------------------------------------------------ what changed
def changes_html(rep: ReportRun) -> str:
    """Verdicts that changed and back-figures revised since the earlier report."""
    e = html.escape
    out = ['<h2 id="changes">What changed since the last report</h2>']
    if rep.previous is None:
        left_out = (rep.provenance or {}).get("previous_run_left_out")
        if left_out:
            out.append(f"<p>Changes since the last report are not listed: the earlier run in "
                       f"{e(Path(str(left_out.get('folder', ''))).name)} was not compared with because "
                       f"{e(str(left_out.get('why', '')))}.</p>")
        else:
            out.append("<p>This is the first report in this series, so there is no earlier report to "
                       "compare with.</p>")
        return "".join(out)
    names = {k.id: plain_name(k) for k in rep.catalogue}
    vc = verdict_changes(rep.previous, rep.results)
    out.append(f"<p>Compared with the report for {e(rep.previous_name)}.</p>")
    if len(vc):
        t = pd.DataFrame({"KPI": vc["kpi_id"].map(names).fillna(vc["name"]),
                          f"Verdict in {rep.previous_name}": vc["previous_verdict"],
                          f"Verdict now ({rep.period.label})": vc["verdict"]})
        out.append(frame_html(t, "KPIs whose verdict changed", scroll=True))
    else:
        out.append("<p>No KPI's verdict changed.</p>")
    if rep.history is None:
        out.append("<p>Revised back-figures cannot be checked: this run has no quarterly history table.</p>")
        return "".join(out)
    rv = revisions(published_values(rep.previous, rep.previous_history), rep.history, names)
    if rv.empty:
        out.append("<p>No published figure has been revised.</p>")
        return "".join(out)

    def table(df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"KPI": df["name"] + df["basis"].map(lambda b: f" ({b.replace('_', '-')} basis)" if b else ""),
                             "Quarter": df["quarter"], "Published": df["published"], "Now": df["now"],
                             "Change": df["change"], "Why": df["why"]})
    maturing = rv[rv["why"] == WHY_COHORT]
    other = rv[rv["why"] != WHY_COHORT]
    if len(other):
        out.append(frame_html(table(other), "Figures revised since they were published", scroll=True))
    else:
        out.append("<p>No figure was revised apart from outcome rates that rose as outcomes were recorded.</p>")
    if len(maturing):
        out.append(f"<details><summary>Outcome rates revised as outcomes were recorded (expected): "
                   f"{len(maturing)} figure{'' if len(maturing) == 1 else 's'}</summary>"
                   + frame_html(table(maturing), "Outcome rates revised as their cohorts matured", scroll=True)
                   + "</details>")
    return "".join(out)


def show_changes(rep: ReportRun) -> None:
    _html(changes_html(rep))


# ------------------------------------------------------------------------------ Table 1 layout
def table1_html(rep: ReportRun) -> str:
    """The full Table 1 layout with its reading guide, the verdict count, coverage, what cannot be
    reported this period (and why) and, separately, what the source cannot give."""
    head = rep.results[rep.results["headline"].astype(bool) & ~rep.results["supplementary"].astype(bool)]
    cannot = head[head["status"] != "reported"]
    names = {k.id: plain_name(k) for k in rep.catalogue}
    freq = {k.id: k.frequency for k in rep.catalogue}
    parts = ['<h2 id="table1">The budget KPIs in the Table 1 layout</h2>',
             "<p><strong>How to read this table.</strong> It keeps the layout of Table 1 of the Panel's "
             "2023 budget metrics paper: plan priority, improvement area and, in the last column, what "
             "the paper said in 2023 about the KPI's place in the force's performance management "
             "framework (PMF); that column is the paper's text, not the position now. Each KPI is "
             "named in plain words, with the paper's wording under it. <em>Change</em> compares with "
             "the same period a year earlier: \"a real change\", \"no clear change\", \"possibly, not confirmed\" "
             "(p below 0.05, but not once the report's many tests are allowed for) or \"not enough data to tell\" (the tests are "
             "named under the one-page summary).</p>",
             f"<p>{html.escape(at_a_glance(rep.results, rep.period.label, dict(rep.verdicts), names))}</p>",
             f"<p><strong>Coverage:</strong> {html.escape(coverage_sentence(head, names, freq, rep.period.is_year))}</p>"]
    def items(rows: pd.DataFrame) -> str:
        return "".join(f"<li><strong>{html.escape(names.get(r['kpi_id'], r['name']))}</strong>: "
                       f"{html.escape(STATUS_TEXT.get(r['status'], r['status']).lower())}. "
                       f"{html.escape(spell_out(str(r['note'])))}</li>" for _, r in rows.iterrows())
    source = cannot["status"] == "not_available_from_source"
    if (~source).any():
        parts.append(f"<p><strong>Cannot be reported this period, and why:</strong></p><ul>{items(cannot[~source])}</ul>")
    if source.any():
        parts.append("<p><strong>Not available from this source</strong> (a limit of the data used, not a "
                     f"delay: these figures will not arrive later from it):</p><ul>{items(cannot[source])}</ul>")
    table = summary_table(rep.results, rep.catalogue)
    parts.append(summary_html(table, f"Budget KPIs, {rep.period.label}, in the layout of Table 1"))
    parts.append(f'<p class="footnote">{html.escape(ABBREVIATIONS_NOTE)}</p>')
    return "".join(parts)


def coverage_sentence(head: pd.DataFrame, names: Mapping[str, str], freq: Mapping[str, str],
                      is_year: bool) -> str:
    """How many budget KPIs are reported this period, in plain words, and why the others are not
    (e.g. "24 of 25 budget KPIs reported this quarter; not reported: Unqualified annual value for
    money conclusion ... (annual, not yet due)")."""
    n = len(head)
    done = int((head["status"] == "reported").sum())
    text = f"{done} of {n} budget KPIs reported this {'year' if is_year else 'quarter'}"
    missing = head[head["status"] != "reported"]
    if len(missing):
        why = []
        for _, r in missing.iterrows():
            status = STATUS_TEXT.get(r["status"], str(r["status"])).lower()
            if freq.get(r["kpi_id"]) == "annual" and r["status"] in ("not_yet_available", "annual"):
                status = "annual, not yet due"
            why.append(f"{names.get(r['kpi_id'], r['name'])} ({status})")
        text += "; not reported: " + "; ".join(why)
    return text + "."


def show_table1(rep: ReportRun) -> None:
    """The Table 1 layout, then the supplementary measures."""
    _html(table1_html(rep))
    show_supplementary(rep)


def show_supplementary(rep: ReportRun) -> None:
    sup = rep.results[rep.results["supplementary"].astype(bool) & rep.results["headline"].astype(bool)]
    if sup.empty:
        return
    t = pd.DataFrame({
        "Measure": sup["name"],
        "Value": [format_value(v, u) if s == "reported" else STATUS_TEXT[s]
                  for v, u, s in zip(sup["value"], sup["unit"], sup["status"], strict=True)],
        "Same period last year": [format_value(v, u) for v, u in zip(sup["last_year_value"], sup["unit"], strict=True)],
        "Verdict": sup["verdict"] if "verdict" in sup else "",
    })
    _html(frame_html(t, f"Supplementary measures the Panel and the PCC also scrutinise, {rep.period.label}",
                     scroll=True))


# ------------------------------------------------------------------------------ end of year
def year_table(year: pd.DataFrame, catalogue: list[Kpi]) -> pd.DataFrame:
    """The whole financial year against the previous year, for every budget KPI with a verdict."""
    cat = {k.id: k for k in catalogue}
    head = year[year["headline"].astype(str).str.lower().isin(["true", "1", "1.0"])].drop_duplicates("kpi_id")
    if "verdict_code" in head:
        head = head[head["verdict_code"].astype(str).str.len() > 0]
    order = {k.id: i for i, k in enumerate(catalogue)}
    head = head[head["kpi_id"].isin(cat)].sort_values("kpi_id", key=lambda s: s.map(order))
    rows = []
    for _, r in head.iterrows():
        k = cat[r["kpi_id"]]
        reported = r["status"] == "reported"
        rows.append({
            "KPI": plain_name(k),
            # the basis beside the value ("9.7% (cohort)"), and the comparator's age where it is
            # counted at the same age, as on the quarter's summary row
            "The year": latest_text(r, k.unit) if reported else STATUS_TEXT.get(r["status"], r["status"]),
            "Previous year": format_value(r.get("last_year_value"), k.unit)
            + (" at the same age" if str(r.get("comparator_age_days", "")) not in ("", "nan", "None")
               and str(r.get("last_year_value", "")) not in ("", "nan", "None") else ""),
            "Change": shown_change(r.get("value"), r.get("last_year_value"), k.unit),
            "Is the change real?": plain_test_word(r.get("last_year_p_value"), r.get("last_year_significant"),
                                                   r.get("last_year_finding"), r.get("unit"))
            if reported and (str(r.get("change_last_year", "")) not in ("", "nan") or r.get("last_year_finding"))
            else "",
            "Verdict": str(r.get("verdict", "")),
        })
    return pd.DataFrame(rows)


def quarters_table(rep: ReportRun) -> pd.DataFrame:
    """For a year run: each quarter's headline value side by side, the year, the previous year
    and the baseline year."""
    cat = {k.id: k for k in rep.catalogue}
    q = rep.quarters[rep.quarters["kpi_id"].isin(cat)].copy()
    q["KPI"] = q["kpi_id"].map(lambda k: plain_name(cat[k]))
    for c in ("Q1", "Q2", "Q3", "Q4"):
        q[c] = [format_value(v, cat[k].unit) for v, k in zip(q[c], q["kpi_id"], strict=True)]
    head = rep.results[rep.results["headline"].astype(bool)].drop_duplicates("kpi_id").set_index("kpi_id")
    q = q[q["kpi_id"].isin(head.index)]
    q["Year"] = [format_value(head.loc[k, "value"], cat[k].unit) if head.loc[k, "status"] == "reported"
                 else STATUS_TEXT[head.loc[k, "status"]] for k in q["kpi_id"]]
    q["Previous year"] = [format_value(head.loc[k, "last_year_value"], cat[k].unit) for k in q["kpi_id"]]
    q["Baseline year"] = [format_value(head.loc[k, "baseline_value"], cat[k].unit) for k in q["kpi_id"]]
    order = {k.id: i for i, k in enumerate(rep.catalogue)}
    q = q.sort_values("kpi_id", key=lambda s: s.map(order))
    return q[["KPI", "Q1", "Q2", "Q3", "Q4", "Year", "Previous year", "Baseline year"]]


def show_year(rep: ReportRun) -> None:
    """End-of-year view (at Q4 and for a year run), for the annual assurance and accountability
    meeting: the whole year against the previous year with the test and the verdict and, for a
    year run, each quarter of the year."""
    has_year = rep.year_results is not None and len(rep.year_results)
    has_quarters = rep.period.is_year and rep.quarters is not None and len(rep.quarters)
    if not has_year and not has_quarters:
        return
    fy = str(rep.year_results["period"].iloc[0]) if has_year and "period" in rep.year_results else rep.period.label
    parts = [f'<h2 id="year">The year {html.escape(fy)} against the previous year</h2>']
    if has_year:
        t = year_table(rep.year_results, rep.catalogue)
        parts.append("<p>For the annual assurance and accountability meeting: each KPI for the whole "
                     "financial year against the year before, whether the change is real (the same rule as the quarter) "
                     "(the tests are named under the one-page summary) and the verdict.</p>"
                     '<div class="year-table">'
                     + frame_html(t, f"KPIs, financial year {fy}, against the previous year", scroll=True) + "</div>")
    if has_quarters:
        parts.append("<details><summary>Each quarter of the year</summary>"
                     + frame_html(quarters_table(rep), f"Budget KPIs by quarter, {rep.period.label}", scroll=True)
                     + "</details>")
    _html("".join(parts))


# ------------------------------------------------------------------------------ methods
GLOSSARY = [
    ("Cohort basis", "Crimes recorded in the period, and the outcomes they have been given so far. "
     "Recent periods are still maturing: their rates rise as investigations close."),
    ("In-period basis", "Outcomes given in the period, whenever the crime was recorded, over the "
     "crimes recorded in the period. It does not mature, but mixes crimes from different periods."),
    ("Equal maturity", "Comparing two cohorts at the same age: last year's cohort counted only "
     "with the outcomes it had the same number of days after its period ended."),
    ("SPC (statistical process control)", "A chart of a measure over time with its usual range "
     "(the process limits). A point outside the limits, or a long run on one side, is a signal that "
     "something changed (special cause); points inside are normal ups and downs (common cause)."),
    ("Seasonal adjustment", "For measures that rise and fall with the seasons, the limits move with "
     "the usual pattern of each month, so summer and winter alone do not raise a signal."),
    ("Significance test and p-value", "A test of whether a change against last year is bigger than "
     "chance would give. A p-value below 0.05 is read as a real change."),
    ("Interval (95%)", "The range the true value probably lies in, given the sample or the counts."),
    ("Effective sample size", "For weighted surveys: the number of unweighted respondents that "
     "would give the same precision. It is smaller than the number interviewed."),
]


SETTING_WORDS = {**{name: title[0].lower() + title[1:] for name, title in FAMILY_TITLES.items()},
                 "month": "month", "quarter": "quarter",
                 "none": "no chart", "cohort": "cohort", "in_period": "in-period",
                 "confidence_local_policing": "confidence in local policing",
                 "overall_satisfaction": "overall satisfaction",
                 "seen_officer_frequency": "how often an officer is seen"}


def settings_table(parameters: Mapping[str, Any], names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The run's settings as a readable two-column table (lists joined, no JSON), with plain labels
    and KPI names in place of setting and KPI ids; file settings are left out."""
    names = dict(names or {})
    def word(x: Any) -> str:
        x = str(x)
        return names.get(x) or SETTING_WORDS.get(x) or x
    def text(v: Any) -> str:
        if isinstance(v, Mapping):
            return "; ".join(f"{word(k).replace('_', ' ')}: {text(x)}" for k, x in v.items()) or "none"
        if isinstance(v, list | tuple):
            return ", ".join(map(word, v)) or "none"
        if isinstance(v, bool):
            return "yes" if v else "no"
        return "not set" if v is None else word(v)
    rows = [{"Setting": LABELS.get(k, k.replace("_", " ").capitalize()), "Value": text(v)}
            for k, v in sorted(parameters.items()) if not str(k).endswith(("_file", "_dir"))]
    return pd.DataFrame(rows, columns=["Setting", "Value"])


def methods_html(rep: ReportRun) -> str:
    e = html.escape
    glossary = "".join(f"<dt>{e(t)}</dt><dd>{e(d)}</dd>" for t, d in GLOSSARY)
    basis = rep.results.loc[rep.results["headline"].astype(bool)
                            & rep.results["basis"].isin(["cohort", "in_period"]), "basis"]
    b = basis.iloc[0].replace("_", "-") if len(basis) else "cohort"
    parts = [
        "<p>Every figure comes from the force's records (or the public data named in each section) "
        "by tested calculations; nothing in this report is typed by hand. Charge and summons rates "
        f"use the {e(b)} basis as their headline; the other basis is in the spreadsheet.</p>",
        "<p>Each KPI answers two questions, each in its own words. <strong>Against the same period "
        "last year</strong>: a like-for-like change (outcome rates at the same age) with its 95% "
        "interval and a test (counts allow for how much more they vary than chance alone; response "
        "medians use Mood's median test); \"a real change\" only where the test survives the "
        "allowance for the report's many tests (a false discovery rate of 5%, Benjamini-Hochberg), "
        "\"possibly higher (or lower), not confirmed\" where p is below 0.05 but the change does not "
        "survive that allowance, and \"not enough data to tell\" where the interval is too wide. <strong>Over time</strong>: "
        "an SPC chart whose usual range comes from the latest 24 months (never fewer than 12 points), "
        "after allowing for the seasons and for known changes; it finds a month outside its usual "
        "range this quarter, a sustained shift since a month, a steady trend since a year, or nothing "
        "unusual. A chart finding is never called a real change. One verdict combines them, in this "
        "order: a target met or missed where one exists; a real change against last year (or a yes/no "
        "answer that differs from last year's, which needs no test); unusual on "
        "the chart; a steady trend; not enough data to tell; no clear change. Outcome rates still "
        "maturing are compared at equal maturity, or called too early to tell. Months missing from "
        "the data are never read as zero.</p>",
    ]
    rules = "; ".join(f"{v}" for v in VARIATION_LABELS.values())
    pmf = pmf_coverage(rep.catalogue)
    parts.append(f"<p><strong>About the KPI list.</strong> Table 1 marks "
                 f"{e(pmf.sentence('as already included in force reports'))}; the paper's text says 14 "
                 "(64%), counting differently.</p>")
    parts.append('<details class="print-open"><summary>SPC rules in detail</summary><p>XmR chart (NHS England '
                 "Making "
                 "Data Count, as NHSRplotthedots): mean and process limits at the mean plus or minus "
                 f"{spc.LIMIT} times the average moving range. Special cause: a point outside the limits; "
                 f"{spc.RUN} points in a row rising or falling; 2 of 3 points near a limit on the same side; "
                 f"{spc.RUN} points in a row on one side of the mean. Fewer than {spc.MIN_POINTS} points "
                 "give trial limits. "
                 f"Variation labels: {e(rules)}. Assurance labels: "
                 f"{e('; '.join(ASSURANCE_LABELS.values()))}.</p></details>")
    # the glossary last: on paper its two columns run to the foot of the page
    parts.append(f'<h3 id="glossary">Glossary</h3><details class="print-open"><summary>The words this report '
                 f'uses, explained</summary><dl class="glossary">{glossary}</dl></details>')
    return "".join(parts)


def show_methods(rep: ReportRun) -> None:
    """How the figures are made: prose, glossary, and the details collapsed (an appendix)."""
    _html('<h2 id="methods">Appendix C: how the figures are made</h2>' + methods_html(rep))


# ------------------------------------------------------------------------------ the Panel paper
def show_recommendation(rep: ReportRun) -> None:
    _html(recommendation_html(rep.params, rep.names))


def background_coverage(rep: ReportRun) -> str:
    """The KPI list in one sentence, computed from the catalogue: how many KPIs, how many are
    reported each quarter and how many this period."""
    budget = [k for k in rep.catalogue if not k.supplementary]
    annual = sum(k.frequency == "annual" for k in budget)
    head = _headline_rows(rep)
    done = int((head["status"] == "reported").sum())
    return (f"There are {len(budget)} budget KPIs; {len(budget) - annual} can be reported every quarter "
            f"and {annual} {'is' if annual == 1 else 'are'} annual. {done} of {len(head)} are reported "
            f"for {rep.period.label}. Each has its own chart and figures in the sections that follow, "
            "under the plan priority and improvement area of Table 1.")


def _headline_rows(rep: ReportRun) -> pd.DataFrame:
    r = rep.results
    return r[r["headline"].astype(bool) & ~r["supplementary"].astype(bool)].drop_duplicates("kpi_id")


def show_background(rep: ReportRun) -> None:
    _html(background_html(rep.params, rep.names, background_coverage(rep)))


def show_accountability(rep: ReportRun) -> None:
    _html(accountability_html(rep.params, rep.names))


def show_implications(rep: ReportRun) -> None:
    _html(implications_html(rep.params, rep.names))


def show_contacts(rep: ReportRun) -> None:
    _html(contacts_html(rep.params, rep.names))


# ------------------------------------------------------------------------------ year-end outlook
def outlook_table(results: pd.DataFrame, catalogue: list[Kpi]) -> pd.DataFrame:
    """Every budget KPI with a target and an outlook: the period's value, the target, where the
    year is heading with its 80% interval, and the words (likely / unlikely / uncertain)."""
    cat = {k.id: k for k in catalogue}
    head = results[results["headline"].astype(bool)].drop_duplicates("kpi_id")
    rows = []
    for _, r in head.iterrows():
        k = cat.get(r["kpi_id"])
        if k is None or k.target is None or pd.isna(r.get("outlook_value")):
            continue
        rows.append({
            "KPI": plain_name(k), "This quarter": format_value(r["value"], k.unit),
            "Target": format_value(k.target, k.unit),
            "Year-end outlook": format_value(r["outlook_value"], k.unit),
            "80% range": f"{format_value(r['outlook_low'], k.unit)} to {format_value(r['outlook_high'], k.unit)}",
            "Will the target be met?": outlook_words(r["outlook_p_meet"]).capitalize(),
        })
    return pd.DataFrame(rows)


def show_outlook(rep: ReportRun) -> None:
    """The year-end outlook for the KPIs with targets (Q1 to Q3 only)."""
    if rep.period.is_year or rep.period.quarter == 4:
        return
    t = outlook_table(rep.results, rep.catalogue)
    with_target = [k for k in rep.catalogue if k.target is not None and not k.supplementary]
    e = html.escape
    parts = [f'<h2 id="outlook">The year-end outlook for KPIs with targets, {e(rep.period.fy_label)}</h2>',
             "<p>Where each KPI with a target is heading by 31 March, from the months so far and the "
             "usual pattern of the year (a seasonal model fitted on the complete past years). The "
             "year's figure should fall in the 80% range four times in five. \"Likely\" means a "
             "probability of at least 0.8 of meeting the target, \"unlikely\" at most 0.2.</p>"]
    if len(t):
        parts.append(frame_html(t, f"Year-end outlook, {rep.period.fy_label}, from the figures to the end of "
                                   f"{rep.period.label}", scroll=True))
    missing = [plain_name(k) for k in with_target if k.id not in set(rep.results.loc[
        rep.results["outlook_value"].notna(), "kpi_id"])] if "outlook_value" in rep.results else []
    if missing:
        parts.append("<p>No outlook for " + e("; ".join(missing)) + ": too few complete past years, or "
                     "a figure not reported this quarter.</p>")
    _html("".join(parts))


# ------------------------------------------------------------------------------ appendices and annex
def show_appendices(rep: ReportRun) -> None:
    """Appendix A, the numbers behind every chart; B, the definitions and targets. (C, how the
    figures are made, follows; then D, the local areas, from the crime notebook's appendix.)"""
    _html(chart_numbers_html(chart_tables(rep.results, rep.spc, rep.catalogue)))
    _html(definitions_html(rep.catalogue))


def show_officers_annex(rep: ReportRun) -> None:
    """The annex for officers: settings, fingerprints, row ledger, ids and lineage."""
    names = {k.id: plain_name(k) for k in rep.catalogue}
    params = {k: v for k, v in (rep.provenance.get("parameters") or rep.params).items() if k != "panel_paper"}
    params["spc_grain"] = chart_grains(params)  # the grains used, not only those the settings changed
    example = reproduce_line(rep.period.label, "KPI_ID", "", "value")
    _html(annex_html(settings_table(params, names), rep.provenance, rep.catalogue,
                     lineage_rows(rep.results, rep.lineage, rep.catalogue), rep.previous_name, example))
