"""KPIs per budget year in configuration: crime KPIs as a category plus a measure, the budget
years each KPI and target belongs to, and labels filled in from the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kpi_lib.config.catalogue import catalogue_for, for_year, load_catalogue, parse_catalogue
from kpi_lib.config.categories import load_categories
from kpi_lib.config.params import load_params
from kpi_lib.core.errors import CatalogueError, ParameterError

from helpers import SHOPLIFTING, next_year_catalogue


def test_every_crime_kpi_is_a_category_and_a_measure_of_the_categories_file():
    cats = load_categories()
    crime = [k for k in load_catalogue() if k.family == "crime"]
    assert len(crime) == 15
    assert all(k.category in cats.names and k.measure for k in crime)
    by = {k.id: (k.category, k.measure) for k in crime}
    assert by["vehicle_crime_charge_rate"] == ("vehicle_crime", "charge_rate")
    assert by["domestic_abuse_volume"] == ("domestic_abuse", "volume")
    assert by["action_taken_rate"] == ("trc", "action_taken_rate")
    assert cats.kind("domestic_abuse") == "flag" and cats.kind("trc") == "total"


def test_no_category_or_kpi_list_remains_in_the_crime_code():
    import kpi_lib.analyse.engine as engine
    import kpi_lib.measure.families.crime as crime
    for name in ("CATEGORY_KPIS", "KPI_IDS", "RATE_KPIS", "RATE_CATEGORY"):
        assert not hasattr(crime, name) and not hasattr(engine, name), name
    text = Path(crime.__file__).read_text(encoding="utf-8")
    for word in ("vehicle_crime", "burglary_residential", "domestic_abuse", '"trc"', "rape_"):
        assert word not in text, word


def test_a_kpi_belongs_to_its_budget_years_and_a_new_one_says_so(tmp_path):
    params = load_params(overrides={"kpis_file": str(next_year_catalogue(tmp_path))})
    y2023 = {k.id: k for k in catalogue_for(params, "2023/24 Q4")}
    y2024 = {k.id: k for k in catalogue_for(params, "2024/25 Q4")}
    assert "shoplifting_volume" not in y2023 and "shoplifting_volume" in y2024
    assert y2024["shoplifting_volume"].new_this_year and not y2024["trc_volume"].new_this_year
    assert not any(k.startswith("vehicle_crime") for k in y2024)
    assert y2024["trc_volume"].budget_year == "2024/25"


def test_a_target_by_year_applies_from_its_year_and_only_then(tmp_path):
    params = load_params(overrides={"kpis_file": str(next_year_catalogue(tmp_path))})
    t = {p: {k.id: k for k in catalogue_for(params, p)}["confidence_overall"] for p in ("2023/24", "2024/25 Q2")}
    assert t["2023/24"].target == 88.0 and t["2023/24"].target_source.startswith("a force survey target")
    assert (t["2024/25 Q2"].target, t["2024/25 Q2"].target_source) == (90.0, "Force survey target for 2024/25 (90%)")


@pytest.mark.parametrize("setting,value,kpi,words", [
    ("threshold_101_seconds", 60, "calls_101_within_30s", "101 calls answered within 60 seconds"),
    ("threshold_999_seconds", 15, "calls_999_within_10s", "999 calls answered within 15 seconds"),
    ("threshold_101_seconds", 12.5, "calls_101_within_30s", "101 calls answered within 12.5 seconds"),
])
def test_labels_follow_the_threshold_settings(setting, value, kpi, words):
    k = {k.id: k for k in catalogue_for(load_params(overrides={setting: value}))}[kpi]
    assert words in k.name and words in k.definition
    # the published target was set for the default threshold: with another, none is claimed
    assert k.target is None and "No target is shown" in k.definition
    default = {k.id: k for k in catalogue_for(load_params())}[kpi]
    assert default.target is not None and "No target" not in default.definition


BAD = {
    "crime without measure": ({"family": "crime", "category": "trc", "unit": "count"}, "needs category"),
    "unknown measure": ({"family": "crime", "category": "trc", "measure": "rate", "unit": "percent"}, "unknown measure 'rate'"),
    "unit of the measure": ({"family": "crime", "category": "trc", "measure": "volume", "unit": "percent"}, "in unit count"),
    "category off crime": ({"family": "calls", "category": "trc"}, "crime KPIs only"),
    "year unquoted": ({"from_year": 2024}, "from_year must be a financial year"),
    "years reversed": ({"from_year": "2024/25", "until_year": "2023/24"}, "is before from_year"),
    "target year": ({"targets": {"2024": 5}}, "a targets year must be a financial year"),
    "target text": ({"targets": {"2024/25": "high"}}, "must be a number"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_catalogue_entry_is_one_message_naming_the_entry(case):
    change, words = BAD[case]
    entry = {"id": "x", "plan_priority": "p", "improvement_area": "a", "name": "n", "pmf_integration": "i",
             "family": "calls", "unit": "percent", "polarity": "neutral", "frequency": "quarterly",
             "definition": "d", **change}
    with pytest.raises(CatalogueError) as e:
        parse_catalogue({"kpis": [entry]}, "my-kpis.yaml")
    assert "my-kpis.yaml: entry 1 (x)" in str(e.value) and words in str(e.value)


def test_an_unknown_category_or_setting_is_named(tmp_path):
    from kpi_lib.config.configuration import load_configuration
    doc = {"kpis": [{**SHOPLIFTING[0], "category": "shop_theft"}]}
    (tmp_path / "k.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    params = load_params(overrides={"kpis_file": str(tmp_path / "k.yaml"), "spc_seasonal": []})
    with pytest.raises(CatalogueError, match="shoplifting_volume has category 'shop_theft'"):
        load_configuration(params)
    doc = {"kpis": [{**SHOPLIFTING[0], "name": "Shoplifting within {threshold_303_seconds}"}]}
    (tmp_path / "k.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"shoplifting_volume: name names \{threshold_303_seconds\}"):
        catalogue_for(params)


def test_seasonal_defaults_follow_a_dropped_kpi_but_a_users_unknown_id_is_an_error(tmp_path):
    path = next_year_catalogue(tmp_path)
    params = load_params(overrides={"kpis_file": str(path)})
    assert "vehicle_crime_volume" not in params["spc_seasonal"] and "trc_volume" in params["spc_seasonal"]
    with pytest.raises(ParameterError, match=r"unknown KPI id\(s\) \['vehicle_crime_volume'\]"):
        load_params(overrides={"kpis_file": str(path), "spc_seasonal": ["vehicle_crime_volume"]})


def test_for_year_keeps_catalogue_order_and_every_year_when_unbounded():
    kpis = load_catalogue()
    assert [k.id for k in for_year(kpis, 2019)] == [k.id for k in kpis]


@pytest.mark.integration  # measures the small sample's crime and confidence families
def test_the_figures_of_each_year_use_that_years_kpis_and_targets(small_tables, tmp_path):
    from kpi_lib.analyse import engine
    from kpi_lib.config.configuration import load_configuration
    from kpi_lib.measure import panel
    params = load_params(overrides={"kpis_file": str(next_year_catalogue(tmp_path))})
    config = load_configuration(params)
    pnl = panel.build_panel(small_tables, config, families=["crime", "confidence"])
    by = {p: engine.compute(p, pnl, config, families=["crime", "confidence"])
          for p in ("2023/24 Q4", "2023/24", "2024/25 Q1", "2024/25")}
    for period, k in by.items():
        target = k.loc[k["kpi_id"] == "confidence_overall", "target"].iloc[0]
        assert target == (88 if period.startswith("2023/24") else 90), period
        assert not k["kpi_id"].str.startswith("vehicle_crime").any(), period
        shop = k[k["kpi_id"].str.startswith("shoplifting")]
        if period.startswith("2023/24"):
            assert shop.empty, period
        else:
            assert set(shop["kpi_id"]) == {"shoplifting_volume", "shoplifting_charge_rate"}, period
            assert shop["new_this_year"].all() and shop["last_year_value"].isna().all(), period
