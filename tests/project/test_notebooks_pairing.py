"""The notebooks as kept in git: every .ipynb paired with its percent-format .py by Jupytext and in
step with it, no volatile header fields, no outputs, a tagged parameters cell, thin code cells, and
words written for the Panel rather than for the notebook user."""

from __future__ import annotations

import html
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from kpi_lib.run.runner import REPORT_NOTEBOOKS

from helpers import REPO

# the suite's own notebooks: the report's, and the analyst's explore notebook (any other in
# notebooks/ is an analyst's own, and none of these checks is about it)
NOTEBOOKS = [REPO / "notebooks" / f"{name}.ipynb" for name in [*REPORT_NOTEBOOKS, "explore"]]
NAMES = [p.stem for p in NOTEBOOKS]


def test_every_notebook_has_a_py_twin_and_jupytext_toml_pairs_them():
    assert NAMES, "no notebooks found"
    for nb in NOTEBOOKS:
        assert nb.with_suffix(".py").exists(), nb.name
    config = (REPO / "jupytext.toml").read_text(encoding="utf-8")
    assert 'formats = "ipynb,py:percent"' in config
    assert "jupytext_version" in config  # filtered out of the .py header


@pytest.mark.parametrize("name", NAMES)
def test_ipynb_and_py_hold_the_same_cells(name: str):
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    py = jupytext.read(REPO / "notebooks" / f"{name}.py")
    left = [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]
    right = [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in py.cells]
    assert left == right


@pytest.mark.parametrize("name", NAMES)
def test_no_outputs_and_no_volatile_metadata(name: str):
    text = (REPO / "notebooks" / f"{name}.py").read_text(encoding="utf-8")
    header = text.split("# ---", 2)[1]
    assert not re.search(r"^#\s+(jupytext_version|format_version):", header, flags=re.M), name
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, name
    assert set(nb.metadata) <= {"jupytext", "kernelspec", "language_info"}


@pytest.mark.parametrize("name", NAMES)
def test_parameters_cell_and_thin_code(name: str):
    """Report cells only call kpi_lib; cells tagged "explore" (never in a report) may take the
    figures further, but hold no logic of their own: no functions, loops or branches."""
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for c in nb.cells:
        if c.cell_type == "code" and "explore" in c.metadata.get("tags", []):
            assert not re.search(r"^\s*(def|class|for|while|if|with|try)\b|lambda", c.source, flags=re.M), (name, c.source)
        elif c.cell_type == "code" and c is not tagged[0]:
            for line in c.source.splitlines():
                # calls into kpi_lib only: imports, one assignment from a kpi_lib call, show_* calls
                assert re.match(r"^(from kpi_lib\.[\w.]+ import|\s+\w+,?$|\)$|\w+ = (start_family|start_report)\(|"
                                r"show_\w+\(|$)", line), (name, line)


@pytest.mark.parametrize("name", NAMES)
def test_words_are_for_the_panel_not_the_notebook_user(name: str):
    nb = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for bad in ("top to bottom", "JupyterLab", "kpi_lib", "UTC instants", "params/", ".yaml", "Kish"):
        assert bad not in text, (name, bad)


def test_family_sections_start_with_a_heading_the_contents_can_link_to():
    """The heading and introduction are the family's own declaration: the notebook shows them
    first, and the rendered report opens the family's section with them."""
    from kpi_lib.measure.registry import BY_NAME
    from kpi_lib.present.render import combine
    families = [n for n in NAMES if n not in ("report", "explore")]  # the report's own, the analyst's
    assert sorted(families) == sorted(BY_NAME)
    for name in families:
        first = nbformat.read(REPO / "notebooks" / f"{name}.ipynb", as_version=4).cells[0]
        assert first.cell_type == "code" and first.source.endswith(f'show_heading("{name}")'), name
        assert "notebook-only" in first.metadata.get("tags", [])  # the report has its own heading
    nb = combine(REPO / "notebooks" / "report.ipynb", [REPO / "notebooks" / f"{n}.ipynb" for n in families])
    headings = [c.source for c in nb.cells if c.source.startswith('<h2 id="family-')]
    assert headings == [f'<h2 id="family-{n}">{html.escape(BY_NAME[n].title)}</h2>\n'
                        f"<p>{html.escape(BY_NAME[n].introduction)}</p>" for n in families]
    assert BY_NAME["calls"].introduction.startswith("How quickly 999 and 101 calls were answered.")


def test_the_report_notebook_takes_the_contract_parameters():
    nb = nbformat.read(REPO / "notebooks" / "report.ipynb", as_version=4)
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    names = re.findall(r"^(\w+) =", params.source, flags=re.M)
    assert names == ["period", "out_dir", "previous_dir", "commentary_file"]
    tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
    assert "families-go-here" in tags


def test_saving_through_jupytext_leaves_the_files_unchanged(tmp_path: Path):
    """What JupyterLab's Jupytext does on save: write both files from the notebook. The bytes match
    the committed files, so opening and saving leaves git status clean."""
    for name in NAMES:
        src = REPO / "notebooks" / f"{name}.ipynb"
        nb = jupytext.read(src)
        out = tmp_path / f"{name}.py"
        jupytext.write(nb, out, fmt="py:percent", config=jupytext.config.load_jupytext_configuration_file(
            str(REPO / "jupytext.toml")))
        assert out.read_text(encoding="utf-8") == (REPO / "notebooks" / f"{name}.py").read_text(encoding="utf-8"), name


def test_the_rendered_report_leaves_out_parameters_guidance_and_empty_code_cells(tmp_path: Path):
    from kpi_lib.present.render import combine
    nb = combine(REPO / "notebooks" / "report.ipynb", [REPO / "notebooks" / "crime.ipynb"])
    tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
    assert "notebook-only" not in tags and "parameters" not in tags
    assert not [c for c in nb.cells if c.cell_type == "code" and not c.get("outputs")]  # committed: no outputs
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith('<h2 id="family-crime">')
    # the families go where the report's tagged cell stands (the accountability route follows them)
    report = nbformat.read(REPO / "notebooks" / "report.ipynb", as_version=4)
    tagged = [c for c in report.cells if "families-go-here" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "show_accountability" in tagged[0].source
    # the families' appendices (the local areas) follow the report's own appendices, after
    # Methods, and the annex for officers ends the report (report cells given an output, as a run does)
    for cell in report.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("display_data", {"text/html": "<p>shown</p>"})]
    executed = tmp_path / "report.ipynb"
    nbformat.write(report, executed)
    nb = combine(executed, [REPO / "notebooks" / "crime.ipynb"])
    methods = next(i for i, c in enumerate(nb.cells) if "show_methods(rep)" in c.source)
    areas = next(i for i, c in enumerate(nb.cells) if c.source.startswith('<h2 id="appendix-areas">'))
    accountability = next(i for i, c in enumerate(nb.cells) if "show_accountability(rep)" in c.source)
    assert accountability < methods < areas
    assert all("appendix" in c.metadata.get("tags", []) for c in nb.cells[areas:-1])
    assert "show_officers_annex" in nb.cells[-1].source
