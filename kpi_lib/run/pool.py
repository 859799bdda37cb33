"""The worker pool that executes notebooks: each notebook in its own process through Papermill,
at most ``jobs`` at once, the longest first; the first failure stops the others at once and
names the notebook, the cell and the error."""

from __future__ import annotations

import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from kpi_lib.core.errors import NotebookError
from kpi_lib.run.processes import stop_children, worker_init
from kpi_lib.run.progress import Progress

KERNEL_RETRIES = 3
KERNEL_START_ERRORS = ("Kernel died before replying", "Address already in use", "kernel_info",
                       "Kernel didn't respond", "DeadKernelError")


def execute_notebook(name: str, src: str, dst: str, parameters: dict, timeout: int, log: str | None = None) -> dict:
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


def _fail_message(res: dict) -> str:
    where = f"cell {res['cell']}" if res.get("cell") is not None else "kernel"
    return (f"notebook {res['name']}.ipynb failed at {where}: {res['ename']}: {res['evalue']} "
            f"(executed notebook kept at {res['path']})")


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


def run_notebooks(names: list[str], notebooks: Path, build: Path, parameters: dict, timeout: int,
                  jobs: int, progress: Progress) -> dict[str, float]:
    """Execute notebooks from the folder ``notebooks`` (at most ``jobs`` at once, each within
    ``timeout`` seconds a cell) into ``build/notebooks``; NotebookError for
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
                fut = pool.submit(execute_notebook, name, str(notebooks / f"{name}.ipynb"),
                                  str(build / "notebooks" / f"{name}.ipynb"), parameters, timeout,
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
