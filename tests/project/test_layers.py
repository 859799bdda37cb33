"""Import layering: one rule over the stage subpackages of ``kpi_lib``, which run in this order:

core -> config -> inputs -> measure -> analyse -> present -> run

A module may import its own stage and any earlier one, never a later one. The top-level modules
(``kpi_lib`` itself, ``kpi_lib.spc`` and the ``kpi`` command in ``kpi_lib.cli``) sit above every
stage. Two more rules keep readers and families apart and families free of file access.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "kpi_lib"
STAGES = ["core", "config", "inputs", "measure", "analyse", "present", "run"]
TOP = len(STAGES)  # kpi_lib.cli, kpi_lib.spc: above every stage


def _modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(PKG)
        if rel.parts[0] == "_resources" or "templates" in rel.parts or p.name == "__init__.py" and len(rel.parts) == 1:
            continue
        out[".".join(rel.with_suffix("").parts).removesuffix(".__init__")] = p
    return out


def _imports(module: str, path: Path) -> set[str]:
    """kpi_lib modules imported (top-level names under kpi_lib, e.g. 'families.crime')."""
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                if node.module:
                    found.add(".".join([*base, node.module]))
                else:
                    found |= {".".join([*base, a.name]) for a in node.names}
            elif node.module and node.module.startswith("kpi_lib."):
                found.add(node.module.removeprefix("kpi_lib."))
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("kpi_lib.") for a in node.names if a.name.startswith("kpi_lib.")}
    return {f for f in found if f and f != "__version__"}


def _layer(module: str) -> int:
    first = module.split(".")[0]
    return STAGES.index(first) if first in STAGES else TOP


MODULES = _modules()


def test_every_module_is_in_a_stage_or_one_of_few_at_the_top():
    top = sorted(m for m in MODULES if m.split(".")[0] not in STAGES)
    assert len(top) <= 5, top
    assert {"analyse.engine", "measure.panel", "measure.families.crime", "inputs.canonical"} <= set(MODULES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_lower_layer_imports_a_higher_one(module):
    bad = [(dep, _layer(dep)) for dep in _imports(module, MODULES[module]) if _layer(dep) > _layer(module)]
    assert not bad, f"kpi_lib.{module} (layer {_layer(module)}) imports higher layers: {bad}"


def test_readers_never_import_families_and_families_never_import_readers():
    for module, path in MODULES.items():
        if module.startswith("inputs"):
            assert not any(d.startswith("measure.families") for d in _imports(module, path)), module
        if module.startswith("measure.families"):
            assert not {d for d in _imports(module, path) if not d.startswith("measure.families")} & {
                "measure.registry", "measure.panel", "measure.cache"}, module
            readers = {d for d in _imports(module, path) if d.startswith("inputs") and d != "inputs.aggregates"}
            assert not readers, module


FILE_ACCESS = {"open", "read_text", "write_text", "read_bytes", "read_csv", "read_parquet",
               "read_excel", "to_csv", "to_parquet", "safe_load", "load_yaml", "Path"}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("measure.families")))
def test_families_do_no_file_access(module):
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    calls = {n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
             for n in ast.walk(tree) if isinstance(n, ast.Call)}
    imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not calls & FILE_ACCESS and not imports & {"yaml", "pathlib", "os"}, module


def test_a_violation_would_be_caught(tmp_path):
    """The check itself: a family importing the engine is reported."""
    f = tmp_path / "bad.py"
    f.write_text("from kpi_lib.analyse.engine import compute\n")
    deps = _imports("measure.families.bad", f)
    assert deps == {"analyse.engine"} and _layer("analyse.engine") > _layer("measure.families.bad")


TRIVIAL = {")", "]", "}", "),", "])", "else:", "try:", '"""', "return out", "continue"}
BLOCK = 6


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """Meaningful lines of a module: no blanks, comments, imports or lone brackets."""
    text = path.read_text(encoding="utf-8")
    skip = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            skip |= set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if i not in skip and s and not s.startswith("#") and s not in TRIVIAL:
            out.append((i, s))
    return out


def duplicated_blocks(paths: dict[str, Path], size: int = BLOCK) -> list[list[tuple[str, int]]]:
    """Blocks of ``size`` consecutive meaningful lines that occur in more than one place."""
    seen: dict[tuple, list[tuple[str, int]]] = {}
    for module, path in paths.items():
        lines = _code_lines(path)
        for k in range(len(lines) - size + 1):
            seen.setdefault(tuple(s for _, s in lines[k:k + size]), []).append((module, lines[k][0]))
    return [places for places in seen.values() if len(places) > 1]


def test_no_block_of_six_lines_is_duplicated_in_kpi_lib():
    dups = duplicated_blocks(MODULES)
    assert not dups, f"duplicated blocks of {BLOCK}+ lines (module, first line): {dups[:5]}"


def test_a_duplicate_would_be_caught(tmp_path):
    body = "".join(f"x{i} = {i} * 2\n" for i in range(BLOCK))
    (tmp_path / "a.py").write_text(body)
    (tmp_path / "b.py").write_text("y = 1\n" + body)
    assert duplicated_blocks({"a": tmp_path / "a.py", "b": tmp_path / "b.py"}) == [[("a", 1), ("b", 2)]]
