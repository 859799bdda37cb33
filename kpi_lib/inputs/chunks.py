"""Reading a record-level table a chunk of rows at a time, so that memory is bounded by the chunk
and the compact columns kept, not by the file.

- :func:`raw_chunks` yields the raw rows of a ``.parquet``, ``.csv`` or ``.csv.gz`` file in
  chunks of at most ``rows`` rows (at least one chunk, possibly empty, so the header is checked).
- :class:`UniqueRefs` checks that a reference column is unique over the whole file without
  keeping the references: it keeps one 64-bit hash per row, and only when two hashes match does
  it read the candidate rows again to compare the references themselves (a hash collision is
  never reported as a duplicate).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from kpi_lib.core.errors import InputError
from kpi_lib.inputs import parsing as P

#: Rows parsed and checked at a time. A chunk of calls costs about 200 MB while it is parsed.
CHUNK_ROWS = 1_000_000


def _parquet_rows(path: Path) -> int | None:
    """Rows of a Parquet file from its footer (None for CSV, or a footer that cannot be read:
    reading the file then reports the problem)."""
    if path.suffix != ".parquet":
        return None
    try:
        import pyarrow.parquet as pq
        with P.parquet_source(path) as source:
            return int(pq.ParquetFile(source).metadata.num_rows)
    except Exception:  # noqa: BLE001 - the reader names the problem
        return None


def _unreadable(path: Path, exc: Exception) -> InputError:
    return InputError(path.name, f"cannot be read as a table ({type(exc).__name__}: {exc})")


def raw_chunks(path: Path, rows: int | None = None, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The file's rows in order, ``rows`` at a time (:data:`CHUNK_ROWS` when None), as pandas
    frames typed as a whole-file read would type them (Parquet types; CSV as text with empty
    cells missing, after :func:`parsing.check_field_lengths`). Each chunk has a 0-based index.
    ``columns`` (names as in the file, surrounding spaces ignored) reads only those columns."""
    rows = rows or CHUNK_ROWS
    try:
        if path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq
            with P.parquet_source(path) as source:
                f = pq.ParquetFile(source)
                if columns is None:
                    P.check_headers(path.name, list(f.schema_arrow.names))
                names = [n for n in f.schema_arrow.names if columns is None or str(n).strip() in columns]
                sent = False
                for batch in f.iter_batches(batch_size=rows, columns=names):
                    sent = True
                    yield pa.Table.from_batches([batch]).to_pandas()
                if not sent:
                    yield f.schema_arrow.empty_table().to_pandas()[names]
            return
        if columns is None:
            P.check_field_lengths(path)
            P.check_headers(path.name, P.header_names(path))
        with P.open_input(path) as fh:
            reader = pd.read_csv(fh, dtype=str, keep_default_na=False, na_values=[""], chunksize=rows,
                                 usecols=None if columns is None else (lambda c: str(c).strip() in columns))
            with reader:
                for chunk in reader:
                    yield chunk.reset_index(drop=True)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is an input problem
        raise _unreadable(path, exc) from exc


def ref_hashes(refs: pd.Series) -> np.ndarray:
    """A 64-bit hash of each reference (DuckDB's ``hash``: about 40 times faster than pandas'
    on text). Correctness never rests on it: equal hashes are checked on the references."""
    import duckdb
    import pyarrow as pa
    tbl = pa.table({"r": pa.array(refs.astype("string"), type=pa.large_string())})  # noqa: F841 - read by DuckDB
    con = duckdb.connect()
    try:
        return con.sql("SELECT hash(r) AS h FROM tbl").fetchnumpy()["h"]
    finally:
        con.close()


class UniqueRefs:
    """Checks one reference column for duplicates across every chunk of a file (see module doc)."""

    def __init__(self, path: Path, column: str, reread=None) -> None:
        """``reread(column, rows)``: the column's values a chunk at a time, when the file is not
        a canonical table (a force extract read through its mapping)."""
        self.path, self.column, self.reread = path, column, reread
        self._hashes: list[np.ndarray] = []
        self._filled = 0
        rows = _parquet_rows(path)  # known in advance for Parquet: one array, filled in place
        self._all = np.empty(rows, dtype=np.uint64) if rows is not None else None

    def add(self, refs: pd.Series) -> None:
        h = ref_hashes(refs)
        if self._all is not None and self._filled + len(h) <= len(self._all):
            self._all[self._filled:self._filled + len(h)] = h
            self._filled += len(h)
        else:
            self._hashes.append(h)

    def check(self, chunk_rows: int | None = None) -> None:
        """Raise InputError naming the first row whose reference appeared on an earlier row."""
        if self._all is not None and not self._hashes:
            ordered = self._all[:self._filled]
        else:
            filled = [self._all[:self._filled]] if self._all is not None else []
            ordered = np.concatenate(filled + self._hashes) if filled or self._hashes else np.empty(0, np.uint64)
        self._all, self._hashes = None, []
        ordered.sort()  # in place: 8 bytes a row at most, whatever the file
        repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        del ordered
        if not repeated.size:
            return
        # a duplicate is suspected (rare): find its rows by hashing the file again
        column_chunks = (lambda: self.reread(self.column, chunk_rows)) if self.reread else \
            (lambda: _column_chunks(self.path, self.column, chunk_rows))
        hashes = np.concatenate([ref_hashes(c.astype("string").str.strip()) for c in column_chunks()])
        candidates = np.flatnonzero(np.isin(hashes, repeated))
        del hashes
        refs = _values_at(column_chunks(), candidates)
        seen: dict[str, int] = {}
        repeats: list[tuple[int, int, object]] = []  # (row, first row, value)
        for pos, ref in zip(candidates.tolist(), refs, strict=True):
            key = str(ref).strip()
            if key in seen:
                repeats.append((pos, seen[key], ref))
            else:
                seen[key] = pos
        if repeats:
            pos, first, ref = repeats[0]
            raise InputError(self.path.name, f"reference used twice (first at row {first + 1:,})",
                             row=pos + 1, column=self.column, value=ref,
                             expected="each reference once", more=len(repeats) - 1)


def _values_at(chunks: Iterator[pd.Series], positions: np.ndarray) -> list:
    """The values at the 0-based row ``positions`` (sorted) of a column read again one chunk at a
    time (only when a duplicate is suspected)."""
    out: list = []
    offset = 0
    for chunk in chunks:
        inside = positions[(positions >= offset) & (positions < offset + len(chunk))] - offset
        out += chunk.iloc[inside].tolist()
        offset += len(chunk)
    return out


def _column_chunks(path: Path, column: str, chunk_rows: int | None) -> Iterator[pd.Series]:
    for chunk in raw_chunks(path, chunk_rows, columns=[column]):
        yield chunk.rename(columns=lambda c: str(c).strip())[column]
