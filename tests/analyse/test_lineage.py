"""results/lineage.json: a record for every figure of every budget KPI, and the figures
recomputed from the listed input files and filters alone, with pandas, no kpi_lib computation:
the files are found by name in the data folder the record names and checked against their
SHA-256, the recipe's filters applied, and the result compared with the figure."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from kpi_lib.config.catalogue import budget_kpis, load_catalogue

pytestmark = [pytest.mark.notebooks]


@pytest.fixture(scope="module")
def lineage(quarter_run) -> dict:
    return json.loads((quarter_run.out / "results" / "lineage.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------ an independent reader
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Inputs:
    """The input files a lineage document names, read with pandas only and checked by hash."""

    def __init__(self, doc: dict):
        self.folder = Path(doc["data_folder"])
        self.cache: dict[str, pd.DataFrame] = {}

    def table(self, entry: dict) -> pd.DataFrame:
        name = entry["file"]
        if name not in self.cache:
            path = self.folder / name
            assert _sha256(path) == entry["sha256"], f"{name}: not the file the figure was made from"
            self.cache[name] = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
        return self.cache[name]


def _day(s: pd.Series, zone: str | None = None) -> pd.Series:
    """Calendar dates (midnight timestamps) of a column of dates or instants; instants in UTC are
    first converted to ``zone``."""
    t = pd.to_datetime(s, utc=zone is not None)
    if zone is not None:
        t = t.dt.tz_convert(zone).dt.tz_localize(None)
    return t.dt.normalize()


def _mask(df: pd.DataFrame, items: list[dict]) -> pd.Series:
    keep = pd.Series(True, index=df.index)
    for it in items:
        col, op, v = it["column"], it["op"], it["value"]
        s = df[col]
        if op == "in":
            keep &= s.astype(str).isin([str(x) for x in v])
        elif op == "not_in":
            keep &= ~s.astype(str).isin([str(x) for x in v])
        elif op == "equals":
            keep &= s == v
        elif op in ("date_between", "local_date_between"):
            d = _day(s, it.get("timezone") if op == "local_date_between" else None)
            keep &= (d >= pd.Timestamp(v[0])) & (d <= pd.Timestamp(v[1]))
        elif op == "on_or_before":
            keep &= _day(s) <= pd.Timestamp(v)
        elif op == "is_null":
            keep &= s.isna()
        elif op == "not_null":
            keep &= s.notna()
        elif op == "seconds_at_most":
            start, seconds = v
            wait = (pd.to_datetime(s, utc=True) - pd.to_datetime(df[start], utc=True)).dt.total_seconds()
            keep &= wait <= seconds
        else:
            raise AssertionError(f"unknown filter {op}")
    return keep.fillna(False).astype(bool)


def recompute(rec: dict, inputs: Inputs) -> float:
    """The figure from the files and the recipe alone."""
    r = rec["recipe"]
    files = {e["table"]: e for e in rec["inputs"]}
    df = inputs.table(files[r["table"]])
    base = df[_mask(df, r.get("where", []))]
    kind = r["kind"]
    if kind == "count":
        return float(len(base))
    if kind == "proportion":
        return 100 * _mask(base, r["numerator_where"]).sum() / len(base)
    if kind == "weighted_share":
        yes = _mask(base, r["numerator_where"])
        return 100 * base.loc[yes, r["weight"]].sum() / base[r["weight"]].sum()
    if kind == "median_minutes":
        minutes = (pd.to_datetime(base[r["end"]], utc=True) - pd.to_datetime(base[r["start"]], utc=True)).dt.total_seconds() / 60
        return float(minutes.median())
    if kind == "mean_seconds":
        return float((pd.to_datetime(base[r["end"]], utc=True) - pd.to_datetime(base[r["start"]], utc=True)).dt.total_seconds().mean())
    if kind == "ratio_of_columns":
        row = base.iloc[0]
        return 100 * float(row[r["numerator"]]) / float(row[r["denominator"]])
    outcomes = inputs.table(files[r["numerator_table"]])
    if kind == "cohort_rate":
        o = outcomes[outcomes["crime_ref"].isin(base["crime_ref"])]
        return 100 * _mask(o, r["numerator_where"]).sum() / len(base)
    if kind == "in_period_rate":
        crimes = df[_mask(df, r["crimes_where"])]
        o = outcomes[outcomes["crime_ref"].isin(crimes["crime_ref"])]
        return 100 * _mask(o, r["numerator_where"]).sum() / len(base)
    raise AssertionError(f"no recipe to recompute ({kind})")


# ------------------------------------------------------------------------------ the tests
def test_a_record_for_every_figure_of_every_budget_kpi(quarter_run, lineage):
    kpis = pd.read_csv(quarter_run.out / "results" / "kpis.csv")
    budget = {k.id for k in budget_kpis(load_catalogue())}
    ids = {r["id"] for r in lineage["records"]}
    figures = ("value", "previous_value", "last_year_value", "rolling12_value", "previous12_value", "baseline_value")
    expected = set()
    for _, row in kpis[kpis["kpi_id"].isin(budget)].iterrows():
        basis = "" if pd.isna(row["basis"]) else str(row["basis"])
        for f in figures:
            if f == "value" or not pd.isna(row[f]):
                expected.add("/".join(x for x in (row["kpi_id"], basis, f) if x))
    assert expected <= ids
    assert {r["kpi_id"] for r in lineage["records"]} == budget
    for rec in lineage["records"]:
        for key in ("definition", "numerator_words", "period", "filters", "inputs", "code_version", "reproduce"):
            assert key in rec, (rec["id"], key)
        assert rec["code_version"].startswith("kpi_lib ")
        assert rec["reproduce"].startswith("python -c ") and rec["kpi_id"] in rec["reproduce"]
        assert all(len(e["sha256"]) == 64 for e in rec["inputs"]), rec["id"]
        if rec["basis"] == "cohort":
            assert rec["cohort"]["age_days"] >= 0 and rec["cohort"]["outcomes_up_to"]


@pytest.mark.parametrize("record_id", [
    "rape_volume/value",                         # a count of crimes by offence code
    "trc_charge_rate/cohort/value",              # a cohort rate: crimes joined to their outcomes
    "calls_999_within_10s/value",                # a proportion of calls, by UK date and wait
])
def test_three_figures_recomputed_from_the_inputs_and_filters_alone(lineage, record_id):
    rec = next(r for r in lineage["records"] if r["id"] == record_id)
    got = recompute(rec, Inputs(lineage))
    assert got == pytest.approx(rec["value"], rel=1e-9, abs=1e-9), record_id


def test_every_figure_with_a_recipe_recomputes(lineage):
    """All of them, comparisons at equal maturity included (the cohort of last year counted with
    outcomes to its own cut-off date)."""
    inputs = Inputs(lineage)
    done = 0
    for rec in lineage["records"]:
        if rec["recipe"]["kind"] == "described" or rec["value"] is None or rec["status"] != "reported":
            continue
        got = recompute(rec, inputs)
        assert math.isclose(got, rec["value"], rel_tol=1e-9, abs_tol=1e-9), (rec["id"], got, rec["value"])
        done += 1
    assert done >= 150


def test_every_filter_of_a_recipe_reads_in_words():
    from kpi_lib.analyse.lineage import filter_words
    rec = {"where": [
        {"column": "offence_code", "op": "in", "value": ["28E", "30C"]},
        {"column": "recorded_date", "op": "date_between", "value": ["2025-01-01", "2025-03-31"]},
        {"column": "answered_at", "op": "seconds_at_most", "value": ["received_at", 10.0]},
        {"column": "outcome_date", "op": "is_null", "value": None}]}
    words = filter_words({**rec, "numerator_where": [{"column": "outcome_type", "op": "not_in", "value": ["1"]}]})
    assert words == ["offence_code is one of 28E, 30C", "recorded_date from 2025-01-01 to 2025-03-31",
                     "answered_at at most 10 seconds after received_at", "outcome_date is empty",
                     "numerator: outcome_type is not one of 1"]
    with pytest.raises(ValueError, match="unknown filter 'between'"):
        filter_words({"where": [{"column": "x", "op": "between", "value": 1}]})
