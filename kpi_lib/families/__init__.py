"""One module per KPI family. Each exposes ``measure(tables, windows, params) -> DataFrame``:
pure functions from canonical tables and time windows to measurement rows (see ``_common``)."""

from . import calls, confidence, crime, environment, finance, response, satisfaction

FAMILY_MODULES = {
    "crime": crime, "calls": calls, "response": response, "confidence": confidence,
    "satisfaction": satisfaction, "finance": finance, "environment": environment,
}

__all__ = ["FAMILY_MODULES"]
