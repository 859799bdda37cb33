"""The recipes of docs/architecture.md, each done here: a new KPI and a new statistic. (A new input
kind is done by tests/inputs/test_kinds.py, a new output format by tests/present/test_formats.py.)"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from kpi_lib.analyse import engine, results
from kpi_lib.analyse.columns import RESULTS, Column, between
from kpi_lib.config.catalogue import Kpi
from kpi_lib.present import excel


def test_a_new_kpi_is_a_catalogue_entry_and_its_measurement_rows(small_panel, config):
    """Recipe 1: a catalogue entry (id, family, unit, polarity, ...) and the family's measurement
    rows for it; the engine then gives it every comparison, test, SPC chart and verdict."""
    toy = Kpi(id="toy_crime_volume", plan_priority="-", improvement_area="-", name="Toy crime volume",
              pmf_integration="-", family="crime", unit="count", polarity="lower_better",
              frequency="quarterly", definition="Every crime, counted again (a recipe test).",
              supplementary=True)
    m = small_panel.measurements
    twin = m[m["kpi_id"] == "trc_volume"].assign(kpi_id="toy_crime_volume")  # what the family would measure
    panel = replace(small_panel, measurements=pd.concat([m, twin], ignore_index=True))
    cfg = replace(config, catalogue=[*config.catalogue, toy])
    got = engine.compute("2024/25 Q4", panel, cfg).set_index("kpi_id")
    new, trc = got.loc["toy_crime_volume"], got.loc["trc_volume"]
    for col in ("value", "last_year_value", "change_12m", "last_year_p_value", "spc_variation", "verdict"):
        assert new[col] == trc[col], col
    assert new["name"] == "Toy crime volume" and new["status"] == "reported"
    results.validate(got.reset_index())  # the new row passes the schema as it is


def test_a_new_statistic_is_a_pure_function_and_one_column(small_panel, config, tmp_path):
    """Recipe 4: a pure function from the result rows (or measurements) to a value per row, and one
    column declared in kpi_lib.analyse.columns: it is then checked, written, read and labelled."""
    def interval_width_pct(rows: pd.DataFrame) -> pd.Series:
        """The 95% interval's width as a share of the value (a toy statistic)."""
        return 100 * (rows["ci_high"] - rows["ci_low"]) / rows["value"].abs().replace(0, np.nan)

    table = RESULTS.with_column(Column("interval_width_pct", float, "95% interval width (% of value)",
                                       nullable=True, check=between(0, None), excel="0.0"))
    rows = engine.compute("2024/25 Q4", small_panel, config)
    rows = rows.assign(interval_width_pct=interval_width_pct(rows))
    written = results.write_results(rows, tmp_path / "kpis.csv", table)
    back = results.read_results(tmp_path / "kpis.csv", table)
    with_interval = back[back["ci_low"].notna() & (back["value"] > 0)]
    assert len(with_interval) > 5
    for r in with_interval.itertuples():
        # kpis.csv keeps ten significant digits
        assert r.interval_width_pct == pytest.approx(100 * (r.ci_high - r.ci_low) / r.value, rel=1e-8)
    assert excel.headers((table,))["interval_width_pct"] == "95% interval width (% of value)"
    assert list(written.columns) == table.names

