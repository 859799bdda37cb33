"""Compute once: the runner computes every family's figures in one pass and saves them
under a stamp; a family notebook loads them only when the stamp is for its own period, settings,
reference tables, code and panel, and then shows exactly what it would have computed itself.
Family kernels never import scipy or statsmodels."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from kpi_lib.analyse import precompute
from kpi_lib.analyse.results import validate
from kpi_lib.config.configuration import load_configuration
from kpi_lib.core.periods import Period
from kpi_lib.measure import cache, panel, registry

pytestmark = pytest.mark.integration

CONFIG = load_configuration()
PARAMS = CONFIG.params
PERIOD = "2024/25 Q4"


@pytest.fixture(scope="module")
def run_folder(small_sample, tmp_path_factory) -> Path:
    """A folder as the runner's measure step leaves it: the panel in results/."""
    out = tmp_path_factory.mktemp("precompute") / "run"
    cache.measure_run(small_sample, PARAMS, out, root=out.parent / "cache")
    return out


def _figures_equal(a: precompute.FamilyFigures, b: precompute.FamilyFigures) -> None:
    """The same figures; KPI rows compared as kpis.csv holds them (typed by the schema: a column
    such as ``target`` is float for a family whose KPIs all lack one only once typed)."""
    for name in ("results", "breakdowns", "spc", "history", "year", "quarters"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if name in ("results", "year") and x is not None:
            x, y = validate(x), validate(y)
        if x is not None:
            pd.testing.assert_frame_equal(x, y, obj=f"{a.family} {name}")
    assert list(a.charts) == list(b.charts), a.family
    for key in a.charts:
        pd.testing.assert_frame_equal(a.charts[key], b.charts[key], obj=f"{a.family} chart {key}")
    pd.testing.assert_frame_equal(a.measurements, b.measurements, obj=f"{a.family} measurements")
    assert a.windows == b.windows


def _compute(pnl, families, period=PERIOD):
    return precompute.compute_families(period, pnl, CONFIG, families)


@pytest.mark.parametrize("period, alone", [(PERIOD, registry.NAMES), ("2024/25 Q2", ("crime", "finance")),
                                           ("2023/24", ("response", "finance"))],
                         ids=[PERIOD, "2024/25 Q2", "2023/24"])
def test_all_families_at_once_equal_each_family_alone(run_folder, period, alone):
    """What the runner computes in one pass is what each notebook computes for its family alone
    from the whole panel (as start_family does: the q-values of the tests against last year are
    the whole report's, so a family alone must see every family's tests). Every family at Q4;
    at Q2 (no year table) and for a whole year, the families whose windows differ most (monthly
    counts and rates, medians, a yearly yes/no)."""
    pnl = panel.load(run_folder / "results")
    together = _compute(pnl, list(registry.NAMES), period)
    assert list(together) == list(registry.NAMES)
    for name in alone:
        alone = _compute(pnl, [name], period)[name]
        _figures_equal(together[name], alone)
        assert set(alone.results["family"]) == {name}
    # the year's rows at Q4 and for a year; each quarter's values for a year only
    assert all((f.year is not None) == (period != "2024/25 Q2") for f in together.values())
    assert all((f.quarters is not None) == (period == "2023/24") for f in together.values())


def test_saved_figures_load_exactly_and_only_under_their_stamp(run_folder, tmp_path):
    res = tmp_path / "results"
    panel.save(panel.load(run_folder / "results"), res)
    pnl = panel.load(res)
    figures = {n: precompute.write_family_files(f, res) for n, f in _compute(pnl, list(registry.NAMES)).items()}
    stamp = precompute.expected_stamp(PERIOD, PARAMS, res)
    precompute.save_figures(figures, stamp, res)
    from kpi_lib.analyse.engine import window_set
    ws = window_set(Period.parse(PERIOD), PARAMS)
    for name, f in figures.items():
        _figures_equal(precompute.load_figures(res, name, stamp, pnl, ws), f)
    # any other period, setting or panel: not used
    other = {**PARAMS, "provisional_pending_pct": PARAMS["provisional_pending_pct"] + 1}
    assert precompute.load_figures(res, "crime", precompute.expected_stamp("2024/25 Q3", PARAMS, res), pnl, ws) is None
    assert precompute.load_figures(res, "crime", precompute.expected_stamp(PERIOD, other, res), pnl, ws) is None
    assert precompute.stamp_matches(precompute.read_stamp(res), stamp)
    with open(res / "peers.parquet", "ab") as fh:  # the panel beside the figures changed
        fh.write(b"\0")
    assert precompute.load_figures(res, "crime", precompute.expected_stamp(PERIOD, PARAMS, res), pnl, ws) is None
    # a damaged table: computed instead, never half used
    (res / "peers.parquet").write_bytes((run_folder / "results" / "peers.parquet").read_bytes())
    assert precompute.load_figures(res, "crime", stamp, pnl, ws) is not None
    (res / precompute.FOLDER / "crime.results.parquet").write_bytes(b"not parquet")
    assert precompute.load_figures(res, "crime", stamp, pnl, ws) is None
    precompute.forget(res)
    assert precompute.read_stamp(res) is None
    assert precompute.load_figures(res, "calls", stamp, pnl, ws) is None


def test_start_family_loads_the_runs_figures_and_shows_the_same(run_folder, small_sample, tmp_path,
                                                                monkeypatch):
    """A notebook in a run loads the figures (the engine is never asked) and its FamilyRun is
    the one it would have computed; with other settings it computes and writes its own files, and
    the saved figures are no longer used by anyone."""
    from kpi_lib.present import notebook
    from kpi_lib.run import runner as runner_mod
    computed = tmp_path / "computed"
    panel.save(panel.load(run_folder / "results"), computed / "results")
    alone = notebook.start_family("crime", PERIOD, str(small_sample), str(computed))

    build = tmp_path / "build"
    panel.save(panel.load(run_folder / "results"), build / "results")
    (build / "inputs.json").write_text('{"inputs": []}', encoding="utf-8")  # the build's marker
    runner_mod.compute(SimpleNamespace(period=Period.parse(PERIOD), params=PARAMS, config=CONFIG), build)
    for suffix in ("", "_breakdown", "_spc", "_history", "_year"):  # the notebook's very files
        assert (build / "results" / f"crime{suffix}.csv").read_bytes() == \
            (computed / "results" / f"crime{suffix}.csv").read_bytes(), suffix

    def no_compute(*a, **k):
        raise AssertionError("the figures were computed again")
    monkeypatch.setattr(precompute, "compute_families", no_compute)
    loaded = notebook.start_family("crime", PERIOD, str(small_sample), str(build))
    for name in ("results", "breakdowns", "spc", "history", "measurements", "peers"):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(alone, name), obj=name)
    assert list(loaded.charts) == list(alone.charts)
    for key, chart in alone.charts.items():
        pd.testing.assert_frame_equal(loaded.charts[key], chart)
    assert (loaded.windows, loaded.params, loaded.tables, loaded.peer_settings) == \
        (alone.windows, alone.params, alone.tables, alone.peer_settings)

    # an analyst's own settings in the same folder: computed here, saved figures forgotten
    monkeypatch.undo()
    own = tmp_path / "own.yaml"
    own.write_text("provisional_pending_pct: 50\n", encoding="utf-8")
    notebook.start_family("calls", PERIOD, str(small_sample), str(build), str(own))
    assert precompute.read_stamp(build / "results") is None


def test_family_kernels_never_import_scipy_or_statsmodels(run_folder):
    """Importing what a family or report notebook imports, and checking a run's stamp, leaves
    scipy and statsmodels out (most of a second in every kernel), and the schema library and
    matplotlib too (only writing results and drawing need them); the package's public names
    still import."""
    code = ("import sys, json\n"
            "from pathlib import Path\n"
            "import kpi_lib.present.notebook, kpi_lib.present.views, kpi_lib.present.report, kpi_lib.analyse.precompute\n"
            "from kpi_lib.config.params import load_params\n"
            f"kpi_lib.analyse.precompute.expected_stamp('{PERIOD}', load_params(), Path({str(run_folder / 'results')!r}))\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'statsmodels', 'pandera', 'matplotlib'})\n"
            "from kpi_lib import Period, compute, breakdowns, load_params, read_tables\n"
            "print(json.dumps({'heavy': heavy, 'period': Period.parse('2024/25 Q4').label,"
            " 'compute': compute.__module__}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    assert got == {"heavy": [], "period": "2024/25 Q4", "compute": "kpi_lib.api"}


def test_the_import_check_would_catch_scipy():
    """The check itself: a module importing scipy at the top shows up in the list."""
    code = ("import sys, kpi_lib.analyse.engine, kpi_lib.core.stats\n"
            "kpi_lib.core.stats.poisson_test(30, 20, 90, 90)\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'statsmodels'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['scipy']"


@pytest.mark.notebooks
def test_in_a_run_every_notebook_loads_the_runs_figures(quarter_run):
    """A real run: the compute step saved the figures and every family notebook loaded them (a
    notebook that computes instead removes the stamp, so the stamp left in the published run
    says none did: in a run the settings, code and panel a notebook sees are the runner's)."""
    res = quarter_run.out / "results"
    stamp = precompute.read_stamp(res)
    assert stamp is not None and stamp["families"] == list(registry.NAMES)
    assert stamp["period"] == PERIOD
    assert "compute" in quarter_run.manifest["seconds_by_step"]
    assert precompute.stamp_matches(stamp, precompute.expected_stamp(PERIOD, PARAMS, res))
