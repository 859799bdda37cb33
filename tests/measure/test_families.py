"""Each KPI definition pinned on small hand-made inputs. Every expected value below was worked
out by hand from the rows written in the test (the arithmetic is in the comments)."""

from __future__ import annotations

import math

import pytest

from kpi_lib import compute
from kpi_lib.core.errors import InputError
from kpi_lib.inputs import read_tables

from helpers import write_table


def one(results, kpi_id, basis=None):
    r = results[results["kpi_id"] == kpi_id]
    if basis is not None:
        r = r[r["basis"] == basis]
    assert len(r) == 1, (kpi_id, basis, r)
    return r.iloc[0]


@pytest.fixture
def crime_dir(tmp_path):
    (tmp_path / "metadata.yaml").write_text('extraction_date: "2023-08-15"\n')
    write_table(tmp_path, "crimes", [
        "C1,2023-04-10,8N,true,Worcester",    # VWI, DA; outcome 1 in May (Q1)
        "C2,2023-04-20,8N,false,Worcester",   # VWI; outcome 1A in July (Q2)
        "C3,2023-05-02,28E,false,Redditch",   # residential burglary; outcome 18
        "C4,2023-05-15,45,false,Redditch",    # vehicle (theft from); not yet assigned
        "C5,2023-06-30,19C,true,Worcester",   # rape, DA; not yet assigned (no outcome row)
        "C6,2023-06-01,AF,false,Worcester",   # Action Fraud: not in total recorded crime
        "C7,2023-03-31,8N,false,Worcester",   # previous quarter; caution assigned in April (Q1)
        "C8,2023-06-15,105A,false,Redditch",  # violence without injury; community resolution
        "C9,2023-05-05,8N,false,Redditch",    # VWI; outcome 1 in May
    ])
    write_table(tmp_path, "outcomes", ["C1,1,2023-05-01", "C2,1A,2023-07-05", "C3,18,2023-06-01",
                                       "C4,0,", "C7,2,2023-04-15", "C8,8,2023-06-20", "C9,1,2023-05-06"])
    return tmp_path


def test_crime_volumes_and_rates_by_hand(crime_dir):
    r = compute("2023/24 Q1", read_tables(crime_dir), families=["crime"])
    # Q1 crimes excluding fraud and the March crime: C1 C2 C3 C4 C5 C8 C9 = 7
    assert one(r, "trc_volume")["value"] == 7
    assert one(r, "vwi_volume")["value"] == 3            # C1 C2 C9
    assert one(r, "rape_volume")["value"] == 1           # C5
    assert one(r, "burglary_residential_volume")["value"] == 1
    assert one(r, "vehicle_crime_volume")["value"] == 1
    assert one(r, "domestic_abuse_volume")["value"] == 2  # C1 C5
    assert one(r, "robbery_volume")["value"] == 0
    # cohort: outcomes 1/1A for crimes recorded in Q1 = C1, C2, C9 -> 3/7
    c = one(r, "trc_charge_rate", "cohort")
    assert (c["numerator"], c["denominator"]) == (3, 7) and c["value"] == pytest.approx(300 / 7)
    assert "28.6% not yet assigned" in c["note"]  # C4 and C5 (no row) -> 2/7
    assert "2023-08-15" in c["note"]
    # in-period: 1/1A assigned in Q1 = C1, C9 (C2's is in July; C7's is a caution) -> 2/7
    ip = one(r, "trc_charge_rate", "in_period")
    assert (ip["numerator"], ip["value"]) == (2, pytest.approx(200 / 7))
    assert one(r, "vwi_charge_rate", "cohort")["value"] == pytest.approx(100.0)     # 3/3
    assert one(r, "vwi_charge_rate", "in_period")["value"] == pytest.approx(200 / 3)  # 2/3
    assert one(r, "domestic_abuse_charge_rate", "cohort")["value"] == pytest.approx(50.0)  # C1 of C1, C5
    # action taken (1, 1A, 2, 2A, 3, 3A, 4, 6, 7, 8): cohort C1 C2 C9 C8 = 4/7; in-period C1 C9 C8 C7 = 4/7
    assert one(r, "action_taken_rate", "cohort")["value"] == pytest.approx(400 / 7)
    assert one(r, "action_taken_rate", "in_period")["value"] == pytest.approx(400 / 7)
    # headline basis is the cohort by default
    assert one(r, "trc_charge_rate", "cohort")["headline"] and not one(r, "trc_charge_rate", "in_period")["headline"]


def test_zero_crimes_gives_an_undefined_rate_not_zero(crime_dir):
    r = compute("2023/24 Q1", read_tables(crime_dir), families=["crime"])
    rob = one(r, "robbery_charge_rate", "cohort")
    assert rob["status"] == "reported" and math.isnan(rob["value"]) and rob["denominator"] == 0
    assert "undefined" in rob["note"]


def test_headline_basis_parameter(crime_dir):
    from kpi_lib import load_params
    r = compute("2023/24 Q1", read_tables(crime_dir), load_params(overrides={"headline_basis": "in_period"}),
                families=["crime"])
    assert one(r, "trc_charge_rate", "in_period")["headline"]


def test_empty_quarter_inside_the_data(tmp_path):
    write_table(tmp_path, "crimes", ["C1,2023-04-10,8N,true,Worcester", "C2,2023-10-20,8N,false,Worcester"])
    write_table(tmp_path, "outcomes", ["C1,1,2023-05-01", "C2,0,"])
    r = compute("2023/24 Q2", read_tables(tmp_path), families=["crime"])
    # no record at all in July to September: those months are not in the data, never zero crimes
    vol = one(r, "trc_volume")
    assert vol["status"] == "not_in_data" and math.isnan(vol["value"]) and "never read as zero" in vol["note"]
    rate = one(r, "trc_charge_rate", "cohort")
    assert rate["status"] == "not_in_data" and math.isnan(rate["value"])
    # a quarter after the data is not reported as zero
    after = compute("2024/25 Q1", read_tables(tmp_path), families=["crime"])
    assert one(after, "trc_volume")["status"] == "not_yet_available"


def test_calls_by_hand(tmp_path):
    write_table(tmp_path, "calls", [
        "K0,999,2023-03-31T23:30:00+00:00,2023-03-31T23:30:05+00:00",  # 00:30 BST on 1 April: Q1
        "K1,999,2023-04-01T10:00:00+01:00,2023-04-01T10:00:08+01:00",  # 8 s
        "K2,999,2023-04-01T10:00:00+01:00,2023-04-01T10:00:10+01:00",  # exactly 10 s: within
        "K3,999,2023-04-01T10:00:00+01:00,2023-04-01T10:00:11+01:00",  # 11 s
        "K4,999,2023-04-01T10:00:00+01:00,",                            # abandoned: counts against
        "L1,101,2023-04-01T11:00:00+01:00,2023-04-01T11:00:20+01:00",  # 20 s
        "L2,101,2023-04-01T11:00:00+01:00,2023-04-01T11:00:45+01:00",  # 45 s
        "L3,101,2023-04-01T11:00:00+01:00,",                            # abandoned
        "L4,101,2023-06-30T12:00:00+01:00,2023-06-30T12:00:05+01:00",  # 5 s
        "K5,999,2023-05-15T10:00:00+01:00,2023-05-15T10:00:03+01:00",  # 3 s (every month has calls)
    ])
    r = compute("2023/24 Q1", read_tables(tmp_path), families=["calls"])
    k = one(r, "calls_999_within_10s")
    assert (k["numerator"], k["denominator"], k["value"]) == (4, 6, pytest.approx(400 / 6))
    assert one(r, "calls_999_abandoned_rate")["value"] == pytest.approx(100 / 6)   # 1/6
    assert one(r, "calls_101_within_30s")["value"] == pytest.approx(50.0)       # L1, L4 of 4
    assert one(r, "calls_101_average_wait")["value"] == pytest.approx(70 / 3)   # (20+45+5)/3
    assert one(r, "calls_101_abandoned_rate")["value"] == pytest.approx(25.0)


def test_response_across_the_october_clock_change(tmp_path):
    write_table(tmp_path, "incidents", [
        "I1,1,2023-10-29T01:30:00+01:00,2023-10-29T01:10:00+00:00,true,Worcester",  # 40 min (not -20)
        "I2,1,2023-10-10T10:00:00+01:00,2023-10-10T10:10:00+01:00,true,Worcester",  # 10 min
        "I3,1,2023-11-01T10:00:00+00:00,2023-11-01T10:20:00+00:00,true,Redditch",   # 20 min
        "I4,1,2023-11-02T10:00:00+00:00,,false,Redditch",                           # not attended
        "I5,2,2023-12-31T23:00:00+00:00,2024-01-01T00:30:00+00:00,true,Redditch",   # 90 min
        "I6,2,2023-10-01T00:30:00+01:00,2023-10-01T01:30:00+01:00,true,Worcester",  # local 1 Oct: Q3
    ])
    r = compute("2023/24 Q3", read_tables(tmp_path), families=["response"])
    g1 = one(r, "response_grade1_median")
    assert g1["value"] == 20 and g1["sample_n"] == 3 and "1 not attended" in g1["note"]
    assert one(r, "response_grade2_median")["value"] == 75  # median of 60 and 90
    assert one(r, "unresourced_incidents")["value"] == 1


def test_response_across_the_march_clock_change(tmp_path):
    write_table(tmp_path, "incidents", [
        "J1,1,2024-01-01T10:00:00+00:00,2024-01-01T10:30:00+00:00,true,Worcester",  # 30 min
        "J2,1,2024-03-31T00:50:00+00:00,2024-03-31T02:10:00+01:00,true,Worcester",  # 20 min (not 80)
        "J3,1,2024-02-01T10:00:00+00:00,2024-02-01T10:05:00+00:00,true,Worcester",  # 5 min
    ])
    r = compute("2023/24 Q4", read_tables(tmp_path), families=["response"])
    assert one(r, "response_grade1_median")["value"] == 20


def test_surveys_weighted_by_hand(tmp_path):
    write_table(tmp_path, "survey_responses", [
        "victim,R1,2023-04-05,Worcester,Burglary,overall_satisfaction,Very satisfied,1",
        "victim,R2,2023-04-06,Worcester,Burglary,overall_satisfaction,Fairly dissatisfied,1",
        "victim,R3,2023-05-06,Redditch,Vehicle crime,overall_satisfaction,Completely satisfied,2",
        "victim,R4,2023-06-10,Redditch,Vehicle crime,overall_satisfaction,Neither satisfied nor dissatisfied,2",
        "confidence,P1,2023-04-05,Worcester,,confidence_local_policing,Strongly agree,1",
        "confidence,P2,2023-04-05,Worcester,,confidence_local_policing,Agree,1",
        "confidence,P3,2023-05-05,Redditch,,confidence_local_policing,Disagree,1",
        "confidence,P4,2023-06-25,Redditch,,confidence_local_policing,Don't know,1",
        "confidence,P1,2023-04-05,Worcester,,seen_officer_frequency,Daily,1",
        "confidence,P2,2023-04-05,Worcester,,seen_officer_frequency,Less often,1",
        "confidence,P3,2023-05-05,Redditch,,seen_officer_frequency,Never,1",
        "confidence,P4,2023-06-25,Redditch,,seen_officer_frequency,At least weekly,1",
    ])
    t = read_tables(tmp_path)
    r = compute("2023/24 Q1", t, families=["satisfaction", "confidence"])
    v = one(r, "victim_satisfaction")  # satisfied weight (1 + 2) of 6 = 50%; n_eff = 36/10
    assert v["value"] == pytest.approx(50.0) and v["sample_n"] == 4 and "3.6" not in v["note"]
    from kpi_lib.core.stats import wilson_interval
    lo, hi = wilson_interval(1.8, 3.6)
    assert (v["ci_low"], v["ci_high"]) == pytest.approx((100 * lo, 100 * hi))
    assert one(r, "confidence_overall")["value"] == pytest.approx(50.0)  # 2 of 4, "Don't know" counted
    assert one(r, "visibility_weekly")["value"] == pytest.approx(50.0)   # Daily, At least weekly


def test_finance_quarters_year_end_and_vfm(tmp_path):
    write_table(tmp_path, "finance", ["2023/24,2,100000000,101000000,10000000,4000000",
                                      "2023/24,4,100000000,99500000,10000000,9000000",
                                      "2022/23,4,90000000,89000000,5000000,5000000"])
    write_table(tmp_path, "vfm", ["2022/23,qualified"])
    t = read_tables(tmp_path)
    q2 = compute("2023/24 Q2", t, families=["finance"])
    o = one(q2, "finance_outturn_within_budget")
    assert o["status"] == "annual" and "+1.00%" in o["note"] and "£101.00m" in o["note"]
    assert one(q2, "finance_savings_delivered")["value"] == pytest.approx(40.0)
    assert one(q2, "finance_vfm_unqualified")["status"] == "annual"
    q4 = compute("2023/24 Q4", t, families=["finance"])
    assert one(q4, "finance_outturn_within_budget")["value"] == 1  # 99.5m <= 100m
    assert one(q4, "finance_vfm_unqualified")["status"] == "not_yet_available"
    year = compute("2022/23", t, families=["finance"])  # a whole year reads the Q4 return
    assert one(year, "finance_vfm_unqualified")["value"] == 0  # qualified
    assert one(year, "finance_outturn_within_budget")["value"] == 1


def test_carbon_by_hand(tmp_path):
    rows = []
    for m in ("2023-04-01", "2023-05-01", "2023-06-01"):
        rows += [f"{m},electricity,1000,kWh", f"{m},diesel,100,litres"]
    write_table(tmp_path, "carbon", rows)
    r = compute("2023/24 Q1", read_tables(tmp_path), families=["environment"])
    # 3000 kWh x 0.20707 + 300 l x 2.51279 = 621.21 + 753.837 kg = 1.375047 t
    assert one(r, "carbon_footprint")["value"] == pytest.approx(1.375047)
    assert one(compute("2023/24 Q2", read_tables(tmp_path), families=["environment"]), "carbon_footprint")["status"] == "not_yet_available"


def test_carbon_without_a_factor_is_an_error(tmp_path):
    write_table(tmp_path, "carbon", ["2023-04-01,hydrogen,5,kg"])
    # the reader refuses it (naming file, row, column and value); the family would too
    with pytest.raises(InputError, match="conversion factor") as e:
        compute("2023/24 Q1", read_tables(tmp_path), families=["environment"])
    assert "hydrogen" in str(e.value)


def test_crimes_without_outcomes_give_volumes_but_no_rates(tmp_path):
    # a record in every month, the last on the quarter's last day (no extraction date: June is
    # complete only if the crimes reach its last day)
    write_table(tmp_path, "crimes", ["C1,2023-04-10,8N,true,Worcester", "C2,2023-06-30,8N,false,Worcester",
                                     "C3,2023-05-20,8N,false,Worcester"])
    r = compute("2023/24 Q1", read_tables(tmp_path), families=["crime"])
    assert one(r, "trc_volume")["value"] == 3
    assert one(r, "trc_charge_rate", "cohort")["status"] == "not_available_from_source"


def test_missing_tables_are_not_available_from_source(tmp_path):
    write_table(tmp_path, "vfm", ["2022/23,unqualified"])
    r = compute("2023/24 Q1", read_tables(tmp_path))
    assert one(r, "calls_999_within_10s")["status"] == "not_available_from_source"
    assert one(r, "carbon_footprint")["status"] == "not_yet_available"


def test_breakdowns_by_hand(crime_dir):
    from kpi_lib import breakdowns
    bd = breakdowns("2023/24 Q1", read_tables(crime_dir), families=["crime"])
    grp = bd[(bd["dimension"] == "outcome group") & (bd["basis"] == "cohort")].set_index("category")
    # cohort, Q1's 7 crimes: charge/summons C1 (1), C2 (1A), C9 (1) = 3; community resolution C8 = 1
    assert grp.loc["Charge/summons", "numerator"] == 3 and grp.loc["Charge/summons", "denominator"] == 7
    assert grp.loc["Community resolution", "numerator"] == 1 and grp.loc["Caution", "numerator"] == 0
    inp = bd[(bd["dimension"] == "outcome group") & (bd["basis"] == "in_period")].set_index("category")
    assert inp.loc["Caution", "numerator"] == 1  # C7's caution, assigned in April
    area = bd[(bd["dimension"] == "local area") & (bd["kpi_id"] == "trc_volume")].set_index("category")
    # Worcester: C1 C2 C5 = 3; Redditch: C3 C4 C8 C9 = 4 (C6 is fraud, C7 is March)
    assert area["value"].to_dict() == {"Redditch": 4, "Worcester": 3}


def test_chart_grains_are_each_familys_own_unless_the_setting_names_it():
    from kpi_lib.measure.registry import chart_grains
    own = {"crime": "month", "calls": "month", "response": "month", "confidence": "quarter",
           "satisfaction": "quarter", "finance": "none", "environment": "month"}
    assert chart_grains({"spc_grain": {}}) == own
    assert chart_grains({}) == own
    assert chart_grains({"spc_grain": {"crime": "quarter"}}) == {**own, "crime": "quarter"}
