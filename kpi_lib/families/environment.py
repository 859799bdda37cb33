"""Environment family: carbon footprint of policing in tonnes CO2e.

tCO2e = sum over sources of quantity x factor (kg CO2e per unit) / 1000, with factors by calendar
year from params/carbon_factors.yaml. A window is reported only when every month in it has data;
otherwise ``not_yet_available`` (the seed paper: the indicator was still being developed).
A quantity whose source, unit or year has no factor is an error naming them, never skipped.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from ..errors import InputError
from ..windows import Window
from ._common import frame, row, unavailable

KPI_IDS = ["carbon_footprint"]
DEFAULT_FACTORS = Path(__file__).resolve().parents[2] / "params" / "carbon_factors.yaml"


def load_factors(path: str | Path = DEFAULT_FACTORS) -> pd.DataFrame:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    f = pd.DataFrame(doc["factors"])
    f.attrs["reference"] = doc.get("reference", "")
    return f


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


def measure(carbon: pd.DataFrame | None, windows: list[Window], factors: pd.DataFrame | None = None) -> pd.DataFrame:
    rows = []
    if carbon is None or carbon.empty:
        return frame([unavailable("carbon_footprint", w, "not_yet_available",
                                  "No carbon data: the force has not yet supplied a carbon indicator.") for w in windows])
    em = emissions(carbon, load_factors() if factors is None else factors)
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


def breakdown(carbon: pd.DataFrame | None, w: Window, factors: pd.DataFrame | None = None) -> pd.DataFrame:
    cols = ["kpi_id", "dimension", "category", "value", "numerator", "denominator", "basis"]
    if carbon is None or carbon.empty:
        return pd.DataFrame(columns=cols)
    em = emissions(carbon, load_factors() if factors is None else factors)
    sel = em[(em["period_start"].dt.date >= w.start) & (em["period_start"].dt.date < w.end)]
    g = sel.groupby(["source", "unit", "kg_co2e_per_unit", "year"], as_index=False)[["quantity", "tco2e"]].sum()
    return pd.DataFrame({"kpi_id": "carbon_footprint", "dimension": "source",
                         "category": g["source"] + " (" + g["year"].astype(str) + " factor " +
                         g["kg_co2e_per_unit"].astype(str) + " kg/" + g["unit"] + ")",
                         "value": g["tco2e"], "numerator": g["quantity"], "denominator": float("nan"),
                         "basis": ""}, columns=cols)
