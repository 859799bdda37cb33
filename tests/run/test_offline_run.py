"""One real run with four things a real office does to it: commentary with a remote image and a
link (served by a local server that must receive nothing while the report is made, printed and
opened), an Excel lock file beside the inputs, a panel cache that cannot be used, and a later
quarter's run given as the previous report. The run still publishes its report, says why about
each, and no request ever reaches the server."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_lib.cli import app
from kpi_lib.core.snapshot import sha256_of
from kpi_lib.present.render import check_pdf

from helpers import chromium_path

pytestmark = [pytest.mark.notebooks, pytest.mark.browser]


class Listener:
    """A TCP server on a free local port that records every connection and never answers (a
    server that hangs, the worst case for a report that fetches)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections: list[tuple] = []
        self.held: list[socket.socket] = []
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            self.connections.append(peer)
            self.held.append(conn)

    def close(self) -> None:
        self.stopping = True
        self.thread.join(timeout=2)
        for c in self.held:
            c.close()
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def test_a_run_never_reaches_the_network_and_says_why_about_each_oddity(small_sample, quarter_run, tmp_path,
                                                                       monkeypatch, listener):
    chromium = chromium_path()
    data = tmp_path / "data"
    shutil.copytree(small_sample, data)
    url = f"http://127.0.0.1:{listener.port}"
    (data / "commentary.md").write_text(
        "# 2024/25 Q3\n\n## trc_volume\nRecorded crime fell this quarter. "
        f"![Crime by month]({url}/chart.png)\n\nSee [the force plan]({url}/plan).\n", encoding="utf-8")
    (data / "~$notes.xlsx").write_bytes(b"\x00owner: analyst\x00")
    blocked = tmp_path / "cache-is-a-file"
    blocked.write_text("")
    monkeypatch.setenv("KPI_CACHE_DIR", str(blocked))
    out = tmp_path / "2024-25-q3"

    r = CliRunner().invoke(app, ["run", "2024/25-Q3", "--data", str(data), "--out", str(out), "--quiet", "--jobs", "2",
                                 "--previous", str(quarter_run.out)])
    assert r.exit_code == 0, r.output
    assert listener.connections == []  # made and printed without a single request
    notes = [ln.strip() for ln in r.output.splitlines() if ln.strip().startswith("note:")]
    assert notes == [f"note: the panel cache was not used: {blocked} cannot be used (Not a directory)"]

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["panel_cache"] == "not used"
    assert manifest["skipped_files"] == [{"file": "~$notes.xlsx",
                                          "why": "an Office lock file (written while the workbook is open; not data)"}]
    assert manifest["previous_run"] is None
    assert manifest["previous_run_left_out"]["why"].startswith("it is the report for 2024/25 Q4, which is not a "
                                                               "period before 2024/25 Q3")
    assert all(sha256_of(out / name) == digest for name, digest in manifest["output_sha256"].items())
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f"[image not shown: Crime by month ({url}/chart.png): only image files beside the commentary" in html
    assert f'src="{url}' not in html and f'href="{url}' not in html
    assert "was not compared with because it is the report for 2024/25 Q4" in html
    check_pdf(out / "report.pdf")

    # opened as a reader opens it: a browser with no special flags
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000",
                    "--dump-dom", (out / "report.html").as_uri()], capture_output=True, timeout=120, check=False)
    assert listener.connections == []


def test_an_edited_previous_report_is_not_compared_with(quarter_run, tmp_path):
    """A previous run whose kpis.csv was edited after publishing (1,500 typed over a figure) used
    to show as "published as 1,500 and revised because the source records changed"."""
    from kpi_lib.present.changes import previous_problem
    prev = tmp_path / "prev"
    shutil.copytree(quarter_run.out, prev)
    assert previous_problem(prev, "2025/26 Q1", ["canonical"]) is None
    kpis = prev / "results" / "kpis.csv"
    lines = kpis.read_text().splitlines()
    head = lines[0].split(",")
    row = next(i for i, ln in enumerate(lines) if ln.startswith("trc_volume,"))
    cells = lines[row].split(",")
    cells[head.index("value")] = "1500"
    lines[row] = ",".join(cells)
    kpis.write_text("\n".join(lines) + "\n")
    assert previous_problem(prev, "2025/26 Q1", ["canonical"]) == (
        "its results/kpis.csv is not the file it published (its SHA-256 differs from the manifest's): edited since?")
    assert previous_problem(quarter_run.out, "2025/26 Q1", ["home_office"]).startswith(
        "it was made from force records, this report from Home Office open data tables")
    assert previous_problem(quarter_run.out, "2024/25 Q4", ["canonical"]).startswith(
        "it is the report for 2024/25 Q4, which is not a period before 2024/25 Q4")
    old = tmp_path / "old"
    shutil.copytree(quarter_run.out, old)
    m = json.loads((old / "manifest.json").read_text())
    del m["output_sha256"]
    (old / "manifest.json").write_text(json.dumps(m))
    assert "records no SHA-256 of its files" in previous_problem(old, "2025/26 Q1", ["canonical"])
    assert Path(quarter_run.out / "manifest.json").exists()
