"""Record-level tables are read a chunk of rows at a time (bounded memory at scale).

What must not change with the chunk size: the tables read, the panel measured from them, the
row a problem is reported at, and duplicates found across chunks. Expected rows and values
below are written by hand from the files the tests build.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_lib.config.configuration import load_configuration
from kpi_lib.core.errors import InputError, InputErrors
from kpi_lib.inputs import chunks
from kpi_lib.inputs.canonical import read_tables
from kpi_lib.measure.families.calls import daily_counts
from kpi_lib.measure.families.response import prepare as prepare_incidents
from kpi_lib.measure.panel import build_panel

from helpers import write_table


def _calls(n: int, dup: tuple[int, int] | None = None, bad_row: int | None = None) -> list[str]:
    """n calls on one day, 999 and 101 alternately, answered 5 s after; rows are 1-based."""
    rows = []
    for i in range(1, n + 1):
        ref = f"C{i:04d}"
        if dup and i == dup[1]:
            ref = f"C{dup[0]:04d}"
        received = f"2024-01-15T10:{i % 60:02d}:00+00:00"
        answered = f"2024-01-15T10:{i % 60:02d}:05+00:00"
        if bad_row == i:
            received = "15/01/2024 10:00"
        rows.append(f"{ref},{'999' if i % 2 else '101'},{received},{answered}")
    return rows


@pytest.fixture
def small_chunks(monkeypatch):
    def set_rows(rows: int) -> None:
        monkeypatch.setattr(chunks, "CHUNK_ROWS", rows)
    return set_rows


def test_a_problem_in_a_later_chunk_names_its_row_in_the_whole_file(tmp_path, small_chunks):
    small_chunks(5)
    write_table(tmp_path, "calls", _calls(25, bad_row=18))
    with pytest.raises(InputError) as e:
        read_tables(tmp_path, only=["calls"])
    msg = str(e.value)
    assert "calls.csv, row 18 (line 19), column 'received_at': not a timestamp" in msg
    assert e.value.row == 18


def test_more_rows_with_the_problem_is_a_lower_bound_when_later_chunks_were_not_read(tmp_path, small_chunks):
    small_chunks(10)
    rows = _calls(30)
    for i in (3, 5, 25):  # rows 3 and 5 in the first chunk, 25 in the third, never read
        rows[i - 1] = rows[i - 1].replace(",999,", ",112,").replace(",101,", ",112,")
    write_table(tmp_path, "calls", rows)
    with pytest.raises(InputError) as e:
        read_tables(tmp_path, only=["calls"])
    assert e.value.row == 3
    assert "(and at least 1 more row with the same problem)" in str(e.value)


@pytest.mark.parametrize("chunk_rows, dup", [(5, (3, 17)),      # in another chunk
                                              (1000, (2, 4))])    # within one chunk
def test_a_repeated_reference_is_an_error_naming_both_rows(tmp_path, small_chunks, chunk_rows, dup):
    small_chunks(chunk_rows)
    first, again = dup
    write_table(tmp_path, "calls", _calls(20, dup=dup))
    with pytest.raises(InputError) as e:
        read_tables(tmp_path, only=["calls"])
    assert (e.value.row, e.value.column, e.value.value) == (again, "call_ref", f"C{first:04d}")
    assert f"reference used twice (first at row {first})" in str(e.value)


def test_equal_hashes_of_different_references_are_not_called_duplicates(tmp_path, small_chunks, monkeypatch):
    """The hash only finds candidates: every reference hashing alike must still read cleanly."""
    small_chunks(4)
    monkeypatch.setattr(chunks, "ref_hashes", lambda refs: np.zeros(len(refs), dtype=np.uint64))
    write_table(tmp_path, "calls", _calls(12))
    assert len(read_tables(tmp_path, only=["calls"]).frames["calls"]) == 12
    write_table(tmp_path, "calls", _calls(12, dup=(1, 9)))
    with pytest.raises(InputError) as e:
        read_tables(tmp_path, only=["calls"])
    assert (e.value.row, e.value.value) == (9, "C0001")


def test_ref_hashes_keep_row_order():
    refs = pd.Series([f"R{i}" for i in np.random.default_rng(3).permutation(5000)])
    whole = chunks.ref_hashes(refs)
    one_by_one = [chunks.ref_hashes(refs.iloc[[i]])[0] for i in (0, 1, 2500, 4999)]
    assert list(whole[[0, 1, 2500, 4999]]) == one_by_one


@pytest.mark.integration
@settings(max_examples=15, deadline=None)
@given(rows=st.integers(1, 40))
def test_the_tables_read_do_not_depend_on_the_chunk_size(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("chunks")
    write_table(folder, "calls", _calls(37))
    write_table(folder, "incidents", [f"I{i},{1 + i % 4},2024-01-{1 + i % 28:02d}T09:00:00+00:00,"
                                      f"2024-01-{1 + i % 28:02d}T09:{10 + i % 40:02d}:00+00:00,"
                                      f"{'true' if i % 5 else 'false'},{'North' if i % 3 else 'South'}"
                                      for i in range(37)])
    whole = read_tables(folder)
    old = chunks.CHUNK_ROWS
    chunks.CHUNK_ROWS = rows
    try:
        parts = read_tables(folder)
    finally:
        chunks.CHUNK_ROWS = old
    for table in ("calls", "incidents"):
        pd.testing.assert_frame_equal(parts.frames[table], whole.frames[table])
    assert [e.rows_read for e in parts.ledger] == [37, 37]


@pytest.mark.integration
def test_the_panel_does_not_depend_on_the_chunk_size(small_sample, small_tables, small_chunks):
    small_chunks(9_973)  # several chunks of every record-level table of the small sample
    config = load_configuration()
    parts = read_tables(small_sample)
    assert parts.frames["calls"].shape[0] > 3 * 9_973
    a = build_panel(small_tables, config).measurements
    b = build_panel(parts, config).measurements
    pd.testing.assert_frame_equal(a, b)


def test_calls_are_kept_without_their_references_and_with_lines_as_categories(tmp_path):
    write_table(tmp_path, "calls", _calls(4))
    calls = read_tables(tmp_path, only=["calls"]).frames["calls"]
    assert list(calls.columns) == ["line", "received_at", "answered_at"]
    assert isinstance(calls["line"].dtype, pd.CategoricalDtype)
    assert list(calls["line"]) == ["999", "101", "999", "101"]


def test_daily_counts_by_hand(monkeypatch):
    """Two days (London time), both lines; one 999 call over 10 s, one 101 call abandoned.
    Counted in slices of 2 calls, so a day's calls are split across slices."""
    from kpi_lib.measure.families import calls as calls_mod
    monkeypatch.setattr(calls_mod, "SLICE_ROWS", 2)
    ts = pd.to_datetime
    calls = pd.DataFrame({
        "line": pd.Categorical(["999", "999", "101", "101", "999"]),
        # 23:30 UTC on 31 March 2024 is 00:30 BST on 1 April: the second day
        "received_at": ts(["2024-03-31T10:00:00Z", "2024-03-31T11:00:00Z", "2024-03-31T12:00:00Z",
                           "2024-03-31T13:00:00Z", "2024-03-31T23:30:00Z"], utc=True),
        "answered_at": ts(["2024-03-31T10:00:04Z", "2024-03-31T11:00:12Z", "2024-03-31T12:00:20Z",
                           None, "2024-03-31T23:30:10Z"], utc=True),
    })
    out = daily_counts(calls, {"threshold_999_seconds": 10, "threshold_101_seconds": 30})
    assert out.to_dict("records") == [
        {"day": pd.Timestamp("2024-03-31").date(), "line": "101", "presented": 2, "answered": 1,
         "within": 1, "abandoned": 1, "wait_sum": 20.0},
        {"day": pd.Timestamp("2024-03-31").date(), "line": "999", "presented": 2, "answered": 2,
         "within": 1, "abandoned": 0, "wait_sum": 16.0},
        {"day": pd.Timestamp("2024-04-01").date(), "line": "999", "presented": 1, "answered": 1,
         "within": 1, "abandoned": 0, "wait_sum": 10.0},
    ]


def test_incidents_out_of_day_order_are_measured_as_if_sorted():
    ts = pd.to_datetime
    inc = pd.DataFrame({
        "grade": [2, 1, 1], "resourced": [True, False, True],
        "created_at": ts(["2024-01-03T09:00Z", "2024-01-01T09:00Z", "2024-01-02T09:00Z"], utc=True),
        "arrived_at": ts(["2024-01-03T10:00Z", None, "2024-01-02T09:12Z"], utc=True),
        "local_area": ["North", "South", "North"]})
    t = prepare_incidents(inc)
    assert [str(d) for d in t.day] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert list(t.grade) == [1, 1, 2] and list(t.resourced) == [False, True, True]
    assert np.isnan(t.minutes[0]) and list(t.minutes[1:]) == [12.0, 60.0]
    assert list(t.local_area) == ["South", "North", "North"]



def test_every_column_of_a_later_chunk_names_its_own_row_and_line(tmp_path, small_chunks):
    """Two columns broken in the third chunk of 5 rows: both problems in one message, each at its
    row in the whole file (rows 12 and 14; lines 13 and 15 under the header)."""
    small_chunks(5)
    rows = _calls(20, bad_row=12)
    rows[13] = rows[13].replace(",999,", ",112,").replace(",101,", ",112,")  # row 14: unknown line
    write_table(tmp_path, "calls", rows)
    with pytest.raises(InputErrors) as e:
        read_tables(tmp_path, only=["calls"])
    found = {(x.column, x.row, x.line) for x in e.value.errors}
    assert found == {("received_at", 12, 13), ("line", 14, 15)}, str(e.value)


def test_two_bad_values_on_one_row_are_both_named_once(tmp_path):
    """A finance row with a negative budget and a forecast that is not a number: two problems in
    one pass, one per column (the forecast's emptiness after parsing is not a third)."""
    write_table(tmp_path, "finance", [
        "2024/25,1,-1,abc,4000000,1000000",
        "2024/25,2,230000000,229000000,4000000,2000000",
    ])
    with pytest.raises(InputErrors) as e:
        read_tables(tmp_path, only=["finance"])
    assert [(x.column, x.row, x.problem) for x in e.value.errors] == [
        ("budget_gbp", 1, "value out of range"), ("forecast_outturn_gbp", 1, "not a number")]
