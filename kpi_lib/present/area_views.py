"""Local areas, as a family notebook and the report's area appendix show them: each crime KPI by
area for the period (counts, or rates per 1,000 people with intervals where the
``area_population`` setting gives a population; charge rates with intervals and their counts),
and each area's monthly series as an SPC chart, all areas on one scale (small multiples).
Figures come from :mod:`kpi_lib.analyse.areas`; this module only words and draws them."""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

import pandas as pd

from kpi_lib.analyse.areas import area_charts, area_rows
from kpi_lib.analyse.spc import VARIATION_LABELS
from kpi_lib.present.narrative import format_value
from kpi_lib.present.summary import frame_html, plain_name

if TYPE_CHECKING:
    from kpi_lib.present.notebook import FamilyRun

NO_LOCATION = ("No location", "Unknown", "")


def _interval(lo: float, hi: float, unit: str) -> str:
    return f"{format_value(lo, unit)} to {format_value(hi, unit)}"


def _own(areas: pd.Series, own: list[str] | None) -> pd.Series:
    away = areas.isin(NO_LOCATION)
    if own:
        away |= ~areas.isin(own)
    return ~away


def area_tables(rows: pd.DataFrame, catalogue, population: dict | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two wide tables (one row per area): each volume KPI (with its rate per 1,000 people and
    interval where a population is given), and each charge rate with its interval and count."""
    kpis = {k.id: k for k in catalogue}
    vol = rows[rows["kpi_id"].map(lambda k: kpis[k].unit == "count")]
    rate = rows[rows["kpi_id"].map(lambda k: kpis[k].unit == "percent")]
    volumes = pd.DataFrame({"Area": sorted(set(rows["area"]))})
    if population:
        volumes["Population"] = volumes["Area"].map(lambda a: f"{population[a]:,.0f}" if a in population else "not given")
    for kid, part in vol.groupby("kpi_id", sort=False):
        cell = {}
        for _, r in part.iterrows():
            text = format_value(r["value"], "count")
            if not pd.isna(r["per_1000"]):
                text += (f" ({r['per_1000']:.1f} per 1,000; {r['per_1000_low']:.1f} to {r['per_1000_high']:.1f})")
            cell[r["area"]] = text
        volumes[plain_name(kpis[kid])] = volumes["Area"].map(cell).fillna("—")
    rates = pd.DataFrame({"Area": sorted(set(rows["area"]))})
    for kid, part in rate.groupby("kpi_id", sort=False):
        cell = {r["area"]: (f"{format_value(r['value'], 'percent')} ({_interval(r['ci_low'], r['ci_high'], 'percent')}; "
                            f"{r['numerator']:,.0f} of {r['denominator']:,.0f})"
                            if not pd.isna(r["ci_low"]) else
                            f"{format_value(r['value'], 'percent')} ({r['numerator']:,.0f} of {r['denominator']:,.0f})")
                for _, r in part.iterrows()}
        rates[plain_name(kpis[kid])] = rates["Area"].map(cell).fillna("—")
    return volumes, rates


def small_multiples_html(charts: dict[str, pd.DataFrame], name: str, unit: str, title: str) -> str:
    """The small multiples as an image with alt text, and the latest point of each area in words."""
    from kpi_lib.present.charts import png_bytes, spc_small_multiples

    if not charts:
        return ""
    fig = spc_small_multiples(charts, unit=unit, grain="month")
    data = base64.b64encode(png_bytes(fig)).decode("ascii")
    latest = pd.DataFrame([{"Area": a, "Latest month": pd.Timestamp(c["x"].iloc[-1]).strftime("%b %Y"),
                            "Value": format_value(c["y"].iloc[-1], unit),
                            "Mean": format_value(c["mean"].iloc[-1], unit),
                            "Process limits": _interval(c["lpl"].iloc[-1], c["upl"].iloc[-1], unit),
                            "Latest point": VARIATION_LABELS.get(c["variation"].iloc[-1], c["variation"].iloc[-1])}
                           for a, c in charts.items()])
    unusual = latest[~latest["Latest point"].str.lower().str.startswith(("common", "no data", "not"))]
    alt = (f"SPC charts of {name}, one per area ({len(charts)} areas), each month, all on the same scale. "
           + ("Latest month: " + "; ".join(f"{r['Area']} {r['Latest point'].lower()}" for _, r in unusual.iterrows())
              if len(unusual) else "In the latest month every area is within its usual variation."))
    e = html.escape
    return (f'<p class="chart-title">{e(title)}</p><figure><img src="data:image/png;base64,{data}" alt="{e(alt)}">'
            "</figure><details><summary>Numbers behind the area charts</summary>"
            + frame_html(latest, f"Latest month by area: {name}", scroll=True) + "</details>")


def areas_html(run: FamilyRun, months: int = 36) -> str:
    """The local-area section of a family notebook (see the module doc)."""
    params = run.params if isinstance(run.params, dict) else {}
    info = run.panel.info if getattr(run, "panel", None) is not None else {}
    pop_info = info.get("area_population") or None
    population = (pop_info or {}).get("populations")
    rows = area_rows(run.breakdowns, run.catalogue, population, params.get("headline_basis", "cohort"))
    e = html.escape
    if rows.empty:
        return "<p>No figures by local area are available from these inputs.</p>"
    own = params.get("local_areas") or (getattr(run, "peer_settings", None) or {}).get("local_areas")
    keep = _own(rows["area"], own)
    left_out = sorted(set(rows.loc[~keep, "area"]))
    rows = rows[keep]
    volumes, rates = area_tables(rows, run.catalogue, population)
    label = run.period.label
    parts = []
    if population:
        parts.append(f"<p>Rates per 1,000 people use the population of each area from {e(pop_info.get('source', ''))} "
                     f"({e(pop_info.get('file', ''))}); the range after each rate is its 95% interval (an exact "
                     "interval for a count).</p>")
    else:
        parts.append("<p>These are counts, not rates: no population for each area was supplied with the "
                     "data, and areas differ in size, so compare them with care.</p>")
    title = f"Recorded crime by local area, {label}"
    parts.append(f"<details><summary>{e(title)}</summary>" + frame_html(volumes, title, scroll=True) + "</details>")
    if not rates.empty:
        basis = params.get("headline_basis", "cohort").replace("_", "-")
        title = f"Charge and summons rates by local area, {label}"
        parts.append(f"<details><summary>{e(title)}</summary>"
                     f"<p>Charged or summonsed (outcomes {e(', '.join(params.get('charge_outcome_types', [])))}) as "
                     f"a share of each area's crimes of the kind, on the {e(basis)} basis, with its 95% interval "
                     "and the count behind it. Small areas have wide intervals: an area's rate differs from "
                     "another's only where the intervals do not overlap.</p>"
                     + frame_html(rates, title, scroll=True) + "</details>")
    if left_out:
        parts.append(f"<p>Not shown, because they are not among the force's own areas: {e(', '.join(left_out))}.</p>")
    volume_kpis = [k for k in run.catalogue if k.family == run.family and k.unit == "count"
                   and k.id in set(rows["kpi_id"])]
    if volume_kpis:
        kpi = volume_kpis[0]
        charts = area_charts(run.panel, kpi, run.period, params, getattr(run, "annotations", []) or [], months,
                             areas=sorted(set(rows["area"])))
        name = plain_name(kpi)
        parts.append(small_multiples_html(charts, name, kpi.unit,
                                          f"{name} by area, each month: one chart per area, on the same scale"))
    return "".join(parts)


def show_areas(run: FamilyRun) -> None:
    """The local-area section (tables and small multiples), in a notebook."""
    from IPython.display import HTML, display
    display(HTML(areas_html(run)))
