"""Force commentary: what the force says about each KPI this quarter, written by analysts in a
Markdown file beside the inputs (``commentary.md``) and shown beside the KPI's figures.

The file has a first-level heading naming the period, then a second-level heading per KPI id::

    # 2024/25 Q4

    ## rape_volume
    The rise follows the Operation Soteria campaign ...

    ## calls_101_within_30s
    ...

A file may hold several periods (one ``#`` heading each); only this report's period is used.
Markdown is rendered with markdown-it-py with raw HTML disabled, so any HTML or script in the
file is shown as text, never run; links are limited to markdown-it's safe schemes.

Errors are one readable :class:`~kpi_lib.core.errors.ParameterError` naming the file, the line, the
value and what was expected: a KPI id that is not in the catalogue, commentary with no section
for this report's period, text outside a KPI section, or a KPI given twice.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from markdown_it import MarkdownIt

from kpi_lib.core.errors import ParameterError

MAX_BYTES = 200_000


@dataclass(frozen=True)
class Commentary:
    """One KPI's commentary for one period: the Markdown as written, the safe HTML, and the line
    of its heading in the file (for messages)."""

    kpi_id: str
    markdown: str
    html: str
    line: int


def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def render_markdown(text: str) -> str:
    """Markdown to HTML with raw HTML shown as text (never passed through)."""
    return _renderer().render(text)


def parse_commentary(text: str, period_label: str, known_kpis: Iterable[str],
                     source: str = "commentary.md") -> dict[str, Commentary]:
    """The commentary for ``period_label`` from the text of a commentary file, by KPI id."""
    known = list(known_kpis)
    md = _renderer()
    lines = text.splitlines()
    tokens = md.parse(text)
    headings: list[tuple[int, int, str]] = []  # (level, line index, text)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.tag in ("h1", "h2") and tok.map:
            headings.append((int(tok.tag[1]), tok.map[0], tokens[i + 1].content.strip()))
    periods = [(ln, t) for lvl, ln, t in headings if lvl == 1]
    if not periods:
        raise ParameterError(f"{source}: no period heading: expected a first line such as "
                             f"'# {period_label}' before the KPI sections")
    first_body = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first_body is not None and first_body < periods[0][0]:
        raise ParameterError(f"{source}, line {first_body + 1}: text before the first period heading; "
                             f"expected '# {period_label}' first")
    norm = lambda s: " ".join(s.replace("-", " ").split()).lower()  # noqa: E731
    mine = [(ln, t) for ln, t in periods if norm(t) == norm(period_label)]
    if not mine:
        found = ", ".join(repr(t) for _, t in periods)
        raise ParameterError(f"{source}: commentary is written for {found}, but this report is for "
                             f"{period_label!r}: add a '# {period_label}' section, or give this "
                             "period's commentary file")
    if len(mine) > 1:
        raise ParameterError(f"{source}, line {mine[1][0] + 1}: a second section for {period_label}")
    start = mine[0][0]
    end = next((ln for ln, _ in periods if ln > start), len(lines))
    sections = [(ln, t) for lvl, ln, t in headings if lvl == 2 and start < ln < end]
    body_before = [i for i in range(start + 1, sections[0][0] if sections else end) if lines[i].strip()]
    if body_before:
        raise ParameterError(f"{source}, line {body_before[0] + 1}: text outside a KPI section; "
                             "expected a '## <kpi id>' heading first")
    out: dict[str, Commentary] = {}
    for j, (ln, kpi_id) in enumerate(sections):
        if kpi_id not in known:
            near = difflib.get_close_matches(kpi_id, known, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ParameterError(f"{source}, line {ln + 1}: unknown KPI id {kpi_id!r}{hint}; expected "
                                 "one of the ids listed by `kpi list`")
        if kpi_id in out:
            raise ParameterError(f"{source}, line {ln + 1}: {kpi_id!r} has a second section for "
                                 f"{period_label} (first at line {out[kpi_id].line})")
        stop = sections[j + 1][0] if j + 1 < len(sections) else end
        body = "\n".join(lines[ln + 1:stop]).strip()
        if not body:
            raise ParameterError(f"{source}, line {ln + 1}: the section for {kpi_id!r} is empty")
        out[kpi_id] = Commentary(kpi_id, body, md.render(body), ln + 1)
    return out


def load_commentary(path: str | Path | None, period_label: str,
                    known_kpis: Iterable[str]) -> dict[str, Commentary]:
    """The commentary for this period from ``path`` (None: no commentary, an empty mapping)."""
    if path is None or str(path) == "":
        return {}
    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"commentary file not found: {p.name}")
    if p.stat().st_size > MAX_BYTES:
        raise ParameterError(f"{p.name}: {p.stat().st_size:,} bytes; expected at most {MAX_BYTES:,}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{p.name}: not UTF-8 text (byte {exc.start})") from None
    return parse_commentary(text, period_label, known_kpis, source=p.name)


def missing_commentary(results: pd.DataFrame, commentary: dict[str, Commentary]) -> list[str]:
    """KPI ids whose headline verdict is "worse" and that have no commentary (to be listed as
    "no commentary given"), in the results' order."""
    if "verdict_code" not in results:
        return []
    head = results[results["headline"].astype(bool)]
    worse = head.loc[head["verdict_code"].astype(str) == "worse", "kpi_id"]
    return [k for k in dict.fromkeys(worse) if k not in commentary]
