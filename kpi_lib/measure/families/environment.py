"""Environment family: carbon footprint of policing in tonnes CO2e.

tCO2e = sum over sources of quantity x factor (kg CO2e per unit) / 1000, with factors by calendar
year from params/carbon_factors.yaml (loaded once by the configuration layer,
:func:`kpi_lib.config.configuration.load_configuration`). A window is reported only when every month in it has data;
otherwise ``not_yet_available`` (the seed paper: the indicator was still being developed).
A quantity whose source, unit or year has no factor is an error naming them, never skipped.
"""

from __future__ import annotations

import pandas as pd

from kpi_lib.config.configuration import Configuration
from kpi_lib.core.errors import InputError
from kpi_lib.core.windows import Window
from kpi_lib.measure.families._common import (
    BREAKDOWN_COLUMNS,
    Family,
    breakdown_frame,
    frame,
    row,
    unavailable,
)

KPI_IDS = ["carbon_footprint"]


def emissions(carbon: pd.DataFrame, factors: pd.DataFrame) -> pd.DataFrame:
    """Each carbon row with the factor used and its tCO2e."""
    df = carbon.copy()
    df["year"] = df["period_start"].dt.year
    merged = df.merge(factors, on=["year", "source", "unit"], how="left")
    missing = merged["kg_co2e_per_unit"].isna()
    if missing.any():
        i = int(missing.to_numpy().nonzero()[0][0])
        r = merged.iloc[i]
        raise InputError("carbon", "no conversion factor for this source, unit and year", row=i + 1,
                         column="source", value=f"{r['source']} ({r['unit']}, {r['year']})",
                         expected="a matching row in params/carbon_factors.yaml")
    merged["tco2e"] = merged["quantity"] * merged["kg_co2e_per_unit"] / 1000
    return merged


def measure(em: pd.DataFrame | None, windows: list[Window], params: dict | None = None) -> pd.DataFrame:
    """Carbon footprint per window from :func:`emissions` rows (None or empty: no carbon data)."""
    rows = []
    if em is None or em.empty:
        return frame([unavailable("carbon_footprint", w, "not_yet_available",
                                  "No carbon data: the force has not yet supplied a carbon indicator.") for w in windows])
    months = set(em["period_start"].dt.date)
    for w in windows:
        needed = pd.date_range(w.start, w.end, freq="MS", inclusive="left").date
        if not set(needed) <= months:
            rows.append(unavailable("carbon_footprint", w, "not_yet_available",
                                    "Carbon data do not cover every month of this period."))
            continue
        sel = em[(em["period_start"].dt.date >= w.start) & (em["period_start"].dt.date < w.end)]
        by_source = sel.groupby("source")["tco2e"].sum()
        parts = "; ".join(f"{s.replace('_', ' ')} {v:,.0f}" for s, v in by_source.items())
        rows.append(row("carbon_footprint", w, value=float(sel["tco2e"].sum()),
                        note=f"tCO2e by source: {parts}."))
    return frame(rows)


def breakdown(em: pd.DataFrame | None, w: Window, params: dict | None = None) -> pd.DataFrame:
    """tCO2e by source for one window, naming the factor and its year."""
    if em is None or em.empty:
        return breakdown_frame(pd.DataFrame(columns=BREAKDOWN_COLUMNS))
    sel = em[(em["period_start"].dt.date >= w.start) & (em["period_start"].dt.date < w.end)]
    g = sel.groupby(["source", "unit", "kg_co2e_per_unit", "year"], as_index=False)[["quantity", "tco2e"]].sum()
    return breakdown_frame(pd.DataFrame({
        "kpi_id": "carbon_footprint", "dimension": "source",
        "category": g["source"] + " (" + g["year"].astype(str) + " factor " +
        g["kg_co2e_per_unit"].astype(str) + " kg/" + g["unit"] + ")",
        "value": g["tco2e"], "numerator": g["quantity"], "denominator": float("nan"), "basis": ""}))


def prepare(tables, config: Configuration) -> pd.DataFrame:
    """Emissions per carbon row; an empty table when there are no carbon data (every window is
    then "not yet available", as the indicator is still being developed, not absent by design)."""
    carbon = tables.get("carbon")
    if carbon is None or carbon.empty:
        return pd.DataFrame()
    return emissions(carbon, config.carbon_factors)


FAMILY = Family(
    name="environment", title="Environment",
    spc_grain="month",
    introduction=(
        "The carbon footprint of policing, in tonnes of carbon dioxide equivalent, from "
        "buildings' energy and fleet fuel."),
    tables=("carbon",), kpi_ids=tuple(KPI_IDS),
    prepare=prepare, measure=measure, breakdown=breakdown, breakdown_dimensions=("source",))
