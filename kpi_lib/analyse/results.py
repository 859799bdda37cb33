"""The KPI result table (``results/kpis.csv``): its schema, reading and writing it, and combining
the family results of a run.

This module is the only writer of ``kpis.csv``. The runner calls :func:`combine_run` after the
family notebooks and before the report notebook; the report notebook only reads.

``combine_run(out_dir)`` turns, in ``out_dir/results/``:

- ``<family>.csv`` of every registered family into ``kpis.csv`` (catalogue order, headline row
  first, checked against :data:`SCHEMA`);
- ``<family>_spc.csv`` into ``spc.csv`` (one row per SPC point);
- ``<family>_history.csv`` into ``history.csv`` (last 8 quarters of each headline value);
- ``<family>_breakdown.csv`` into ``breakdowns.csv``;
- ``<family>_year.csv`` (written at Q4 and for a year) into ``year_kpis.csv``;
- the panel's record of which months each input covers into ``coverage.csv``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from kpi_lib.analyse.columns import RESULTS, Table, typed
from kpi_lib.analyse.columns import read_csv as read_typed_csv
from kpi_lib.config.catalogue import run_catalogue
from kpi_lib.core.errors import KpiError
from kpi_lib.core.io import write_atomic
from kpi_lib.measure import registry

RESULT_COLUMNS = RESULTS.names


def _pandera_column(column) -> pa.Column:
    """One declared column as a pandera column: its type, nullability and allowed values."""
    checks = []
    if column.kind is str and not column.nullable:
        checks.append(pa.Check.str_length(min_value=1))
    if column.check is not None:
        allowed = column.check.allowed()
        if allowed is not None:
            checks.append(pa.Check.isin(list(allowed)))
        low, high = column.check.low, column.check.high
        if low is not None and high is not None:
            checks.append(pa.Check.in_range(low, high))
        elif low is not None:
            checks.append(pa.Check.ge(low))
        elif high is not None:
            checks.append(pa.Check.le(high))
    return pa.Column(column.kind, checks, nullable=column.nullable)


@lru_cache(maxsize=8)
def schema(table: Table = RESULTS) -> pa.DataFrameSchema:
    """The pandera schema of a declared table: every column in order, with its type, whether it
    may be empty and its allowed values; one row per KPI and basis."""
    return pa.DataFrameSchema({c.name: _pandera_column(c) for c in table.columns}, strict=True,
                              ordered=True, unique=["kpi_id", "basis"])


def validate(df: pd.DataFrame, what: str = "KPI result table", table: Table = RESULTS) -> pd.DataFrame:
    """Check a result table against its schema; one readable error naming row and column."""
    names = table.names
    missing = [c for c in names if c not in df.columns]
    extra = [c for c in df.columns if c not in names]
    if missing or extra:
        raise KpiError(f"{what}: columns differ from the KPI result table "
                       f"(missing {missing or 'none'}, unexpected {extra or 'none'})")
    df = typed(df[names], table)
    try:
        return schema(table).validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        first = exc.failure_cases.iloc[0]
        idx = first["index"]
        where = "" if pd.isna(idx) else f" row {int(idx) + 2}"
        kpi = "" if pd.isna(idx) else f" ({df.loc[idx, 'kpi_id']})"
        case = first["failure_case"]
        case = case.item() if hasattr(case, "item") else case  # 11.0, not np.float64(11.0)
        raise KpiError(f"{what}:{where}{kpi}, column {first['column']}: value {case!r} "
                       f"fails {first['check']}") from None


def write_csv_atomic(df: pd.DataFrame, path: str | Path) -> None:
    """Write a CSV (ten significant digits, UTF-8) so that a reader never sees half a file."""
    write_atomic(path, lambda tmp: df.to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n",
                                             encoding="utf-8"))


def write_results(df: pd.DataFrame, path: str | Path, table: Table = RESULTS) -> pd.DataFrame:
    """Validate a KPI result table and write it atomically; returns the validated table."""
    checked = validate(df, str(path), table)
    write_csv_atomic(checked, path)
    return checked


def read_results(path: str | Path, table: Table = RESULTS) -> pd.DataFrame:
    """Read a KPI result table (kpis.csv or a family's results), typed and validated."""
    path = Path(path)
    if not path.exists():
        raise KpiError(f"KPI result table not found: {path}")
    return validate(read_typed_csv(path, table), str(path), table)


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=True)


def combine_results(frames: list[pd.DataFrame], catalogue) -> pd.DataFrame:
    """Family result tables to one table in catalogue order (headline row first per KPI)."""
    order = {k.id: i for i, k in enumerate(catalogue)}
    df = pd.concat(frames, ignore_index=True)
    df["_o"] = df["kpi_id"].map(order)
    df = df.sort_values(["_o", "headline"], ascending=[True, False], kind="stable").drop(columns="_o")
    return df[RESULT_COLUMNS].reset_index(drop=True)


def combine_run(out_dir: str | Path) -> None:
    """Combine the family results of a run folder into kpis.csv, spc.csv, history.csv,
    breakdowns.csv and (when the families wrote them) year_kpis.csv, all in ``results/``."""
    res = Path(out_dir) / "results"
    missing = [f for f in registry.NAMES if not (res / f"{f}.csv").exists()]
    if missing:
        raise KpiError(f"no results for {', '.join(missing)} in {res}: run those family notebooks first")
    catalogue = run_catalogue(out_dir)
    kpis = combine_results([read_results(res / f"{f}.csv") for f in registry.NAMES], catalogue)
    periods = sorted(set(kpis["period"]))
    if len(periods) != 1:
        raise KpiError(f"family results in {res} are for different periods: {', '.join(periods)}")
    write_results(kpis, res / "kpis.csv")
    for suffix, target in (("_spc", "spc.csv"), ("_history", "history.csv"),
                           ("_breakdown", "breakdowns.csv")):
        parts = [_read_csv(res / f"{f}{suffix}.csv") for f in registry.NAMES if (res / f"{f}{suffix}.csv").exists()]
        parts = [p for p in parts if len(p.columns)]
        if parts:
            write_csv_atomic(pd.concat(parts, ignore_index=True), res / target)
    years = [read_results(res / f"{f}_year.csv") for f in registry.NAMES if (res / f"{f}_year.csv").exists()]
    if years:
        write_results(combine_results(years, catalogue), res / "year_kpis.csv")
    write_coverage(res)


def write_coverage(res: Path) -> None:
    """``coverage.csv``: which months each input table covers and which are missing, from the
    panel's record of it (``panel.json`` beside the results), when there is one."""
    import json

    from kpi_lib.measure.coverage import TableCoverage, coverage_table
    try:
        info = json.loads((res / "panel.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    cov = {d["table"]: TableCoverage.from_dict(d) for d in info.get("coverage", [])}
    table = coverage_table(cov)
    table["periods"] = [d.get("periods", 0) for d in info.get("coverage", [])]
    write_csv_atomic(table, res / "coverage.csv")
