"""Turn executed notebooks into the Panel's report: one self-contained HTML file (nbconvert with
the project's own ``panel`` template), an Excel workbook of the KPI table and summary, and a PDF
printed from the HTML by headless Chromium. The renderer never computes a figure."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pandas as pd
from nbconvert import HTMLExporter

from kpi_lib.analyse.columns import SPC_POINTS, read_csv
from kpi_lib.config.catalogue import run_catalogue
from kpi_lib.core.errors import KpiError
from kpi_lib.core.io import write_atomic
from kpi_lib.core.kernel import collector_paused
from kpi_lib.inputs.kinds import licence_text
from kpi_lib.present.narrative import format_value
from kpi_lib.present.summary import plain_name, summary_table
from kpi_lib.present.views import FAMILY_TITLES, heading_html

TEMPLATES = Path(__file__).resolve().parent / "templates"
HIDDEN_TAGS = {"parameters", "injected-parameters", "notebook-only", "explore"}
#: Chromium prints with no way out to the network: every request that is not ``file:`` or
#: ``data:`` goes to a proxy that does not exist (loopback included) and no host name resolves,
#: so a remote image can neither be fetched nor make the printing wait.
NO_NETWORK_FLAGS = ["--proxy-server=socks5://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                    "--host-resolver-rules=MAP * ~NOTFOUND"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-extensions", "--disable-default-apps", *NO_NETWORK_FLAGS]
#: The report's own rule for every browser that opens it: images, styles and fonts only from the
#: page itself or ``data:`` URIs; no scripts, frames, forms or connections.
CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
                           "base-uri 'none'; form-action 'none'")


def find_chromium() -> str | None:
    """Debian's chromium (or another Chromium on PATH); KPI_CHROMIUM overrides."""
    env = os.environ.get("KPI_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def combine(report_nb: Path, family_nbs: list[Path]) -> nbformat.NotebookNode:
    """The report notebook with each executed family notebook inserted where the report's cell
    tagged ``families-go-here`` stands (before Methods), each opened by the family's heading and
    introduction (as the family declares them), and the family cells tagged ``appendix`` after
    the report's own appendices, before its cell tagged ``annex`` (the annex for officers, which
    ends the report; at the end when there is none). Parameter cells, cells tagged
    ``notebook-only`` (guidance for someone running the notebook) and code cells with nothing to
    show are left out."""
    nb = nbformat.read(report_nb, as_version=4)
    nb.cells = [c for c in nb.cells if (c.cell_type != "code" or c.get("outputs"))
                and not HIDDEN_TAGS & set(c.metadata.get("tags", [])) - {"parameters", "injected-parameters"}]
    at = next((i for i, c in enumerate(nb.cells) if "families-go-here" in c.metadata.get("tags", [])),
              len(nb.cells))
    inserted, appendix = [], []
    for path in family_nbs:
        fam = nbformat.read(path, as_version=4)
        heading = nbformat.v4.new_markdown_cell(heading_html(path.stem))
        heading.id = f"{path.stem}-heading"
        inserted.append(heading)
        for cell in fam.cells:
            if HIDDEN_TAGS & set(cell.metadata.get("tags", [])):
                continue
            if cell.cell_type == "code" and not cell.get("outputs"):
                continue  # nothing to show (and an empty block would let a heading be orphaned)
            cell.id = f"{path.stem}-{len(inserted) + len(appendix)}"  # unique across the combined notebook
            (appendix if "appendix" in cell.metadata.get("tags", []) else inserted).append(cell)
    nb.cells[at:at] = inserted
    annex = next((i for i, c in enumerate(nb.cells) if "annex" in c.metadata.get("tags", [])), len(nb.cells))
    nb.cells[annex:annex] = appendix  # a family's appendix cells (e.g. local areas)
    return nb


def sections(period_is_year: bool, families: list[str]) -> list[tuple[str, str]]:
    """The sections a report normally has (id, title). The contents list itself is built from the
    rendered headings by :func:`finish_html`, so it can never point at a missing section; this list
    is kept for callers that want the expected order."""
    out = [("summary", "Is it real? The budget KPIs at a glance"), ("table1", "The budget KPIs in the Table 1 layout")]
    if period_is_year:
        out.append(("year", "The year against the previous year"))
    out += [(f"family-{f}", FAMILY_TITLES[f]) for f in families]
    out.append(("methods", "How the figures are made"))
    return out


def css_string(text: str) -> str:
    """A CSS string literal for ``content:`` (quotes, backslashes and ``<`` escaped)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3c ")
    return f'"{out}"'


def finish_html(body: str) -> str:
    """Make the exported page hold together for a reader: drop the notebook's hidden anchor links,
    give every element a unique id (later duplicates get -2, -3, ...), link each KPI's card to the
    force's commentary on it (when there is some), and fill the contents list from the section
    headings (``h2`` with an id inside ``main``) so each entry lands on a visible heading."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body, "html.parser")
    if soup.head is not None:  # first in the head, so it governs everything after it
        soup.head.insert(0, soup.new_tag("meta", attrs={"http-equiv": "Content-Security-Policy",
                                                        "content": CONTENT_SECURITY_POLICY}))
    for a in soup.select("a.anchor-link"):
        a.decompose()
    taken = {el["id"] for el in soup.find_all(id=True)}  # an id an element already has stays its own
    seen: set[str] = set()
    for el in soup.find_all(id=True):
        i = el["id"]
        if i in seen:
            n = 2
            while f"{i}-{n}" in taken:
                n += 1
            el["id"] = f"{i}-{n}"
            taken.add(el["id"])
        seen.add(el["id"])
    for h in soup.select('h3[id^="commentary-"]'):
        card = soup.find(id=f"kpi-{h['id'][len('commentary-'):]}")
        if card is not None:
            p = soup.new_tag("p", attrs={"class": "commentary-link"})
            a = soup.new_tag("a", href=f"#{h['id']}")
            a.string = "What the force says about this"
            p.append(a)
            card.insert_after(p)
    for h in soup.find_all(["h1", "h2", "h3", "h4"]):
        # one line of text each, so that the PDF's bookmarks never run words together
        for text in h.find_all(string=True):
            if re.search(r"\s\s|\n", text):
                text.replace_with(re.sub(r"\s+", " ", text))
    main = soup.find("main")
    olist = soup.find(id="contents-list")
    if main is not None and olist is not None:
        for h in main.find_all("h2"):
            if not h.get("id"):
                continue
            li = soup.new_tag("li")
            a = soup.new_tag("a", href=f"#{h['id']}")
            a.string = h.get_text(" ", strip=True)
            li.append(a)
            page = soup.new_tag("span", attrs={"class": "page-no", "data-for": h["id"]})
            li.append(page)
            olist.append(li)
        # the contents follow the opening section (key messages and the recommendation) when the
        # report has one, so that a reader meets the messages first
        anchor = soup.find(id="recommendation")
        nav = olist.find_parent("nav")
        section = anchor.find_parent("section") if anchor is not None else None
        if section is not None and nav is not None:
            holder = section
            while holder.parent is not None and holder.parent is not main and \
                    not (holder.parent.get("class") and "jp-Cell" in holder.parent.get("class")):
                holder = holder.parent
            cell = holder.parent if holder.parent is not None and holder.parent is not main else holder
            cell.insert_after(nav.extract())
    return str(soup)


def cover_names(inputs: dict, panel_info: Path, period: str) -> dict:
    """The names on the cover: the Panel, the force (``panel_paper`` settings, else the name
    given with the inputs) and the meeting date, when the settings give one."""
    import json

    from kpi_lib.core.periods import Period
    from kpi_lib.present.paper import paper_names
    params = inputs.get("parameters") or {}
    force = json.loads(panel_info.read_text(encoding="utf-8")).get("force") if panel_info.exists() else None
    try:
        p = Period.parse(period)
    except Exception:  # noqa: BLE001 - a cover without a period still names the Panel
        return {}
    names = paper_names(params, p, force)
    out = {"force": "" if names.force == "the force" else names.force}
    if params.get("panel_name"):
        out["panel"] = names.panel
    meeting = (params.get("panel_paper") or {}).get("meeting_date")
    if meeting:
        out["meeting_date"] = str(meeting)
    return out


def render_html(nb: nbformat.NotebookNode, meta: dict, out: Path) -> Path:
    """Render with the ``panel`` template: no code, no prompts, alt text kept, nothing remote.
    The licence line names only the public sources the run used (from its inputs.json)."""
    import json
    meta = dict(meta)
    record = Path(out).parent / "inputs.json"
    inputs = json.loads(record.read_text(encoding="utf-8")) if record.exists() else {}
    if meta.get("public_data") and record.exists():
        meta["licence"] = licence_text(list(inputs.get("input_kinds", [])))
    meta.update(cover_names(inputs, Path(out).parent / "results" / "panel.json", meta.get("period", "")))
    meta["print_header_css"] = css_string(f"{meta.get('title', 'Budget KPI metrics report')}: {meta.get('period', '')}")
    meta["print_marking_css"] = css_string("SYNTHETIC SAMPLE DATA" if meta.get("synthetic") else "")
    nb.metadata["kpi_report"] = meta
    nb.metadata["title"] = f"{meta.get('title', 'Budget KPI metrics report')}: {meta.get('period', '')}"
    exporter = HTMLExporter(template_name="panel", extra_template_basedirs=[str(TEMPLATES)])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    with collector_paused():  # the page and its parse tree: a third of the time otherwise
        body, _ = exporter.from_notebook_node(nb, resources={"language_code": "en"})
        page = finish_html(body)
    write_whole(out, page)
    return out


def write_whole(path: Path, content) -> Path:
    """:func:`kpi_lib.core.io.write_atomic`, with a full disk (or any OS error) as one KpiError
    naming the file: the temporary file is gone and the previous file is as it was."""
    try:
        return write_atomic(path, content, suffix=".pdf" if Path(path).suffix == ".pdf" else ".tmp")
    except OSError as exc:
        raise KpiError(f"could not write {Path(path).name} in {Path(path).parent}: {exc.strerror or exc}; "
                       "the previous file (if any) is unchanged") from None


def write_excel(results: pd.DataFrame, out: Path, spc: pd.DataFrame | None = None) -> Path:
    """kpis.xlsx (see :mod:`kpi_lib.present.excel`): About, Summary (Table 1 layout), KPI results and SPC
    points. The SPC points are read from ``results/spc.csv`` beside ``out`` when not given."""
    from kpi_lib.present.excel import write_workbook

    if spc is None:
        path = Path(out).parent / "results" / "spc.csv"
        spc = read_csv(path, SPC_POINTS) if path.exists() else None
    if spc is not None and "unit" not in spc and "unit" in results:
        units = results.drop_duplicates("kpi_id").set_index("kpi_id")["unit"]
        spc = spc.assign(unit=spc["kpi_id"].map(units))
    catalogue = run_catalogue(Path(out).parent)
    summary = summary_table(results, catalogue)
    summary["target"] = summary["kpi_id"].map(
        {k.id: format_value(k.target, k.unit) for k in catalogue if k.target is not None}).fillna("")
    outlook = outlook_text(results, catalogue)
    summary["outlook"] = [outlook.get(k, "") for k in summary["kpi_id"]]
    names = {k.id: plain_name(k) for k in catalogue}
    return write_workbook(results, out, summary=summary, spc=spc, names=names, params=run_params(Path(out).parent))


def run_params(out_dir: Path) -> dict:
    """The settings of the run in ``out_dir`` (inputs.json), else the default settings."""
    import json

    inputs = Path(out_dir) / "inputs.json"
    if inputs.exists():
        params = json.loads(inputs.read_text(encoding="utf-8")).get("parameters")
        if params is not None:
            return params
    from kpi_lib.config.settings import load_settings
    return load_settings().as_params()


def outlook_text(results: pd.DataFrame, catalogue) -> dict[str, str]:
    """KPI id -> its year-end outlook in words ("88.5% (80% range 87.9% to 89.1%); likely to
    meet the target (p = 0.93)"), for the KPIs that have one."""
    from kpi_lib.analyse.outlook import outlook_words
    cat = {k.id: k for k in catalogue}
    out = {}
    if "outlook_value" not in results:
        return out
    head = results[results["headline"].astype(bool) & results["outlook_value"].notna()]
    for _, r in head.iterrows():
        k = cat.get(r["kpi_id"])
        if k is None:
            continue
        out[k.id] = (f"{format_value(r['outlook_value'], k.unit)} (80% range {format_value(r['outlook_low'], k.unit)} "
                     f"to {format_value(r['outlook_high'], k.unit)}); {outlook_words(r['outlook_p_meet'])}")
    return out


def section_pages(pdf_path: Path) -> dict[str, int]:
    """The page (1-based) of each top-level section's bookmark in a printed report, by title."""
    import pypdf

    reader = pypdf.PdfReader(pdf_path)
    out: dict[str, int] = {}

    def walk(items, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            elif depth <= 1:
                out.setdefault(" ".join(str(item.title).split()), reader.get_destination_page_number(item) + 1)
    walk(reader.outline, 0)
    for title in list(out):  # a heading Chromium's bookmark repeats ("Appendix AAppendix A")
        half = len(title) // 2
        if len(title) % 2 == 0 and title[:half] == title[half:]:
            out.setdefault(title[:half], out[title])
    return out


def with_page_numbers(page_html: str, pages: dict[str, int]) -> str:
    """The report with each contents entry's page number filled in (from an earlier printing)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page_html, "html.parser")
    for span in soup.select("#contents-list .page-no"):
        link = span.find_previous_sibling("a")
        title = " ".join(link.get_text(" ", strip=True).split()) if link is not None else ""
        if title in pages:
            span.string = str(pages[title])
    return str(soup)


def summary_fitted(page_html: str, pages: dict[str, int]) -> str:
    """The report with its one-page summary marked ``tight`` (printed closer, the questions left
    to the front of the report) when a printing ran the summary onto a second page: when the
    section after it in the contents starts two or more pages later. Unchanged otherwise."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page_html, "html.parser")
    links = soup.select("#contents-list a")
    hrefs = [a.get("href", "") for a in links]
    section = soup.select_one("section.one-page")
    if "#summary" not in hrefs or hrefs.index("#summary") + 1 >= len(links) or section is None:
        return page_html
    at = hrefs.index("#summary")
    here, after = (pages.get(" ".join(links[i].get_text(" ", strip=True).split())) for i in (at, at + 1))
    if not (here and after and after - here > 1):
        return page_html
    section["class"] = [*section.get("class", []), "tight"]
    return str(soup)


def printable(page_html: str) -> str:
    """The report as it is printed: what the screen keeps collapsed for the reader to open
    (``details`` marked ``print-open``, and every ``details`` under an appendix heading, such as
    the local areas a family notebook adds) is open on paper."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page_html, "html.parser")
    for d in soup.select("details.print-open"):
        d["open"] = ""
    for h in soup.select("h2[id^=appendix-]"):
        for el in h.find_all_next(["h2", "details"]):
            if el.name == "h2":
                break
            el["open"] = ""
        charts_before_tables(h)
    return str(soup)


def charts_before_tables(heading) -> None:
    """Under an appendix ``heading``, each chart (its title, the figure and the table of its numbers
    just after it) is moved ahead of the tables that come before it in the same block. On paper a
    table breaks across pages (its header row repeated) and a chart cannot: a tall chart after a
    table that ran a few rows onto a new page leaves that page nearly empty. With the chart first,
    only tables follow it, and they fill each page up to the end of the section."""
    figures = []
    for el in heading.find_all_next(["h2", "figure"]):
        if el.name == "h2":
            break
        if el.find("img") is not None:
            figures.append(el)
    for figure in figures:
        block = figure.parent
        siblings = [c for c in block.children if getattr(c, "name", None)]
        first_table = next((c for c in siblings if c.find("table") is not None or c.name == "table"), None)
        if first_table is None or siblings.index(first_table) > siblings.index(figure):
            continue
        at = siblings.index(figure)
        moved = [figure]
        if at > 0 and "chart-title" in (siblings[at - 1].get("class") or []):
            moved.insert(0, siblings[at - 1])
        if at + 1 < len(siblings) and siblings[at + 1].find("table") is not None:
            moved.append(siblings[at + 1])  # the numbers behind the chart stay with it
        for el in moved:
            first_table.insert_before(el.extract())


def clean_outline(pdf_path: Path) -> None:
    """Bookmarks as a reader expects them: Chromium sometimes repeats a heading's text in its
    bookmark ("Appendix A ...Appendix A ..."); each title is written once, in one line. (pypdf's
    note that Chromium's trailer under-counts its objects is not shown: the file is whole, as
    :func:`check_pdf` then confirms.)"""
    import logging

    import pypdf
    from pypdf.generic import NameObject, TextStringObject

    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        writer = pypdf.PdfWriter(clone_from=str(pdf_path))
    finally:
        log.setLevel(level)
    outlines = writer._root_object.get("/Outlines")
    changed = False

    def walk(node) -> None:
        nonlocal changed
        while node is not None:
            node = node.get_object()
            title = str(node.get("/Title", ""))
            clean = " ".join(title.split())
            half = len(clean) // 2
            if clean and len(clean) % 2 == 0 and clean[:half] == clean[half:]:
                clean = clean[:half]
            if clean != title:
                node[NameObject("/Title")] = TextStringObject(clean)
                changed = True
            if "/First" in node:
                walk(node["/First"])
            node = node.get("/Next")
    if outlines is not None and "/First" in outlines.get_object():
        walk(outlines.get_object()["/First"])
    if changed:
        with open(pdf_path, "wb") as fh:
            writer.write(fh)


def print_pdf(html_path: Path, out: Path, timeout: int = 180) -> Path:
    """Print the HTML to PDF with headless Chromium (print CSS puts sections on new pages). The
    report is printed twice: the first printing gives the page of each section (from the PDF's
    bookmarks), which the contents list then shows; the page numbers' space is kept from the
    start, so the second printing breaks its pages in the same places. When the first printing
    ran the one-page summary over a page, the summary is tightened and printed once more before
    the pages are counted."""
    chromium = find_chromium()
    if chromium is None:
        raise KpiError("cannot print report.pdf: Chromium not found (install Debian 'chromium' "
                       "or set KPI_CHROMIUM)")
    def prints(page_html: str, tmp: Path) -> None:
        numbered.write_text(page_html, encoding="utf-8")
        with tempfile.TemporaryDirectory() as profile:
            cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                   "--generate-pdf-document-outline",
                   f"--print-to-pdf={tmp}", numbered.resolve().as_uri()]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                raise KpiError(f"Chromium did not finish printing report.pdf within {timeout} s; the HTML "
                               "report is complete") from None
        if proc.returncode != 0 or not Path(tmp).exists() or Path(tmp).stat().st_size == 0:
            raise KpiError(f"Chromium could not print the PDF (exit {proc.returncode}): {proc.stderr[-500:]}")
        check_pdf(Path(tmp))

    def chromium_prints(tmp: str) -> None:
        page = printable(html_path.read_text(encoding="utf-8"))
        prints(page, Path(tmp))
        fitted = summary_fitted(page, section_pages(Path(tmp)))
        if fitted != page:
            page = fitted
            prints(page, Path(tmp))
        prints(with_page_numbers(page, section_pages(Path(tmp))), Path(tmp))
        clean_outline(Path(tmp))
        check_pdf(Path(tmp))

    numbered = html_path.with_name(f".{html_path.stem}.print.html")
    try:
        return write_atomic(out, chromium_prints, suffix=".pdf")
    except OSError as exc:
        raise KpiError(f"cannot print report.pdf in {out.parent}: {exc.strerror or exc}") from None
    finally:
        numbered.unlink(missing_ok=True)


def check_pdf(path: Path) -> None:
    """A PDF is kept only if it parses to the end (its cross-reference table and trailer, every
    page and its contents): a file cut short by a full disk is refused, never published."""
    import pypdf
    try:
        reader = pypdf.PdfReader(path, strict=True)
        if not len(reader.pages):
            raise ValueError("no pages")
        for page in reader.pages:
            page.get_contents()
    except Exception as exc:  # noqa: BLE001 - any parse failure means the file is not a whole PDF
        raise KpiError(f"report.pdf was not kept: the PDF Chromium wrote does not parse to the end "
                       f"({type(exc).__name__}: {exc}); the HTML report is complete") from None
