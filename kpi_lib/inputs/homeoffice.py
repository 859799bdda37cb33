"""Home Office open data tables: police recorded crime by Police Force Area (PFA tables) and crime
outcomes, read into the same crime counts the record-level data give (quarterly grain).

PFA tables: ``Financial Year, Financial Quarter, Force Name, Offence Description, Offence Group,
Offence Subgroup, Offence Code, Number of Offences``. Headers are matched by name (case and spacing
ignored), never by position; an unknown header is an error. Counts may carry padding spaces and
thousands commas. Force names vary between releases and are normalised (``params/forces.yaml``);
central fraud bodies (Action Fraud, CIFAS, UK Finance, Financial Fraud Action UK) are not forces:
their rows are counted in the ledger as excluded and never into a force's total. Offence codes are
placed by code, or failing that by subgroup label (labels of every vintage); a row that neither
places is an error naming the code.

Outcomes tables: one row per force, quarter, offence code and outcome type, with a cohort count
("... offences that were recorded in the quarter") and an in-period count ("... investigations
that were closed in the quarter"); header wording varies by release. Type 0 is "not yet assigned".
Rows 1A, 2A, 3A are "of which" rows already inside types 1, 2, 3 and are excluded (ledger), so the
"% outcome 1 & 1A" from this source is type 1. Negative counts (revisions) are kept in the sums and
reported in the run's notes. No real outcomes file is bundled: tests use files in that layout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import pandas as pd

from kpi_lib.config.categories import CrimeCategories, load_categories
from kpi_lib.core.errors import InputError
from kpi_lib.core.snapshot import list_files, sha256_of
from kpi_lib.inputs import parsing as P
from kpi_lib.inputs.aggregates import CrimeCounts
from kpi_lib.inputs.canonical import LedgerEntry, Tables
from kpi_lib.inputs.forces import canonical_force, territorial

PFA_COLUMNS = {
    "financial year": "financial_year", "financial quarter": "quarter", "force name": "force",
    "offence description": "description", "offence group": "group", "offence subgroup": "subgroup",
    "offence code": "code", "number of offences": "count",
}
OUTCOME_COLUMNS = {
    "financial year": "financial_year", "financial quarter": "quarter", "force name": "force",
    "offence description": "description", "offence group": "group", "offence subgroup": "subgroup",
    "offence code": "code", "outcome description": "outcome_description",
    "outcome group": "outcome_group", "outcome type": "outcome_type",
}
COHORT_HEADER = re.compile(r"number of outcomes .*(recorded in the (quarter|period|year))", re.I)
IN_PERIOD_HEADER = re.compile(r"number of outcomes .*(closed|assigned) in the (quarter|period|year)", re.I)
OF_WHICH = {"1A", "2A", "3A"}
DA_REASON = "The Home Office open data tables do not carry the domestic abuse flag."
LICENCE = ("Contains public sector information licensed under the Open Government Licence v3.0. "
           "Source: Home Office, police recorded crime and outcomes open data tables; data.police.uk.")


def _norm(h: str) -> str:
    return " ".join(str(h).replace("\ufeff", "").split()).lower()


def _read(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() in (".xlsx", ".ods"):
            with P.open_input(path) as fh:
                sheet = pd.read_excel(fh, dtype=str, header=None,
                                      engine="odf" if path.suffix.lower() == ".ods" else None)
            names = [str(c) for c in sheet.iloc[0]] if len(sheet) else []
            P.check_headers(path.name, names)
            return sheet.iloc[1:].set_axis(names, axis=1).reset_index(drop=True)
        return P.read_csv_text(path)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise InputError(path.name, f"cannot be read as a table ({type(exc).__name__}: {exc})") from exc


def _kind(path: Path) -> str | None:
    """'pfa', 'outcomes' or None, from the header line only."""
    try:
        if path.suffix.lower() == ".csv":
            head = P.first_line(path)
            cols = {_norm(c) for c in head.split(",")}
        elif path.suffix.lower() in (".xlsx", ".ods"):
            cols = {_norm(c) for c in _read(path).columns}
        else:
            return None
    except OSError:
        return None
    if "force name" not in cols or "offence code" not in cols:
        return None
    return "outcomes" if "outcome type" in cols else "pfa"


def find_files(folder: Path) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for p in list_files(folder):  # recognised by their headers (police.uk files have no 'Force Name')
        k = _kind(p)
        if k:
            out.setdefault(k, []).append(p)
    return out


def _rename(raw: pd.DataFrame, file: str, mapping: dict[str, str], extra_ok: re.Pattern | None = None) -> pd.DataFrame:
    cols = {}
    for c in raw.columns:
        n = _norm(c)
        if n in mapping:
            cols[c] = mapping[n]
        elif extra_ok is not None and extra_ok.search(n):
            continue
        else:
            raise InputError(file, f"unknown header {str(c)!r}", column=str(c),
                             expected="the published headers: " + ", ".join(h.title() for h in mapping))
    missing = [h for h, v in mapping.items() if v not in cols.values()
               and v not in ("description", "outcome_description", "outcome_group")]
    if missing:
        raise InputError(file, f"missing column {missing[0].title()!r}",
                         expected="the published headers: " + ", ".join(h.title() for h in mapping))
    return raw.rename(columns=cols)


def _quarter_start(file: str, df: pd.DataFrame, raw: pd.DataFrame) -> pd.Series:
    from kpi_lib.core.periods import Period
    years, bad = [], []
    for i, fy in enumerate(df["financial_year"]):
        try:
            years.append(Period.parse(str(fy)).fy)
        except Exception:  # noqa: BLE001
            years.append(None)
            bad.append(i)
    if bad:
        P.fail_rows(file, pd.Series([i in bad for i in range(len(df))], index=df.index),
                    raw[[c for c in raw.columns if _norm(c) == "financial year"][0]], "Financial Year",
                    "not a financial year", "a year written 2017/18")
    q = P.parse_number(file, df["quarter"], "Financial Quarter", integer=True)
    P.fail_rows(file, ~q.isin([1, 2, 3, 4]), df["quarter"], "Financial Quarter", "unknown quarter", "1, 2, 3 or 4")
    return pd.Series([Period(int(y), int(qq)).start for y, qq in zip(years, q, strict=True)], index=df.index)


def _forces(file: str, df: pd.DataFrame) -> pd.Series:
    names = df["force"].map(canonical_force)
    P.fail_rows(file, names.isna(), df["force"], "Force Name", "unknown force",
                "one of the forces in params/forces.yaml (or a central fraud body)")
    return names


def _categorise(file: str, df: pd.DataFrame, cats: CrimeCategories) -> pd.DataFrame:
    """Category flags by offence code, falling back to the subgroup label."""
    for column, name in (("group", "Offence Group"), ("subgroup", "Offence Subgroup")):
        if column in df:
            P.refuse_formulas(file, df[column], name)
    code = df["code"].astype("string").str.strip()
    by_code = code.isin(cats.codes.index)
    sub = df["subgroup"].map(cats.normalise_subgroup)
    known_sub = sub.isin(set(cats.codes["subgroup"]))
    P.fail_rows(file, ~by_code & ~known_sub, df["code"], "Offence Code", "unknown offence code",
                "a code or subgroup listed in params/crime_categories.yaml")
    info_sub = cats.codes.reindex(code.where(by_code, None).to_numpy())["subgroup"].to_numpy()
    subgroup = pd.Series(info_sub, index=df.index).where(by_code, sub)
    info_grp = cats.codes.reindex(code.where(by_code, None).to_numpy())["group"].to_numpy()
    group = pd.Series(info_grp, index=df.index).where(by_code, df["group"].astype(str).str.strip())
    return cats.flags_for_subgroups(subgroup, group)


def negative_notes(file: str, values: pd.Series, raw: pd.Series, column: str) -> list[str]:
    """Negative counts are published adjustments (revisions): kept in the sums, and reported with
    the first file row, column and value so an analyst can check them. Never dropped."""
    neg = (values < 0).to_numpy().nonzero()[0]
    if not len(neg):
        return []
    first = int(neg[0])
    return [f"{file}, row {first + 1}, column '{column}': negative count {str(raw.iloc[first]).strip()!r} "
            f"(a published revision), kept in the sums as published; {len(neg)} such row(s) in all."]


def read_pfa(path: Path, cats: CrimeCategories | None = None) -> tuple[pd.DataFrame, LedgerEntry, list[str]]:
    """A PFA table to tidy rows: quarter_start, force, category flags, count (fraud bodies out)."""
    cats = cats or load_categories()
    raw = _read(path)
    df = _rename(raw, path.name, PFA_COLUMNS)
    file = path.name
    count = P.parse_number(file, df["count"], "Number of Offences", integer=True)
    notes = negative_notes(file, count, df["count"], "Number of Offences")
    df = df.assign(count=count, quarter_start=_quarter_start(file, df, raw), force_name=_forces(file, df))
    fraud = df["force_name"] == "FRAUD"
    flags = _categorise(file, df[~fraud], cats)
    kept = pd.concat([df.loc[~fraud, ["quarter_start", "force_name", "count"]], flags], axis=1)
    kept["code"] = df.loc[~fraud, "code"].astype("string").str.strip()
    kept["_row"] = kept.index + 1
    ledger = LedgerEntry("home_office_pfa", file, sha256_of(path), len(raw), int((~fraud).sum()),
                         {"central fraud body (Action Fraud, CIFAS, UK Finance, FFA UK): not a force": int(fraud.sum())}
                         if fraud.any() else {})
    return kept.rename(columns={"force_name": "force"}), ledger, notes


def read_outcomes(path: Path, cats: CrimeCategories | None = None) -> tuple[pd.DataFrame, LedgerEntry, list[str]]:
    """An outcomes table to tidy rows: quarter_start, force, flags, outcome_type, cohort, in_period."""
    cats = cats or load_categories()
    raw = _read(path)
    file = path.name
    extra = re.compile(r"number of outcomes")
    df = _rename(raw, file, OUTCOME_COLUMNS, extra_ok=extra)
    count_cols = [c for c in raw.columns if extra.search(_norm(c))]
    cohort = [c for c in count_cols if COHORT_HEADER.search(_norm(c))]
    inper = [c for c in count_cols if IN_PERIOD_HEADER.search(_norm(c))]
    if not cohort and not inper:
        raise InputError(file, "no outcome count column",
                         expected="'Number of outcomes for offences that were recorded in the quarter' "
                                  "and/or 'Number of outcomes for investigations that were closed in the quarter'")
    notes = []
    out = pd.DataFrame({"quarter_start": _quarter_start(file, df, raw), "force": _forces(file, df),
                        "outcome_type": df["outcome_type"].astype("string").str.strip().str.upper()})
    for name, cols in (("cohort", cohort), ("in_period", inper)):
        if cols:
            v = P.parse_number(file, raw[cols[0]], cols[0], integer=True, required=False).fillna(0)
            out[name] = v
            notes += negative_notes(file, v, raw[cols[0]], cols[0])
    of_which = out["outcome_type"].isin(OF_WHICH)
    fraud = out["force"] == "FRAUD"
    keep = ~of_which & ~fraud
    flags = _categorise(file, df[keep], cats)
    kept = pd.concat([out[keep], flags], axis=1)
    kept["code"] = df.loc[keep, "code"].astype("string").str.strip()
    kept["_row"] = kept.index + 1
    rejected = {}
    if of_which.any():
        rejected["'of which' rows 1A/2A/3A (already inside types 1/2/3)"] = int(of_which.sum())
    if (fraud & ~of_which).any():
        rejected["central fraud body: not a force"] = int((fraud & ~of_which).sum())
    return kept, LedgerEntry("home_office_outcomes", file, sha256_of(path), len(raw), int(keep.sum()), rejected), notes


def category_columns(rows: pd.DataFrame) -> list[str]:
    """The category flags of tidy PFA or outcomes rows (their true/false columns, the total first,
    as :meth:`kpi_lib.config.categories.CrimeCategories.flags_for_subgroups` made them)."""
    return [c for c in rows.columns if rows[c].dtype == bool]


def _long(rows: pd.DataFrame, value: str, extra: list[str]) -> pd.DataFrame:
    parts = []
    for cat in category_columns(rows):
        sel = rows[rows[cat]]
        g = sel.groupby(["quarter_start", *extra])[value].sum().reset_index()
        g["category"] = cat
        parts.append(g)
    out = pd.concat(parts, ignore_index=True).rename(columns={"quarter_start": "period_start", value: "count"})
    out["period_start"] = pd.to_datetime(out["period_start"])
    return out


def counts_for_force(pfa: pd.DataFrame, outcomes: pd.DataFrame | None, force: str,
                     flag_categories: Iterable[str] = ()) -> CrimeCounts:
    """CrimeCounts (quarterly) for one force from PFA rows and optional outcomes rows; the flag
    categories (a flag on crime records, such as domestic abuse) are not in these tables."""
    mine = pfa[pfa["force"] == force]
    if mine.empty:
        raise InputError("home office tables", f"no rows for force {force!r}",
                         expected=f"one of {sorted(set(pfa['force']))[:6]}...")
    offences = _long(mine, "count", [])
    offences["local_area"] = ""
    cohort = in_period = None
    notes = []
    if outcomes is not None and (outcomes["force"] == force).any():
        o = outcomes[outcomes["force"] == force]
        if "cohort" in o:
            cohort = _long(o, "cohort", ["outcome_type"])
        if "in_period" in o:
            in_period = _long(o, "in_period", ["outcome_type"])
        notes.append("'% outcome 1 & 1A' from the Home Office outcomes tables is outcome type 1: the 1A "
                     "row there is an 'of which' row already inside type 1.")
    first = offences["period_start"].min().date()
    last = offences["period_start"].max().date()
    from kpi_lib.core.periods import Period
    last_exclusive = Period.containing(last).end_exclusive
    return CrimeCounts("quarter", offences, cohort, in_period, first, last_exclusive, None,
                       source="home_office", notes=notes,
                       unsupported={c: DA_REASON.replace("domestic abuse", c.replace("_", " "))
                                    for c in flag_categories})


def one_release(parts: list[tuple[str, pd.DataFrame]], key: list[str], what: str) -> None:
    """Each force, quarter and offence code (and outcome type) in one file only: two releases of
    the same year in the folder would otherwise be summed (18,877 crimes read as 37,754). Rows
    repeated inside one published file are left as published. Names both files and the row."""
    seen: pd.DataFrame | None = None
    for file, rows in parts:
        keys = rows[[*key, "_row"]].drop_duplicates(key).assign(_file=file)
        if seen is not None:
            both = keys.merge(seen, on=key, suffixes=("", "_first"))
            if len(both):
                first = both.sort_values("_row").iloc[0]
                quarter = _label(first["quarter_start"])
                raise InputError(file, f"{first['force']} {quarter} offence code {first['code']} is also in "
                                 f"{first['_file_first']} (row {int(first['_row_first']):,}): two {what} for the "
                                 "same quarter would be counted twice", row=int(first["_row"]),
                                 expected="one release of each year in the data folder: remove the older file",
                                 more=len(both) - 1)
            seen = pd.concat([seen, keys], ignore_index=True)
        else:
            seen = keys


def _label(quarter_start) -> str:
    from kpi_lib.core.periods import Period
    return Period.containing(pd.Timestamp(quarter_start).date()).label


def read_into(folder: Path, tables: Tables, force: str, categories: CrimeCategories | None = None) -> None:
    """Read every Home Office table in ``folder`` into ``tables`` (crime counts for ``force``,
    which the caller takes from the metadata or the settings: never assumed)."""
    files = find_files(folder)
    cats = categories or tables.extras.get("crime_categories") or load_categories()
    pfa_parts, out_parts = [], []
    for path in files.get("pfa", []):
        rows, led, notes = read_pfa(path, cats)
        pfa_parts.append((path.name, rows))
        tables.ledger.append(led)
        tables.notes += notes
    for path in files.get("outcomes", []):
        rows, led, notes = read_outcomes(path, cats)
        out_parts.append((path.name, rows))
        tables.ledger.append(led)
        tables.notes += notes
    if not pfa_parts:
        raise InputError(str(folder), "outcomes tables without a recorded crime (PFA) table",
                         expected="the PFA table for the same years")
    one_release(pfa_parts, ["force", "quarter_start", "code"], "releases of the recorded crime tables")
    one_release(out_parts, ["force", "quarter_start", "code", "outcome_type"], "releases of the outcomes tables")
    pfa = pd.concat([r.drop(columns="_row") for _, r in pfa_parts], ignore_index=True)
    outcomes = pd.concat([r.drop(columns="_row") for _, r in out_parts], ignore_index=True) if out_parts else None
    tables.extras["home_office_pfa"] = pfa
    tables.extras["crime_counts"] = counts_for_force(pfa, outcomes, force, cats.flags)
    tables.notes += tables.extras["crime_counts"].notes
    tables.sources["crime"] = "home_office"
    tables.licence = LICENCE


def peer_comparison(pfa: pd.DataFrame, quarter_start: date, force: str, group: list[str],
                    populations: dict[str, float] | None = None, averaging: str = "weighted",
                    categories: list[str] | None = None) -> pd.DataFrame:
    """Force vs its comparison group and England and Wales, per KPI category (those in
    ``categories`` when given, the total always), for one quarter.

    With populations: rates per 1,000 people (group: weighted = total / total population; simple =
    mean of the forces' rates). Without: counts, and each category's share of the force's total.
    England and Wales is the 43 territorial forces (British Transport Police and fraud bodies out).
    """
    q = pfa[pd.to_datetime(pfa["quarter_start"]) == pd.Timestamp(quarter_start)]
    q = q[q["force"].map(territorial)]
    total = category_columns(q)[0]
    cats = [c for c in category_columns(q) if categories is None or c in categories or c == total]
    by_force = pd.DataFrame({c: q[q[c]].groupby("force")["count"].sum() for c in cats}).fillna(0)
    rows = []
    for c in cats:
        f = float(by_force.loc[force, c]) if force in by_force.index else float("nan")
        g = by_force.reindex(group)[c]
        ew = float(by_force[c].sum())
        if populations:
            pop = pd.Series(populations)
            rate = lambda x, p: 1000 * x / p  # noqa: E731
            grp = (rate(g.sum(), pop.reindex(group).sum()) if averaging == "weighted"
                   else float((1000 * g / pop.reindex(group)).mean()))
            ew_pop = pop.reindex(by_force.index)  # every force's people, or no England and Wales rate
            rows.append({"category": c, "measure": "per 1,000 people", "force": rate(f, pop[force]),
                         "group": grp, "england_and_wales": rate(ew, ew_pop.sum()) if ew_pop.notna().all()
                         else float("nan")})
        else:
            grp = float(g.sum()) if averaging == "weighted" else float(g.mean())
            rows.append({"category": c, "measure": "count", "force": f, "group": grp, "england_and_wales": ew})
    out = pd.DataFrame(rows)
    if not populations:
        tot = out.set_index("category").loc[total]
        share = out.copy()
        share["measure"] = "share of total recorded crime (%)"
        for col in ("force", "group", "england_and_wales"):
            share[col] = 100 * out[col] / tot[col]
        out = pd.concat([out, share[share["category"] != total]], ignore_index=True)
    return out


def table_files(folder: Path) -> list[Path]:
    """Every Home Office table in ``folder`` (the input kind's files)."""
    return [p for ps in find_files(folder).values() for p in ps]


def holds_tables(folder: Path) -> bool:
    """Whether ``folder`` holds a Home Office recorded crime or outcomes table."""
    return bool(find_files(folder))
