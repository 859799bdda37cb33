"""Helpers the test modules share (no test module imports another): where the checkout and the
real public data are, the ``kpi`` command in-process and as a real process, small hand-made
canonical inputs, a YAML bomb, a snapshot of a folder and a measuring script."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pandas as pd
import pytest
import yaml

from kpi_lib.core.paths import params_file

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
KPI = Path(sys.executable).with_name("kpi")
T = TypeVar("T")


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``lock`` while inside the block."""
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], T]) -> T:
    """``build(folder)`` done once for the whole test session, however many pytest-xdist workers
    ask for it: the first builds it, under a lock, in a folder every worker sees, and saves what
    ``build`` returned (it must pickle); the others wait for it and read that. Without xdist, in
    a plain temporary folder. ``build`` gets an empty folder of its own, named ``name``; what it
    builds there is shared, so the tests that ask for it only read it."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return build(tmp_path_factory.mktemp(name, numbered=True))
    shared = tmp_path_factory.getbasetemp().parent / "built-once"
    shared.mkdir(exist_ok=True)
    saved = shared / f"{name}.pickle"
    with _exclusive(shared / f"{name}.lock"):
        if saved.exists():
            return pickle.loads(saved.read_bytes())
        folder = shared / name
        shutil.rmtree(folder, ignore_errors=True)  # what a build that failed in another worker left
        folder.mkdir()
        value = build(folder)
        saved.write_bytes(pickle.dumps(value))
        return value


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


#: Two crime KPIs a force adds for 2024/25 (a category and a measure each).
SHOPLIFTING = [
    {"id": "shoplifting_volume", "plan_priority": "Building a more secure West Mercia",
     "improvement_area": "Shoplifting", "name": "Volume of shoplifting", "pmf_integration": "New for 2024/25",
     "family": "crime", "category": "shoplifting", "measure": "volume", "unit": "count",
     "polarity": "lower_better", "frequency": "quarterly", "from_year": "2024/25",
     "definition": "Number of shoplifting offences recorded in the period."},
    {"id": "shoplifting_charge_rate", "plan_priority": "Building a more secure West Mercia",
     "improvement_area": "Shoplifting", "name": "Shoplifting - % outcome 1 & 1A", "pmf_integration": "New for 2024/25",
     "family": "crime", "category": "shoplifting", "measure": "charge_rate", "unit": "percent",
     "polarity": "higher_better", "frequency": "quarterly", "from_year": "2024/25",
     "definition": "Shoplifting offences charged or summonsed as a percentage of shoplifting offences."},
]


def next_year_catalogue(folder: Path) -> Path:
    """The default catalogue with shoplifting added from 2024/25, vehicle crime dropped, and the
    confidence target raised to 90% for 2024/25 (as a force would write next year's file)."""
    doc = yaml.safe_load(params_file("kpis.yaml").read_text(encoding="utf-8"))
    doc["kpis"] = [k for k in doc["kpis"] if not k["id"].startswith("vehicle_crime")] + SHOPLIFTING
    for k in doc["kpis"]:
        if k["id"] == "confidence_overall":
            k["targets"] = {"2024/25": {"value": 90, "source": "Force survey target for 2024/25 (90%)"}}
    path = folder / "kpis-2024-25.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


#: Outcome words a force's system might use for each Home Office outcome type.
OUTCOME_WORDS = {
    "0": "Not yet assigned", "1": "Charged/Summonsed", "1A": "Charged/Summonsed (alternative offence)",
    "2": "Youth caution", "2A": "Youth caution (alternative offence)", "3": "Adult caution",
    "3A": "Adult caution (alternative offence)", "4": "Taken into consideration", "5": "Offender died",
    "6": "Penalty notice for disorder", "7": "Cannabis/khat warning", "8": "Community resolution",
    "9": "Prosecution not in the public interest (CPS)", "10": "Formal action not in the public interest (police)",
    "11": "Suspect below age of criminal responsibility", "12": "Suspect too ill to prosecute",
    "13": "Victim or key witness dead or too ill", "14": "Victim declines or unable to support action",
    "15": "Evidential difficulties: suspect identified, victim supports", "16": "Evidential difficulties: victim does not support",
    "17": "Prosecution time limit expired", "18": "Investigation complete: no suspect identified",
    "19": "National fraud bureau: no further action", "20": "Other body has primacy",
    "21": "Further investigation not in the public interest", "22": "Diversionary, educational or intervention activity",
}


def force_extract(sample: Path, out: Path) -> Path:
    """The sample's crimes and outcomes as a force's own extract would hold them: other file and
    column names, dd/mm/yyyy dates, Windows cp1252 text with CRLF line ends, a Y/N domestic abuse
    flag, outcome words instead of Home Office codes, and a free-text column the suite does not
    use. Every other table is copied as it is. Returns ``out``."""
    import shutil
    out.mkdir(parents=True, exist_ok=True)
    for p in sample.iterdir():
        if p.is_file() and not p.name.startswith(("crimes.", "outcomes.", "README")):
            shutil.copy2(p, out / p.name)
    crimes = pd.read_parquet(sample / "crimes.parquet")
    outcomes = pd.read_parquet(sample / "outcomes.parquet")
    day = pd.to_datetime(crimes["recorded_date"])
    pd.DataFrame({
        "CrimeNumber": crimes["crime_ref"], "Date Recorded": day.dt.strftime("%d/%m/%Y"),
        "HO Code": crimes["offence_code"], "DA Flag": crimes["domestic_abuse"].map({True: "Y", False: "N"}),
        "Area": crimes["local_area"],
        "Officer note": ["Café CCTV requested" if i % 7 == 0 else "" for i in range(len(crimes))],
    }).to_csv(out / "Crime extract 2025-05-15.csv", index=False, encoding="cp1252", lineterminator="\r\n")
    when = pd.to_datetime(outcomes["outcome_date"])
    pd.DataFrame({
        "CrimeNumber": outcomes["crime_ref"], "Outcome": outcomes["outcome_type"].map(OUTCOME_WORDS),
        "Outcome Date": when.dt.strftime("%d/%m/%Y").fillna(""),
    }).to_csv(out / "Outcome extract 2025-05-15.csv", index=False, encoding="cp1252", lineterminator="\r\n")
    return out
