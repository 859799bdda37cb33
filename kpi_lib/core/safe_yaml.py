"""Bounded, unambiguous YAML reading for every file the suite loads (parameters, annotations,
the catalogue and category tables, ``metadata.yaml``).

PyYAML's safe loader still expands aliases, so a file of a few hundred bytes can describe
gigabytes (the "billion laughs" alias bomb), and it lets a repeated key silently win. Here:

- a file over ``max_bytes`` (1 MB by default) is refused before it is read;
- anchors and aliases (``&name`` / ``*name``) are refused at the first one, before anything is
  expanded, so memory stays bounded by the file size;
- nesting deeper than ``MAX_DEPTH`` levels is refused (no recursion errors);
- a key given twice in one mapping is refused (no silent choice between the two values);
- the path must be a regular file (a folder, a missing file or bad UTF-8 is one clear error).

Every refusal is one ``ParameterError`` naming the file (and line where there is one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kpi_lib.core.errors import ParameterError

MAX_BYTES = 1_000_000
MAX_DEPTH = 50


class _Refused(Exception):
    """Raised inside the loader; turned into a ParameterError naming the file."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.problem, self.mark = problem, mark


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when installed (fast)


def _scan(text: str) -> None:
    """Walk the parser's event stream (constant memory, nothing is built) and refuse anchors,
    aliases and deep nesting before a single node is composed."""
    depth = 0
    for event in yaml.parse(text, Loader=_Base):
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(f"uses the alias *{event.anchor}; aliases are not allowed (write the value out)",
                           event.start_mark)
        if getattr(event, "anchor", None):
            raise _Refused(f"defines the anchor &{event.anchor}; anchors and aliases are not allowed",
                           event.start_mark)
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _Refused(f"is nested more than {MAX_DEPTH} levels deep", event.start_mark)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class _NoDuplicatesLoader(_Base):  # type: ignore[misc, valid-type]
    """The safe loader, refusing a key given twice in one mapping."""

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:  # an unhashable key: the safe loader gives its own clear error
                    continue
                if duplicate:
                    raise _Refused(f"gives the key {key!r} twice in one mapping", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def _where(path: Path, mark: yaml.Mark | None) -> str:
    return f"{path}, line {mark.line + 1}" if mark is not None else str(path)


def load_yaml(path: str | Path, *, what: str, max_bytes: int = MAX_BYTES) -> Any:
    """The YAML document in ``path`` (``None`` when empty), read with the limits above.

    ``what`` names the file for the reader of an error ("parameter file", "metadata.yaml", ...).
    """
    p = Path(path)
    if not p.exists():
        raise ParameterError(f"{what} not found: {p}")
    if p.is_dir():
        raise ParameterError(f"{what} {p} is a folder; expected a YAML file")
    if not p.is_file():
        raise ParameterError(f"{what} {p} is not a regular file; expected a YAML file")
    from kpi_lib.core.snapshot import size_of
    size = size_of(p)
    if size > max_bytes:
        raise ParameterError(f"{what} {p} is {size:,} bytes; the limit is {max_bytes:,} bytes")
    from kpi_lib.core.snapshot import open_bytes  # the run's hashed copy, when it holds the file
    with open_bytes(p) as fh:
        raw = fh.read(max_bytes + 1)
    if len(raw) > max_bytes:  # it grew while we looked
        raise ParameterError(f"{what} {p} is over the limit of {max_bytes:,} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{what} {p}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        _scan(text)
        loader = _NoDuplicatesLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _Refused as exc:
        raise ParameterError(f"{what} {_where(p, exc.mark)}: {exc.problem}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ParameterError(f"{what} {_where(p, mark)}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ParameterError(f"{what} {p}: not valid YAML: {exc}") from None


__all__ = ["MAX_BYTES", "MAX_DEPTH", "load_yaml"]
