"""The report as a Panel member sees it, in real headless Chromium (Debian chromium, driven by
Playwright with executable_path; no browser download): every section visible, every in-page link
landing on a visible element, the one-page summary first, axe clean at desktop and phone width,
no sideways scrolling of the page on a phone, and a page at most half as tall as before."""

from __future__ import annotations

import math
import shutil

import pandas as pd
import pytest

from kpi_lib.config.catalogue import budget_kpis, load_catalogue
from kpi_lib.present.render import CHROMIUM_FLAGS
from kpi_lib.run.runner import run_period

from helpers import chromium_path

pytestmark = [pytest.mark.browser, pytest.mark.notebooks]
WCAG = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
# The sample 2024/25 Q4 report once stood about 38,000 px tall at 1280 px; at most half of that
# for the figures, plus about 2,000 px for the Panel paper's own sections (key messages and
# questions, Recommendation, Background, accountability, Implications, Contact points, the
# appendices' headings and the annex for officers, each collapsed where it is long), plus about
# 1,000 px for the local areas' tables and charts, open in their appendix, about 1,000 px for
# the sections' own lines on what each figure counts and why (weighted surveys, cohort charts), and
# about 1,000 px for the one-page summary's questions, each naming its figure as the front does.
MAX_HEIGHT = 24_000

VISIBLE_JS = """el => {
  if (!el) return false;
  const r = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'
    && el.closest('details:not([open]) > :not(summary)') === null;
}"""


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
        yield b
        b.close()


def _open(browser, report, width: int):
    requests: list[str] = []
    pg = browser.new_page(viewport={"width": width, "height": 900})
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto(report.as_uri())
    pg.wait_for_load_state("load")
    pg.requests = requests
    return pg


@pytest.fixture(scope="module")
def page(browser, quarter_run):
    pg = _open(browser, quarter_run.out / "report.html", 1280)
    yield pg
    pg.close()


@pytest.fixture(scope="module")
def phone(browser, quarter_run):
    pg = _open(browser, quarter_run.out / "report.html", 390)
    yield pg
    pg.close()


def test_every_section_heading_is_visible(page):
    heads = page.locator("main h2")
    assert heads.count() >= 10
    for i in range(heads.count()):
        h = heads.nth(i)
        assert h.evaluate(VISIBLE_JS), h.inner_text()
    titles = [heads.nth(i).inner_text() for i in range(heads.count())]
    for expected in ("Recommendation", "Background", "What changed since the last report",
                     "The budget KPIs in the Table 1 layout", "Crime volumes and charge/summons outcomes",
                     "Assurance and accountability", "Implications", "Contact points for the report",
                     "Appendix C: how the figures are made", "Appendix D: local areas", "Annex for officers: how this report was produced"):
        assert expected in titles


def test_reading_guides_and_caveats_are_visible(page):
    guide = page.get_by_text("Reading these figures.").first
    assert guide.evaluate(VISIBLE_JS)


def test_contents_lists_every_section_and_every_in_page_link_lands_on_a_visible_element(page):
    contents = page.locator("nav.contents a")
    sections = page.locator("main h2[id]:not(.contents-title)")
    assert contents.count() == sections.count() >= 10
    links = page.locator("a[href^='#']")
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href")
        target = page.locator(f"[id='{href[1:]}']")
        assert target.count() == 1, href
        if href == "#content":
            continue  # the skip link's target is the main element itself
        assert target.evaluate(VISIBLE_JS), href


def test_clicking_links_scrolls_to_the_target(page):
    for href in ("#summary", "#family-crime", "#kpi-rape_volume", "#methods"):
        page.locator(f"nav.contents a[href='{href}'], table.verdicts a[href='{href}']").first.click()
        box = page.locator(f"[id='{href[1:]}']").bounding_box()
        assert box is not None and -2 <= box["y"] < 900, href
    page.evaluate("window.scrollTo(0, 0)")


def test_ids_are_unique(page):
    dupes = page.evaluate("""(() => { const seen = {}; const d = [];
        document.querySelectorAll('[id]').forEach(e => { if (seen[e.id]) d.push(e.id); seen[e.id] = 1; });
        return d; })()""")
    assert dupes == []


def test_the_paper_opens_with_its_messages_then_the_one_page_summary(page):
    """The opening section (the recommendation), then the contents, then the one-page summary."""
    heads = [h.get_attribute("id") for h in page.locator("main h2[id]:not(.contents-title)").all()]
    summary = heads.index("summary")
    assert "recommendation" in heads[:summary]
    assert page.locator("h2#summary").inner_text().startswith("Is it real?")
    rows = page.locator("section.one-page table.verdicts tbody tr")
    assert rows.count() == len(budget_kpis(load_catalogue()))
    links = [a.get_attribute("href") for a in page.locator("nav.contents li a").all()]
    assert links == [f"#{h}" for h in heads]
    # the contents come after the opening section, before the summary
    order = page.evaluate("""(() => { const n = document.querySelector('nav.contents');
        const s = document.getElementById('summary'); const r = document.getElementById('recommendation');
        return [r.compareDocumentPosition(n) & Node.DOCUMENT_POSITION_FOLLOWING,
                n.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_FOLLOWING]; })()""")
    assert all(order)


def test_summary_shows_kpis_csv_values_and_verdicts_never_recomputed(page, quarter_run):
    from kpi_lib.analyse.verdicts import VERDICTS, flagged
    csv = pd.read_csv(quarter_run.out / "results" / "kpis.csv")
    head = csv[csv["headline"]].set_index("kpi_id")
    asked = set(flagged(csv)["kpi_id"])  # the one list every summary list comes from
    rows = page.locator("table.verdicts tbody tr")
    for i in range(rows.count()):
        row = rows.nth(i)
        kpi = row.get_attribute("data-kpi")
        r = head.loc[kpi]
        shown = row.locator("td.latest").get_attribute("data-value")
        if r["status"] == "reported":
            assert float(shown) == r["value"]
        else:
            assert shown == ""
        assert row.get_attribute("data-verdict") == r["verdict_code"]
        verdict = row.locator("td.verdict").inner_text()
        assert VERDICTS[r["verdict_code"]].symbol in verdict and r["verdict"] in verdict
        question = row.locator("td.question").inner_text().strip()
        assert bool(question) == (kpi in asked), kpi
        assert row.locator("th a").get_attribute("href") == f"#kpi-{kpi}"


def test_every_sparkline_and_chart_has_alt_text(page):
    sparks = page.locator("svg.spark")
    kpis = budget_kpis(load_catalogue())
    # no sparkline for a yes/no KPI: it says so instead
    assert sparks.count() == len([k for k in kpis if k.unit != "flag"])
    assert page.locator("table.verdicts .spark-none").count() == len([k for k in kpis if k.unit == "flag"])
    for i in range(sparks.count()):
        alt = sparks.nth(i).get_attribute("aria-label") or ""
        assert alt and (" now" in alt or "no quarterly history" in alt), alt
    imgs = page.locator("img")
    assert imgs.count() >= 10
    for i in range(imgs.count()):
        alt = imgs.nth(i).get_attribute("alt") or ""
        assert len(alt) > 40 and "chart" in alt.lower(), alt


def test_numbers_and_breakdowns_are_collapsed(page):
    details = page.locator("details")
    assert details.count() >= 20
    assert page.locator("details[open]").count() == 0
    summaries = [details.nth(i).locator("summary").inner_text() for i in range(details.count())]
    assert any(s.startswith("Numbers behind the chart") for s in summaries)
    assert any(s.startswith("By local area") for s in summaries)
    assert any(s.startswith("How this figure was made") for s in summaries)


def test_breakdowns_are_wide_one_row_per_area(page):
    box = page.locator("details", has=page.locator("summary", has_text="By local area")).first
    box.locator("summary").click()
    try:
        assert box.locator("table").evaluate(VISIBLE_JS)
        heads = box.locator("thead th").all_inner_texts()
        rows = box.locator("tbody tr")
        names = box.locator("tbody td:first-child").all_inner_texts()
        assert heads[0] == "Local area" and len(heads) > 2
        assert len(set(names)) == rows.count() > 3  # each area once, never a KPI name on every row
        assert not any(n in heads for n in names)
    finally:
        box.locator("summary").click()


def test_no_code_prompts_paths_or_notebook_instructions(page):
    """The public part: everything before the annex for officers (which names files and code)."""
    assert page.locator(".jp-CodeCell .jp-InputArea:visible, .jp-InputPrompt:visible, .jp-OutputPrompt:visible").count() == 0
    text = page.inner_text("body").split("Annex for officers")[0]
    for bad in ("In [", "import ", "start_family(", "top to bottom", "JupyterLab", "kpi_lib/", "params/",
                "/tmp/", ".yaml", "UTC instants", "Kish"):
        assert bad not in text, bad


def test_synthetic_banner_on_the_first_screen(page):
    banner = page.locator(".synthetic-banner")
    assert banner.is_visible() and "SYNTHETIC" in banner.inner_text()
    box = banner.bounding_box()
    assert box["y"] + box["height"] <= 900


def test_no_requests_leave_the_file(page):
    outside = [u for u in page.requests if not u.startswith(("file:", "data:", "about:"))]
    assert outside == []


@pytest.mark.parametrize("width", [1280, 390])
def test_zero_axe_violations(browser, quarter_run, width):
    from axe_playwright_python.sync_playwright import Axe
    pg = _open(browser, quarter_run.out / "report.html", width)
    try:
        res = Axe().run(pg, options={"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]})
        assert res.violations_count == 0, res.generate_report()
    finally:
        pg.close()


def test_phone_width_has_no_sideways_scrolling_tables_included(phone):
    """At 390 px: the page never scrolls sideways, and no table scrolls inside its box either
    (the appendices and the annex opened too): each table shows one card per row; the summary
    one card per KPI."""
    phone.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    try:
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        wide = phone.evaluate("""(() => [...document.querySelectorAll('.table-scroll, table, pre, code, dl')]
            .filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > 391)
            .map(e => (e.className || e.tagName) + ': ' + e.scrollWidth + ' > ' + e.clientWidth))()""")
        assert wide == []
        cards = phone.locator("section.one-page table.verdicts tbody tr")
        assert cards.count() == len(budget_kpis(load_catalogue()))
        assert cards.first.evaluate("e => getComputedStyle(e).display") == "block"
    finally:
        phone.evaluate("document.querySelectorAll('details').forEach(d => d.open = false)")


def test_screenshots_for_review(page, phone, tmp_path):
    for name, pg in (("desktop", page), ("phone", phone)):
        pg.screenshot(path=str(tmp_path / f"{name}.png"))
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000


def test_summary_figures_equal_kpis_csv_and_xlsx(page, quarter_run):
    csv = pd.read_csv(quarter_run.out / "results" / "kpis.csv")
    head = csv[csv["headline"]].set_index("kpi_id")
    cells = page.locator("table.kpi-summary tbody tr")
    assert cells.count() == 25
    xlsx = pd.read_excel(quarter_run.out / "kpis.xlsx", sheet_name="data")  # full precision
    xhead = xlsx[xlsx["Headline row"] == "Yes"].set_index("KPI id")
    for i in range(cells.count()):
        row = cells.nth(i)
        kpi = row.get_attribute("data-kpi")
        shown = row.locator("td.latest").get_attribute("data-value")
        value = head.loc[kpi, "value"] if head.loc[kpi, "status"] == "reported" else math.nan
        if pd.isna(value):
            assert shown == ""
        else:
            assert float(shown) == value
            assert xhead.loc[kpi, "Value"] == pytest.approx(value, rel=1e-12)
    about = pd.read_excel(quarter_run.out / "kpis.xlsx", sheet_name="About", header=None)
    assert "SYNTHETIC SAMPLE DATA" in about.iloc[1, 0]
    summary = pd.read_excel(quarter_run.out / "kpis.xlsx", sheet_name="Summary").set_index("KPI id")
    assert summary.loc["trc_volume", "Latest"] == head.loc["trc_volume", "value"]  # a count: as shown
    assert list(summary.columns)[0] == "KPI" and summary.loc["trc_volume", "KPI"] == "Volume of total recorded crime"


def test_data_strings_and_commentary_are_escaped_and_axe_stays_clean(browser, small_sample, tmp_path):
    """A local area called <script>...</script> and a script in the force's commentary appear as
    text and never run; the page with commentary still has no axe violations."""
    from axe_playwright_python.sync_playwright import Axe
    bad = tmp_path / "xss"
    shutil.copytree(small_sample, bad)
    crimes = pd.read_parquet(bad / "crimes.parquet")
    crimes.loc[crimes.index[-50:], "local_area"] = "<script>window.__xss=1</script>"
    crimes.to_parquet(bad / "crimes.parquet", index=False)
    (bad / "commentary.md").write_text("# 2024/25 Q4\n\n## rape_volume\nMore reports. "
                                       "<script>window.__xss2=1</script>\n", encoding="utf-8")
    res = run_period("2024/25 Q4", bad, tmp_path / "out", jobs=2, quiet=True, pdf=False,
                     commentary_file=bad / "commentary.md")
    pg = browser.new_page()
    pg.goto((res.out / "report.html").as_uri())
    assert pg.evaluate("window.__xss") is None and pg.evaluate("window.__xss2") is None
    assert "More reports. <script>window.__xss2=1</script>" in pg.locator(".commentary").first.inner_text()
    link = pg.locator("p.commentary-link a[href='#commentary-rape_volume']")
    assert link.count() == 1 and link.evaluate(VISIBLE_JS)
    pg.locator("details", has=pg.locator("summary", has_text="Recorded crime by local area")).first.locator("summary").click()
    assert "<script>window.__xss=1</script>" in pg.inner_text("body")
    res_axe = Axe().run(pg, options={"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]})
    assert res_axe.violations_count == 0, res_axe.generate_report()
    pg.close()


def test_sample_report_is_at_most_half_as_tall_as_before(browser, full_quarter_run):
    """The full synthetic sample, 2024/25 Q4, at 1280 px: at most about 23,000 px (was ~38,000)."""
    pg = _open(browser, full_quarter_run.out / "report.html", 1280)
    try:
        height = pg.evaluate("document.documentElement.scrollHeight")
        assert height <= MAX_HEIGHT, height
        heads = [h.get_attribute("id") for h in pg.locator("main h2[id]:not(.contents-title)").all()]
        assert heads.index("recommendation") < heads.index("summary") < heads.index("background")
    finally:
        pg.close()
