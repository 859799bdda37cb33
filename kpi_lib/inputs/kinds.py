"""Input kinds: what a data folder may hold, one registration each.

Each kind is one :class:`InputKind` in :data:`BUILT_IN`, pointing at its reader module
(:mod:`kpi_lib.inputs.canonical`, :mod:`kpi_lib.inputs.homeoffice`, :mod:`kpi_lib.inputs.policeuk`),
which is imported only when a folder is read (so a report kernel that only needs a source's words
never imports the readers). Detection, the words a report uses for a source and the licence line
all come from here; nothing downstream names a kind. A new kind is a reader module and one entry
here, or :func:`register` at run time.

Canonical (record-level) tables are read first. A public kind (``public``) fills the crime tables
only when the folder holds no record-level crimes; the first detected public kind in registry order
is read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The Open Government Licence line every public source is published under.
OGL = "Contains public sector information licensed under the Open Government Licence v3.0."


@dataclass(frozen=True)
class InputKind:
    """``name`` (recorded in the manifest and each KPI's ``source``), ``label`` (words for a
    report: "force records"), ``source`` (the publisher's name for the licence line), ``licence``
    ("" for the force's own records), ``detect(folder) -> bool``, and for a public kind
    ``read_into(folder, tables, force)``; ``gives_peers`` when it also carries other forces'
    figures (the peer comparison); ``files(folder) -> [paths]``, the files of the folder it reads
    (every other file must be read by another kind, describe the folder or be ignored on purpose:
    :func:`kpi_lib.inputs.mapping.account_for_files`; a kind without it is taken to read any file
    no other kind claims)."""

    name: str
    label: str
    detect: Callable[[Path], bool]
    read_into: Callable[[Path, Any, str], None] | None = None
    source: str = ""
    licence: str = ""
    public: bool = False
    gives_peers: bool = False
    files: Callable[[Path], list[Path]] | None = None


def _from(module: str, name: str) -> Callable:
    """A function of a reader module, imported when first called."""
    def call(*args):
        return getattr(importlib.import_module(f"kpi_lib.inputs.{module}"), name)(*args)
    call.__qualname__ = f"{module}.{name}"
    return call


BUILT_IN: tuple[InputKind, ...] = (
    InputKind("canonical", "force records", _from("canonical", "holds_tables"),
              files=_from("canonical", "table_files")),
    # the force's own extracts, read as canonical tables through mapping.yaml (kpi_lib.inputs.folder)
    InputKind("mapped", "the force's own extracts (mapped)", _from("mapping", "holds_mapping"),
              files=_from("mapping", "mapped_file_list")),
    InputKind("home_office", "Home Office open data tables", _from("homeoffice", "holds_tables"),
              _from("homeoffice", "read_into"),
              source="Home Office, police recorded crime and outcomes open data tables", licence=OGL,
              public=True, gives_peers=True, files=_from("homeoffice", "table_files")),
    InputKind("police_uk", "data.police.uk street files", _from("policeuk", "holds_tables"),
              _from("policeuk", "read_into"), source="data.police.uk street-level crime files",
              licence=OGL, public=True, files=_from("policeuk", "table_files")),
)
_KINDS: dict[str, InputKind] = {k.name: k for k in BUILT_IN}


def registered() -> dict[str, InputKind]:
    """Every input kind by name, in reading order."""
    return _KINDS


def register(kind: InputKind) -> InputKind:
    """Add (or replace) a kind; returns it."""
    registered()[kind.name] = kind
    return kind


def label(name: str) -> str:
    """The words for a kind (its name when it is not registered)."""
    kind = registered().get(name)
    return kind.label if kind else name


def licence_text(kinds: list[str]) -> str:
    """The licence line, naming only the public sources used ("" when none)."""
    used = [k.source for k in registered().values() if k.public and k.name in kinds]
    return f"{OGL} Source: {'; '.join(used)}." if used else ""
