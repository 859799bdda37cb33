"""Financial periods: parsing, boundaries (including leap years), arithmetic. Expected dates are
written out by hand from the calendar."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_lib.core.errors import ParameterError
from kpi_lib.core.periods import Period, quarter_range


@pytest.mark.parametrize("text", ["2023/24 Q1", "2023/24-Q1", "2023-24-q1", "2023/24Q1", " 2023/2024 q1 "])
def test_parse_accepted_forms(text):
    assert Period.parse(text) == Period(2023, 1)


def test_parse_whole_year():
    p = Period.parse("2023/24")
    assert p.is_year and p.label == "2023/24" and p.slug == "2023-24"
    assert (p.start, p.end) == (date(2023, 4, 1), date(2024, 3, 31))


@pytest.mark.parametrize("bad", ["2023", "2023/25 Q1", "2023/24 Q5", "Q1 2023", "", "23/24 Q1"])
def test_bad_text_names_the_accepted_forms(bad):
    with pytest.raises(ParameterError) as e:
        Period.parse(bad)
    assert "2023/24 Q1" in str(e.value) and "2023-24-q1" in str(e.value)


@pytest.mark.parametrize("q, start, end, days", [
    (1, date(2023, 4, 1), date(2023, 6, 30), 91),
    (2, date(2023, 7, 1), date(2023, 9, 30), 92),
    (3, date(2023, 10, 1), date(2023, 12, 31), 92),
    (4, date(2024, 1, 1), date(2024, 3, 31), 91),  # 31 + 29 (leap year) + 31
])
def test_quarter_boundaries_2023_24(q, start, end, days):
    p = Period(2023, q)
    assert (p.start, p.end, p.days) == (start, end, days)


def test_leap_and_common_years():
    assert Period(2023).days == 366  # contains 29 February 2024
    assert Period(2024).days == 365
    assert Period(2024, 4).days == 90  # 31 + 28 + 31


def test_labels_and_slugs():
    p = Period(2023, 1)
    assert p.label == "2023/24 Q1" and p.slug == "2023-24-q1" and str(p) == "2023/24 Q1"
    assert Period(1999, 4).label == "1999/00 Q4"


def test_arithmetic():
    p = Period(2023, 1)
    assert p.previous() == Period(2022, 4)
    assert p.next() == Period(2023, 2)
    assert Period(2023, 4).next() == Period(2024, 1)
    assert p.same_quarter_last_year() == Period(2022, 1)
    assert Period(2023).previous() == Period(2022)
    assert p.months() == [date(2023, 4, 1), date(2023, 5, 1), date(2023, 6, 1)]
    assert Period(2023, 3).rolling_12_months() == (date(2023, 1, 1), date(2024, 1, 1))
    assert Period(2023, 3).previous_12_months() == (date(2022, 1, 1), date(2023, 1, 1))


def test_containing():
    assert Period.containing(date(2024, 3, 31)) == Period(2023, 4)
    assert Period.containing(date(2024, 4, 1)) == Period(2024, 1)
    assert Period.containing(date(2024, 12, 31)) == Period(2024, 3)


def test_quarter_range():
    r = quarter_range("2019/20-Q1", "2024/25-Q4")
    assert len(r) == 24 and r[0] == Period(2019, 1) and r[-1] == Period(2024, 4)
    with pytest.raises(ParameterError):
        quarter_range("2024/25-Q1", "2023/24-Q1")


@given(st.integers(1990, 2090), st.integers(1, 4))
def test_roundtrips(fy, q):
    p = Period(fy, q)
    assert Period.parse(p.slug) == p == Period.parse(p.label)
    assert Period.containing(p.start) == p == Period.containing(p.end)
    assert p.next().previous() == p
    assert sum(Period(fy, i).days for i in (1, 2, 3, 4)) == Period(fy).days
