"""report.pdf for the agenda pack, read back with pypdf: page numbers, a running header with the
period and the SYNTHETIC marking on every page, bookmarks from the headings, at most 24 pages,
the one-page summary on one page, and table text of at least 9 pt."""

from __future__ import annotations

import math
import re

import pytest

from kpi_lib.config.catalogue import budget_kpis, load_catalogue
from kpi_lib.present.summary import plain_name

pytestmark = [pytest.mark.browser, pytest.mark.notebooks]


@pytest.fixture(scope="module")
def pdf(quarter_run):
    from helpers import chromium_path
    chromium_path()  # skips with a reason when Chromium is absent
    import pypdf
    path = quarter_run.out / "report.pdf"
    assert path.exists(), quarter_run.manifest.get("pdf")
    return pypdf.PdfReader(path)


def _text(page) -> str:
    return " ".join(page.extract_text().split())


def _font_sizes(page) -> list[tuple[float, str]]:
    """(size in points, text) of every piece of text on a page, from the text and current
    transformation matrices."""
    out: list[tuple[float, str]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3])
            out.append((font_size * scale, text.strip()))
    page.extract_text(visitor_text=visit)
    return out


def _outline_titles(outline) -> list[str]:
    titles = []
    for item in outline:
        if isinstance(item, list):
            titles += _outline_titles(item)
        else:
            titles.append(item.title)
    return titles


def test_at_most_24_pages(pdf):
    assert 4 <= len(pdf.pages) <= 24


def test_page_numbers_running_header_and_synthetic_marking_on_every_page(pdf):
    n = len(pdf.pages)
    for i, page in enumerate(pdf.pages, start=1):
        text = _text(page)
        assert f"Page {i} of {n}" in text, i
        assert "Budget KPI metrics report: 2024/25 Q4" in text, i
        assert "SYNTHETIC SAMPLE DATA" in text, i


def test_bookmarks_from_the_headings(pdf):
    titles = _outline_titles(pdf.outline)
    for expected in ("Is it real?", "What the force says", "The budget KPIs in the Table 1 layout",
                     "Crime volumes and charge/summons outcomes", "Call handling", "How the figures are made"):
        assert any(t.startswith(expected) for t in titles), (expected, titles)
    assert any(t == "Volume of rape offences" for t in titles)  # KPI headings too


def test_the_summary_is_on_one_page(pdf):
    pages = [i for i, p in enumerate(pdf.pages)
             if "Is it real? The budget KPIs at a glance" in _text(p) and "Question to ask" in _text(p)]
    assert len(pages) == 1  # (the title page's contents also names the section)
    text = _text(pdf.pages[pages[0]])
    for k in budget_kpis(load_catalogue()):
        assert plain_name(k) in text, k.id
    assert pages[0] <= 1  # straight after the title page
    following = _text(pdf.pages[pages[0] + 1])
    assert "Question to ask" not in following and following.split("SYNTHETIC SAMPLE DATA")[-1].strip() \
        .startswith(("What the force says", "Page"))


def test_table_text_is_at_least_9_pt(pdf):
    """Every piece of text on the summary, Table 1 and year pages is 9 pt or more."""
    table_pages = [i for i, p in enumerate(pdf.pages)
                   if re.search(r"Is it real\?|Plan priority|The year .* against the previous year", _text(p))]
    assert len(table_pages) >= 3
    for i in table_pages:
        sizes = _font_sizes(pdf.pages[i])
        small = [(round(s, 2), t) for s, t in sizes if s < 8.95]
        assert sizes and not small, (i + 1, small[:5])


def test_headings_are_not_left_at_the_foot_of_a_page(pdf):
    """A family section's heading always has its reading guide and first chart on the same page."""
    families = ["Crime volumes and charge/summons outcomes", "Call handling", "Emergency response times",
                "Public confidence and police visibility", "Victim satisfaction", "Finance", "Environment"]
    for page in pdf.pages:
        lines = [ln.strip() for ln in page.extract_text().splitlines() if ln.strip()]
        body = [ln for ln in lines if not ln.startswith(("Page ", "Budget KPI metrics report:", "SYNTHETIC"))]
        for title in families:
            if title in body:
                after = body[body.index(title) + 1:]
                assert any(ln.startswith("Reading these figures") for ln in after), (title, after[:3])
