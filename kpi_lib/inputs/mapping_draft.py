"""``kpi map DIR``: a first draft of ``mapping.yaml`` for a folder of a force's own extracts.

For each file that is not already an input the suite reads, it guesses the encoding (UTF-8, else
Windows cp1252) and the delimiter, which canonical table the file is, which of its columns is
each canonical column (from the column names, then checked against the values), the format of
each date and time column (an order of day and month that the values cannot settle is flagged),
and the values of coded columns: values that are already canonical, and yes/no words, are mapped;
every other distinct value is listed with its count, to be filled in (a value left empty is an
error in ``kpi validate``, never dropped). What it cannot place is listed for the analyst.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi_lib.inputs.mapping import ENCODINGS, KINDS, TRUE_WORDS, canonical_choices

SAMPLE_ROWS = 20_000
#: Words an extract's column name may use for each canonical column (compared after lower-casing,
#: splitting CamelCase and dropping punctuation).
SYNONYMS: dict[str, list[str]] = {
    "crime_ref": ["crime number", "crime no", "crime ref", "crime reference", "crime id", "crime urn",
                  "urn", "occurrence number", "reference"],
    "recorded_date": ["date recorded", "recorded date", "recorded", "recorded on", "date created",
                      "crime date recorded"],
    "offence_code": ["ho code", "home office code", "offence code", "ho offence code", "hoc",
                     "classification code", "crime code"],
    "domestic_abuse": ["da flag", "da", "domestic abuse", "domestic", "domestic flag", "da marker",
                       "domestic abuse flag"],
    "local_area": ["area", "local area", "policing area", "district", "lpa", "local policing area",
                   "neighbourhood", "division", "sector"],
    "outcome_type": ["outcome", "outcome type", "outcome code", "ho outcome", "disposal", "outcome group"],
    "outcome_date": ["outcome date", "date of outcome", "outcome recorded", "finalised date", "disposal date"],
    "call_ref": ["call number", "call id", "call ref", "call reference", "cad number"],
    "line": ["line", "call type", "service", "number dialled", "call line", "channel"],
    "received_at": ["received", "time received", "received at", "call start", "start time", "presented"],
    "answered_at": ["answered", "time answered", "answered at", "answer time"],
    "incident_ref": ["incident number", "incident id", "incident ref", "log number", "cad ref", "log"],
    "grade": ["grade", "response grade", "priority", "incident grade"],
    "created_at": ["created", "time created", "created at", "opened", "log created", "incident created"],
    "arrived_at": ["arrived", "arrival", "arrived at", "on scene", "time arrived", "attended"],
    "resourced": ["resourced", "deployed", "resource deployed"],
    "survey": ["survey", "survey name", "survey type"],
    "respondent_ref": ["respondent", "respondent id", "respondent ref", "response id"],
    "interview_date": ["interview date", "date of interview", "survey date", "interviewed"],
    "crime_type": ["crime type", "offence type", "crime group"],
    "question": ["question", "question code", "item"],
    "answer": ["answer", "response", "reply"],
    "weight": ["weight", "weighting", "survey weight"],
    "financial_year": ["financial year", "year", "fy"],
    "quarter": ["quarter", "qtr"],
    "budget_gbp": ["budget"], "forecast_outturn_gbp": ["forecast outturn", "outturn"],
    "savings_target_gbp": ["savings target"], "savings_delivered_gbp": ["savings delivered"],
    "conclusion": ["conclusion", "vfm conclusion"],
    "period_start": ["period start", "month", "period"], "source": ["source", "energy source", "fuel"],
    "quantity": ["quantity", "amount", "usage"], "unit": ["unit", "units"],
}
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y", "%Y/%m/%d",
                "%d %b %Y", "%d-%b-%Y", "%d %B %Y"]
TIME_PARTS = ["", " %H:%M", " %H:%M:%S", "T%H:%M:%S", "T%H:%M", " %H.%M"]
YES_NO = {"y": True, "yes": True, "true": True, "t": True, "1": True,
          "n": False, "no": False, "false": False, "f": False, "0": False}


def _words(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(name))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", name.lower()).split())


@dataclass
class FileDraft:
    """What the draft could say about one file."""

    file: str
    encoding: str = "utf-8"
    delimiter: str = ","
    table: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> extract column
    formats: dict[str, str] = field(default_factory=dict)
    ambiguous: dict[str, str] = field(default_factory=dict)  # canonical -> why
    values: dict[str, dict[str, object]] = field(default_factory=dict)  # canonical -> value -> mapped or None
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    unplaced: list[str] = field(default_factory=list)  # canonical columns with no extract column
    unused: list[str] = field(default_factory=list)  # extract columns not used
    note: str = ""


def sniff(path: Path) -> tuple[str, str, pd.DataFrame]:
    """Encoding, delimiter and the first rows (as text) of a CSV extract."""
    raw = path.read_bytes()[:1_000_000]
    encoding = "utf-8"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start > len(raw) - 4:  # cut inside a character at the end of the sample
            text = raw[:exc.start].decode("utf-8-sig")
        else:
            encoding, text = "cp1252", raw.decode("cp1252", errors="replace")
    if encoding == "utf-8" and len(raw) == 1_000_000:
        try:  # a non-UTF-8 byte later in the file
            path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            encoding = "cp1252"
    first = text.splitlines()[:50]
    try:
        delimiter = csv.Sniffer().sniff("\n".join(first), delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    rows = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=ENCODINGS[encoding], sep=delimiter,
                       nrows=SAMPLE_ROWS)
    rows.columns = [str(c).strip() for c in rows.columns]
    return encoding, delimiter, rows


def _name_score(canonical: str, column: str) -> float:
    w = _words(column)
    if w == _words(canonical):
        return 1.0
    names = SYNONYMS.get(canonical, [])
    if w in names:
        return 0.95 - 0.01 * names.index(w)
    tokens = set(w.split())
    best = max((len(tokens & set(n.split())) / max(len(set(n.split()) | tokens), 1) for n in names), default=0.0)
    return 0.6 * best


def _date_format(values: pd.Series, kind: str) -> tuple[str | None, str]:
    """The format all values fit (day first when day and month cannot be told apart), and a note."""
    v = values[values.str.strip() != ""]
    if len(v) > 20_000:
        v = v.sample(20_000, random_state=0)
    if v.empty:
        return None, "no values to read the format from"
    fits = []
    for d in DATE_FORMATS:
        for t in (TIME_PARTS if kind == "time" else ["", *TIME_PARTS[1:]]):
            fmt = d + t
            if pd.to_datetime(v, format=fmt, errors="coerce").notna().all():
                fits.append(fmt)
    if not fits:
        return None, "no format fits every value: give it under formats"
    dm = [f for f in fits if f.startswith("%d")]
    md = [f for f in fits if f.startswith("%m")]
    if dm and md:
        return dm[0], "AMBIGUOUS: every day is 12 or less, so day/month and month/day both fit; day first assumed (UK)"
    return fits[0], ""


def _value_map(canonical: str, kind: str, counts: pd.Series) -> dict[str, object]:
    """Each distinct value mapped where it is already canonical (or a yes/no word); None where it
    must be filled in."""
    choices = canonical_choices().get(kind)
    out: dict[str, object] = {}
    for v in counts.index:
        s = str(v).strip()
        if kind == "flag":
            out[s] = YES_NO.get(s.lower())
        elif choices is not None:
            t = s.upper() if kind == "outcome_type" else s.lower() if kind == "conclusion" else s
            out[s] = t if t in choices else None
    return out


def _check_values(canonical: str, kind: str, values: pd.Series, codes: frozenset[str] | None) -> float:
    """How well the values fit the canonical column (0 to 1): used to break ties between names."""
    v = values[values.str.strip() != ""].head(2000)
    if v.empty:
        return 0.5
    if kind in ("date", "time"):
        return 1.0 if _date_format(v, kind)[0] else 0.0
    if kind == "flag":
        return float(v.str.lower().isin(YES_NO.keys() | TRUE_WORDS).mean())
    if kind == "offence_code" and codes:
        return float(v.isin(codes).mean())
    if kind == "number":
        return float(pd.to_numeric(v.str.replace(",", ""), errors="coerce").notna().mean())
    return 0.8


def draft_file(path: Path, codes: frozenset[str] | None = None) -> FileDraft:
    """The draft for one extract (see the module doc)."""
    d = FileDraft(path.name)
    try:
        d.encoding, d.delimiter, rows = sniff(path)
    except Exception as exc:  # noqa: BLE001 - an unreadable file is listed, not fatal
        d.note = f"could not be read as a table ({type(exc).__name__}: {exc})"
        return d
    columns = list(rows.columns)
    best_table, best_score, best_cols = None, 0.0, {}
    for table, kinds in KINDS.items():
        chosen: dict[str, str] = {}
        score = 0.0
        taken: set[str] = set()
        for canonical, kind in kinds.items():
            kind = kind.rstrip("?")
            ranked = sorted(((_name_score(canonical, c) * (0.5 + 0.5 * _check_values(canonical, kind, rows[c], codes)), c)
                             for c in columns if c not in taken), reverse=True)
            if ranked and ranked[0][0] >= 0.3:
                chosen[canonical] = ranked[0][1]
                taken.add(ranked[0][1])
                score += ranked[0][0]
        score /= len(kinds)
        if score > best_score:
            best_table, best_score, best_cols = table, score, chosen
    if best_table is None or best_score < 0.35:
        d.note = "could not tell which table this is: map it by hand (columns: " + ", ".join(columns) + ")"
        return d
    d.table = best_table
    for canonical, kind in KINDS[best_table].items():
        kind = kind.rstrip("?")
        col = best_cols.get(canonical)
        if col is None:
            d.unplaced.append(canonical)
            continue
        d.columns[canonical] = col
        values = rows[col].astype(str)
        if kind in ("date", "time"):  # from every distinct value: the first rows may all be early in a month
            distinct = pd.Series(_all_counts(path, d, col).index.astype(str))
            fmt, note = _date_format(distinct if len(distinct) else values, kind)
            if fmt and fmt not in ("%Y-%m-%d",):
                d.formats[canonical] = fmt
            if note:
                d.ambiguous[canonical] = note
        elif kind == "flag" or kind in canonical_choices():
            counts = _all_counts(path, d, col)
            d.counts[canonical] = counts.to_dict()
            d.values[canonical] = _value_map(canonical, kind, counts)
    d.unused = [c for c in columns if c not in d.columns.values()]
    return d


def _all_counts(path: Path, d: FileDraft, column: str) -> pd.Series:
    """Distinct values of one column over the whole file, with their counts."""
    counts: pd.Series | None = None
    for chunk in pd.read_csv(path, dtype=str, keep_default_na=False, encoding=ENCODINGS[d.encoding],
                             sep=d.delimiter, usecols=lambda c: str(c).strip() == column, chunksize=1_000_000):
        c = chunk.iloc[:, 0].str.strip().value_counts()
        counts = c if counts is None else counts.add(c, fill_value=0)
    counts = (counts if counts is not None else pd.Series(dtype=int)).astype(int)
    return counts[counts.index != ""].sort_values(ascending=False, kind="stable")


def _q(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pattern(name: str) -> str:
    """A file pattern that also matches next month's extract (a date in the name becomes *)."""
    return re.sub(r"\d{4}[-_]?\d{2}[-_]?\d{2}", "*", name)


def to_yaml(drafts: list[FileDraft]) -> str:
    """The draft as mapping.yaml text, with comments saying what to check and fill in."""
    lines = ["# Draft written by `kpi map`: check every line, fill in each value marked TO MAP (null),",
             "# then run `kpi validate` on the folder. Values left null are errors, never dropped.", ""]
    for d in drafts:
        if d.table is None:
            continue
        lines.append(f"{d.table}:")
        lines.append(f"  file: {_q(_pattern(d.file))}")
        lines.append(f"  encoding: {d.encoding}")
        if d.delimiter != ",":
            lines.append(f"  delimiter: {_q('tab' if d.delimiter == chr(9) else d.delimiter)}")
        lines.append("  columns:")
        for c, src in d.columns.items():
            lines.append(f"    {c}: {_q(src)}")
        for c in d.unplaced:
            lines.append(f"    # {c}: NOT PLACED: name the extract's column, or give it under fixed: or lookups:")
        if d.formats:
            lines.append("  formats:")
            for c, fmt in d.formats.items():
                note = f"  # {d.ambiguous[c]}" if c in d.ambiguous else ""
                lines.append(f"    {c}: {_q(fmt)}{note}")
        if any(v for v in d.values.values()):
            lines.append("  values:")
            for c, vmap in d.values.items():
                lines.append(f"    {c}:")
                for v, mapped in vmap.items():
                    n = d.counts[c].get(v, 0)
                    target = "null" if mapped is None else ("true" if mapped is True else "false" if mapped is False
                                                             else _q(mapped))
                    todo = "  TO MAP" if mapped is None else ""
                    lines.append(f"      {_q(v)}: {target}  # {n:,} rows{todo}")
        lines.append("")
    return "\n".join(lines)


def unplaced_report(drafts: list[FileDraft]) -> list[str]:
    """What the draft could not place, in plain words (printed by ``kpi map``)."""
    out = []
    for d in drafts:
        if d.table is None:
            out.append(f"{d.file}: {d.note}")
            continue
        for c in d.unplaced:
            out.append(f"{d.file}: no column found for {d.table}.{c}")
        for c, why in d.ambiguous.items():
            out.append(f"{d.file}: {d.table}.{c}: {why}")
        todo = {c: [v for v, m in vm.items() if m is None] for c, vm in d.values.items()}
        for c, vs in todo.items():
            if vs:
                out.append(f"{d.file}: {len(vs)} value{'s' if len(vs) != 1 else ''} of {d.table}.{c} to map: "
                           + ", ".join(repr(v) for v in vs[:10]) + (" ..." if len(vs) > 10 else ""))
        if d.unused:
            out.append(f"{d.file}: columns not used: {', '.join(d.unused)}")
    return out


def draft_mapping(folder: str | Path, codes: frozenset[str] | None = None) -> list[FileDraft]:
    """A draft for every file of ``folder`` the suite does not already read (CSV extracts)."""
    from kpi_lib.core.errors import InputError
    from kpi_lib.inputs.mapping import account_for_files

    folder = Path(folder)
    try:
        known = set(account_for_files(folder).read)
    except InputError:
        known = set()
        from kpi_lib.inputs.canonical import TABLES, find_table_file
        known = {p.name for t in TABLES if (p := find_table_file(folder, t)) is not None}
    candidates = [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in (".csv", ".txt", ".tsv")
                  and p.name not in known and not p.name.startswith((".", "~$"))]
    drafts = [draft_file(p, codes) for p in candidates]
    seen: dict[str, FileDraft] = {}
    for d in drafts:  # two files taken for one table: keep the better placed, list the other
        if d.table is None:
            continue
        other = seen.get(d.table)
        if other is None:
            seen[d.table] = d
        else:
            worse = d if len(d.columns) <= len(other.columns) else other
            worse.note = f"also looks like {worse.table}, already taken by another file: map it by hand"
            worse.table = None
            seen[d.table] = d if worse is other else other
    return drafts


def write_draft(path: Path, text: str) -> None:
    """Write the draft whole or not at all (a temporary file renamed into place), never over an
    existing file."""
    import os
    import tempfile
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.link(tmp, path)  # fails if the file appeared meanwhile: it is never replaced
    finally:
        os.unlink(tmp)
