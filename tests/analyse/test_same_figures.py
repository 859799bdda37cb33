"""Same figures as the engine gave before the measurement panel.

tests/golden/ holds the KPI tables the pre-panel engine gave for the small sample (2023/24 Q1 and
2024/25 Q4). Every figure computed now from the panel must be identical, except where a method
changed it on purpose; each such change is listed in :data:`ON_PURPOSE` with the rows it may touch
and why. Newer columns are not in the golden tables and are pinned elsewhere.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from kpi_lib.analyse import engine
from kpi_lib.config.annotations import load_annotations
from kpi_lib.config.configuration import load_configuration

GOLDEN = Path(__file__).parent / "golden"
CONFIG = load_configuration()
PARAMS = CONFIG.params
REBASED = {k for a in load_annotations() if a.rebase for k in
           ([] if a.kpis == "all" else a.kpis)}
SEASONAL = set(PARAMS.get("spc_seasonal") or [])
RATE_KPIS = {k.id for k in CONFIG.catalogue if k.is_outcome_rate}
SPC = ["spc_variation", "spc_rule", "spc_assurance", "spc_trial"]
COMPARED = ["previous_value", "last_year_value", "previous12_value", "baseline_value",
            "change_previous", "change_last_year", "change_last_year_pct", "last_year_significant",
            "change_12m", "change_12m_pct", "change_12m_significant", "change_baseline",
            "change_baseline_pct"]


def _cohort_rate(r) -> bool:
    return r["kpi_id"] in RATE_KPIS and r["basis"] == "cohort"


# column -> [(which rows, why)]
ON_PURPOSE: dict[str, list[tuple]] = {}
for col in COMPARED:
    ON_PURPOSE.setdefault(col, []).append(
        (_cohort_rate, "cohort rates are compared at equal maturity (the "
                       "matured figures moved to *_mature columns)"))
for col in ("last_year_significant", "change_12m_significant"):
    ON_PURPOSE[col].append((lambda r: r["unit"] == "count",
                            "counts are now tested (exact test for two Poisson counts)"))
for col in SPC:
    ON_PURPOSE.setdefault(col, []).extend([
        (_cohort_rate, "each SPC point of a cohort rate is at equal maturity"),
        (lambda r: r["kpi_id"] in REBASED, "limits rebased at annotated dates only "
                                            "(params/annotations.yaml, e.g. the October 2023 999 change)"),
        (lambda r: r["kpi_id"] in SEASONAL, "seasonally adjusted limits (spc_seasonal)"),
    ])


# Deliberate changes made when the two questions (last year, over time) were kept apart:
for col in ("baseline_value", "change_baseline", "change_baseline_pct"):
    ON_PURPOSE.setdefault(col, []).append(
        (lambda r: True, "the baseline compares like with like: the same quarter of the baseline year "
                         "(at equal maturity for cohort rates), never one quarter against a whole year"))
ON_PURPOSE["last_year_significant"].append(
    (lambda r: True, "a real change against last year needs q < 0.05 after Benjamini-Hochberg across "
                     "the report's tests; counts allow for overdispersion (quasi-Poisson); response "
                     "medians are tested (Mood's median test)"))
ON_PURPOSE["change_12m_significant"].append(
    (lambda r: r["unit"] in ("count", "minutes"),
     "12-month counts allow for overdispersion (quasi-Poisson); medians are tested (Mood's median test)"))
ON_PURPOSE["change_12m_significant"].append(
    (lambda r: True, "a real 12-month change needs q < 0.05 after Benjamini-Hochberg across the report's "
                     "12-month tests, the rule of the year table"))
for col in ("spc_variation", "spc_rule", "spc_assurance", "spc_trial", "spc_points"):
    ON_PURPOSE.setdefault(col, []).append(
        (lambda r: r["spc_grain"] != "none",
         "limits come from a recent window (24 months since the last rebase, never fewer than 12 "
         "points) and follow a steady trend where there is one; assurance is judged on all the "
         "period's points; in-period outcome rates are seasonally adjusted"))
for col in ("note", "pending_share", "provisional"):
    ON_PURPOSE.setdefault(col, []).append(
        (lambda r: r["kpi_id"] == "action_taken_rate" and r["basis"] == "cohort",
         "the action-taken rate has a pending share (that of total recorded crime) and can be provisional"))


def _same(a, b) -> bool:
    if isinstance(b, float) and math.isnan(b):
        return a is None or a == "" or (isinstance(a, float) and math.isnan(a))
    if isinstance(a, (bool,)) or isinstance(b, bool):
        return str(a) == str(b)
    try:
        fa, fb = float(a), float(b)
    except (TypeError, ValueError):
        return str(a) == str(b)
    return math.isclose(fa, fb, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("period,slug", [("2023/24 Q1", "2023-24-q1"), ("2024/25 Q4", "2024-25-q4")])
def test_same_figures_as_before_the_panel(small_panel, period, slug):
    golden = pd.read_csv(GOLDEN / f"kpis_{slug}_small_sample.csv", keep_default_na=True)
    now = engine.compute(period, small_panel, CONFIG).reset_index(drop=True)
    assert list(zip(now["kpi_id"], now["basis"].fillna(""), strict=True)) == \
        list(zip(golden["kpi_id"], golden["basis"].fillna(""), strict=True))
    unexpected = []
    for col in golden.columns:
        for i, (a, b) in enumerate(zip(now[col], golden[col], strict=True)):
            if _same(a, b):
                continue
            row = now.iloc[i]
            if not any(rule(row) for rule, _ in ON_PURPOSE.get(col, [])):
                unexpected.append((row["kpi_id"], row["basis"], col, a, b))
    assert not unexpected, f"figures changed without a listed reason: {unexpected[:10]}"


def test_on_purpose_changes_happened(small_panel):
    """The listed changes are real (the golden values differ where the issue said they would)."""
    golden = pd.read_csv(GOLDEN / "kpis_2024-25-q4_small_sample.csv", keep_default_na=True)
    now = engine.compute("2024/25 Q4", small_panel, CONFIG).reset_index(drop=True)
    trc = now["kpi_id"].eq("trc_charge_rate") & now["basis"].eq("cohort")
    assert not _same(now.loc[trc, "last_year_value"].iloc[0], golden.loc[trc, "last_year_value"].iloc[0])
    assert _same(now.loc[trc, "last_year_value_mature"].iloc[0], golden.loc[trc, "last_year_value"].iloc[0])
    vol = now["unit"].eq("count")
    assert golden.loc[vol, "last_year_significant"].isna().all()
    assert now.loc[vol, "last_year_significant"].notna().any()
    # the baseline of a quarterly count is a quarter: within a third of this quarter's count
    # (the whole baseline year was about four times as large)
    row = now.set_index(["kpi_id", "basis"]).loc[("trc_volume", "")]
    old = golden.set_index("kpi_id").loc["trc_volume"]
    assert abs(row["baseline_value"] / row["value"] - 1) < 1 / 3
    assert old["baseline_value"] / old["value"] > 3
    # the action-taken rate has a pending share; grade 2's change has a test
    action = now[now["kpi_id"].eq("action_taken_rate") & now["basis"].eq("cohort")].iloc[0]
    assert action["pending_share"] > 0
    grade2 = now[now["kpi_id"].eq("response_grade2_median")].iloc[0]
    assert 0 <= grade2["last_year_p_value"] <= 1
