"""What the family notebooks show: one card per KPI (verdict, finding, chart with its title and
key, annotations, numbers behind the chart collapsed), then the family's full figures and
breakdowns collapsed, and where the figures came from. Reads a :class:`kpi_lib.present.notebook.FamilyRun`
and the KPI result rows; computes nothing and never restates a verdict.

Builders (``*_html``) are pure and return HTML strings; ``show_*`` display them in the notebook.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from kpi_lib.analyse.spc import VARIATION_LABELS
from kpi_lib.analyse.verdicts import VERDICTS
from kpi_lib.inputs.kinds import registered
from kpi_lib.measure import registry
from kpi_lib.present.charts import chart_title, png_bytes, spc_alt_text, spc_figure
from kpi_lib.present.lineage_view import details_html, load_lineage, record_id
from kpi_lib.present.narrative import STATUS_TEXT, finding, format_value, shown_change
from kpi_lib.present.summary import frame_html, kpi_anchor, plain_name, spell_out

if TYPE_CHECKING:  # only a type here: the report notebook imports this module without it
    from kpi_lib.present.notebook import FamilyRun

SOURCE_TEXT = {**{k.name: k.label for k in registered().values()}, "none": "no input"}
FAMILY_TITLES = {f.name: f.title for f in registry.FAMILIES}  # as each family declares it
BASIS_WORDS = {"cohort": "cohort basis", "in_period": "in-period basis"}


def _html(text: str) -> None:
    from IPython.display import HTML, display
    display(HTML(text))


def _annotations(run: FamilyRun) -> list:
    """The dated events that apply to the run (loaded once by the configuration layer)."""
    return list(getattr(run, "annotations", None) or [])


def verdict_html(row: Mapping, verdicts: Mapping[str, Any]) -> str:
    """The KPI's verdict, symbol plus the words from kpis.csv (never recomputed)."""
    code = str(row.get("verdict_code") or "")
    words = str(row.get("verdict") or "")
    if not code:
        return ""
    sym = getattr(verdicts.get(code), "symbol", "")
    return (f'<p class="verdict-line"><strong>Verdict:</strong> <span class="verdict-symbol" '
            f'aria-hidden="true">{html.escape(sym)}</span> {html.escape(words)}</p>')


def point_words(variation: Any) -> str:
    """An SPC point's variation in the report's words (:data:`VARIATION_LABELS`, the one label
    table the KPI sections use); an em dash for a point with none, never a raw code."""
    if variation is None or (isinstance(variation, float) and pd.isna(variation)) or variation == "":
        return "—"
    return VARIATION_LABELS.get(str(variation), "Not applicable")


def chart_numbers(chart: pd.DataFrame, unit: str, n: int = 13) -> pd.DataFrame:
    """The latest ``n`` points behind an SPC chart, formatted for reading."""
    t = chart.tail(n)[["x", "y", "mean", "lpl", "upl", "variation"]].copy()
    t["x"] = pd.to_datetime(t["x"]).dt.strftime("%b %Y")
    if unit == "percent":  # a percentage cannot fall below 0% or rise above 100%
        for c in ("mean", "lpl", "upl"):
            t[c] = pd.to_numeric(t[c], errors="coerce").clip(0, 100)
    for c in ("y", "mean", "lpl", "upl"):
        t[c] = t[c].map(lambda v: format_value(v, unit))
    t["variation"] = t["variation"].map(point_words)
    t.columns = ["Period starting", "Value", "Mean", "Lower limit", "Upper limit", "Variation"]
    return t


def limits_clipped(chart: pd.DataFrame, unit: str, n: int = 13) -> bool:
    """Whether a percent chart's limits, in the latest ``n`` points, were clipped at 0% or 100%
    (the engine's ``limits_clipped`` column, or a limit at the edge)."""
    if unit != "percent":
        return False
    t = chart.tail(n)
    if "limits_clipped" in t and t["limits_clipped"].astype(str).str.lower().isin(["true", "1", "1.0"]).any():
        return True
    lpl = pd.to_numeric(t["lpl"], errors="coerce")
    upl = pd.to_numeric(t["upl"], errors="coerce")
    return bool((lpl <= 0).any() or (upl >= 100).any())


def _number(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f


def target_text(row: Mapping, kpi) -> str:
    """The target as shown beside a KPI, with who set it: "90.0% (National 999 call answering
    standard ...)"; "" for a KPI without a target (no target, no target words)."""
    target = _number(row.get("target"))
    if target is None:
        target = _number(getattr(kpi, "target", None))
    if target is None:
        return ""
    source = str(row.get("target_source") or getattr(kpi, "target_source", "") or "").strip()
    return format_value(target, kpi.unit) + (f" ({source})" if source else "")


def chart_reading(row: Mapping, chart: pd.DataFrame, grain: str) -> str:
    """What a KPI's chart cannot say in its key and axis, in a line: too few points to judge (no
    usual range drawn), and the months not in the data (where the line breaks). The window the
    usual range comes from is in the key ("Usual range (from Apr 2023)"), and the age an outcome
    rate is counted at is on the value axis ("each month at 45 days")."""
    parts = []
    if str(row.get("spc_finding") or "") == "too_few":
        words = str(row.get("spc_words") or "too few points to judge")
        parts.append(f"{words[:1].upper()}{words[1:]}: no usual range is drawn.")
    gaps = chart["y"].isna() if len(chart) else pd.Series(dtype=bool)
    if gaps.any():
        from kpi_lib.measure.coverage import month_label
        months = [pd.Timestamp(x).date() for x in chart.loc[gaps, "x"]]
        parts.append(f"Not in the data: {month_label(months)} (the line breaks: never read as zero).")
    parts.append(maturity_note(row, grain))
    return " ".join(p for p in parts if p)


def maturity_note(row: Mapping, grain: str) -> str:
    """Why a cohort outcome rate's quarter tends to sit above its monthly points: each month is counted
    ``comparator_age_days`` after its own end, the quarter that many days after the quarter's
    end, so the quarter's earlier months have had longer to gather outcomes. Empty for any other
    chart."""
    age = _number(row.get("comparator_age_days"))
    if grain != "month" or age is None or str(row.get("basis") or "") != "cohort":
        return ""
    days = f"{age:.0f} days"
    value = row.get("value")
    figure = f"the quarter's figure ({format_value(value, str(row.get('unit') or 'percent'))})" if _number(value) is not None \
        else "the quarter's figure"
    return (f"Each month's point counts outcomes within {days} of the month's end; {figure} counts "
            f"outcomes up to {days} after the quarter ends, so its earlier months have had longer to "
            "gather outcomes and it tends to sit above the months.")


def card_html(row: Mapping, kpi, period_label: str, chart: pd.DataFrame | None,
              annotations: Iterable = (), verdicts: Mapping[str, Any] | None = None,
              grain: str = "month", period_start=None, lineage: Mapping | None = None) -> str:
    """One KPI's card: heading (the target of the summary's link), verdict, finding, the chart
    under a title that states the finding with its key above it, the annotations in words, the
    numbers behind the chart collapsed, and how the figure was made (``lineage``: its record in
    results/lineage.json) collapsed."""
    e = html.escape
    verdicts = verdicts if verdicts is not None else VERDICTS
    name = plain_name(kpi)
    parts = [f'<article class="kpi-card" aria-labelledby="{kpi_anchor(kpi.id)}">',
             f'<h3 id="{kpi_anchor(kpi.id)}">{e(name)}</h3>']
    has_chart = chart is not None and len(chart) >= 2
    if not has_chart:
        parts.append(verdict_html(row, verdicts))
    parts.append(f'<p class="finding">{e(spell_out(finding({**dict(row), "name": name}, period_label)))}</p>')
    target = target_text(row, kpi)
    if target:
        parts.append(f'<p class="target"><strong>Target:</strong> {e(target)}</p>')
    note = row.get("note")
    provisional = str(row.get("provisional", "")).lower() in ("true", "1", "1.0")
    if isinstance(note, str) and note and row.get("status") == "reported" and not provisional:
        parts.append(f'<p class="finding"><em>Note:</em> {e(note)}</p>')
    if has_chart:
        anns = [a for a in annotations
                if pd.Timestamp(chart["x"].min()) <= pd.Timestamp(a.date) <= pd.Timestamp(chart["x"].max())
                + pd.Timedelta(days=31)]
        title = chart_title(name, row, grain)
        # an outcome rate still maturing (kpis.csv: provisional) that is NOT charted at the same age:
        # the period's points drawn hollow (at most the latest quarter: a year run's earlier
        # quarters have largely matured). Charted at the same age, every point is as mature as the
        # latest, and the caption says so instead.
        same_age = _number(row.get("comparator_age_days"))
        prov_from = None
        if provisional and period_start is not None and same_age is None:
            last = pd.Timestamp(pd.to_datetime(chart["x"]).max())
            prov_from = max(pd.Timestamp(period_start),
                            last - pd.DateOffset(months=2) if grain == "month" else last)
        fig = spc_figure(chart, title=None, unit=kpi.unit, grain=grain, target=kpi.target, annotations=anns,
                         provisional_from=prov_from, age_days=same_age)
        alt = spc_alt_text(chart, name, kpi.unit, grain, kpi.target, annotations=anns, age_days=same_age)
        data = base64.b64encode(png_bytes(fig)).decode("ascii")
        sym = getattr(verdicts.get(str(row.get("verdict_code") or "")), "symbol", "")
        sym_html = f'<span class="verdict-symbol" aria-hidden="true">{e(sym)}</span> ' if sym else ""
        parts.append(f'<p class="chart-title">{sym_html}{e(title)}</p><figure>'
                     f'<img src="data:image/png;base64,{data}" alt="{e(alt)}">')
        if anns:
            items = "".join(f"<li>{e(pd.Timestamp(a.date).strftime('%-d %b %Y'))}: {e(a.text)}</li>"
                            for a in anns)
            parts.append(f'<figcaption>Marked on the chart (numbered):<ol class="annotations">{items}</ol></figcaption>')
        parts.append("</figure>")
        reading = chart_reading(row, chart, grain)
        if reading:
            parts.append(f'<p class="chart-note">{e(reading)}</p>')
        if prov_from is not None:
            parts.append('<p class="provisional-note"><em>Provisional:</em> the hollow points (from '
                         f"{e(prov_from.strftime('%B %Y'))}) are still maturing and will rise as "
                         "investigations close.</p>")
        clipped = (" Limits shown clipped at 0% (and 100%): a percentage cannot go beyond them."
                   if limits_clipped(chart, kpi.unit) else "")
        parts.append("<details><summary>Numbers behind the chart</summary>"
                     + (f'<p class="footnote">{e(clipped.strip())}</p>' if clipped else "")
                     + frame_html(chart_numbers(chart, kpi.unit), f"Latest points: {name}", scroll=True)
                     + "</details>")
    parts.append(details_html(lineage))
    parts.append("</article>")
    return "".join(p for p in parts if p)


def _family_words(r: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """(the family's source in words, its KPIs' counted words) for a result row's family."""
    from kpi_lib.measure.registry import BY_NAME

    fam = BY_NAME.get(str(r.get("family", "")))
    return (fam.source_words, dict(fam.counted_words)) if fam else ("", {})


def source_text(r: Mapping[str, Any]) -> str:
    """A KPI row's source in words: a survey family's own name for its records ("the public
    confidence survey") where the row comes from the force's records, else the kind of input."""
    source = str(r.get("source", "") or "none")
    return named_source(r) or SOURCE_TEXT.get(source, source)


def named_source(r: Mapping[str, Any]) -> str:
    """The survey family's own name for a row's source ("the public confidence survey") where the
    row comes from the force's records; else the empty string."""
    named = _family_words(r)[0]
    return named if named and str(r.get("source", "")) in ("canonical", "mapped") else ""


def counted_text(r: Mapping[str, Any], params: Mapping[str, Any] | None = None) -> str:
    """The counts behind a KPI row in words, labelled by what they count: "253 of 2,516"; for a
    survey's weighted sums, the family's words ("weighted respondents agreeing: 747 of 1,024"); for a
    median response time, whose numerator is the count attended within the grade's target (set
    in ``params``) and not part of the median, "attended within 60 min: 5,350 of 14,460"."""
    from kpi_lib.config.catalogue import setting_text
    from kpi_lib.measure.families.response import WITHIN_TARGET_SETTING

    num, den = r.get("numerator"), r.get("denominator")
    if pd.isna(num) and pd.isna(den):
        return "—"
    if pd.isna(den):
        return f"{num:,.0f}"
    of = f"{'—' if pd.isna(num) else format(num, ',.0f')} of {den:,.0f}"
    words = _family_words(r)[1].get(str(r.get("kpi_id", "")))
    if words:
        return f"{words}: {of}"
    setting = WITHIN_TARGET_SETTING.get(str(r.get("kpi_id", "")))
    if setting:
        target = (params or {}).get(setting)
        return f"attended within {setting_text(target)} min: {of}" if target is not None else f"attended within target: {of}"
    return of


def kpi_overview(run: FamilyRun) -> pd.DataFrame:
    """The family's KPI rows as a readable table (headline and other bases)."""
    rows = []
    names = {k.id: plain_name(k) for k in getattr(run, "catalogue", None) or []}
    for _, r in run.results.iterrows():
        basis = BASIS_WORDS.get(r["basis"], "") if isinstance(r["basis"], str) else ""
        rows.append({
            "KPI": names.get(r["kpi_id"], r["name"]) + (f" ({basis})" if basis else ""),
            "Value": format_value(r["value"], r["unit"]) if r["status"] == "reported" else STATUS_TEXT[r["status"]],
            "95% interval": (f"{format_value(r['ci_low'], r['unit'])} to {format_value(r['ci_high'], r['unit'])}"
                             if not pd.isna(r["ci_low"]) else "—"),
            "Counts": counted_text(r, getattr(run, "params", None)),
            "Same period last year": format_value(r["last_year_value"], r["unit"]),
            "Change": ("—" if pd.isna(r["change_last_year"])
                       else shown_change(r["value"], r["last_year_value"], r["unit"])),
            "12 months vs previous 12": ("—" if pd.isna(r["change_12m"])
                                         else shown_change(r["rolling12_value"], r["previous12_value"], r["unit"])),
            "Source": source_text(r),
        })
    return pd.DataFrame(rows)


def heading_html(family: str) -> str:
    """The family's section heading (the report's contents list links to its id) and its
    introduction, as the family declares them (:class:`kpi_lib.measure.families._common.Family`)."""
    fam = registry.family(family)
    return (f'<h2 id="family-{html.escape(fam.name)}">{html.escape(fam.title)}</h2>\n'
            f"<p>{html.escape(fam.introduction)}</p>")


def show_overview(run: FamilyRun) -> None:
    """A one-line synthetic note (when synthetic), and every figure of the family collapsed."""
    if run.tables.synthetic:
        _html('<p class="screen-only"><strong>Synthetic sample data:</strong> every number in this '
              "section is invented, for testing and demonstration only.</p>")
    title = f"{FAMILY_TITLES[run.family]}: every figure for {run.period.label}"
    _html(f"<details><summary>{html.escape(title)}</summary>"
          + frame_html(kpi_overview(run), title, scroll=True) + "</details>")


def _chart_for(run: FamilyRun, kpi, row) -> pd.DataFrame | None:
    """The SPC chart behind a KPI row, as the engine computed it with the row (like for like,
    seasonal limits and annotations applied)."""
    basis = row["basis"] if isinstance(row["basis"], str) else ""
    return run.charts.get((kpi.id, basis))


def charted(results: pd.DataFrame) -> pd.Series:
    """Which KPI rows get an SPC chart on their card: reported, with an SPC grain. (The runner
    counts a notebook's charts with this too, to start the longest notebooks first.)"""
    grain = results["spc_grain"].astype(str) if "spc_grain" in results else pd.Series("none", index=results.index)
    return (results["status"] == "reported") & ~grain.isin(["none", ""])


def show_kpis(run: FamilyRun) -> None:
    """One card per headline KPI, two to a row on a wide screen."""
    cat = {k.id: k for k in run.catalogue}
    anns_all = _annotations(run)
    verdicts = VERDICTS
    cards = []
    lineage = load_lineage(Path(run.out_dir) / "results")
    headline = run.results[run.results["headline"].astype(bool)]
    for (_, r), with_chart in zip(headline.iterrows(), charted(headline), strict=True):
        kpi = cat[r["kpi_id"]]
        grain = str(r.get("spc_grain", "none"))
        chart = _chart_for(run, kpi, r) if with_chart else None
        anns = [a for a in anns_all if a.applies_to(kpi.id)]
        basis = r["basis"] if isinstance(r["basis"], str) else ""
        cards.append(card_html(r, kpi, run.period.label, chart, anns, verdicts, grain,
                               period_start=run.period.start,
                               lineage=lineage.get(record_id(kpi.id, basis))))
    _html('<div class="kpi-grid">' + "".join(cards) + "</div>")


def breakdown_wide(bd: pd.DataFrame, names: Mapping[str, str], units: Mapping[str, str],
                   dimension: str) -> pd.DataFrame:
    """A breakdown in wide form: one row per category (area, crime type, ...), one column per
    KPI (and basis, where a KPI has two), never the KPI name repeated on every row."""
    t = bd[bd["dimension"] == dimension].copy()
    if t.empty:
        return pd.DataFrame()
    basis = t["basis"].fillna("").astype(str) if "basis" in t else pd.Series("", index=t.index)
    multi = t.assign(_b=basis).groupby("kpi_id")["_b"].nunique()
    t["column"] = [names.get(k, k) + (f" ({BASIS_WORDS.get(b, b)})" if multi.get(k, 1) > 1 and b else "")
                   for k, b in zip(t["kpi_id"], basis, strict=True)]
    t["text"] = [format_value(v, units.get(k, "percent")) for v, k in zip(t["value"], t["kpi_id"], strict=True)]
    order = list(dict.fromkeys(t["column"]))
    wide = t.pivot_table(index="category", columns="column", values="text", aggfunc="first", sort=False)
    wide = wide.reindex(columns=order).fillna("—")
    wide.columns.name = None
    if "sample_n" in t and t["sample_n"].notna().any():
        n = t.groupby("category", sort=False)["sample_n"].max()
        wide["Respondents"] = n.reindex(wide.index).map(lambda v: "—" if pd.isna(v) else f"{v:,.0f}")
    wide.index.name = dimension[:1].upper() + dimension[1:]
    return wide.reset_index()


def within_target_names(params: Mapping[str, Any]) -> dict[str, str]:
    """The names of the "% attended within target" measures, built from the target settings
    (a label always says the target it was measured against)."""
    from kpi_lib.config.catalogue import setting_text
    return {f"response_grade{g}_within_target":
            f"Grade {g}: % attended within {setting_text(params.get(f'grade{g}_target_minutes'))} minutes"
            for g in (1, 2)}


NO_LOCATION = ("No location", "Unknown", "")


def outside_areas(bd: pd.DataFrame, own_areas: Iterable[str] | None = None) -> tuple[pd.DataFrame, str]:
    """Local-area rows split into the force's own areas and the rest: "No location" (and, when the
    force's own areas are known, areas outside the force) go to a note with their counts, so the
    table lists only the force's areas. Returns (rows to show, note or "")."""
    own = set(own_areas) if own_areas else None
    cat = bd["category"].fillna("").astype(str)
    away = cat.isin(NO_LOCATION) | (~cat.isin(own) if own is not None else False)
    if not away.any():
        return bd, ""
    gone = bd[away]
    volumes = gone[gone["kpi_id"].str.endswith("_volume")]
    first = "trc_volume" if (volumes["kpi_id"] == "trc_volume").any() else \
        (volumes["kpi_id"].iloc[0] if len(volumes) else None)
    counts = volumes[volumes["kpi_id"] == first]
    parts = []
    for name in dict.fromkeys(gone["category"].fillna("").astype(str)):
        label = name or "No location"
        n = counts.loc[counts["category"].fillna("").astype(str) == name, "value"]
        parts.append(f"{label} ({n.iloc[0]:,.0f} crimes)" if len(n) and not pd.isna(n.iloc[0]) else label)
    return bd[~away], ("Not in the table, because they are not among the force's own areas: "
                       + "; ".join(parts) + ".")


#: breakdown dimension -> (the heading a reader sees, the name of its first column)
DIMENSION_WORDS = {
    "within target": ("Attended within the target time", "Incidents"),
    "source": ("By source of emissions", "Source"),
    "local area": ("By local area", "Local area"),
    "crime type": ("By type of crime", "Type of crime"),
    "outcome group": ("By outcome", "Outcome"),
}


def category_words(label: object) -> str:
    """A breakdown category as a reader says it: "natural_gas (2025 factor ...)" reads "Natural
    gas (2025 factor ...)", "all incidents" reads "All incidents". Names from the data (areas)
    are kept as written; only a leading code (lower case words joined by underscores) is spelled
    out."""
    text = str(label).strip()
    m = re.match(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", text)
    if m:
        text = m.group(0).replace("_", " ") + text[m.end():]
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def show_breakdowns(run: FamilyRun) -> None:
    """Every breakdown the family declares it shows (``Family.breakdown_dimensions``), in order."""
    for dimension in registry.family(run.family).breakdown_dimensions:
        show_breakdown(run, dimension)


def show_breakdown(run: FamilyRun, dimension: str) -> None:
    """A breakdown, wide and collapsed by default."""
    cat = {k.id: k for k in run.catalogue}
    names = {**{k: plain_name(v) for k, v in cat.items()}, **within_target_names(run.params)}
    units = {k: v.unit for k, v in cat.items()}
    bd, note = run.breakdowns, ""
    if dimension == "local area" and len(bd):
        # the force's own areas: a `local_areas` list in the settings or the peer settings, when given
        own = (run.params.get("local_areas") if isinstance(run.params, dict) else None) or \
            (getattr(run, "peer_settings", None) or {}).get("local_areas")
        part, note = outside_areas(bd[bd["dimension"] == dimension], own)
        bd = pd.concat([bd[bd["dimension"] != dimension], part])
    wide = breakdown_wide(bd, names, units, dimension)
    if len(wide):
        first = wide.columns[0]
        wide[first] = wide[first].map(category_words)
        if dimension in DIMENSION_WORDS:
            wide = wide.rename(columns={first: DIMENSION_WORDS[dimension][1]})
    words = DIMENSION_WORDS.get(dimension, (f"By {dimension}", ""))[0]
    title = f"{FAMILY_TITLES[run.family]}: {words[:1].lower()}{words[1:]}, {run.period.label}"
    if wide.empty:
        _html(f"<p>No breakdown by {html.escape(dimension)} is available from these inputs.</p>")
        return
    _html(f"<details><summary>{html.escape(words)}</summary>"
          + frame_html(wide, title, scroll=True)
          + (f"<p>{html.escape(note)}</p>" if note else "") + "</details>")


def sources_html(results: pd.DataFrame, notes: Iterable[str] = (), licence: str | None = None) -> str:
    """Where the figures came from; what this source cannot give ("not available from this
    source", which is not "not yet available"); source notes; the licence, only for sources
    that were used."""
    e = html.escape
    used = sorted(set(results["source"].fillna("none")) - {"none", ""})
    shown = sorted({source_text(r) for r in results.to_dict("records") if r.get("source") in used})
    lines = [f"<p><strong>Data source:</strong> {e(', '.join(shown) or 'no input for this family')}.</p>"]
    missing = results[results["status"] == "not_available_from_source"].drop_duplicates("kpi_id")
    if len(missing):
        lines.append("<p><strong>What this source cannot give:</strong> " + "; ".join(
            f"{e(str(n))} ({e(str(note))})" if isinstance(note, str) and note else e(str(n))
            for n, note in missing[["name", "note"]].itertuples(index=False))
            + ". This is a limit of the source, not a delay: these figures will not arrive later.</p>")
    lines += [f"<p><em>Source note:</em> {e(n)}</p>" for n in notes]
    if licence and used and used != ["canonical"]:
        lines.append(f"<p><em>Licence:</em> {e(licence)}</p>")
    return "".join(lines)


def show_sources(run: FamilyRun) -> None:
    _html(sources_html(run.results, run.tables.notes, run.tables.licence))


def peers_html(table: pd.DataFrame, settings: Mapping[str, Any], quarter_label: str,
               labels: Mapping[str, str] | None = None) -> str:
    """The force against its comparison group and England and Wales (Home Office PFA tables),
    collapsed; empty when there is no comparison. ``labels``: crime category -> its name (from
    the crime categories file)."""
    if table is None or table.empty:
        return ""
    t = table.copy()
    t["category"] = [(labels or {}).get(c) or str(c).replace("_", " ").capitalize() for c in t["category"]]
    for c in ("force", "group", "england_and_wales"):
        t[c] = t[c].map(lambda v: "—" if pd.isna(v) else f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}")
    force = str(settings.get("force", "This force"))
    t = t[["category", "measure", "force", "group", "england_and_wales"]]
    t.columns = ["Category", "Measure", force, "Comparison group", "England and Wales"]
    per_people = t["Measure"].astype(str).str.contains("per 1,000").any()
    group = settings.get("group") or []
    intro = (f"{quarter_label}. Comparison group: {settings.get('group_name', 'similar forces')}"
             + (f" ({', '.join(group)})" if group else "") + f"; averaging: {settings.get('averaging', 'weighted')}. "
             + ("Rates per 1,000 people." if per_people else "No population table was supplied, so these are "
                "counts and shares, not rates."))
    return (f"<details><summary>How the force compares with similar forces</summary><p>{html.escape(intro)}</p>"
            + frame_html(t, f"{force} against its comparison group and England and Wales", scroll=True)
            + "</details>")


def show_peers(run: FamilyRun) -> None:
    """Force against its comparison group and England and Wales (Home Office PFA tables only)."""
    table = getattr(run, "peers", None)
    settings = getattr(run, "peer_settings", None) or {}
    labels = run.panel.info.get("category_labels") if getattr(run, "panel", None) is not None else None
    text = peers_html(table, settings, run.period.quarters()[-1].label, labels) if table is not None else ""
    if text:
        _html(text)
