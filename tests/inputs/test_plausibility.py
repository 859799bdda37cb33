"""Plausibility rules: what real extracts get wrong, built from the small sample, each ending in a
correct figure or one error naming the file, the rows and the rule (never a changed figure)."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kpi_lib.cli import app
from kpi_lib.config.configuration import load_configuration
from kpi_lib.config.params import load_params
from kpi_lib.core.errors import InputError
from kpi_lib.inputs import read_tables
from kpi_lib.inputs.parsing import financial_year_label
from kpi_lib.inputs.plausibility import DEFAULTS, RULES, Limits
from kpi_lib.measure.panel import build_panel

from helpers import REPO

PARAMS = load_params()


def _folder(small_sample: Path, tmp_path: Path, *tables: str) -> Path:
    """A data folder holding some of the sample's tables (and its metadata.yaml)."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    shutil.copy(small_sample / "metadata.yaml", data / "metadata.yaml")
    for t in tables:
        src = next(small_sample.glob(f"{t}.*"))
        shutil.copy(src, data / src.name)
    return data


def _value(tables, family: str, kpi_id: str, start: str, kind: str = "month") -> float:
    pnl = build_panel(tables, load_configuration(PARAMS), [family])
    m = pnl.whole_force()
    row = m[(m["kpi_id"] == kpi_id) & (m["window_kind"] == kind) & (pd.to_datetime(m["window_start"]) == start)
            & (m["basis"] != "in_period")]
    return float(row["value"].iloc[0])


# ------------------------------------------------------------------------------ outcomes
def _charges(small_sample: Path, tmp_path: Path, when) -> tuple[Path, pd.DataFrame, np.ndarray]:
    """300 outcomes of the sample turned into charges dated ``when(recorded_date)``."""
    data = _folder(small_sample, tmp_path, "crimes", "outcomes")
    crimes = pd.read_parquet(data / "crimes.parquet")
    out = pd.read_parquet(data / "outcomes.parquet")
    recorded = out["crime_ref"].map(crimes.set_index("crime_ref")["recorded_date"])
    rng = np.random.default_rng(7)
    rows = np.sort(rng.choice(np.flatnonzero(pd.to_datetime(recorded) >= "2020-01-01"), 300, replace=False))
    out.loc[rows, "outcome_type"] = "1"
    out.loc[rows, "outcome_date"] = [when(pd.Timestamp(r)).strftime("%Y-%m-%d") for r in recorded.iloc[rows]]
    out.to_parquet(data / "outcomes.parquet", index=False)
    return data, crimes, rows


def test_charges_dated_before_their_crime_stop_the_reading(small_sample, tmp_path):
    data, crimes, rows = _charges(small_sample, tmp_path, lambda r: r - timedelta(days=20))
    with pytest.raises(InputError) as e:
        read_tables(data)
    msg = str(e.value)
    first = pd.read_parquet(data / "outcomes.parquet").iloc[rows[0]]
    assert msg.startswith(f"outcomes.parquet, row {rows[0] + 1}, column 'outcome_date': outcome dated before "
                          f"its crime was recorded (crime {first['crime_ref']} recorded "), msg
    assert f"also rows {rows[1] + 1:,}, {rows[2] + 1:,} and {rows[3] + 1:,} and 296 more rows" in msg
    assert "expected a date on or after the crime's recorded_date" in msg and "\n" not in msg


def test_charges_dated_in_2052_stop_the_reading(small_sample, tmp_path):
    data, _, rows = _charges(small_sample, tmp_path, lambda r: pd.Timestamp("2052-01-01"))
    with pytest.raises(InputError) as e:
        read_tables(data)
    msg = str(e.value)
    assert msg.startswith(f"outcomes.parquet, row {rows[0] + 1}, column 'outcome_date': outcome dated after "
                          "the extraction date (15 May 2025, metadata.yaml)"), msg
    assert "and 296 more rows" in msg and "found '2052-01-01T00:00:00'" in msg


def test_without_an_extraction_date_today_is_the_limit(tmp_path):
    from helpers import write_table
    write_table(tmp_path, "crimes", ["C1,2024-04-02,8N,true,Worcester", "C2,2052-04-03,8N,true,Worcester"])
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column 'recorded_date': recorded after today "
                                         r"\(1 June 2026; no extraction date"):
        read_tables(tmp_path, today=date(2026, 6, 1))
    assert len(read_tables(tmp_path, today=date(2052, 5, 1)).frames["crimes"]) == 2


# ------------------------------------------------------------------------------ calls
@pytest.mark.integration
def test_a_101_call_answered_a_year_late_is_left_out_counted_and_named(small_sample, tmp_path):
    """One 101 call answered a year late used to move the month's average wait from about 106 s
    to over 6,000 s (and its SPC limits with it); it is now left out, counted and named, and
    every figure is the figure of the other calls."""
    data = _folder(small_sample, tmp_path, "calls")
    calls = pd.read_parquet(data / "calls.parquet")
    original = read_tables(data)
    jan = (calls["line"] == "101") & calls["answered_at"].notna() & \
        (calls["received_at"] >= pd.Timestamp("2024-01-10", tz="UTC"))
    i = int(np.flatnonzero(jan)[0])
    calls.loc[i, "answered_at"] = calls.loc[i, "received_at"] + pd.Timedelta(days=365)
    calls.to_parquet(data / "calls.parquet", index=False)
    tables = read_tables(data)
    entry = next(e for e in tables.ledger if e.table == "calls")
    assert entry.rows_read == len(calls) and entry.rows_used == len(calls) - 1
    assert entry.rejected == {"answer wait over max_answer_wait_seconds (14,400 s): taken as a recording error": 1}
    note = next(n for n in tables.notes if n.startswith("calls.parquet: 1 row left out"))
    assert f"(row {i + 1:,}; largest 3.1536e+07 s, column answered_at)" in note
    expected = original.frames["calls"].drop(index=i).reset_index(drop=True)
    pd.testing.assert_frame_equal(tables.frames["calls"], expected)
    assert note in build_panel(tables, load_configuration(PARAMS), ["calls"]).info["notes"]  # for the report
    month = calls.loc[i, "received_at"].tz_convert("Europe/London").strftime("%Y-%m-01")
    wait = (calls["answered_at"] - calls["received_at"]).dt.total_seconds()
    local = calls["received_at"].dt.tz_convert("Europe/London")
    same = (local.dt.strftime("%Y-%m-01") == month) & (calls["line"] == "101") & calls["answered_at"].notna()
    same.iloc[i] = False
    assert _value(tables, "calls", "calls_101_average_wait", month) == pytest.approx(wait[same].mean())


def test_kpi_validate_reports_the_exclusion_and_a_raised_ceiling_keeps_the_call(small_sample, tmp_path):
    data = _folder(small_sample, tmp_path, "calls")
    calls = pd.read_parquet(data / "calls.parquet")
    calls.loc[5, "answered_at"] = calls.loc[5, "received_at"] + pd.Timedelta(hours=5)
    calls.to_parquet(data / "calls.parquet", index=False)
    r = CliRunner().invoke(app, ["validate", str(data)])
    assert r.exit_code == 0, r.output
    assert "rejected 1: answer wait over max_answer_wait_seconds (14,400 s)" in r.output
    assert "calls.parquet: 1 row left out of the figures" in r.output
    params = tmp_path / "p.yaml"
    params.write_text("max_answer_wait_seconds: 21600\n")
    r = CliRunner().invoke(app, ["validate", str(data), "--params", str(params)])
    assert r.exit_code == 0 and "rejected" not in r.output.replace("0 rejected", ""), r.output


def test_a_grade_1_attendance_beyond_the_ceiling_is_left_out_and_grade_4_kept(small_sample, tmp_path):
    data = _folder(small_sample, tmp_path, "incidents")
    inc = pd.read_parquet(data / "incidents.parquet")
    g1 = int(np.flatnonzero((inc["grade"] == 1) & inc["arrived_at"].notna())[10])
    g4 = int(np.flatnonzero((inc["grade"] == 4) & inc["arrived_at"].notna())[10])
    for i in (g1, g4):
        inc.loc[i, "arrived_at"] = inc.loc[i, "created_at"] + pd.Timedelta(days=8)
    inc.to_parquet(data / "incidents.parquet", index=False)
    tables = read_tables(data)
    entry = next(e for e in tables.ledger if e.table == "incidents")
    assert entry.rejected == {"grade 1 or 2 attendance time over max_attendance_minutes (10,080 minutes): "
                              "taken as a recording error": 1}
    assert entry.rows_used == len(inc) - 1 and len(tables.frames["incidents"]) == len(inc) - 1
    assert f"(row {g1 + 1:,}; largest 11,520 minutes, column arrived_at)" in tables.notes[0]


def test_kpi_validate_stops_on_an_impossible_value_with_one_line(small_sample, tmp_path):
    data, _, rows = _charges(small_sample, tmp_path, lambda r: r - timedelta(days=1))
    r = CliRunner().invoke(app, ["validate", str(data)])
    assert r.exit_code == 1 and r.exception is None or isinstance(r.exception, SystemExit)
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: outcomes.parquet, row {rows[0] + 1}, column 'outcome_date'")


# ------------------------------------------------------------------------------ survey
def test_a_survey_weight_of_a_billion_is_left_out_counted_and_named(small_sample, tmp_path):
    data = _folder(small_sample, tmp_path, "survey_responses")
    survey = pd.read_parquet(data / "survey_responses.parquet")
    original = read_tables(data)
    i = int(np.flatnonzero((survey["question"] == "overall_satisfaction")
                           & ~survey["answer"].isin(PARAMS["satisfied_answers"]))[40])
    survey.loc[i, "weight"] = 1e9
    survey.to_parquet(data / "survey_responses.parquet", index=False)
    tables = read_tables(data)
    entry = next(e for e in tables.ledger if e.table == "survey_responses")
    assert entry.rejected == {"survey weight outside survey_weight_range (0.05 to 20): taken as a recording error": 1}
    assert any(n.startswith("survey_responses.parquet: 1 row left out") for n in tables.notes)
    pd.testing.assert_frame_equal(tables.frames["survey_responses"],
                                  original.frames["survey_responses"].drop(index=i).reset_index(drop=True))


# ------------------------------------------------------------------------------ carbon
def test_a_carbon_month_pasted_twice_stops_the_reading(small_sample, tmp_path):
    data = _folder(small_sample, tmp_path, "carbon")
    lines = (data / "carbon.csv").read_text().splitlines()
    month = [ln for ln in lines if ln.startswith("2024-02-01")]
    (data / "carbon.csv").write_text("\n".join(lines + month) + "\n")
    with pytest.raises(InputError) as e:
        read_tables(data)
    first = lines.index(month[0])  # the header is line 1, so this is the first row's number
    assert str(e.value).startswith(f"carbon.csv, row {len(lines)} (line {len(lines) + 1}), column 'period_start': "
                                   f"{month[0].split(',')[1]} for February 2024 is given twice (first at row {first})")
    assert "also rows" in str(e.value) and "one row per month and source" in str(e.value)


def test_gas_missing_for_one_month_stops_the_reading(small_sample, tmp_path):
    data = _folder(small_sample, tmp_path, "carbon")
    lines = (data / "carbon.csv").read_text().splitlines()
    (data / "carbon.csv").write_text("\n".join(ln for ln in lines if not ln.startswith("2024-02-01,natural_gas")) + "\n")
    with pytest.raises(InputError) as e:
        read_tables(data)
    assert str(e.value).startswith("carbon.csv, column 'source': no natural_gas row for February 2024, though "
                                   "natural_gas is given for the months before and the table runs to March 2025")


# ------------------------------------------------------------------------------ finance
@pytest.mark.parametrize("spelling", ["{y}-{z:02d}", "{y}/{y1}", "FY{yy}/{z:02d}", "{y}\u2013{z:02d}"])
def test_finance_years_in_any_common_spelling_are_matched(spelling, small_sample, tmp_path):
    """Finance years written 2024-25 used to pass validation and then match nothing: the report
    said "No finance return". Any common spelling is read as 2024/25."""
    data = _folder(small_sample, tmp_path, "finance", "vfm")
    original = read_tables(data)
    fin = pd.read_csv(data / "finance.csv", dtype=str)
    y = fin["financial_year"].str[:4].astype(int)
    fin["financial_year"] = [spelling.format(y=a, z=(a + 1) % 100, y1=a + 1, yy=a % 100) for a in y]
    fin.to_csv(data / "finance.csv", index=False)
    tables = read_tables(data)
    assert list(tables.frames["finance"]["financial_year"]) == list(original.frames["finance"]["financial_year"])
    got = _value(tables, "finance", "finance_savings_delivered", "2024-04-01", "quarter")
    assert got == _value(original, "finance", "finance_savings_delivered", "2024-04-01", "quarter") and got > 0


def test_financial_year_spellings():
    for text in ("2024/25", "2024-25", "2024/2025", "2024 to 2025", "FY2024/25", "FY24/25", "24/25", " 2024-25 "):
        assert financial_year_label(text) == "2024/25", text
    assert financial_year_label("1999/2000") == "1999/00"
    for text in ("2024/26", "2024", "Q1", "", None, "2024/25 Q1"):
        assert financial_year_label(text) is None, text


# ------------------------------------------------------------------------------ the rules' record
def test_guarantees_document_lists_every_rule_and_default():
    doc = (REPO / "docs" / "guarantees.md").read_text(encoding="utf-8")
    for rule in RULES:
        assert rule.says in doc, rule.says
        if rule.setting:
            assert f"`{rule.setting}`" in doc
    for key, default in DEFAULTS.items():
        assert PARAMS[key] == default, key  # params/defaults.yaml states the same defaults
    assert "| `max_answer_wait_seconds` | 14,400 (4 hours) |" in doc


def test_limits_use_the_extraction_date_when_stated():
    assert Limits.of(date(2025, 5, 15)).last_words == "the extraction date (15 May 2025, metadata.yaml)"
    assert Limits.of(None, today=date(2026, 1, 2)).last_day == date(2026, 1, 2)
    assert Limits.of(None, {"survey_weight_range": [0.5, 2]}).survey_weight_range == (0.5, 2.0)
