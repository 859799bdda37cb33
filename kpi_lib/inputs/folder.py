"""A data folder read as a run reads it, from its settings: every file accounted for, the force's
own extracts read through their mapping, the crime categories in use, and (with ``as_at``) the
tables cut to a past extraction date. ``kpi validate``, the runner and the panel cache all read
inputs through :func:`read_inputs`, so they read exactly the same rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kpi_lib.core.errors import InputError
from kpi_lib.inputs.mapping import (
    FolderFiles,
    Mapping,
    account_for_files,
    load_mapping,
    mapped_files,
)


def as_at_date(params: dict) -> date | None:
    """The ``as_at`` setting as a date (None: figures as at the data's own extraction date)."""
    value = params.get("as_at")
    return date.fromisoformat(value) if value else None


def folder_mapping(folder: str | Path, params: dict) -> Mapping | None:
    """The mapping a run uses: the ``mapping_file`` setting's, else ``mapping.yaml`` in the folder."""
    return load_mapping(folder, params.get("mapping_file"))


def check_files(folder: str | Path, params: dict) -> FolderFiles:
    """What happens to each file of the folder (an InputError naming any file nothing reads)."""
    return account_for_files(folder, folder_mapping(folder, params), tuple(params.get("ignore_files") or ()))


def read_inputs(folder: str | Path, params: dict, *, only: list[str] | None = None):
    """Every input of ``folder`` as the run with ``params`` reads it (see the module doc); the
    tables carry ``extras["files"]``, what happened to each file of the folder."""
    from kpi_lib.config.categories import categories_for
    from kpi_lib.inputs.detect import read_any

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(str(folder), "data folder not found", expected="a folder of input files")
    mapping = folder_mapping(folder, params)
    files = account_for_files(folder, mapping, tuple(params.get("ignore_files") or ()))
    categories = categories_for(params)
    sources = None
    if mapping is not None and mapping.tables:
        from kpi_lib.inputs.canonical import find_table_file
        sources = mapped_files(folder, mapping, timezone=params.get("timezone"),
                               offence_codes=frozenset(categories.codes.index))
        for table, src in sources.items():
            own = find_table_file(folder, table)
            if own is not None and own != src.path:
                raise InputError(f"{own.name} and {src.path.name}", f"two files for the table '{table}' (one "
                                 "canonical, one mapped)", expected="one file per table: move one away, or "
                                 "--ignore it")
    tables = read_any(folder, only=only, timezone=params.get("timezone"),
                      survey_scales=params.get("survey_scales"), settings=params, sources=sources)
    tables.extras["files"] = files.as_dict()
    day = as_at_date(params)
    if day is not None:
        from kpi_lib.inputs.as_at import cut_as_at
        tables = cut_as_at(tables, day)
    return tables
