"""The report as a Panel member sees it, in real headless Chromium (Debian chromium, driven by
Playwright with executable_path; no browser download), plus the exports."""

from __future__ import annotations

import math
import shutil
import subprocess

import pandas as pd
import pytest

from kpi_lib.catalogue import budget_kpis, load_catalogue
from kpi_lib.render import CHROMIUM_FLAGS
from kpi_lib.runner import run_period

from conftest import REPO, chromium_path

pytestmark = [pytest.mark.browser, pytest.mark.notebooks]
WCAG = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=[f for f in CHROMIUM_FLAGS if f != "--headless"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def page(browser, quarter_run):
    requests = []
    pg = browser.new_page(viewport={"width": 1280, "height": 900})
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto((quarter_run.out / "report.html").as_uri())
    pg.wait_for_load_state("load")
    pg.requests = requests
    yield pg
    pg.close()


def test_all_25_kpi_names_are_visible(page):
    for k in budget_kpis(load_catalogue()):
        loc = page.locator("table.kpi-summary th[scope=row]", has_text=k.name).first
        assert loc.is_visible(), k.name


def test_no_code_or_prompts(page):
    assert page.locator(".jp-InputArea:visible, .jp-InputPrompt:visible, .jp-OutputPrompt:visible").count() == 0
    text = page.inner_text("body")
    assert "In [" not in text and "import " not in text and "start_family(" not in text


def test_every_image_has_meaningful_alt_text(page):
    imgs = page.locator("img")
    assert imgs.count() >= 10
    for i in range(imgs.count()):
        alt = imgs.nth(i).get_attribute("alt") or ""
        assert len(alt) > 40 and "chart" in alt.lower(), alt


def test_synthetic_banner_on_the_first_screen(page):
    banner = page.locator(".synthetic-banner")
    assert banner.is_visible() and "SYNTHETIC" in banner.inner_text()
    box = banner.bounding_box()
    assert box["y"] + box["height"] <= 900


def test_no_requests_leave_the_file(page):
    outside = [u for u in page.requests if not u.startswith(("file:", "data:", "about:"))]
    assert outside == []


def test_zero_axe_violations(page):
    from axe_playwright_python.sync_playwright import Axe
    res = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]})
    assert res.violations_count == 0, res.generate_report()


def test_screenshot_of_the_first_screen_for_review(page):
    review = REPO / "outputs" / "review"
    review.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(review / "first-screen.png"))
    assert (review / "first-screen.png").stat().st_size > 10_000


def test_summary_figures_equal_kpis_csv_and_xlsx(page, quarter_run):
    csv = pd.read_csv(quarter_run.out / "results" / "kpis.csv")
    head = csv[csv["headline"]].set_index("kpi_id")
    cells = page.locator("table.kpi-summary tbody tr")
    assert cells.count() == 25
    xlsx = pd.read_excel(quarter_run.out / "kpis.xlsx", sheet_name="KPI results")
    xhead = xlsx[xlsx["headline"]].set_index("kpi_id")
    for i in range(cells.count()):
        row = cells.nth(i)
        kpi = row.get_attribute("data-kpi")
        shown = row.locator("td.latest").get_attribute("data-value")
        value = head.loc[kpi, "value"] if head.loc[kpi, "status"] == "reported" else math.nan
        if pd.isna(value):
            assert shown == ""
        else:
            assert float(shown) == value
            assert xhead.loc[kpi, "value"] == pytest.approx(value, rel=1e-12)
    about = pd.read_excel(quarter_run.out / "kpis.xlsx", sheet_name="About")
    assert "SYNTHETIC SAMPLE DATA" in about.iloc[0, 0]
    assert csv["synthetic_data"].all()
    summary = pd.read_excel(quarter_run.out / "kpis.xlsx", sheet_name="Summary").set_index("kpi_id")
    assert summary.loc["trc_volume", "value"] == head.loc["trc_volume", "value"]


def test_pdf_renders_with_the_summary_first(quarter_run, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (Debian poppler-utils) not installed")
    pdf = quarter_run.out / "report.pdf"
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    assert list(tmp_path.glob("p*.png"))
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "3", str(pdf), "-"], capture_output=True, text=True).stdout
    text = " ".join(text.split())  # table cells wrap over lines
    assert "Budget KPI metrics report" in text and "At a glance" in text and "Volume of total recorded crime" in text


def test_data_strings_are_escaped(browser, small_sample, tmp_path):
    """A local area called <script>...</script> appears as text and never runs."""
    import pandas as pd
    bad = tmp_path / "xss"
    shutil.copytree(small_sample, bad)
    crimes = pd.read_parquet(bad / "crimes.parquet")
    crimes.loc[crimes.index[-50:], "local_area"] = "<script>window.__xss=1</script>"
    crimes.to_parquet(bad / "crimes.parquet", index=False)
    res = run_period("2024/25 Q4", bad, tmp_path / "out", jobs=2, quiet=True, pdf=False)
    pg = browser.new_page()
    pg.goto((res.out / "report.html").as_uri())
    assert pg.evaluate("window.__xss") is None
    assert "<script>window.__xss=1</script>" in pg.inner_text("body")
    pg.close()
