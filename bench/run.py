"""Benchmarks (run on demand: `make bench`, or `python bench/run.py [--backfill]`).

Reports, for the sample data in data/sample:
- reading and validating the inputs;
- the KPI computation alone (kpi_lib.compute) for one quarter and for all 24 sample quarters;
- the floor for a notebook: a trivial notebook through Papermill (kernel start and teardown);
- one quarter end to end (`kpi run`: 7 family notebooks in parallel, the summary, HTML, Excel, PDF);
- with --backfill, the 24-quarter backfill end to end.
Prints seconds and ratios, and writes bench/results/latest.json. Never run by the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def timed(fn, *a, **kw):
    t = time.perf_counter()
    out = fn(*a, **kw)
    return time.perf_counter() - t, out


def trivial_notebook(tmp: Path) -> Path:
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("y = x + 1")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp / "trivial.ipynb"
    nbformat.write(nb, path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(REPO / "data" / "sample"))
    ap.add_argument("--backfill", action="store_true", help="also time the 24-quarter backfill")
    args = ap.parse_args()
    import papermill as pm

    from kpi_lib import compute, read_tables
    from kpi_lib.periods import quarter_range
    from kpi_lib.runner import run_many, run_period

    data = Path(args.data)
    sizes = {p.name: p.stat().st_size for p in sorted(data.iterdir()) if p.is_file()}
    res: dict = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                             "python": platform.python_version()},
                 "data": str(data), "input_bytes": sum(sizes.values())}
    res["read_s"], tables = timed(read_tables, data)
    res["rows"] = {e.table: e.rows_read for e in tables.ledger}
    res["compute_one_quarter_s"], _ = timed(compute, "2024/25 Q4", tables)
    quarters = quarter_range("2019/20 Q1", "2024/25 Q4")
    res["compute_24_quarters_s"], _ = timed(lambda: [compute(q, tables) for q in quarters])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        nb = trivial_notebook(tmp)
        pm.execute_notebook(str(nb), str(tmp / "warm.ipynb"), progress_bar=False)  # warm caches
        res["trivial_notebook_s"], _ = timed(pm.execute_notebook, str(nb), str(tmp / "out.ipynb"), progress_bar=False)
        res["one_quarter_end_to_end_s"], run = timed(run_period, "2024/25 Q4", data, tmp / "q", quiet=True)
        res["one_quarter_steps_s"] = run.manifest["seconds_by_step"]
        res["report_html_bytes"] = (run.out / "report.html").stat().st_size
        res["report_pdf_bytes"] = (run.out / "report.pdf").stat().st_size
        if args.backfill:
            res["backfill_24_quarters_s"], _ = timed(run_many, "2019/20 Q1", "2024/25 Q4", data, tmp / "bf",
                                                     quiet=True, pdf=False)
    nb_total = sum(v for k, v in res["one_quarter_steps_s"].items() if k != "render")
    kernel_share = 8 * res["trivial_notebook_s"] / (nb_total or 1)
    res["ratios"] = {
        "end_to_end / compute_alone (one quarter)": res["one_quarter_end_to_end_s"] / res["compute_one_quarter_s"],
        "end_to_end / read_inputs": res["one_quarter_end_to_end_s"] / res["read_s"],
        "compute_one_quarter / read_inputs": res["compute_one_quarter_s"] / res["read_s"],
        "24 quarters / 1 quarter (compute)": res["compute_24_quarters_s"] / res["compute_one_quarter_s"],
        "kernel start+stop share of notebook time (8 notebooks)": kernel_share,
    }
    if "backfill_24_quarters_s" in res:
        res["ratios"]["backfill / one quarter (end to end)"] = res["backfill_24_quarters_s"] / res["one_quarter_end_to_end_s"]
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(res, indent=2))
    for k, v in res.items():
        print(f"{k}: {json.dumps(v) if isinstance(v, dict) else v}")


if __name__ == "__main__":
    main()
