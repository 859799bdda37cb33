"""Shared fixtures. Real Papermill runs and a real browser are used where the user would use them;
data the tests need are generated here (small synthetic samples) or read from ../shared/data when
present (tests that need it skip with a clear reason otherwise)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from helpers import REPO, built_once

# Speed is measured in bench/, never by a time limit inside a test: a property test on a loaded
# 2-core machine must not fail because an example took longer than Hypothesis's default 200 ms.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


@pytest.fixture(scope="session", autouse=True)
def _panel_cache_in_a_temporary_folder(tmp_path_factory):
    """Runs made by the tests keep their panel cache in a temporary folder, never in the user's
    ~/.cache (tests write only to temporary folders). Child processes inherit it."""
    old = os.environ.get("KPI_CACHE_DIR")
    os.environ["KPI_CACHE_DIR"] = str(tmp_path_factory.mktemp("panel-cache"))
    yield
    if old is None:
        os.environ.pop("KPI_CACHE_DIR", None)
    else:
        os.environ["KPI_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory) -> Path:
    """A small synthetic sample (5% of the volumes, all six years) for fast engine tests."""
    from kpi_lib.inputs.sample import generate

    def build(folder: Path) -> Path:
        generate(folder, scale=0.05)
        return folder
    return built_once(tmp_path_factory, "sample-small", build)


@pytest.fixture(scope="session")
def small_tables(small_sample):
    from kpi_lib.inputs import read_tables
    return read_tables(small_sample)


@pytest.fixture(scope="session")
def config():
    """The default configuration (settings, catalogue, categories, factors, annotations, peers)."""
    from kpi_lib.config.configuration import load_configuration
    return load_configuration()


@pytest.fixture(scope="session")
def small_panel(small_sample, config, tmp_path_factory):
    """The measurement panel of the small sample, built once for every worker (through the panel
    cache, as :func:`full_panel`)."""
    from kpi_lib.measure.cache import get_panel

    def build(folder: Path) -> Path:
        get_panel(small_sample, config.params, root=folder)
        return folder
    return get_panel(small_sample, config.params, root=built_once(tmp_path_factory, "small-panel", build))[0]


@pytest.fixture(scope="session")
def quarter_run(small_sample, tmp_path_factory):
    """One real run of the latest sample quarter (small sample), shared by pipeline and browser tests."""
    from kpi_lib.run.runner import run_period
    return built_once(tmp_path_factory, "quarter-run", lambda folder: run_period(
        "2024/25 Q4", small_sample, folder / "2024-25-q4", jobs=2, quiet=True))


@pytest.fixture(scope="session")
def full_quarter_run(full_sample, tmp_path_factory):
    """One real run of the latest quarter on the full sample, PDF included: the report the Panel
    gets from `make report`, for the tests of its printed pages and its height."""
    from kpi_lib.run.runner import run_period
    return built_once(tmp_path_factory, "full-quarter-run", lambda folder: run_period(
        "2024/25 Q4", full_sample, folder / "2024-25-q4", jobs=2, quiet=True))


@pytest.fixture(scope="session")
def previous_quarter_run(small_sample, tmp_path_factory):
    """The quarter before :func:`quarter_run` (no PDF), in a folder of its own so that the shared
    quarter run does not compare with it; for tests that read two runs side by side."""
    from kpi_lib.run.runner import run_period
    return built_once(tmp_path_factory, "previous-quarter-run", lambda folder: run_period(
        "2024/25 Q3", small_sample, folder / "2024-25-q3", jobs=2, quiet=True, pdf=False))


@pytest.fixture(scope="session")
def year_run(small_sample, tmp_path_factory):
    """One real run of a whole financial year (small sample, no PDF), shared by the tests that
    read an end-of-year report."""
    from kpi_lib.run.runner import run_period
    return built_once(tmp_path_factory, "year-run", lambda folder: run_period(
        "2023/24", small_sample, folder / "2023-24", jobs=2, quiet=True, pdf=False))


@pytest.fixture(scope="session")
def full_sample(tmp_path_factory) -> Path:
    """The full synthetic sample as `make report` uses it: data/sample (read only) when present,
    else the same seeded sample generated in a temporary folder (so CI never skips)."""
    path = REPO / "data" / "sample"
    if (path / "README.md").exists():
        return path
    from kpi_lib.inputs.sample import generate

    def build(folder: Path) -> Path:
        generate(folder)
        return folder
    return built_once(tmp_path_factory, "sample-full", build)


@pytest.fixture(scope="session")
def full_panel(full_sample, config, tmp_path_factory):
    """The measurement panel of the full sample with the default settings. Its cache is built once
    for every worker; each worker then loads it from there (a cache hit)."""
    from kpi_lib.measure.cache import get_panel

    def build(folder: Path) -> Path:
        get_panel(full_sample, config.params, root=folder)
        return folder
    return get_panel(full_sample, config.params, root=built_once(tmp_path_factory, "full-panel", build))[0]


@pytest.fixture()
def checkout_copy(tmp_path, small_sample) -> Path:
    """A temporary folder laid out like the checkout (``notebooks/`` copied, ``data/sample`` the
    small sample), so that notebooks run with their default parameters, as in JupyterLab, without
    writing into the real checkout."""
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks",
                    ignore=shutil.ignore_patterns("*.py", ".ipynb_checkpoints"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sample").symlink_to(small_sample, target_is_directory=True)
    return tmp_path


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
