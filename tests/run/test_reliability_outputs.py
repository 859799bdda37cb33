"""Output folders are owned, never assumed.

Real ``kpi`` processes are pointed at a user's folder, the current folder, the data folder, an
existing file and the repository's own folders: each is refused with one sentence and rc 1, and
every byte is unchanged afterwards. A second concurrent run to the same folder refuses; a lock left
by a dead process is taken over; a folder written by an earlier run is replaced.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_lib.core.errors import OutputFolderError
from kpi_lib.run.outputs import SUITE, carries_marker, lock_path, output_lock, output_problem

from helpers import KPI, REPO, kpi, snapshot

RUN = ["run", "2024/25-Q4", "--quiet", "--no-pdf", "--jobs", "1"]


@pytest.fixture(scope="module")
def data_copy(small_sample, tmp_path_factory) -> Path:
    """A private copy of the small sample (a refusal that failed would delete it)."""
    return Path(shutil.copytree(small_sample, tmp_path_factory.mktemp("data-copy") / "data"))


def assert_refused(r, words: str) -> None:
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert r.stderr.startswith("error: refusing --out "), r.stderr
    assert words in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1, "one line"


def user_folder(root: Path) -> Path:
    folder = root / "my-reports"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.txt").write_text("my own notes, not a kpi run\n")
    (folder / "sub" / "budget.csv").write_bytes(b"a,b\n1,2\n")
    return folder


def test_a_users_folder_is_refused_and_unchanged(tmp_path, data_copy):
    folder = user_folder(tmp_path)
    before = snapshot(tmp_path)
    r = kpi(*RUN, "--data", str(data_copy), "--out", str(folder))
    assert_refused(r, "an existing folder that was not written by kpi run")
    assert snapshot(tmp_path) == before


def test_a_folder_with_a_foreign_manifest_is_refused(tmp_path, data_copy):
    folder = user_folder(tmp_path)
    (folder / "manifest.json").write_text(json.dumps({"name": "some other tool", "period": "x"}))
    before = snapshot(tmp_path)
    assert_refused(kpi(*RUN, "--data", str(data_copy), "--out", str(folder)), "not written by kpi run")
    assert snapshot(tmp_path) == before


def test_the_current_folder_is_refused_and_unchanged(tmp_path, data_copy):
    work = user_folder(tmp_path)
    before = snapshot(tmp_path)
    assert_refused(kpi(*RUN, "--data", str(data_copy), "--out", ".", cwd=work), "it is the current folder")
    assert_refused(kpi(*RUN, "--data", str(data_copy), "--out", "..", cwd=work / "sub"),
                   "it contains the current folder")
    assert snapshot(tmp_path) == before


def test_the_data_folder_and_folders_around_it_are_refused_and_unchanged(data_copy):
    root = data_copy.parent
    before = snapshot(root)
    assert_refused(kpi(*RUN, "--data", str(data_copy), "--out", str(data_copy)), "it is the data folder")
    assert_refused(kpi(*RUN, "--data", str(data_copy), "--out", str(data_copy / "reports")),
                   "it is inside the data folder")
    assert_refused(kpi(*RUN, "--data", str(data_copy), "--out", str(root)), "it contains the data folder")
    assert_refused(kpi(*RUN, "--data", str(data_copy), "--to", "2024/25-Q4", "--out", str(data_copy)),
                   "it is inside the data folder")
    assert snapshot(root) == before


def test_an_existing_file_is_refused_and_unchanged(tmp_path, data_copy):
    report = tmp_path / "report.html"
    report.write_text("<p>the Panel's copy</p>")
    before = snapshot(tmp_path)
    assert_refused(kpi(*RUN, "--data", str(data_copy), "--out", str(report)), "it is an existing file")
    assert snapshot(tmp_path) == before, "no .report.html.old-PID, no lock file, nothing moved"


def test_a_symbolic_link_is_refused_and_unchanged(tmp_path, data_copy):
    folder = user_folder(tmp_path)
    (tmp_path / "link").symlink_to(folder, target_is_directory=True)
    before = snapshot(tmp_path)
    assert_refused(kpi(*RUN, "--data", str(data_copy), "--out", str(tmp_path / "link")), "symbolic link")
    assert snapshot(tmp_path) == before


def test_a_foreign_failed_folder_beside_the_output_is_refused(tmp_path, data_copy):
    user_folder(tmp_path).rename(tmp_path / "q4.failed")
    before = snapshot(tmp_path)
    assert_refused(kpi(*RUN, "--data", str(data_copy), "--out", str(tmp_path / "q4")), "q4.failed")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("target", ["kpi_lib/reports", "notebooks", "params/out", "tests", "docs/x", ".", ".git/x"])
def test_the_repositorys_own_folders_are_refused(target, data_copy):
    out = (REPO / target)
    existed = out.exists()
    r = kpi(*RUN, "--data", str(data_copy), "--out", str(out), cwd=data_copy.parent)
    assert_refused(r, "the suite's own code" if target.startswith("kpi_lib") else
                   ("it contains" if target == "." else "the repository's"))
    assert out.exists() == existed
    assert not lock_path(out.resolve()).exists()


def test_a_backfill_refuses_before_its_first_quarter_runs(tmp_path, data_copy):
    root = tmp_path / "backfill"
    root.mkdir()
    user_folder(root).rename(root / "2024-25-q2")
    before = snapshot(tmp_path)
    r = kpi("run", "2024/25-Q1", "--to", "2024/25-Q2", "--quiet", "--no-pdf", "--data", str(data_copy),
            "--out", str(root))
    assert_refused(r, "2024-25-q2")
    assert snapshot(tmp_path) == before, "2024/25 Q1 was not run either"


def test_render_refuses_a_folder_not_written_by_a_run(tmp_path):
    folder = user_folder(tmp_path)
    (folder / "manifest.json").write_text("{}")
    before = snapshot(tmp_path)
    r = kpi("render", str(folder), "--no-pdf")
    assert r.returncode == 1 and "not a run folder" in r.stderr and "Traceback" not in r.stderr
    assert snapshot(tmp_path) == before


# ---- the marker ------------------------------------------------------------------------------

def test_the_marker_is_this_suites_manifest(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    assert not carries_marker(run)
    (run / "manifest.json").write_text(json.dumps({"suite": SUITE, "period": "2024/25 Q4"}))
    assert carries_marker(run) and output_problem(run, data=None, cwd=tmp_path) is None
    (run / "manifest.json").write_text(json.dumps({"suite": "another suite"}))
    assert not carries_marker(run)
    (run / "manifest.json").write_text("[1, 2]")
    assert not carries_marker(run)
    (run / "manifest.json").write_text("{not json")
    assert not carries_marker(run)
    # a run made before the marker existed names the suite in its code version
    (run / "manifest.json").write_text(json.dumps({"code_version": "kpi_lib 0.1.0, git abc", "period": "2024/25 Q4"}))
    assert carries_marker(run)


_segment = st.text(alphabet="abcdefghij-_0123456789", min_size=1, max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(inner=st.lists(_segment, min_size=0, max_size=4), sibling=_segment)
def test_property_anything_in_or_around_the_data_folder_is_refused(inner, sibling):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve()
        data = root / "inputs" / "data"
        data.mkdir(parents=True)
        cwd = root / "elsewhere"
        cwd.mkdir()
        assert output_problem(data.joinpath(*inner), data=data, cwd=cwd) is not None
        assert output_problem(data.parent, data=data, cwd=cwd) is not None
        assert output_problem(root, data=data, cwd=cwd) is not None
        # a new folder beside the data (not the data's own name) is fine
        name = sibling if sibling != "data" else "data2"
        assert output_problem(root / "inputs" / name, data=data, cwd=cwd) is None
        assert output_problem(cwd / name / "q4", data=data, cwd=cwd) is None


# ---- the lock, with real processes -------------------------------------------------------------

HOLD = """
import sys, time
from pathlib import Path
from kpi_lib.run.outputs import output_lock
with output_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


def test_a_held_lock_refuses_and_a_dead_holders_lock_is_taken_over(tmp_path):
    out = tmp_path / "q4"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputFolderError) as e, output_lock(out):
            pass
        assert f"another kpi run (pid {holder.pid}" in str(e.value)
        os.kill(holder.pid, signal.SIGKILL)  # dies holding the lock: the lock file stays behind
        holder.wait(10)
        assert json.loads(lock_path(out).read_text())["pid"] == holder.pid
        with output_lock(out) as path:
            assert json.loads(path.read_text())["pid"] == os.getpid()
        assert not lock_path(out).exists(), "the lock file is removed on release"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


@pytest.mark.notebooks
@pytest.mark.e2e
def test_concurrent_runs_refuse_and_the_same_period_gives_the_same_figures(tmp_path, small_sample, quarter_run):
    """One run holds the folder while a second is refused; the first then publishes, leaves no
    lock or build behind, and gives byte for byte the shared quarter run's kpis.csv (the same
    period twice). A lock and a folder left by a dead run are taken over by the next run: see
    the kill -9 test in test_reliability_interrupt.py."""
    out = tmp_path / "2024-25-q4"
    first = subprocess.Popen([str(KPI), *RUN, "--data", str(small_sample), "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".2024-25-q4.building-*")) and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()
            time.sleep(0.2)
        second = kpi(*RUN, "--data", str(small_sample), "--out", str(out), cwd=tmp_path)
        assert_refused(second, f"another kpi run (pid {first.pid}")
        _, err = first.communicate(timeout=900)
        assert first.returncode == 0, err
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert json.loads((out / "manifest.json").read_text())["suite"] == SUITE
    assert not lock_path(out).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024-25-q4"]
    assert (out / "results" / "kpis.csv").read_bytes() == (quarter_run.out / "results" / "kpis.csv").read_bytes()


# ---- the plan step: previous run and commentary, jobs actually used -------------------------------

def _run_folder(path: Path, period: str) -> Path:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"suite": SUITE, "period": period}))
    return path


def test_the_plan_finds_the_previous_quarters_run_and_the_commentary(tmp_path, data_copy):
    from kpi_lib.run.runner import plan
    runs = tmp_path / "outputs"
    q3 = _run_folder(runs / "2024-25-q3", "2024/25 Q3")
    pl = plan("2024/25 Q4", data_copy, runs / "2024-25-q4", jobs=1000)
    assert pl.previous_dir == q3 and pl.commentary_file is None
    assert pl.jobs == 7 and pl.jobs_requested == 1000  # never more than the family notebooks
    (q3 / "manifest.json").unlink()  # not a run folder any more: no comparison
    assert plan("2024/25 Q4", data_copy, runs / "2024-25-q4").previous_dir is None
    other = _run_folder(tmp_path / "elsewhere" / "q2", "2024/25 Q2")
    notes = tmp_path / "notes.md"
    notes.write_text("# 2024/25 Q4\n\n## rape_volume\n\nThe force's words.\n", encoding="utf-8")
    pl = plan("2024/25 Q4", data_copy, runs / "2024-25-q4", previous_dir=other, commentary_file=notes)
    assert pl.previous_dir == other and pl.commentary_file == notes


def test_a_previous_folder_or_commentary_that_is_not_usable_is_refused(tmp_path, data_copy):
    from kpi_lib.core.errors import ParameterError
    from kpi_lib.run.runner import plan
    with pytest.raises(ParameterError, match="--previous .* not a folder written by kpi run"):
        plan("2024/25 Q4", data_copy, tmp_path / "q4", previous_dir=user_folder(tmp_path))
    with pytest.raises(ParameterError, match="--commentary .* not found or not a file"):
        plan("2024/25 Q4", data_copy, tmp_path / "q4", commentary_file=tmp_path / "absent.md")
    (tmp_path / "latin1.md").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ParameterError, match="not UTF-8"):
        plan("2024/25 Q4", data_copy, tmp_path / "q4", commentary_file=tmp_path / "latin1.md")
    # commentary for another period, or naming an unknown KPI, stops the run before any notebook
    (tmp_path / "q3.md").write_text("# 2024/25 Q3\n\n## rape_volume\n\nWords.\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="commentary is written for '2024/25 Q3', but this report is for '2024/25 Q4'"):
        plan("2024/25 Q4", data_copy, tmp_path / "q4", commentary_file=tmp_path / "q3.md")
    (tmp_path / "typo.md").write_text("# 2024/25 Q4\n\n## rape_volum\n\nWords.\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="line 3: unknown KPI id 'rape_volum'"):
        plan("2024/25 Q4", data_copy, tmp_path / "q4", commentary_file=tmp_path / "typo.md")
    with pytest.raises(ParameterError, match="--jobs must be a whole number of at least 1"):
        plan("2024/25 Q4", data_copy, tmp_path / "q4", jobs=0)
    assert not (tmp_path / "q4").exists()


def test_commentary_md_in_the_data_folder_is_used_when_no_file_is_given(tmp_path):
    from kpi_lib.core.periods import Period
    from kpi_lib.run.plan import find_commentary
    q4 = Period.parse("2024/25 Q4")
    assert find_commentary(tmp_path, None, q4) is None
    (tmp_path / "commentary.md").write_text("# 2024/25 Q4\n\n## trc_volume\n\nForce commentary.\n",
                                            encoding="utf-8")
    assert find_commentary(tmp_path, None, q4) == tmp_path / "commentary.md"
