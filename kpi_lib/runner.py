"""Run a quarter (or a year, or a range of quarters): validate everything first, execute the
family notebooks with Papermill in parallel, then the summary notebook, then render the report.

A run builds in a temporary folder beside the output and moves into place only when every step
succeeded, so a failed run never leaves a half-written report or overwrites the last good one.
A failing notebook stops the run with one message (notebook, cell, error) and is kept for
inspection in ``<out>.failed/``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path

from .engine import FAMILY_TABLES
from .errors import InputError, KpiError, NotebookError, OutputFolderError, ParameterError
from .outputs import SUITE, carries_marker, check_output_folder, failed_folder, output_lock
from .params import load_params
from .periods import Period
from .provenance import code_version, library_versions
from .sources.detect import detect_kinds, read_any
from .sources.homeoffice import LICENCE

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
FAMILIES = list(FAMILY_TABLES)
KIND_NAMES = {"canonical": "force records", "home_office": "Home Office open data tables",
              "police_uk": "data.police.uk street files"}
KERNEL_RETRIES = 3
KERNEL_START_ERRORS = ("Kernel died before replying", "Address already in use", "kernel_info",
                       "Kernel didn't respond", "DeadKernelError")


def _execute(name: str, src: str, dst: str, parameters: dict, timeout: int, log: str | None = None) -> dict:
    """Worker: run one notebook with Papermill, retrying kernel start races. Returns a plain dict
    (exceptions from Papermill do not always pickle). Kernel chatter on stderr goes to ``log``."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    if log:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    start = time.monotonic()
    for attempt in range(1, KERNEL_RETRIES + 1):
        try:
            pm.execute_notebook(src, dst, parameters=parameters, kernel_name="python3",
                                cwd=str(Path(src).parent), progress_bar=False, log_output=False,
                                execution_timeout=timeout, start_timeout=120)
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


def run_period(period: str | Period, data_dir: str | Path, out_dir: str | Path | None = None,
               params_file: str | Path | None = None, jobs: int | None = None, quiet: bool = False,
               timeout: int = 1200, pdf: bool = True) -> RunResult:
    """Run one period end to end; returns where the report is. Raises KpiError on failure.

    The output folder is checked (owned by the suite, or new) and locked before any work."""
    started = datetime.now(timezone.utc)
    t0 = time.monotonic()
    p = Period.parse(period)
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ParameterError(f"--jobs must be a whole number of at least 1, got {jobs!r}")
    params = load_params(params_file)
    data = Path(data_dir).resolve()
    if not data.is_dir():
        raise ParameterError(f"data folder not found: {data_dir}")
    given = Path(out_dir) if out_dir else Path.cwd() / "outputs" / p.slug
    out = check_output_folder(given, data=data)
    with output_lock(out):
        out = check_output_folder(given, data=data)  # again, now that no other run can change it
        return _run_locked(p, params, params_file, data, out, jobs, quiet, timeout, pdf, started, t0)


def _run_locked(p: Period, params: dict, params_file: str | Path | None, data: Path, out: Path,
                jobs: int | None, quiet: bool, timeout: int, pdf: bool, started: datetime,
                t0: float) -> RunResult:
    """The run itself, once the output folder is checked and locked."""
    # validate every input before anything starts
    tables = read_any(data, timezone=params.get("timezone"), survey_scales=params["survey_scales"])
    kinds = detect_kinds(data)
    public = any(k in kinds for k in ("home_office", "police_uk"))
    jobs = jobs_used(jobs)

    build = out.with_name(f".{out.name}.building-{os.getpid()}")
    failed_dir = failed_folder(out)
    shutil.rmtree(build, ignore_errors=True)
    (build / "notebooks").mkdir(parents=True)
    (build / "logs").mkdir()
    inputs = {
        "suite": SUITE, "period": p.label, "data_folder": str(data), "input_kinds": kinds, "synthetic": tables.synthetic,
        "public_data": public, "extraction_date": tables.extraction_date.isoformat() if tables.extraction_date else None,
        "parameters": params, "params_file": str(params_file) if params_file else None,
        "inputs": [e.as_dict() for e in tables.ledger], "code_version": code_version(),
    }
    (build / "inputs.json").write_text(json.dumps(inputs, indent=2, default=str, sort_keys=True), encoding="utf-8")
    common = {"period": p.label, "out_dir": str(build)}
    fam_params = {**common, "data_dir": str(data), "params_file": str(Path(params_file).resolve()) if params_file else None}
    durations: dict[str, float] = {}
    progress = _Progress(len(FAMILIES) + 1, p.label, quiet)
    try:
        ctx = get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            pending = {}
            queue = list(FAMILIES)
            while queue or pending:
                while queue and len(pending) < jobs:
                    name = queue.pop(0)
                    fut = pool.submit(_execute, name, str(NOTEBOOKS / f"{name}.ipynb"),
                                      str(build / "notebooks" / f"{name}.ipynb"), fam_params, timeout,
                                      str(build / "logs" / f"{name}.log"))
                    pending[fut] = name
                    time.sleep(0.3)  # stagger kernel starts
                progress.running(sorted(pending.values()))
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    name = pending.pop(fut)
                    res = fut.result()
                    if not res["ok"]:
                        for f in pending:
                            f.cancel()
                        raise NotebookError(_fail_message(res))
                    durations[name] = round(res["seconds"], 2)
                    progress.advance(name, res["seconds"])
        progress.running(["report"])
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            res = pool.submit(_execute, "report", str(NOTEBOOKS / "report.ipynb"),
                              str(build / "notebooks" / "report.ipynb"), common, timeout,
                              str(build / "logs" / "report.log")).result()
        if not res["ok"]:
            raise NotebookError(_fail_message(res))
        durations["report"] = round(res["seconds"], 2)
        progress.advance("report", res["seconds"])
        progress.running(["rendering the report"])
    except KpiError as exc:
        progress.close()
        shutil.rmtree(failed_dir, ignore_errors=True)
        os.replace(build, failed_dir)
        raise NotebookError(str(exc).replace(str(build), str(failed_dir))) from None
    finally:
        progress.close()

    t_render = time.monotonic()
    meta = report_meta(p, inputs, started, params)
    try:
        pdf_note = _render_outputs(build, meta, pdf)
    except Exception as exc:  # noqa: BLE001 - keep the build for inspection, leave the last report
        shutil.rmtree(failed_dir, ignore_errors=True)
        os.replace(build, failed_dir)
        raise KpiError(f"rendering the report failed: {type(exc).__name__}: {exc} "
                       f"(notebooks kept in {failed_dir})") from None
    durations["render"] = round(time.monotonic() - t_render, 2)
    manifest = {
        **{k: v for k, v in inputs.items() if k != "inputs"},
        "inputs": inputs["inputs"],
        "row_ledger": {e["table"]: {"read": e["rows_read"], "used": e["rows_used"],
                                    "rejected": e["rows_rejected"], "reasons": e["rejected_reasons"]}
                       for e in inputs["inputs"]},
        "library_versions": library_versions(),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds_total": round(time.monotonic() - t0, 2), "seconds_by_step": durations,
        "jobs": jobs, "pdf": "report.pdf" if pdf and pdf_note is None else pdf_note,
        "outputs": sorted(str(x.relative_to(build)) for x in build.rglob("*") if x.is_file()),
    }
    (build / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    _swap_into_place(build, out)
    shutil.rmtree(failed_dir, ignore_errors=True)
    return RunResult(p, out, out / "report.html", manifest)


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
                             ", ".join(KIND_NAMES.get(k, k) for k in kinds)),
        "synthetic": bool(inputs.get("synthetic")), "public_data": bool(inputs.get("public_data")),
        "licence": LICENCE,
        "sections": _sections(p),
    }


def _sections(p: Period) -> list:
    from .render import sections
    return sections(p.is_year, FAMILIES)


def _render_outputs(folder: Path, meta: dict, pdf: bool) -> str | None:
    """report.html, kpis.xlsx and (optionally) report.pdf from the executed notebooks in ``folder``.
    Returns a note when the PDF could not be printed."""
    import pandas as pd

    from .render import combine, print_pdf, render_html, write_excel
    nb = combine(folder / "notebooks" / "report.ipynb", [folder / "notebooks" / f"{f}.ipynb" for f in FAMILIES])
    report = render_html(nb, meta, folder / "report.html")
    results = pd.read_csv(folder / "results" / "kpis.csv", keep_default_na=True,
                          dtype={c: str for c in ("basis", "note", "source", "spc_rule")})
    for c in ("basis", "note", "source", "spc_rule"):
        results[c] = results[c].fillna("")
    write_excel(results, folder / "kpis.xlsx")
    if pdf:
        try:
            print_pdf(report, folder / "report.pdf")
        except KpiError as exc:
            return str(exc)
    return None


def rerender(out: str | Path, pdf: bool = True) -> Path:
    """Re-render an existing run's report from its executed notebooks (no recomputation)."""
    out = Path(out)
    if not (out / "manifest.json").exists() or not carries_marker(out):
        raise ParameterError(f"{out} is not a run folder (no manifest.json written by kpi run)")
    out = out.resolve()
    with output_lock(out):
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        inputs = json.loads((out / "inputs.json").read_text(encoding="utf-8"))
        started = datetime.fromisoformat(manifest["started"])
        _render_outputs(out, report_meta(Period.parse(manifest["period"]), inputs, started,
                                         inputs["parameters"]), pdf)
    return out / "report.html"


def run_many(first: str, last: str | None, data_dir, out_root=None, **kw) -> list[RunResult]:
    """A single period, or every quarter from ``first`` to ``last`` (a backfill), in order."""
    from .periods import quarter_range
    periods = [Period.parse(first)] if last is None else quarter_range(first, last)
    outs = [Path(out_root) / p.slug if out_root and last is not None else out_root for p in periods]
    for p, out in zip(periods, outs, strict=True):  # refuse before the first period runs
        check_output_folder(out if out else Path.cwd() / "outputs" / p.slug, data=data_dir)
    return [run_period(p, data_dir, out, **kw) for p, out in zip(periods, outs, strict=True)]


__all__ = ["InputError", "RunResult", "run_many", "run_period"]
