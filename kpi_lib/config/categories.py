"""Offence codes to KPI crime categories, from params/crime_categories.yaml (data, not code).

Reference: Home Office Counting Rules and the police recorded crime open data tables. Total
recorded crime excludes the fraud offence group (recorded centrally by Action Fraud, CIFAS and
UK Finance). Domestic abuse is a flag on crime records, not an offence category, so it is not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kpi_lib.core.errors import CatalogueError, ParameterError
from kpi_lib.core.paths import params_file
from kpi_lib.core.safe_yaml import load_yaml

DEFAULT_PATH = params_file("crime_categories.yaml")
CATEGORIES = ("trc", "vwi", "rape", "robbery", "burglary_residential", "vehicle_crime")


@dataclass(frozen=True)
class CrimeCategories:
    """The code table (code -> group, subgroup) and category definitions."""

    codes: pd.DataFrame  # index: offence_code; columns: group, subgroup
    categories: dict[str, list[str]]
    excluded_groups: list[str]
    aliases: dict[str, str]

    def normalise_subgroup(self, label: str) -> str:
        label = " ".join(str(label).split())
        return self.aliases.get(label, label)

    def flags_for_subgroups(self, subgroups: pd.Series, groups: pd.Series) -> pd.DataFrame:
        """Boolean membership of each KPI category, given subgroup and group labels."""
        sg = subgroups.map(self.normalise_subgroup)
        out = pd.DataFrame(index=subgroups.index)
        out["trc"] = ~groups.isin(self.excluded_groups)
        for cat, members in self.categories.items():
            out[cat] = sg.isin(members)
        return out

    def flags_for_codes(self, codes: pd.Series) -> pd.DataFrame:
        """Boolean membership of each KPI category for offence codes (all codes must be known)."""
        known = codes.isin(self.codes.index)
        if not known.all():
            raise KeyError(sorted(set(codes[~known]))[:5])
        info = self.codes.reindex(codes.to_numpy())
        info.index = codes.index
        return self.flags_for_subgroups(info["subgroup"], info["group"])


def load_categories(path: str | Path = DEFAULT_PATH) -> CrimeCategories:
    """Read params/crime_categories.yaml and check that every category names known subgroups."""
    path = Path(path)
    try:
        doc = load_yaml(path, what="crime category mapping") or {}
    except ParameterError as exc:
        raise CatalogueError(str(exc)) from None
    aliases = {str(k): str(v) for k, v in (doc.get("subgroup_aliases") or {}).items()}
    rows = [{"offence_code": str(code), "group": str(v["group"]),
             "subgroup": aliases.get(str(v["subgroup"]), str(v["subgroup"]))}
            for code, v in (doc.get("codes") or {}).items()]
    codes = pd.DataFrame(rows).set_index("offence_code")
    if codes.index.duplicated().any():
        raise CatalogueError(f"{path}: duplicate offence codes {list(codes.index[codes.index.duplicated()])}")
    categories = {str(k): [str(s) for s in v] for k, v in doc["categories"].items()}
    missing = set(CATEGORIES) - {"trc"} - set(categories)
    if missing:
        raise CatalogueError(f"{path}: categories missing: {sorted(missing)}")
    known_subgroups = set(codes["subgroup"])
    for cat, members in categories.items():
        for s in members:
            if s not in known_subgroups:
                raise CatalogueError(f"{path}: category {cat} names subgroup {s!r}, which no code has")
    return CrimeCategories(codes, categories, list(doc.get("excluded_from_trc_groups", [])), aliases)
