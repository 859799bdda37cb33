"""Local areas: each KPI by area for the period (counts, rates per 1,000 people with intervals
where a population is given, charge rates with intervals), and each area's monthly series as an
XmR chart, all areas of a KPI on one scale (small multiples).

Councillors ask about their own area first. Areas differ in size, so counts are compared with
care: with the ``area_population`` setting the table gives rates per 1,000 people, with an exact
95% interval for a Poisson count (Garwood); without it, counts, and the report says why. A
charge rate by area is the cohort proportion of the area's crimes of the category, with a Wilson
interval (its numerator and denominator shown): small areas have wide intervals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from kpi_lib.analyse import spc
from kpi_lib.config.annotations import rebase_dates
from kpi_lib.config.catalogue import Kpi
from kpi_lib.core.periods import Period
from kpi_lib.core.windows import period_window
from kpi_lib.measure.panel import Panel

DIMENSION = "local area"
AREA_COLUMNS = ["kpi_id", "area", "value", "numerator", "denominator", "ci_low", "ci_high",
                "per_1000", "per_1000_low", "per_1000_high", "population", "basis"]


def poisson_interval(count: np.ndarray, z_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval for Poisson counts: chi-square quantiles, 0 below at a count of 0."""
    from scipy.stats import chi2
    count = np.asarray(count, dtype=float)
    a = (1 - z_level) / 2
    low = np.where(count > 0, chi2.ppf(a, 2 * count) / 2, 0.0)
    high = chi2.ppf(1 - a, 2 * count + 2) / 2
    return low, high


def area_rows(breakdowns: pd.DataFrame, catalogue: list[Kpi], population: Mapping[str, float] | None,
              headline_basis: str = "cohort") -> pd.DataFrame:
    """The period's local-area rows of every KPI (from the period's breakdowns): volumes with
    rates per 1,000 people and their intervals when ``population`` is given, rates on the
    headline basis with their intervals. Columns :data:`AREA_COLUMNS`."""
    units = {k.id: k.unit for k in catalogue}
    b = breakdowns[(breakdowns["dimension"] == DIMENSION) & breakdowns["kpi_id"].isin(units)].copy()
    basis = b["basis"].fillna("").astype(str)
    b = b[(basis == "") | (basis == headline_basis)]
    out = pd.DataFrame({
        "kpi_id": b["kpi_id"].to_numpy(), "area": b["category"].astype(str).to_numpy(),
        "value": b["value"].to_numpy(float), "numerator": b["numerator"].to_numpy(float),
        "denominator": b["denominator"].to_numpy(float), "ci_low": b["ci_low"].to_numpy(float),
        "ci_high": b["ci_high"].to_numpy(float), "basis": b["basis"].fillna("").astype(str).to_numpy()})
    pop = out["area"].map(dict(population or {})).astype(float)
    counts = out["kpi_id"].map(units).eq("count").to_numpy()
    out["population"] = pop
    out["per_1000"] = np.where(counts, 1000 * out["value"] / pop, math.nan)
    lo, hi = poisson_interval(np.where(counts, out["value"].fillna(0), 0))
    out["per_1000_low"] = np.where(counts, 1000 * lo / pop, math.nan)
    out["per_1000_high"] = np.where(counts, 1000 * hi / pop, math.nan)
    order = {k.id: i for i, k in enumerate(catalogue)}
    out = out.assign(_o=out["kpi_id"].map(order)).sort_values(["_o", "area"], kind="stable").drop(columns="_o")
    return out[AREA_COLUMNS].reset_index(drop=True)


def monthly_by_area(panel: Panel, kpi_id: str, period: Period | str, months: int = 36) -> pd.DataFrame:
    """One KPI's monthly values by local area up to the period's end (the last ``months``
    months): columns area, x (month start), y."""
    p = Period.parse(period)
    end = period_window(p).end
    m = panel.measurements
    sel = m[(m["breakdown_dim"] == DIMENSION) & (m["kpi_id"] == kpi_id) & (m["window_kind"] == "month")
            & (m["status"] == "reported")]
    x = pd.to_datetime(sel["window_start"])
    first = pd.Timestamp(end) - pd.DateOffset(months=months)
    keep = (x < pd.Timestamp(end)) & (x >= first)
    return pd.DataFrame({"area": sel.loc[keep, "breakdown_value"].astype(str).to_numpy(),
                         "x": x[keep].to_numpy(), "y": sel.loc[keep, "value"].to_numpy(float)})


def area_charts(panel: Panel, kpi: Kpi, period: Period | str, params: dict, annotations: list = (),
                months: int = 36, areas: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """An XmR chart of each area's monthly series of ``kpi`` (the KPI's polarity, seasonal limits
    when the KPI is in ``spc_seasonal``, rebasing at its annotated dates, outlier screening as
    set), area -> chart table, areas in name order (``areas``: only these)."""
    series = monthly_by_area(panel, kpi.id, period, months)
    out = {}
    for area, s in series.groupby("area", sort=True):
        if areas is not None and area not in areas:
            continue
        if len(s) < 2:
            continue
        out[area] = spc.xmr(s[["x", "y"]], polarity=kpi.polarity, target=None,
                            screen_outliers=bool(params.get("spc_screen_outliers", True)),
                            rebase=rebase_dates(list(annotations), kpi.id),
                            seasonal=kpi.id in (params.get("spc_seasonal") or []))
    return out
