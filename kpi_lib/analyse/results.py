"""The KPI result table (``results/kpis.csv``): its schema, reading and writing it, and combining
the family results of a run (contract 7).

This module is the only writer of ``kpis.csv``. The runner calls :func:`combine_run` after the
family notebooks and before the report notebook; the report notebook only reads.

``combine_run(out_dir)`` turns, in ``out_dir/results/``:

- ``<family>.csv`` of every registered family into ``kpis.csv`` (catalogue order, headline row
  first, checked against :data:`SCHEMA`);
- ``<family>_spc.csv`` into ``spc.csv`` (one row per SPC point, contract 4);
- ``<family>_history.csv`` into ``history.csv`` (last 8 quarters of each headline value);
- ``<family>_breakdown.csv`` into ``breakdowns.csv``;
- ``<family>_year.csv`` (written at Q4 and for a year) into ``year_kpis.csv``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from kpi_lib.analyse.engine import RESULT_COLUMNS, STATUSES
from kpi_lib.analyse.verdicts import VERDICTS
from kpi_lib.config.catalogue import load_catalogue
from kpi_lib.core.errors import KpiError
from kpi_lib.measure import registry

TEXT_COLUMNS = ("basis", "note", "source", "spc_rule", "comparison_basis", "last_year_test",
                "change_12m_test", "verdict_code", "verdict", "spc_grain", "spc_variation",
                "spc_assurance")
FLOAT_COLUMNS = ("value", "numerator", "denominator", "ci_low", "ci_high", "sample_n", "target",
                 "pending_share", "previous_value", "last_year_value", "rolling12_value",
                 "previous12_value", "baseline_value", "previous_value_mature",
                 "last_year_value_mature", "rolling12_value_mature", "previous12_value_mature",
                 "baseline_value_mature", "change_previous", "change_last_year",
                 "change_last_year_pct", "last_year_p_value", "last_year_significant", "change_12m",
                 "change_12m_pct", "change_12m_p_value", "change_12m_significant", "change_baseline",
                 "change_baseline_pct")
VERDICT_CODES = tuple(VERDICTS)
_SIG = pa.Check.isin([0.0, 1.0])
_P = pa.Check.in_range(0.0, 1.0)

_SPEC = {
        "kpi_id": pa.Column(str), "name": pa.Column(str), "family": pa.Column(str, pa.Check.isin(list(registry.NAMES))),
        "period": pa.Column(str), "period_start": pa.Column(str), "period_end": pa.Column(str),
        "unit": pa.Column(str), "status": pa.Column(str, pa.Check.isin(list(STATUSES))),
        "headline": pa.Column(bool), "polarity": pa.Column(str), "supplementary": pa.Column(bool),
        "provisional": pa.Column(bool), "spc_points": pa.Column(int, pa.Check.ge(0)),
        "spc_trial": pa.Column(bool), "spc_seasonal": pa.Column(bool), "synthetic_data": pa.Column(bool),
        "last_year_significant": pa.Column(float, _SIG, nullable=True),
        "change_12m_significant": pa.Column(float, _SIG, nullable=True),
        "last_year_p_value": pa.Column(float, _P, nullable=True),
        "change_12m_p_value": pa.Column(float, _P, nullable=True),
        "verdict_code": pa.Column(str, pa.Check.isin(["", *VERDICT_CODES])),
        **{c: pa.Column(float, nullable=True) for c in FLOAT_COLUMNS
           if c not in ("last_year_significant", "change_12m_significant", "last_year_p_value",
                        "change_12m_p_value")},
        **{c: pa.Column(str) for c in TEXT_COLUMNS if c != "verdict_code"},
}
#: The schema of kpis.csv: every column in the table's order, types, domains, one row per KPI and basis.
SCHEMA = pa.DataFrameSchema({c: _SPEC[c] for c in RESULT_COLUMNS}, strict=True, ordered=True,
                            unique=["kpi_id", "basis"])


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for c in TEXT_COLUMNS:
        if c in df:
            df[c] = df[c].fillna("").astype(str)
    for c in FLOAT_COLUMNS:
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in ("headline", "supplementary", "provisional", "spc_trial", "spc_seasonal", "synthetic_data"):
        if c in df:
            df[c] = df[c].map(lambda v: v if isinstance(v, bool) else str(v).strip().lower() == "true").astype(bool)
    if "spc_points" in df:
        df["spc_points"] = pd.to_numeric(df["spc_points"], errors="coerce").fillna(0).astype(int)
    return df


def validate(df: pd.DataFrame, what: str = "KPI result table") -> pd.DataFrame:
    """Check a result table against :data:`SCHEMA`; one readable error naming row and column."""
    missing = [c for c in RESULT_COLUMNS if c not in df.columns]
    extra = [c for c in df.columns if c not in RESULT_COLUMNS]
    if missing or extra:
        raise KpiError(f"{what}: columns differ from the KPI result table "
                       f"(missing {missing or 'none'}, unexpected {extra or 'none'})")
    df = _typed(df[RESULT_COLUMNS])
    try:
        return SCHEMA.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        first = exc.failure_cases.iloc[0]
        idx = first["index"]
        where = "" if pd.isna(idx) else f" row {int(idx) + 2}"
        kpi = "" if pd.isna(idx) else f" ({df.loc[idx, 'kpi_id']})"
        raise KpiError(f"{what}:{where}{kpi}, column {first['column']}: value {first['failure_case']!r} "
                       f"fails {first['check']}") from None


def write_csv_atomic(df: pd.DataFrame, path: str | Path) -> None:
    """Write a CSV via a temporary file and rename, so a reader never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            df.to_csv(fh, index=False, float_format="%.10g", lineterminator="\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_results(df: pd.DataFrame, path: str | Path) -> pd.DataFrame:
    """Validate a KPI result table and write it atomically; returns the validated table."""
    checked = validate(df, str(path))
    write_csv_atomic(checked, path)
    return checked


def read_results(path: str | Path) -> pd.DataFrame:
    """Read a KPI result table (kpis.csv or a family's results), typed and validated."""
    path = Path(path)
    if not path.exists():
        raise KpiError(f"KPI result table not found: {path}")
    df = pd.read_csv(path, keep_default_na=True, dtype={c: str for c in TEXT_COLUMNS})
    return validate(df, str(path))


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=True)


def combine_results(frames: list[pd.DataFrame], catalogue=None) -> pd.DataFrame:
    """Family result tables to one table in catalogue order (headline row first per KPI)."""
    catalogue = catalogue or load_catalogue()
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
    catalogue = load_catalogue()
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
