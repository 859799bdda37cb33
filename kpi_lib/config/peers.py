"""Peer comparison settings and the population table, read and validated like any input.

The peer settings (``params/peers.yaml``, or the file named by the ``peers_file`` setting) say
which force the report is about and which forces it is compared with; the optional population
table (``population_file`` in that file, a CSV of ``force, population``) turns counts into rates
per 1,000 people. Both are checked before any figure is made, with one message naming the file,
the key or row and column, the value and what was expected:

- ``force`` and every ``group`` member must be forces of ``params/forces.yaml`` (any spelling a
  Home Office release uses); ``averaging`` is ``weighted`` or ``simple``; no other key is allowed;
- a relative ``population_file`` is read beside the settings file that names it (never from the
  folder the command happens to be run in);
- the population table has exactly the columns ``force`` and ``population`` (case and spaces
  aside), one row per known force, each a positive number, including the force and its group.

Every file named here is hashed by content for the panel cache key (:func:`peer_files`).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from kpi_lib.config.forces import canonical_force
from kpi_lib.core.errors import InputError, ParameterError
from kpi_lib.core.paths import params_file
from kpi_lib.core.safe_yaml import load_yaml
from kpi_lib.core.snapshot import open_bytes

KEYS = {"force": "the force's name, as in params/forces.yaml (e.g. 'West Mercia')",
        "group_name": "the comparison group's name (text)",
        "group": "a list of force names, as in params/forces.yaml",
        "averaging": "'weighted' or 'simple'",
        "population_file": "the path of a CSV of force, population (relative to this file), or null",
        "local_areas": "a list of the force's own local area names, or null"}
POPULATION_COLUMNS = ["force", "population"]


def peers_path(params: dict) -> Path:
    """The peer settings file a run uses (``peers_file``, else params/peers.yaml)."""
    given = params.get("peers_file")
    return Path(given) if given else params_file("peers.yaml")


def _force(path: Path, key: str, value: Any) -> str:
    name = canonical_force(str(value)) if isinstance(value, str) and value.strip() else None
    if name is None or name == "FRAUD":
        raise ParameterError(f"peer settings {path}: {key} is {value!r}, which is not a police force; "
                             f"expected {KEYS['force']}")
    return name


def read_peer_document(path: Path) -> dict:
    """The peer settings file, checked: known keys, known forces, a known averaging; the
    population file's path resolved beside this file; forces in their one spelling (params/forces.yaml)."""
    doc = load_yaml(path, what="peer comparison settings")
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ParameterError(f"peer settings {path}: expected a mapping of keys to values")
    unknown = [k for k in doc if k not in KEYS]
    if unknown:
        raise ParameterError(f"peer settings {path}: unknown key {unknown[0]!r}; expected keys "
                             + ", ".join(KEYS))
    if "force" not in doc:
        raise ParameterError(f"peer settings {path}: no 'force' key; expected {KEYS['force']}")
    force = _force(path, "force", doc["force"])
    group = doc.get("group") or []
    if not isinstance(group, list):
        raise ParameterError(f"peer settings {path}: group is {group!r}; expected {KEYS['group']}")
    group = [_force(path, "a member of group", member) for member in group]
    averaging = doc.get("averaging", "weighted")
    if averaging not in ("weighted", "simple"):
        raise ParameterError(f"peer settings {path}: averaging is {averaging!r}; expected {KEYS['averaging']}")
    out = {**doc, "force": force, "group": group}
    pop = doc.get("population_file")
    if pop is not None:
        if not isinstance(pop, str) or not pop.strip():
            raise ParameterError(f"peer settings {path}: population_file is {pop!r}; expected "
                                 f"{KEYS['population_file']}")
        resolved = (path.resolve().parent / pop).resolve()
        if not resolved.is_file():
            raise ParameterError(f"peer settings {path}: population_file {pop!r} not found (looked for "
                                 f"{resolved}, beside the settings file); expected {KEYS['population_file']}")
        out["population_file"] = str(resolved)
    return out


def population_path(params: dict) -> Path | None:
    """The population table the peer settings name (resolved), or None."""
    pop = read_peer_document(peers_path(params)).get("population_file")
    return Path(pop) if pop else None


def peer_files(params: dict) -> list[Path]:
    """Every file the peer settings bring in: the settings file and its population table."""
    path = peers_path(params)
    pop = population_path(params)
    return [path] + ([pop] if pop else [])


MAX_POPULATION_BYTES = 1_000_000


def _records(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, fields) of the population table's records: blank lines and ``#`` comment
    lines are not records (a source and year may be noted in a comment)."""
    with open_bytes(path) as fh:
        raw = fh.read(MAX_POPULATION_BYTES + 1)
    if len(raw) > MAX_POPULATION_BYTES:
        raise InputError(path.name, f"is over {MAX_POPULATION_BYTES:,} bytes", expected="a small CSV of force, population")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path.name, f"not UTF-8 text (byte {exc.start})", expected="a CSV saved as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    out = []
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return out
        except csv.Error as exc:
            raise InputError(path.name, f"not a CSV file ({exc})", expected="a CSV of force, population") from None
        if not record or not "".join(record).strip() or record[0].lstrip().startswith("#"):
            continue
        out.append((line, record))


def read_population(path: Path, needed: list[str]) -> dict[str, float]:
    """The population table: force (its one spelling) -> people, checked like an input: exactly
    the columns force and population (case and spaces aside, each once), a known force and a
    positive number on every row, each force once, and the ``needed`` forces present. Errors name
    the file, the row, its line, the column and the value."""
    file = path.name
    records = _records(path)
    if not records:
        raise InputError(file, "is empty", expected="a header force, population and a row per force")
    _, header = records[0]
    names = [" ".join(h.replace("\ufeff", "").split()).lower() for h in header]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise InputError(file, f"the column {n!r} appears twice in the header: column {names.index(n) + 1} "
                             f"and column {i + 1}", column=header[i].strip(), expected="each column once")
    unknown = [h for h, n in zip(header, names, strict=True) if n not in POPULATION_COLUMNS]
    if unknown or len(names) != 2:
        raise InputError(file, f"unknown column {unknown[0].strip()!r}" if unknown else "missing a column",
                         column=unknown[0].strip() if unknown else None,
                         expected="exactly the columns force, population")
    at = {n: i for i, n in enumerate(names)}
    table: dict[str, float] = {}
    for row, (line, record) in enumerate(records[1:], start=1):
        def bad(column: str, problem: str, expected: str, record: list[str] = record, row: int = row,
                line: int = line) -> InputError:
            value = record[at[column]] if at[column] < len(record) else None
            return InputError(file, problem, row=row, line=line, column=column, value=value, expected=expected)
        if len(record) != 2:
            raise bad("force", f"{len(record)} fields on this row", "two fields: force, population")
        force = canonical_force(record[at["force"]])
        if force is None or force == "FRAUD":
            raise bad("force", "not a police force", "a force named as in params/forces.yaml")
        try:
            people = float(record[at["population"]].strip().replace(",", ""))
        except ValueError:
            people = math.nan
        if not (math.isfinite(people) and people > 0):
            raise bad("population", "not a positive number", "the number of people the force serves")
        if force in table:
            raise bad("force", "force listed twice", "one row per force")
        table[str(force)] = people
    missing = [f for f in needed if f not in table]
    if missing:
        raise InputError(file, f"no population for {', '.join(missing)}",
                         expected="a row for the force and every force of its comparison group")
    return table


def load_peer_settings(params: dict) -> dict:
    """Peer settings (validated) and, when they name one, the population table (force ->
    population, validated): ``{"settings": ..., "populations": ... or None}``."""
    path = peers_path(params)
    settings = read_peer_document(path)
    populations = None
    if settings.get("population_file"):
        populations = read_population(Path(settings["population_file"]), [settings["force"], *settings["group"]])
    return {"settings": settings, "populations": populations}


def peer_force(params: dict) -> str:
    """The force the peer settings are about (canonical name)."""
    return read_peer_document(peers_path(params))["force"]


__all__ = ["load_peer_settings", "peer_files", "peer_force", "peers_path", "read_peer_document",
           "read_population"]
