"""Financial periods: UK public-sector financial year (1 April to 31 March) and its quarters.

``2023/24 Q1`` is 1 April to 30 June 2023; ``2023/24 Q4`` is 1 January to 31 March 2024.
Reports write ``2023/24 Q1``; file names use the slug ``2023-24-q1``. A whole year is ``2023/24``.
All dates are calendar dates (local, Europe/London); ``end`` is inclusive and ``end_exclusive``
is the first day after the period, which is what filters should use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from kpi_lib.core.errors import ParameterError

ACCEPTED_FORMS = "'2023/24 Q1', '2023/24-Q1', '2023-24-q1', '2023/24Q1' or a whole year '2023/24'"

_PATTERN = re.compile(
    r"^\s*(?:FY\s*)?(?P<y1>\d{4})\s*[/\-]\s*(?P<y2>\d{2}|\d{4})"
    r"(?:\s*[\s\-_]?\s*[Qq](?P<q>[1-4]))?\s*$"
)


@dataclass(frozen=True, order=True)
class Period:
    """A financial quarter (``quarter`` 1 to 4) or a whole financial year (``quarter`` None)."""

    fy: int  # calendar year in which the financial year starts (2023 for 2023/24)
    quarter: int | None = None

    def __post_init__(self) -> None:
        if self.quarter is not None and self.quarter not in (1, 2, 3, 4):
            raise ParameterError(f"quarter must be 1 to 4, got {self.quarter}")

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """Parse '2023/24 Q1', '2023/24-Q1', '2023-24-q1' or '2023/24'; clear error otherwise."""
        if isinstance(text, Period):
            return text
        m = _PATTERN.match(str(text))
        if not m:
            raise ParameterError(f"cannot read period {text!r}: use {ACCEPTED_FORMS}")
        y1, y2 = int(m["y1"]), m["y2"]
        expected = (y1 + 1) % 100 if len(y2) == 2 else y1 + 1
        if int(y2) != expected:
            raise ParameterError(
                f"cannot read period {text!r}: a financial year runs over two consecutive years "
                f"(e.g. {y1}/{(y1 + 1) % 100:02d}); use {ACCEPTED_FORMS}"
            )
        q = int(m["q"]) if m["q"] else None
        return cls(y1, q)

    @classmethod
    def containing(cls, day: date) -> Period:
        """The quarter that contains a calendar date."""
        fy = day.year if day.month >= 4 else day.year - 1
        q = ((day.month - 4) % 12) // 3 + 1
        return cls(fy, q)

    # ---- text ---------------------------------------------------------------------------
    @property
    def fy_label(self) -> str:
        return f"{self.fy}/{(self.fy + 1) % 100:02d}"

    @property
    def label(self) -> str:
        """'2023/24 Q1' or '2023/24'."""
        return self.fy_label if self.quarter is None else f"{self.fy_label} Q{self.quarter}"

    @property
    def slug(self) -> str:
        """'2023-24-q1' or '2023-24' (for file and folder names)."""
        base = f"{self.fy}-{(self.fy + 1) % 100:02d}"
        return base if self.quarter is None else f"{base}-q{self.quarter}"

    def __str__(self) -> str:
        return self.label

    # ---- dates --------------------------------------------------------------------------
    @property
    def is_year(self) -> bool:
        return self.quarter is None

    @property
    def start(self) -> date:
        if self.quarter is None:
            return date(self.fy, 4, 1)
        month = 4 + 3 * (self.quarter - 1)
        return date(self.fy + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def end_exclusive(self) -> date:
        if self.quarter is None:
            return date(self.fy + 1, 4, 1)
        return self.next().start

    @property
    def end(self) -> date:
        return self.end_exclusive - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end_exclusive - self.start).days

    # ---- arithmetic ---------------------------------------------------------------------
    def next(self) -> Period:
        if self.quarter is None:
            return Period(self.fy + 1)
        return Period(self.fy + (self.quarter == 4), self.quarter % 4 + 1)

    def previous(self) -> Period:
        """The previous quarter (or year, for a whole year)."""
        if self.quarter is None:
            return Period(self.fy - 1)
        return Period(self.fy - (self.quarter == 1), (self.quarter - 2) % 4 + 1)

    def same_quarter_last_year(self) -> Period:
        return Period(self.fy - 1, self.quarter)

    def year(self) -> Period:
        return Period(self.fy)

    def quarters(self) -> list[Period]:
        """The quarters of a year (or [self] for a quarter)."""
        return [Period(self.fy, q) for q in (1, 2, 3, 4)] if self.quarter is None else [self]

    def months(self) -> list[date]:
        """First day of each calendar month in the period."""
        out, d = [], self.start
        while d < self.end_exclusive:
            out.append(d)
            d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return out

    def rolling_12_months(self) -> tuple[date, date]:
        """(start, end_exclusive) of the 12 months ending with this period's last day."""
        end = self.end_exclusive
        return date(end.year - 1, end.month, 1), end

    def previous_12_months(self) -> tuple[date, date]:
        """The 12 months before :meth:`rolling_12_months`."""
        start, _ = self.rolling_12_months()
        return date(start.year - 1, start.month, 1), start


def quarter_range(first: Period | str, last: Period | str) -> list[Period]:
    """Every quarter from ``first`` to ``last`` inclusive (both must be quarters)."""
    a, b = Period.parse(first), Period.parse(last)
    if a.is_year or b.is_year:
        raise ParameterError("a range needs quarters at both ends, e.g. 2019/20-Q1 --to 2024/25-Q4")
    if b < a:
        raise ParameterError(f"range ends ({b}) before it starts ({a})")
    out = [a]
    while out[-1] != b:
        out.append(out[-1].next())
    return out
