"""Canonical input tables: one reader per table, validated with pandera, with a row ledger.

A data folder holds ``<table>.csv`` or ``<table>.parquet`` for each table below (same names),
and optionally ``metadata.yaml`` (force name, extraction date, whether the data are synthetic).
Parsing turns raw text into typed columns and stops at the first bad row with a message naming
file, row, column, value and what was expected; pandera then checks types and domains, and
references are checked unique over the whole file. Every table is read even when another has
a problem, so the problems of all the files are reported together, in one pass. The record-level
tables are read a chunk of rows at a time (:mod:`.chunks`), so memory is bounded by the chunk and the compact columns kept.
Every row read is counted in the ledger as used or rejected with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandas.api.types import union_categoricals
from pydantic import BaseModel, ConfigDict, StrictBool, ValidationError, field_validator

from kpi_lib.config.categories import CrimeCategories, load_categories
from kpi_lib.config.settings import OUTCOME_TYPES, load_settings
from kpi_lib.core.errors import InputError, InputErrors, ParameterError, one_or_all
from kpi_lib.core.safe_yaml import load_yaml
from kpi_lib.core.snapshot import Snapshot, list_files, sha256_of, skipped_files
from kpi_lib.core.snapshot import active as active_snapshot
from kpi_lib.inputs import parsing as P
from kpi_lib.inputs import plausibility as plausible
from kpi_lib.inputs.chunks import UniqueRefs, raw_chunks

TABLE_SUFFIXES = (".parquet", ".csv", ".csv.gz")
MIN_YEAR, MAX_YEAR = 1990, 2100  # dates outside these years are typing errors, not data

# table -> columns, in the order documented in the README and data/README
TABLES: dict[str, list[str]] = {
    "crimes": ["crime_ref", "recorded_date", "offence_code", "domestic_abuse", "local_area"],
    "outcomes": ["crime_ref", "outcome_type", "outcome_date"],
    "calls": ["call_ref", "line", "received_at", "answered_at"],
    "incidents": ["incident_ref", "grade", "created_at", "arrived_at", "resourced", "local_area"],
    "survey_responses": ["survey", "respondent_ref", "interview_date", "local_area", "crime_type",
                         "question", "answer", "weight"],
    "finance": ["financial_year", "quarter", "budget_gbp", "forecast_outturn_gbp",
                "savings_target_gbp", "savings_delivered_gbp"],
    "vfm": ["financial_year", "conclusion"],
    "carbon": ["period_start", "source", "quantity", "unit"],
}


@dataclass
class LedgerEntry:
    """Rows of one input file: read = used + sum(rejected)."""

    table: str
    file: str
    sha256: str
    rows_read: int
    rows_used: int
    rejected: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"table": self.table, "file": self.file, "sha256": self.sha256,
                "rows_read": self.rows_read, "rows_used": self.rows_used,
                "rows_rejected": sum(self.rejected.values()), "rejected_reasons": self.rejected}


@dataclass
class Tables:
    """Canonical tables read from one data folder, with provenance."""

    frames: dict[str, pd.DataFrame]
    ledger: list[LedgerEntry]
    folder: str
    synthetic: bool = False
    force: str = ""
    extraction_date: date | None = None
    sources: dict[str, str] = field(default_factory=dict)  # table -> source kind
    notes: list[str] = field(default_factory=list)
    extras: dict = field(default_factory=dict)  # e.g. "crime_counts" from public tables
    licence: str = ""  # attribution to show when public data were used
    skipped: dict[str, str] = field(default_factory=dict)  # files in the folder that are not inputs, and why

    def get(self, name: str) -> pd.DataFrame | None:
        return self.frames.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self.frames


def _published_layout(path: Path) -> bool:
    """A CSV in the Home Office published layout (it has a 'Force Name' header), not canonical."""
    if path.suffix != ".csv":
        return False
    return "force name" in P.first_line(path).lower()


def find_table_file(folder: Path, table: str) -> Path | None:
    """The one file holding ``table`` (``.parquet``, ``.csv`` or ``.csv.gz``), or None. Two files
    for one table is an error naming both: which one is meant must not be guessed."""
    present = {p.name for p in list_files(folder)}
    found = [p for p in (folder / f"{table}{ext}" for ext in TABLE_SUFFIXES)
             if p.name in present and not _published_layout(p)]
    if len(found) > 1:
        raise InputError(" and ".join(p.name for p in found), f"{len(found)} files for the table '{table}'",
                         expected="one file per table: move or delete all but one")
    return found[0] if found else None


def _read_raw(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            with P.parquet_source(path) as source:
                raw = pd.read_parquet(source)
            P.check_headers(path.name, list(raw.columns))
            return raw
        return P.read_csv_text(path)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is an input problem
        raise InputError(path.name, f"cannot be read as a table ({type(exc).__name__}: {exc})") from exc


def _check(file: str, schema: pa.DataFrameSchema, frame: pd.DataFrame) -> None:
    """Run a pandera schema; turn its first failure into one readable InputError."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        first = fc.iloc[0]
        same = fc[(fc["column"] == first["column"]) & (fc["check"] == first["check"])]
        idx = first["index"]
        row = None if pd.isna(idx) else int(frame.index.get_loc(idx)) + 1
        raise InputError(file, f"failed check {first['check']}", row=row,
                         column=None if pd.isna(first["column"]) else str(first["column"]),
                         value=first["failure_case"], more=len(same) - 1) from None


_UTC = pd.DatetimeTZDtype(tz="UTC")
_TS = pa.Check(lambda s: s.dt.tz is not None and str(s.dt.tz) == "UTC", element_wise=False,
               error="timestamps are UTC")

# Schemas of the parsed (typed) tables: what every family relies on. Parsing gives
# row-level messages first; these then check types and domains in one place. The references of
# the record-level tables (crime_ref, call_ref, incident_ref) are checked unique over the whole
# file by :class:`chunks.UniqueRefs`, since those tables are checked a chunk at a time.
SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "crimes": pa.DataFrameSchema({
        "crime_ref": pa.Column(str), "recorded_date": pa.Column("datetime64[ns]"),
        "offence_code": pa.Column(str), "domestic_abuse": pa.Column(bool), "local_area": pa.Column(str)},
        strict=True),
    "outcomes": pa.DataFrameSchema({
        "crime_ref": pa.Column(str), "outcome_type": pa.Column(str, pa.Check.isin(OUTCOME_TYPES)),
        "outcome_date": pa.Column("datetime64[ns]", nullable=True)}, strict=True),
    "calls": pa.DataFrameSchema({
        "call_ref": pa.Column(str), "line": pa.Column(str, pa.Check.isin(["999", "101"])),
        "received_at": pa.Column(_UTC, _TS), "answered_at": pa.Column(_UTC, _TS, nullable=True)}, strict=True),
    "incidents": pa.DataFrameSchema({
        "incident_ref": pa.Column(str), "grade": pa.Column(int, pa.Check.isin([1, 2, 3, 4])),
        "created_at": pa.Column(_UTC, _TS), "arrived_at": pa.Column(_UTC, _TS, nullable=True),
        "resourced": pa.Column(bool), "local_area": pa.Column(str)}, strict=True),
    "survey_responses": pa.DataFrameSchema({
        "survey": pa.Column(str, pa.Check.isin(["victim", "confidence"])), "respondent_ref": pa.Column(str),
        "interview_date": pa.Column("datetime64[ns]"), "local_area": pa.Column(str),
        "crime_type": pa.Column(str, nullable=True), "question": pa.Column(str), "answer": pa.Column(str),
        "weight": pa.Column(float, pa.Check.gt(0))}, strict=True),
    "finance": pa.DataFrameSchema({
        "financial_year": pa.Column(str), "quarter": pa.Column(int, pa.Check.isin([1, 2, 3, 4])),
        **{c: pa.Column(float, pa.Check.ge(0)) for c in ("budget_gbp", "forecast_outturn_gbp",
                                                          "savings_target_gbp", "savings_delivered_gbp")}},
        strict=True),
    "vfm": pa.DataFrameSchema({
        "financial_year": pa.Column(str, unique=True),
        "conclusion": pa.Column(str, pa.Check.isin(["unqualified", "qualified", "adverse"]))}, strict=True),
    "carbon": pa.DataFrameSchema({
        "period_start": pa.Column("datetime64[ns]"), "source": pa.Column(str),
        "quantity": pa.Column(float, pa.Check.ge(0)), "unit": pa.Column(str)}, strict=True),
}


# ------------------------------------------------------------------------------- table readers
def read_crimes(raw: pd.DataFrame, file: str, categories: CrimeCategories) -> pd.DataFrame:
    out = pd.DataFrame({
        "crime_ref": P.parse_text(file, raw["crime_ref"], "crime_ref"),
        "recorded_date": P.parse_date(file, raw["recorded_date"], "recorded_date"),
        "offence_code": P.parse_text(file, raw["offence_code"], "offence_code"),
        "domestic_abuse": P.parse_bool(file, raw["domestic_abuse"], "domestic_abuse"),
        "local_area": P.parse_text(file, raw["local_area"], "local_area"),
    })
    unknown = ~out["offence_code"].isin(categories.codes.index)
    P.fail_rows(file, unknown, raw["offence_code"], "offence_code", "unknown offence code",
                "a Home Office offence code listed in params/crime_categories.yaml")
    return out


def read_outcomes(raw: pd.DataFrame, file: str) -> pd.DataFrame:
    out = pd.DataFrame({
        "crime_ref": P.parse_text(file, raw["crime_ref"], "crime_ref"),
        "outcome_type": P.parse_choice(file, raw["outcome_type"].astype("string").str.upper(),
                                       "outcome_type", OUTCOME_TYPES),
        "outcome_date": P.parse_date(file, raw["outcome_date"], "outcome_date", required=False),
    })
    assigned = out["outcome_type"] != "0"
    P.fail_rows(file, assigned & out["outcome_date"].isna(), raw["outcome_date"], "outcome_date",
                "an assigned outcome has no date", "the date the outcome was assigned")
    return out


def read_calls(raw: pd.DataFrame, file: str, tz: str | None) -> pd.DataFrame:
    out = pd.DataFrame({
        "call_ref": P.parse_text(file, raw["call_ref"], "call_ref"),
        "line": P.parse_choice(file, raw["line"].astype("string").str.replace(r"\.0$", "", regex=True),
                               "line", ["999", "101"]),
        "received_at": P.parse_timestamp(file, raw["received_at"], "received_at", naive_timezone=tz),
        "answered_at": P.parse_timestamp(file, raw["answered_at"], "answered_at", naive_timezone=tz,
                                         required=False),
    })
    P.fail_rows(file, out["answered_at"] < out["received_at"], raw["answered_at"],
                "answered_at", "answered before it was received", "a time at or after received_at")
    return out


def read_incidents(raw: pd.DataFrame, file: str, tz: str | None) -> pd.DataFrame:
    grade = P.parse_number(file, raw["grade"], "grade", integer=True)
    P.fail_rows(file, ~grade.isin([1, 2, 3, 4]), raw["grade"], "grade", "unknown grade", "1, 2, 3 or 4")
    out = pd.DataFrame({
        "incident_ref": P.parse_text(file, raw["incident_ref"], "incident_ref"),
        "grade": grade.astype("int64"),
        "created_at": P.parse_timestamp(file, raw["created_at"], "created_at", naive_timezone=tz),
        "arrived_at": P.parse_timestamp(file, raw["arrived_at"], "arrived_at", naive_timezone=tz,
                                        required=False),
        "resourced": P.parse_bool(file, raw["resourced"], "resourced"),
        "local_area": P.parse_text(file, raw["local_area"], "local_area"),
    })
    P.fail_rows(file, out["arrived_at"] < out["created_at"], raw["arrived_at"],
                "arrived_at", "arrival before the incident was created", "a time at or after created_at")
    return out


def _check_scales(file: str, out: pd.DataFrame, raw: pd.DataFrame, scales: dict[str, list[str]]) -> None:
    """Every question has a scale (``survey_scales``) and every answer is on its question's
    scale: an answer off the scale would otherwise be counted silently as "not satisfied"."""
    P.fail_rows(file, ~out["question"].isin(list(scales)), raw["question"], "question",
                "question with no answer scale in the survey_scales setting",
                "one of " + ", ".join(scales))
    pairs = pd.MultiIndex.from_tuples([(q, a) for q, answers in scales.items() for a in answers])
    bad = ~pd.MultiIndex.from_arrays([out["question"], out["answer"]]).isin(pairs)
    if bad.any():
        question = out["question"].iloc[int(bad.nonzero()[0][0])]
        P.fail_rows(file, pd.Series(bad, index=out.index), raw["answer"], "answer",
                    f"answer not on the scale of question '{question}'",
                    "one of " + ", ".join(scales[question]))


def read_survey(raw: pd.DataFrame, file: str, scales: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Survey responses; answers are checked against ``scales`` (question -> valid answers; the
    default settings' ``survey_scales`` when None)."""
    out = pd.DataFrame({
        "survey": P.parse_choice(file, raw["survey"], "survey", ["victim", "confidence"]),
        "respondent_ref": P.parse_text(file, raw["respondent_ref"], "respondent_ref"),
        "interview_date": P.parse_date(file, raw["interview_date"], "interview_date"),
        "local_area": P.parse_text(file, raw["local_area"], "local_area"),
        "crime_type": P.parse_text(file, raw["crime_type"], "crime_type", required=False),
        "question": P.parse_text(file, raw["question"], "question"),
        "answer": P.parse_text(file, raw["answer"], "answer"),
        "weight": P.parse_number(file, raw["weight"], "weight"),
    })
    P.fail_rows(file, out["weight"] <= 0, raw["weight"], "weight", "weight is not positive",
                "a survey weight above 0")
    _check_scales(file, out, raw, scales if scales is not None else load_settings().survey_scales)
    dup = out.duplicated(["survey", "respondent_ref", "question"])
    P.fail_rows(file, dup, raw["respondent_ref"], "respondent_ref",
                "the same respondent answers the same question twice", "one answer per question")
    return out


def read_finance(raw: pd.DataFrame, file: str) -> pd.DataFrame:
    out = pd.DataFrame({"financial_year": P.parse_financial_year(file, raw["financial_year"], "financial_year"),
                        "quarter": P.parse_number(file, raw["quarter"], "quarter", integer=True)})
    P.fail_rows(file, ~out["quarter"].isin([1, 2, 3, 4]), raw["quarter"], "quarter",
                "unknown quarter", "1, 2, 3 or 4")
    out["quarter"] = out["quarter"].astype("int64")
    for col in TABLES["finance"][2:]:
        out[col] = P.parse_number(file, raw[col], col, minimum=0)
    P.fail_rows(file, out.duplicated(["financial_year", "quarter"]), raw["financial_year"],
                "financial_year", "the same year and quarter appear twice", "one row per quarter")
    return out


def read_vfm(raw: pd.DataFrame, file: str) -> pd.DataFrame:
    out = pd.DataFrame({
        "financial_year": P.parse_financial_year(file, raw["financial_year"], "financial_year"),
        "conclusion": P.parse_choice(file, raw["conclusion"].astype("string").str.lower(),
                                     "conclusion", ["unqualified", "qualified", "adverse"]),
    })
    P.fail_rows(file, out["financial_year"].duplicated(), raw["financial_year"], "financial_year",
                "the same year appears twice", "one conclusion per year")
    return out


def read_carbon(raw: pd.DataFrame, file: str, factors: list[dict] | None = None) -> pd.DataFrame:
    """Carbon rows; each (source, unit, calendar year) must have a conversion factor in
    ``factors`` (params/carbon_factors.yaml when None), so a run cannot fail on it later."""
    out = pd.DataFrame({
        "period_start": P.parse_date(file, raw["period_start"], "period_start"),
        "source": P.parse_text(file, raw["source"], "source"),
        "quantity": P.parse_number(file, raw["quantity"], "quantity", minimum=0),
        "unit": P.parse_text(file, raw["unit"], "unit"),
    })
    _check_factors(file, out, raw, load_carbon_factors() if factors is None else factors)
    return out


def load_carbon_factors() -> list[dict]:
    """The rows of params/carbon_factors.yaml (year, source, unit, kg_co2e_per_unit)."""
    from kpi_lib.core.errors import ParameterError
    from kpi_lib.core.paths import params_file
    from kpi_lib.core.safe_yaml import load_yaml
    path = params_file("carbon_factors.yaml")
    doc = load_yaml(path, what="carbon conversion factors")
    rows = doc.get("factors") if isinstance(doc, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and {"year", "source", "unit"} <= set(r)
                                             for r in rows):
        raise ParameterError(f"{path}: expected 'factors:' as a list of {{year, source, unit, kg_co2e_per_unit}}")
    return rows


def _check_factors(file: str, out: pd.DataFrame, raw: pd.DataFrame, factors: list[dict]) -> None:
    """Name the first carbon row with no factor: an unknown source, a unit the source has no
    factor for, or a year with no factors for that source and unit."""
    sources = {str(f["source"]) for f in factors}
    units = {(str(f["source"]), str(f["unit"])) for f in factors}
    years = {(str(f["source"]), str(f["unit"]), int(f["year"])) for f in factors}
    P.fail_rows(file, ~out["source"].isin(sources), raw["source"], "source",
                "no carbon conversion factor for this source", "one of " + ", ".join(sorted(sources)))
    pair = pd.Series([(s, u) in units for s, u in zip(out["source"], out["unit"], strict=True)], index=out.index)
    if not pair.all():
        source = out.loc[~pair, "source"].iloc[0]
        P.fail_rows(file, ~pair, raw["unit"], "unit", f"no carbon conversion factor for {source} in this unit",
                    "one of " + ", ".join(sorted(u for s, u in units if s == source)))
    year = out["period_start"].dt.year
    known = pd.Series([(s, u, int(y)) in years for s, u, y in zip(out["source"], out["unit"], year, strict=True)],
                      index=out.index)
    if not known.all():
        covered = sorted({int(f["year"]) for f in factors})
        P.fail_rows(file, ~known, raw["period_start"], "period_start",
                    "no carbon conversion factor for this source, unit and year",
                    f"a date in a year params/carbon_factors.yaml covers ({covered[0]} to {covered[-1]})")


# ----------------------------------------------------------------------------------- reading
#: Tables read a chunk at a time (the record-level ones, which grow with the force): each chunk is
#: parsed and checked, then kept in compact form; references are checked unique over the file.
CHUNKED = ("crimes", "outcomes", "calls", "incidents")
#: Reference columns that no measurement uses: checked unique over the whole file, then not kept
#: (at 10 times the sample, 27 million call references would be the largest column in memory).
DROPPED_AFTER_CHECK = {"calls": "call_ref", "incidents": "incident_ref"}
#: Columns of few distinct values kept as categories (one or two bytes a row, not a string).
CATEGORIES = {"crimes": ["offence_code", "local_area"], "outcomes": ["outcome_type"],
              "calls": ["line"], "incidents": ["local_area"]}
#: Small whole numbers kept in one byte.
SMALL_INTS = {"incidents": ["grade"]}
REFS = {"crimes": "crime_ref", "outcomes": "crime_ref", "calls": "call_ref", "incidents": "incident_ref"}


def _readers(categories: CrimeCategories, tz: str | None, scales: dict[str, list[str]] | None) -> dict:
    """table -> function(raw frame, file name) -> parsed frame (the table readers above)."""
    return {"crimes": lambda raw, f: read_crimes(raw, f, categories),
            "outcomes": read_outcomes, "calls": lambda raw, f: read_calls(raw, f, tz),
            "incidents": lambda raw, f: read_incidents(raw, f, tz),
            "survey_responses": lambda raw, f: read_survey(raw, f, scales),
            "finance": read_finance, "vfm": read_vfm, "carbon": read_carbon}


def _compact(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A checked chunk as kept for measuring: unused references dropped, few-valued text as
    categories (see :data:`DROPPED_AFTER_CHECK` and :data:`CATEGORIES`)."""
    drop = DROPPED_AFTER_CHECK.get(table)
    out = frame.drop(columns=[drop]) if drop else frame
    for col in CATEGORIES.get(table, []):
        out[col] = out[col].astype("category")
    for col in SMALL_INTS.get(table, []):
        out[col] = out[col].astype("int8")
    return out


def _parse_chunk(raw: pd.DataFrame, table: str, name: str, reader) -> pd.DataFrame:
    raw = raw.rename(columns=lambda c: str(c).strip())
    P.require_columns(name, raw, TABLES[table])
    with P.every_column_problem():
        frame = reader(raw, name)
    _check(name, SCHEMAS[table], frame)
    return frame


def _read_table(path: Path, table: str, reader, chunk_rows: int | None = None,
                source=None) -> tuple[pd.DataFrame | None, int]:
    """One table read, parsed and checked (a chunk at a time for :data:`CHUNKED` tables), and the
    number of rows read. None for an empty outcomes table (no outcomes, never 0%). ``source``: a
    force extract read through its mapping (:class:`kpi_lib.inputs.mapping.MappedFile`), whose
    chunks come in canonical form."""
    name = path.name
    if table not in CHUNKED:
        raw = pd.concat(list(source.chunks(None)), ignore_index=True) if source else _read_raw(path)
        return _parse_chunk(raw, table, name, reader), len(raw)
    refs = UniqueRefs(path, REFS[table], source.ref_chunks if source else None)
    parts: list[pd.DataFrame] = []
    rows = 0
    chunks = source.chunks(chunk_rows) if source else raw_chunks(path, chunk_rows)
    raw = next(chunks)
    while raw is not None:
        following = next(chunks, None)
        if table == "outcomes" and rows == 0 and raw.empty and following is None:
            P.require_columns(name, raw.rename(columns=lambda c: str(c).strip()), TABLES[table])
            return None, 0
        try:
            frame = _parse_chunk(raw, table, name, reader)
        except InputError as exc:
            raise exc.shifted(rows, later_rows_unread=following is not None) from None
        refs.add(frame[REFS[table]])
        parts.append(_compact(table, frame))
        rows += len(raw)
        raw = following
    refs.check(chunk_rows)
    return _join_chunks(parts), rows


def _join_chunks(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The checked chunks as one table, joined a column at a time, each chunk's column let go
    once copied: the peak is the table plus one column, not twice the table. Categories of
    different chunks are united (a category column never falls back to text)."""
    if len(parts) == 1:
        return parts[0]
    columns = list(parts[0].columns)
    pieces = [{c: p[c] for c in columns} for p in parts]
    parts.clear()
    joined: dict[str, pd.Series] = {}
    for c in columns:
        column = [piece.pop(c) for piece in pieces]
        if isinstance(column[0].dtype, pd.CategoricalDtype):
            joined[c] = pd.Series(union_categoricals([s.array for s in column], sort_categories=True), name=c)
        else:
            joined[c] = pd.concat(column, ignore_index=True)
        del column
    return pd.DataFrame(joined, copy=False)


_TABLE_RULES = {"crimes": plausible.check_crimes, "calls": plausible.check_calls,
                "incidents": plausible.check_incidents, "survey_responses": plausible.check_survey,
                "carbon": plausible.check_carbon}


def _plausible(table: str, file: str, frame: pd.DataFrame, limits: plausible.Limits, entry: LedgerEntry,
               notes: list[str]) -> pd.DataFrame:
    """The table after its plausibility rules: an impossible value stops the reading (InputError);
    rows outside a judgement setting are left out, counted in the ledger entry and named in a
    note for the report."""
    rule = _TABLE_RULES.get(table)
    excluded = rule(file, frame, limits) if rule is not None else None
    if excluded is None:
        return frame
    kept = frame.loc[~excluded.mask].reset_index(drop=True)
    entry.rejected[excluded.reason] = int(excluded.mask.sum())
    entry.rows_used = len(kept)
    notes.append(excluded.note)
    return kept


def _unknown_refs(refs: pd.Series, known: pd.Series) -> np.ndarray:
    """0-based positions of ``refs`` not among ``known`` (a DuckDB anti join: on 5 million crime
    references it takes about a second and little memory, where pandas' ``isin`` took 23 s and 2 GB)."""
    import duckdb
    import pyarrow as pa
    probe = pa.table({"pos": np.arange(len(refs)), "ref": pa.array(refs, type=pa.large_string())})  # noqa: F841
    keys = pa.table({"ref": pa.array(known, type=pa.large_string())})  # noqa: F841 - both read by DuckDB
    con = duckdb.connect()
    try:
        return con.sql("SELECT pos FROM probe ANTI JOIN keys USING (ref) ORDER BY pos").fetchnumpy()["pos"]
    finally:
        con.close()


class Metadata(BaseModel):
    """``metadata.yaml`` in a data folder: every key typed; an unknown key is an error (a
    misspelt ``extraction_date`` must not be ignored silently)."""

    model_config = ConfigDict(extra="forbid")

    force: str = ""
    extraction_date: date | None = None
    synthetic: StrictBool = False
    timezone: str | None = None
    description: str = ""
    source: str = ""
    contact: str = ""
    generator_seed: int | None = None
    scale: float | None = None

    @field_validator("extraction_date")
    @classmethod
    def _sane_date(cls, v: date | None) -> date | None:
        if v is not None and not (MIN_YEAR <= v.year <= MAX_YEAR):
            raise ValueError(f"a date between {MIN_YEAR} and {MAX_YEAR} is expected")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("not a time zone in the tz database, e.g. Europe/London") from None
        return v


def read_metadata(folder: Path) -> dict:
    """``metadata.yaml`` (optional), read with the bounded YAML loader (no aliases, at most
    1 MB) and validated: one InputError naming the key, the value and what was expected."""
    path = folder / "metadata.yaml"
    if path.name not in {p.name for p in list_files(folder)}:
        return {}
    try:
        doc = load_yaml(path, what="metadata.yaml")
    except ParameterError as exc:
        raise InputError(path.name, str(exc).removeprefix(f"metadata.yaml {path}").lstrip(": ,")) from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InputError(path.name, "expected a mapping of keys to values", value=type(doc).__name__)
    try:
        return Metadata.model_validate(doc).model_dump()
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = ".".join(str(x) for x in err["loc"])
        if err["type"] == "extra_forbidden":
            raise InputError(path.name, f"unknown key {key!r}", value=None,
                             expected="keys " + ", ".join(Metadata.model_fields)) from None
        value = err.get("input")
        raise InputError(path.name, f"key {key!r}: {err['msg'].removeprefix('Value error, ')}",
                         value=value.isoformat() if isinstance(value, date) else value) from None


def read_tables(folder: str | Path, *, timezone: str | None = None,
                categories: CrimeCategories | None = None,
                only: list[str] | None = None, survey_scales: dict[str, list[str]] | None = None,
                settings: dict | None = None, today: date | None = None,
                sources: dict | None = None) -> Tables:
    """Read and validate every canonical table present in ``folder``.

    ``timezone`` (e.g. "Europe/London") is used only for timestamps written without a UTC offset.
    ``only`` restricts reading to the named tables (a family notebook reads what it needs).
    ``survey_scales`` (question -> valid answers) checks survey answers; None = the defaults'.
    Cross-table check: every outcome must belong to a crime in ``crimes``. Every table is then
    checked against its plausibility rules (:mod:`kpi_lib.inputs.plausibility`), with the
    judgement settings in ``settings`` (defaults when None) and ``today`` (the run date when
    None) as the last day data may describe when ``metadata.yaml`` states no extraction date.

    Every file is read as it was hashed (:mod:`kpi_lib.core.snapshot`): through the run's snapshot
    when one is active, else through one taken here.
    ``sources``: table -> a force extract read through its mapping (kpi_lib.inputs.mapping),
    read instead of the table's canonical file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(str(folder), "data folder not found", expected="a folder of input tables")
    snap = active_snapshot()
    if snap is None or not snap.covers(folder):
        with Snapshot.of(folder) as snap, snap.active():
            return read_tables(folder, timezone=timezone, categories=categories, only=only,
                               survey_scales=survey_scales, settings=settings, today=today, sources=sources)
    try:
        return _read_folder(folder, timezone, categories, only, survey_scales, settings, today, sources)
    except InputError as exc:
        raise P.with_line(exc, folder) from None


def _read_folder(folder: Path, timezone: str | None, categories: CrimeCategories | None,
                 only: list[str] | None, survey_scales: dict[str, list[str]] | None,
                 settings: dict | None, today: date | None, sources: dict | None = None) -> Tables:
    categories = categories or load_categories()
    meta = read_metadata(folder)
    limits = plausible.Limits.of(meta.get("extraction_date"), settings, today)
    tz = timezone or meta.get("timezone")
    wanted = only or list(TABLES)
    if "outcomes" in wanted and "crimes" not in wanted:
        wanted = [*wanted, "crimes"]
    frames: dict[str, pd.DataFrame] = {}
    ledger: list[LedgerEntry] = []
    notes: list[str] = []
    readers = _readers(categories, tz, survey_scales)
    problems: list[InputError] = []  # every table is read: all their problems are reported together
    failed: set[str] = set()
    for table in TABLES:
        if table not in wanted:
            continue
        try:
            source = (sources or {}).get(table)
            path = source.path if source is not None else find_table_file(folder, table)
            if path is None:
                continue
            frame, rows = _read_table(path, table, readers[table], source=source)
            if frame is None:
                notes.append(f"{path.name} has no rows: outcome rates are not available (an empty outcomes "
                             "table is treated as no outcomes table, never as 0%).")
                ledger.append(LedgerEntry(table, path.name, sha256_of(path), 0, 0))
                continue
            entry = LedgerEntry(table, path.name, sha256_of(path), rows, len(frame))
            frames[table] = _plausible(table, path.name, frame, limits, entry, notes)
            ledger.append(entry)
        except InputError as exc:
            problems.append(exc)
            failed.add(table)
    if "outcomes" in frames and "crimes" not in failed:
        if "crimes" not in frames:
            problems.append(InputError("outcomes", "outcomes given without a crimes table",
                                       expected="crimes.csv or crimes.parquet beside outcomes"))
        else:
            problems += _outcome_problems(frames, ledger, limits)
    if problems:
        every = [e for p in problems for e in (p.errors if isinstance(p, InputErrors) else [p])]
        raise one_or_all([P.with_line(e, folder) for e in every])
    return Tables(frames=frames, ledger=ledger, folder=str(folder),
                  synthetic=bool(meta.get("synthetic", False)), force=str(meta.get("force", "")),
                  extraction_date=meta.get("extraction_date"), sources={t: "canonical" for t in frames},
                  notes=notes, skipped=skipped_files(folder))


def _outcome_problems(frames: dict[str, pd.DataFrame], ledger: list[LedgerEntry],
                      limits: plausible.Limits) -> list[InputError]:
    """What the outcomes break across tables: outcomes of crimes not in the crimes table, and the
    outcome rules that need each crime's record (every rule checked, every breach returned)."""
    outcomes, crimes = frames["outcomes"], frames["crimes"]
    out_file = next(e.file for e in ledger if e.table == "outcomes")
    unknown = np.zeros(len(outcomes), dtype=bool)
    unknown[_unknown_refs(outcomes["crime_ref"], crimes["crime_ref"])] = True
    found: list[InputError] = []
    try:
        P.fail_rows(out_file, pd.Series(unknown), outcomes["crime_ref"], "crime_ref",
                    "outcome for a crime that is not in the crimes table", "a crime_ref present in crimes")
    except InputError as exc:
        found.append(exc)
    try:
        plausible.check_outcomes(out_file, outcomes, crimes, limits)
    except InputError as exc:
        found.append(exc)
    return found


def table_files(folder: Path) -> list[Path]:
    """The canonical table files in ``folder`` (two files for one table: both, and the reader
    names them)."""
    out = []
    for t in TABLES:
        try:
            p = find_table_file(folder, t)
        except InputError:
            p = None
            out += [q for q in (folder / f"{t}{ext}" for ext in TABLE_SUFFIXES) if q.exists()]
        if p is not None:
            out.append(p)
    return out


def holds_tables(folder: Path) -> bool:
    """Whether ``folder`` holds at least one canonical table."""
    return any(find_table_file(folder, t) for t in TABLES)
