"""In a real run, the crime notebook shows the local areas (charge rates with intervals, one SPC
chart per area on one scale) and the report carries them as its area appendix, after Methods."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.notebooks


def test_the_report_ends_with_the_area_appendix(quarter_run):
    page = (quarter_run.out / "report.html").read_text(encoding="utf-8")
    methods, appendix = page.index('id="methods"'), page.index('id="appendix-areas"')
    assert methods < appendix
    tail = page[appendix:]
    assert "Charge and summons rates by local area, 2024/25 Q4" in tail
    assert "Recorded crime by local area, 2024/25 Q4" in tail
    assert "SPC charts of Volume of total recorded crime, one per area" in tail
    assert "% to " in tail and "data:image/png;base64," in tail
    assert '<a href="#appendix-areas">' in page  # in the contents
    nb = (quarter_run.out / "notebooks" / "crime.ipynb").read_text(encoding="utf-8")
    assert "Appendix: local areas" in nb and "one per area" in nb
