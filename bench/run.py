"""Benchmarks (run on demand: `make bench`, or `python bench/run.py [options]`). Never run by tests.

Everything is measured side by side in one process, so ratios compare like with like:

- panel: reading and validating every input (kpi_lib readers), building the measurement panel
  from the validated tables, and the DuckDB reference (bench/duckdb_reference.py) doing the same
  aggregations straight from the files; the cache (build, then hit);
- compute: one quarter, and all 24 sample quarters, from the panel;
- --end-to-end: one quarter through the runner (no PDF) against the same runner executing the
  same number of trivial notebooks with the same jobs, plus rendering; then a rerun (cache hit);
- --backfill: the 24-quarter backfill (no PDF) against 24 single-quarter runs with a warm cache;
- --mapped: a force's own extract of the sample (tests/helpers.force_extract: other names, UK dates,
  cp1252, outcome words) read through its mapping, against the same records as canonical CSV
  files; the sample as at 15 May 2024 against the sample as it is; each as reading + panel, and
  end to end (first run, panel built) through the runner;
- --scale N: `kpi sample --scale N` into a temporary folder (or --scale-data FOLDER, an existing
  one), the DuckDB reference, reading + validating and the panel at that scale, and
  `kpi run 2024/25-Q4` on it under /usr/bin/time -v (peak memory).

Prints seconds and ratios and writes bench/results/latest.json (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

PERIOD = "2024/25 Q4"


def timed(fn, *a, **kw):
    t = time.perf_counter()
    out = fn(*a, **kw)
    return time.perf_counter() - t, out


def trivial_notebooks(folder: Path, reference_results: Path, families: list[str]) -> Path:
    """Notebooks with the real notebooks' parameters that only copy a reference run's results
    (so combine and render have their inputs) and a trivial report notebook."""
    import nbformat
    folder.mkdir(parents=True, exist_ok=True)
    params = 'period = ""\ndata_dir = ""\nout_dir = ""\nparams_file = None\nprevious_dir = None\ncommentary_file = None'
    for name in [*families, "report"]:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        copy = ("import shutil, pathlib\n"
                f"src = pathlib.Path({str(reference_results)!r})\n"
                "dst = pathlib.Path(out_dir) / 'results'\n"
                f"for f in src.glob({(name + '*.csv')!r}):\n    shutil.copy(f, dst / f.name)")
        nb.cells = [nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_markdown_cell(f'<h2 id="family-{name}">{name}</h2>'),
                    nbformat.v4.new_code_cell(copy if name != "report" else "x = 1")]
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def bench_panel(data: Path, res: dict, tmp: Path):
    from duckdb_reference import reference

    from kpi_lib.config.configuration import load_configuration
    from kpi_lib.config.params import load_params
    from kpi_lib.inputs.detect import read_any
    from kpi_lib.measure.cache import get_panel
    from kpi_lib.measure.panel import build_panel

    params = load_params()
    res["duckdb_reference_s"], res["duckdb_rows"] = timed(reference, data)
    res["read_validate_s"], tables = timed(read_any, data)
    res["rows"] = {e.table: e.rows_read for e in tables.ledger}
    # each side timed twice and the faster taken: the first call of either also pays for
    # importing its libraries (DuckDB; scipy and statsmodels, imported where first used)
    config = load_configuration(params)
    res["panel_build_first_s"], pnl = timed(build_panel, tables, config)
    res["panel_build_again_s"], pnl = timed(build_panel, tables, config)
    res["panel_build_s"] = min(res["panel_build_first_s"], res["panel_build_again_s"])
    res["panel_rows"] = len(pnl.measurements)
    res["duckdb_reference_again_s"], _ = timed(reference, data)
    ref = min(res["duckdb_reference_s"], res["duckdb_reference_again_s"])
    res["cache_build_s"], (_, rep) = timed(get_panel, data, params, root=tmp / "cache", tables=tables)
    res["cache_hit_s"], (_, rep2) = timed(get_panel, data, params, root=tmp / "cache")
    res["cache_hit"] = rep2.hit
    res["ratios"]["panel build (validated tables) / duckdb reference"] = res["panel_build_s"] / ref
    res["ratios"]["read+validate+panel / duckdb reference"] = (res["read_validate_s"] + res["panel_build_s"]) / ref
    return pnl, config


def bench_compute(pnl, config, res: dict) -> None:
    from kpi_lib.analyse import engine
    from kpi_lib.core.periods import quarter_range
    res["compute_one_quarter_s"], _ = timed(engine.compute, PERIOD, pnl, config)
    quarters = quarter_range("2019/20 Q1", "2024/25 Q4")
    res["compute_24_quarters_s"], _ = timed(lambda: [engine.compute(q, pnl, config) for q in quarters])


def bench_end_to_end(data: Path, res: dict, tmp: Path, jobs: int) -> None:
    from kpi_lib.measure import registry
    from kpi_lib.run import runner
    os.environ["KPI_CACHE_DIR"] = str(tmp / "cache-e2e")
    res["one_quarter_end_to_end_s"], run = timed(runner.run_period, PERIOD, data, tmp / "q", quiet=True,
                                                 pdf=False, jobs=jobs)
    res["one_quarter_steps_s"] = run.manifest.get("seconds_by_step")
    res["first_run_panel_cache"] = run.manifest.get("panel_cache")
    res["rerun_s"], rerun = timed(runner.run_period, PERIOD, data, tmp / "q", quiet=True, pdf=False, jobs=jobs)
    res["rerun_panel_cache"] = rerun.manifest.get("panel_cache")
    real = runner.NOTEBOOKS
    try:
        runner.NOTEBOOKS = trivial_notebooks(tmp / "trivial", run.out / "results", list(registry.NAMES))
        res["trivial_notebooks_end_to_end_s"], _ = timed(runner.run_period, PERIOD, data, tmp / "t",
                                                         quiet=True, pdf=False, jobs=jobs)
    finally:
        runner.NOTEBOOKS = real
    res["ratios"]["one quarter / same runner with trivial notebooks"] = \
        res["rerun_s"] / res["trivial_notebooks_end_to_end_s"]


def bench_backfill(data: Path, res: dict, tmp: Path, jobs: int) -> None:
    from kpi_lib.core.periods import quarter_range
    from kpi_lib.run import runner
    os.environ["KPI_CACHE_DIR"] = str(tmp / "cache-bf")
    quarters = quarter_range("2019/20 Q1", "2024/25 Q4")
    runner.run_period(quarters[0], data, tmp / "warm", quiet=True, pdf=False, jobs=jobs)  # warm the cache
    res["single_runs_24_s"], _ = timed(lambda: [runner.run_period(q, data, tmp / "single" / q.slug, quiet=True,
                                                                  pdf=False, jobs=jobs) for q in quarters])
    res["backfill_24_quarters_s"], _ = timed(runner.run_many, "2019/20 Q1", "2024/25 Q4", data, tmp / "bf",
                                             quiet=True, pdf=False, jobs=jobs)
    res["ratios"]["backfill / 24 warm single runs"] = res["backfill_24_quarters_s"] / res["single_runs_24_s"]


def canonical_csv(sample: Path, out: Path) -> Path:
    """The sample with crimes and outcomes as canonical CSV files (the same records as the force
    extract), every other table as it is."""
    import pandas as pd
    shutil.copytree(sample, out, ignore=shutil.ignore_patterns("crimes.*", "outcomes.*", "README*"))
    for table in ("crimes", "outcomes"):
        pd.read_parquet(sample / f"{table}.parquet").to_csv(out / f"{table}.csv", index=False)
    return out


def bench_mapped(data: Path, res: dict, tmp: Path, jobs: int) -> None:
    """Mapped extract against canonical CSV, and as-at against the sample as it is: reading +
    panel (faster of two each), then a first run of each through the runner (panel built)."""
    import yaml

    sys.path.insert(0, str(REPO / "tests"))
    from kpi_lib.config.configuration import load_configuration
    from kpi_lib.config.params import load_params
    from kpi_lib.inputs.folder import read_inputs
    from kpi_lib.measure.panel import build_panel
    from kpi_lib.run import runner

    from helpers import OUTCOME_WORDS, force_extract
    canonical = canonical_csv(data, tmp / "canonical-csv")
    mapped = force_extract(data, tmp / "force-extract")
    (mapped / "mapping.yaml").write_text(yaml.safe_dump({
        "crimes": {"file": "Crime extract*.csv", "encoding": "cp1252",
                   "columns": {"crime_ref": "CrimeNumber", "recorded_date": "Date Recorded", "offence_code": "HO Code",
                               "domestic_abuse": "DA Flag", "local_area": "Area"},
                   "formats": {"recorded_date": "%d/%m/%Y"}, "values": {"domestic_abuse": {"Y": True, "N": False}}},
        "outcomes": {"file": "Outcome extract*.csv", "encoding": "cp1252",
                     "columns": {"crime_ref": "CrimeNumber", "outcome_type": "Outcome", "outcome_date": "Outcome Date"},
                     "formats": {"outcome_date": "%d/%m/%Y"},
                     "values": {"outcome_type": {w: c for c, w in OUTCOME_WORDS.items()}}}}), encoding="utf-8")
    params, as_at = load_params(), load_params(overrides={"as_at": "2024-05-15"})

    def inputs(folder, p):
        return build_panel(read_inputs(folder, p), load_configuration(p))

    for name, folder, p in (("canonical_csv", canonical, params), ("mapped", mapped, params),
                            ("sample", data, params), ("as_at", data, as_at)):
        res[f"{name}_read_panel_s"] = min(timed(inputs, folder, p)[0] for _ in range(2))
    ratios = res["ratios"]
    ratios["mapped / canonical csv: reading + panel"] = res["mapped_read_panel_s"] / res["canonical_csv_read_panel_s"]
    ratios["as at / sample: reading + panel"] = res["as_at_read_panel_s"] / res["sample_read_panel_s"]
    for name, folder, over, period in (("canonical_csv", canonical, None, PERIOD), ("mapped", mapped, None, PERIOD),
                                       ("sample", data, None, "2023/24 Q4"),
                                       ("as_at", data, {"as_at": "2024-05-15"}, "2023/24 Q4")):
        os.environ["KPI_CACHE_DIR"] = str(tmp / f"cache-{name}")
        res[f"{name}_first_run_s"], _ = timed(runner.run_period, period, folder, tmp / f"run-{name}", quiet=True,
                                              pdf=False, jobs=jobs, overrides=over)
    ratios["mapped / canonical csv: first run"] = res["mapped_first_run_s"] / res["canonical_csv_first_run_s"]
    ratios["as at / sample: first run"] = res["as_at_first_run_s"] / res["sample_first_run_s"]


def bench_scale(scale: float, res: dict, tmp: Path, data: Path | None = None) -> None:
    """The scaled sample (generated, or ``data`` when given), then side by side: the DuckDB
    reference, reading + validating, the panel from the validated tables, and `kpi run` under
    /usr/bin/time -v (peak resident memory of the runner; each kernel is a separate process)."""
    from duckdb_reference import reference

    from kpi_lib.config.configuration import load_configuration
    from kpi_lib.inputs.detect import read_any
    from kpi_lib.measure.panel import build_panel
    kpi = str(Path(sys.executable).parent / "kpi")
    res["scale"] = scale
    if data is None:
        data = tmp / f"sample-x{scale:g}"
        res["scale_sample_s"], _ = timed(subprocess.run, [kpi, "sample", "--out", str(data), "--scale", str(scale)],
                                         check=True, capture_output=True)
    res["scale_data"] = str(data)
    res["scale_input_bytes"] = sum(p.stat().st_size for p in data.iterdir() if p.is_file())
    res["scale_duckdb_reference_s"], _ = timed(reference, data)
    res["scale_read_validate_s"], tables = timed(read_any, data)
    res["scale_rows"] = {e.table: e.rows_read for e in tables.ledger}
    res["scale_panel_build_s"], _ = timed(build_panel, tables, load_configuration())
    del tables
    res["scale_duckdb_reference_again_s"], _ = timed(reference, data)
    ref = min(res["scale_duckdb_reference_s"], res["scale_duckdb_reference_again_s"])
    res["ratios"][f"x{scale:g}: panel build (validated tables) / duckdb reference"] = res["scale_panel_build_s"] / ref
    res["ratios"][f"x{scale:g}: read+validate+panel / duckdb reference"] = \
        (res["scale_read_validate_s"] + res["scale_panel_build_s"]) / ref
    env = {**os.environ, "KPI_CACHE_DIR": str(tmp / "cache-scale")}
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-v", kpi, "run", "2024/25-Q4", "--data", str(data), "--out",
                        str(tmp / "scale-run"), "--no-pdf", "--quiet"], capture_output=True, text=True, env=env)
    res["scale_run_s"] = time.perf_counter() - t
    res["scale_run_ok"] = r.returncode == 0
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    res["scale_peak_memory_gb"] = int(peak.group(1)) / 1024 / 1024 if peak else None
    if r.returncode != 0:
        res["scale_run_error"] = r.stderr[-2000:]
    man = tmp / "scale-run" / "manifest.json"
    if man.exists():
        m = json.loads(man.read_text())
        res["scale_steps_s"] = m.get("seconds_by_step")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(REPO / "data" / "sample"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--end-to-end", action="store_true", help="one quarter, rerun, and trivial notebooks")
    ap.add_argument("--backfill", action="store_true", help="24-quarter backfill against 24 warm runs")
    ap.add_argument("--mapped", action="store_true", help="mapped extract and as-at against canonical")
    ap.add_argument("--scale", type=float, default=None, help="also run a sample of this scale (e.g. 10)")
    ap.add_argument("--scale-data", default=None, help="an existing sample of that scale (skips generating it)")
    args = ap.parse_args()
    data = Path(args.data)
    res: dict = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                             "python": platform.python_version()},
                 "data": str(data), "input_bytes": sum(p.stat().st_size for p in data.iterdir() if p.is_file()),
                 "ratios": {}}
    tmp = Path(tempfile.mkdtemp(prefix="kpi-bench-"))
    try:
        pnl, config = bench_panel(data, res, tmp)
        bench_compute(pnl, config, res)
        if args.end_to_end or args.backfill:
            bench_end_to_end(data, res, tmp, args.jobs)
        if args.backfill:
            bench_backfill(data, res, tmp, args.jobs)
        if args.mapped:
            bench_mapped(data, res, tmp, args.jobs)
        if args.scale:
            bench_scale(args.scale, res, tmp, Path(args.scale_data) if args.scale_data else None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(res, indent=2, default=str))
    for k, v in res.items():
        print(f"{k}: {json.dumps(v, default=str) if isinstance(v, dict) else v}")


if __name__ == "__main__":
    main()
