"""The KPI catalogue (params/kpis.yaml): the 25 budget KPIs of Table 1 plus supplementary measures.

The catalogue is data, validated on load: unique ids, known families, units, polarities and
frequencies. Figures about the catalogue (how many KPIs are regularly reportable, how many were
already integrated into the force's performance framework) are computed here, never typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi_lib.core.errors import CatalogueError, ParameterError
from kpi_lib.core.paths import params_file
from kpi_lib.core.safe_yaml import load_yaml

FAMILIES = ("crime", "calls", "response", "confidence", "satisfaction", "finance", "environment")
UNITS = ("count", "percent", "minutes", "seconds", "gbp", "flag", "tco2e")
POLARITIES = ("higher_better", "lower_better", "neutral")
FREQUENCIES = ("quarterly", "annual")
REQUIRED = ("id", "plan_priority", "improvement_area", "name", "pmf_integration", "family",
            "unit", "polarity", "frequency", "definition")

DEFAULT_PATH = params_file("kpis.yaml")


@dataclass(frozen=True)
class Kpi:
    """One catalogue entry."""

    id: str
    plan_priority: str
    improvement_area: str
    name: str
    pmf_integration: str
    family: str
    unit: str
    polarity: str
    frequency: str
    definition: str
    supplementary: bool = False
    target: float | None = None
    target_source: str | None = None
    extra: dict = field(default_factory=dict, compare=False)


def parse_catalogue(doc: dict, source: str = "kpis.yaml") -> list[Kpi]:
    """Validate a loaded catalogue document and return its entries in file order."""
    if not isinstance(doc, dict) or not isinstance(doc.get("kpis"), list):
        raise CatalogueError(f"{source}: expected a mapping with a list under 'kpis'")
    out: list[Kpi] = []
    seen: set[str] = set()
    for i, entry in enumerate(doc["kpis"], start=1):
        where = f"{source}: entry {i}" + (f" ({entry.get('id')})" if isinstance(entry, dict) else "")
        if not isinstance(entry, dict):
            raise CatalogueError(f"{where}: expected a mapping")
        missing = [k for k in REQUIRED if k not in entry or entry[k] in (None, "")]
        if missing:
            raise CatalogueError(f"{where}: missing {', '.join(missing)}")
        for key, allowed in (("family", FAMILIES), ("unit", UNITS), ("polarity", POLARITIES),
                             ("frequency", FREQUENCIES)):
            if entry[key] not in allowed:
                raise CatalogueError(
                    f"{where}: unknown {key} {entry[key]!r}; expected one of {', '.join(allowed)}")
        if entry["id"] in seen:
            raise CatalogueError(f"{where}: duplicate id {entry['id']!r}")
        seen.add(entry["id"])
        target = entry.get("target")
        if target is not None and not isinstance(target, (int, float)):
            raise CatalogueError(f"{where}: target must be a number, got {target!r}")
        known = set(REQUIRED) | {"supplementary", "target", "target_source"}
        out.append(Kpi(
            **{k: str(entry[k]) for k in REQUIRED},
            supplementary=bool(entry.get("supplementary", False)),
            target=None if target is None else float(target),
            target_source=entry.get("target_source"),
            extra={k: v for k, v in entry.items() if k not in known},
        ))
    return out


def load_catalogue(path: str | Path = DEFAULT_PATH) -> list[Kpi]:
    """Read and validate params/kpis.yaml."""
    path = Path(path)
    try:
        doc = load_yaml(path, what="KPI catalogue")
    except ParameterError as exc:
        raise CatalogueError(str(exc)) from None
    return parse_catalogue(doc, str(path))


def catalogue_frame(kpis: list[Kpi]) -> pd.DataFrame:
    """The catalogue as a table, one row per KPI, in catalogue order."""
    return pd.DataFrame([{
        "kpi_id": k.id, "name": k.name, "family": k.family, "unit": k.unit,
        "polarity": k.polarity, "frequency": k.frequency, "supplementary": k.supplementary,
        "target": k.target, "plan_priority": k.plan_priority,
        "improvement_area": k.improvement_area, "pmf_integration": k.pmf_integration,
        "definition": k.definition,
    } for k in kpis])


def budget_kpis(kpis: list[Kpi]) -> list[Kpi]:
    """The Table 1 budget KPIs (not the supplementary measures)."""
    return [k for k in kpis if not k.supplementary]


def is_integrated(kpi: Kpi) -> bool:
    """Rule used for the paper's coverage sentence: PMF text says it is 'Already included'.

    The paper counts 14 integrated KPIs "into Force performance reports or existing PCC
    products"; read literally, Table 1 marks 13 as "Already included". The 14th is most likely
    visibility, which is "already included in the SMSR report published on the PCC's website".
    This rule follows Table 1's own wording; see docs/assumptions.md.
    """
    return kpi.pmf_integration.strip().lower().startswith("already included")


@dataclass(frozen=True)
class Coverage:
    """'N of M regularly reportable KPIs ...' with its percentage."""

    count: int
    of: int

    @property
    def percent(self) -> float:
        return 100.0 * self.count / self.of if self.of else float("nan")

    def sentence(self, what: str) -> str:
        return f"{self.count} of {self.of} regularly reportable KPIs {what} ({self.percent:.0f}%)"


def pmf_coverage(kpis: list[Kpi]) -> Coverage:
    """How many regularly reportable budget KPIs (not annual) Table 1 marks as integrated."""
    regular = [k for k in budget_kpis(kpis) if k.frequency != "annual"]
    return Coverage(sum(is_integrated(k) for k in regular), len(regular))
