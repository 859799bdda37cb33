"""The families of KPIs, listed once, and the configuration layer that loads the reference data
they need (so that families themselves never touch a file).

The engine, the panel, the notebooks helper and the runner loop over :data:`FAMILIES`; none of
them names a family. A new family is one module declaring ``FAMILY``, one line here, one notebook
and its catalogue rows.
"""

from __future__ import annotations

from pathlib import Path

from kpi_lib.config.annotations import load_annotations
from kpi_lib.config.catalogue import load_catalogue
from kpi_lib.config.categories import load_categories
from kpi_lib.core.errors import ParameterError
from kpi_lib.core.paths import params_file
from kpi_lib.measure.families import (
    calls,
    confidence,
    crime,
    environment,
    finance,
    response,
    satisfaction,
)
from kpi_lib.measure.families._common import Config, Family
from kpi_lib.measure.families.environment import factors_frame

FAMILIES: tuple[Family, ...] = (
    crime.FAMILY, calls.FAMILY, response.FAMILY, confidence.FAMILY, satisfaction.FAMILY,
    finance.FAMILY, environment.FAMILY,
)
BY_NAME: dict[str, Family] = {f.name: f for f in FAMILIES}
NAMES: tuple[str, ...] = tuple(BY_NAME)


def family(name: str) -> Family:
    """The registered family called ``name`` (a readable error otherwise)."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise ParameterError(f"unknown family {name!r}; expected one of {', '.join(sorted(BY_NAME))}") from None


def tables_of(names: list[str] | tuple[str, ...] | None = None) -> list[str]:
    """Input tables the named families read (every family's when None), each once."""
    out: list[str] = []
    for f in (FAMILIES if names is None else [family(n) for n in names]):
        out += [t for t in f.tables if t not in out]
    return out


def _load_yaml(path, what: str) -> dict:
    """YAML through the suite's bounded loader (no aliases, size and depth limits)."""
    from kpi_lib.core.safe_yaml import load_yaml
    return load_yaml(path, what=what)


def load_config(params: dict) -> Config:
    """Every reference table the families and the engine need, read once: crime categories,
    carbon conversion factors, and the annotations (dated events that rebase SPC limits)."""
    factors = factors_frame(_load_yaml(params_file("carbon_factors.yaml"), "carbon conversion factors"))
    extras = {"annotations": load_annotations_for(params), "peers": load_peer_settings(params)}
    return Config(params=params, categories=load_categories(), carbon_factors=factors, extras=extras)


def load_annotations_for(params: dict) -> list:
    """The annotations named by ``annotations_file`` (default params/annotations.yaml), with
    KPI ids checked against the catalogue."""
    ids = [k.id for k in load_catalogue()]
    return load_annotations(params.get("annotations_file"), known_kpis=ids)


def load_peer_settings(params: dict) -> dict:
    """Peer comparison settings (``peers_file`` or params/peers.yaml) and, when the settings name
    one, the population table (force -> population) for rates per 1,000 people."""
    path = params.get("peers_file")
    settings = _load_yaml(Path(path) if path else params_file("peers.yaml"), "peer comparison settings")
    populations = None
    if settings.get("population_file"):
        import pandas as pd
        pop = pd.read_csv(settings["population_file"], comment="#")
        populations = dict(zip(pop["force"], pop["population"], strict=True))
    return {"settings": settings, "populations": populations}
