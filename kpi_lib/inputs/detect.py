"""Detect which kinds of input a data folder holds and read them all into one :class:`Tables`.

Kinds: canonical tables (``crimes.csv`` ...), Home Office open data tables (PFA recorded crime
and crime outcomes), and data.police.uk street files. Each KPI's ``source`` column then says what
it came from; what no input supports is reported as ``not_available_from_source``.
"""

from __future__ import annotations

from pathlib import Path

from kpi_lib.core.errors import InputError
from kpi_lib.core.snapshot import Snapshot, skipped_files
from kpi_lib.core.snapshot import active as active_snapshot
from kpi_lib.inputs.canonical import TABLES, Tables, find_table_file, read_tables
from kpi_lib.inputs.parsing import with_line


def detect_kinds(folder: str | Path) -> list[str]:
    """The input kinds present in a folder, in reading order."""
    folder = Path(folder)
    kinds = []
    if any(find_table_file(folder, t) for t in TABLES):
        kinds.append("canonical")
    try:
        from kpi_lib.inputs import homeoffice, policeuk
    except ImportError:  # pragma: no cover - public readers are part of the package
        return kinds
    if homeoffice.find_files(folder):
        kinds.append("home_office")
    if policeuk.find_files(folder):
        kinds.append("police_uk")
    return kinds


def read_any(folder: str | Path, *, only: list[str] | None = None, timezone: str | None = None,
             survey_scales: dict[str, list[str]] | None = None) -> Tables:
    """Read every kind of input in ``folder`` (canonical first; public tables fill crime only
    when no record-level crimes are present). ``survey_scales`` as in :func:`read_tables`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(str(folder), "data folder not found", expected="a folder of input files")
    snap = active_snapshot()
    if snap is None or not snap.covers(folder):  # read exactly the bytes hashed
        with Snapshot.of(folder) as snap, snap.active():
            return read_any(folder, only=only, timezone=timezone, survey_scales=survey_scales)
    try:
        return _read_kinds(folder, only, timezone, survey_scales)
    except InputError as exc:
        raise with_line(exc, folder) from None


def _read_kinds(folder: Path, only: list[str] | None, timezone: str | None,
                survey_scales: dict[str, list[str]] | None) -> Tables:
    kinds = detect_kinds(folder)
    if not kinds:
        raise InputError(str(folder), "no recognised input files",
                         expected="canonical tables (crimes.csv, calls.csv, ...), Home Office open "
                                  "data tables, or data.police.uk *-street.csv files")
    tables = read_tables(folder, only=only, timezone=timezone, survey_scales=survey_scales) \
        if "canonical" in kinds else \
        Tables(frames={}, ledger=[], folder=str(folder), skipped=skipped_files(folder))
    wants_crime = only is None or "crimes" in only
    if wants_crime and "crimes" not in tables.frames:
        from kpi_lib.inputs import homeoffice, policeuk
        if "home_office" in kinds:
            homeoffice.read_into(folder, tables)
        elif "police_uk" in kinds:
            policeuk.read_into(folder, tables)
    return tables


def read_with_settings(folder: str | Path, params: dict, *, only: list[str] | None = None) -> Tables:
    """:func:`read_any` with everything the run's settings say about reading inputs."""
    return read_any(folder, only=only, timezone=params.get("timezone"),
                    survey_scales=params.get("survey_scales"))
