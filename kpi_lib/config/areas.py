"""The population of each local area (the ``area_population`` setting): a small CSV of
``local_area,population`` with a ``# source: ...`` line saying where the figures come from, so
that area figures can be read as rates per 1,000 people. Without it, areas are compared as
counts, with a note (areas differ in size)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from kpi_lib.core.errors import ParameterError

MAX_BYTES = 1_000_000


def load_area_population(path: str | Path | None) -> dict | None:
    """``{"populations": {area: people}, "source": text, "file": name}``, or None when no file is
    named. One ParameterError naming the file, row and problem otherwise."""
    if not path:
        return None
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"area_population {path}: not found or not a file; expected a CSV of "
                             "local_area, population with a '# source:' line")
    if path.stat().st_size > MAX_BYTES:
        raise ParameterError(f"area_population {path}: {path.stat().st_size:,} bytes; the limit is {MAX_BYTES:,}")
    text = path.read_text(encoding="utf-8-sig")
    source = next((line.split(":", 1)[1].strip() for line in text.splitlines()
                   if line.lstrip("# ").lower().startswith("source:")), "")
    if not source:
        raise ParameterError(f"area_population {path.name}: no '# source: ...' line; say where the "
                             "population figures come from (e.g. ONS mid-2023 estimates)")
    df = pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in ("local_area", "population") if c not in df.columns]
    if missing:
        raise ParameterError(f"area_population {path.name}: missing column(s) {missing}; expected "
                             "local_area, population")
    areas = df["local_area"].str.strip()
    people = pd.to_numeric(df["population"].str.replace(",", "").str.strip(), errors="coerce")
    for i, (a, p, raw) in enumerate(zip(areas, people, df["population"], strict=True), start=1):
        if not a:
            raise ParameterError(f"area_population {path.name}, row {i}: local_area is empty")
        if math.isnan(p) or p <= 0:
            raise ParameterError(f"area_population {path.name}, row {i} ({a}): population {raw!r} is not a "
                                 "number above 0")
    twice = areas[areas.duplicated()]
    if len(twice):
        raise ParameterError(f"area_population {path.name}: {twice.iloc[0]!r} is listed twice")
    return {"populations": dict(zip(areas, people.astype(float), strict=True)), "source": source,
            "file": path.name}
