"""The notebook kernels a run starts: the garbage collector kept
off the imports in those kernels only (kpi_lib.core.kernel), and the runner marking its kernels and
ending each as soon as its notebook has run. Each check on the collector runs in a fresh
interpreter, so that pytest's own objects are never frozen."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kpi_lib.core import kernel
from kpi_lib.run import pool

PROBE = ("import gc, json, sys\n"
         "import kpi_lib.present.notebook, kpi_lib.present.views, kpi_lib.present.report\n"
         "from kpi_lib.present import charts\n"
         "charts._pyplot()\n"
         "print(json.dumps({'enabled': gc.isenabled(), 'frozen': gc.get_freeze_count()}))\n")


def _probe(env_value: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != kernel.ENV}
    if env_value is not None:
        env[kernel.ENV] = env_value
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)


@pytest.mark.e2e
def test_outside_a_runs_kernel_the_collector_is_left_alone():
    """A notebook opened in JupyterLab, the tests, the runner: nothing frozen, collector on."""
    assert _probe(None) == {"enabled": True, "frozen": 0}
    assert _probe("0") == {"enabled": True, "frozen": 0}


@pytest.mark.e2e
def test_in_a_runs_kernel_the_imports_are_frozen_and_the_collector_back_on():
    """In a kernel the runner started: what the helpers and matplotlib imported is out of the
    collector's reach, and the collector is on again afterwards."""
    got = _probe("1")
    assert got["enabled"] is True
    assert got["frozen"] > 50_000  # pandas, the helpers and matplotlib: hundreds of thousands


@pytest.mark.e2e
def test_the_collector_comes_back_on_when_an_import_fails():
    code = ("import gc\n"
            "from kpi_lib.core.kernel import imports_settled\n"
            "try:\n"
            "    with imports_settled():\n"
            "        import no_such_module_here\n"
            "except ImportError:\n"
            "    pass\n"
            "print(gc.isenabled())\n")
    env = {**os.environ, kernel.ENV: "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "True"


def test_the_runner_marks_its_kernels_and_ends_each_once_its_notebook_has_run(monkeypatch, tmp_path):
    """A worker sets kpi_lib.core.kernel.ENV for the kernels it starts, and asks Papermill to end the
    kernel at once after the last cell (a graceful shutdown sometimes waited 3.5 s for a kernel
    that had nothing left to do)."""
    import papermill

    seen: dict = {}

    def fake_execute(src, dst, **kw):
        seen.update(kw, env=os.environ.get(kernel.ENV))

    monkeypatch.setenv(kernel.ENV, "")  # restored after the test (the worker sets it in-process)
    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    res = pool.execute_notebook("calls", str(tmp_path / "in.ipynb"), str(tmp_path / "out.ipynb"), {}, 60)
    assert res["ok"] is True
    assert seen["env"] == "1"
    assert seen["shutdown_kernel"] == "immediate"


@pytest.mark.e2e
def test_what_the_notebooks_show_does_not_depend_on_the_collector():
    """The collector only reclaims reference cycles: a KPI card (chart included) is the same
    byte for byte in a run's kernel and elsewhere."""
    code = ("import hashlib\n"
            "import pandas as pd\n"
            "from kpi_lib.config.catalogue import load_catalogue\n"
            "from kpi_lib.present.views import card_html\n"
            "k = next(k for k in load_catalogue() if k.unit == 'count')\n"
            "chart = pd.DataFrame({'x': pd.date_range('2023-01-01', periods=14, freq='MS'),"
            " 'y': [float(i % 5 + 10) for i in range(14)], 'mean': 12.0, 'lpl': 8.0, 'upl': 16.0,"
            " 'variation': 'common_cause', 'rule': ''})\n"
            "row = {'verdict': '', 'verdict_code': '', 'status': 'reported', 'value': 10.0, 'unit': 'count'}\n"
            "print(hashlib.sha256(card_html(row, k, '2024/25 Q4', chart).encode()).hexdigest())\n")
    digests = set()
    for value in (None, "1"):
        env = {k: v for k, v in os.environ.items() if k != kernel.ENV}
        if value is not None:
            env[kernel.ENV] = value
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stderr[-2000:]
        digests.add(out.stdout.strip())
    assert len(digests) == 1 and len(digests.pop()) == 64


def test_collector_paused_restores_the_collector_as_it_was():
    """Off inside; back on after (also after an error); left off when it was off already."""
    import gc

    assert gc.isenabled()
    try:
        with kernel.collector_paused():
            assert not gc.isenabled()
            raise RuntimeError("inside")
    except RuntimeError:
        pass
    assert gc.isenabled()
    gc.disable()
    try:
        with kernel.collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
