"""Real public data with gaps: data.police.uk files for January to April 2024 and for 2025 in one
folder (eight months missing inside the span), and a one-year Home Office table (four quarterly
points). Missing months are never zero; comparisons with them are "not comparable"; too few
points get no verdict."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from kpi_lib.analyse import engine
from kpi_lib.config.configuration import load_configuration
from kpi_lib.inputs.detect import read_any
from kpi_lib.measure import coverage
from kpi_lib.measure.panel import build_panel

from helpers import shared_data

pytestmark = [pytest.mark.shared, pytest.mark.integration]
CONFIG = load_configuration()


@pytest.fixture(scope="module")
def gap_panel(tmp_path_factory):
    folder = tmp_path_factory.mktemp("police-uk-gap")
    for part in ("west-mercia-2024-01-to-04", "west-mercia-2025"):
        for f in shared_data("police-uk", part).glob("*-street.csv"):
            (folder / f.name).symlink_to(f)
    return build_panel(read_any(folder), CONFIG, ["crime"])


@pytest.fixture(scope="module")
def q3(gap_panel):
    return engine.compute_all("2025/26 Q3", gap_panel, CONFIG, families=["crime"])


def _month_counts(folder_part: str) -> dict[str, int]:
    """Crimes (rows with a Crime ID... every row but anti-social behaviour) per month file, counted
    with plain Python, as an independent route."""
    import csv
    out = {}
    for f in sorted(shared_data("police-uk", folder_part).glob("*-street.csv")):
        with open(f, newline="", encoding="utf-8-sig") as fh:
            out[f.name[:7]] = sum(1 for r in csv.DictReader(fh) if r["Crime type"] != "Anti-social behaviour")
    return out


def test_the_gap_is_recorded_and_named(gap_panel):
    c = gap_panel.coverage["crimes"]
    assert c.missing == [date(2024, m, 1) for m in range(5, 13)]
    assert coverage.gaps_sentence(gap_panel.coverage) == "not in the data: crimes May 2024 to December 2024"


def test_no_zero_months_in_the_kpis_or_the_charts(gap_panel, q3):
    months = _month_counts("west-mercia-2024-01-to-04") | _month_counts("west-mercia-2025")
    m = gap_panel.whole_force()
    trc = m[(m["kpi_id"] == "trc_volume") & (m["window_kind"] == "month") & (m["status"] == "reported")]
    got = {f"{s:%Y-%m}": v for s, v in zip(trc["window_start"], trc["value"], strict=True)}
    assert got == months  # exactly the months in the files, none of them zero
    gap = m[(m["kpi_id"] == "trc_volume") & (m["window_kind"] == "month")
            & (pd.to_datetime(m["window_start"]).between("2024-05-01", "2024-12-01"))]
    assert (gap["status"] == "not_in_data").all() and gap["value"].isna().all()
    spc = engine.spc_points(q3, CONFIG.catalogue)
    assert not (spc["y"] == 0).any()
    chart = q3.charts[("trc_volume", "")]
    assert chart["y"].isna().sum() == 8  # the chart's line breaks over the eight months
    assert not (q3.results["value"] == 0).any()


def test_last_year_missing_is_not_comparable_and_no_12_month_sum_has_gaps(gap_panel, q3):
    trc = q3.results.set_index("kpi_id").loc["trc_volume"]
    assert trc["value"] == sum(v for k, v in (_month_counts("west-mercia-2025")).items() if k >= "2025-10")
    assert trc["last_year_finding"] == "not_comparable"
    assert trc["last_year_words"] == "not comparable: 2024/25 Q3 is not in the data"
    assert math.isnan(trc["change_last_year"]) and "real change" not in trc["verdict"]
    assert math.isnan(trc["previous12_value"])  # 12 months to December 2024: eight are missing
    q1 = engine.compute("2025/26 Q1", gap_panel, CONFIG, families=["crime"]).set_index("kpi_id")
    assert math.isnan(q1.loc["trc_volume", "rolling12_value"])  # July 2024 to June 2025
    # where last year is in the data, it is compared
    q4 = engine.compute("2024/25 Q4", gap_panel, CONFIG, families=["crime"]).set_index("kpi_id")
    assert q4.loc["trc_volume", "last_year_finding"] in ("higher", "lower", "no_clear_change", "not_enough_data")


def test_a_one_year_home_office_table_has_too_few_points_to_judge(tmp_path):
    (tmp_path / "prc-pfa-2017-18.csv").symlink_to(shared_data("home-office", "prc-pfa-2017-18.csv"))
    panel = build_panel(read_any(tmp_path), CONFIG, ["crime"])
    r = engine.compute("2017/18 Q4", panel, CONFIG, families=["crime"]).set_index("kpi_id")
    trc = r.loc["trc_volume"]
    assert trc["spc_finding"] == "too_few" and trc["spc_words"] == "too few points to judge (4 of 12)"
    assert trc["verdict_code"] == "unclear"
    assert trc["verdict"] == ("Not enough data to tell: not comparable: 2016/17 Q4 is not in the data; "
                              "too few points on the chart to judge (4 of 12)")
    reported = r[r["status"] == "reported"]
    assert not reported["verdict_code"].isin(["normal", "better", "worse", "higher", "lower", "unusual"]).any()


def test_a_run_on_the_gap_folder_writes_no_zero_months_and_its_report_names_the_gap(tmp_path):
    """The real run, as a user would make it: kpis.csv, spc.csv and the charts hold no zero month,
    and the report's data line and the charts name the eight missing months."""
    import html
    import re

    from kpi_lib.run.runner import run_period
    folder = tmp_path / "data"
    folder.mkdir()
    for part in ("west-mercia-2024-01-to-04", "west-mercia-2025"):
        for f in shared_data("police-uk", part).glob("*-street.csv"):
            (folder / f.name).symlink_to(f)
    res = run_period("2025/26 Q3", folder, tmp_path / "out", jobs=2, quiet=True, pdf=False)
    results = res.out / "results"
    kpis = pd.read_csv(results / "kpis.csv")
    spc = pd.read_csv(results / "spc.csv")
    assert not (kpis["value"] == 0).any() and not (spc["y"] == 0).any()
    trc = spc[spc["kpi_id"] == "trc_volume"].set_index("x")
    gap = [f"2024-{m:02d}-01" for m in range(5, 13)]
    assert trc.loc[gap, "y"].isna().all() and (trc.loc[gap, "variation"] == "no_data").all()
    assert not trc.loc[gap, "in_window"].any()  # the limits leave the gap out
    row = kpis.set_index("kpi_id").loc["trc_volume"]
    assert row["last_year_words"] == "not comparable: 2024/25 Q3 is not in the data"
    coverage = pd.read_csv(results / "coverage.csv").set_index("table")
    assert coverage.loc["crimes", "missing"] == ";".join(gap)
    text = html.unescape(re.sub(r"<[^>]+>", " ", res.report.read_text(encoding="utf-8")))
    text = re.sub(r"\s+", " ", text)
    assert "not in the data: crimes May 2024 to December 2024 (never read as zero)" in text
    assert "Not in the data: May 2024 to December 2024 (the line breaks" in text
