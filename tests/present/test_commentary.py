"""Force commentary: a good file, raw HTML shown as text, clear errors for an unknown KPI id or
another period, and "worse" KPIs without commentary listed as "no commentary given"."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_lib.core.errors import ParameterError
from kpi_lib.present.commentary import load_commentary, missing_commentary, parse_commentary

KNOWN = ["rape_volume", "trc_charge_rate", "calls_101_within_30s", "robbery_volume"]

GOOD = """# 2024/25 Q4

## rape_volume
More victims are coming forward after the **Operation Soteria** campaign.

- 40 more reports in February

## trc_charge_rate
Outcomes for this quarter are still being recorded.
"""


def test_a_good_file_gives_each_kpi_its_rendered_text(tmp_path: Path):
    f = tmp_path / "commentary.md"
    f.write_text(GOOD, encoding="utf-8")
    c = load_commentary(f, "2024/25 Q4", KNOWN)
    assert list(c) == ["rape_volume", "trc_charge_rate"]
    assert c["rape_volume"].html == ("<p>More victims are coming forward after the <strong>Operation "
                                     "Soteria</strong> campaign.</p>\n<ul>\n<li>40 more reports in "
                                     "February</li>\n</ul>\n")
    assert c["rape_volume"].line == 3
    assert c["trc_charge_rate"].markdown == "Outcomes for this quarter are still being recorded."


def test_period_heading_may_use_a_hyphen_and_other_periods_are_ignored():
    text = "# 2024/25 Q3\n\n## robbery_volume\nOld words.\n\n# 2024/25-Q4\n\n## rape_volume\nNew words.\n"
    c = parse_commentary(text, "2024/25 Q4", KNOWN)
    assert list(c) == ["rape_volume"]


def test_raw_html_and_scripts_are_shown_as_text_never_run():
    text = ("# 2024/25 Q4\n\n## rape_volume\nSee <script>alert('x')</script> and "
            "<img src=x onerror=alert(1)> and [a link](javascript:alert(1)).\n\n<div>block</div>\n")
    html = parse_commentary(text, "2024/25 Q4", KNOWN)["rape_volume"].html
    assert "<script>" not in html and "<img" not in html and "<div>" not in html
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;div&gt;block&lt;/div&gt;" in html
    assert 'href="javascript' not in html


def test_unknown_kpi_id_is_one_clear_error_with_line_and_suggestion():
    text = "# 2024/25 Q4\n\n## rape_volumes\nWords.\n"
    with pytest.raises(ParameterError) as err:
        parse_commentary(text, "2024/25 Q4", KNOWN, source="commentary.md")
    assert str(err.value) == ("commentary.md, line 3: unknown KPI id 'rape_volumes' (did you mean "
                              "'rape_volume'?); expected one of the ids listed by `kpi list`")


def test_commentary_for_another_period_is_an_error():
    with pytest.raises(ParameterError, match=r"commentary\.md: commentary is written for '2024/25 Q3', "
                                             r"but this report is for '2024/25 Q4'"):
        parse_commentary("# 2024/25 Q3\n\n## rape_volume\nWords.\n", "2024/25 Q4", KNOWN)


@pytest.mark.parametrize(("text", "message"), [
    ("## rape_volume\nWords.\n", "no period heading"),
    ("Intro\n\n# 2024/25 Q4\n## rape_volume\nWords.\n", "line 1: text before the first period heading"),
    ("# 2024/25 Q4\nStray words.\n## rape_volume\nWords.\n", "line 2: text outside a KPI section"),
    ("# 2024/25 Q4\n## rape_volume\nA.\n## rape_volume\nB.\n", "line 4: 'rape_volume' has a second section"),
    ("# 2024/25 Q4\n## rape_volume\n\n## robbery_volume\nB.\n", "line 2: the section for 'rape_volume' is empty"),
])
def test_malformed_files_name_the_line(text: str, message: str):
    with pytest.raises(ParameterError, match=message):
        parse_commentary(text, "2024/25 Q4", KNOWN)


def test_missing_file_and_no_file(tmp_path: Path):
    assert load_commentary(None, "2024/25 Q4", KNOWN) == {}
    with pytest.raises(ParameterError, match="commentary file not found: nope.md"):
        load_commentary(tmp_path / "nope.md", "2024/25 Q4", KNOWN)


def _results(codes: dict[str, str]) -> pd.DataFrame:
    rows = [{"kpi_id": k, "headline": True, "verdict_code": v} for k, v in codes.items()]
    rows.append({"kpi_id": "robbery_volume", "headline": False, "verdict_code": "worse"})  # not headline
    return pd.DataFrame(rows)


def test_worse_kpis_without_commentary_are_listed():
    c = parse_commentary(GOOD, "2024/25 Q4", KNOWN)
    res = _results({"rape_volume": "worse", "calls_101_within_30s": "worse", "trc_charge_rate": "too_early"})
    assert missing_commentary(res, c) == ["calls_101_within_30s"]
    assert missing_commentary(res, {}) == ["rape_volume", "calls_101_within_30s"]


def test_report_section_shows_commentary_beside_figures_and_lists_missing(tmp_path: Path):
    from kpi_lib.analyse.verdicts import VERDICTS
    from kpi_lib.config.catalogue import load_catalogue
    from kpi_lib.core.periods import Period
    from kpi_lib.present.report import ReportRun, commentary_html

    cat = load_catalogue()
    res = pd.DataFrame([
        {"kpi_id": "rape_volume", "name": "Volume of rape offences", "headline": True, "status": "reported",
         "value": 314.0, "unit": "count", "verdict_code": "worse", "verdict": "Worse, and a real change"},
        {"kpi_id": "calls_101_within_30s", "name": "% of 101 calls", "headline": True, "status": "reported",
         "value": 53.0, "unit": "percent", "verdict_code": "worse", "verdict": "Worse, and a real change"},
    ])
    c = parse_commentary("# 2024/25 Q4\n## rape_volume\nMore <b>reports</b>.\n", "2024/25 Q4", [k.id for k in cat])
    rep = ReportRun(Period.parse("2024/25 Q4"), tmp_path, res, pd.DataFrame(), None, cat, {},
                    commentary=c, verdicts=VERDICTS)
    page = commentary_html(rep)
    assert '<h3 id="commentary-rape_volume">Volume of rape offences</h3>' in page
    assert "<strong>314</strong>" in page and f"{VERDICTS['worse'].symbol}</span> Worse, and a real change" in page
    assert "More &lt;b&gt;reports&lt;/b&gt;." in page
    assert '<a href="#kpi-calls_101_within_30s">% of 101 calls answered within 30 seconds</a>: no commentary given' in page


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200))
def test_any_text_under_a_kpi_heading_never_yields_raw_tags(body: str):
    """Whatever analysts type, the rendered commentary holds no HTML element it did not create."""
    body = body.replace("\r", "\n")
    text = f"# 2024/25 Q4\n\n## rape_volume\nx {body}\n"
    try:
        html = parse_commentary(text, "2024/25 Q4", KNOWN)["rape_volume"].html
    except ParameterError:
        return  # e.g. the body itself holds a heading line: an error, never unsafe output
    allowed = {"p", "/p", "em", "/em", "strong", "/strong", "code", "/code", "ul", "/ul", "ol", "/ol",
               "li", "/li", "a", "/a", "h3", "/h3", "h4", "/h4", "h5", "/h5", "h6", "/h6", "pre", "/pre",
               "blockquote", "/blockquote", "hr", "br", "img"}
    import re
    tags = {m.group(1).lower() for m in re.finditer(r"<(/?[a-zA-Z0-9]+)", html)}
    assert tags <= allowed, tags
    assert "<script" not in html.lower() and "href=\"javascript" not in html.lower()
