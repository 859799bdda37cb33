"""Helpers the test modules share: small hand-made canonical inputs, a YAML bomb, a snapshot of a
folder and a measuring script (no test module imports another)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd

HEADERS = {
    "crimes": "crime_ref,recorded_date,offence_code,domestic_abuse,local_area",
    "outcomes": "crime_ref,outcome_type,outcome_date",
    "calls": "call_ref,line,received_at,answered_at",
    "incidents": "incident_ref,grade,created_at,arrived_at,resourced,local_area",
    "survey_responses": "survey,respondent_ref,interview_date,local_area,crime_type,question,answer,weight",
    "finance": "financial_year,quarter,budget_gbp,forecast_outturn_gbp,savings_target_gbp,savings_delivered_gbp",
    "vfm": "financial_year,conclusion",
    "carbon": "period_start,source,quantity,unit",
}


def write_table(folder: Path, table: str, rows: list[str], header: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{table}.csv"
    path.write_text("\n".join([header or HEADERS[table], *rows]) + "\n", encoding="utf-8")
    return path


def parquet_to_csv(src: Path, dst: Path, table: str, mutate=None) -> Path:
    """Copy a sample table to CSV (timestamps written ISO 8601 with offsets), optionally mutated."""
    df = pd.read_parquet(src / f"{table}.parquet")
    for c in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[c]):
            df[c] = df[c].map(lambda t: "" if pd.isna(t) else t.isoformat())
    if mutate:
        df = mutate(df)
    path = dst / f"{table}.csv"
    (dst / f"{table}.parquet").unlink(missing_ok=True)
    df.to_csv(path, index=False)
    return path


def measuring_script(imports: str, call: str, ok: str) -> str:
    """A ``python -c`` script that runs ``call`` on ``sys.argv[1]`` in a fresh process and prints
    JSON: seconds, outcome (``ok`` or the KpiError's message) and extra peak memory in MB, so a
    test can bound the time and memory that hostile input costs."""
    return f"""
import json, resource, sys, time
import hashlib
import os
from pathlib import Path
from kpi_lib.core.errors import KpiError
{imports}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
try:
    {call}
    outcome = {ok!r}
except KpiError as exc:
    outcome = str(exc)
print(json.dumps({{"seconds": time.perf_counter() - t, "outcome": outcome,
                  "extra_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}}))
"""



#: A "billion laughs" YAML document: nine levels of nine aliases.
BOMB = "a: &a [" + ",".join(["lol"] * 9) + "]\n" + "".join(
    f"{b}: &{b} [" + ",".join([f"*{a}"] * 9) + "]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True))


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (and ``root`` itself): files by SHA-256, folders and links by kind."""
    out: dict[str, str] = {}
    paths = [root, *sorted(root.rglob("*"))] if root.is_dir() and not root.is_symlink() else [root]
    for p in paths:
        key = str(p.relative_to(root.parent))
        if p.is_symlink():
            out[key] = f"link -> {os.readlink(p)}"
        elif p.is_dir():
            out[key] = "folder"
        elif p.exists():
            out[key] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out
