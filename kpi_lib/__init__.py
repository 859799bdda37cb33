"""kpi_lib: the tested library behind the Police and Crime Panel's Budget KPI metrics report.

Every figure in a report comes from a pure function here; notebooks only call them and present.
Entry point: :func:`kpi_lib.compute` (period, canonical tables, parameters) -> KPI result table.
"""

from .engine import breakdowns, compute
from .params import load_params
from .periods import Period
from .sources import read_tables

__version__ = "0.2.0"
__all__ = ["Period", "__version__", "breakdowns", "compute", "load_params", "read_tables"]
