"""Canonical readers: schema rejections with file, row, column and value; timestamps and clock
changes; the row ledger; and `kpi validate` on good and bad folders (no tracebacks)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from kpi_lib.core.errors import InputError
from kpi_lib.inputs import read_tables

from helpers import kpi, parquet_to_csv, write_table


def test_good_small_input_and_ledger(tmp_path):
    write_table(tmp_path, "crimes", ["C1,2023-04-02,8N,true,Worcester", "C2,2023-05-03,28E,no,Redditch"])
    write_table(tmp_path, "outcomes", ["C1,1,2023-05-01", "C2,0,"])
    t = read_tables(tmp_path)
    assert list(t.frames["crimes"]["domestic_abuse"]) == [True, False]
    for e in t.ledger:
        assert e.rows_read == e.rows_used + sum(e.rejected.values())
    assert [(e.table, e.rows_read) for e in t.ledger] == [("crimes", 2), ("outcomes", 2)]


@pytest.mark.parametrize("table, rows, column, value, words", [
    ("crimes", ["C1,2023-04-02,8N,true,Worcester", "C2,2023-13-40,8N,true,Worcester"],
     "recorded_date", "2023-13-40", "not a date"),
    ("crimes", ["C1,2023-04-02,ZZ9,true,Worcester"], "offence_code", "ZZ9", "unknown offence code"),
    ("crimes", ["C1,2023-04-02,8N,maybe,Worcester"], "domestic_abuse", "maybe", "not a yes/no value"),
    ("calls", ["K1,999,yesterday,"], "received_at", "yesterday", "not a timestamp"),
    ("calls", ["K1,112,2023-04-01T10:00:00+01:00,"], "line", "112", "unknown value"),
    ("calls", ["K1,999,2023-04-01T10:00:00+01:00,2023-04-01T09:00:00+01:00"], "answered_at",
     "2023-04-01T09:00:00+01:00", "answered before it was received"),
    ("incidents", ["I1,7,2023-04-01T10:00:00+01:00,,true,Worcester"], "grade", "7", "unknown grade"),
    ("survey_responses", ["victim,R1,2023-04-01,Worcester,Burglary,overall_satisfaction,Very satisfied,-1"],
     "weight", "-1", "weight is not positive"),
    ("finance", ["2023/24,1,abc,1,1,1"], "budget_gbp", "abc", "not a number"),
])
def test_rejections_name_file_row_column_value(tmp_path, table, rows, column, value, words):
    write_table(tmp_path, table, rows)
    with pytest.raises(InputError) as e:
        read_tables(tmp_path)
    msg = str(e.value)
    assert f"{table}.csv" in msg and f"column '{column}'" in msg and repr(value) in msg and words in msg
    assert f"row {len(rows)}" in msg


def test_missing_column(tmp_path):
    write_table(tmp_path, "crimes", ["C1,2023-04-02,8N,true"], header="crime_ref,recorded_date,offence_code,domestic_abuse")
    with pytest.raises(InputError, match=r"crimes.csv: missing column 'local_area'"):
        read_tables(tmp_path)


def test_outcome_for_unknown_crime(tmp_path):
    write_table(tmp_path, "crimes", ["C1,2023-04-02,8N,true,Worcester"])
    write_table(tmp_path, "outcomes", ["C9,1,2023-05-01"])
    with pytest.raises(InputError, match="outcome for a crime that is not in the crimes table"):
        read_tables(tmp_path)


def test_timestamps_without_offset_need_a_timezone(tmp_path):
    write_table(tmp_path, "calls", ["K1,999,2023-04-01T10:00:00,2023-04-01T10:00:05"])
    with pytest.raises(InputError, match="no UTC offset"):
        read_tables(tmp_path)
    t = read_tables(tmp_path, timezone="Europe/London")
    assert t.frames["calls"]["received_at"].iloc[0] == pd.Timestamp("2023-04-01T09:00:00Z")


def test_ambiguous_local_time_is_an_error_not_a_guess(tmp_path):
    # 01:30 on 29 October 2023 happened twice in London (BST then GMT)
    write_table(tmp_path, "incidents", ["I1,1,2023-10-29T01:30:00,,true,Worcester"])
    with pytest.raises(InputError, match="ambiguous or does not exist"):
        read_tables(tmp_path, timezone="Europe/London")


@pytest.mark.integration
def test_validate_sample_ok(small_sample):
    r = kpi("validate", str(small_sample))
    assert r.returncode == 0, r.stderr
    assert "SYNTHETIC" in r.stdout and "crimes" in r.stdout and "rows read" in r.stdout


@pytest.mark.parametrize("table, mutate, expect", [
    ("crimes", lambda d: d.assign(recorded_date=d["recorded_date"].where(d.index != 41, "31/02/2023")),
     ["crimes.csv", "row 42", "column 'recorded_date'", "'31/02/2023'"]),
    ("crimes", lambda d: d.drop(columns=["local_area"]), ["crimes.csv", "missing column 'local_area'"]),
    ("crimes", lambda d: d.assign(offence_code=d["offence_code"].where(d.index != 6, "999X")),
     ["crimes.csv", "row 7", "column 'offence_code'", "'999X'", "unknown offence code"]),
    ("calls", lambda d: d.assign(received_at=d["received_at"].where(d.index != 2, "2023-02-30T25:61")),
     ["calls.csv", "row 3", "column 'received_at'", "'2023-02-30T25:61'"]),
])
@pytest.mark.integration
def test_validate_bad_copies_of_the_sample(tmp_path, small_sample, table, mutate, expect):
    bad = tmp_path / "bad"
    shutil.copytree(small_sample, bad)
    parquet_to_csv(bad, bad, table, mutate)
    r = kpi("validate", str(bad))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr + r.stdout
    for text in expect:
        assert text in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# ---- survey answers against each question's scale ---------------------------------------------

def test_an_answer_off_its_questions_scale_names_file_row_column_and_value(tmp_path):
    write_table(tmp_path, "survey_responses", [
        "victim,R1,2023-04-01,Worcester,Burglary,overall_satisfaction,Very satisfied,1",
        "confidence,R2,2023-04-01,Worcester,,confidence_local_policing,Agree,1",
        "victim,R3,2023-04-02,Worcester,Burglary,overall_satisfaction,Very Satisfied,1",  # capital S
        "victim,R4,2023-04-02,Worcester,Burglary,overall_satisfaction,Agree,1",  # another scale's answer
    ])
    with pytest.raises(InputError) as e:
        read_tables(tmp_path)
    msg = str(e.value)
    for words in ("survey_responses.csv, row 3 (line 4), column 'answer'", "'Very Satisfied'",
                  "not on the scale of question 'overall_satisfaction'", "Completely satisfied",
                  "(and 1 more row"):
        assert words in msg, msg


def test_a_question_without_a_scale_is_an_error_and_scales_come_from_the_settings(tmp_path):
    write_table(tmp_path, "survey_responses", ["victim,R1,2023-04-01,Worcester,Burglary,overall_satisfaction_2,Good,1"])
    with pytest.raises(InputError, match=r"row 1 \(line 2\), column 'question'.*'overall_satisfaction_2'"):
        read_tables(tmp_path)
    t = read_tables(tmp_path, survey_scales={"overall_satisfaction_2": ["Good", "Bad"]})
    assert list(t.frames["survey_responses"]["answer"]) == ["Good"]


@pytest.mark.integration
def test_validate_checks_survey_answers_with_the_run_settings(tmp_path, small_sample):
    bad = tmp_path / "bad"
    shutil.copytree(small_sample, bad)
    parquet_to_csv(bad, bad, "survey_responses",
                   lambda d: d.assign(answer=d["answer"].where(d.index != 4, "Quite satisfied")))
    r = kpi("validate", str(bad))
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "survey_responses.csv, row 5 (line 6), column 'answer'" in r.stderr and "'Quite satisfied'" in r.stderr
    params = tmp_path / "scales.yaml"
    params.write_text("survey_scales:\n  overall_satisfaction: [Completely satisfied, Very satisfied, "
                      "Fairly satisfied, Quite satisfied, Neither satisfied nor dissatisfied, "
                      "Fairly dissatisfied, Very dissatisfied, Completely dissatisfied]\n"
                      "  confidence_local_policing: [Strongly agree, Agree, Neither agree nor disagree, "
                      "Disagree, Strongly disagree, Don't know, Quite satisfied]\n"
                      "  seen_officer_frequency: [Daily, At least weekly, At least monthly, Less often, "
                      "Never, Quite satisfied]\n")
    r = kpi("validate", str(bad), "--params", str(params))
    assert r.returncode == 0 and r.stdout.strip().endswith("valid"), r.stderr


# ---- carbon rows against the conversion factors ------------------------------------------------

@pytest.mark.parametrize("row, column, value, words", [
    ("2024-01-01,hydrogen,5,kg", "source", "hydrogen", "no carbon conversion factor for this source; found 'hydrogen'; expected one of diesel, electricity, natural_gas, petrol"),
    ("2024-01-01,electricity,5,MWh", "unit", "MWh", "no carbon conversion factor for electricity in this unit; found 'MWh'; expected one of kWh"),
    ("2019-01-01,diesel,5,litres", "period_start", "2019-01-01", "no carbon conversion factor for this source, unit and year"),
])
def test_a_carbon_row_without_a_factor_is_an_input_error(tmp_path, row, column, value, words):
    write_table(tmp_path, "carbon", ["2024-01-01,electricity,100,kWh", row])
    with pytest.raises(InputError) as e:
        read_tables(tmp_path)
    msg = str(e.value)
    assert f"carbon.csv, row 2 (line 3), column '{column}'" in msg and words in msg, msg
