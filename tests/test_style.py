"""Style rules that can be checked: ruff clean (ruff is in the test extras)."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_ruff_clean():
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "kpi_lib", "tests", "bench", "notebooks"],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stdout + r.stderr
