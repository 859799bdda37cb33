"""The two README commands, CI, and environment.yml kept in step with pyproject.toml."""

from __future__ import annotations

import re

import tomllib
import yaml

from helpers import REPO


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_and_pyproject_list_the_same_dependencies():
    py = tomllib.loads((REPO / "pyproject.toml").read_text())
    pip_names = {_name(s) for s in py["project"]["dependencies"]}
    pip_names |= {_name(s) for s in py["project"]["optional-dependencies"]["test"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            conda |= {_name(s) for s in dep["pip"] if not s.startswith("-e")}
        else:
            conda.add(_name(dep))
    conda -= {"python", "pip"}
    assert conda == pip_names, f"only in environment.yml: {conda - pip_names}; only in pyproject: {pip_names - conda}"


def test_environment_yml_pins_match_pyproject():
    py = tomllib.loads((REPO / "pyproject.toml").read_text())
    specs = {_name(s): s.replace(" ", "") for s in py["project"]["dependencies"] + py["project"]["optional-dependencies"]["test"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    flat = [d for d in env["dependencies"] if isinstance(d, str)] + \
        [s for d in env["dependencies"] if isinstance(d, dict) for s in d["pip"] if not s.startswith("-e")]
    for dep in flat:
        n = _name(dep)
        if n in specs:
            assert dep.replace(" ", "") == specs[n], f"{n}: environment.yml says {dep}, pyproject says {specs[n]}"


def test_readme_opens_with_exactly_two_commands():
    text = (REPO / "README.md").read_text()
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", text, re.S)
    assert block, "README must open with a code block of commands"
    commands = [ln for ln in block.group(1).splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert commands == ["make report", "make test"]
    assert text.index("```") < text.index("##"), "the commands come before any section"


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci
