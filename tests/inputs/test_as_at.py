"""Figures as at a past extraction date: `--as-at 2024-05-15` gives the same figures as the sample
with every record and outcome dated after 15 May 2024 removed (cut here by hand, file by file)."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from kpi_lib.analyse import engine
from kpi_lib.config.configuration import load_configuration
from kpi_lib.config.params import load_params
from kpi_lib.core.errors import InputError
from kpi_lib.core.periods import Period
from kpi_lib.inputs import read_tables
from kpi_lib.inputs.folder import read_inputs
from kpi_lib.measure import panel

pytestmark = pytest.mark.integration  # measures the small sample twice more
DAY = "2024-05-15"
PARAMS = load_params()
AS_AT = load_params(overrides={"as_at": DAY})


def cut_by_hand(sample, out):
    """The sample as an extract taken on 15 May 2024 would have held it: each file filtered with
    pandas on its own date column (local days for calls and incidents), outcomes dated later
    removed, arrivals and answers after it empty, finance quarters and VFM years not ended by then
    removed, extraction date 15 May."""
    out.mkdir()
    end = pd.Timestamp("2024-05-16")
    end_local = end.tz_localize("Europe/London")
    crimes = pd.read_parquet(sample / "crimes.parquet")
    crimes = crimes[pd.to_datetime(crimes["recorded_date"]) < end]
    crimes.to_parquet(out / "crimes.parquet", index=False)
    outcomes = pd.read_parquet(sample / "outcomes.parquet")
    dated = pd.to_datetime(outcomes["outcome_date"])
    outcomes = outcomes[(dated.isna() | (dated < end)) & outcomes["crime_ref"].isin(crimes["crime_ref"])]
    outcomes.to_parquet(out / "outcomes.parquet", index=False)
    for table, column, later in (("calls", "received_at", "answered_at"), ("incidents", "created_at", "arrived_at")):
        df = pd.read_parquet(sample / f"{table}.parquet")
        df = df[df[column] < end_local].copy()
        df.loc[df[later] >= end_local, later] = pd.NaT
        df.to_parquet(out / f"{table}.parquet", index=False)
    survey = pd.read_parquet(sample / "survey_responses.parquet")
    survey[pd.to_datetime(survey["interview_date"]) < end].to_parquet(out / "survey_responses.parquet", index=False)
    carbon = pd.read_csv(sample / "carbon.csv", dtype=str)
    carbon[pd.to_datetime(carbon["period_start"]) < end].to_csv(out / "carbon.csv", index=False)
    finance = pd.read_csv(sample / "finance.csv", dtype=str)
    ended = [Period(Period.parse(y).fy, int(q)).end < end.date() for y, q in zip(finance["financial_year"], finance["quarter"], strict=True)]
    finance[ended].to_csv(out / "finance.csv", index=False)
    vfm = pd.read_csv(sample / "vfm.csv", dtype=str)
    vfm[[Period.parse(y).end < end.date() for y in vfm["financial_year"]]].to_csv(out / "vfm.csv", index=False)
    meta = yaml.safe_load((sample / "metadata.yaml").read_text(encoding="utf-8"))
    meta["extraction_date"] = DAY
    (out / "metadata.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    return out


def _figures(tables, params) -> pd.DataFrame:
    config = load_configuration(params)
    pnl = panel.build_panel(tables, config)
    return pd.concat([engine.compute(p, pnl, config) for p in ("2023/24 Q4", "2023/24", "2022/23 Q2")],
                     ignore_index=True)


def test_as_at_gives_the_figures_of_the_extract_cut_by_hand(small_sample, tmp_path):
    by_hand = read_tables(cut_by_hand(small_sample, tmp_path / "cut"))
    as_at = read_inputs(small_sample, AS_AT)
    assert as_at.extraction_date.isoformat() == DAY
    for table in ("crimes", "outcomes", "calls", "incidents", "survey_responses", "finance", "vfm", "carbon"):
        assert len(as_at.get(table)) == len(by_hand.get(table)), table
    a, b = _figures(as_at, AS_AT), _figures(by_hand, PARAMS)
    pd.testing.assert_frame_equal(a, b)
    q4 = a[(a["period"] == "2023/24 Q4") & (a["kpi_id"] == "trc_charge_rate") & (a["basis"] == "cohort")].iloc[0]
    now = _figures(read_tables(small_sample), PARAMS)
    q4_now = now[(now["period"] == "2023/24 Q4") & (now["kpi_id"] == "trc_charge_rate") & (now["basis"] == "cohort")].iloc[0]
    assert q4["value"] < q4_now["value"]  # fewer outcomes had been assigned by May 2024
    assert "As at extraction 2024-05-15" in q4["note"]


def test_rows_left_out_are_counted_in_the_ledger(small_sample):
    tables = read_inputs(small_sample, AS_AT)
    full = {e.table: e for e in read_tables(small_sample).ledger}
    for e in tables.ledger:
        assert e.rows_read == full[e.table].rows_read == e.rows_used + sum(e.rejected.values()), e.table
    crimes = next(e for e in tables.ledger if e.table == "crimes")
    assert crimes.rejected == {"dated after 2024-05-15 (not yet in the extract then)": crimes.rows_read - crimes.rows_used}
    assert any("15 May 2024" in n for n in tables.notes)


def test_as_at_after_the_extraction_date_or_on_published_tables_is_refused(small_sample, tmp_path):
    with pytest.raises(InputError, match="is after the extraction date 2025-05-15"):
        read_inputs(small_sample, load_params(overrides={"as_at": "2025-06-01"}))
    street = tmp_path / "street"
    street.mkdir()
    (street / "2024-01-west-mercia-street.csv").write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
        "Last outcome category,Context\n,2024-01,West Mercia Police,West Mercia Police,,,,E01,Worcester 001A,"
        "Robbery,Under investigation,\n", encoding="utf-8")
    with pytest.raises(InputError, match="--as-at needs the force's own records"):
        read_inputs(street, load_params(overrides={"as_at": "2024-05-01"}))


def test_an_unknown_as_at_date_is_a_settings_error():
    from kpi_lib.core.errors import ParameterError
    with pytest.raises(ParameterError, match="as_at .*not a date written YYYY-MM-DD"):
        load_params(overrides={"as_at": "15/05/2024"})
