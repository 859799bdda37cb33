"""The printed copy's HTML, before Chromium prints it: page numbers in the contents from the first
printing, the one-page summary printed tighter when it ran over a page, and what the screen keeps
collapsed opened on paper."""

from __future__ import annotations

from bs4 import BeautifulSoup

from kpi_lib.present.render import printable, summary_fitted, with_page_numbers

PAGE = """<nav class="contents"><ol id="contents-list">
<li><a href="#key-messages">Key messages</a><span class="page-no"></span></li>
<li><a href="#summary">Is it real? The KPIs</a><span class="page-no"></span></li>
<li><a href="#background">Background</a><span class="page-no"></span></li>
</ol></nav>
<section class="one-page"><h2 id="summary">Is it real? The KPIs</h2></section>
<h2 id="background">Background</h2>
<details><summary>Numbers</summary><p>1</p></details>
<h2 id="appendix-areas">Appendix D: local areas</h2>
<details><summary>By area</summary><p>2</p></details><div><details><summary>More</summary></details></div>
<h2 id="officers-annex">Annex</h2><details class="print-open"><summary>Ids</summary></details>
<details><summary>Not an appendix</summary></details>
"""


def _soup(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "html.parser")


def test_contents_get_the_pages_of_the_first_printing():
    soup = _soup(with_page_numbers(PAGE, {"Key messages": 1, "Is it real? The KPIs": 3, "Background": 4}))
    assert [s.get_text() for s in soup.select(".page-no")] == ["1", "3", "4"]
    # a title the first printing did not bookmark: no number, no guess
    soup = _soup(with_page_numbers(PAGE, {"Key messages": 1, "Is it real? The KPIs": 3}))
    assert [s.get_text() for s in soup.select(".page-no")] == ["1", "3", ""]


def test_a_summary_that_ran_over_a_page_is_printed_tighter():
    """Summary on page 3, the next section on page 5: page 4 held the summary's overflow."""
    soup = _soup(summary_fitted(PAGE, {"Key messages": 1, "Is it real? The KPIs": 3, "Background": 5}))
    assert "tight" in soup.select_one("section.one-page")["class"]
    assert summary_fitted(PAGE, {"Key messages": 1, "Is it real? The KPIs": 3, "Background": 4}) == PAGE
    assert summary_fitted(PAGE, {"Key messages": 1, "Is it real? The KPIs": 3}) == PAGE  # no page: no change


def test_appendices_and_print_open_details_are_open_on_paper():
    soup = _soup(printable(PAGE))
    opened = [d.summary.get_text() for d in soup.select("details") if d.has_attr("open")]
    # under the area appendix heading (up to the next heading), and the marked one; not the others
    assert opened == ["By area", "More", "Ids"]


AREAS = """<h2 id="appendix-areas">Appendix D: local areas</h2>
<div class="out"><p>Counts, not rates.</p>
<details><summary>By area</summary><table><caption>Counts</caption></table></details>
<details><summary>Rates</summary><p>Charged.</p><table><caption>Rates</caption></table></details>
<p class="chart-title">Crime by area, each month</p><figure><img src="data:image/png;base64,AA==" alt="a"></figure>
<details><summary>Numbers behind the area charts</summary><table><caption>Latest month</caption></table></details>
</div>
<h2 id="officers-annex">Annex</h2>
<div class="out"><table><caption>Settings</caption></table><p class="chart-title">Not moved</p><figure><img src="x.png" alt="b"></figure></div>
"""


def test_on_paper_an_appendix_chart_comes_before_the_tables_of_its_block():
    """A chart cannot break across pages and a table can: in an appendix the chart, with the
    table of its numbers, is printed ahead of the tables before it, so that only tables follow."""
    soup = _soup(printable(AREAS))
    first, annex = soup.select("div.out")
    order = [el.get_text(" ", strip=True) or el.name for el in first.find_all(["p", "figure", "caption"])]
    assert order == ["Counts, not rates.", "Crime by area, each month", "figure", "Latest month", "Counts",
                     "Charged.", "Rates"]
    # outside the appendices the page is printed in its own order
    assert [el.name for el in annex.find_all(["table", "p", "figure"])] == ["table", "p", "figure"]
    # a chart already ahead of every table stays where it is
    once = str(printable(AREAS))
    assert printable(once) == str(_soup(once))
