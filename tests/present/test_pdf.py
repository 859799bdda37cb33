"""report.pdf for the agenda pack, read back with pypdf: page numbers, a running header with the
period and the SYNTHETIC marking on every page, bookmarks from the headings, at most 52 pages,
the one-page summary on one page, table text of at least 9 pt, and no page left under a third
full except where a section ends. The page budget and the page fill are checked on the small
sample's run and on the full sample's (the report `make report` gives the Panel)."""

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
    assert path.exists(), quarter_run.manifest["formats"]["pdf"]
    return pypdf.PdfReader(path)


@pytest.fixture(scope="module", params=["small sample", "full sample"])
def either_pdf(request):
    """The printed report of the small sample's run, then of the full sample's."""
    from helpers import chromium_path
    chromium_path()
    import pypdf
    run = request.getfixturevalue("quarter_run" if request.param == "small sample" else "full_quarter_run")
    path = run.out / "report.pdf"
    assert path.exists(), run.manifest["formats"]["pdf"]
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


def test_at_most_52_pages(either_pdf):
    """The paper, its appendices (the numbers behind every chart, definitions, methods, the local
    areas' tables and charts) and the annex for officers."""
    assert 4 <= len(either_pdf.pages) <= 52


def test_page_numbers_running_header_and_synthetic_marking_on_every_page(pdf):
    n = len(pdf.pages)
    for i, page in enumerate(pdf.pages, start=1):
        text = _text(page)
        assert f"Page {i} of {n}" in text, i
        assert "Budget KPI metrics report: 2024/25 Q4" in text, i
        assert "SYNTHETIC SAMPLE DATA" in text, i


def test_bookmarks_from_the_headings(pdf):
    titles = _outline_titles(pdf.outline)
    for expected in ("Recommendation", "Is it real?", "Background", "The budget KPIs in the Table 1 layout",
                     "Crime volumes and charge/summons outcomes", "Call handling", "Assurance and accountability",
                     "Implications", "Contact points", "Appendix A", "Annex for officers"):
        assert any(t.startswith(expected) for t in titles), (expected, titles)
    assert any(t == "Volume of rape offences" for t in titles)  # KPI headings too


def test_the_summary_is_on_one_page(pdf):
    pages = [i for i, p in enumerate(pdf.pages)
             if "Is it real? The budget KPIs at a glance" in _text(p) and "Change on last year" in _text(p)]
    assert len(pages) == 1  # (the contents also name the section)
    text = _text(pdf.pages[pages[0]])
    for k in budget_kpis(load_catalogue()):
        assert plain_name(k) in text, k.id
    contents = next(p for t, p, _ in _sections(pdf) if t == "Contents")
    assert pages[0] == contents  # straight after the opening pages and the contents (0-based: the next)
    following = _text(pdf.pages[pages[0] + 1])
    assert "Change on last year" not in following and following.split("SYNTHETIC SAMPLE DATA")[-1].strip() \
        .startswith(("Background", "Page"))


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


# ------------------------------------------------------------------------------ an agenda pack
TOP_BAND, BOTTOM_BAND = 34.0, 28.0  # the running header and page number sit in the page margins


def _layout(page) -> tuple[list[tuple[float, str]], list[tuple[str, list[float]]]]:
    """(y and text of every piece of text, name and matrix of every image drawn) on a page."""
    texts: list[tuple[float, str]] = []
    images: list[tuple[str, list[float]]] = []

    def visit_text(text, cm, tm, font_dict, font_size):
        if text.strip():
            texts.append((tm[4] * cm[1] + tm[5] * cm[3] + cm[5], text.strip()))

    def visit_op(op, args, cm, tm):
        if op == b"Do":
            images.append((str(args[0]), [float(x) for x in cm]))
    page.extract_text(visitor_text=visit_text, visitor_operand_before=visit_op)
    return texts, images


def _fill(page) -> float:
    """How far down the page's content area its lowest text or image reaches (0 to 1)."""
    height = float(page.mediabox.height)
    texts, images = _layout(page)
    ys = [y for y, _ in texts if BOTTOM_BAND < y < height - TOP_BAND]
    ys += [m[5] for _, m in images]
    if not ys:
        return 0.0
    return (height - TOP_BAND - min(ys)) / (height - TOP_BAND - BOTTOM_BAND)


def _sections(pdf) -> list[tuple[str, int, float]]:
    """Top-level sections (title, 1-based page, distance of the bookmark from the page top)."""
    out = []
    for item in pdf.outline:
        for sub in (item if isinstance(item, list) else []):
            if not isinstance(sub, list):
                top = float(sub.get("/Top", 0))
                out.append((str(sub.title), pdf.get_destination_page_number(sub) + 1,
                            float(pdf.pages[0].mediabox.height) - top))
    return out


def test_contents_list_gives_each_sections_page(pdf):
    """The contents list every section with the page it starts on (as its bookmark says), after
    the key messages and the recommendation, within the first two pages."""
    contents = next(p for t, p, _ in _sections(pdf) if t == "Contents")
    assert contents <= 2
    first = _text(pdf.pages[contents - 1])
    sections = [(t, p) for t, p, _ in _sections(pdf) if t != "Contents"]
    assert len(sections) >= 15
    for title, page in sections:
        assert re.search(re.escape(title) + r"[\s_.]*" + str(page) + r"\b", first), (title, page)


def test_no_page_is_under_a_third_full_except_where_a_section_ends(either_pdf):
    """A page may be less than a third full only when the next page starts a new section at
    its top (or it is the last page)."""
    pdf = either_pdf
    n = len(pdf.pages)
    starts_at_top = {p for _, p, top in _sections(pdf) if top < 80}
    thin = [(i, round(_fill(pdf.pages[i - 1]), 2)) for i in range(1, n)
            if _fill(pdf.pages[i - 1]) < 1 / 3 and (i + 1) not in starts_at_top]
    assert thin == []


def test_bookmarks_are_clean(pdf):
    """Each bookmark once, each title written once and with its spaces."""
    titles = _outline_titles(pdf.outline)
    for t in titles:
        half = len(t) // 2
        assert not (len(t) % 2 == 0 and t[:half] == t[half:]), t
        assert "  " not in t and "\n" not in t, t
    top = [t for t, _, _ in _sections(pdf)]
    assert len(top) == len(set(top))
    names = {plain_name(k) for k in budget_kpis(load_catalogue())}
    assert {"Savings plan is delivered (as part of achieving financial outturn)"} <= names & set(titles)


def test_charts_over_half_the_page_wide_at_full_size(pdf):
    """Every chart is drawn over half the page's width, and at least at its natural size, so
    that its smallest text (9 pt in the figure) prints at 9 pt or more."""
    width = float(pdf.pages[0].mediabox.width)
    seen = 0
    for page in pdf.pages:
        xobjects = page["/Resources"].get("/XObject", {}) if "/Resources" in page else {}
        for name, m in _layout(page)[1]:
            image = xobjects[name].get_object()
            if image.get("/Subtype") != "/Image" or image["/Width"] < 300:
                continue
            seen += 1
            assert m[0] >= width / 2, (name, m[0])
            natural = image["/Width"] / 100 * 72  # the figures are drawn at 100 dpi
            assert m[0] >= natural * 0.999, (name, m[0], natural)
    assert seen >= 10


def _pages_after(pdf, title: str) -> list[int]:
    start = next(p for t, p, _ in _sections(pdf) if t.startswith(title))
    later = sorted(p for t, p, _ in _sections(pdf) if p > start)
    end = later[0] if later else len(pdf.pages) + 1
    return list(range(start, min(max(end, start) + 1, len(pdf.pages) + 1)))  # the next may start on the last


def test_recommendation_and_contact_points_are_in_the_paper(pdf):
    text = " ".join(_text(p) for p in pdf.pages)
    assert "Members of the Panel are invited to consider this report." in text
    assert "Contact points for the report" in text and "For the Police and Crime Panel" in text
    assert "Risk management implications" in text


def test_numbers_behind_every_chart_and_the_local_areas_are_printed(pdf, quarter_run):
    import pandas as pd
    results = pd.read_csv(quarter_run.out / "results" / "kpis.csv")
    charted = results[results["headline"] & (results["status"] == "reported")
                      & ~results["spc_grain"].isin(["none"])]["kpi_id"]
    names = {k.id: plain_name(k) for k in load_catalogue()}
    appendix = " ".join(_text(pdf.pages[i - 1]) for i in _pages_after(pdf, "Appendix A"))
    for kpi in charted:
        assert names[kpi] in appendix, kpi
    areas = pd.read_csv(quarter_run.out / "results" / "breakdowns.csv")
    areas = set(areas.loc[areas["dimension"] == "local area", "category"].dropna()) - {"No location"}
    text = " ".join(_text(pdf.pages[i - 1]) for i in _pages_after(pdf, "Appendix D"))
    assert areas and all(a in text for a in areas)


def test_the_officers_annex_holds_every_hash_and_code_name_and_the_rest_none(pdf, quarter_run):
    """Every input file's SHA-256 and every KPI id are in the annex for officers; no page before
    it shows a fingerprint or an id."""
    import json
    inputs = json.loads((quarter_run.out / "inputs.json").read_text())["inputs"]
    annex_start = next(p for t, p, _ in _sections(pdf) if t.startswith("Annex for officers"))
    squeeze = lambda pages: re.sub(r"\s+", "", " ".join(pdf.pages[i].extract_text() for i in pages))  # noqa: E731
    annex = squeeze(range(annex_start - 1, len(pdf.pages)))
    public = squeeze(range(annex_start - 1))
    for entry in inputs:
        assert entry["sha256"] in annex, entry["file"]
        assert entry["sha256"][:12] not in public, entry["file"]
    for k in load_catalogue():
        assert k.id in annex, k.id
        assert not re.search(rf"(?<![a-z_]){re.escape(k.id)}(?![a-z_])", public), k.id
