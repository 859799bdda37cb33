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

from kpi_lib.core.errors import InputError
from kpi_lib.core.snapshot import list_files, sha256_of
from kpi_lib.inputs import parsing as P
from kpi_lib.inputs.aggregates import CrimeCounts
from kpi_lib.inputs.canonical import LedgerEntry, Tables
from kpi_lib.inputs.homeoffice import LICENCE

COLUMNS = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
           "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
CRIME_TYPES = {"Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson",
               "Drugs", "Other crime", "Other theft", "Possession of weapons", "Public order",
               "Robbery", "Shoplifting", "Theft from the person", "Vehicle crime",
               "Violence and sexual offences"}
UNSUPPORTED = {
    "vwi": "police.uk groups 'Violence and sexual offences' together: violence with injury cannot be separated.",
    "rape": "police.uk groups 'Violence and sexual offences' together: rape cannot be separated.",
    "burglary_residential": "police.uk 'Burglary' includes non-residential burglary.",
    "domestic_abuse": "police.uk street files carry no domestic abuse flag.",
}
NO_OUTCOMES = ("police.uk 'Last outcome category' is the latest status when the file was "
               "downloaded, in police.uk's own words, not a Home Office outcome type.")


OUTCOME_COLUMNS = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
                   "Location", "LSOA code", "LSOA name", "Outcome type"]


def find_files(folder: Path) -> list[Path]:
    return [p for p in list_files(folder) if p.name.endswith("-street.csv")]


def find_outcome_files(folder: Path) -> list[Path]:
    return [p for p in list_files(folder) if p.name.endswith("-outcomes.csv")]


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


def read_street(path: Path) -> tuple[pd.DataFrame, LedgerEntry]:
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
    asb = ctype == "Anti-social behaviour"
    lsoa = raw["LSOA name"].astype("string").str.strip()
    area = lsoa.str.replace(r"\s+\S+$", "", regex=True).fillna("No location")
    out = pd.DataFrame({"month": month, "crime_type": ctype, "local_area": area,
                        "last_outcome": raw["Last outcome category"].fillna("(blank)")})[~asb]
    rejected = {"anti-social behaviour: not a crime": int(asb.sum())} if asb.any() else {}
    return out, LedgerEntry("police_uk_street", file, sha256_of(path), len(raw), int((~asb).sum()), rejected)


def counts(rows: pd.DataFrame) -> CrimeCounts:
    """Monthly CrimeCounts: trc (all crime types), robbery, vehicle crime; the rest unsupported."""
    cat = {"trc": pd.Series(True, index=rows.index), "robbery": rows["crime_type"] == "Robbery",
           "vehicle_crime": rows["crime_type"] == "Vehicle crime"}
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
    return CrimeCounts("month", offences, None, None, first, last_exclusive, None, source="police_uk",
                       unsupported=dict(UNSUPPORTED), notes=notes)


def read_into(folder: Path, tables: Tables) -> None:
    parts = []
    for path in find_files(folder):
        rows, led = read_street(path)
        parts.append(rows)
        tables.ledger.append(led)
    for path in find_outcome_files(folder):
        _, led, note = read_outcomes(path)
        tables.ledger.append(led)
        tables.notes.append(note)
    rows = pd.concat(parts, ignore_index=True)
    c = counts(rows)
    tables.extras["crime_counts"] = c
    tables.extras["police_uk_rows"] = rows
    tables.notes += c.notes
    tables.sources["crime"] = "police_uk"
    tables.licence = LICENCE
