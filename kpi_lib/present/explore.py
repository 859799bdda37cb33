"""What a family notebook's "Explore" cells (tagged ``explore``, never in the report) hand an
analyst: the SPC chart behind a KPI as a matplotlib figure to restyle. The DataFrames are the
run's own: ``run.results``, ``run.measurements``, ``run.spc``, ``run.breakdowns``, ``run.history``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from kpi_lib.present.notebook import FamilyRun


def spc_chart(run: FamilyRun, kpi_id: str | None = None, basis: str | None = None) -> Figure | None:
    """The SPC chart of ``kpi_id`` (default: the family's first KPI with a chart) as the KPI card
    draws it, without its title; None when the family has no chart this period."""
    from kpi_lib.present.charts import spc_figure
    keys = [k for k in run.charts if (kpi_id is None or k[0] == kpi_id) and (basis is None or k[1] == basis)]
    if not keys:
        return None
    key = keys[0]
    kpi = {k.id: k for k in run.catalogue}[key[0]]
    row = run.results[(run.results["kpi_id"] == key[0]) & (run.results["basis"].fillna("") == key[1])].iloc[0]
    return spc_figure(run.charts[key], unit=kpi.unit, grain=str(row["spc_grain"]), target=kpi.target)
