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
from kpi_lib.inputs.canonical import Tables, read_metadata, read_tables
from kpi_lib.inputs.kinds import registered
from kpi_lib.inputs.parsing import with_line


def detect_kinds(folder: str | Path) -> list[str]:
    """The registered input kinds present in a folder, in reading order."""
    folder = Path(folder)
    return [k.name for k in registered().values() if k.detect(folder)]


def read_any(folder: str | Path, *, only: list[str] | None = None, timezone: str | None = None,
             survey_scales: dict[str, list[str]] | None = None, settings: dict | None = None,
             sources: dict | None = None) -> Tables:
    """Read every kind of input in ``folder`` (canonical first; public tables fill crime only
    when no record-level crimes are present). ``survey_scales`` as in :func:`read_tables`;
    ``settings`` also name the crime categories file in use; ``sources``: the force's own
    extracts, read through their mapping (:mod:`kpi_lib.inputs.mapping`)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(str(folder), "data folder not found", expected="a folder of input files")
    snap = active_snapshot()
    if snap is None or not snap.covers(folder):  # read exactly the bytes hashed
        with Snapshot.of(folder) as snap, snap.active():
            return read_any(folder, only=only, timezone=timezone, survey_scales=survey_scales,
                            settings=settings, sources=sources)
    try:
        return _read_kinds(folder, only, timezone, survey_scales, settings, sources)
    except InputError as exc:
        raise with_line(exc, folder) from None


def _read_kinds(folder: Path, only: list[str] | None, timezone: str | None,
                survey_scales: dict[str, list[str]] | None, settings: dict | None,
                sources: dict | None = None) -> Tables:
    from kpi_lib.config.categories import categories_for
    categories = categories_for(settings) if settings is not None else None
    kinds = detect_kinds(folder)
    if sources and "canonical" not in kinds:
        kinds.insert(0, "canonical")
    if not kinds:
        raise InputError(str(folder), "no recognised input files",
                         expected="canonical tables (crimes.csv, calls.csv, ...), Home Office open "
                                  "data tables, or data.police.uk *-street.csv files")
    tables = read_tables(folder, only=only, timezone=timezone, survey_scales=survey_scales, settings=settings,
                         categories=categories, sources=sources) \
        if "canonical" in kinds else \
        Tables(frames={}, ledger=[], folder=str(folder), skipped=skipped_files(folder))
    wants_crime = only is None or "crimes" in only
    public = [registered()[k] for k in kinds if registered()[k].public]
    if wants_crime and "crimes" not in tables.frames and public:
        if "canonical" not in kinds:  # the force, extraction date and marking still come from metadata.yaml
            meta = read_metadata(folder)
            tables.force, tables.extraction_date = str(meta.get("force", "")), meta.get("extraction_date")
            tables.synthetic = bool(meta.get("synthetic", False))
        force = public_force(tables.force, settings, peers_must_agree=public[0].gives_peers)
        tables.force = tables.force or force
        tables.extras["crime_categories"] = categories  # the categories file in use
        public[0].read_into(folder, tables, force)
    return tables


def public_force(meta_force: str, settings: dict | None, *, peers_must_agree: bool) -> str:
    """The force whose figures the public tables give (its one spelling): ``force`` in
    metadata.yaml, else the peer settings' ``force``. With Home Office tables the two must agree
    when both are given, or the KPIs would be one force's and the peer comparison another's."""
    from kpi_lib.config.forces import canonical_force
    from kpi_lib.config.params import load_params
    from kpi_lib.config.peers import peer_force, peers_path
    params = settings if settings is not None else load_params()
    peer = peer_force(params)
    if not meta_force:
        return peer
    named = canonical_force(meta_force)
    if named is None or named == "FRAUD":
        raise InputError("metadata.yaml", f"force {meta_force!r} is not a police force the public tables know",
                         expected="a force named as in params/forces.yaml, e.g. 'West Mercia'")
    if peers_must_agree and named != peer:
        raise InputError("metadata.yaml", f"names the force {named!r}, but the peer settings "
                         f"({peers_path(params)}) name {peer!r}: the KPIs would be {named}'s and the peer "
                         f"comparison {peer}'s", expected="the same force in both (the 'force' key of each)")
    return named


def read_with_settings(folder: str | Path, params: dict, *, only: list[str] | None = None) -> Tables:
    """The inputs as the run with these settings reads them: :func:`kpi_lib.inputs.folder.read_inputs`
    (the force's mapping, every file accounted for, figures as at a date)."""
    from kpi_lib.inputs.folder import read_inputs
    return read_inputs(folder, params, only=only)
