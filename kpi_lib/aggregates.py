"""Aggregate types shared by readers and families (a neutral layer: readers never import families).

:class:`CrimeCounts` is what every crime source turns into: record-level crimes and outcomes
(``kpi_lib.families.crime.counts_from_records``), the Home Office open data tables and the
data.police.uk street files (``kpi_lib.sources``), so one measurement code serves them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd


@dataclass
class CrimeCounts:
    """Aggregated crime counts at a monthly or quarterly grain.

    offences: period_start, category, local_area, count
    cohort:   period_start (of recording), category, outcome_type, count (as at extraction)
    in_period: period_start (of outcome), category, outcome_type, count; None if not available
    maturity: period_start (month of recording), category, outcome_type, days (outcome date minus
              the last day of the recording month), count: assigned outcomes by how long after
              the recording month they came, so that a cohort can be counted at any age (equal
              maturity). None when the source has no outcome dates.
    """

    grain: str
    offences: pd.DataFrame
    cohort: pd.DataFrame | None
    in_period: pd.DataFrame | None
    first: date | None
    last_exclusive: date | None
    extraction_date: date | None
    source: str = "canonical"
    unsupported: dict[str, str] = field(default_factory=dict)  # category -> reason
    notes: list[str] = field(default_factory=list)
    maturity: pd.DataFrame | None = None
