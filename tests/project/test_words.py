"""Words for the next reader: code and tests speak for themselves, without numbered issues or
contracts (history belongs in CHANGELOG.md), and no test module imports another or conftest."""

from __future__ import annotations

import re

from helpers import REPO

NUMBERED = re.compile(r"\b(issue|contract)[ _#]?\d+|\(contracts?\b", re.IGNORECASE)


def _sources():
    for folder in ("kpi_lib", "tests"):
        yield from (p for p in (REPO / folder).rglob("*.py") if "_resources" not in p.parts)


def test_no_reference_to_a_numbered_issue_or_contract():
    found = [f"{p.relative_to(REPO)}:{i}" for p in _sources()
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
             if NUMBERED.search(line) and p.name != "test_words.py"]
    assert not found, found


def test_no_test_module_imports_another_or_conftest():
    bad = [str(p.relative_to(REPO)) for p in (REPO / "tests").rglob("test_*.py")
           if re.search(r"^\s*(from|import) (conftest|test_\w+)\b", p.read_text(encoding="utf-8"), flags=re.M)]
    assert not bad, bad


def test_the_check_would_catch_a_reference():
    assert NUMBERED.search("the stamp (issue 9)") and NUMBERED.search("see contract 4")
    assert not NUMBERED.search("an issue the Panel raised") and not NUMBERED.search("contracted services")
