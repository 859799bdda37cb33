"""Coverage: which months each input covers, missing is never zero, where an extract ends without
an extraction date, and isolated far-future records."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from kpi_lib.core.errors import InputError
from kpi_lib.inputs.canonical import LedgerEntry, Tables
from kpi_lib.measure import coverage


def _crimes(days: list[str]) -> pd.DataFrame:
    d = pd.to_datetime(pd.Series(days))
    return pd.DataFrame({"crime_ref": [f"C{i}" for i in range(len(d))], "recorded_date": d,
                         "offence_code": "8N", "domestic_abuse": False, "local_area": "A"})


def _calls(days: list[str]) -> pd.DataFrame:
    d = pd.to_datetime(pd.Series(days)).dt.tz_localize("Europe/London")
    return pd.DataFrame({"call_ref": [f"K{i}" for i in range(len(d))], "line": "999", "received_at": d,
                         "answered_at": d})


def _daily(first: str, last: str, skip: tuple[str, ...] = ()) -> list[str]:
    days = pd.date_range(first, last, freq="D")
    return [f"{d:%Y-%m-%d}" for d in days if f"{d:%Y-%m}" not in skip]


def _tables(extraction=None, ledger=(), **frames) -> Tables:
    return Tables(frames=frames, ledger=list(ledger), folder="", extraction_date=extraction)


def test_a_month_with_no_records_inside_the_span_is_missing():
    t = _tables(date(2025, 5, 15), crimes=_crimes(_daily("2024-01-01", "2025-05-14", skip=("2024-06", "2024-07"))))
    c = coverage.coverage_of(t)["crimes"]
    assert (c.first, c.end) == (date(2024, 1, 1), date(2025, 5, 1))
    assert c.missing == [date(2024, 6, 1), date(2024, 7, 1)]
    assert coverage.gaps_sentence(coverage.coverage_of(t)) == "not in the data: crimes June 2024 to July 2024"


def test_without_an_extraction_date_coverage_ends_at_the_last_month_every_record_table_completes():
    # an extract taken on 10 March: February is the last complete month, for crimes as for calls
    t = _tables(crimes=_crimes(_daily("2024-04-01", "2025-03-10")), calls=_calls(_daily("2024-04-01", "2025-03-10")))
    cov = coverage.coverage_of(t)
    assert cov["crimes"].end == cov["calls"].end == date(2025, 3, 1)
    # calls complete to 31 March, crimes to 10 March: both end where both are complete
    t = _tables(crimes=_crimes(_daily("2024-04-01", "2025-03-10")), calls=_calls(_daily("2024-04-01", "2025-03-31")))
    assert coverage.coverage_of(t)["calls"].end == date(2025, 3, 1)
    # both complete to 31 March: March is covered
    t = _tables(crimes=_crimes(_daily("2024-04-01", "2025-03-31")))
    assert coverage.coverage_of(t)["crimes"].end == date(2025, 4, 1)


def test_a_quarter_ending_after_the_coverage_is_not_yet_available():
    from kpi_lib.config.configuration import load_configuration
    from kpi_lib.measure.panel import build_panel
    t = _tables(crimes=_crimes(_daily("2024-01-01", "2025-03-10")), calls=_calls(_daily("2024-01-01", "2025-03-10")))
    p = build_panel(t, load_configuration(), ["crime"])
    m = p.whole_force()
    q4 = m[(m["kpi_id"] == "trc_volume") & (m["window_kind"] == "quarter")
           & (m["window_start"] == date(2025, 1, 1))].iloc[0]
    assert q4["status"] == "not_yet_available" and math.isnan(q4["value"])
    feb = m[(m["kpi_id"] == "trc_volume") & (m["window_kind"] == "month") & (m["window_start"] == date(2025, 2, 1))]
    assert feb["value"].iloc[0] == 28.0


def test_isolated_far_future_records_are_an_error():
    days = _daily("2023-04-01", "2025-03-31") + ["2031-01-04"]
    t = _tables(crimes=_crimes(days), ledger=[LedgerEntry("crimes", "crimes.csv", "x", len(days), len(days))])
    with pytest.raises(InputError) as err:
        coverage.coverage_of(t)
    text = str(err.value)
    assert "crimes.csv" in text and "2031-01-04" in text and "recorded_date" in text
    assert "March 2025" in text
    # a long gap followed by many months is a gap, not an error
    days = _daily("2023-04-01", "2023-08-31") + _daily("2024-06-01", "2025-03-31")
    c = coverage.coverage_of(_tables(crimes=_crimes(days)))["crimes"]
    assert len(c.missing) == 9


def test_apply_coverage_blanks_windows_touching_a_gap_and_names_the_months():
    rows = pd.DataFrame({
        "kpi_id": "trc_volume", "window_kind": ["month", "quarter", "rolling12", "month"],
        "window_start": [date(2024, 5, 1), date(2024, 4, 1), date(2024, 4, 1), date(2024, 4, 1)],
        "window_end": [date(2024, 6, 1), date(2024, 7, 1), date(2025, 4, 1), date(2024, 5, 1)],
        "value": [0.0, 7186.0, 50000.0, 7186.0], "numerator": 0.0, "denominator": np.nan,
        "status": "reported", "note": ""})
    out = coverage.apply_coverage(rows, [date(2024, 5, 1), date(2024, 6, 1)], None)
    assert list(out["status"]) == ["not_in_data", "not_in_data", "not_in_data", "reported"]
    assert out["value"].isna().tolist() == [True, True, True, False]
    assert out["note"].iloc[1] == "Not in the data: May 2024 to June 2024 (no records at all, never read as zero)."
    assert coverage.month_label([date(2024, 5, 1), date(2024, 6, 1), date(2025, 1, 1)]) == \
        "May 2024 to June 2024; January 2025"
