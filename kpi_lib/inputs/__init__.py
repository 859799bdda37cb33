"""Inputs: each input format read and validated into canonical tables, with a row ledger.

``read_tables`` and the table names are imported on first use, so that importing a light module
of this stage (``kpi_lib.inputs.aggregates``, which the crime family needs) does not import the
readers and their schema library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["TABLES", "Tables", "read_tables"]

if TYPE_CHECKING:
    from kpi_lib.inputs.canonical import TABLES, Tables, read_tables


def __getattr__(name: str) -> Any:
    """The readers' public names, from :mod:`kpi_lib.inputs.canonical` on first use."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("kpi_lib.inputs.canonical"), name)
    globals()[name] = value
    return value
