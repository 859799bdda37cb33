"""DuckDB reference for the panel benchmark: the core aggregations of every sample quarter, done
directly on the input files with DuckDB and nothing else (no kpi_lib, no validation).

Aggregations (the ones the measurement panel needs for the report):
- crimes by offence code and month of recording (quarters, years and 12-month windows are sums
  of months);
- cohort outcomes: crimes joined to their outcomes, by month of recording, offence code, outcome
  type and days from the end of the recording month to the outcome (equal-maturity comparisons);
- in-period outcomes by month of outcome, offence code and type;
- call answering by local day and line: presented, answered within 10 s (999) / 30 s (101),
  abandoned, total wait;
- response medians of attended grade 1 and grade 2 incidents for every quarter, year and month;
- weighted survey sums (n, sum w, sum w x yes, sum w^2) by month, survey and question.

Run: ``python bench/duckdb_reference.py [DATA_DIR]``; prints seconds. Used by bench/run.py side
by side with the panel, in the same process and on the same machine state.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb

YES = ["Completely satisfied", "Very satisfied", "Fairly satisfied", "Strongly agree", "Agree",
       "Daily", "At least weekly"]


def _table(data: Path, name: str) -> str:
    for ext in (".parquet", ".csv"):
        p = data / f"{name}{ext}"
        if p.exists():
            return f"read_parquet('{p}')" if ext == ".parquet" else f"read_csv_auto('{p}')"
    raise FileNotFoundError(f"{name} not found in {data}")


def reference(data: str | Path) -> dict[str, int]:
    """Run every aggregation; returns the number of rows of each result (so nothing is skipped)."""
    data = Path(data)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    crimes, outcomes = _table(data, "crimes"), _table(data, "outcomes")
    calls, incidents, survey = _table(data, "calls"), _table(data, "incidents"), _table(data, "survey_responses")
    yes = ", ".join(f"'{a}'" for a in YES)
    queries = {
        "crimes_by_code_month": f"""
            SELECT date_trunc('month', TRY_CAST(recorded_date AS DATE)) AS month, offence_code,
                   domestic_abuse, local_area, count(*) AS n
            FROM {crimes} GROUP BY ALL""",
        "cohort_maturity": f"""
            SELECT date_trunc('month', TRY_CAST(c.recorded_date AS DATE)) AS month, c.offence_code,
                   coalesce(o.outcome_type, '0') AS outcome_type,
                   date_diff('day', last_day(TRY_CAST(c.recorded_date AS DATE)), TRY_CAST(nullif(o.outcome_date, '') AS DATE)) AS days,
                   count(*) AS n
            FROM {crimes} c LEFT JOIN {outcomes} o USING (crime_ref) GROUP BY ALL""",
        "in_period": f"""
            SELECT date_trunc('month', TRY_CAST(nullif(o.outcome_date, '') AS DATE)) AS month, c.offence_code,
                   o.outcome_type, count(*) AS n
            FROM {outcomes} o JOIN {crimes} c USING (crime_ref)
            WHERE o.outcome_type <> '0' GROUP BY ALL""",
        "call_days": f"""
            SELECT (received_at AT TIME ZONE 'Europe/London')::DATE AS day, line, count(*) AS presented,
                   count(*) FILTER (WHERE answered_at IS NOT NULL AND epoch(answered_at - received_at)
                                    <= CASE WHEN line = '999' THEN 10 ELSE 30 END) AS within,
                   count(*) FILTER (WHERE answered_at IS NULL) AS abandoned,
                   sum(epoch(answered_at - received_at)) AS wait_sum
            FROM {calls} GROUP BY ALL""",
        "response_medians": f"""
            WITH t AS (
                SELECT (created_at AT TIME ZONE 'Europe/London')::DATE AS day, grade,
                       epoch(arrived_at - created_at) / 60 AS minutes
                FROM {incidents} WHERE arrived_at IS NOT NULL AND grade IN (1, 2))
            SELECT 'month' AS kind, date_trunc('month', day) AS start, grade, median(minutes) AS m, count(*) AS n
            FROM t GROUP BY ALL
            UNION ALL
            SELECT 'quarter', date_trunc('quarter', day), grade, median(minutes), count(*) FROM t GROUP BY ALL
            UNION ALL
            SELECT 'year', make_date(year(day - INTERVAL 3 MONTH), 4, 1), grade, median(minutes), count(*)
            FROM t GROUP BY ALL""",
        "survey_sums": f"""
            SELECT date_trunc('month', TRY_CAST(interview_date AS DATE)) AS month, survey, question,
                   local_area, crime_type, count(*) AS n, sum(weight) AS sw,
                   sum(CASE WHEN answer IN ({yes}) THEN weight ELSE 0 END) AS swy,
                   sum(weight * weight) AS sw2
            FROM {survey} GROUP BY ALL""",
    }
    rows = {name: len(con.sql(q).fetchall()) for name, q in queries.items()}
    con.close()
    return rows


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "data" / "sample"
    t = time.perf_counter()
    rows = reference(data)
    print(f"duckdb reference: {time.perf_counter() - t:.2f} s, rows {rows}")


if __name__ == "__main__":
    main()
