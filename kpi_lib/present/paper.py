"""The Panel paper around the figures: the sections an agenda paper of a Police and Crime Panel has
(Recommendation, Background, the accountability route, Implications, Contact points, Background
papers), in the words of the ``panel_paper`` settings, with the force's and the Panel's names
filled in.

Every builder is pure (settings and names in, HTML out) and escapes every string. The words never
describe the suite: they are the paper's words, as an officer would write them.
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kpi_lib.core.periods import Period

DEFAULT_FORCE = "the force"
#: the order of a Panel paper's implications (any others follow, alphabetically)
IMPLICATIONS_ORDER = ("Risk management", "Financial", "Legal", "Equality")


@dataclass(frozen=True)
class PaperNames:
    """The names the paper's text may use: {force}, {panel}, {commissioner}, {year}, {period}."""

    force: str
    panel: str
    commissioner: str
    year: str
    period: str

    def fill(self, text: str) -> str:
        """``text`` with its placeholders filled (an unknown one is left as written)."""
        values = {"force": self.force, "panel": self.panel, "commissioner": self.commissioner,
                  "year": self.year, "period": self.period}
        out = []
        for literal, name, spec, _conv in string.Formatter().parse(text):
            out.append(literal)
            if name is not None:
                out.append(values[name] if name in values else "{" + name + (f":{spec}" if spec else "") + "}")
        return "".join(out)


def paper_names(params: Mapping[str, Any], period: Period, data_force: str | None = None) -> PaperNames:
    """The names for a run: the force from ``panel_paper.force``, else the name given with the
    inputs (``data_force``), else "the force"."""
    paper = params.get("panel_paper") or {}
    force = paper.get("force") or (data_force or "").strip() or DEFAULT_FORCE
    return PaperNames(force=force, panel=str(params.get("panel_name") or "Police and Crime Panel"),
                      commissioner=str(paper.get("commissioner") or "Police and Crime Commissioner"),
                      year=period.fy_label, period=period.label)


def _paragraphs(texts, names: PaperNames, start: int | None = None) -> str:
    e = html.escape
    return "".join(f'<p class="para">{e(names.fill(str(t)))}</p>' for t in texts)


def recommendation_html(params: Mapping[str, Any], names: PaperNames) -> str:
    """The Recommendation, as the paper states it (default: "Members of the Panel are invited to
    consider this report.")."""
    paper = params.get("panel_paper") or {}
    text = paper.get("recommendation") or "Members of the Panel are invited to consider this report."
    return (f'<section class="paper recommendation" aria-labelledby="recommendation">'
            f'<h2 id="recommendation">Recommendation</h2>{_paragraphs([text], names)}</section>')


def background_html(params: Mapping[str, Any], names: PaperNames, coverage: str = "") -> str:
    """Background: the purpose of the report (settings), then what the KPIs are (computed from
    the catalogue by the caller, ``coverage``)."""
    paper = params.get("panel_paper") or {}
    body = _paragraphs(paper.get("background") or [], names)
    if coverage:
        body += f'<p class="para">{html.escape(coverage)}</p>'
    return f'<h2 id="background">Background</h2>{body}'


def accountability_html(params: Mapping[str, Any], names: PaperNames) -> str:
    """The accountability route: how the Commissioner holds the Chief Constable to account for
    these KPIs (settings)."""
    paper = params.get("panel_paper") or {}
    return ('<h2 id="accountability">Assurance and accountability</h2>'
            + _paragraphs(paper.get("accountability") or [], names))


def implications_html(params: Mapping[str, Any], names: PaperNames) -> str:
    """Implications (risk management, financial, legal, equality), each under its own heading."""
    e = html.escape
    paper = params.get("panel_paper") or {}
    given = dict(paper.get("implications") or {})
    order = [k for k in IMPLICATIONS_ORDER if k in given] + sorted(k for k in given if k not in IMPLICATIONS_ORDER)
    items = "".join(f"<div><dt>{e(names.fill(str(k)))} implications</dt><dd>{e(names.fill(str(given[k])))}</dd></div>"
                    for k in order)
    return f'<h2 id="implications">Implications</h2><dl class="implications">{items}</dl>'


def contacts_html(params: Mapping[str, Any], names: PaperNames) -> str:
    """Contact points for the report, and the background papers line."""
    e = html.escape
    paper = params.get("panel_paper") or {}
    items = []
    for c in paper.get("contacts") or []:
        who = ", ".join(names.fill(str(c[k])) for k in ("name", "role", "organisation") if c.get(k))
        reach = []
        if c.get("phone"):
            reach.append(f"Tel: {e(str(c['phone']))}")
        if c.get("email"):
            mail = str(c["email"])
            reach.append(f'Email: <a href="mailto:{e(mail)}">{e(mail)}</a>')
        items.append(f"<li><strong>For {e(names.fill(str(c['represents'])))}:</strong> {e(who)}"
                     + (f"<br>{'; '.join(reach)}" if reach else "") + "</li>")
    papers = paper.get("background_papers") or ""
    return ('<h2 id="contacts">Contact points for the report</h2>'
            + (f'<ul class="contacts">{"".join(items)}</ul>' if items else "")
            + (f'<h3 id="background-papers">Background papers</h3><p class="para">{e(names.fill(papers))}</p>'
               if papers else ""))
