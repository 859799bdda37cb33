"""What the family notebooks call first: validate parameters, load the measurement panel, compute
the family's figures: those the runner computed once for every family (computed once),
else computed here and written to ``results/``. Presentation is in :mod:`kpi_lib.present.views`.

A family notebook never reads the raw inputs: it loads the panel the runner's measure step wrote
(``<out_dir>/results/measurements.parquet``), or, run on its own in JupyterLab, gets the panel
through the cache (built once from the data folder, reused while inputs, settings and code are
unchanged). In a run, the runner's compute step has already computed every family's figures and
saved them beside the panel under a stamp (:mod:`kpi_lib.analyse.precompute`): a notebook whose period,
settings, reference tables, code and panel are those of the stamp loads them (no engine work, and
scipy and statsmodels are never imported); otherwise it computes them with
:func:`kpi_lib.analyse.precompute.compute_families` (the same function the runner uses) and writes its
results files. Nothing here computes a KPI.

Files written in ``<out_dir>/results/`` (combined by :func:`kpi_lib.analyse.results.combine_run`):
``<family>.csv`` (KPI rows), ``<family>_breakdown.csv``, ``<family>_spc.csv`` (every SPC point),
``<family>_history.csv`` (last 8 quarters) and, at Q4 or for a year, ``<family>_year.csv`` (the
financial year against the previous one); for a year also ``<family>_quarters.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kpi_lib.core.kernel import imports_settled

with imports_settled():  # in a run's kernel: no collection while importing pandas (kpi_lib.core.kernel)
    import pandas as pd

    from kpi_lib.analyse import precompute
    from kpi_lib.config.catalogue import Kpi, for_year
    from kpi_lib.config.configuration import load_configuration
    from kpi_lib.config.params import load_params
    from kpi_lib.core.errors import ParameterError
    from kpi_lib.core.periods import Period
    from kpi_lib.core.windows import WindowSet
    from kpi_lib.measure import panel as panel_mod
    from kpi_lib.measure import registry
    from kpi_lib.measure.panel import Panel

__all__ = ["FamilyRun", "InputsInfo", "default_out_dir", "show_heading", "start_family"]


def show_heading(family: str) -> None:
    """Open a family's notebook with its title and introduction, as the family declares them (in
    the report, the renderer opens the family's section with the same heading)."""
    from IPython.display import HTML, display
    with imports_settled():
        from kpi_lib.present.views import heading_html
    display(HTML(heading_html(family)))


@dataclass
class InputsInfo:
    """What the presentation needs to know about the inputs, from the panel (not the raw files)."""

    synthetic: bool = False
    force: str = ""
    extraction_date: str | None = None
    notes: list[str] = field(default_factory=list)
    licence: str = ""
    sources: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)

    @classmethod
    def from_panel(cls, p: Panel) -> InputsInfo:
        i = p.info
        return cls(bool(i.get("synthetic")), str(i.get("force", "")), i.get("extraction_date"),
                   list(i.get("notes", [])), str(i.get("licence", "")), dict(i.get("sources", {})))


@dataclass
class FamilyRun:
    """One family's computed period: results, breakdowns, SPC points and charts, history."""

    family: str
    period: Period
    params: dict
    panel: Panel
    results: pd.DataFrame
    measurements: pd.DataFrame
    windows: WindowSet
    breakdowns: pd.DataFrame
    spc: pd.DataFrame
    charts: dict
    history: pd.DataFrame
    catalogue: list[Kpi]
    out_dir: Path
    annotations: list
    tables: InputsInfo
    peers: pd.DataFrame
    peer_settings: dict


def default_out_dir(period: Period | str, cwd: Path | None = None) -> Path:
    """``outputs/interactive/<period slug>`` beside the notebooks folder (or under the current
    folder), so that changing the period never writes into another quarter's folder."""
    p = Period.parse(period)
    here = Path(cwd or Path.cwd())
    root = here.parent if here.name == "notebooks" else here
    return root / "outputs" / "interactive" / p.slug


def check_parameters(period: str, data_dir: str, out_dir: str | None,
                     params_file_: str | None) -> tuple[Period, dict, Path]:
    """Validate notebook parameters up front with one clear error."""
    p = Period.parse(period)
    if not Path(data_dir).is_dir():
        raise ParameterError(f"data folder not found: {data_dir} (set data_dir in the parameters cell)")
    out = Path(out_dir) if out_dir else default_out_dir(p)
    out.mkdir(parents=True, exist_ok=True)
    return p, load_params(params_file_), out


def family_panel(data_dir: str | Path, out: Path, params: dict) -> Panel:
    """The run's panel when the runner wrote one into ``out``, else one from the cache."""
    if (out / "results" / "measurements.parquet").exists():
        return panel_mod.load(out / "results")
    from kpi_lib.measure.cache import get_panel
    return get_panel(data_dir, params)[0]


def start_family(family: str, period: str, data_dir: str, out_dir: str | None = None,
                 params_file: str | None = None) -> FamilyRun:
    """Validate, load the panel and the family's figures: those the runner computed for this very
    period, settings, code and panel when ``out_dir`` holds them (:mod:`kpi_lib.analyse.precompute`),
    else computed here (and the family's results files written)."""
    fam = registry.family(family)
    p, params, out = check_parameters(period, data_dir, out_dir, params_file)
    full = family_panel(data_dir, out, params)
    pnl = full.for_families([fam.name])
    config = load_configuration(params)
    catalogue, annotations = for_year(config.catalogue, p.fy), config.annotations
    res = out / "results"
    figs = None
    if (res / precompute.FOLDER / precompute.STAMP).exists():
        from kpi_lib.analyse.engine import window_set
        figs = precompute.load_figures(res, fam.name, precompute.expected_stamp(p, params, res),
                                       full, window_set(p, params))
    if figs is None:  # no run's figures for these settings: compute them here
        precompute.forget(res)  # this family's files are about to differ from any saved figures
        # from the whole panel: the q-values of the tests against last year are the report's
        figs = precompute.compute_families(p, full, config, [fam.name])[fam.name]
        figs = precompute.write_family_files(figs, res)
        from kpi_lib.config.catalogue import write_run_catalogue
        write_run_catalogue(catalogue, res)  # the report notebook, run next by hand, reads it
    return FamilyRun(fam.name, p, params, pnl, figs.results, figs.measurements, figs.windows,
                     figs.breakdowns, figs.spc, figs.charts, figs.history, catalogue, out, annotations,
                     InputsInfo.from_panel(pnl), pnl.peers_for(p.quarters()[-1]),
                     dict(pnl.info.get("peer_settings", {})))
