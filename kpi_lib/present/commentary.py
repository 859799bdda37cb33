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
file is shown as text, never run. The report never reaches the network: an image is embedded
(as a ``data:`` URI) only when it is a PNG, JPEG, GIF or WebP file of at most
:data:`MAX_IMAGE_BYTES` in the commentary's own folder; any other image (a web address, a file
elsewhere, too large, not an image) is shown as text saying why. Links to anything but a place in
the report are shown as text with their address, so no reader's browser is sent anywhere.

Errors are one readable :class:`~kpi_lib.core.errors.ParameterError` naming the file, the line, the
value and what was expected: a KPI id that is not in the catalogue, commentary with no section
for this report's period, text outside a KPI section, or a KPI given twice.
"""

from __future__ import annotations

import base64
import difflib
import html
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from markdown_it import MarkdownIt

from kpi_lib.core.errors import ParameterError

MAX_BYTES = 1_000_000  # a commentary file (docs/guarantees.md: 1 MB)
MAX_IMAGE_BYTES = 1_000_000  # one image embedded in the report
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF87a": "image/gif",
               b"GIF89a": "image/gif"}


@dataclass(frozen=True)
class Commentary:
    """One KPI's commentary for one period: the Markdown as written, the safe HTML, and the line
    of its heading in the file (for messages)."""

    kpi_id: str
    markdown: str
    html: str
    line: int


def _image_type(head: bytes) -> str | None:
    for magic, mime in IMAGE_TYPES.items():
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_source(src: str, base: Path | None) -> tuple[str | None, str]:
    """A ``data:`` URI for a local image, or None and why it is not shown. Only files in the
    commentary's folder (or below it) are read: a web address would be fetched by every reader's
    browser and by the PDF printer; a file elsewhere could be anything on the machine."""
    if "://" in src or src.startswith(("//", "data:", "file:", "mailto:")) or ":" in src.split("/")[0]:
        return None, "only image files beside the commentary are shown, not web addresses"
    if base is None:
        return None, "the commentary's folder is not known"
    folder = base.resolve()
    path = (folder / src).resolve()
    if folder != path and folder not in path.parents:
        return None, "only image files in the commentary's folder are shown"
    if not path.is_file():
        return None, "no such file beside the commentary"
    size = path.stat().st_size
    if size > MAX_IMAGE_BYTES:
        return None, f"the file is {size:,} bytes; the limit is {MAX_IMAGE_BYTES:,}"
    data = path.read_bytes()[:MAX_IMAGE_BYTES + 1]
    mime = _image_type(data[:16])
    if mime is None:
        return None, "not a PNG, JPEG, GIF or WebP image"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}", ""


def _image(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    src = str(token.attrGet("src") or "")
    uri, why = image_source(src, env.get("base"))
    if uri is None:
        text = lambda t: html.escape(t, quote=False)  # noqa: E731 - text content, not an attribute
        return (f'<span class="commentary-image-omitted">[image not shown: {text(alt or "no description")} '
                f"({text(src)}): {text(why)}]</span>")
    return f'<img src="{uri}" alt="{html.escape(alt, quote=True)}">'


def _link_open(self, tokens, idx, options, env) -> str:
    href = str(tokens[idx].attrGet("href") or "")
    inside = href.startswith("#")
    env.setdefault("links", []).append((href, inside, tokens[idx].markup == "autolink"))
    return f'<a href="{html.escape(href, quote=True)}">' if inside else ""


def _link_close(self, tokens, idx, options, env) -> str:
    href, inside, auto = env["links"].pop()
    if inside:
        return "</a>"
    return "" if auto else f' <span class="commentary-link-address">({html.escape(href, quote=False)})</span>'


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.add_render_rule("image", _image)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("link_close", _link_close)
    return md


def parse_commentary(text: str, period_label: str, known_kpis: Iterable[str],
                     source: str = "commentary.md", base: Path | None = None) -> dict[str, Commentary]:
    """The commentary for ``period_label`` from the text of a commentary file, by KPI id
    (``base``: the file's folder, where its images are)."""
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
        out[kpi_id] = Commentary(kpi_id, body, md.render(body, {"base": base}), ln + 1)
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
    return parse_commentary(text, period_label, known_kpis, source=p.name, base=p.parent)


def missing_commentary(results: pd.DataFrame, commentary: dict[str, Commentary]) -> list[str]:
    """KPI ids for the Panel's attention (:func:`kpi_lib.analyse.verdicts.flagged`: worse than last
    year, missing target, unusual on the chart or a steady trend the wrong way; not "too early")
    that have no commentary, to be listed as "no commentary given", in the results' order."""
    from kpi_lib.analyse.verdicts import flagged

    if "verdict_code" not in results:
        return []
    f = flagged(results)
    listed = f.loc[f["attention"] != "too_early", "kpi_id"]
    return [k for k in dict.fromkeys(listed) if k not in commentary]
