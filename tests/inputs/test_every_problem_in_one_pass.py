"""A data folder with problems in several files, and several rules broken in one file: `kpi
validate` (and so a run) names every one of them in one message, not the first alone."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from kpi_lib.cli import app
from kpi_lib.core.errors import InputError, InputErrors
from kpi_lib.inputs import read_tables

pytestmark = pytest.mark.integration  # reads the small sample again, broken four ways


@pytest.fixture()
def broken(small_sample, tmp_path):
    """The small sample with four faults in three files: a budget that is not a number (finance
    row 3), a carbon row pasted twice (carbon row 4 again at the end), and in outcomes one dated
    before its crime (row 1) and one dated after the extraction date (row 2)."""
    data = shutil.copytree(small_sample, tmp_path / "data")
    finance = pd.read_csv(data / "finance.csv", dtype=str)
    finance.loc[2, "budget_gbp"] = "abc"
    finance.to_csv(data / "finance.csv", index=False)
    carbon = pd.read_csv(data / "carbon.csv", dtype=str)
    pd.concat([carbon, carbon.iloc[[3]]]).to_csv(data / "carbon.csv", index=False)
    outcomes = pd.read_parquet(data / "outcomes.parquet")
    outcomes["outcome_date"] = outcomes["outcome_date"].astype(object)
    outcomes.loc[0, "outcome_date"] = "2018-01-01"
    outcomes.loc[1, "outcome_date"] = "2030-06-30"
    outcomes["outcome_date"] = pd.to_datetime(outcomes["outcome_date"])
    outcomes.to_parquet(data / "outcomes.parquet", index=False)
    return data, len(carbon) + 1, carbon.iloc[3]


def test_kpi_validate_names_every_problem_of_every_file_in_one_message(broken):
    data, dup_row, dup = broken
    r = CliRunner().invoke(app, ["validate", str(data)])
    assert r.exit_code == 1 and "Traceback" not in r.output
    out = r.output
    assert "4 problems in the inputs, every one found in one pass:" in out
    assert "- finance.csv, row 3 (line 4), column 'budget_gbp': not a number; found 'abc'" in out
    month = pd.Timestamp(dup["period_start"])
    assert (f"- carbon.csv, row {dup_row} (line {dup_row + 1}), column 'period_start': {dup['source']} for "
            f"{month:%B %Y} is given twice (first at row 4)") in out
    assert "- outcomes.parquet, row 1, column 'outcome_date': outcome dated before its crime was recorded" in out
    assert "- outcomes.parquet, row 2, column 'outcome_date': outcome dated after the extraction date" in out
    assert "valid" not in out.splitlines()[-1]


def test_each_problem_is_kept_with_its_file_row_and_column(broken):
    data, dup_row, _ = broken
    with pytest.raises(InputErrors) as e:
        read_tables(data)
    found = [(x.file, x.row, x.column) for x in e.value.errors]
    assert found == [("finance.csv", 3, "budget_gbp"), ("carbon.csv", dup_row, "period_start"),
                     ("outcomes.parquet", 2, "outcome_date"), ("outcomes.parquet", 1, "outcome_date")]
    assert isinstance(e.value, InputError)  # every caller that stops on an input error still does


def test_one_problem_alone_is_the_same_message_as_before(small_sample, tmp_path):
    data = shutil.copytree(small_sample, tmp_path / "data")
    finance = pd.read_csv(data / "finance.csv", dtype=str)
    finance.loc[2, "budget_gbp"] = "abc"
    finance.to_csv(data / "finance.csv", index=False)
    with pytest.raises(InputError) as e:
        read_tables(data)
    assert not isinstance(e.value, InputErrors)
    assert str(e.value).startswith("finance.csv, row 3 (line 4), column 'budget_gbp': not a number")
