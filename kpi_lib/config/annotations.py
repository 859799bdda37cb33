"""Annotations: one registry of dated events that explain changes in a KPI's series.

``params/annotations.yaml`` (or the file named by the ``annotations_file`` setting) is a list of
``{date, kpis: [ids] | "all", text, rebase, source?}``. It drives three things, so they can never
disagree: SPC rebasing (limits are recalculated from an annotation's date when ``rebase`` is
true, and from nowhere else, so every rebase has an annotation by construction), the markers on
charts, and the footnotes in the report. NHS England's Making Data Count advises looking for a
known cause of a shift before acting on it; this file is where known causes are recorded.

Validation is strict and every problem is one readable :class:`~kpi_lib.core.errors.ParameterError`
naming the file, the entry, the field and the value. KPI ids are checked against a list the
caller passes (``known_kpis``): this module never reads the catalogue itself.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator
from pydantic.dataclasses import dataclass

from kpi_lib.core.errors import ParameterError
from kpi_lib.core.safe_yaml import load_yaml as _load_yaml

ALL = "all"


@dataclass(frozen=True)
class Annotation:
    """One dated event: from ``date`` on, ``kpis`` (a tuple of ids, or "all") are affected;
    ``text`` is plain English for the Panel; ``rebase`` recalculates SPC limits from ``date``."""

    date: date
    kpis: tuple[str, ...] | Literal["all"]
    text: str
    rebase: bool = False
    source: str | None = None

    def applies_to(self, kpi_id: str) -> bool:
        return self.kpis == ALL or kpi_id in self.kpis


class _Entry(BaseModel):
    """The shape of one YAML entry (strict: unknown keys, empty text, non-boolean rebase fail)."""

    model_config = ConfigDict(extra="forbid")
    date: date
    kpis: list[str] | Literal["all"]
    text: str = Field(min_length=10)
    rebase: StrictBool
    source: str | None = None

    @field_validator("kpis")
    @classmethod
    def _non_empty(cls, v):
        if isinstance(v, list) and not v:
            raise ValueError('list at least one KPI id, or write "all"')
        return v

    @field_validator("text")
    @classmethod
    def _plain(cls, v: str):
        return " ".join(v.split())


def default_path() -> Path:
    from kpi_lib.core.paths import params_file
    return params_file("annotations.yaml")


def _read(path: Path) -> object:
    return _load_yaml(path, what="annotations file")


def parse_annotations(doc: object, source: str = "annotations.yaml",
                      known_kpis: Iterable[str] | None = None) -> list[Annotation]:
    """Validate the parsed YAML document (a list of entries) into annotations sorted by date.

    ``known_kpis``: the catalogue's ids; an id not in it is an error naming the nearest id.
    """
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise ParameterError(f"{source}: expected a list of annotations (each with date, kpis, text, "
                             f"rebase), found {type(doc).__name__}")
    known = set(known_kpis) if known_kpis is not None else None
    out = []
    for i, raw in enumerate(doc, start=1):
        where = f"{source}, entry {i}"
        if not isinstance(raw, dict):
            raise ParameterError(f"{where}: expected a mapping with date, kpis, text and rebase; found {raw!r}")
        if "date" in raw:
            where += f" (date {raw['date']})"
        try:
            e = _Entry.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = str(err["loc"][0]) if err["loc"] else "entry"
            value = raw.get(err["loc"][0]) if err["loc"] and err["loc"][0] in raw else None
            found = "" if err["type"] == "missing" else f"; found {value!r}"
            raise ParameterError(f"{where}, field '{field}': {_expected(err)}{found}") from None
        if known is not None and e.kpis != ALL:
            for k in e.kpis:
                if k not in known:
                    near = difflib.get_close_matches(k, sorted(known), n=1)
                    hint = f"; did you mean '{near[0]}'?" if near else ""
                    raise ParameterError(f"{where}, field 'kpis': unknown KPI id {k!r}{hint} "
                                         f"(ids are listed by `kpi list`)")
        kpis = ALL if e.kpis == ALL else tuple(dict.fromkeys(e.kpis))
        out.append(Annotation(date=e.date, kpis=kpis, text=e.text, rebase=e.rebase, source=e.source))
    return sorted(out, key=lambda a: a.date)


def _expected(err: dict) -> str:
    kind, field = err["type"], str(err["loc"][0]) if err["loc"] else ""
    if kind == "missing":
        return "missing; every annotation needs date, kpis, text and rebase"
    if kind == "extra_forbidden":
        return "not a known field; expected only date, kpis, text, rebase and source"
    return {
        "date": "expected a date written YYYY-MM-DD",
        "kpis": 'expected a list of KPI ids, or "all"',
        "text": "expected plain-English text of at least 10 characters",
        "rebase": "expected true or false",
        "source": "expected text",
    }.get(field, err["msg"])


def load_annotations(path: str | Path | None = None,
                     known_kpis: Iterable[str] | None = None) -> list[Annotation]:
    """Annotations from ``path`` (None: params/annotations.yaml), validated and sorted by date."""
    p = Path(path) if path is not None else default_path()
    if not p.exists():
        raise ParameterError(f"annotations file not found: {p}")
    return parse_annotations(_read(p), source=str(p), known_kpis=known_kpis)


def for_kpi(annotations: Iterable[Annotation], kpi_id: str) -> list[Annotation]:
    """The annotations that apply to one KPI (those for "all" included), by date."""
    return sorted((a for a in annotations if a.applies_to(kpi_id)), key=lambda a: a.date)


def rebase_dates(annotations: Iterable[Annotation], kpi_id: str) -> list[date]:
    """Dates from which the KPI's SPC limits are recalculated (distinct, ascending)."""
    return sorted({a.date for a in for_kpi(annotations, kpi_id) if a.rebase})


def annotations_frame(annotations: Iterable[Annotation], kpi_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Tidy table for charts and footnotes: one row per KPI x annotation (kpi_id, date, text,
    rebase, source). "all" is expanded over ``kpi_ids`` when given, else kept as kpi_id "all"."""
    ids = list(kpi_ids) if kpi_ids is not None else None
    rows = []
    for a in annotations:
        targets = (ids if ids is not None else [ALL]) if a.kpis == ALL else \
            [k for k in a.kpis if ids is None or k in ids]
        rows += [{"kpi_id": k, "date": a.date, "text": a.text, "rebase": a.rebase,
                  "source": a.source or ""} for k in targets]
    return pd.DataFrame(rows, columns=["kpi_id", "date", "text", "rebase", "source"])
