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

This module is the list of steps. Each concern lives in its own module: the plan
(:mod:`kpi_lib.run.plan`), the notebook worker pool (:mod:`kpi_lib.run.pool`), the progress bar
(:mod:`kpi_lib.run.progress`), the build folder moved into place (:mod:`kpi_lib.run.transaction`),
the inputs record, manifest and report title block (:mod:`kpi_lib.run.manifest`), output folder
ownership and locks (:mod:`kpi_lib.run.outputs`), signals and child processes
(:mod:`kpi_lib.run.processes`).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from kpi_lib.core.errors import (
    InputError,
    Interrupted,
    KpiError,
    OutputFolderError,
    ParameterError,
)
from kpi_lib.core.paths import notebooks_dir
from kpi_lib.core.periods import Period
from kpi_lib.core.snapshot import Snapshot
from kpi_lib.inputs.canonical import Tables
from kpi_lib.inputs.detect import read_with_settings
from kpi_lib.measure import registry
from kpi_lib.run.manifest import inputs_record, manifest_record, report_meta
from kpi_lib.run.outputs import (
    carries_marker,
    check_output_folder,
    clean_stale_builds,
    output_lock,
)
from kpi_lib.run.plan import Plan, plan
from kpi_lib.run.pool import charts_drawn, notebook_order, run_notebooks
from kpi_lib.run.processes import (
    interruptible,
    run_tempdir,
    stop_children,
)
from kpi_lib.run.progress import Progress
from kpi_lib.run.transaction import keep_failed, publish, start_build

NOTEBOOKS = notebooks_dir()
FAMILIES = list(registry.NAMES)
#: the report's notebooks: one per registered family, then the report. Any other notebook in
#: notebooks/ (an analyst's own) is not part of a run, of `kpi list`, or of the checks on these.
REPORT_NOTEBOOKS = [*FAMILIES, "report"]


@dataclass
class RunResult:
    period: Period
    out: Path
    report: Path
    manifest: dict = field(default_factory=dict)


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
    snapshot: Snapshot | None = None  # the input files as hashed, held open for the run
    files: dict | None = None  # what happened to each file of the data folder
    coverage: tuple[dict, ...] = ()  # which months each table covers (kpi_lib.measure.coverage)


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
    period, before any notebook. Every input file, and every file a setting points to, is hashed
    first and then read as hashed (:func:`kpi_lib.measure.cache.snapshot_inputs`); the snapshot
    stays open for the run (``Validated.snapshot``; the caller closes it). When the panel cache
    holds an entry for these very bytes, settings and code, the inputs were validated when it
    was built: they are not read again."""
    from kpi_lib.inputs.folder import check_files
    from kpi_lib.measure.cache import cached_panel, snapshot_inputs
    from kpi_lib.measure.coverage import coverage_of
    from kpi_lib.measure.panel import data_span
    files = check_files(pl.data, pl.params).as_dict()  # every file read, described or ignored on purpose
    snap = snapshot_inputs(pl.data, pl.params)
    try:
        with snap.active():
            panel = cached_panel(pl.data, pl.params, snapshot=snap)
            if panel is not None:
                span = _reported_span(panel)
                check_coverage(pl.period, *span, pl.data)
                return Validated(None, list(panel.info.get("ledger", [])), panel.synthetic,
                                 panel.info.get("extraction_date"), "cache", span, snap, files,
                                 tuple(panel.info.get("coverage", [])))
            tables = read_with_settings(pl.data, pl.params)
            snap.verify("while it was being read", deep=False)
            span = data_span(tables)
            check_coverage(pl.period, *span, pl.data)
            covered = tuple(c.as_dict() for c in coverage_of(tables).values())  # isolated records stop here
    except BaseException:
        snap.close()
        raise
    return Validated(tables, [e.as_dict() for e in tables.ledger], tables.synthetic,
                     tables.extraction_date.isoformat() if tables.extraction_date else None, "read", span,
                     snap, files, covered)


def measure(pl: Plan, build: Path, inputs: Validated) -> dict:
    """Step 3: the measurement panel (from the cache when inputs, settings and code are unchanged)
    written into ``<build>/results/`` for the family notebooks. Returns the cache record."""
    from kpi_lib.measure.cache import measure_run
    return measure_run(pl.data, pl.params, build, tables=inputs.tables, snapshot=inputs.snapshot).as_dict()


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
    from kpi_lib.config.catalogue import for_year, write_run_catalogue
    from kpi_lib.measure import panel as panel_mod
    res = build / "results"
    pnl = panel_mod.load(res)
    write_run_catalogue(for_year(pl.config.catalogue, pl.period.fy), res)  # as this period's report uses it
    figures = compute_families(pl.period, pnl, pl.config, FAMILIES)
    written = {name: write_family_files(f, res) for name, f in figures.items()}
    save_figures(written, expected_stamp(pl.period, pl.params, res), res)
    write_lineage(pl, build, pnl, written)
    return {name: charts_drawn(f.results) for name, f in written.items()}


def write_lineage(pl: Plan, build: Path, pnl, figures: dict) -> None:
    """``results/lineage.json``: where every figure of every budget KPI comes from
    (:mod:`kpi_lib.analyse.lineage`), written before the notebooks so that each KPI card can show
    how its figure was made."""
    from kpi_lib.analyse.engine import maturity_for
    from kpi_lib.analyse.lineage import build_lineage, crime_category_of
    from kpi_lib.config.catalogue import for_year
    from kpi_lib.core.io import write_atomic
    first = next(iter(figures.values()))
    results = pd.concat([f.results for f in figures.values()], ignore_index=True)
    inputs = json.loads((build / "inputs.json").read_text(encoding="utf-8"))
    catalogue = for_year(pl.config.catalogue, pl.period.fy)
    doc = build_lineage(results, pnl.whole_force(), first.windows.named, catalogue, pl.params,
                        pl.config.categories, crime_category_of(catalogue), inputs, pnl.extraction_date,
                        maturity_for(pnl, first.windows.named["current"]).lag)
    write_atomic(build / "results" / "lineage.json", json.dumps(doc, indent=1, default=str))


def execute(pl: Plan, build: Path, progress: Progress, order: list[str] | None = None) -> dict[str, float]:
    """Step 4: the family notebooks, in parallel (in ``order``, default the registry's), each
    loading the panel and the figures the compute step saved, and presenting them."""
    parameters = {"period": pl.period.label, "out_dir": str(build), "data_dir": str(pl.data),
                  "params_file": notebook_settings(pl, build)}
    return run_notebooks(order or FAMILIES, NOTEBOOKS, build, parameters, pl.timeout, pl.jobs,
                         progress)


def notebook_settings(pl: Plan, build: Path) -> str | None:
    """The parameter file the notebooks load: the run's own, or (when the command line changed
    settings, e.g. ``--as-at``) the run's settings written in full into the build, so that every
    notebook computes with exactly the run's settings."""
    if not pl.overrides:
        return str(pl.params_file) if pl.params_file else None
    import yaml
    path = build / "settings.yaml"
    path.write_text("# The settings of this run (defaults, the parameter file and the command line).\n"
                    + yaml.safe_dump(dict(pl.params), sort_keys=True, allow_unicode=True), encoding="utf-8")
    return str(path)


def combine(build: Path) -> None:
    """Step 5: the family results combined into ``results/kpis.csv`` (and spc.csv, history.csv)."""
    from kpi_lib.analyse.results import combine_run
    combine_run(build)


def render(pl: Plan, build: Path, inputs: dict, progress: Progress) -> tuple[dict[str, float], dict[str, str]]:
    """Step 6: the report notebook (it only presents kpis.csv), then every registered output
    format not left out. Returns timings and what was written of each format (its file name, or
    why not)."""
    parameters = {"period": pl.period.label, "out_dir": str(build),
                  "previous_dir": inputs.get("previous_run"),  # None when the check left it out
                  "commentary_file": str(pl.commentary_file) if pl.commentary_file else None}
    durations = run_notebooks(["report"], NOTEBOOKS, build, parameters, pl.timeout, 1, progress)
    progress.running(["rendering the report"])
    t = time.monotonic()
    try:
        written = _render_outputs(build, report_meta(pl.period, inputs, pl.started, pl.params), pl.skip_formats)
    except (KpiError, Interrupted):
        raise
    except Exception as exc:  # noqa: BLE001 - one readable message; the build is kept
        raise KpiError(f"rendering the report failed: {type(exc).__name__}: {exc}") from None
    durations["render"] = round(time.monotonic() - t, 2)
    return durations, written


def _run_locked(pl: Plan) -> RunResult:
    """Steps 2 to 7, once the output folder is locked: validate, measure, compute, execute, combine,
    render, publish. A failure keeps the build in ``<out>.failed``; an interruption removes it;
    either way the last good report is left as it was."""
    cleaned = clean_stale_builds(pl.out)
    validated = validate(pl)
    snap = validated.snapshot
    with snap or nullcontext(), (snap.active() if snap else nullcontext()):
        return _run_validated(pl, validated, cleaned)


def _run_validated(pl: Plan, validated: Validated, cleaned: list) -> RunResult:
    inputs = inputs_record(pl, validated)
    build = start_build(pl, inputs)
    progress = Progress(len(FAMILIES) + 1, pl.period.label, pl.quiet)
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
        more, written = render(pl, build, inputs, progress)
        durations.update(more)
        progress.close()
        manifest = manifest_record(pl, build, inputs, durations, cache, cleaned, written)
        if validated.snapshot is not None:  # the report must describe the files as they are
            validated.snapshot.verify("during the run")
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
        raise keep_failed(pl, build, str(exc)) from None
    except OSError as exc:  # disk full, permissions: one readable message
        progress.close()
        stop_children()
        raise keep_failed(pl, build, f"the run could not write its files: {exc}") from None
    except BaseException:  # an unexpected error: stop the children and keep the build, then report it
        progress.close()
        stop_children()
        keep_failed(pl, build, "")
        raise
    finally:
        progress.close()
    return RunResult(pl.period, pl.out, pl.out / "report.html", manifest)


def run_period(period: str | Period, data_dir: str | Path, out_dir: str | Path | None = None,
               params_file: str | Path | None = None, jobs: int | None = None, quiet: bool = False,
               timeout: int = 1200, pdf: bool = True, previous_dir: str | Path | None = None,
               commentary_file: str | Path | None = None, overrides: dict | None = None,
               backfill: bool = False, skip_formats: Iterable[str] = ()) -> RunResult:
    """Run one period end to end: plan, then (holding the output folder's lock) validate,
    measure, execute, combine, render and publish. ``overrides``: settings given on the command
    line (``--as-at``, ``--mapping``, ``--ignore``), over the parameter file. ``skip_formats``:
    output formats not to write (``pdf=False`` is short for leaving out the PDF). Returns where the
    report is; raises KpiError on failure, Interrupted on SIGINT/SIGTERM (the last good report is
    then unchanged)."""
    with interruptible():
        skip_formats = (*skip_formats, *(() if pdf else ("pdf",)))
        pl = plan(period, data_dir, out_dir, params_file, jobs, quiet, timeout, skip_formats, previous_dir,
                  commentary_file, overrides, backfill)
        with output_lock(pl.out):
            check_output_folder(pl.given_out, data=pl.data)  # again, now that no other run can change it
            with run_tempdir():
                return _run_locked(pl)


def _render_outputs(folder: Path, meta: dict, skip_formats: Iterable[str]) -> dict[str, str]:
    """Every registered output format (:mod:`kpi_lib.present.formats`) not in ``skip_formats``,
    from the executed notebooks and results in ``folder``. Returns what was written of each (its
    file name, the note of an optional format that failed, or "left out")."""
    from kpi_lib.present import formats
    return formats.record(formats.write_all(folder, meta, FAMILIES, skip=skip_formats))


def rerender(out: str | Path, pdf: bool = True, skip_formats: Iterable[str] = ()) -> Path:
    """Re-render an existing run's report from its executed notebooks (no recomputation), holding
    the folder's lock; Chromium's profile lives in the run's temporary folder. ``skip_formats``:
    formats not to write again (``pdf=False`` is short for leaving out the PDF)."""
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
                                             inputs["parameters"]),
                            (*skip_formats, *(() if pdf else ("pdf",))))
        except Interrupted:
            stop_children()  # Chromium, if it was printing
            raise
        except OSError as exc:  # a full disk, a read-only folder: one line, nothing half written
            raise KpiError(f"kpi render could not write in {out}: {exc.strerror or exc}; every file "
                           "there is whole (old or new)") from None
    return out / "report.html"


def run_many(first: str, last: str | None, data_dir, out_root=None, *, as_at_days: int | None = None,
             **kw) -> list[RunResult]:
    """A single period, or every quarter from ``first`` to ``last`` (a backfill, each quarter in
    ``out_root/<slug>``), in order. Every output folder is checked before the first period runs.
    ``as_at_days``: each period's figures as at that many days after its end (as first reported,
    when that is the force's usual extraction lag). A backfill also writes ``index.html`` beside
    the quarters: a trend table of every budget KPI with a link to each report."""
    from kpi_lib.core.periods import quarter_range
    from kpi_lib.present.backfill_index import INDEX, may_write
    periods = [Period.parse(first)] if last is None else quarter_range(first, last)
    outs = [Path(out_root) / p.slug if out_root and last is not None else out_root for p in periods]
    index = (Path(out_root) if out_root else Path.cwd() / "outputs") / INDEX if last is not None else None
    if as_at_days is not None and (isinstance(as_at_days, bool) or as_at_days < 0):
        raise ParameterError(f"--as-at +{as_at_days}: a number of days of at least 0 is expected")
    with interruptible():
        for p, out in zip(periods, outs, strict=True):
            check_output_folder(out if out else Path.cwd() / "outputs" / p.slug, data=data_dir)
        if index is not None and not may_write(index):
            raise OutputFolderError(f"{index} exists and was not written by kpi run: it is left untouched; "
                                    "give --out a folder of its own for the backfill")
        done = []
        for p, out in zip(periods, outs, strict=True):
            extra = dict(kw)
            if as_at_days is not None:
                extra["overrides"] = {**(kw.get("overrides") or {}),
                                      "as_at": (p.end + timedelta(days=as_at_days)).isoformat()}
            done.append(run_period(p, data_dir, out, backfill=last is not None, **extra))
        if index is not None:
            write_index(index, done)
        return done


def write_index(path: Path, runs: list[RunResult]) -> Path:
    """The backfill's index page (see :func:`run_many`), written whole or not at all."""
    from kpi_lib.present.backfill_index import index_html
    from kpi_lib.present.render import write_atomic
    first = runs[0].manifest if runs else {}
    as_at = {r.manifest.get("as_at") for r in runs}
    note = ("Each quarter's figures as first reported: as at its own extraction date." if None not in as_at
            else f"Retrospective: every quarter's figures as they stand in the extract of "
                 f"{first.get('extraction_date') or 'a date not stated'}, which may differ from those first reported.")
    rel = [(r.period.label, r.out) for r in runs]
    title = f"Budget KPI metrics: {runs[0].period.label} to {runs[-1].period.label}" if runs else "Budget KPI metrics"
    write_atomic(path, index_html(rel, title, note, bool(first.get("synthetic"))))
    return path


__all__ = ["InputError", "Plan", "RunResult", "charts_drawn", "combine", "compute", "execute", "measure",
           "notebook_order", "plan", "publish", "render", "run_many", "run_period", "validate"]
