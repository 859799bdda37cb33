"""The analyst's entry points: the edge where configuration is loaded for you.

- :func:`compute` and :func:`breakdowns`: a period's KPI result table (or breakdowns) from a data
  folder, canonical tables or a measurement panel, with the default settings unless a
  configuration (or a settings file) is given;
- :func:`measure`: the measurement panel of a data folder (through the panel cache);
- :func:`open_run`: a finished run's folder as DataFrames (:class:`Run`: results, history, SPC
  points, breakdowns, manifest, inputs, measurements, one KPI by local area), and
  :func:`first_reported_and_now` and :func:`verdict_changes` between two runs.

The pure functions behind them (:func:`kpi_lib.analyse.engine.compute` and friends) take the
loaded :class:`~kpi_lib.config.configuration.Configuration` and never read a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


# ------------------------------------------------------------------------------ a finished run
@dataclass
class Run:
    """A finished run's output folder read back as DataFrames: ``results`` (kpis.csv, one row per
    KPI and basis), ``history`` (last 8 quarters of each headline value), ``spc`` (every SPC
    point), ``breakdowns`` (the period by local area, crime type, ...), ``year`` (the financial
    year's rows, when the run wrote them) and ``manifest`` (what the run used and did)."""

    out: Path
    results: pd.DataFrame
    history: pd.DataFrame
    spc: pd.DataFrame
    breakdowns: pd.DataFrame
    manifest: dict
    year: pd.DataFrame | None = None
    _panel: Panel | None = field(default=None, repr=False)

    @property
    def period(self) -> str:
        return str(self.manifest.get("period") or (self.results["period"].iloc[0] if len(self.results) else ""))

    @property
    def inputs(self) -> pd.DataFrame:
        """Every input file the run read: table, file, SHA-256, rows read, used and rejected."""
        return pd.DataFrame(self.manifest.get("inputs", []))

    @property
    def panel(self) -> Panel:
        """The run's measurement panel (results/measurements.parquet and the files beside it)."""
        if self._panel is None:
            from kpi_lib.measure.panel import load
            self._panel = load(self.out / "results")
        return self._panel

    @property
    def measurements(self) -> pd.DataFrame:
        """Whole-force measurements: every KPI for every month, quarter, year and rolling 12
        months the inputs cover."""
        return self.panel.whole_force()

    def by_area(self, kpi_id: str, quarters: int = 8) -> pd.DataFrame:
        """One KPI by local area for the last ``quarters`` quarters to the run's period end: one row
        per quarter and area (headline basis), with the value and what it was made from."""
        last = Period.parse(self.period)
        last = Period(last.fy, 4) if last.is_year else last
        qs = [last]
        while len(qs) < quarters:
            qs.insert(0, qs[0].previous())
        headline = (self.manifest.get("parameters") or {}).get("headline_basis", "cohort")
        b = self.panel.breakdowns()
        b = b[(b["kpi_id"] == kpi_id) & (b["breakdown_dim"] == "local area") & (b["window_kind"] == "quarter")
              & b["basis"].isin(["", headline])]
        label = {q.start: q.label for q in qs}
        b = b[b["window_start"].isin(list(label))]
        return pd.DataFrame({"quarter": b["window_start"].map(label), "area": b["breakdown_value"],
                             "value": b["value"], "numerator": b["numerator"],
                             "denominator": b["denominator"], "status": b["status"]}
                            ).sort_values(["quarter", "area"], ignore_index=True)


def _optional_csv(path: Path, table=None) -> pd.DataFrame | None:
    from kpi_lib.analyse.columns import RESULTS, read_csv
    return read_csv(path, table or RESULTS) if path.exists() else None


def open_run(out_dir: str | Path) -> Run:
    """A finished run's folder (``outputs/<period>``) as DataFrames, for exploring its figures."""
    import json

    from kpi_lib.analyse.columns import SPC_POINTS
    from kpi_lib.core.errors import ParameterError
    out = Path(out_dir)
    res = out / "results"
    if not (res / "kpis.csv").exists():
        raise ParameterError(f"{out} is not a run's output folder (no results/kpis.csv); give the "
                             "folder `kpi run` wrote, such as outputs/2024-25-q4")
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    def table(name: str, columns=None) -> pd.DataFrame:
        found = _optional_csv(res / name, columns)
        return pd.DataFrame() if found is None else found

    return Run(out, table("kpis.csv"), table("history.csv"), table("spc.csv", SPC_POINTS),
               table("breakdowns.csv"), manifest, year=_optional_csv(res / "year_kpis.csv"))


def first_reported_and_now(previous: Run, current: Run) -> pd.DataFrame:
    """Each headline figure of the earlier run's quarters as it was first reported there, beside
    the same quarter's figure as the later run measures it now, and the difference (cohort
    outcome rates rise as investigations close; other figures move when records are revised)."""
    from kpi_lib.present.changes import published_values
    published = published_values(previous.results, previous.history)
    now = current.history.assign(basis=current.history["basis"].fillna("").astype(str),
                                  quarter=current.history["quarter"].astype(str))
    both = published.merge(now[["kpi_id", "basis", "quarter", "value"]], on=["kpi_id", "basis", "quarter"],
                           suffixes=("_first_reported", "_now"))
    return both.assign(change=both["value_now"] - both["value_first_reported"])


def verdict_changes(previous: Run, current: Run) -> pd.DataFrame:
    """The KPIs whose verdict changed between two runs, with both verdicts in words."""
    from kpi_lib.present.changes import verdict_changes as changes
    return changes(previous.results, current.results)
