"""Helpers the test modules share (no test module imports another): where the checkout and the
real public data are, the ``kpi`` command in-process and as a real process, small hand-made
canonical inputs, a YAML bomb, a snapshot of a folder and a measuring script."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
KPI = Path(sys.executable).with_name("kpi")


@dataclass
class CommandResult:
    """What a ``kpi`` command did: exit status and what it printed on each stream."""

    returncode: int
    stdout: str
    stderr: str


def kpi(*args: str, cwd: Path | None = None) -> CommandResult:
    """The ``kpi`` command run in this process (typer's CliRunner), from ``cwd`` when given:
    argument checks and refusals in milliseconds, with the exit status and streams a user sees."""
    from typer.testing import CliRunner

    from kpi_lib.cli import app
    with contextlib.chdir(cwd or REPO):
        r = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return CommandResult(r.exit_code, r.stdout, r.stderr)


def kpi_process(*args: str, cwd: Path | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """The installed ``kpi`` command as a real process (for what only a process shows: signals,
    locks held by another process, the entry point itself)."""
    cmd = [str(KPI)] if KPI.exists() else [sys.executable, "-m", "kpi_lib.cli"]
    return subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, cwd=cwd or REPO,
                          timeout=timeout)


def shared_data(*parts: str) -> Path:
    """A path in the real public data (../shared/data); the test skips, saying why, without it."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real public data not available at {path} (../shared/data is absent on this machine)")
    return path


def chromium_path() -> str:
    """Headless Chromium; in CI (KPI_REQUIRE_BROWSER set) its absence fails instead of skipping."""
    from kpi_lib.present.render import find_chromium
    path = find_chromium()
    if path is None:
        if os.environ.get("KPI_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required in CI (KPI_REQUIRE_BROWSER is set) but was not found")
        pytest.skip("Chromium not installed: install Debian 'chromium' to run the browser tests")
    return path

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
