"""Run parameters as the plain dict most of the code takes: the validated :class:`Settings`
(defaults from params/defaults.yaml, overridden by a file or a dict), checked before any work
starts. See :mod:`kpi_lib.config.settings` for the rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kpi_lib.config.settings import GRAINS, Settings, load_settings


def load_params(path: str | Path | None = None, overrides: dict | None = None) -> dict[str, Any]:
    """Defaults, then the YAML file at ``path``, then ``overrides``; validated, as a plain dict."""
    return load_settings(path, overrides).as_params()


__all__ = ["GRAINS", "Settings", "load_params", "load_settings"]
