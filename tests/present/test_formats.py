"""Output formats are a registry: a new format is one registration, written by every run and by
`kpi render` without any other change (here a toy format, registered by the test)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kpi_lib.core.errors import KpiError
from kpi_lib.present import formats
from kpi_lib.present.formats import OutputFormat, RenderContext


@pytest.fixture()
def toy_format():
    """A format writing the headline values as JSON, registered for the test only."""
    def write(context: RenderContext) -> Path:
        from kpi_lib.analyse.columns import read_csv
        kpis = read_csv(context.folder / "results" / "kpis.csv")
        head = kpis[kpis["headline"]]
        out = context.folder / "headline.json"
        out.write_text(json.dumps(dict(zip(head["kpi_id"], head["value"].astype(float), strict=True))))
        return out

    fmt = formats.register(OutputFormat("json", "headline values (JSON)", "headline.json", write))
    yield fmt
    formats.registered().pop("json")


def test_the_built_in_formats_in_the_order_they_are_written():
    assert list(formats.registered()) == ["html", "xlsx", "pdf"]
    assert [f.filename for f in formats.registered().values()] == ["report.html", "kpis.xlsx", "report.pdf"]
    assert formats.registered()["pdf"].optional and not formats.registered()["html"].optional


def test_an_unknown_format_to_skip_is_named(tmp_path):
    with pytest.raises(KpiError, match="unknown output format docx; the formats are html, xlsx, pdf"):
        formats.write_all(tmp_path, {}, [], skip=["docx"])


def test_an_optional_format_that_fails_is_a_note_and_a_required_one_stops(tmp_path):
    def broken(context):
        raise KpiError("no printer")
    formats.register(OutputFormat("fax", "fax", "report.fax", broken, optional=True))
    try:
        notes = formats.write_all(tmp_path, {}, [], skip=["html", "xlsx", "pdf"])
        assert notes == {"fax": "no printer"}
        formats.register(OutputFormat("fax", "fax", "report.fax", broken))
        with pytest.raises(KpiError, match="no printer"):
            formats.write_all(tmp_path, {}, [], skip=["html", "xlsx", "pdf"])
    finally:
        formats.registered().pop("fax")


def test_the_manifest_record_says_written_failed_or_left_out_for_every_format(tmp_path):
    def note(context: RenderContext) -> Path:
        (context.folder / "note.txt").write_text("a note")
        return context.folder / "note.txt"

    def broken(context):
        raise KpiError("no printer")
    formats.register(OutputFormat("note", "a note", "note.txt", note))
    formats.register(OutputFormat("fax", "fax", "report.fax", broken, optional=True))
    try:
        recorded = formats.record(formats.write_all(tmp_path, {}, [], skip=["html", "xlsx", "pdf"]))
        assert recorded == {"html": "left out", "xlsx": "left out", "pdf": "left out",
                            "note": "note.txt", "fax": "no printer"}
        assert (tmp_path / "note.txt").read_text() == "a note"
        assert formats.failures(recorded) == {"fax": "no printer"}
    finally:
        formats.registered().pop("note")
        formats.registered().pop("fax")


def test_kpi_run_and_render_name_the_formats_from_the_registry(tmp_path, toy_format):
    from helpers import kpi
    for command in ("run", "render"):
        assert "html (report.html), xlsx (kpis.xlsx), pdf (report.pdf)" in " ".join(
            kpi(command, "--help").stdout.replace("│", " ").split())
    (tmp_path / "data").mkdir()
    r = kpi("run", "2024/25-Q4", "--data", tmp_path / "data", "--out", tmp_path / "out", "--skip", "docx")
    assert r.returncode == 1
    assert "unknown output format docx; the formats are html, xlsx, pdf, json" in r.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.notebooks
def test_a_registered_format_is_written_by_kpi_render(quarter_run, tmp_path, toy_format):
    from kpi_lib.run.runner import rerender
    out = Path(shutil.copytree(quarter_run.out, tmp_path / "2024-25-q4"))
    rerender(out, skip_formats=["pdf"])
    values = json.loads((out / "headline.json").read_text())
    import pandas as pd
    kpis = pd.read_csv(out / "results" / "kpis.csv")
    head = kpis[kpis["headline"]].set_index("kpi_id")["value"]
    assert set(values) == set(head.index)
    assert values["trc_volume"] == head["trc_volume"] > 0
