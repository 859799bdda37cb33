"""The families of KPIs, listed once.

The engine, the panel, the notebooks helper and the runner loop over :data:`FAMILIES`; none of
them names a family. A new family is one module declaring ``FAMILY``, one line here, one notebook
and its catalogue rows. The reference data families need is loaded once, at the edge, by
:func:`kpi_lib.config.configuration.load_configuration`.
"""

from __future__ import annotations

from kpi_lib.core.errors import ParameterError
from kpi_lib.measure.families import (
    calls,
    confidence,
    crime,
    environment,
    finance,
    response,
    satisfaction,
)
from kpi_lib.measure.families._common import Family

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


def chart_grains(params: dict) -> dict[str, str]:
    """Each family's chart grain for a run: the ``spc_grain`` setting where it names the family,
    else the family's own (:attr:`Family.spc_grain`)."""
    chosen = params.get("spc_grain") or {}
    return {f.name: chosen.get(f.name) or f.spc_grain for f in FAMILIES}
