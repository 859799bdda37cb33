"""A force's own extracts read onto the canonical tables through ``mapping.yaml``, and every file
of a data folder accounted for.

``mapping.yaml`` beside the inputs (or the file ``--mapping`` names) says, for each canonical table
a force's extract stands for (the shape is the same for every table)::

    crimes:
      file: "Crime extract*.csv"        # which file (a pattern); default: the table's own name
      encoding: cp1252                  # utf-8 (default; a byte order mark is allowed) or cp1252
      delimiter: ","                    # default ","; "tab" for tab-separated
      columns: {crime_ref: CrimeNumber, recorded_date: "Date Recorded", offence_code: "HO Code",
                domestic_abuse: "DA Flag", local_area: Area}
      formats: {recorded_date: "%d/%m/%Y"}  # strptime formats of date and time columns
      timezone: Europe/London           # zone of times written without an offset
      values: {domestic_abuse: {"Y": true, "N": false}}
      lookups: {local_area: {file: beats.csv, from: Beat, key: "Beat code", value: "Local area"}}
      fixed: {}                          # a column the extract lacks, one value for every row
    ignore: ["*.txt"]                    # files in the folder not to read, on purpose

Each mapped file is read with its encoding and delimiter, its columns renamed, its dates read with
their formats, its values mapped (a value with no mapping and not already a canonical value is an
error naming the value and its count: nothing is dropped), its lookup applied; the result is a
canonical table read and checked by the canonical readers, so the same records give exactly the
same figures as in canonical form. Every problem the mapping finds in a file is reported in one
message, grouped by column with counts and examples.

:func:`account_for_files` checks that every file of the folder is read (a canonical table, a public
table, a mapped extract, a lookup), is one of the folder's own descriptions (``metadata.yaml``,
``mapping.yaml``, ``commentary.md``, a ``README``), or is skipped on purpose (``--ignore``); any
other file stops the run and is named.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kpi_lib.core.errors import InputError, ParameterError
from kpi_lib.core.safe_yaml import load_yaml
from kpi_lib.inputs import parsing as P

MAPPING_FILE = "mapping.yaml"
ENCODINGS = {"utf-8": "utf-8-sig", "utf-8-sig": "utf-8-sig", "utf-8 with bom": "utf-8-sig",
             "cp1252": "cp1252", "windows-1252": "cp1252"}
#: What each canonical column holds: text, date, time (UTC instant), flag (true/false), number,
#: or one of a fixed set of values; "?" marks a column whose cells may be empty.
KINDS: dict[str, dict[str, str]] = {
    "crimes": {"crime_ref": "text", "recorded_date": "date", "offence_code": "offence_code",
               "domestic_abuse": "flag", "local_area": "text"},
    "outcomes": {"crime_ref": "text", "outcome_type": "outcome_type", "outcome_date": "date?"},
    "calls": {"call_ref": "text", "line": "line", "received_at": "time", "answered_at": "time?"},
    "incidents": {"incident_ref": "text", "grade": "grade", "created_at": "time", "arrived_at": "time?",
                  "resourced": "flag", "local_area": "text"},
    "survey_responses": {"survey": "survey", "respondent_ref": "text", "interview_date": "date",
                         "local_area": "text", "crime_type": "text?", "question": "text",
                         "answer": "text", "weight": "number"},
    "finance": {"financial_year": "text", "quarter": "quarter", "budget_gbp": "number",
                "forecast_outturn_gbp": "number", "savings_target_gbp": "number",
                "savings_delivered_gbp": "number"},
    "vfm": {"financial_year": "text", "conclusion": "conclusion"},
    "carbon": {"period_start": "date", "source": "text", "quantity": "number", "unit": "text"},
}
TRUE_WORDS, FALSE_WORDS = P.TRUE_WORDS, P.FALSE_WORDS
#: Folder files that describe the inputs rather than hold them (read by the suite, or by people).
OWN_FILES = ("metadata.yaml", MAPPING_FILE, "commentary.md")
DOCUMENTATION = ("README*", "*.md")
#: Files no one meant as data: hidden files, office lock files and editor backups.
NOT_DATA = (".*", "~$*", "*~")
EXAMPLES = 3


def canonical_choices() -> dict[str, list[str]]:
    from kpi_lib.config.settings import OUTCOME_TYPES
    return {"outcome_type": OUTCOME_TYPES, "line": ["999", "101"], "grade": ["1", "2", "3", "4"],
            "survey": ["victim", "confidence"], "conclusion": ["unqualified", "qualified", "adverse"],
            "quarter": ["1", "2", "3", "4"]}


# ------------------------------------------------------------------------------ the mapping file
class Lookup(BaseModel):
    """A column made by looking up another column of the extract in a small CSV."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    file: str = Field(min_length=1)
    from_: str = Field(alias="from", min_length=1)
    key: str = Field(min_length=1)
    value: str = Field(min_length=1)
    encoding: str = "utf-8"


class TableMapping(BaseModel):
    """How one extract maps onto one canonical table."""

    model_config = ConfigDict(extra="forbid")
    file: str | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    columns: dict[str, str] = {}
    formats: dict[str, str] = {}
    timezone: str | None = None
    values: dict[str, dict[str, Any] | None] = {}
    lookups: dict[str, Lookup] = {}
    fixed: dict[str, Any] = {}

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str) -> str:
        if v.strip().lower() not in ENCODINGS:
            raise ValueError(f"unknown encoding {v!r}; expected utf-8, utf-8-sig (with a byte order mark) or cp1252")
        return ENCODINGS[v.strip().lower()]

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, v: str) -> str:
        v = "\t" if v.lower() in ("tab", "\\t") else v
        if len(v) != 1:
            raise ValueError(f"a delimiter is one character (or 'tab'), got {v!r}")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return None if v is None else known_zone(v)


def known_zone(name: str) -> str:
    """``name`` when it is a zone of the tz database (a ValueError saying so otherwise)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a time zone in the tz database, e.g. Europe/London") from None
    return name


@dataclass(frozen=True)
class Mapping:
    """A loaded mapping: table -> how its extract maps; the mapping file; files to skip."""

    tables: dict[str, TableMapping]
    path: Path | None = None
    ignore: tuple[str, ...] = ()

    @property
    def lookup_files(self) -> list[str]:
        return [lk.file for t in self.tables.values() for lk in t.lookups.values()]


def _text(v: Any) -> str:
    """A value map's target as canonical text: true/false, 999 (not 999.0), "1A"."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def parse_mapping(doc: Any, source: str) -> Mapping:
    """Validate a loaded mapping document: known tables and columns, formats for date and time
    columns only, value maps and lookups for known columns. One ParameterError naming the file,
    the table and the key."""
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ParameterError(f"{source}: expected a mapping of table names to how each is mapped")
    ignore = doc.get("ignore") or []
    if isinstance(ignore, str) or not all(isinstance(x, str) for x in ignore):
        raise ParameterError(f"{source}: ignore must be a list of file name patterns, got {ignore!r}")
    tables = {}
    for name, spec in doc.items():
        if name == "ignore":
            continue
        if name not in KINDS:
            raise ParameterError(f"{source}: unknown table {name!r}; expected one of {', '.join(KINDS)} (or ignore)")
        try:
            t = TableMapping.model_validate(spec or {})
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            key = ".".join(str(x) for x in err["loc"])
            raise ParameterError(f"{source}: {name}.{key}: {err['msg'].removeprefix('Value error, ')}") from None
        kinds = KINDS[name]
        for part in ("columns", "formats", "values", "lookups", "fixed"):
            unknown = [c for c in getattr(t, part) if c not in kinds]
            if unknown:
                raise ParameterError(f"{source}: {name}.{part} names {unknown[0]!r}, which is not a column of "
                                     f"{name}; expected one of {', '.join(kinds)}")
        for col in t.formats:
            if kinds[col].rstrip("?") not in ("date", "time"):
                raise ParameterError(f"{source}: {name}.formats.{col}: a format is for date and time columns only")
        # a value mapped to null is still to be filled in (kpi map writes them): it stays unmapped
        t = t.model_copy(update={"values": {c: {str(k).strip(): _text(v) for k, v in (m or {}).items()
                                                if v is not None} for c, m in t.values.items()},
                                 "fixed": {c: _text(v) for c, v in t.fixed.items()}})
        tables[name] = t
    return Mapping(tables, Path(source), tuple(ignore))


def mapped_file_list(folder: str | Path) -> list[Path]:
    """The files ``mapping.yaml`` in the folder maps (the input kind "mapped")."""
    mapping = load_mapping(folder)
    if mapping is None:
        return []
    folder = Path(folder)
    names = [n for table, spec in mapping.tables.items()
             for n in ([spec.file] if spec.file else [f"{table}{ext}" for ext in (".csv", ".csv.gz", ".parquet")])]
    return sorted({p for n in names for p in folder.glob(n) if p.is_file()})


def holds_mapping(folder: str | Path) -> bool:
    """Whether the folder describes extracts of its own in ``mapping.yaml`` (the input kind
    "mapped"; a mapping given with ``--mapping`` elsewhere is read all the same)."""
    return (Path(folder) / MAPPING_FILE).is_file()


def load_mapping(folder: str | Path, given: str | Path | None = None) -> Mapping | None:
    """The mapping for a data folder: ``given`` (``--mapping FILE``), else ``mapping.yaml`` in the
    folder, else None (canonical and public inputs only)."""
    path = Path(given) if given else Path(folder) / MAPPING_FILE
    if given is None and not path.exists():
        return None
    doc = load_yaml(path, what="input mapping")
    return parse_mapping(doc, str(path))


# ------------------------------------------------------------------------------ problems
@dataclass
class Problem:
    """One kind of problem in one column of a file: how many rows, and a few examples."""

    column: str
    what: str
    rows: int = 0
    examples: list[tuple[int, str]] = field(default_factory=list)
    values: dict[str, int] = field(default_factory=dict)  # value -> count, for unmapped values
    hint: str = ""

    def line(self) -> str:
        if self.values:
            top = sorted(self.values.items(), key=lambda kv: (-kv[1], kv[0]))
            shown = ", ".join(f"{v!r} ({n:,} row{'s' if n != 1 else ''})" for v, n in top[:12])
            more = f" and {len(top) - 12} more" if len(top) > 12 else ""
            text = f"{self.what}: {shown}{more}"
        else:
            eg = ", ".join(f"row {r:,} {v!r}" for r, v in self.examples[:EXAMPLES])
            text = self.what if not self.rows else \
                f"{self.what}: {self.rows:,} row{'s' if self.rows != 1 else ''}" + (f", e.g. {eg}" if eg else "")
        return text + (f"; {self.hint}" if self.hint else "")


class InputProblems(InputError):
    """Every problem found in one input file, grouped by column with counts and examples (one
    message; nothing of the file is used)."""

    def __init__(self, file: str, problems: list[Problem], source: str = "") -> None:
        self.file, self.row, self.column, self.value = file, None, None, None
        self.expected, self.more, self.more_at_least = None, 0, False
        self.problems = problems
        self.problem = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        by_column: dict[str, list[Problem]] = {}
        for p in problems:
            by_column.setdefault(p.column, []).append(p)
        lines = [f"{file}: {self.problem} in one pass" + (f" (mapped by {source})" if source else "")
                 + "; nothing was read from this file:"]
        for column, ps in by_column.items():
            for p in ps:
                lines.append(f"  {column}: {p.line()}")
        Exception.__init__(self, "\n".join(lines))

    def shifted(self, rows_before: int, *, later_rows_unread: bool) -> InputError:
        return self


class _Collector:
    """Problems of one file, merged across chunks."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Problem] = {}

    def add(self, column: str, what: str, bad: np.ndarray, raw: pd.Series, offset: int, hint: str = "") -> None:
        at = np.flatnonzero(bad)
        if not at.size:
            return
        p = self.items.setdefault((column, what), Problem(column, what, hint=hint))
        p.rows += int(at.size)
        for i in at[:EXAMPLES - len(p.examples)] if len(p.examples) < EXAMPLES else []:
            p.examples.append((offset + int(i) + 1, str(raw.iloc[int(i)])))

    def values(self, column: str, what: str, counts: pd.Series, hint: str) -> None:
        if counts.empty:
            return
        p = self.items.setdefault((column, what), Problem(column, what, hint=hint))
        for v, n in counts.items():
            p.values[str(v)] = p.values.get(str(v), 0) + int(n)
            p.rows += int(n)

    def single(self, column: str, what: str, hint: str = "") -> None:
        self.items.setdefault((column, what), Problem(column, what, hint=hint))

    @property
    def problems(self) -> list[Problem]:
        return list(self.items.values())


# ------------------------------------------------------------------------------ mapping a file
def _blank(s: pd.Series) -> np.ndarray:
    return (s.isna() | (s.astype("string").str.strip() == "").fillna(True)).to_numpy()


@dataclass
class MappedFile:
    """One force extract and how it maps onto a canonical table: the rows are read a chunk at a
    time (:meth:`chunks`), renamed and converted to canonical values, each chunk checked; the
    problems of the whole file are raised together after its last chunk."""

    table: str
    path: Path
    spec: TableMapping
    folder: Path
    timezone: str | None = None
    offence_codes: frozenset[str] | None = None
    source: str = ""
    _lookups: dict[str, dict[str, str]] = field(default_factory=dict)

    # -- reading
    def _read(self, rows: int | None, usecols=None) -> Iterator[pd.DataFrame]:
        if self.path.suffix == ".parquet":
            from kpi_lib.inputs.chunks import raw_chunks
            yield from raw_chunks(self.path, rows)
            return
        P.check_field_lengths(self.path)
        from kpi_lib.inputs.chunks import CHUNK_ROWS
        try:
            with P.open_input(self.path) as fh:  # the bytes the run hashed
                reader = pd.read_csv(fh, dtype=str, keep_default_na=False, na_values=[""],
                                     encoding=self.spec.encoding, sep=self.spec.delimiter,
                                     chunksize=rows or CHUNK_ROWS, usecols=usecols)
                with reader:
                    for chunk in reader:
                        yield chunk.rename(columns=lambda c: str(c).strip()).reset_index(drop=True)
        except UnicodeDecodeError:
            hint = ("set encoding: cp1252 for this table in the mapping" if self.spec.encoding != "cp1252"
                    else "check the file's encoding")
            with P.open_input(self.path) as fh:
                raw = fh.read()
            try:
                raw.decode(self.spec.encoding)
                where = ""
            except UnicodeDecodeError as exc:
                line = raw.count(b"\n", 0, exc.start) + 1
                where = f": line {line:,} (data row {line - 1:,}) has the byte 0x{raw[exc.start]:02x}"
            raise InputProblems(self.path.name, [Problem(
                "(file)", f"not {self.spec.encoding.replace('-sig', '')} text{where}", hint=hint)],
                self.source) from None
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - any reader failure is an input problem
            raise InputError(self.path.name, f"cannot be read as a table ({type(exc).__name__}: {exc})") from exc

    def source_of(self, column: str) -> str:
        """The extract's column for a canonical column (renamed, else the same name)."""
        return self.spec.columns.get(column, column)

    def _lookup(self, column: str) -> dict[str, str]:
        if column not in self._lookups:
            lk = self.spec.lookups[column]
            path = (self.folder / lk.file) if not Path(lk.file).is_absolute() else Path(lk.file)
            if not path.is_file():
                raise InputError(lk.file, "lookup file not found", expected=f"a CSV beside the inputs for {column}")
            with P.open_input(path) as fh:
                t = pd.read_csv(fh, dtype=str, keep_default_na=False, encoding=ENCODINGS.get(lk.encoding, "utf-8-sig"))
            t.columns = [str(c).strip() for c in t.columns]
            P.require_columns(path.name, t, [lk.key, lk.value])
            keys, vals = t[lk.key].str.strip(), t[lk.value].str.strip()
            clash = pd.DataFrame({"k": keys, "v": vals}).drop_duplicates().duplicated("k", keep=False)
            if clash.any():
                k = keys[clash.to_numpy()].iloc[0]
                raise InputError(path.name, "the same key has two values", column=lk.key, value=k,
                                 expected="one value per key")
            self._lookups[column] = dict(zip(keys, vals, strict=True))
        return self._lookups[column]

    def _header_problems(self, header: list[str], found: _Collector) -> None:
        have = set(header)
        for column in KINDS[self.table]:
            if column in self.spec.fixed:
                continue
            if column in self.spec.lookups:
                src = self.spec.lookups[column].from_
                if src not in have:
                    found.single(column, f"the lookup's column {src!r} is not in the file",
                                 "its columns are " + ", ".join(header))
                continue
            src = self.source_of(column)
            if src not in have:
                how = (f"mapped to column {src!r}, which is not in the file" if column in self.spec.columns
                       else "no column for it: map it under columns")
                found.single(column, how, "the file's columns are " + ", ".join(header))

    def chunks(self, rows: int | None = None) -> Iterator[pd.DataFrame]:
        """The file's rows as canonical raw frames (canonical column names and values), a chunk
        at a time; after the last chunk, every problem found is raised in one InputProblems."""
        found = _Collector()
        offset = 0
        header_checked = False
        any_sent = False
        for raw in self._read(rows):
            if not header_checked:
                self._header_problems(list(raw.columns), found)
                header_checked = True
                if found.items:
                    break
            out = self._convert(raw, offset, found)
            offset += len(raw)
            if not found.items:
                any_sent = True
                yield out
        if found.items:
            raise InputProblems(self.path.name, found.problems, self.source)
        if not any_sent:
            yield pd.DataFrame({c: pd.Series([], dtype="string") for c in KINDS[self.table]})

    def ref_chunks(self, column: str, rows: int | None = None) -> Iterator[pd.Series]:
        """The values of one canonical column, a chunk at a time (to name duplicate references)."""
        src = self.source_of(column)
        for raw in self._read(rows, usecols=lambda c: str(c).strip() == src):
            yield raw[src]

    # -- converting
    def _convert(self, raw: pd.DataFrame, offset: int, found: _Collector) -> pd.DataFrame:
        out: dict[str, pd.Series] = {}
        n = len(raw)
        for column, kind in KINDS[self.table].items():
            optional = kind.endswith("?")
            kind = kind.rstrip("?")
            if column in self.spec.fixed:
                out[column] = pd.Series([self.spec.fixed[column]] * n, dtype="string")
                continue
            if column in self.spec.lookups:
                src = raw[self.spec.lookups[column].from_].astype("string").str.strip()
                table = self._lookup(column)
                mapped = src.map(table)
                missing = mapped.isna().to_numpy() & ~_blank(src)
                if missing.any():
                    found.values(column, f"values of {self.spec.lookups[column].from_!r} not in "
                                 f"{self.spec.lookups[column].file}", src[missing].value_counts(),
                                 f"add them to {self.spec.lookups[column].file}")
                out[column] = mapped.astype("string")
                continue
            src_name = self.source_of(column)
            s = raw[src_name]
            text = s.astype("string").str.strip()
            blank = _blank(s)
            if column in self.spec.values:
                text = self._map_values(column, src_name, text, blank, kind, found)
            if kind in ("date", "time"):
                out[column] = self._when(column, src_name, s, text, blank, kind, offset, found)
            else:
                out[column] = self._check_kind(column, src_name, s, text, blank, kind, offset, found)
            if not optional:
                found.add(column, f"empty (column {src_name!r})", blank, s, offset, "every row needs a value")
        return pd.DataFrame(out)

    def _map_values(self, column: str, src: str, text: pd.Series, blank: np.ndarray, kind: str,
                    found: _Collector) -> pd.Series:
        vmap = self.spec.values[column]
        mapped = text.map(vmap)
        unmapped = mapped.isna().to_numpy() & ~blank
        if unmapped.any():
            canonical = self._canonical(text, kind)
            unmapped &= ~canonical
            found.values(column, f"values of column {src!r} with no mapping", text[unmapped].value_counts(),
                         f"add each under values: {column}: in the mapping")
            mapped = mapped.where(~pd.Series(canonical, index=text.index), text)
        return mapped.astype("string")

    def _canonical(self, text: pd.Series, kind: str) -> np.ndarray:
        """Which values are already canonical for the column's kind (they need no mapping)."""
        if kind == "flag":
            return text.str.lower().isin(TRUE_WORDS | FALSE_WORDS).fillna(False).to_numpy()
        choices = canonical_choices().get(kind)
        if choices is not None:
            t = text.str.upper() if kind == "outcome_type" else text.str.lower() if kind == "conclusion" else text
            return t.isin(choices).fillna(False).to_numpy()
        if kind == "offence_code" and self.offence_codes is not None:
            return text.isin(self.offence_codes).fillna(False).to_numpy()
        return np.zeros(len(text), dtype=bool)

    def _check_kind(self, column: str, src: str, s: pd.Series, text: pd.Series, blank: np.ndarray,
                    kind: str, offset: int, found: _Collector) -> pd.Series:
        if kind == "flag" or kind in canonical_choices() or (kind == "offence_code" and self.offence_codes is not None):
            ok = self._canonical(text, kind) | blank
            if column not in self.spec.values:
                what = {"flag": "values that are not yes/no", "offence_code": "offence codes not in the crime categories file"}
                found.values(column, what.get(kind, f"values that are not a {column.replace('_', ' ')}")
                             + f" (column {src!r})", text[~ok].value_counts(),
                             f"map them under values: {column}: in the mapping"
                             if kind != "offence_code" else "map them under values: offence_code:, or add the codes "
                             "to the crime categories file")
            elif (~ok).any():  # mapped to something that is not canonical either
                found.values(column, f"values mapped to something that is not a {column.replace('_', ' ')}",
                             text[~ok].value_counts(), "correct the mapping's values")
        elif kind == "number":
            num = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
            found.add(column, f"not a number (column {src!r})", num.isna().to_numpy() & ~blank, s, offset)
        return text

    def _when(self, column: str, src: str, s: pd.Series, text: pd.Series, blank: np.ndarray, kind: str,
              offset: int, found: _Collector) -> pd.Series:
        fmt = self.spec.formats.get(column)
        if pd.api.types.is_datetime64_any_dtype(s):
            return s
        if fmt is None:  # as the canonical readers read it (ISO)
            if kind == "date":
                parsed = pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
                found.add(column, f"not a date written YYYY-MM-DD (column {src!r})",
                          parsed.isna().to_numpy() & ~blank, s, offset,
                          f"give its format under formats: {column}: (e.g. \"%d/%m/%Y\")")
                return parsed
            return text  # ISO timestamps: the canonical reader parses and checks them
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        found.add(column, f"not in the format {fmt} (column {src!r})", parsed.isna().to_numpy() & ~blank, s, offset,
                  "correct the format under formats: in the mapping")
        if kind == "date":
            return parsed.dt.normalize() if getattr(parsed.dt, "tz", None) is None else \
                parsed.dt.tz_convert(self.timezone or "Europe/London").dt.tz_localize(None).dt.normalize()
        if getattr(parsed.dt, "tz", None) is not None:
            return parsed.dt.tz_convert("UTC")
        zone = self.spec.timezone or self.timezone
        if zone is None:
            found.add(column, "times without a zone", ~blank, s, offset,
                      "name the zone under timezone: in the mapping (e.g. Europe/London)")
            return parsed
        local = parsed.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        found.add(column, f"local time that is ambiguous or does not exist at a clock change in {zone}",
                  local.isna().to_numpy() & parsed.notna().to_numpy(), s, offset,
                  "give these times with a UTC offset")
        return local.dt.tz_convert("UTC")


def mapped_files(folder: str | Path, mapping: Mapping, *, timezone: str | None = None,
                 offence_codes: frozenset[str] | None = None) -> dict[str, MappedFile]:
    """The extract file of each mapped table (one file per table: none or two matching its
    pattern is an error naming them)."""
    folder = Path(folder)
    out = {}
    for table, spec in mapping.tables.items():
        pattern = spec.file
        names = [f"{table}{ext}" for ext in (".csv", ".csv.gz", ".parquet")] if pattern is None else [pattern]
        found = sorted({p for n in names for p in folder.glob(n) if p.is_file()})
        if not found:
            raise InputError(str(mapping.path.name if mapping.path else MAPPING_FILE),
                             f"no file for the table '{table}' in {folder}",
                             expected=f"a file matching {' or '.join(names)}")
        if len(found) > 1:
            raise InputError(" and ".join(p.name for p in found), f"{len(found)} files match the mapping of "
                             f"'{table}' ({pattern})", expected="one file per table: narrow the file pattern, "
                             "or move the others away")
        out[table] = MappedFile(table, found[0], spec, folder, timezone, offence_codes,
                                str(mapping.path.name) if mapping.path else "")
    return out


# ------------------------------------------------------------------------------ every file accounted for
@dataclass
class FolderFiles:
    """Every file of a data folder and what happens to it."""

    read: dict[str, str] = field(default_factory=dict)  # file -> table or kind it is read as
    described: list[str] = field(default_factory=list)  # metadata, mapping, commentary, READMEs
    ignored: dict[str, str] = field(default_factory=dict)  # file -> the pattern that skipped it
    not_data: list[str] = field(default_factory=list)  # hidden files, lock files, backups
    unknown: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"read": self.read, "described": self.described, "ignored": self.ignored,
                "not_data": self.not_data}


def _matches(name: str, patterns) -> str | None:
    return next((p for p in patterns if fnmatch.fnmatch(name, p)), None)


def _columns_of(path: Path) -> str:
    if path.suffix.lower() != ".csv":
        return ""
    try:
        head = P.first_line(path)
    except OSError:
        return ""
    return head.strip()[:200]


def account_for_files(folder: str | Path, mapping: Mapping | None = None,
                      ignore: tuple[str, ...] | list[str] = ()) -> FolderFiles:
    """What happens to each file of the folder (see the module doc); an InputError naming every
    file that matches no table, no mapping and no ``--ignore`` pattern. The files each input kind
    reads come from the registry (:mod:`kpi_lib.inputs.kinds`)."""
    from kpi_lib.inputs.kinds import registered

    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts[:-1]))
    result = FolderFiles()
    patterns = [*(mapping.ignore if mapping else ()), *ignore]
    mapped: dict[str, str] = {}
    mapped_tables = set(mapping.tables) if mapping else set()
    if mapping is not None:
        for table, spec in mapping.tables.items():
            names = [spec.file] if spec.file else [f"{table}{ext}" for ext in (".csv", ".csv.gz", ".parquet")]
            mapped.update({n: table for n in names})
    lookups = set(mapping.lookup_files) if mapping else set()
    claimed: dict[str, str] = {}
    open_ended: list[str] = []  # kinds that read the folder without listing their files
    for kind in registered().values():
        if kind.name == "mapped":
            continue  # the mapping in use (perhaps --mapping) says which files it reads, above
        if kind.files is None:
            if kind.detect(folder):
                open_ended.append(kind.name)
            continue
        for p in kind.files(folder):
            table = p.name.split(".")[0]
            if kind.name == "canonical" and table in mapped_tables:
                continue  # the mapping reads this table from its own file
            claimed.setdefault(str(p.relative_to(folder)), kind.name if kind.name != "canonical" else table)
    for path in files:
        rel = str(path.relative_to(folder))
        name = path.name
        if _matches(name, NOT_DATA):
            result.not_data.append(rel)
        elif (pat := _matches(rel, patterns) or _matches(name, patterns)) is not None:
            result.ignored[rel] = pat
        elif rel in claimed:
            result.read[rel] = claimed[rel]
        elif (table := next((t for pat, t in mapped.items() if fnmatch.fnmatch(rel, pat)), None)) is not None:
            result.read[rel] = f"{table} (mapped)"
        elif rel in lookups:
            result.read[rel] = "lookup"
        elif rel in OWN_FILES or (mapping and mapping.path and path.resolve() == mapping.path.resolve()):
            result.described.append(rel)
        elif _matches(name, DOCUMENTATION):
            result.described.append(rel)
        elif open_ended:
            result.read[rel] = f"{open_ended[0]} (its files are not listed)"
        else:
            result.unknown.append(rel)
    if result.unknown:
        listed = "; ".join(f"{f}" + (f" (columns: {c})" if (c := _columns_of(folder / f)) else "")
                           for f in result.unknown)
        raise InputError(str(folder), f"{len(result.unknown)} file{'s' if len(result.unknown) != 1 else ''} "
                         f"match no input table and no mapping: {listed}",
                         expected="canonical table names (crimes.csv, ...), public tables, or a mapping.yaml "
                                  "naming each extract (`kpi map` drafts one); to leave a file out on purpose, "
                                  "run with --ignore PATTERN")
    return result

