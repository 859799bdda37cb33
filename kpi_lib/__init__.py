"""kpi_lib: the tested library behind the Police and Crime Panel's Budget KPI metrics report.

Every figure in a report comes from a pure function here; notebooks only call them and present.
Entry points for an analyst (:mod:`kpi_lib.api`): :func:`kpi_lib.compute` (period, data, optional
configuration) -> KPI result table; :func:`kpi_lib.measure` (data folder) -> measurement panel.

The public names are imported on first use (module ``__getattr__``), so that importing a
submodule such as :mod:`kpi_lib.present.views` does not import the engine and, through it, scipy
and statsmodels.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"
__all__ = ["Configuration", "Period", "__version__", "breakdowns", "compute", "load_configuration",
           "load_params", "measure", "open_run", "read_tables"]

#: public name -> the submodule that defines it (imported when the name is first asked for)
_LAZY = {"breakdowns": ".api", "compute": ".api", "measure": ".api", "open_run": ".api",
         "Configuration": ".config.configuration", "load_configuration": ".config.configuration",
         "load_params": ".config.params", "Period": ".core.periods", "read_tables": ".inputs"}

if TYPE_CHECKING:  # for type checkers and editors: the names as if imported eagerly
    from kpi_lib.api import breakdowns, compute, measure, open_run
    from kpi_lib.config.configuration import Configuration, load_configuration
    from kpi_lib.config.params import load_params
    from kpi_lib.core.periods import Period
    from kpi_lib.inputs import read_tables


def __getattr__(name: str) -> Any:
    """Import a public name's submodule on first use and cache the name in this module."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
