"""Offence codes to KPI crime categories, from params/crime_categories.yaml (data, not code).

Reference: Home Office Counting Rules and the police recorded crime open data tables. Total
recorded crime (``total_category``) is every offence group except the fraud offence group
(recorded centrally by Action Fraud, CIFAS and UK Finance). Other categories are unions of offence
subgroups (``categories``), or a flag on the crime record (``flag_categories``: domestic abuse is a
flag, not an offence category). A crime KPI in the catalogue names one of these categories; the
file names no KPI, and the code names no category.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi_lib.core.errors import CatalogueError, ParameterError
from kpi_lib.core.paths import params_file
from kpi_lib.core.safe_yaml import load_yaml

DEFAULT_PATH = params_file("crime_categories.yaml")


@dataclass(frozen=True)
class CrimeCategories:
    """The code table (code -> group, subgroup) and category definitions."""

    codes: pd.DataFrame  # index: offence_code; columns: group, subgroup
    categories: dict[str, list[str]]  # category -> offence subgroups
    excluded_groups: list[str]
    aliases: dict[str, str]
    total: str = "trc"
    flags: dict[str, str] = field(default_factory=dict)  # category -> true/false column of crimes
    police_uk_types: dict[str, list[str]] = field(default_factory=dict)  # category -> crime types
    police_uk_reasons: dict[str, str] = field(default_factory=dict)  # category -> why not separable
    source: str = ""
    label_of: dict[str, str] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        """Every category's name in tables ("Vehicle crime" for vehicle_crime unless given)."""
        return {c: self.label_of.get(c) or c.replace("_", " ").capitalize() for c in self.names}

    @property
    def names(self) -> list[str]:
        """Every category a KPI may name: the total, the subgroup categories, the flags."""
        return [self.total, *self.categories, *self.flags]

    def kind(self, category: str) -> str:
        """"total", "subgroups" or "flag" (a CatalogueError for a category not defined here)."""
        if category == self.total:
            return "total"
        if category in self.categories:
            return "subgroups"
        if category in self.flags:
            return "flag"
        raise CatalogueError(f"crime category {category!r} is not defined in {self.source or 'the categories file'}; "
                             f"expected one of {', '.join(self.names)}")

    def normalise_subgroup(self, label: str) -> str:
        label = " ".join(str(label).split())
        return self.aliases.get(label, label)

    def flags_for_subgroups(self, subgroups: pd.Series, groups: pd.Series,
                            only: list[str] | None = None) -> pd.DataFrame:
        """Boolean membership of the total and each subgroup category (those in ``only``, when
        given), from subgroup and group labels."""
        sg = subgroups.map(self.normalise_subgroup)
        out = pd.DataFrame(index=subgroups.index)
        out[self.total] = ~groups.isin(self.excluded_groups)
        for cat, members in self.categories.items():
            if only is None or cat in only:
                out[cat] = sg.isin(members)
        return out

    def flags_for_codes(self, codes: pd.Series, only: list[str] | None = None) -> pd.DataFrame:
        """Boolean membership of each category for offence codes (all codes must be known)."""
        known = codes.isin(self.codes.index)
        if not known.all():
            raise KeyError(sorted(set(codes[~known]))[:5])
        info = self.codes.reindex(codes.to_numpy())
        info.index = codes.index
        return self.flags_for_subgroups(info["subgroup"], info["group"], only)

    def police_uk_reason(self, category: str) -> str:
        """Why a category cannot be measured from data.police.uk street files."""
        return self.police_uk_reasons.get(category) or (
            f"police.uk street files have no crime type that makes up the category '{category}'.")


def _mapping(doc: dict, key: str, path: Path) -> dict:
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        raise CatalogueError(f"{path}: '{key}' must be a mapping")
    return value


def load_categories(path: str | Path | None = None) -> CrimeCategories:
    """Read the crime categories file (params/crime_categories.yaml when None) and check it:
    every category names known subgroups, and no name is defined twice."""
    path = Path(path) if path else DEFAULT_PATH
    try:
        doc = load_yaml(path, what="crime category mapping") or {}
    except ParameterError as exc:
        raise CatalogueError(str(exc)) from None
    if not isinstance(doc, dict):
        raise CatalogueError(f"{path}: expected a mapping with 'codes' and 'categories'")
    aliases = {str(k): str(v) for k, v in _mapping(doc, "subgroup_aliases", path).items()}
    rows = [{"offence_code": str(code), "group": str(v["group"]),
             "subgroup": aliases.get(str(v["subgroup"]), str(v["subgroup"]))}
            for code, v in _mapping(doc, "codes", path).items()]
    if not rows:
        raise CatalogueError(f"{path}: no offence codes under 'codes'")
    codes = pd.DataFrame(rows).set_index("offence_code")
    if codes.index.duplicated().any():
        raise CatalogueError(f"{path}: duplicate offence codes {list(codes.index[codes.index.duplicated()])}")
    categories = {str(k): [str(s) for s in (v or [])] for k, v in _mapping(doc, "categories", path).items()}
    flags = {str(k): str(v) for k, v in _mapping(doc, "flag_categories", path).items()}
    total = str(doc.get("total_category") or "trc")
    known_subgroups = set(codes["subgroup"])
    for cat, members in categories.items():
        if not members:
            raise CatalogueError(f"{path}: category {cat} lists no subgroups")
        for s in members:
            if s not in known_subgroups:
                raise CatalogueError(f"{path}: category {cat} names subgroup {s!r}, which no code has")
    names = [total, *categories, *flags]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise CatalogueError(f"{path}: category name(s) {twice} defined more than once "
                             "(the total, subgroup categories and flag categories share one set of names)")
    puk = _mapping(doc, "police_uk", path)
    types = {str(k): [str(t) for t in v] for k, v in (puk.get("crime_types") or {}).items()}
    reasons = {str(k): str(v) for k, v in (puk.get("reasons") or {}).items()}
    for cat in [*types, *reasons]:
        if cat not in names:
            raise CatalogueError(f"{path}: police_uk names category {cat!r}, which is not defined")
    labels = {str(k): str(v) for k, v in _mapping(doc, "labels", path).items()}
    for cat in labels:
        if cat not in names:
            raise CatalogueError(f"{path}: labels names category {cat!r}, which is not defined")
    return CrimeCategories(codes, categories, list(doc.get("excluded_from_trc_groups", [])), aliases,
                           total, flags, types, reasons, str(path), labels)


def categories_for(params: dict) -> CrimeCategories:
    """The categories named by the ``crime_categories_file`` setting (the default file when null)."""
    return load_categories(params.get("crime_categories_file"))
