"""What changed since the last report: verdicts that changed, and back-figures revised since they
were published (a quarter's value now differs from what the earlier report said), with both
values and why where that is known.

Pure functions of result tables: the earlier run's ``results/kpis.csv`` (and its
``results/history.csv`` when it has one) against this run's ``results/kpis.csv`` and
``results/history.csv``. Values are compared as the reports show them (formatted), so a
difference only in the tenth decimal place is not a revision.

What the earlier run may be is checked first (:func:`previous_problem`): a report for an earlier
period, made from the same kind of source, whose files are still those its manifest recorded
(SHA-256). Otherwise "what changed" is left out and the report says why: a later quarter's run
would be read as "published" figures it never published, another source's figures as revisions,
and an edited ``kpis.csv`` as a revision "because the source records changed".
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from kpi_lib.present.narrative import format_change, format_value

LABEL_COLUMNS = ("quarter", "label", "quarter_label", "period")
CHANGE_COLUMNS = ["kpi_id", "name", "previous_period", "previous_verdict", "verdict"]
REVISION_COLUMNS = ["kpi_id", "name", "basis", "quarter", "published", "now", "change", "why"]
WHY_COHORT = ("outcomes assigned since the last report: the cohort's rate rises as investigations "
              "close (maturing outcomes)")
WHY_UNKNOWN = "not known: the source records changed between the two extractions"


#: The earlier run's files "what changed" reads, which must match its manifest's SHA-256s.
COMPARED_FILES = ("results/kpis.csv", "results/history.csv")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def previous_problem(previous: str | Path, period_label: str, kinds: list[str]) -> str | None:
    """Why the run in ``previous`` cannot be compared with this report (for ``period_label``, made
    from input ``kinds``), in words for the report; None when it can. It must be a report for an
    earlier period (ending before this one ends, and starting before it starts), from the same
    kinds of input, and its ``results/kpis.csv`` and ``results/history.csv`` must still have the
    SHA-256s its manifest recorded (``output_sha256``)."""
    from kpi_lib.core.periods import Period
    folder = Path(previous)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        theirs = Period.parse(str(manifest["period"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"its manifest.json cannot be read ({type(exc).__name__})"
    except Exception:  # noqa: BLE001 - a period that does not parse
        return "its manifest.json names no period this suite can read"
    mine = Period.parse(period_label)
    if not (theirs.end < mine.end and theirs.start < mine.start):
        return (f"it is the report for {theirs.label}, which is not a period before {mine.label}: only an "
                "earlier report can say what was published before")
    their_kinds = sorted(manifest.get("input_kinds") or [])
    if their_kinds != sorted(kinds):
        names = {"canonical": "force records", "home_office": "Home Office open data tables",
                 "police_uk": "data.police.uk street files"}
        said = lambda ks: ", ".join(names.get(k, k) for k in ks) or "no recognised input"  # noqa: E731
        return (f"it was made from {said(their_kinds)}, this report from {said(sorted(kinds))}: its figures "
                "would read as revisions")
    recorded = manifest.get("output_sha256")
    if not isinstance(recorded, dict):
        return "its manifest records no SHA-256 of its files (it was made by an earlier version), so they cannot be checked"
    for name in COMPARED_FILES:
        path = folder / name
        if name not in recorded:
            if path.exists():
                return f"its {name} is not in its manifest"
            continue
        try:
            same = path.is_file() and _sha256(path) == recorded[name]
        except OSError:
            same = False
        if not same:
            return f"its {name} is not the file it published (its SHA-256 differs from the manifest's): edited since?"
    return None


def _headline(results: pd.DataFrame) -> pd.DataFrame:
    h = results[results["headline"].astype(str).str.lower().isin(["true", "1", "1.0"])]
    return h.drop_duplicates("kpi_id")


def _basis(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).replace("nan", "")


def verdict_changes(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """KPIs whose headline verdict differs between the earlier report and this one (both sets of
    words as the reports showed them), in this run's order."""
    if "verdict_code" not in previous or "verdict_code" not in current:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    prev = _headline(previous).set_index("kpi_id")
    rows = []
    for _, r in _headline(current).iterrows():
        k = r["kpi_id"]
        if k not in prev.index:
            continue
        p = prev.loc[k]
        if str(p["verdict_code"]) != str(r["verdict_code"]):
            rows.append({"kpi_id": k, "name": r["name"], "previous_period": str(p.get("period", "")),
                         "previous_verdict": str(p.get("verdict", p["verdict_code"])),
                         "verdict": str(r.get("verdict", r["verdict_code"]))})
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def _label_col(df: pd.DataFrame) -> str:
    col = next((c for c in LABEL_COLUMNS if c in df), None)
    if col is None:
        raise ValueError(f"history table has no quarter label column (expected one of {LABEL_COLUMNS})")
    return col


def published_values(previous: pd.DataFrame, previous_history: pd.DataFrame | None) -> pd.DataFrame:
    """What the earlier report said, per KPI, basis and quarter: its own headline values, plus
    the back-figures of its history table. Where both give a quarter, the headline value wins
    (it is what the report's tables showed)."""
    head = _headline(previous)
    head = head[head["status"] == "reported"]
    parts = [pd.DataFrame({"kpi_id": head["kpi_id"], "basis": _basis(head["basis"]),
                           "quarter": head["period"].astype(str), "value": head["value"].astype(float),
                           "unit": head["unit"], "_rank": 0})]
    if previous_history is not None and len(previous_history):
        h = previous_history
        ok = h["status"].fillna("reported").eq("reported") if "status" in h else True
        h = h[ok]
        parts.append(pd.DataFrame({"kpi_id": h["kpi_id"], "basis": _basis(h["basis"]) if "basis" in h else "",
                                   "quarter": h[_label_col(h)].astype(str), "value": h["value"].astype(float),
                                   "unit": h["unit"] if "unit" in h else "", "_rank": 1}))
    out = pd.concat(parts, ignore_index=True).sort_values("_rank", kind="stable")
    return out.drop_duplicates(["kpi_id", "basis", "quarter"]).drop(columns="_rank").reset_index(drop=True)


def revisions(published: pd.DataFrame, history: pd.DataFrame,
              names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Back-figures whose value, as a report shows it, now differs from what was published:
    both values, the change, and why where known (cohort outcome rates mature)."""
    names = names or {}
    h = history.copy()
    h["basis"] = _basis(h["basis"]) if "basis" in h else ""
    h["quarter"] = h[_label_col(h)].astype(str)
    if "status" in h:
        h = h[h["status"].fillna("reported").eq("reported")]
    m = published.merge(h[["kpi_id", "basis", "quarter", "value"]], on=["kpi_id", "basis", "quarter"],
                        suffixes=("_published", "_now"))
    rows = []
    for _, r in m.iterrows():
        unit = str(r["unit"]) if isinstance(r["unit"], str) and r["unit"] else "count"
        a, b = float(r["value_published"]), float(r["value_now"])
        if math.isnan(a) or math.isnan(b) or format_value(a, unit) == format_value(b, unit):
            continue
        pct = (b - a) / a * 100 if a else math.nan
        rows.append({"kpi_id": r["kpi_id"], "name": names.get(r["kpi_id"], r["kpi_id"]),
                     "basis": r["basis"], "quarter": r["quarter"],
                     "published": format_value(a, unit), "now": format_value(b, unit),
                     "change": format_change(b - a, pct, unit),
                     "why": WHY_COHORT if r["basis"] == "cohort" else WHY_UNKNOWN})
    return pd.DataFrame(rows, columns=REVISION_COLUMNS)
