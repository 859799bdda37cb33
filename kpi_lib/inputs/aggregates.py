"""Aggregate types shared by readers and families (a neutral layer: readers never import families).

:class:`CrimeCounts` is what every crime source turns into: record-level crimes and outcomes
(``kpi_lib.measure.families.crime.counts_from_records``), the Home Office open data tables and the
data.police.uk street files (``kpi_lib.inputs``), so one measurement code serves them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd


@dataclass
class CrimeCounts:
    """Aggregated crime counts at a monthly or quarterly grain.

    offences: period_start, category, local_area, count
    cohort:   period_start (of recording), category, outcome_type, count (as at extraction), and
              local_area where the source has areas
    in_period: period_start (of outcome), category, outcome_type, count (local_area as cohort);
              None if not available
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
    #: the categories this source measures (None: every category it was asked for); any other
    #: category is "not available from source" (with the reason in ``unsupported`` when known)
    measured: tuple[str, ...] | None = None
    #: what to measure: (kpi_id, category, measure) of each crime KPI of the catalogue
    kpis: tuple = ()


# ------------------------------------------------------------------------------ DuckDB aggregation
def _connect():
    """An in-process DuckDB connection (DuckDB scans pandas frames in place, in parallel,
    without copying them)."""
    import duckdb
    return duckdb.connect()


def _ns(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    for c in cols:
        df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
    return df


def crime_aggregates(crimes: pd.DataFrame, outcomes: pd.DataFrame | None,
                     code_categories: pd.DataFrame,
                     flags: dict[str, str] | None = None) -> dict[str, pd.DataFrame | None]:
    """Record-level crimes (and outcomes) aggregated by DuckDB into the tables of
    :class:`CrimeCounts`: offences (month, category, area), cohort (month of recording, category,
    outcome type, as at extraction; a crime with no outcome row is type 0), in_period (month of
    outcome) and maturity (days from the recording month's last day to the outcome date).

    ``code_categories``: offence_code, category (one row per code and KPI category it belongs
    to). ``flags``: category -> a true/false column of the crimes (domestic abuse is a flag on
    the record, not an offence), each added as its own category.
    """
    con = _connect()
    flags = dict(flags or {})
    flag_cols = list(dict.fromkeys(flags.values()))
    con.register("crimes", crimes[["crime_ref", "recorded_date", "offence_code", "local_area", *flag_cols]])
    con.register("codes", code_categories[["offence_code", "category"]])
    joined = "crimes c"
    outcome_cols = "'0' AS outcome_type, NULL::TIMESTAMP AS outcome_date"
    if outcomes is not None:
        con.register("outcomes", outcomes[["crime_ref", "outcome_type", "outcome_date"]])
        joined = "crimes c LEFT JOIN outcomes o USING (crime_ref)"
        outcome_cols = "coalesce(o.outcome_type, '0') AS outcome_type, o.outcome_date"
    con.execute(f"""
        CREATE TEMP TABLE base AS
        SELECT date_trunc('month', c.recorded_date)::TIMESTAMP AS month, c.offence_code,
               {"".join(f'c."{f}", ' for f in flag_cols)}c.local_area, {outcome_cols}
        FROM {joined}""")
    cols = "month, offence_code, local_area, outcome_type, outcome_date"
    by_flag = "".join(
        f" UNION ALL SELECT {cols}, '{cat.replace(chr(39), chr(39) * 2)}' AS category FROM base WHERE \"{col}\""
        for cat, col in flags.items())
    con.execute(f"""
        CREATE TEMP TABLE allc AS
        SELECT {cols}, k.category FROM base b JOIN codes k USING (offence_code){by_flag}""")
    out: dict[str, pd.DataFrame | None] = {
        "offences": _ns(con.sql("""
            SELECT month AS period_start, category, local_area, count(*) AS count
            FROM allc GROUP BY ALL ORDER BY ALL""").df(), "period_start"),
        "cohort": None, "in_period": None, "maturity": None}
    if outcomes is not None:
        out["cohort"] = _ns(con.sql("""
            SELECT month AS period_start, category, local_area, outcome_type, count(*) AS count
            FROM allc GROUP BY ALL ORDER BY ALL""").df(), "period_start")
        out["in_period"] = _ns(con.sql("""
            SELECT date_trunc('month', outcome_date)::TIMESTAMP AS period_start, category,
                   local_area, outcome_type, count(*) AS count
            FROM allc WHERE outcome_type <> '0' GROUP BY ALL ORDER BY ALL""").df(), "period_start")
        out["maturity"] = _ns(con.sql("""
            SELECT month AS period_start, category, outcome_type,
                   date_diff('day', last_day(month)::TIMESTAMP, outcome_date)::BIGINT AS days,
                   count(*) AS count
            FROM allc WHERE outcome_type <> '0' AND outcome_date IS NOT NULL
            GROUP BY ALL ORDER BY ALL""").df(), "period_start")
    con.close()
    for t in out.values():
        if t is not None:
            t["count"] = t["count"].astype("int64")
    return out
