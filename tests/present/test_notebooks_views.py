"""What the family notebooks show, from hand-made rows: KPI cards (verdict as given, a title that
states the finding, annotations drawn and listed, numbers collapsed), wide breakdowns, areas
outside the force in a note, source words, and chart axes that say the grain."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_lib.config.catalogue import load_catalogue
from kpi_lib.present.charts import axis_label, chart_title, spc_alt_text, spc_figure
from kpi_lib.present.views import breakdown_wide, card_html, outside_areas, peers_html, sources_html


@dataclass(frozen=True)
class Ann:  # the fields of kpi_lib.config.annotations.Annotation the views read
    date: date
    text: str


def _kpi(kpi_id: str):
    return {k.id: k for k in load_catalogue()}[kpi_id]


def _chart(n: int = 24) -> pd.DataFrame:
    x = pd.date_range("2023-04-01", periods=n, freq="MS")
    y = [100 + (i % 5) for i in range(n)]
    return pd.DataFrame({"x": x, "y": y, "mean": 102.0, "lpl": 95.0, "upl": 109.0,
                         "variation": ["common_cause"] * (n - 1) + ["concern_high"],
                         "rule": [""] * (n - 1) + ["outside"], "segment": 0})


def _row(**kw) -> dict:
    base = {"kpi_id": "rape_volume", "name": "Volume of rape offences", "status": "reported", "value": 314.0,
            "unit": "count", "basis": "", "note": "", "provisional": False, "spc_grain": "month",
            "spc_variation": "concern_high", "spc_trial": False, "change_last_year": 51.0,
            "change_last_year_pct": 19.39, "last_year_value": 263.0, "last_year_test": "exact test for two Poisson counts",
            "last_year_p_value": 0.03, "last_year_significant": 1.0,
            "verdict_code": "worse", "verdict": "Worse, and a real change"}
    return {**base, **kw}


def _verdicts():
    from kpi_lib.analyse.verdicts import VERDICTS
    return VERDICTS


def test_axis_labels_say_per_month_or_each_quarter():
    assert axis_label("count", "month") == "Number per month"
    assert axis_label("percent", "month") == "Per cent, each month"
    assert axis_label("minutes", "quarter") == "Minutes, each quarter"
    assert axis_label("count", "none") == "Number"


def test_chart_title_states_the_verdict_as_given():
    assert chart_title("Rape offences", _row(), "month") == "Worse, and a real change: Rape offences, each month"
    no_verdict = _row(verdict="", spc_variation="common_cause")
    assert chart_title("Rape offences", no_verdict, "quarter") == \
        "Rape offences, each quarter: latest point common cause variation"


def test_card_has_heading_target_verdict_chart_annotations_and_collapsed_numbers():
    html = card_html(_row(), _kpi("rape_volume"), "2024/25 Q4", _chart(),
                     [Ann(date(2023, 10, 1), "A known change in <recording>.")], _verdicts(), "month")
    assert '<h3 id="kpi-rape_volume">Volume of rape offences</h3>' in html
    assert f'{_verdicts()["worse"].symbol}</span> Worse, and a real change: Volume of rape offences, each month' in html
    assert "<img src=\"data:image/png;base64," in html and 'alt="SPC chart of Volume of rape offences' in html
    assert "Marker 1, October 2023: A known change in &lt;recording&gt;." in html  # in the alt text
    assert "<li>1 Oct 2023: A known change in &lt;recording&gt;.</li>" in html  # and under the chart
    assert "<details><summary>Numbers behind the chart</summary>" in html
    assert "p = 0.030: a real change" in html


def test_card_without_a_chart_shows_the_verdict_line_and_no_figure():
    row = _row(kpi_id="finance_outturn_within_budget", unit="flag", value=0.0, spc_grain="none",
               verdict_code="worse", verdict="Worse: no this year, yes last year")
    html = card_html(row, _kpi("finance_outturn_within_budget"), "2024/25 Q4", None, [], _verdicts(), "none")
    assert "<img" not in html and "<details>" not in html
    assert "<strong>Verdict:</strong>" in html and "Worse: no this year, yes last year" in html


def test_annotations_outside_the_chart_are_not_drawn():
    html = card_html(_row(), _kpi("rape_volume"), "2024/25 Q4", _chart(),
                     [Ann(date(2019, 6, 1), "Long before the chart starts.")], _verdicts(), "month")
    assert "Long before" not in html


def test_figure_draws_a_numbered_marker_and_the_key_above():
    fig = spc_figure(_chart(), unit="count", grain="month", annotations=[Ann(date(2023, 10, 1), "x" * 12)])
    ax = fig.axes[0]
    legend = ax.get_legend()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    # the key sits above the plotting area (its bottom edge at or above the axes' top edge)
    assert legend.get_window_extent(renderer).y0 >= ax.get_window_extent(renderer).y1 - 1
    labels = [t.get_text() for t in legend.get_texts()]
    assert "Known change (numbered)" in labels and "Special cause concern" in labels
    assert any(t.get_text() == "1" for t in ax.texts)
    assert ax.get_ylabel() == "Number per month"
    assert len([t for t in ax.get_xticklabels() if t.get_text()]) <= 8
    import matplotlib.pyplot as plt
    plt.close(fig)


@pytest.mark.parametrize("unit, annotated", [("count", True), ("percent", False)])
def test_png_is_the_tight_crop_matplotlib_would_make(unit, annotated):
    """png_bytes measures the tight box once instead of letting savefig draw an extra time: the
    bytes are those of ``savefig(bbox_inches="tight")`` with the same margin, and the crop fits the
    key above the plot and the axis labels (not the whole 6.4 x 3.1 inch canvas)."""
    import io

    from PIL import Image

    from kpi_lib.present.charts import PAD_INCHES, png_bytes
    anns = [Ann(date(2023, 10, 1), "a known change")] if annotated else []
    ref = spc_figure(_chart(), unit=unit, grain="month", target=104.0, annotations=anns)
    buf = io.BytesIO()
    ref.savefig(buf, format="png", metadata={"Software": None}, bbox_inches="tight", pad_inches=PAD_INCHES)
    fast = png_bytes(spc_figure(_chart(), unit=unit, grain="month", target=104.0, annotations=anns))
    assert fast == buf.getvalue()
    width, height = Image.open(io.BytesIO(fast)).size
    assert width < 640 and height < 310 + 40
    import matplotlib.pyplot as plt
    plt.close(ref)


@pytest.mark.parametrize("n", [5, 24, 84])
def test_pinned_date_ticks_draw_the_same_chart(n, monkeypatch):
    """Pinning the date ticks (fix_date_ticks) changes no pixel: the same PNG bytes as with the
    automatic date locator and formatter, for a short, a two-year and a seven-year series."""
    from kpi_lib.present import charts
    chart = _chart(n)
    pinned = charts.png_bytes(spc_figure(chart, unit="count", grain="month"))
    fig = spc_figure(chart, unit="count", grain="month")
    assert type(fig.axes[0].xaxis.get_major_locator()).__name__ == "FixedLocator"
    charts.png_bytes(fig)
    monkeypatch.setattr(charts, "fix_date_ticks", lambda ax: None)
    automatic = spc_figure(chart, unit="count", grain="month")
    assert type(automatic.axes[0].xaxis.get_major_locator()).__name__ == "AutoDateLocator"
    assert charts.png_bytes(automatic) == pinned


def test_percent_limits_are_drawn_clipped_to_0_100():
    chart = _chart().assign(lpl=-3.0, upl=104.0, mean=50.0)
    fig = spc_figure(chart, unit="percent", grain="month")
    ys = [y for line in fig.axes[0].get_lines() for y in line.get_ydata() if line.get_linestyle() == ":"]
    assert min(ys) == 0 and max(ys) == 100
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_alt_text_counts_special_cause_points():
    alt = spc_alt_text(_chart(), "Rape", "count", "month", None)
    assert alt.startswith("SPC chart of Rape, one point per month from Apr 2023 to Mar 2025 (24 points).")
    assert "1 of 24 points show special cause variation." in alt


def _bd():
    rows = []
    for area, a, b in (("Bromsgrove", 12.7, 55.0), ("Herefordshire", 11.9, 61.0), ("No location", 14.0, 40.0)):
        rows.append({"kpi_id": "response_grade1_median", "dimension": "local area", "category": area, "value": a, "basis": ""})
        rows.append({"kpi_id": "response_grade2_median", "dimension": "local area", "category": area, "value": b, "basis": ""})
    rows.append({"kpi_id": "trc_charge_rate", "dimension": "outcome group", "category": "Charge", "value": 8.0, "basis": "cohort"})
    rows.append({"kpi_id": "trc_charge_rate", "dimension": "outcome group", "category": "Charge", "value": 9.0, "basis": "in_period"})
    return pd.DataFrame(rows)


def test_breakdowns_are_wide_one_row_per_category():
    names = {"response_grade1_median": "Grade 1", "response_grade2_median": "Grade 2", "trc_charge_rate": "TRC"}
    units = {"response_grade1_median": "minutes", "response_grade2_median": "minutes", "trc_charge_rate": "percent"}
    wide = breakdown_wide(_bd(), names, units, "local area")
    assert wide.columns.tolist() == ["Local area", "Grade 1", "Grade 2"]
    assert wide.values.tolist() == [["Bromsgrove", "12.7 min", "55.0 min"], ["Herefordshire", "11.9 min", "61.0 min"],
                                    ["No location", "14.0 min", "40.0 min"]]
    both = breakdown_wide(_bd(), names, units, "outcome group")
    assert both.columns.tolist() == ["Outcome group", "TRC (cohort basis)", "TRC (in-period basis)"]
    assert breakdown_wide(_bd(), names, units, "crime type").empty


def test_no_location_and_areas_outside_the_force_go_to_a_note():
    bd = _bd()
    bd = bd[bd["dimension"] == "local area"].assign(kpi_id=lambda d: d["kpi_id"].str.replace(
        "response_grade1_median", "robbery_volume").str.replace("response_grade2_median", "trc_volume"))
    kept, note = outside_areas(bd)
    assert sorted(set(kept["category"])) == ["Bromsgrove", "Herefordshire"]
    # counted in total recorded crime (not the first volume column)
    assert note == "Not in the table, because they are not among the force's own areas: No location (40 crimes)."
    kept, note = outside_areas(bd, own_areas=["Bromsgrove"])
    assert sorted(set(kept["category"])) == ["Bromsgrove"]
    assert "Herefordshire (61 crimes); No location (40 crimes)" in note


def test_sources_say_what_the_source_cannot_give_and_licence_only_for_public_data():
    res = pd.DataFrame([{"kpi_id": "trc_volume", "name": "TRC", "status": "reported", "source": "police_uk", "note": ""},
                        {"kpi_id": "rape_volume", "name": "Rape", "status": "not_available_from_source",
                         "source": "none", "note": "police.uk has one violence and sexual offences category"}])
    html = sources_html(res, ["Files revised over time."], "Open Government Licence v3.0")
    assert "data.police.uk street files" in html
    assert "Rape (police.uk has one violence and sexual offences category)" in html
    assert "not a delay" in html and "Licence:</em> Open Government Licence v3.0" in html
    own = sources_html(res.assign(source="canonical"), [], "Open Government Licence v3.0")
    assert "Licence" not in own


def test_peers_table_is_collapsed_and_says_what_the_figures_are():
    t = pd.DataFrame([{"category": "trc", "measure": "count", "force": 19847.0, "group": 18000.0, "england_and_wales": 1.5e6}])
    from kpi_lib.config.categories import load_categories
    html = peers_html(t, {"force": "West Mercia", "group": ["Avon and Somerset"], "group_name": "Most similar"},
                      "2024/25 Q4", load_categories().labels)
    assert html.startswith("<details><summary>How the force compares with similar forces</summary>")
    assert "counts and shares, not rates" in html and "Total recorded crime" in html and "19,847" in html
    assert peers_html(t.iloc[:0], {}, "2024/25 Q4") == ""


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", "No location"]), st.sampled_from(["k1", "k2"]),
                          st.floats(0, 1e5, allow_nan=False)), min_size=1, max_size=12,
                unique_by=lambda t: (t[0], t[1])))
def test_wide_breakdown_keeps_every_value_once(rows):
    bd = pd.DataFrame([{"kpi_id": k, "dimension": "local area", "category": c, "value": v, "basis": ""}
                       for c, k, v in rows])
    wide = breakdown_wide(bd, {"k1": "K1", "k2": "K2"}, {"k1": "count", "k2": "count"}, "local area")
    assert len(wide) == len({c for c, _, _ in rows})
    filled = (wide.drop(columns="Local area") != "—").to_numpy().sum()
    assert filled == len(rows)
    assert not math.isnan(filled)


def test_verdicts_module_symbols_are_distinct_shapes():
    sym = [v.symbol for v in _verdicts().values()]
    assert len(set(sym)) == len(sym)


@pytest.mark.parametrize("code", ["worse", "too_early", "normal"])
def test_card_never_restates_the_verdict_differently(code):
    words = {"worse": "Worse, and a real change", "too_early": "Too early to tell (43% of outcomes pending)",
             "normal": "Normal ups and downs"}[code]
    html = card_html(_row(verdict_code=code, verdict=words), _kpi("rape_volume"), "2024/25 Q4", _chart(), [],
                     _verdicts(), "month")
    others = {"Better, and a real change", "Meeting target", "Missing target", "On track", "Stable"} - {words}
    assert words in html and not any(o in html for o in others)


def test_licence_line_names_only_the_sources_used():
    from kpi_lib.inputs.kinds import licence_text
    assert licence_text(["police_uk"]) == ("Contains public sector information licensed under the Open Government "
                                           "Licence v3.0. Source: data.police.uk street-level crime files.")
    both = licence_text(["home_office", "police_uk", "canonical"])
    assert "Home Office" in both and "data.police.uk" in both
    assert licence_text(["canonical"]) == ""


def test_finish_html_unique_ids_no_anchor_links_contents_and_commentary_links():
    from kpi_lib.present.render import finish_html
    page = ('<html><body><nav><ol id="contents-list"></ol></nav><main>'
            '<h2 id="summary">Is it real?</h2><a class="anchor-link" href="#x">¶</a>'
            '<h3 id="The-KPIs">A</h3><h3 id="The-KPIs">B</h3><h3 id="The-KPIs-2">C</h3>'
            '<h2 id="commentary">What the force says</h2><h3 id="commentary-rape_volume">Rape</h3>'
            '<h2>No id: not listed</h2><article><h3 id="kpi-rape_volume">Volume of rape offences</h3></article>'
            '</main></body></html>')
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(finish_html(page), "html.parser")
    assert soup.select("a.anchor-link") == []
    ids = [el["id"] for el in soup.find_all(id=True)]
    assert len(ids) == len(set(ids)) and "The-KPIs-3" in ids
    assert [(a["href"], a.get_text()) for a in soup.select("#contents-list a")] == \
        [("#summary", "Is it real?"), ("#commentary", "What the force says")]
    link = soup.find(id="kpi-rape_volume").find_next_sibling("p")
    assert link.a["href"] == "#commentary-rape_volume"


def test_chart_numbers_show_percent_limits_clipped_at_0():
    import pandas as pd

    from kpi_lib.present.views import chart_numbers, limits_clipped
    chart = pd.DataFrame({"x": ["2025-01-01", "2025-02-01"], "y": [1.0, 2.0], "mean": [1.5, 1.5],
                          "lpl": [-0.8, -0.8], "upl": [3.8, 3.8], "variation": ["common_cause"] * 2})
    t = chart_numbers(chart, "percent")
    assert t["Lower limit"].tolist() == ["0.0%", "0.0%"]
    assert limits_clipped(chart, "percent") and not limits_clipped(chart, "count")


def test_the_chart_key_names_a_sloped_centre_line_for_what_it_is():
    from kpi_lib.present.charts import centre_line_label
    x = pd.date_range("2023-04-01", periods=4, freq="MS")
    flat = pd.DataFrame({"x": x, "mean": 10.0, "segment": 1, "adjustment": 1.0})
    assert centre_line_label(flat) == "Mean"
    assert centre_line_label(flat.assign(mean=[10.0, 10.5, 11.0, 11.5])) == "Trend line"
    seasonal = flat.assign(mean=[9.0, 10.0, 11.0, 10.0], adjustment=[0.9, 1.0, 1.1, 1.0])
    assert centre_line_label(seasonal) == "Centre line"
    # two segments, each flat at its own level (limits recalculated after a known change): still a mean
    assert centre_line_label(flat.assign(mean=[10.0, 10.0, 12.0, 12.0], segment=[1, 1, 2, 2])) == "Mean"
