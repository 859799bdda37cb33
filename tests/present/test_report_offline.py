"""The report never reaches the network and never loses a file: commentary images embedded from
local files only (or shown as text), links out shown as text, a Content-Security-Policy in the
page, Chromium printing with no way out, a PDF kept only if it parses to the end, a full disk in
`kpi render` one line with nothing left behind, and documented limits equal to enforced ones."""

from __future__ import annotations

import base64
import errno
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kpi_lib.core.errors import KpiError, ParameterError
from kpi_lib.present import commentary as C
from kpi_lib.present import render as R

from helpers import REPO

KNOWN = ["trc_volume", "robbery_volume"]
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _commentary(folder: Path, body: str) -> dict:
    f = folder / "commentary.md"
    f.write_text(f"# 2024/25 Q4\n\n## trc_volume\n{body}\n", encoding="utf-8")
    return C.load_commentary(f, "2024/25 Q4", KNOWN)["trc_volume"].html


# ------------------------------------------------------------------------------ commentary
def test_a_remote_image_is_shown_as_text_never_fetched(tmp_path):
    html = _commentary(tmp_path, "See ![our chart](http://127.0.0.1:9/chart.png) and ![x](//evil.example/a.png).")
    assert "<img" not in html and "src=" not in html
    assert ("[image not shown: our chart (http://127.0.0.1:9/chart.png): only image files beside the "
            "commentary are shown, not web addresses]") in html


def test_a_local_image_is_embedded_and_others_are_named(tmp_path):
    (tmp_path / "chart.png").write_bytes(PNG)
    (tmp_path / "notes.png").write_text("not an image")
    (tmp_path / "big.png").write_bytes(PNG + b"\0" * C.MAX_IMAGE_BYTES)
    outside = tmp_path.parent / "outside.png"
    outside.write_bytes(PNG)
    html = _commentary(tmp_path, "![Crime by month](chart.png) ![n](notes.png) ![b](big.png) "
                                 f"![o](../{outside.name}) ![m](missing.png)")
    assert f'<img src="data:image/png;base64,{base64.b64encode(PNG).decode()}" alt="Crime by month">' in html
    assert html.count("<img") == 1
    assert "(notes.png): not a PNG, JPEG, GIF or WebP image]" in html
    assert f"(big.png): the file is {len(PNG) + C.MAX_IMAGE_BYTES:,} bytes; the limit is 1,000,000]" in html
    assert f"(../{outside.name}): only image files in the commentary's folder are shown]" in html
    assert "(missing.png): no such file beside the commentary]" in html


def test_links_out_of_the_report_are_text_with_their_address(tmp_path):
    html = _commentary(tmp_path, "Read [the plan](https://www.westmercia-pcc.gov.uk/plan) or "
                                 "<https://example.org/x>; see [robbery](#kpi-robbery_volume). <img src=http://x/y.png>")
    assert 'href="https' not in html and "<a href=\"#kpi-robbery_volume\">robbery</a>" in html
    assert "the plan <span class=\"commentary-link-address\">(https://www.westmercia-pcc.gov.uk/plan)</span>" in html
    assert "https://example.org/x" in html and "&lt;img src=http://x/y.png&gt;" in html


def test_the_documented_commentary_limit_is_the_enforced_one(tmp_path):
    from kpi_lib.run.plan import COMMENTARY_MAX_BYTES
    doc = (REPO / "docs" / "guarantees.md").read_text(encoding="utf-8")
    assert "| the force commentary (`--commentary`, `commentary.md`) | 1 MB (1,000,000 bytes), UTF-8 |" in doc
    assert C.MAX_BYTES == COMMENTARY_MAX_BYTES == 1_000_000
    text = "# 2024/25 Q4\n\n## trc_volume\n" + "Words. " * 100_000  # 700,000 bytes: was refused at 200,000
    f = tmp_path / "commentary.md"
    f.write_text(text)
    assert len(C.load_commentary(f, "2024/25 Q4", KNOWN)["trc_volume"].markdown) > 600_000
    f.write_text(text + "x" * (1_000_001 - len(text)))
    with pytest.raises(ParameterError, match="1,000,001 bytes; expected at most 1,000,000"):
        C.load_commentary(f, "2024/25 Q4", KNOWN)


def test_documented_size_limits_are_the_enforced_ones():
    from kpi_lib.core import safe_yaml
    from kpi_lib.inputs import parsing
    doc = (REPO / "docs" / "guarantees.md").read_text(encoding="utf-8")
    limits = dict(re.findall(r"^\| ([^|]+?) \| ([^|]+?) \|", doc, re.M))
    assert limits["YAML (`--params`, `metadata.yaml`, annotations, catalogue, categories, factors)"].startswith(
        f"1 MB ({safe_yaml.MAX_BYTES:,} bytes)")
    assert limits["a CSV field"] == f"{parsing.MAX_FIELD_BYTES:,} bytes"
    assert limits["a `.csv.gz` table"].startswith(f"expands to at most {parsing.MAX_GZIP_RATIO} times")
    assert limits["an image in the force commentary"].startswith(f"1 MB ({C.MAX_IMAGE_BYTES:,} bytes)")


# ------------------------------------------------------------------------------ rendering
def test_the_page_forbids_every_request_but_its_own_data():
    page = R.finish_html("<html><head><title>t</title></head><body><main></main></body></html>")
    assert page.startswith('<html><head><meta content="default-src \'none\'; img-src data:;')
    assert 'http-equiv="Content-Security-Policy"' in page
    assert "--proxy-server=socks5://127.0.0.1:9" in R.CHROMIUM_FLAGS and "--proxy-bypass-list=<-loopback>" in R.CHROMIUM_FLAGS


def _fake_chromium(tmp_path, monkeypatch, pdf_bytes: bytes | None, returncode: int = 0, hang: bool = False):
    monkeypatch.setattr(R, "find_chromium", lambda: "/usr/bin/chromium")

    def run(cmd, **kw):
        if hang:
            raise subprocess.TimeoutExpired(cmd, kw.get("timeout"))
        target = next(c.split("=", 1)[1] for c in cmd if c.startswith("--print-to-pdf="))
        if pdf_bytes is not None:
            Path(target).write_bytes(pdf_bytes)
        return subprocess.CompletedProcess(cmd, returncode, "", "")
    monkeypatch.setattr(R.subprocess, "run", run)


@pytest.fixture(scope="module")
def real_pdf(tmp_path_factory) -> bytes:
    import pypdf
    w = pypdf.PdfWriter()
    w.add_blank_page(width=595, height=842)
    w.add_blank_page(width=595, height=842)
    path = tmp_path_factory.mktemp("pdf") / "two.pdf"
    with open(path, "wb") as fh:
        w.write(fh)
    return path.read_bytes()


def test_a_truncated_pdf_is_refused_and_the_old_one_kept(tmp_path, monkeypatch, real_pdf):
    """Chromium exits 0 but the disk filled while it wrote: the file ends early. It used to be
    accepted; it is now refused, the temporary file removed and the last good PDF left alone."""
    html = tmp_path / "report.html"
    html.write_text("<html></html>")
    out = tmp_path / "report.pdf"
    out.write_bytes(real_pdf)
    _fake_chromium(tmp_path, monkeypatch, real_pdf[: len(real_pdf) // 2])
    with pytest.raises(KpiError) as e:
        R.print_pdf(html, out)
    assert str(e.value).startswith("report.pdf was not kept: the PDF Chromium wrote does not parse to the end")
    assert out.read_bytes() == real_pdf and sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.pdf"]
    _fake_chromium(tmp_path, monkeypatch, real_pdf)
    R.print_pdf(html, out)  # a whole PDF is kept
    _fake_chromium(tmp_path, monkeypatch, None, hang=True)
    with pytest.raises(KpiError, match="did not finish printing report.pdf within 180 s; the HTML report is complete"):
        R.print_pdf(html, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.pdf"]


def _disk_full(monkeypatch):
    real = os.fdopen

    def full(fd, mode="r", *a, **k):
        fh = real(fd, mode, *a, **k)
        if "w" in mode:
            def write(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            fh.write = write
        return fh
    monkeypatch.setattr(R.os, "fdopen", full)


def test_writing_a_page_on_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    page = tmp_path / "report.html"
    page.write_text("the last good report")
    _disk_full(monkeypatch)
    with pytest.raises(KpiError) as e:
        R.write_whole(page, "the new report")
    assert str(e.value) == (f"could not write report.html in {tmp_path}: No space left on device; the previous "
                            "file (if any) is unchanged")
    assert page.read_text() == "the last good report" and [p.name for p in tmp_path.iterdir()] == ["report.html"]


@pytest.mark.notebooks
def test_kpi_render_on_a_full_disk_is_one_line_and_leaves_nothing(quarter_run, tmp_path, monkeypatch):
    from kpi_lib.cli import app
    out = tmp_path / "2024-25-q4"
    shutil.copytree(quarter_run.out, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name in ("report.html", "kpis.xlsx")}
    _disk_full(monkeypatch)
    r = CliRunner().invoke(app, ["render", str(out), "--no-pdf"])
    assert r.exit_code == 1, r.output
    assert r.output.strip() == (f"error: could not write report.html in {out.resolve()}: No space left on device; "
                                "the previous file (if any) is unchanged")
    assert all(p.read_bytes() == b for p, b in before.items())
    assert not [p for p in out.rglob(".*") if p.is_file() and ".tmp" in p.name]
