"""The analyst's entry points: the edge where configuration is loaded for you.

- :func:`compute` and :func:`breakdowns`: a period's KPI result table (or breakdowns) from a data
  folder, canonical tables or a measurement panel, with the default settings unless a
  configuration (or a settings file) is given;
- :func:`measure`: the measurement panel of a data folder (through the panel cache).

The pure functions behind them (:func:`kpi_lib.analyse.engine.compute` and friends) take the
loaded :class:`~kpi_lib.config.configuration.Configuration` and never read a file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kpi_lib.analyse import engine
from kpi_lib.config.configuration import Configuration, load_configuration
from kpi_lib.core.periods import Period
from kpi_lib.measure.panel import Panel


def _config(config: Configuration | dict | str | Path | None) -> Configuration:
    return config if isinstance(config, Configuration) else load_configuration(config)


def measure(data_dir: str | Path, config: Configuration | dict | str | Path | None = None) -> Panel:
    """The measurement panel of ``data_dir``: every KPI x month, quarter, year and rolling 12
    months x breakdown (from the panel cache when the inputs, settings and code are unchanged)."""
    from kpi_lib.measure.cache import get_panel
    return get_panel(data_dir, _config(config).params)[0]


def _source(data, config: Configuration):
    """A data folder is measured first; tables and panels are used as they are."""
    if isinstance(data, str | Path):
        from kpi_lib.measure.cache import get_panel
        return get_panel(data, config.params)[0]
    return data


def compute(period: Period | str, data, config: Configuration | dict | str | Path | None = None,
            families: list[str] | None = None) -> pd.DataFrame:
    """The KPI result table for ``period`` (a quarter such as "2024/25 Q4" or a year "2024/25")
    from ``data`` (a data folder, canonical tables or a panel)."""
    cfg = _config(config)
    return engine.compute(period, _source(data, cfg), cfg, families)


def breakdowns(period: Period | str, data, config: Configuration | dict | str | Path | None = None,
               families: list[str] | None = None) -> pd.DataFrame:
    """The period's breakdowns (by local area, crime type, outcome group, carbon source)."""
    cfg = _config(config)
    return engine.breakdowns(period, _source(data, cfg), cfg, families)
