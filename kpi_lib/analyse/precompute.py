"""Compute once: every family's figures for a period from one panel, so that a run
computes them in its own process once and each family notebook only loads and presents them.

- :func:`compute_families` (pure): the figures of several families in one pass (one
  :func:`kpi_lib.analyse.engine.compute_all` over them, then split by family). A family's figures are the
  same whether computed alone or with the others: every KPI row depends only on its own
  measurement rows, the maturity table and the panel's information, never on another family.
- :func:`write_family_files`: a family's results files as the family notebooks have always
  written them (``<family>.csv``, ``_breakdown.csv``, ``_spc.csv``, ``_history.csv``, and at Q4
  or for a year ``_year.csv``, for a year ``_quarters.csv``), read by :func:`kpi_lib.analyse.results.combine_run`.
- :func:`save_figures` / :func:`load_figures`: the same figures at full precision (Parquet, in
  ``results/precomputed/``), with the chart tables behind each KPI's SPC chart, under a stamp
  (``stamp.json``, written last) naming the period, a digest of the settings, of the reference
  tables in ``params/``, of the code and of the panel files beside them. A notebook uses them only
  when the stamp is exactly what it would compute itself (:func:`expected_stamp`); otherwise (an
  analyst's own settings, edited code, another period, no run at all) it computes as before.

The CSV files stay the run's record (the figures the report and spreadsheet read); the Parquet
copies exist so that a notebook shows exactly the figures it would have computed (CSV keeps ten
significant digits).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kpi_lib.config.configuration import Configuration
from kpi_lib.core.io import file_sha256, json_sha256, write_atomic
from kpi_lib.core.periods import Period
from kpi_lib.core.provenance import code_digest  # cheap to import: no readers, no schema library
from kpi_lib.core.windows import WindowSet
from kpi_lib.measure.panel import PANEL_FILES, Panel

FOLDER = "precomputed"  # inside results/
STAMP = "stamp.json"
FORMAT = 1
#: the tables saved for each family (``<family>.<table>.parquet``)
TABLES = ("results", "breakdowns", "spc", "history", "year", "quarters", "charts")
_KPI, _BASIS = "_kpi_id", "_basis"  # which chart a row of ``<family>.charts.parquet`` belongs to


@dataclass
class FamilyFigures:
    """One family's figures for a period: its KPI rows, the measurement rows and windows behind
    them, breakdowns, SPC points and chart tables (keyed by (kpi_id, basis)), the last 8 quarters
    and, at Q4 or for a year, the year's rows (and for a year each quarter's values)."""

    family: str
    results: pd.DataFrame
    measurements: pd.DataFrame
    windows: WindowSet
    breakdowns: pd.DataFrame
    spc: pd.DataFrame
    charts: dict[tuple[str, str], pd.DataFrame]
    history: pd.DataFrame
    year: pd.DataFrame | None = None
    quarters: pd.DataFrame | None = None


def family_measurements(panel: Panel, family: str) -> pd.DataFrame:
    """A family's whole-force measurement rows, as :func:`kpi_lib.analyse.engine.compute_all` selects
    them from the family's part of the panel."""
    m = panel.for_families([family]).whole_force()
    return m[m["family"].isin([family])]


def compute_families(period: Period | str, panel: Panel, config: Configuration,
                     families: list[str]) -> dict[str, FamilyFigures]:
    """The figures of ``families`` for ``period`` from ``panel`` with the run's configuration: one
    computation for them all, split by family (see the module doc for why the split equals
    computing each alone)."""
    from kpi_lib.analyse import engine

    p = Period.parse(period)
    done = engine.compute_all(p, panel, config, families=families)
    year = None
    if p.is_year:
        year = done.results
    elif p.quarter == 4:
        year = engine.compute(p.year(), panel, config, families=families)
    family_of = {k.id: k.family for k in config.catalogue}
    out = {}
    for fam in families:
        part = panel.for_families([fam])
        charts = {key: c for key, c in done.charts.items() if family_of.get(key[0]) == fam}
        own = engine.Computed(_rows_of(done.results, fam), family_measurements(panel, fam),
                              done.windows, charts)
        out[fam] = FamilyFigures(
            fam, own.results, own.measurements, own.windows,
            engine.breakdowns(p, part, config, families=[fam]), engine.spc_points(own, config.catalogue),
            charts, engine.history(p, part, config, families=[fam]),
            None if year is None else _rows_of(year, fam),
            engine.year_quarters(p, part, config, families=[fam]) if p.is_year else None)
    return out


def _rows_of(results: pd.DataFrame, family: str) -> pd.DataFrame:
    return results[results["family"] == family].reset_index(drop=True)


def write_family_files(figures: FamilyFigures, res: Path) -> FamilyFigures:
    """Write a family's results files into ``res`` (each atomically; the KPI rows checked against
    the schema). Returns the figures with the KPI rows as validated and written."""
    from dataclasses import replace

    from kpi_lib.analyse.results import write_csv_atomic, write_results

    fam = figures.family
    results = write_results(figures.results, res / f"{fam}.csv")
    write_csv_atomic(figures.breakdowns, res / f"{fam}_breakdown.csv")
    write_csv_atomic(figures.spc, res / f"{fam}_spc.csv")
    write_csv_atomic(figures.history, res / f"{fam}_history.csv")
    year = None if figures.year is None else write_results(figures.year, res / f"{fam}_year.csv")
    if figures.quarters is not None:
        write_csv_atomic(figures.quarters, res / f"{fam}_quarters.csv")
    return replace(figures, results=results, year=year)


# ------------------------------------------------------------------------------ the stamp
def expected_stamp(period: Period | str, params: dict, res: Path) -> dict:
    """What the stamp of figures computed for ``period`` with ``params`` from the panel in
    ``res`` (and the reference tables and code in use now) must say."""
    from kpi_lib.config.settings import setting_files
    from kpi_lib.core.paths import params_dir

    ref = sorted(p for p in params_dir().iterdir() if p.is_file() and p.suffix in (".yaml", ".csv"))
    named = {f"{k}:{p}": file_sha256(p) for k, p in setting_files(params).items() if p.is_file()}
    return {"format": FORMAT, "period": Period.parse(period).label, "settings": json_sha256(params),
            "reference": json_sha256({**{p.name: file_sha256(p) for p in ref}, **named}), "code": code_digest(),
            "panel": {name: file_sha256(res / name) for name in PANEL_FILES}}


def stamp_matches(found: dict | None, expected: dict) -> bool:
    """Whether a stamp read from disk is for exactly the period, settings, reference tables,
    code and panel expected (its ``families`` and ``charts`` entries describe the contents)."""
    if not isinstance(found, dict):
        return False
    return all(found.get(k) == v for k, v in expected.items())


def read_stamp(res: Path) -> dict | None:
    """The stamp in ``res/precomputed``, or None when absent or unreadable."""
    try:
        return json.loads((res / FOLDER / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def forget(res: Path) -> None:
    """Remove the stamp, so that figures saved earlier are never used (a notebook computing for
    other settings rewrites its family's files, and the saved figures would no longer match)."""
    (res / FOLDER / STAMP).unlink(missing_ok=True)


# ------------------------------------------------------------------------------ save and load
def save_figures(figures: dict[str, FamilyFigures], stamp: dict, res: Path) -> None:
    """Save every family's figures in ``res/precomputed`` (one Parquet file per family and table,
    so each table keeps its own column types), then the stamp (with the families and chart keys)
    last, so that a partial save is never used."""
    folder = res / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    forget(res)
    for fam, f in figures.items():
        for table in TABLES:
            path = folder / f"{fam}.{table}.parquet"
            if table == "charts":
                df = pd.concat([c.assign(**{_KPI: k, _BASIS: b}) for (k, b), c in f.charts.items()],
                               ignore_index=True) if f.charts else None
            else:
                df = getattr(f, table)
            if df is None:
                path.unlink(missing_ok=True)
            else:
                _write_parquet(df, path)
    doc = {**stamp, "families": list(figures),
           "charts": {fam: [list(k) for k in f.charts] for fam, f in figures.items()}}
    write_atomic(folder / STAMP, json.dumps(doc, indent=1))


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    write_atomic(path, lambda tmp: df.to_parquet(tmp, index=False))


def _read(folder: Path, family: str, table: str) -> pd.DataFrame | None:
    path = folder / f"{family}.{table}.parquet"
    return pd.read_parquet(path) if path.exists() else None


def load_figures(res: Path, family: str, expected: dict, panel: Panel, windows: WindowSet) -> FamilyFigures | None:
    """A family's saved figures when ``res/precomputed`` holds them under exactly the
    ``expected`` stamp, else None (the caller then computes)."""
    stamp = read_stamp(res)
    if not stamp_matches(stamp, expected) or family not in stamp.get("families", []):
        return None
    folder = res / FOLDER
    try:
        t = {table: _read(folder, family, table) for table in TABLES}
    except (OSError, ValueError):  # a damaged file: compute instead
        return None
    if any(t[x] is None for x in ("results", "breakdowns", "spc", "history")):
        return None
    charts = {}
    frames = dict(tuple(t["charts"].groupby([_KPI, _BASIS], sort=False))) if t["charts"] is not None else {}
    for k, b in stamp["charts"].get(family, []):
        c = frames.get((k, b))
        if c is None:
            return None
        charts[(k, b)] = c.drop(columns=[_KPI, _BASIS]).reset_index(drop=True)
    return FamilyFigures(family, t["results"], family_measurements(panel, family), windows,
                         t["breakdowns"], t["spc"], charts, t["history"], t["year"], t["quarters"])
