"""Local areas: charge rates by area with Wilson intervals, rates per 1,000 people with exact
Poisson intervals, monthly series by area, and per-area SPC charts on one scale. Expected values
are worked out by hand from the rows written here (or taken from published tables of the
interval methods)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from kpi_lib.analyse import engine
from kpi_lib.analyse.areas import area_charts, area_rows, monthly_by_area, poisson_interval
from kpi_lib.config.areas import load_area_population
from kpi_lib.config.catalogue import catalogue_for
from kpi_lib.config.configuration import load_configuration
from kpi_lib.config.params import load_params
from kpi_lib.core.errors import ParameterError
from kpi_lib.inputs import read_tables
from kpi_lib.measure import panel

from helpers import write_table

PARAMS = load_params()
CONFIG = load_configuration(PARAMS)


@pytest.fixture(scope="module")
def two_areas(tmp_path_factory):
    """Q1 2023/24 in two areas: Worcester 10 crimes (3 charged), Redditch 4 (none charged); every
    month April 2023 to March 2024 has one vehicle crime in Redditch."""
    folder = tmp_path_factory.mktemp("areas")
    (folder / "metadata.yaml").write_text('extraction_date: "2024-04-15"\n')
    crimes, outcomes = [], []
    for i in range(10):
        crimes.append(f"W{i},2023-05-{i + 1:02d},8N,false,Worcester")
        if i < 3:
            outcomes.append(f"W{i},1,2023-06-20")
    for i in range(4):
        crimes.append(f"R{i},2023-04-{i + 10:02d},105A,false,Redditch")
        outcomes.append(f"R{i},8,2023-05-20")
    for m in range(12):
        y, mm = (2023, m + 4) if m < 9 else (2024, m - 8)
        crimes.append(f"V{m},{y}-{mm:02d}-15,45,false,Redditch")
    write_table(folder, "crimes", crimes)
    write_table(folder, "outcomes", outcomes)
    return folder


@pytest.fixture(scope="module")
def two_area_panel(two_areas):
    return panel.build_panel(read_tables(two_areas), CONFIG, families=["crime"])


def test_charge_rates_by_area_with_wilson_intervals(two_area_panel):
    bd = engine.breakdowns("2023/24 Q1", two_area_panel, CONFIG, families=["crime"])
    rows = area_rows(bd, catalogue_for(PARAMS, "2023/24 Q1"), None).set_index(["kpi_id", "area"])
    w = rows.loc[("trc_charge_rate", "Worcester")]
    # Worcester: 10 crimes (8N), 3 charged -> 30%; Wilson 95% for 3/10 is 10.78% to 60.32%
    assert (w["numerator"], w["denominator"], w["value"]) == (3, 10, pytest.approx(30.0))
    assert (w["ci_low"], w["ci_high"]) == (pytest.approx(10.78, abs=0.01), pytest.approx(60.32, abs=0.01))
    r = rows.loc[("trc_charge_rate", "Redditch")]
    # Redditch in Q1: 4 violence without injury + 3 vehicle crimes (April to June) = 7, none charged
    assert (r["numerator"], r["denominator"], r["value"]) == (0, 7, 0.0)
    assert r["ci_low"] == 0 and r["ci_high"] == pytest.approx(35.43, abs=0.01)  # Wilson 0/7
    assert rows.loc[("trc_volume", "Redditch"), "value"] == 7
    assert rows.loc[("vwi_volume", "Worcester"), "value"] == 10
    # the in-period basis is a ratio, not a proportion: not in the headline area rows, no interval
    inp = bd[(bd["dimension"] == "local area") & (bd["basis"] == "in_period") & (bd["kpi_id"] == "trc_charge_rate")]
    assert inp["ci_low"].isna().all() and len(inp) == 2


def test_rates_per_1000_people_with_exact_poisson_intervals(two_area_panel):
    lo, hi = poisson_interval([10, 0])
    # Garwood's exact 95% interval: 10 events -> 4.795 to 18.390; 0 events -> 0 to 3.689
    assert lo == pytest.approx([4.7954, 0.0], abs=1e-3) and hi == pytest.approx([18.3904, 3.6889], abs=1e-3)
    bd = engine.breakdowns("2023/24 Q1", two_area_panel, CONFIG, families=["crime"])
    rows = area_rows(bd, catalogue_for(PARAMS, "2023/24 Q1"), {"Worcester": 2000, "Redditch": 500}).set_index(["kpi_id", "area"])
    w = rows.loc[("vwi_volume", "Worcester")]
    assert w["per_1000"] == pytest.approx(5.0)  # 1000 x 10 / 2000
    assert (w["per_1000_low"], w["per_1000_high"]) == (pytest.approx(2.3977, abs=1e-3), pytest.approx(9.1952, abs=1e-3))
    assert pd.isna(rows.loc[("trc_charge_rate", "Worcester"), "per_1000"])  # a rate is not per person


def test_monthly_series_by_area_fills_covered_months_with_zero(two_area_panel):
    s = monthly_by_area(two_area_panel, "vehicle_crime_volume", "2023/24 Q4")
    red = s[s["area"] == "Redditch"].sort_values("x")
    assert list(red["y"]) == [1.0] * 12 and pd.Timestamp(red["x"].iloc[0]) == pd.Timestamp("2023-04-01")
    wor = s[s["area"] == "Worcester"]
    assert list(wor["y"]) == [0.0] * 12  # covered months with no vehicle crime are 0, not missing
    trc = monthly_by_area(two_area_panel, "trc_volume", "2023/24 Q4")
    may = trc[(trc["area"] == "Worcester") & (trc["x"] == pd.Timestamp("2023-05-01"))]["y"]
    assert list(may) == [10.0]


def test_one_chart_per_area_from_the_same_months(two_area_panel):
    kpi = {k.id: k for k in catalogue_for(PARAMS)}["trc_volume"]
    charts = area_charts(two_area_panel, kpi, "2023/24 Q4", {**PARAMS, "spc_seasonal": []})
    assert list(charts) == ["Redditch", "Worcester"]
    assert list(charts["Redditch"]["x"]) == list(charts["Worcester"]["x"])
    assert charts["Worcester"]["y"].sum() == 10 and charts["Redditch"]["y"].sum() == 4 + 12


def test_small_multiples_share_one_scale(two_area_panel):
    from kpi_lib.present.charts import _pyplot, spc_small_multiples
    kpi = {k.id: k for k in catalogue_for(PARAMS)}["trc_volume"]
    charts = area_charts(two_area_panel, kpi, "2023/24 Q4", {**PARAMS, "spc_seasonal": []})
    fig = spc_small_multiples(charts, unit="count", grain="month", ncols=2)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in axes] == ["Redditch", "Worcester"]
    assert axes[0].get_ylim() == axes[1].get_ylim()
    _pyplot().close(fig)


def test_area_population_file_is_checked(tmp_path):
    good = tmp_path / "pop.csv"
    good.write_text("# source: ONS mid-2023 population estimates\nlocal_area,population\nWorcester,\"103,000\"\nRedditch,87000\n")
    got = load_area_population(good)
    assert got["populations"] == {"Worcester": 103000.0, "Redditch": 87000.0}
    assert got["source"] == "ONS mid-2023 population estimates"
    bad = {"no source": "local_area,population\nX,1\n", "zero": "# source: s\nlocal_area,population\nX,0\n",
           "columns": "# source: s\narea,people\nX,1\n", "twice": "# source: s\nlocal_area,population\nX,1\nX,2\n"}
    words = {"no source": "no '# source: ...' line", "zero": "row 1 (X): population '0'", "columns": "missing column",
             "twice": "'X' is listed twice"}
    for case, text in bad.items():
        (tmp_path / "b.csv").write_text(text)
        with pytest.raises(ParameterError, match=re.escape(words[case])):
            load_area_population(tmp_path / "b.csv")


def test_area_section_words_follow_the_population_and_own_areas(two_area_panel):
    from types import SimpleNamespace

    from kpi_lib.core.periods import Period
    from kpi_lib.present.area_views import areas_html
    p = Period.parse("2023/24 Q1")
    pnl = panel.Panel(two_area_panel.measurements, two_area_panel.maturity,
                      {**two_area_panel.info, "area_population": {
                          "populations": {"Worcester": 2000.0, "Redditch": 500.0}, "source": "ONS mid-2023",
                          "file": "pop.csv"}})
    run = SimpleNamespace(params=PARAMS, panel=pnl, family="crime", period=p, annotations=[], peer_settings={},
                          breakdowns=engine.breakdowns(p, pnl, CONFIG, families=["crime"]),
                          catalogue=catalogue_for(PARAMS, p))
    page = areas_html(run)
    assert "Rates per 1,000 people use the population of each area from ONS mid-2023 (pop.csv)" in page
    assert "10 (5.0 per 1,000; 2.4 to 9.2)" in page  # Worcester's violence with injury
    assert "30.0% (10.8% to 60.3%; 3 of 10)" in page
    assert "one per area (2 areas)" in page
    run.params = {**PARAMS, "local_areas": ["Worcester"]}
    run.panel = two_area_panel
    page = areas_html(run)
    assert "These are counts, not rates: no population for each area was supplied" in page
    assert "area_population" not in page  # the setting's name is for officers, not the Panel
    assert "Not shown, because they are not among the force's own areas: Redditch." in page


def test_small_multiples_name_their_lines_as_the_single_chart_does():
    """A sloped centre line is a "Trend line" and the limits the "Usual range" in the small
    multiples' key, as in each KPI's own chart (never "Mean" under a sloped line)."""
    from kpi_lib.present.charts import _pyplot, spc_figure, spc_small_multiples
    x = pd.date_range("2023-04-01", periods=12, freq="MS")
    sloped = pd.DataFrame({"x": x, "y": [10.0 + i for i in range(12)], "mean": [10.0 + i for i in range(12)],
                           "lpl": [7.0 + i for i in range(12)], "upl": [13.0 + i for i in range(12)],
                           "variation": ["common_cause"] * 12})
    fig = spc_small_multiples({"A": sloped, "B": sloped}, unit="count", grain="month", ncols=2)
    key = [t.get_text() for t in fig.legends[0].get_texts()]
    single = spc_figure(sloped, unit="count", grain="month")
    single_key = [t.get_text() for t in single.axes[0].get_legend().get_texts()]
    assert key[:3] == ["Value", "Trend line", "Usual range"]
    assert single_key[:3] == ["Value", "Trend line", "Usual range"]
    _pyplot().close(fig)
    _pyplot().close(single)
