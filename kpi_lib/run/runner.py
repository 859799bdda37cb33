"""Run a quarter (or a year, or a range of quarters) in eight small steps:

plan (arguments, settings, output folder) -> validate (every input) -> measure (the panel, cached)
-> compute (every family's figures, once, from the panel) -> execute (family notebooks, in
parallel: they load those figures and present them) -> combine (results/kpis.csv) -> render (the report
notebook, HTML, Excel, PDF) -> publish (manifest, then move into place).

Nothing is written before plan and validate have passed. The output folder must be new or an
earlier run's (see :mod:`kpi_lib.run.outputs`) and is locked for the run. A run builds in a folder
beside the output and moves into place only when every step succeeded, so a failed run never
leaves a half-written report or overwrites the last good one: a failing notebook stops the run
with one message (notebook, cell, error) and is kept in ``<out>.failed/``. SIGINT and SIGTERM stop
the workers and kernels, remove the build folder and leave the last good report unchanged (see
:mod:`kpi_lib.run.processes`).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from kpi_lib.config.params import load_params
from kpi_lib.core.errors import (
    InputError,
    Interrupted,
    KpiError,
    NotebookError,
    OutputFolderError,
    ParameterError,
)
from kpi_lib.core.paths import notebooks_dir
from kpi_lib.core.periods import Period
from kpi_lib.core.provenance import code_version, library_versions
from kpi_lib.inputs.canonical import Tables
from kpi_lib.inputs.detect import detect_kinds, read_any
from kpi_lib.inputs.homeoffice import LICENCE
from kpi_lib.measure import registry
from kpi_lib.run.outputs import (
    SUITE,
    carries_marker,
    check_output_folder,
    clean_stale_builds,
    failed_folder,
    output_lock,
)
from kpi_lib.run.processes import (
    interruptible,
    run_tempdir,
    signals_held,
    stop_children,
    worker_init,
)

NOTEBOOKS = notebooks_dir()
FAMILIES = list(registry.NAMES)
KIND_NAMES = {"canonical": "force records", "home_office": "Home Office open data tables",
              "police_uk": "data.police.uk street files"}
COMMENTARY_MAX_BYTES = 1_000_000
FIRST_YEAR, LAST_YEAR = 1990, 2099  # financial years a run accepts (9999/00 is a typing error)
KERNEL_RETRIES = 3
KERNEL_START_ERRORS = ("Kernel died before replying", "Address already in use", "kernel_info",
                       "Kernel didn't respond", "DeadKernelError")


def _execute(name: str, src: str, dst: str, parameters: dict, timeout: int, log: str | None = None) -> dict:
    """Worker: run one notebook with Papermill, retrying kernel start races. Returns a plain dict
    (exceptions from Papermill do not always pickle). Kernel chatter on stderr goes to ``log``."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from kpi_lib.core.kernel import ENV
    os.environ[ENV] = "1"  # the kernels it starts live for one notebook (see kpi_lib.core.kernel)
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    start = time.monotonic()
    for attempt in range(1, KERNEL_RETRIES + 1):
        try:
            pm.execute_notebook(src, dst, parameters=parameters, kernel_name="python3",
                                cwd=str(Path(src).parent), progress_bar=False, log_output=False,
                                execution_timeout=timeout, start_timeout=120,
                                shutdown_kernel="immediate")
            return {"name": name, "ok": True, "seconds": time.monotonic() - start, "attempts": attempt}
        except PapermillExecutionError as exc:
            return {"name": name, "ok": False, "seconds": time.monotonic() - start,
                    "cell": exc.exec_count, "cell_index": exc.cell_index, "ename": exc.ename,
                    "evalue": exc.evalue, "path": dst}
        except Exception as exc:  # noqa: BLE001 - kernel start races and timeouts
            text = f"{type(exc).__name__}: {exc}"
            if attempt < KERNEL_RETRIES and any(s in text for s in KERNEL_START_ERRORS):
                time.sleep(1.5 * attempt)
                continue
            return {"name": name, "ok": False, "seconds": time.monotonic() - start, "cell": None,
                    "cell_index": None, "ename": type(exc).__name__, "evalue": str(exc), "path": dst}
    raise AssertionError("unreachable")


def jobs_used(jobs: int | None) -> int:
    """Notebooks run at once: the number asked for (default: cores), never more than there are
    family notebooks to run (the manifest records this number, not the one asked for)."""
    return max(1, min(jobs or os.cpu_count() or 1, len(FAMILIES)))


@dataclass
class RunResult:
    period: Period
    out: Path
    report: Path
    manifest: dict = field(default_factory=dict)


class _Progress:
    """Progress bar of notebooks done and running (rich), or plain log lines with quiet."""

    def __init__(self, total: int, label: str, quiet: bool) -> None:
        self.quiet, self.label, self.total, self.done = quiet, label, total, 0
        self.bar = None
        if not quiet:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), transient=False)
            self.task = self.bar.add_task(label, total=total)
            self.bar.start()

    def running(self, names: list[str]) -> None:
        if self.bar is not None:
            what = "notebooks done" if not names else f"running {', '.join(names)}"
            self.bar.update(self.task, description=f"{self.label}: {what}")

    def advance(self, name: str, seconds: float) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.advance(self.task)
        else:
            print(f"[{self.label}] {name} done in {seconds:.1f}s ({self.done}/{self.total})", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _fail_message(res: dict) -> str:
    where = f"cell {res['cell']}" if res.get("cell") is not None else "kernel"
    return (f"notebook {res['name']}.ipynb failed at {where}: {res['ename']}: {res['evalue']} "
            f"(executed notebook kept at {res['path']})")


def _swap_into_place(build: Path, out: Path) -> None:
    """Move the finished build to ``out``, replacing the previous run there. ``out`` was checked
    before the run; it is checked again here, under the lock, so that a folder which appeared in
    the meantime without the suite's marker is never replaced (the build is kept instead)."""
    if (out.exists() or out.is_symlink()) and not carries_marker(out):
        raise OutputFolderError(f"{out} appeared during the run and was not written by kpi run; it was "
                                f"left untouched and the new report is in {build}")
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    try:
        os.replace(build, out)
    except OSError:
        if old.exists():
            os.replace(old, out)
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


@dataclass(frozen=True)
class Plan:
    """Everything a run will do, decided and checked before any work: the period, folders,
    validated settings, how many notebooks run at once, and the earlier run and commentary the
    report compares with."""

    period: Period
    data: Path
    out: Path
    given_out: Path
    params: dict
    params_file: Path | None
    jobs: int
    jobs_requested: int | None
    quiet: bool
    timeout: int
    pdf: bool
    previous_dir: Path | None
    commentary_file: Path | None
    started: datetime
    t0: float

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


def _commentary(data: Path, given: str | Path | None, period: Period) -> Path | None:
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
    from kpi_lib.config.catalogue import load_catalogue
    from kpi_lib.present.commentary import load_commentary
    load_commentary(path, period.label, [k.id for k in load_catalogue()])
    return path


def plan(period: str | Period, data_dir: str | Path, out_dir: str | Path | None = None,
         params_file: str | Path | None = None, jobs: int | None = None, quiet: bool = False,
         timeout: int = 1200, pdf: bool = True, previous_dir: str | Path | None = None,
         commentary_file: str | Path | None = None) -> Plan:
    """Step 1: parse and check every argument and setting, and the output folder (it must be new
    or an earlier run's), before any input is read. Raises KpiError with one clear message."""
    started, t0 = datetime.now(timezone.utc), time.monotonic()
    p = Period.parse(period)
    if not FIRST_YEAR <= p.fy <= LAST_YEAR:
        raise ParameterError(f"period {p.label} is out of range: financial years {FIRST_YEAR}/"
                             f"{(FIRST_YEAR + 1) % 100:02d} to {LAST_YEAR}/{(LAST_YEAR + 1) % 100:02d} are accepted")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ParameterError(f"--jobs must be a whole number of at least 1, got {jobs!r}")
    params = load_params(params_file)
    data = Path(data_dir).resolve()
    if not data.is_dir():
        raise ParameterError(f"data folder not found: {data_dir}")
    given = Path(out_dir) if out_dir else Path.cwd() / "outputs" / p.slug
    out = check_output_folder(given, data=data)
    return Plan(p, data, out, given, params, Path(params_file).resolve() if params_file else None,
                jobs_used(jobs), jobs, quiet, timeout, pdf, _previous_run(p, out, previous_dir),
                _commentary(data, commentary_file, p), started, t0)


def check_coverage(p: Period, first: date | None, last: date | None, folder: Path) -> None:
    """A period with no input at all is an error naming what the data cover (a report of
    nothing but "not yet available" would hide the mistake). Partial overlap is fine."""
    if first is None or last is None:
        raise ParameterError(f"{folder} holds no dated records, so no period can be reported")
    if p.end < first or p.start > last:
        raise ParameterError(
            f"{p.label} ({p.start:%-d %B %Y} to {p.end:%-d %B %Y}) is outside the data in {folder}, which "
            f"cover {first:%-d %B %Y} to {last:%-d %B %Y} ({Period.containing(first).label} to "
            f"{Period.containing(last).label}); choose a period within them")


@dataclass(frozen=True)
class Validated:
    """What the validate step established about the inputs: the row ledger and provenance, and
    the tables themselves when they had to be read (None when a cached panel vouches for them)."""

    tables: Tables | None
    ledger: list[dict]
    synthetic: bool
    extraction_date: str | None
    how: str  # "read" or "cache"
    span: tuple[date | None, date | None] = (None, None)  # first and last dates in the inputs


def _reported_span(panel) -> tuple[date | None, date | None]:
    """First and last dates with a reported whole-force measurement in a cached panel."""
    m = panel.whole_force()
    m = m[m["status"] == "reported"]
    if m.empty:
        return None, None
    return (pd.Timestamp(m["window_start"].min()).date(),
            pd.Timestamp(m["window_end"].max()).date() - timedelta(days=1))


def validate(pl: Plan) -> Validated:
    """Step 2: check every input (the clear errors of the readers) and that the data cover the
    period, before any notebook. When the panel cache holds an entry for these very bytes,
    settings and code, the inputs were validated when it was built: they are not read again."""
    from kpi_lib.measure.cache import cached_panel
    from kpi_lib.measure.panel import data_span
    panel = cached_panel(pl.data, pl.params)
    if panel is not None:
        span = _reported_span(panel)
        check_coverage(pl.period, *span, pl.data)
        return Validated(None, list(panel.info.get("ledger", [])), panel.synthetic,
                         panel.info.get("extraction_date"), "cache", span)
    tables = read_any(pl.data, timezone=pl.params.get("timezone"), survey_scales=pl.params["survey_scales"])
    span = data_span(tables)
    check_coverage(pl.period, *span, pl.data)
    return Validated(tables, [e.as_dict() for e in tables.ledger], tables.synthetic,
                     tables.extraction_date.isoformat() if tables.extraction_date else None, "read", span)


def _inputs_record(pl: Plan, inputs: Validated) -> dict:
    kinds = detect_kinds(pl.data)
    return {
        "suite": SUITE, "period": pl.period.label, "data_folder": str(pl.data), "input_kinds": kinds,
        "synthetic": inputs.synthetic, "public_data": any(k in kinds for k in ("home_office", "police_uk")),
        "extraction_date": inputs.extraction_date, "inputs_validated": inputs.how,
        "parameters": pl.params, "params_file": str(pl.params_file) if pl.params_file else None,
        "previous_run": str(pl.previous_dir) if pl.previous_dir else None,
        "commentary_file": str(pl.commentary_file) if pl.commentary_file else None,
        "inputs": inputs.ledger, "code_version": code_version(),
        "data_span": [d.isoformat() if d else None for d in inputs.span],
    }


def start_build(pl: Plan, inputs: dict) -> Path:
    """Create the build folder, marker (inputs.json) first, so that a later run can recognise
    and remove it if this run dies."""
    build = pl.build
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    (build / "inputs.json").write_text(json.dumps(inputs, indent=2, default=str, sort_keys=True), encoding="utf-8")
    (build / "notebooks").mkdir()
    (build / "logs").mkdir()
    return build


def measure(pl: Plan, build: Path, inputs: Validated) -> dict:
    """Step 3: the measurement panel (from the cache when inputs, settings and code are unchanged)
    written into ``<build>/results/`` for the family notebooks. Returns the cache record."""
    from kpi_lib.measure.cache import measure_run
    return measure_run(pl.data, pl.params, build, tables=inputs.tables).as_dict()


def compute(pl: Plan, build: Path) -> dict[str, int]:
    """Step 3b (compute once): every family's figures from the panel the measure step wrote, in
    one pass in this process, written as the family notebooks would write them
    (``results/<family>.csv`` and the rest) and saved at full precision under a stamp
    (:mod:`kpi_lib.analyse.precompute`), so that each family notebook only loads and presents them.
    Returns how many charts each family notebook will draw (see :func:`notebook_order`)."""
    from kpi_lib.analyse.precompute import (
        compute_families,
        expected_stamp,
        save_figures,
        write_family_files,
    )
    from kpi_lib.config.catalogue import load_catalogue
    from kpi_lib.measure import panel as panel_mod
    res = build / "results"
    pnl = panel_mod.load(res)
    figures = compute_families(pl.period, pnl, pl.params, FAMILIES, load_catalogue(),
                               registry.load_annotations_for(pl.params))
    written = {name: write_family_files(f, res) for name, f in figures.items()}
    save_figures(written, expected_stamp(pl.period, pl.params, res), res)
    return {name: charts_drawn(f.results) for name, f in written.items()}


def charts_drawn(results: pd.DataFrame) -> int:
    """The charts a family notebook draws: one per headline KPI row reported with an SPC grain
    (as :func:`kpi_lib.present.views.show_kpis` selects them)."""
    from kpi_lib.present.views import charted
    return int((results["headline"].astype(bool) & charted(results)).sum())


def notebook_order(families: list[str], charts: dict[str, int]) -> list[str]:
    """The family notebooks, those drawing most charts first (registry order among equals).
    Drawing is most of a notebook's own work, so the longest start first and the workers finish
    together instead of one running the crime notebook's fifteen charts alone at the end."""
    return sorted(families, key=lambda name: -charts.get(name, 0))


def _notebook_pool(jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"),
                               initializer=worker_init, initargs=(os.getpid(),))


def _run_notebooks(names: list[str], build: Path, parameters: dict, pl: Plan, jobs: int,
                   progress: _Progress) -> dict[str, float]:
    """Execute notebooks (at most ``jobs`` at once) into ``build/notebooks``; NotebookError for
    the first that fails. On any failure or interruption the workers and their kernels are
    stopped at once (not waited for)."""
    durations: dict[str, float] = {}
    pool = _notebook_pool(jobs)
    ok = False
    try:
        pending = {}
        queue = list(names)
        while queue or pending:
            while queue and len(pending) < jobs:
                name = queue.pop(0)
                fut = pool.submit(_execute, name, str(NOTEBOOKS / f"{name}.ipynb"),
                                  str(build / "notebooks" / f"{name}.ipynb"), parameters, pl.timeout,
                                  str(build / "logs" / f"{name}.log"))
                pending[fut] = name
                if queue:
                    time.sleep(0.3)  # stagger kernel starts
            progress.running(sorted(pending.values()))
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                name = pending.pop(fut)
                res = fut.result()
                if not res["ok"]:
                    raise NotebookError(_fail_message(res))
                durations[name] = round(res["seconds"], 2)
                progress.advance(name, res["seconds"])
        ok = True
    finally:
        if not ok:
            stop_children()
        pool.shutdown(wait=ok, cancel_futures=True)
    return durations


def execute(pl: Plan, build: Path, progress: _Progress, order: list[str] | None = None) -> dict[str, float]:
    """Step 4: the family notebooks, in parallel (in ``order``, default the registry's), each
    loading the panel and the figures the compute step saved, and presenting them."""
    parameters = {"period": pl.period.label, "out_dir": str(build), "data_dir": str(pl.data),
                  "params_file": str(pl.params_file) if pl.params_file else None}
    return _run_notebooks(order or FAMILIES, build, parameters, pl, pl.jobs, progress)


def combine(build: Path) -> None:
    """Step 5: the family results combined into ``results/kpis.csv`` (and spc.csv, history.csv)."""
    from kpi_lib.analyse.results import combine_run
    combine_run(build)


def render(pl: Plan, build: Path, inputs: dict, progress: _Progress) -> tuple[dict[str, float], str | None]:
    """Step 6: the report notebook (it only presents kpis.csv), then report.html, kpis.xlsx and
    (optionally) report.pdf. Returns timings and a note when the PDF could not be printed."""
    parameters = {"period": pl.period.label, "out_dir": str(build),
                  "previous_dir": str(pl.previous_dir) if pl.previous_dir else None,
                  "commentary_file": str(pl.commentary_file) if pl.commentary_file else None}
    durations = _run_notebooks(["report"], build, parameters, pl, 1, progress)
    progress.running(["rendering the report"])
    t = time.monotonic()
    try:
        pdf_note = _render_outputs(build, report_meta(pl.period, inputs, pl.started, pl.params), pl.pdf)
    except (KpiError, Interrupted):
        raise
    except Exception as exc:  # noqa: BLE001 - one readable message; the build is kept
        raise KpiError(f"rendering the report failed: {type(exc).__name__}: {exc}") from None
    durations["render"] = round(time.monotonic() - t, 2)
    return durations, pdf_note


def publish(pl: Plan, build: Path, manifest: dict) -> None:
    """Step 7: write the manifest and move the build into place, replacing the previous run
    (signals are held meanwhile, so the move is never left half done)."""
    with signals_held():
        (build / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        _swap_into_place(build, pl.out)
        failed = failed_folder(pl.out)
        if carries_marker(failed):
            shutil.rmtree(failed, ignore_errors=True)


def _manifest(pl: Plan, build: Path, inputs: dict, durations: dict, cache: dict, cleaned: list,
              pdf_note: str | None) -> dict:
    return {
        **{k: v for k, v in inputs.items() if k != "inputs"},
        "inputs": inputs["inputs"],
        "row_ledger": {e["table"]: {"read": e["rows_read"], "used": e["rows_used"],
                                    "rejected": e["rows_rejected"], "reasons": e["rejected_reasons"]}
                       for e in inputs["inputs"]},
        "library_versions": library_versions(),
        "started": pl.started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds_total": round(time.monotonic() - pl.t0, 2), "seconds_by_step": durations,
        "jobs": pl.jobs, "jobs_requested": pl.jobs_requested, **cache,
        "cleaned_up": [str(c) for c in cleaned],
        "pdf": "report.pdf" if pl.pdf and pdf_note is None else pdf_note,
        "outputs": sorted(str(x.relative_to(build)) for x in build.rglob("*") if x.is_file()),
    }


def _keep_failed(pl: Plan, build: Path, message: str) -> KpiError:
    """Move a failed build to ``<out>.failed`` for inspection; the error names where it is."""
    failed = failed_folder(pl.out)
    if not build.exists():  # already moved into place, or never made
        return NotebookError(message)
    if carries_marker(failed):
        shutil.rmtree(failed, ignore_errors=True)
    if failed.exists():  # not ours (checked at the start): leave both alone
        return NotebookError(f"{message} (notebooks kept in {build})")
    os.replace(build, failed)
    return NotebookError(message.replace(str(build), str(failed)))


def _run_locked(pl: Plan) -> RunResult:
    """Steps 2 to 7, once the output folder is locked: validate, measure, compute, execute, combine,
    render, publish. A failure keeps the build in ``<out>.failed``; an interruption removes it;
    either way the last good report is left as it was."""
    cleaned = clean_stale_builds(pl.out)
    validated = validate(pl)
    inputs = _inputs_record(pl, validated)
    build = start_build(pl, inputs)
    progress = _Progress(len(FAMILIES) + 1, pl.period.label, pl.quiet)
    try:
        t = time.monotonic()
        cache = measure(pl, build, validated)
        durations = {"measure": round(time.monotonic() - t, 2)}
        t = time.monotonic()
        charts = compute(pl, build)
        durations["compute"] = round(time.monotonic() - t, 2)
        durations.update(execute(pl, build, progress, notebook_order(FAMILIES, charts)))
        t = time.monotonic()
        combine(build)
        durations["combine"] = round(time.monotonic() - t, 2)
        progress.running(["report"])
        more, pdf_note = render(pl, build, inputs, progress)
        durations.update(more)
        progress.close()
        manifest = _manifest(pl, build, inputs, durations, cache, cleaned, pdf_note)
        publish(pl, build, manifest)
    except Interrupted as exc:
        progress.close()
        if not exc.published:
            stop_children()
            shutil.rmtree(build, ignore_errors=True)
        raise
    except KpiError as exc:
        progress.close()
        stop_children()
        raise _keep_failed(pl, build, str(exc)) from None
    except OSError as exc:  # disk full, permissions: one readable message
        progress.close()
        stop_children()
        raise _keep_failed(pl, build, f"the run could not write its files: {exc}") from None
    except BaseException:  # an unexpected error: stop the children and keep the build, then report it
        progress.close()
        stop_children()
        _keep_failed(pl, build, "")
        raise
    finally:
        progress.close()
    return RunResult(pl.period, pl.out, pl.out / "report.html", manifest)


def run_period(period: str | Period, data_dir: str | Path, out_dir: str | Path | None = None,
               params_file: str | Path | None = None, jobs: int | None = None, quiet: bool = False,
               timeout: int = 1200, pdf: bool = True, previous_dir: str | Path | None = None,
               commentary_file: str | Path | None = None) -> RunResult:
    """Run one period end to end: plan, then (holding the output folder's lock) validate,
    measure, execute, combine, render and publish. Returns where the report is; raises KpiError
    on failure, Interrupted on SIGINT/SIGTERM (the last good report is then unchanged)."""
    with interruptible():
        pl = plan(period, data_dir, out_dir, params_file, jobs, quiet, timeout, pdf, previous_dir,
                  commentary_file)
        with output_lock(pl.out):
            check_output_folder(pl.given_out, data=pl.data)  # again, now that no other run can change it
            with run_tempdir():
                return _run_locked(pl)


def report_meta(p: Period, inputs: dict, started: datetime, params: dict) -> dict:
    """The title block, banner and contents of the report, from the run's inputs record."""
    kinds = inputs.get("input_kinds", [])
    return {
        "panel": params.get("panel_name", "Police and Crime Panel"),
        "title": "Budget KPI metrics report", "period": p.label,
        "period_dates": f"{p.start:%-d %B %Y} to {p.end:%-d %B %Y}",
        "produced": started.strftime("%-d %B %Y"),
        "extraction_date": inputs.get("extraction_date") or "not stated",
        "data_description": ("synthetic sample data" if inputs.get("synthetic") else
                             ", ".join(KIND_NAMES.get(k, k) for k in kinds)) + _months_read(inputs),
        "synthetic": bool(inputs.get("synthetic")), "public_data": bool(inputs.get("public_data")),
        "licence": LICENCE,
        "sections": _sections(p),
    }


def _months_read(inputs: dict) -> str:
    """The months the inputs cover, said beside the period so that a report never seems to rest
    on the period's months alone (earlier months feed the comparisons and charts)."""
    span = inputs.get("data_span") or [None, None]
    if not span[0] or not span[1]:
        return ""
    first, last = (date.fromisoformat(d) for d in span)
    return (f"; months read: {first:%B %Y} to {last:%B %Y} (the months outside the period feed "
            "the comparisons and charts only)")


def _sections(p: Period) -> list:
    from kpi_lib.present.render import sections
    return sections(p.is_year, FAMILIES)


def _render_outputs(folder: Path, meta: dict, pdf: bool) -> str | None:
    """report.html, kpis.xlsx and (optionally) report.pdf from the executed notebooks in ``folder``.
    Returns a note when the PDF could not be printed."""
    from kpi_lib.analyse.columns import read_csv
    from kpi_lib.present.render import combine, print_pdf, render_html, write_excel
    nb = combine(folder / "notebooks" / "report.ipynb", [folder / "notebooks" / f"{f}.ipynb" for f in FAMILIES])
    report = render_html(nb, meta, folder / "report.html")
    results = read_csv(folder / "results" / "kpis.csv")
    write_excel(results, folder / "kpis.xlsx")
    if pdf:
        try:
            print_pdf(report, folder / "report.pdf")
        except KpiError as exc:
            return str(exc)
    return None


def rerender(out: str | Path, pdf: bool = True) -> Path:
    """Re-render an existing run's report from its executed notebooks (no recomputation), holding
    the folder's lock; Chromium's profile lives in the run's temporary folder."""
    out = Path(out)
    if not (out / "manifest.json").exists() or not carries_marker(out):
        raise ParameterError(f"{out} is not a run folder (no manifest.json written by kpi run)")
    out = out.resolve()
    with interruptible(), output_lock(out), run_tempdir():
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        inputs = json.loads((out / "inputs.json").read_text(encoding="utf-8"))
        started = datetime.fromisoformat(manifest["started"])
        try:
            _render_outputs(out, report_meta(Period.parse(manifest["period"]), inputs, started,
                                             inputs["parameters"]), pdf)
        except Interrupted:
            stop_children()  # Chromium, if it was printing
            raise
    return out / "report.html"


def run_many(first: str, last: str | None, data_dir, out_root=None, **kw) -> list[RunResult]:
    """A single period, or every quarter from ``first`` to ``last`` (a backfill, each quarter in
    ``out_root/<slug>``), in order. Every output folder is checked before the first period runs."""
    from kpi_lib.core.periods import quarter_range
    periods = [Period.parse(first)] if last is None else quarter_range(first, last)
    outs = [Path(out_root) / p.slug if out_root and last is not None else out_root for p in periods]
    with interruptible():
        for p, out in zip(periods, outs, strict=True):
            check_output_folder(out if out else Path.cwd() / "outputs" / p.slug, data=data_dir)
        return [run_period(p, data_dir, out, **kw) for p, out in zip(periods, outs, strict=True)]


__all__ = ["InputError", "Plan", "RunResult", "combine", "compute", "execute", "measure", "plan", "publish",
           "render", "run_many", "run_period", "validate"]
