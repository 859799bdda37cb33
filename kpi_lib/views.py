"""What the family notebooks show: the KPI overview, a finding, chart and numbers per KPI,
breakdowns, sources and peers. Reads a :class:`kpi_lib.notebook.FamilyRun`; computes nothing.
"""

from __future__ import annotations

import html

import pandas as pd

from . import engine
from .charts import display_figure, spc_alt_text, spc_figure
from .narrative import STATUS_TEXT, finding, format_change, format_value
from .notebook import FamilyRun, load_peers
from .spc import VARIATION_LABELS
from .summary import frame_html

SOURCE_TEXT = {"canonical": "force records", "home_office": "Home Office open data tables",
               "police_uk": "data.police.uk street files", "none": "no input"}
FAMILY_TITLES = {
    "crime": "Crime volumes and charge/summons outcomes",
    "calls": "Call handling", "response": "Emergency response times",
    "confidence": "Public confidence and police visibility",
    "satisfaction": "Victim satisfaction", "finance": "Finance", "environment": "Environment",
}




def _md(text: str) -> None:
    from IPython.display import Markdown, display
    display(Markdown(text))


def _html(text: str) -> None:
    from IPython.display import HTML, display
    display(HTML(text))


def kpi_overview(run: FamilyRun) -> pd.DataFrame:
    """The family's KPI rows as a readable table (headline and other bases)."""
    rows = []
    for _, r in run.results.iterrows():
        basis = r["basis"].replace("_", "-") if isinstance(r["basis"], str) else ""
        rows.append({
            "KPI": r["name"] + (f" [{basis}]" if basis else ""),
            "Value": format_value(r["value"], r["unit"]) if r["status"] == "reported" else STATUS_TEXT[r["status"]],
            "95% interval": (f"{format_value(r['ci_low'], r['unit'])} to {format_value(r['ci_high'], r['unit'])}"
                             if not pd.isna(r["ci_low"]) else "—"),
            "Numerator": "—" if pd.isna(r["numerator"]) else f"{r['numerator']:,.0f}",
            "Denominator": "—" if pd.isna(r["denominator"]) else f"{r['denominator']:,.0f}",
            "Same period last year": format_value(r["last_year_value"], r["unit"]),
            "Change": format_change(r["change_last_year"], r["change_last_year_pct"], r["unit"]),
            "12 months vs previous 12": format_change(r["change_12m"], r["change_12m_pct"], r["unit"]),
            "Source": SOURCE_TEXT.get(r["source"], r["source"]),
        })
    return pd.DataFrame(rows)


def show_overview(run: FamilyRun) -> None:
    if run.tables.synthetic:
        _md("**Synthetic sample data:** every number below is invented, for testing and demonstration only.")
    _html(frame_html(kpi_overview(run), f"{FAMILY_TITLES[run.family]}: KPIs for {run.period.label}"))


def show_kpis(run: FamilyRun) -> None:
    """For each headline KPI: a finding sentence, the SPC chart with alt text, the numbers."""
    cat = {k.id: k for k in run.catalogue}
    for _, r in run.results[run.results["headline"]].iterrows():
        kpi = cat[r["kpi_id"]]
        _md(f"### {html.escape(kpi.name)}\n\n{html.escape(finding(r, run.period.label))}")
        if isinstance(r["note"], str) and r["note"] and r["status"] == "reported":
            _md(f"*Note:* {html.escape(r['note'])}")
        if r["status"] != "reported" or r["spc_grain"] == "none":
            continue
        mk = run.measurements[run.measurements["kpi_id"] == kpi.id]
        if r["basis"] in ("cohort", "in_period"):
            mk = mk[mk["basis"] == r["basis"]]
        chart = engine.spc_chart(kpi, mk, run.windows, run.params)
        if len(chart) < 2:
            continue
        grain = r["spc_grain"]
        title = f"{kpi.name}: {finding_title(r)}"
        display_figure(spc_figure(chart, title=title, unit=kpi.unit, grain=grain, target=kpi.target),
                       spc_alt_text(chart, kpi.name, kpi.unit, grain, kpi.target))
        if bool(r["spc_trial"]):
            _md("*Caution:* fewer than 12 points since the last rebase: these are trial limits.")
        table = chart.tail(13)[["x", "y", "mean", "lpl", "upl", "variation"]].copy()
        table["x"] = pd.to_datetime(table["x"]).dt.strftime("%b %Y")
        for c in ("y", "mean", "lpl", "upl"):
            table[c] = table[c].map(lambda v, u=kpi.unit: format_value(v, u))
        table["variation"] = table["variation"].map(lambda v: VARIATION_LABELS.get(v, v))
        table.columns = ["Period starting", "Value", "Mean", "Lower limit", "Upper limit", "Variation"]
        _html(frame_html(table, f"Numbers behind the chart (latest 13 points): {kpi.name}"))


def finding_title(r: pd.Series) -> str:
    v = str(r["spc_variation"])
    if v.startswith("improvement"):
        return "special cause improvement"
    if v.startswith("concern"):
        return "special cause concern"
    if v.startswith("neutral"):
        return "a real change (neutral polarity)"
    return "within normal variation"


def show_breakdown(run: FamilyRun, dimension: str) -> None:
    bd = run.breakdowns[run.breakdowns["dimension"] == dimension]
    if bd.empty:
        _md(f"No breakdown by {dimension} is available from these inputs.")
        return
    cat = {k.id: k for k in run.catalogue}
    names = {**{k: v.name for k, v in cat.items()}, "response_grade1_within_target": "Grade 1 within target",
             "response_grade2_within_target": "Grade 2 within target"}
    t = bd.copy()
    t["KPI"] = t["kpi_id"].map(names).fillna(t["kpi_id"])
    unit = t["kpi_id"].map(lambda k: cat[k].unit if k in cat else "percent")
    t["Value"] = [format_value(v, u) for v, u in zip(t["value"], unit, strict=True)]
    cols = ["KPI", "category", "Value"]
    if "sample_n" in t and t["sample_n"].notna().any():
        t["Respondents"] = t["sample_n"].map(lambda v: "—" if pd.isna(v) else f"{v:,.0f}")
        cols.append("Respondents")
    if t["basis"].astype(str).str.len().gt(0).any():
        t["Basis"] = t["basis"].str.replace("_", "-")
        cols.append("Basis")
    t = t[cols].rename(columns={"category": dimension.capitalize()})
    _html(frame_html(t, f"{FAMILY_TITLES[run.family]}: breakdown by {dimension}, {run.period.label}"))


def show_sources(run: FamilyRun) -> None:
    """Where the figures came from, caveats about the source, and the licence for public data."""
    used = sorted(set(run.results["source"]) - {"none"})
    lines = [f"**Data source:** {', '.join(SOURCE_TEXT.get(u, u) for u in used) or 'no input for this family'}."]
    missing = run.results[run.results["status"] == "not_available_from_source"]
    if len(missing):
        lines.append("**Not available from this source:** " + "; ".join(
            f"{html.escape(n)} ({html.escape(str(note))})" for n, note in
            missing.drop_duplicates("kpi_id")[["name", "note"]].itertuples(index=False)) + ".")
    for note in run.tables.notes:
        lines.append(f"*Source note:* {html.escape(note)}")
    if run.tables.licence:
        lines.append(f"*Licence:* {html.escape(run.tables.licence)}")
    _md("\n\n".join(lines))


def show_peers(run: FamilyRun) -> None:
    """Force against its comparison group and England and Wales (Home Office PFA tables only)."""
    pfa = run.tables.extras.get("home_office_pfa")
    if pfa is None:
        return
    from .sources.homeoffice import peer_comparison
    peers = load_peers(run.params.get("peers_file"))
    pops = None
    if peers.get("population_file"):
        pop = pd.read_csv(peers["population_file"], comment="#")
        pops = dict(zip(pop["force"], pop["population"], strict=True))
    quarters = run.period.quarters()
    table = peer_comparison(pfa, quarters[-1].start, peers["force"], peers["group"], pops, peers["averaging"])
    names = {"trc": "Total recorded crime", "vwi": "Violence with injury", "rape": "Rape",
             "robbery": "Robbery", "burglary_residential": "Residential burglary", "vehicle_crime": "Vehicle crime"}
    table["category"] = table["category"].map(names)
    for c in ("force", "group", "england_and_wales"):
        table[c] = table[c].map(lambda v: "—" if pd.isna(v) else f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}")
    table.columns = ["Category", "Measure", peers["force"], "Comparison group", "England and Wales"]
    _md(f"**Peer comparison, {quarters[-1].label}.** Group: {html.escape(peers['group_name'])} "
        f"({html.escape(', '.join(peers['group']))}); averaging: {peers['averaging']}. "
        + ("Rates per 1,000 people." if pops else "No population table supplied: counts and shares, not rates."))
    _html(frame_html(table, f"{peers['force']} against its comparison group and England and Wales"))
