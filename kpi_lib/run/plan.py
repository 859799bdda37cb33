"""Step 1 of a run, the plan: every argument and setting parsed and checked, the output folder
checked (new, or an earlier run's), the earlier run to compare with and the force commentary
found, before any input is read. Nothing is written here."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from kpi_lib.config.catalogue import Kpi, load_catalogue
from kpi_lib.config.configuration import Configuration, load_configuration
from kpi_lib.config.params import load_params
from kpi_lib.core.errors import ParameterError
from kpi_lib.core.periods import Period
from kpi_lib.measure import registry
from kpi_lib.present.commentary import MAX_BYTES as COMMENTARY_MAX_BYTES  # the one limit
from kpi_lib.present.formats import known
from kpi_lib.run.outputs import carries_marker, check_output_folder

FIRST_YEAR, LAST_YEAR = 1990, 2099  # financial years a run accepts (9999/00 is a typing error)


def jobs_used(jobs: int | None) -> int:
    """Notebooks run at once: the number asked for (default: cores), never more than there are
    family notebooks to run (the manifest records this number, not the one asked for)."""
    return max(1, min(jobs or os.cpu_count() or 1, len(registry.NAMES)))


@dataclass(frozen=True)
class Plan:
    """Everything a run will do, decided and checked before any work: the period, folders,
    validated settings, how many notebooks run at once, and the earlier run and commentary the
    report compares with."""

    period: Period
    data: Path
    out: Path
    given_out: Path
    config: Configuration
    params_file: Path | None
    jobs: int
    jobs_requested: int | None
    quiet: bool
    timeout: int
    skip_formats: tuple[str, ...]  # output formats not to write (names in the format registry)
    previous_dir: Path | None
    commentary_file: Path | None
    started: datetime
    t0: float
    overrides: dict | None = None  # settings from the command line, over the parameter file
    backfill: bool = False  # one quarter of a range run for past quarters

    @property
    def params(self) -> dict:
        """The validated settings (as a plain dict)."""
        return self.config.params

    @property
    def build(self) -> Path:
        """Where this run builds its outputs (beside ``out``, moved into place at the end)."""
        return self.out.with_name(f".{self.out.name}.building-{os.getpid()}")


def _previous_run(p: Period, out: Path, given: str | Path | None) -> Path | None:
    """The earlier run to compare with ("what changed"): ``--previous`` (which must be a run
    folder), else the previous quarter's (or year's) sibling folder when it is one, else None."""
    if given is not None:
        folder = Path(given).resolve()
        if not carries_marker(folder):
            raise ParameterError(f"--previous {given}: not a folder written by kpi run (no manifest.json "
                                 "from this suite); give an earlier run's output folder")
        return folder
    sibling = out.with_name(p.previous().slug)
    return sibling if carries_marker(sibling) and (sibling / "manifest.json").exists() else None


def find_commentary(data: Path, given: str | Path | None, period: Period,
                    catalogue: list[Kpi] | None = None) -> Path | None:
    """Force commentary (Markdown): ``--commentary FILE``, else ``commentary.md`` in the data
    folder when present, else None. Must be a UTF-8 file of at most 1 MB, written for this
    period and naming only known KPI ids: checked here, before any notebook runs."""
    path = Path(given).resolve() if given is not None else data / "commentary.md"
    if given is None and not path.exists():
        return None
    if not path.is_file():
        raise ParameterError(f"--commentary {given}: not found or not a file; expected a Markdown file")
    if path.stat().st_size > COMMENTARY_MAX_BYTES:
        raise ParameterError(f"commentary file {path} is {path.stat().st_size:,} bytes; the limit is "
                             f"{COMMENTARY_MAX_BYTES:,}")
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"commentary file {path}: not UTF-8 text (byte {exc.start})") from None
    from kpi_lib.present.commentary import load_commentary
    load_commentary(path, period.label, [k.id for k in (catalogue if catalogue is not None else load_catalogue())])
    return path


def plan(period: str | Period, data_dir: str | Path, out_dir: str | Path | None = None,
         params_file: str | Path | None = None, jobs: int | None = None, quiet: bool = False,
         timeout: int = 1200, skip_formats: Iterable[str] = (), previous_dir: str | Path | None = None,
         commentary_file: str | Path | None = None, overrides: dict | None = None,
         backfill: bool = False) -> Plan:
    """Step 1: parse and check every argument and setting, and the output folder (it must be new
    or an earlier run's), before any input is read. Raises KpiError with one clear message."""
    started, t0 = datetime.now(timezone.utc), time.monotonic()
    p = Period.parse(period)
    if not FIRST_YEAR <= p.fy <= LAST_YEAR:
        raise ParameterError(f"period {p.label} is out of range: financial years {FIRST_YEAR}/"
                             f"{(FIRST_YEAR + 1) % 100:02d} to {LAST_YEAR}/{(LAST_YEAR + 1) % 100:02d} are accepted")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ParameterError(f"--jobs must be a whole number of at least 1, got {jobs!r}")
    skip_formats = known(skip_formats)
    config = load_configuration(load_params(params_file, overrides))
    data = Path(data_dir).resolve()
    if not data.is_dir():
        raise ParameterError(f"data folder not found: {data_dir}")
    given = Path(out_dir) if out_dir else Path.cwd() / "outputs" / p.slug
    out = check_output_folder(given, data=data)
    return Plan(p, data, out, given, config, Path(params_file).resolve() if params_file else None,
                jobs_used(jobs), jobs, quiet, timeout, skip_formats, _previous_run(p, out, previous_dir),
                find_commentary(data, commentary_file, p, config.catalogue), started, t0,
                overrides or None, backfill)
