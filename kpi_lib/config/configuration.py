"""Everything a run is configured with, loaded and checked once at the edge into one typed object.

:func:`load_configuration` reads the settings (defaults, then a ``--params`` file or a dict), the
KPI catalogue, the crime categories, the carbon conversion factors, the annotations (dated events
that rebase SPC limits and mark charts) and the peer comparison settings. The measure and analyse
stages receive a :class:`Configuration` and never open a file, so they can be tested with
hand-built inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from kpi_lib.config.annotations import Annotation, load_annotations
from kpi_lib.config.areas import load_area_population
from kpi_lib.config.catalogue import (
    DEFAULT_PATH,
    Kpi,
    catalogue_for,
    check_categories,
    load_catalogue,
)
from kpi_lib.config.categories import CrimeCategories, categories_for
from kpi_lib.config.params import load_params
from kpi_lib.core.paths import params_file
from kpi_lib.core.safe_yaml import load_yaml


@dataclass(frozen=True)
class Configuration:
    """A run's configuration: ``params`` (the validated settings, as a plain dict), the KPI
    ``catalogue`` (the ``kpis_file`` setting's, every budget year's KPIs, labels filled in from
    the settings), crime ``categories`` (the ``crime_categories_file`` setting's), ``carbon_factors``
    (one row per year, source and unit), ``annotations``, ``peers`` (``{"settings": ...,
    "populations": force -> people or None}``) and ``area_population`` (``{"populations": area ->
    people, "source": ..., "file": ...}`` or None)."""

    params: dict[str, Any]
    catalogue: list[Kpi] = field(default_factory=list)
    categories: CrimeCategories | None = None
    carbon_factors: pd.DataFrame | None = None
    annotations: list[Annotation] = field(default_factory=list)
    peers: dict = field(default_factory=dict)
    area_population: dict | None = None

    def with_params(self, **changes: Any) -> Configuration:
        """The same configuration with some settings changed (already checked by the caller)."""
        return replace(self, params={**self.params, **changes})


def factors_frame(doc: dict) -> pd.DataFrame:
    """The conversion factors document (params/carbon_factors.yaml, already parsed) as a table."""
    f = pd.DataFrame(doc["factors"])
    f.attrs["reference"] = doc.get("reference", "")
    return f


def load_peer_settings(params: dict) -> dict:
    """Peer comparison settings (``peers_file`` or params/peers.yaml) and, when the settings name
    one, the population table (force -> population) for rates per 1,000 people, both validated
    like inputs (:mod:`kpi_lib.config.peers`)."""
    from kpi_lib.config.peers import load_peer_settings as load
    return load(params)


def load_annotations_for(params: dict, catalogue: list[Kpi] | None = None) -> list[Annotation]:
    """The annotations named by ``annotations_file`` (default params/annotations.yaml), with
    KPI ids checked against the catalogue in use (the default annotations may also name the
    default catalogue's KPIs, which a force's own catalogue may have dropped)."""
    ids = [k.id for k in (catalogue if catalogue is not None else catalogue_for(params))]
    if not params.get("annotations_file"):
        ids += [k.id for k in load_catalogue(DEFAULT_PATH, params)]
    return load_annotations(params.get("annotations_file"), known_kpis=ids)


def load_configuration(params: dict | str | Path | None = None) -> Configuration:
    """Every setting and reference table, read and checked once: ``params`` is the settings dict
    already validated (as :func:`kpi_lib.config.params.load_params` returns it), or a YAML file of
    settings, or None for the defaults."""
    if not isinstance(params, dict):
        params = load_params(params)
    catalogue = catalogue_for(params)
    categories = categories_for(params)
    check_categories(catalogue, categories.names, categories.source)
    factors = factors_frame(load_yaml(params_file("carbon_factors.yaml"), what="carbon conversion factors"))
    return Configuration(params=params, catalogue=catalogue, categories=categories,
                         carbon_factors=factors, annotations=load_annotations_for(params, catalogue),
                         peers=load_peer_settings(params),
                         area_population=load_area_population(params.get("area_population")))
