"""data.police.uk street-level files (``*-street.csv``), read into monthly crime counts.

What these files can and cannot support:
- anti-social behaviour rows are not crimes (no Crime ID): counted in the ledger as excluded;
- rows without a location (no LSOA) are still crimes: kept, local area "No location";
- "Violence and sexual offences" is one category: violence with injury and rape cannot be
  separated, so those KPIs are ``not_available_from_source``;
- "Burglary" is all burglary (residential and not): residential burglary is not available;
- there is no domestic abuse flag, and "Last outcome category" is the latest status when the file
  was downloaded (police.uk's own words), not a Home Office outcome type: outcome rates are not
  available, and the vintage of the outcome column is reported as a caveat;
- total recorded crime (all crime types except anti-social behaviour), robbery and vehicle crime
  are computed. Note police.uk excludes some offences (e.g. fraud) and is revised over time.
Local area: the local authority at the start of the LSOA name ("Herefordshire 015A").
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kpi_lib.config.categories import CrimeCategories, load_categories
from kpi_lib.core.errors import InputError
from kpi_lib.core.snapshot import list_files, sha256_of
from kpi_lib.inputs import parsing as P
from kpi_lib.inputs.aggregates import CrimeCounts
from kpi_lib.inputs.canonical import LedgerEntry, Tables
from kpi_lib.inputs.forces import canonical_force
from kpi_lib.inputs.homeoffice import LICENCE

COLUMNS = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
           "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
CRIME_TYPES = {"Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson",
               "Drugs", "Other crime", "Other theft", "Possession of weapons", "Public order",
               "Robbery", "Shoplifting", "Theft from the person", "Vehicle crime",
               "Violence and sexual offences"}
NO_OUTCOMES = ("police.uk 'Last outcome category' is the latest status when the file was "
               "downloaded, in police.uk's own words, not a Home Office outcome type.")


OUTCOME_COLUMNS = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
                   "Location", "LSOA code", "LSOA name", "Outcome type"]


def _kind(path: Path) -> str | None:
    """'street', 'outcomes' or None, from the header line (a browser saves a second download
    of a month as "... (1).csv": it is still a street file, and must be seen as one)."""
    if path.suffix.lower() != ".csv":
        return None
    try:
        names = {" ".join(c.split()).lower() for c in P.header_names(path)}
    except (OSError, InputError):
        return None
    if not {"crime id", "month", "falls within"} <= names:
        return None
    return "street" if "crime type" in names else "outcomes" if "outcome type" in names else None


def find_files(folder: Path) -> list[Path]:
    """The data.police.uk street files in a folder (recognised by their columns)."""
    return [p for p in list_files(folder) if _kind(p) == "street"]


def find_outcome_files(folder: Path) -> list[Path]:
    return [p for p in list_files(folder) if _kind(p) == "outcomes"]


def read_outcomes(path: Path) -> tuple[pd.DataFrame, LedgerEntry, str]:
    """A police.uk outcomes file: read and counted, but not turned into Home Office outcome
    rates (its "Outcome type" is police.uk's own wording). Returns a note with the counts."""
    file = path.name
    raw = P.read_csv_text(path)
    raw.columns = [str(c).strip() for c in raw.columns]
    unknown = [c for c in raw.columns if c not in OUTCOME_COLUMNS]
    if unknown:
        raise InputError(file, f"unknown header {unknown[0]!r}", column=unknown[0],
                         expected="the police.uk outcomes columns: " + ", ".join(OUTCOME_COLUMNS))
    P.require_columns(file, raw, ["Month", "Outcome type"])
    kinds = raw["Outcome type"].fillna("(blank)").value_counts()
    top = "; ".join(f"{k} {v:,}" for k, v in kinds.head(4).items())
    note = (f"{file}: {len(raw):,} police.uk outcome records read (most common: {top}). These are "
            "police.uk outcome categories, not Home Office outcome types: no '% outcome 1 & 1A' is "
            "computed from them.")
    return raw, LedgerEntry("police_uk_outcomes", file, sha256_of(path), len(raw), len(raw)), note


def read_street(path: Path, force: str | None = None) -> tuple[pd.DataFrame, LedgerEntry]:
    """One street file: crimes (anti-social behaviour out, counted in the ledger) with their
    month, type, local area, last outcome, Crime ID and row. With ``force`` (its one spelling,
    params/forces.yaml), every row must fall within that force: another force's file in the
    folder (a British Transport Police file, say) would otherwise be added to this force's."""
    file = path.name
    try:
        raw = P.read_csv_text(path)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise InputError(file, f"cannot be read as a table ({type(exc).__name__}: {exc})") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    unknown = [c for c in raw.columns if c not in COLUMNS]
    if unknown:
        raise InputError(file, f"unknown header {unknown[0]!r}", column=unknown[0],
                         expected="the police.uk street columns: " + ", ".join(COLUMNS))
    P.require_columns(file, raw, ["Month", "Falls within", "LSOA name", "Crime type", "Last outcome category"])
    for column in ("Falls within", "LSOA name", "Last outcome category"):
        P.refuse_formulas(file, raw[column], column)
    month = pd.to_datetime(raw["Month"].astype("string").str.strip(), format="%Y-%m", errors="coerce")
    P.fail_rows(file, month.isna(), raw["Month"], "Month", "not a month", "YYYY-MM")
    ctype = raw["Crime type"].astype("string").str.strip()
    P.fail_rows(file, ~ctype.isin(CRIME_TYPES).fillna(False), raw["Crime type"], "Crime type",
                "unknown crime type", "one of " + ", ".join(sorted(CRIME_TYPES)))
    if force is not None:
        falls = raw["Falls within"].astype("string").str.strip()
        named = falls.map(lambda v: canonical_force(v) if isinstance(v, str) else None)
        P.fail_rows(file, (named != force).fillna(True), raw["Falls within"], "Falls within",
                    "a record of another force", f"{force!r}, the force this report is about "
                    "(metadata.yaml 'force', or the peer settings): remove other forces' files")
    asb = ctype == "Anti-social behaviour"
    lsoa = raw["LSOA name"].astype("string").str.strip()
    area = lsoa.str.replace(r"\s+\S+$", "", regex=True).fillna("No location")
    out = pd.DataFrame({"month": month, "crime_type": ctype, "local_area": area,
                        "last_outcome": raw["Last outcome category"].fillna("(blank)"),
                        "crime_id": raw["Crime ID"].astype("string").str.strip() if "Crime ID" in raw
                        else pd.Series(pd.NA, index=raw.index, dtype="string"),
                        "row": raw.index + 1})[~asb]
    rejected = {"anti-social behaviour: not a crime": int(asb.sum())} if asb.any() else {}
    return out, LedgerEntry("police_uk_street", file, sha256_of(path), len(raw), int((~asb).sum()), rejected)


def counts(rows: pd.DataFrame, cats: CrimeCategories | None = None) -> CrimeCounts:
    """Monthly CrimeCounts: the total (all crime types) and each category that the categories
    file makes of police.uk crime types; every other category is "not available from source",
    with the file's reason."""
    cats = cats or load_categories()
    cat = {cats.total: pd.Series(True, index=rows.index),
           **{c: rows["crime_type"].isin(types) for c, types in cats.police_uk_types.items()}}
    parts = []
    for name, mask in cat.items():
        g = rows[mask].groupby(["month", "local_area"]).size().rename("count").reset_index()
        g["category"] = name
        parts.append(g)
    offences = pd.concat(parts, ignore_index=True).rename(columns={"month": "period_start"})
    first = rows["month"].min().date()
    last = rows["month"].max()
    last_exclusive = (last + pd.offsets.MonthBegin(1)).date()
    top = rows["last_outcome"].value_counts(normalize=True).head(3)
    vintage = "; ".join(f"{k} {100 * v:.0f}%" for k, v in top.items())
    notes = [NO_OUTCOMES + f" In these files the most common statuses are: {vintage}."]
    unsupported = {c: cats.police_uk_reason(c) for c in cats.names if c not in cat}
    return CrimeCounts("month", offences, None, None, first, last_exclusive, None, source="police_uk",
                       unsupported=unsupported, notes=notes, measured=tuple(cat))


def once_each(parts: list[tuple[str, pd.DataFrame]]) -> str | None:
    """Each month in one file, and each Crime ID in one file: a month downloaded twice (or two
    overlapping downloads) would otherwise be counted twice. Raises InputError naming both files;
    returns a note when a Crime ID appears twice inside one file (as police.uk publishes some:
    both rows are counted, as police.uk counts them)."""
    months: dict = {}
    for file, rows in parts:
        for m in sorted(rows["month"].dropna().unique()):
            if m in months:
                first = rows[rows["month"] == m].iloc[0]
                raise InputError(file, f"the month {pd.Timestamp(m):%Y-%m} is also in {months[m]}",
                                 row=int(first["row"]), column="Month", value=f"{pd.Timestamp(m):%Y-%m}",
                                 expected="each month in one file only (a month read twice is counted "
                                          "twice): remove the copy")
            months[m] = file
    ids = pd.concat([r[["crime_id", "row"]].assign(file=f) for f, r in parts], ignore_index=True).dropna(subset=["crime_id"])
    firsts = ids.drop_duplicates(["crime_id", "file"])
    across = firsts[firsts.duplicated("crime_id", keep=False)]
    if len(across):
        later = across[across.duplicated("crime_id", keep="first")].iloc[0]
        first = across[across["crime_id"] == later["crime_id"]].iloc[0]
        raise InputError(later["file"], f"Crime ID also in {first['file']} (row {int(first['row']):,})",
                         row=int(later["row"]), column="Crime ID", value=later["crime_id"],
                         expected="each crime in one file (overlapping downloads would count it twice)",
                         more=int(across.duplicated("crime_id", keep="first").sum()) - 1)
    inside = int(ids.duplicated(["crime_id", "file"]).sum())
    if inside:
        return (f"{inside:,} Crime ID{'s' if inside != 1 else ''} appear{'' if inside != 1 else 's'} on a second "
                "row of the same monthly file, as police.uk published them (different locations or "
                "outcomes); every row is counted, as police.uk counts them.")
    return None


def read_into(folder: Path, tables: Tables, force: str | None = None,
              categories: CrimeCategories | None = None) -> None:
    """Every street (and outcomes) file in ``folder`` into ``tables``: monthly crime counts.
    With ``force``, rows of any other force are an error (:func:`read_street`)."""
    parts = []
    for path in find_files(folder):
        rows, led = read_street(path, force)
        parts.append((path.name, rows))
        tables.ledger.append(led)
    note = once_each(parts)
    for path in find_outcome_files(folder):
        _, led, note = read_outcomes(path)
        tables.ledger.append(led)
        tables.notes.append(note)
    rows = pd.concat([r.drop(columns=["crime_id", "row"]) for _, r in parts], ignore_index=True)
    c = counts(rows, categories or tables.extras.get("crime_categories"))
    if note:
        c.notes.append(note)
    tables.extras["crime_counts"] = c
    tables.extras["police_uk_rows"] = rows
    tables.notes += c.notes
    tables.sources["crime"] = "police_uk"
    tables.licence = LICENCE


def table_files(folder: Path) -> list[Path]:
    """Every street and outcomes file in ``folder`` (the input kind's files)."""
    return [*find_files(folder), *find_outcome_files(folder)]


def holds_tables(folder: Path) -> bool:
    """Whether ``folder`` holds data.police.uk street files."""
    return bool(find_files(folder))
