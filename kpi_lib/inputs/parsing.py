"""Column parsers that turn raw text into typed values or fail with a message naming the row.

Every parser reports the first bad row (1-based data row), the column, the raw value and what
was expected, and how many more rows share the problem. Nothing is coerced to missing silently.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np
import pandas as pd

from kpi_lib.core.errors import InputError, one_or_all
from kpi_lib.core.snapshot import active as active_snapshot
from kpi_lib.core.snapshot import native_path, open_bytes, size_of

#: The longest CSV field accepted, in bytes. No legitimate field of an input table comes near it;
#: a longer one is refused before the file is parsed, so a hostile file cannot make one huge value.
MAX_FIELD_BYTES = 10_000
#: Text fields may not start with these: spreadsheet programs read them as formulas.
FORMULA_STARTS = ("=", "+", "@", "\t", "\r")
#: A ``.csv.gz`` may expand to at most this many times its size (or 100 MB, if more): real CSV
#: compresses 5 to 20 times; far more is a compression bomb that would exhaust memory when parsed.
MAX_GZIP_RATIO = 200
_GZIP_FLOOR = 100_000_000
_CHUNK = 1 << 22  # bytes scanned at a time (about 4 MB; the scan's memory is a few times this)
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
TRUE_WORDS = {"true", "1", "y", "yes", "t"}
FALSE_WORDS = {"false", "0", "n", "no", "f"}


#: The problems found so far inside :func:`every_column_problem`; None outside it.
_COLUMN_PROBLEMS: ContextVar[list[InputError] | None] = ContextVar("column_problems", default=None)


def fail_rows(file: str, bad: pd.Series, raw: pd.Series, column: str, problem: str,
              expected: str) -> None:
    """Raise InputError for the first True in ``bad`` (a boolean mask aligned with ``raw``).

    Inside :func:`every_column_problem` the error is recorded instead, once per column (a
    column's later checks would only restate its first problem), and parsing goes on."""
    if not bool(bad.any()):
        return
    positions = bad.to_numpy().nonzero()[0]
    first = int(positions[0])
    value = raw.iloc[first]
    if isinstance(value, pd.Timestamp):
        value = value.isoformat()
    error = InputError(file, problem, row=first + 1, column=column,
                       value=None if pd.isna(value) else value, expected=expected,
                       more=len(positions) - 1)
    found = _COLUMN_PROBLEMS.get()
    if found is None:
        raise error
    if not any(e.file == file and e.column == column for e in found):
        found.append(error)


@contextmanager
def every_column_problem() -> Iterator[list[InputError]]:
    """Parse a table reporting the first problem of EVERY column in one message rather than
    stopping at the first column with one, so a file is put right in one pass. On leaving, the
    problems found are raised (one, or all of them as :class:`InputErrors`). A later step that
    fails on values already reported bad (a column left empty by its bad rows) stops with those
    problems, which are its cause, rather than with a traceback."""
    found: list[InputError] = []
    token = _COLUMN_PROBLEMS.set(found)
    try:
        yield found
    except InputError as exc:  # a problem that stops the file from being read further
        found.append(exc)
    except Exception:
        if not found:
            raise
    finally:
        _COLUMN_PROBLEMS.reset(token)
    if found:
        raise one_or_all(found)


def _blank(raw: pd.Series) -> pd.Series:
    """Missing or whitespace-only; typed (non-text) columns are blank only when missing."""
    if not (pd.api.types.is_object_dtype(raw) or pd.api.types.is_string_dtype(raw)):
        return raw.isna()
    return raw.isna() | (raw.astype("string").str.strip() == "").fillna(True)


def require_columns(file: str, frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(file, f"missing column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(repr(c) for c in missing)}",
                         expected=f"columns {', '.join(columns)}")


def refuse_formulas(file: str, raw: pd.Series, column: str) -> None:
    """Text starting with = + @ tab or carriage return is an input error: no area, crime type or
    reference starts that way, and a spreadsheet would run it as a formula."""
    text = raw.astype("string")
    bad = text.str.startswith(FORMULA_STARTS).fillna(False)
    fail_rows(file, bad, raw, column, "text starts with =, +, @, a tab or a carriage return "
              "(a spreadsheet would read it as a formula)", "plain text")


def parse_text(file: str, raw: pd.Series, column: str, *, required: bool = True) -> pd.Series:
    refuse_formulas(file, raw, column)
    s = raw.astype("string").str.strip()
    if required:
        fail_rows(file, _blank(raw), raw, column, "value is empty", "a non-empty value")
    return s


def parse_date(file: str, raw: pd.Series, column: str, *, required: bool = True) -> pd.Series:
    """ISO dates (YYYY-MM-DD) to naive datetime64 at midnight."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        out = raw.dt.tz_localize(None) if getattr(raw.dt, "tz", None) else raw
        out = out.dt.normalize()
    else:
        text = raw.astype("string").str.strip().str.slice(0, 10)
        out = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        bad = out.isna() & ~_blank(raw)
        fail_rows(file, bad, raw, column, "not a date", "a date written YYYY-MM-DD")
    if required:
        fail_rows(file, out.isna(), raw, column, "date is empty", "a date written YYYY-MM-DD")
    return out.astype("datetime64[ns]")


def parse_timestamp(file: str, raw: pd.Series, column: str, *, naive_timezone: str | None,
                    required: bool = True) -> pd.Series:
    """ISO 8601 timestamps to UTC. Text without a UTC offset is read in ``naive_timezone``
    (e.g. Europe/London) only when that parameter is given; otherwise it is an error. Local times
    that do not exist or are ambiguous at a clock change are errors, never guessed."""
    blank = _blank(raw)
    if pd.api.types.is_datetime64_any_dtype(raw):
        if getattr(raw.dt, "tz", None) is not None:
            out = raw.dt.tz_convert("UTC")
        else:
            if naive_timezone is None:
                fail_rows(file, ~blank, raw, column,
                          "timestamp has no UTC offset",
                          "ISO 8601 with an offset, or run with timezone: Europe/London")
            out = raw.dt.tz_localize(naive_timezone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
            fail_rows(file, out.isna() & ~blank, raw, column,
                      "local time is ambiguous or does not exist at a clock change",
                      "a timestamp with a UTC offset")
    else:
        text = raw.astype("string").str.strip()
        has_offset = text.str.contains(_OFFSET, na=False)
        naive = ~has_offset & ~blank
        out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
        if has_offset.any():
            parsed = pd.to_datetime(text[has_offset], format="ISO8601", utc=True, errors="coerce")
            out.loc[has_offset] = parsed
            bad = has_offset & out.isna()
            fail_rows(file, bad, raw, column, "not a timestamp",
                      "ISO 8601, e.g. 2023-10-29T01:30:00+01:00")
        if naive.any():
            local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
            fail_rows(file, naive & local.reindex(raw.index).isna(), raw, column,
                      "not a timestamp", "ISO 8601, e.g. 2023-10-29T01:30:00+01:00")
            if naive_timezone is None:
                fail_rows(file, naive, raw, column, "timestamp has no UTC offset",
                          "ISO 8601 with an offset (e.g. +01:00), or run with timezone: Europe/London")
            loc = local.dt.tz_localize(naive_timezone, ambiguous="NaT", nonexistent="NaT")
            fail_rows(file, naive & loc.reindex(raw.index).isna(), raw, column,
                      "local time is ambiguous or does not exist at a clock change",
                      "a timestamp with a UTC offset")
            out.loc[naive] = loc.dt.tz_convert("UTC")
    if required:
        fail_rows(file, out.isna(), raw, column, "timestamp is empty",
                  "an ISO 8601 timestamp")
    return out.astype("datetime64[ns, UTC]")


def parse_number(file: str, raw: pd.Series, column: str, *, required: bool = True,
                 minimum: float | None = None, integer: bool = False) -> pd.Series:
    """Numbers (padding spaces and thousands commas allowed); never coerced to missing."""
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        out = raw.astype("float64")
    else:
        text = raw.astype("string").str.strip().str.replace(",", "", regex=False)
        out = pd.to_numeric(text, errors="coerce").astype("float64")
        fail_rows(file, out.isna() & ~_blank(raw), raw, column, "not a number",
                  "a whole number" if integer else "a number")
    if required:
        fail_rows(file, out.isna(), raw, column, "value is empty", "a number")
    if integer:
        fail_rows(file, out.notna() & (out % 1 != 0), raw, column, "not a whole number",
                  "a whole number")
    if minimum is not None:
        fail_rows(file, out < minimum, raw, column, "value out of range", f"at least {minimum:g}")
    return out


def parse_bool(file: str, raw: pd.Series, column: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype(bool)
    text = raw.astype("string").str.strip().str.lower()
    bad = ~text.isin(TRUE_WORDS | FALSE_WORDS)
    fail_rows(file, bad.fillna(True), raw, column, "not a yes/no value",
              "true/false, yes/no, y/n or 1/0")
    return text.isin(TRUE_WORDS).astype(bool)


_FINANCIAL_YEAR = re.compile(
    r"^\s*(?:FY\s*)?(?P<y1>\d{4}|\d{2})\s*(?:/|-|\u2013|\u2014|\s+to\s+)\s*(?P<y2>\d{4}|\d{2})\s*$", re.I)


def financial_year_label(text: object) -> str | None:
    """A financial year in any common spelling as ``2024/25``: 2024/25, 2024-25, 2024/2025,
    2024 to 2025, 2024–25 (en dash), FY2024/25, FY24/25, 24/25. None when it is not one (the two
    years must be consecutive; two-digit years are 20xx)."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return None
    m = _FINANCIAL_YEAR.match(str(text))
    if not m:
        return None
    y1 = int(m["y1"]) + (2000 if len(m["y1"]) == 2 else 0)
    y2 = int(m["y2"])
    if (y2 if len(m["y2"]) == 4 else y2 + (y1 // 100) * 100 + (100 if y2 < y1 % 100 else 0)) != y1 + 1:
        return None
    return f"{y1}/{(y1 + 1) % 100:02d}"


def parse_financial_year(file: str, raw: pd.Series, column: str) -> pd.Series:
    """Financial years in any common spelling (:func:`financial_year_label`) as ``2024/25``, so
    that a year written 2024-25 is matched like one written 2024/25, never dropped later."""
    refuse_formulas(file, raw, column)
    out = raw.map(financial_year_label).astype("string")
    fail_rows(file, out.isna(), raw, column, "not a financial year",
              "a year such as 2024/25 (also 2024-25, 2024/2025 or FY24/25)")
    return out


def parse_choice(file: str, raw: pd.Series, column: str, allowed: list[str]) -> pd.Series:
    text = raw.astype("string").str.strip()
    bad = ~text.isin(allowed)
    fail_rows(file, bad.fillna(True), raw, column, "unknown value", "one of " + ", ".join(allowed))
    return text


def _open_bytes(path: Path):
    """The file's bytes (decompressed for ``.gz``), through the run's snapshot when it holds the
    file (:mod:`kpi_lib.core.snapshot`: the bytes read are those hashed)."""
    fh = open_bytes(path)
    if Path(path).suffix != ".gz":
        return fh
    unzipped = gzip.GzipFile(fileobj=fh, mode="rb")
    unzipped.myfileobj = fh  # closed with it
    return unzipped


def open_input(path: Path):
    """An input file opened for reading as bytes (see :func:`_open_bytes`), for the readers."""
    return _open_bytes(path)


@contextmanager
def parquet_source(path: Path) -> Iterator:
    """What to give Arrow's Parquet reader for an input file: a path to the very file the run's
    snapshot hashed when the system offers one (native speed), else that file opened through the
    snapshot, else the path."""
    snap = active_snapshot()
    native = native_path(path)
    if snap is None or not snap.holds(path) or native != str(path):
        yield native
    else:
        with _open_bytes(path) as fh:
            yield fh


def first_line(path: Path, limit: int = 65_536) -> str:
    """The first line of a text file, read at most ``limit`` characters (a header check must not
    read a huge single-line file into memory)."""
    with _open_bytes(path) as fh:
        return io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace").readline(limit)


def _header_names(path: Path) -> list[str]:
    try:
        return next(csv.reader([first_line(path)]))
    except (StopIteration, csv.Error):
        return []


def check_field_lengths(path: Path, limit: int = MAX_FIELD_BYTES) -> None:
    """Refuse a CSV with a field longer than ``limit`` bytes, naming the row and column, before it
    is parsed (and a ``.csv.gz`` that expands beyond :data:`MAX_GZIP_RATIO` times its size). The file is scanned in chunks of a few MB with the RFC 4180 rule (a comma or line
    end separates fields only outside quotes, i.e. after an even number of quote characters), so
    memory stays bounded whatever the file holds."""
    parity, last_sep, offset, row, col = 0, -1, 0, 0, 0

    def fail(at_row: int, at_col: int, length: int, open_ended: bool = False) -> None:
        names = _header_names(path)
        column = names[at_col].strip() if at_col < len(names) else f"number {at_col + 1}"
        raise InputError(path.name, f"a field is {'at least ' if open_ended else ''}{length:,} bytes long; "
                         f"the limit is {limit:,} bytes", row=at_row if at_row else None,
                         column="header" if at_row == 0 else column,
                         expected=f"fields of at most {limit:,} bytes")

    expanded_limit = (max(MAX_GZIP_RATIO * size_of(path), _GZIP_FLOOR) if path.suffix == ".gz"
                      else None)
    with _open_bytes(path) as fh:
        while True:
            try:
                data = fh.read(_CHUNK)
            except (OSError, EOFError) as exc:
                raise InputError(path.name, f"cannot be decompressed ({exc})") from None
            if not data:
                break
            if expanded_limit is not None and offset + len(data) > expanded_limit:
                raise InputError(path.name, f"expands to more than {expanded_limit:,} bytes, over "
                                 f"{MAX_GZIP_RATIO} times its compressed size (a compression bomb?)",
                                 expected="a .csv.gz of ordinary CSV, or the plain .csv")
            arr = np.frombuffer(data, dtype=np.uint8)
            quotes = arr == 34
            outside = ((parity + np.cumsum(quotes, dtype=np.uint8) - quotes) & 1) == 0
            newline = (arr == 10) & outside
            sep = newline | ((arr == 44) & outside)
            pos = np.flatnonzero(sep)
            if pos.size:
                starts = np.concatenate(([last_sep - offset], pos[:-1]))
                lengths = pos - starts - 1
                too_long = np.flatnonzero(lengths > limit)
                if too_long.size:
                    k = int(too_long[0])
                    nl = newline[pos[:k]]
                    lines = np.flatnonzero(nl)
                    at_col = (k - int(lines[-1]) - 1) if lines.size else col + k
                    fail(row + int(nl.sum()), at_col, int(lengths[k]))
                nl = newline[pos]
                lines = np.flatnonzero(nl)
                col = (pos.size - int(lines[-1]) - 1) if lines.size else col + pos.size
                row += int(nl.sum())
                last_sep = offset + int(pos[-1])
            parity = (parity + int(quotes.sum())) & 1
            offset += arr.size
            if offset - last_sep - 1 > limit:
                fail(row, col, offset - last_sep - 1, open_ended=True)


def read_csv_text(path: Path, comment: str | None = None) -> pd.DataFrame:
    """A CSV as text columns (empty cells missing), after :func:`check_field_lengths` and
    :func:`check_headers` (``comment``: lines starting with it are not rows)."""
    check_field_lengths(path)
    check_headers(path.name, header_names(path, comment))
    with _open_bytes(path) as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False, na_values=[""], comment=comment)


def _blank_record(record: list[str]) -> bool:
    """A line the CSV reader skips as blank: empty, or only spaces."""
    return not record or (len(record) == 1 and not record[0].strip())


def _records(path: Path, comment: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) of every record of a CSV that is not blank (the header first),
    read as pandas reads it: blank lines skipped, quoted fields spanning lines kept whole."""
    with _open_bytes(path) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.reader(text)
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error:
                return
            if _blank_record(record) or (comment and record and record[0].startswith(comment)):
                continue
            yield start, record


def header_names(path: Path, comment: str | None = None) -> list[str]:
    """The column names of a CSV as written in its header line (before pandas renames a repeated
    name to ``name.1``)."""
    for _, record in _records(path, comment):
        return record
    return []


def check_headers(file: str, names: list) -> None:
    """A column name given twice, even differing only in spaces or case, is an error naming both
    (otherwise one of the two columns would be used silently)."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        key = " ".join(str(name).replace("\ufeff", "").split()).casefold()
        if key in seen:
            j = seen[key]
            raise InputError(file, f"the column {key!r} appears twice in the header: column {j + 1} "
                             f"({str(names[j])!r}) and column {i + 1} ({str(name)!r})",
                             column=str(name).strip(), expected="each column once: delete or rename one of them")
        seen[key] = i


def line_of(path: Path, row: int) -> int | None:
    """The line of a CSV file on which data row ``row`` (1-based) starts, counting blank lines
    and lines inside quoted fields as a text editor does (None if the file has fewer rows)."""
    for n, (line, _) in enumerate(_records(path)):
        if n == row:  # record 0 is the header
            return line
    return None


def with_line(exc: InputError, folder: Path) -> InputError:
    """The same error with the true line number when it names a row of a CSV in ``folder``."""
    if exc.row is None or exc.line is not None or not str(exc.file).endswith((".csv", ".csv.gz")):
        return exc
    path = Path(folder) / str(exc.file)
    try:
        line = line_of(path, exc.row)
    except (OSError, InputError):
        return exc
    return exc.with_line(line) if line is not None else exc
