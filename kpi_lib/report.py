"""The summary notebook's helpers: combine the family results into ``results/kpis.csv`` and
present the Panel's first screen (at a glance, coverage, summary table), the KPIs that cannot be
reported and why, the end-of-year view, and methods and provenance. Reads results; never
recomputes a figure.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .catalogue import Kpi, load_catalogue, pmf_coverage
from .engine import FAMILY_TABLES, RESULT_COLUMNS
from .errors import ParameterError
from .narrative import STATUS_TEXT, at_a_glance, format_value, reported_coverage
from .notebook import write_csv_atomic
from .periods import Period
from .sources.homeoffice import LICENCE as OGL
from .spc import ASSURANCE_LABELS, VARIATION_LABELS
from .summary import frame_html, summary_html, summary_table
from .views import _html, _md


def combine_results(frames: list[pd.DataFrame], catalogue: list[Kpi]) -> pd.DataFrame:
    """Family result tables to one table in catalogue order (headline row first per KPI)."""
    order = {k.id: i for i, k in enumerate(catalogue)}
    df = pd.concat(frames, ignore_index=True)
    df["_o"] = df["kpi_id"].map(order)
    df = df.sort_values(["_o", "headline"], ascending=[True, False], kind="stable").drop(columns="_o")
    return df[RESULT_COLUMNS].reset_index(drop=True)


@dataclass
class ReportRun:
    period: Period
    out_dir: Path
    results: pd.DataFrame
    breakdowns: pd.DataFrame
    quarters: pd.DataFrame | None
    catalogue: list[Kpi]
    provenance: dict


def start_report(period: str, out_dir: str) -> ReportRun:
    p = Period.parse(period)
    out = Path(out_dir)
    res_dir = out / "results"
    missing = [f for f in FAMILY_TABLES if not (res_dir / f"{f}.csv").exists()]
    if missing:
        raise ParameterError(f"no results for {', '.join(missing)} in {res_dir}: run those family "
                             "notebooks first (or `kpi run`)")
    cat = load_catalogue()
    read = lambda f: pd.read_csv(res_dir / f, keep_default_na=True, dtype={c: str for c in ("basis", "note", "source", "spc_rule")})  # noqa: E731
    frames = [read(f"{f}.csv") for f in FAMILY_TABLES]
    results = combine_results(frames, cat)
    for c in ("basis", "note", "source", "spc_rule"):
        results[c] = results[c].fillna("")
    results["period"] = p.label
    write_csv_atomic(results, res_dir / "kpis.csv")
    bds = [read(f"{f}_breakdown.csv") for f in FAMILY_TABLES if (res_dir / f"{f}_breakdown.csv").exists()]
    bd = pd.concat(bds, ignore_index=True) if bds else pd.DataFrame()
    quarters = None
    if p.is_year:
        qs = [read(f"{f}_quarters.csv") for f in FAMILY_TABLES if (res_dir / f"{f}_quarters.csv").exists()]
        quarters = pd.concat(qs, ignore_index=True) if qs else None
    prov_path = out / "inputs.json"
    provenance = json.loads(prov_path.read_text(encoding="utf-8")) if prov_path.exists() else {}
    return ReportRun(p, out, results, bd, quarters, cat, provenance)


def show_first_screen(rep: ReportRun) -> None:
    """At a glance, coverage, and the KPIs that cannot be reported yet (and why)."""
    reported, regular = reported_coverage(rep.results, rep.catalogue)
    _md("## <span id=\"at-a-glance\">At a glance</span>\n\n" + html.escape(at_a_glance(rep.results, rep.period.label)))
    _md(f"**Coverage:** {reported} of {regular} regularly reportable KPIs reported this "
        f"{'year' if rep.period.is_year else 'quarter'} ({100 * reported / regular:.0f}%).")
    head = rep.results[rep.results["headline"] & ~rep.results["supplementary"].astype(bool)]
    cannot = head[head["status"] != "reported"]
    if len(cannot):
        items = "\n".join(f"- **{html.escape(r['name'])}**: {_lower_first(STATUS_TEXT[r['status']])}. "
                          f"{html.escape(str(r['note']))}" for _, r in cannot.iterrows())
        _md("**Cannot be reported this period, and why:**\n\n" + items)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def show_summary(rep: ReportRun) -> None:
    table = summary_table(rep.results, rep.catalogue)
    _html(summary_html(table, f"Budget KPIs, {rep.period.label}: latest value, change, SPC and status"))


def show_supplementary(rep: ReportRun) -> None:
    sup = rep.results[rep.results["supplementary"].astype(bool) & rep.results["headline"]]
    t = pd.DataFrame({
        "Measure": sup["name"],
        "Value": [format_value(v, u) if s == "reported" else STATUS_TEXT[s]
                  for v, u, s in zip(sup["value"], sup["unit"], sup["status"], strict=True)],
        "Same period last year": [format_value(v, u) for v, u in zip(sup["last_year_value"], sup["unit"], strict=True)],
        "SPC variation": sup["spc_variation"].map(lambda v: VARIATION_LABELS.get(v, "Not applicable")),
    })
    _html(frame_html(t, f"Supplementary measures scrutinised by the Panel and the PCC, {rep.period.label}"))


def show_year(rep: ReportRun) -> None:
    """End-of-year view: each quarter side by side, the year against the previous year and baseline."""
    if not rep.period.is_year or rep.quarters is None:
        return
    cat = {k.id: k for k in rep.catalogue}
    q = rep.quarters[rep.quarters["kpi_id"].isin(cat)].copy()
    q["KPI"] = q["kpi_id"].map(lambda k: cat[k].name)
    for c in ("Q1", "Q2", "Q3", "Q4"):
        q[c] = [format_value(v, cat[k].unit) for v, k in zip(q[c], q["kpi_id"], strict=True)]
    head = rep.results[rep.results["headline"]].set_index("kpi_id")
    q["Year"] = [format_value(head.loc[k, "value"], cat[k].unit) if head.loc[k, "status"] == "reported"
                 else STATUS_TEXT[head.loc[k, "status"]] for k in q["kpi_id"]]
    q["Previous year"] = [format_value(head.loc[k, "previous_value"], cat[k].unit) for k in q["kpi_id"]]
    q["Baseline year"] = [format_value(head.loc[k, "baseline_value"], cat[k].unit) for k in q["kpi_id"]]
    order = {k.id: i for i, k in enumerate(rep.catalogue)}
    q = q.sort_values("kpi_id", key=lambda s: s.map(order))
    _md(f"## <span id=\"year\">The year {rep.period.label}: each quarter, the year, the previous year and the baseline</span>")
    _html(frame_html(q[["KPI", "Q1", "Q2", "Q3", "Q4", "Year", "Previous year", "Baseline year"]],
                     f"Budget KPIs by quarter, {rep.period.label}"))


def show_methods(rep: ReportRun) -> None:
    """Definitions, outcome basis, SPC rules, provenance and licence."""
    defs = pd.DataFrame([{"KPI": k.name, "Definition": k.definition,
                          "Target": "—" if k.target is None else f"{format_value(k.target, k.unit)} ({k.target_source})"}
                         for k in rep.catalogue])
    _html(frame_html(defs, "KPI definitions (params/kpis.yaml)"))
    basis = rep.results.loc[rep.results["headline"] & rep.results["basis"].isin(["cohort", "in_period"]), "basis"]
    b = basis.iloc[0] if len(basis) else "cohort"
    _md(f"**Outcome basis.** Headline charge/summons rates use the **{b.replace('_', '-')}** basis. "
        "Cohort: outcomes assigned, as at the extraction date, to offences recorded in the period, "
        "divided by offences recorded in the period (the Home Office headline; recent periods are "
        "immature). In-period: outcomes assigned in the period, whenever the offence was recorded, "
        "divided by offences recorded in the period. Both are in results/kpis.csv.")
    rules = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in VARIATION_LABELS.items())
    _md("**SPC rules (NHS England Making Data Count, as NHSRplotthedots).** XmR chart: mean and "
        "process limits at mean ± 2.66 × average moving range (moving ranges of 3.267 × the "
        "average or more screened out). Special cause: a point outside the limits; 7 points in a "
        "row rising or falling; 2 of 3 points beyond 2 sigma on the same side; 7 points in a row on "
        "one side of the mean. Fewer than 12 points: trial limits. Assurance: target outside the "
        "limits means consistently passing or failing; inside, hit and miss. Icons use shape and "
        f"text, not colour alone. Variation labels: {html.escape(rules)}. Assurance labels: "
        + html.escape("; ".join(ASSURANCE_LABELS.values())) + ".")
    prov = rep.provenance
    if prov:
        inputs = pd.DataFrame(prov.get("inputs", []))
        if len(inputs):
            cols = [c for c in ("table", "file", "rows_read", "rows_used", "rows_rejected", "sha256") if c in inputs]
            _html(frame_html(inputs[cols], "Input files, rows used and rejected, and SHA-256"))
        _md(f"**Code version:** {html.escape(str(prov.get('code_version', 'unknown')))}. "
            f"**Parameters:** {html.escape(json.dumps(prov.get('parameters', {}), sort_keys=True, default=str))}")
    if prov.get("public_data"):
        _md(f"**Data licence.** {OGL}")
    pmf = pmf_coverage(rep.catalogue)
    _md(f"**About the catalogue.** Table 1 marks {pmf.sentence('as already included in force reports')}; "
        "the paper's text says 14 (64%). See docs/assumptions.md.")
