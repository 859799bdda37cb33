"""Force names across Home Office releases: one spelling per force, fraud bodies apart."""

from __future__ import annotations

import re
from functools import lru_cache

from kpi_lib.core.errors import ParameterError
from kpi_lib.core.paths import params_file
from kpi_lib.core.safe_yaml import load_yaml

PATH = params_file("forces.yaml")
_SUFFIX = re.compile(r"\s+(police service|police|constabulary)$", re.I)


@lru_cache(maxsize=1)
def _doc() -> dict:
    doc = load_yaml(PATH, what="force names")
    if not isinstance(doc, dict) or not {"fraud_bodies", "aliases", "not_territorial"} <= set(doc):
        raise ParameterError(f"{PATH}: expected the keys fraud_bodies, aliases and not_territorial")
    return doc


def fraud_bodies() -> set[str]:
    return {b.lower() for b in _doc()["fraud_bodies"]}


def canonical_force(name: str) -> str | None:
    """The force's canonical name, 'FRAUD' for a central fraud body, or None if unknown."""
    raw = " ".join(str(name).split())
    if raw.lower() in fraud_bodies():
        return "FRAUD"
    doc = _doc()
    aliases = {k.lower(): v for k, v in doc["aliases"].items()}
    for candidate in (raw, _SUFFIX.sub("", raw)):
        low = candidate.lower()
        if low in aliases:
            return aliases[low]
        for f in doc["forces"]:
            if f.lower() == low:
                return f
    # "Metropolitan Police" itself ends in "Police": keep the full name before trimming
    return None


def territorial(name: str) -> bool:
    return name not in _doc()["not_territorial"]
