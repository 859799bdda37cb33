"""Output formats: what a run writes from its executed notebooks and results, one registration each.

Each format module declares one :class:`OutputFormat` (``FORMAT``) and is listed once in
:data:`FORMATS`; the runner and ``kpi render`` loop over the registry and name no format. A new
format is a module with a ``write(context)`` function and one line here, or, at run time,
:func:`register`. Formats are written in registry order, so a format that reads another's file
(the PDF prints the HTML page) comes after it. An ``optional`` format that fails leaves a note in
the manifest instead of failing the run (the PDF, when Chromium cannot print).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kpi_lib.core.errors import KpiError


@dataclass
class RenderContext:
    """What every format may read: the run folder (``notebooks/``, ``results/``), the report's
    title block, the family names in report order, and the files written so far (by format)."""

    folder: Path
    meta: dict
    families: list[str]
    written: dict[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputFormat:
    """``name`` (as on the command line), ``label`` (for people), ``filename`` (in the run folder),
    ``write(context) -> path``, and whether a failure is only a note (``optional``)."""

    name: str
    label: str
    filename: str
    write: Callable[[RenderContext], Path]
    optional: bool = False


def _builtin() -> list[OutputFormat]:
    from kpi_lib.present.formats import html, pdf, spreadsheet
    return [html.FORMAT, spreadsheet.FORMAT, pdf.FORMAT]


FORMATS: dict[str, OutputFormat] = {}


def register(fmt: OutputFormat) -> OutputFormat:
    """Add (or replace) a format; returns it, so a module can write ``FORMAT = register(...)``."""
    registered()[fmt.name] = fmt
    return fmt


def registered() -> dict[str, OutputFormat]:
    """Every format, by name, in the order they are written (the built-in ones first)."""
    if not FORMATS:
        FORMATS.update({f.name: f for f in _builtin()})
    return FORMATS


def known(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` checked against the registry (a KpiError naming the formats otherwise)."""
    names = tuple(dict.fromkeys(names))
    unknown = [n for n in names if n not in registered()]
    if unknown:
        raise KpiError(f"unknown output format {', '.join(unknown)}; the formats are "
                       f"{', '.join(registered())}")
    return names


def write_all(folder: Path, meta: dict, families: list[str], skip: Iterable[str] = ()) -> dict[str, str | None]:
    """Write every registered format not in ``skip`` into ``folder``. Returns, per format written
    or tried, None when written, or the note explaining why an optional one was not."""
    skip = known(skip)
    context = RenderContext(Path(folder), meta, families)
    notes: dict[str, str | None] = {}
    for name, fmt in registered().items():
        if name in skip:
            continue
        try:
            context.written[name] = fmt.write(context)
            notes[name] = None
        except KpiError as exc:
            if not fmt.optional:
                raise
            notes[name] = str(exc)
    return notes


LEFT_OUT = "left out"


def record(notes: dict[str, str | None]) -> dict[str, str]:
    """What a run's manifest says of each format, from :func:`write_all`'s notes: its file name
    when written, the note when an optional one failed, "left out" when it was not asked for."""
    return {name: fmt.filename if name in notes and notes[name] is None else notes.get(name) or LEFT_OUT
            for name, fmt in registered().items()}


def failures(recorded: dict[str, str]) -> dict[str, str]:
    """From a manifest's record (:func:`record`): the formats asked for but not written, with why."""
    formats = registered()
    return {name: what for name, what in recorded.items()
            if what != LEFT_OUT and (name not in formats or what != formats[name].filename)}
