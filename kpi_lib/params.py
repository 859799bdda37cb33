"""Run parameters: defaults from params/defaults.yaml, overridden by a file or a dict, validated
before any work starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import ParameterError
from .periods import Period

DEFAULTS_PATH = Path(__file__).resolve().parent.parent / "params" / "defaults.yaml"
GRAINS = ("month", "quarter", "none")


def load_params(path: str | Path | None = None, overrides: dict | None = None) -> dict[str, Any]:
    """Defaults, then the YAML file at ``path``, then ``overrides``; validated."""
    params = yaml.safe_load(DEFAULTS_PATH.read_text(encoding="utf-8"))
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise ParameterError(f"parameter file not found: {p}")
        try:
            extra = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ParameterError(f"{p}: not valid YAML ({exc})") from exc
        if not isinstance(extra, dict):
            raise ParameterError(f"{p}: expected a mapping of parameter names to values")
        unknown = set(extra) - set(params)
        if unknown:
            raise ParameterError(f"{p}: unknown parameter(s) {sorted(unknown)}; known: {sorted(params)}")
        params.update(extra)
    params.update(overrides or {})
    validate_params(params)
    return params


def validate_params(params: dict) -> None:
    if params.get("headline_basis") not in ("cohort", "in_period"):
        raise ParameterError(f"headline_basis must be 'cohort' or 'in_period', got {params.get('headline_basis')!r}")
    Period.parse(params["baseline_year"])
    for key in ("threshold_999_seconds", "threshold_101_seconds", "grade1_target_minutes", "grade2_target_minutes"):
        v = params.get(key)
        if not isinstance(v, (int, float)) or v <= 0:
            raise ParameterError(f"{key} must be a positive number, got {v!r}")
    for fam, grain in (params.get("spc_grain") or {}).items():
        if grain not in GRAINS:
            raise ParameterError(f"spc_grain.{fam} must be one of {GRAINS}, got {grain!r}")
