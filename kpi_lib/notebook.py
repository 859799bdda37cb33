"""What the family notebooks call first: validate parameters, read inputs, compute the family's
KPI rows and write them to ``results/<family>.csv``. Presentation is in :mod:`kpi_lib.views`.

Nothing here computes a KPI: figures come from :func:`kpi_lib.engine.compute`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import engine
from .catalogue import Kpi, load_catalogue
from .errors import ParameterError
from .params import load_params
from .periods import Period
from .sources.canonical import Tables
from .sources.detect import read_any


def write_csv_atomic(df: pd.DataFrame, path: Path) -> None:
    """Write a CSV via a temporary file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.chmod(tmp, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        df.to_csv(fh, index=False, float_format="%.10g", lineterminator="\n")
    os.replace(tmp, path)


def check_parameters(period: str, data_dir: str, out_dir: str, params_file: str | None) -> tuple[Period, dict]:
    """Validate notebook parameters up front with one clear error."""
    p = Period.parse(period)
    if not Path(data_dir).is_dir():
        raise ParameterError(f"data folder not found: {data_dir} (set data_dir in the parameters cell)")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return p, load_params(params_file)


@dataclass
class FamilyRun:
    family: str
    period: Period
    params: dict
    tables: Tables
    results: pd.DataFrame
    measurements: pd.DataFrame
    windows: object
    breakdowns: pd.DataFrame
    catalogue: list[Kpi]
    out_dir: Path


def start_family(family: str, period: str, data_dir: str, out_dir: str,
                 params_file: str | None = None) -> FamilyRun:
    """Validate, read the family's inputs, compute its KPI rows and write results/<family>.csv."""
    if family not in engine.FAMILY_TABLES:
        raise ParameterError(f"unknown family {family!r}; expected one of {sorted(engine.FAMILY_TABLES)}")
    p, params = check_parameters(period, data_dir, out_dir, params_file)
    tables = read_any(data_dir, only=engine.FAMILY_TABLES[family], timezone=params.get("timezone"))
    catalogue = load_catalogue()
    results, m, ws = engine.compute_all(p, tables, params, families=[family], catalogue=catalogue)
    bd = engine.breakdowns(p, tables, params, families=[family])
    out = Path(out_dir)
    write_csv_atomic(results, out / "results" / f"{family}.csv")
    write_csv_atomic(bd, out / "results" / f"{family}_breakdown.csv")
    if p.is_year:
        write_csv_atomic(engine.year_quarters(p, tables, params, families=[family]),
                         out / "results" / f"{family}_quarters.csv")
    return FamilyRun(family, p, params, tables, results, m, ws, bd, catalogue, out)



def load_peers(path: str | None = None) -> dict:
    import yaml
    p = Path(path) if path else Path(__file__).resolve().parent.parent / "params" / "peers.yaml"
    return yaml.safe_load(p.read_text(encoding="utf-8"))
