"""Typed, validated settings and bounded YAML.

Every bad parameter fails before any work, naming the file, the key, the value and
what was expected; alias bombs fail in well under a second with little memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_lib.config.catalogue import FAMILIES
from kpi_lib.config.params import load_params
from kpi_lib.config.settings import Settings, load_settings
from kpi_lib.core.errors import ParameterError
from kpi_lib.core.safe_yaml import load_yaml

from helpers import BOMB, REPO, kpi, measuring_script

DEFAULTS = yaml.safe_load((REPO / "params" / "defaults.yaml").read_text(encoding="utf-8"))


def write(tmp_path: Path, text: str, name: str = "my-params.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_every_default_key_is_a_typed_setting_and_the_defaults_are_valid():
    assert set(DEFAULTS) == set(Settings.model_fields)
    params = load_params()
    assert params == {k: v for k, v in DEFAULTS.items()}  # the defaults pass unchanged
    assert params["threshold_999_seconds"] == 10 and isinstance(params["threshold_999_seconds"], int)
    assert "spc_rebase" not in params


def test_a_file_overrides_and_mappings_merge_key_by_key(tmp_path):
    path = write(tmp_path, """
        threshold_999_seconds: 12.5
        charge_outcome_types: ["1"]
        spc_grain: {crime: quarter}
        timezone: Europe/London
    """)
    params = load_params(path)
    assert params["threshold_999_seconds"] == 12.5 and params["charge_outcome_types"] == ["1"]
    assert params["spc_grain"] == {**DEFAULTS["spc_grain"], "crime": "quarter"}
    assert params["timezone"] == "Europe/London"
    assert load_params(overrides={"headline_basis": "in_period"})["headline_basis"] == "in_period"


def test_relative_files_are_read_relative_to_the_file_naming_them(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "events.yaml").write_text("[]\n")
    path = write(tmp_path / "conf", "annotations_file: events.yaml\n")
    assert load_params(path)["annotations_file"] == str((tmp_path / "conf" / "events.yaml").resolve())


# (parameter file text, words the one message must contain)
BAD = {
    "bool for a number": ("threshold_999_seconds: true\n",
                          ["threshold_999_seconds", "True", "true/false is not a number", "positive number"]),
    "text for a list": ('charge_outcome_types: "1"\n', ["charge_outcome_types", "'1'", "a list of Home Office outcome codes"]),
    "numbers for codes": ("charge_outcome_types: [1, 1A]\n", ["charge_outcome_types[0]", "is 1 (a number)", "not text"]),
    "unknown code": ('charge_outcome_types: ["1", "99"]\n', ["charge_outcome_types", "unknown outcome code(s) ['99']"]),
    "grain not a mapping": ("spc_grain: month\n", ["spc_grain", "'month'", "a mapping of family to grain"]),
    "unknown grain": ("spc_grain: {crime: weekly}\n", ["spc_grain['crime']", "'weekly'", "month, quarter, none"]),
    "unknown family": ("spc_grain: {crim: month}\n", ["spc_grain", "unknown family ['crim']"]),
    "one area, not a list": ("local_areas: Worcester\n", ["local_areas", "'Worcester'", "a list of the force's own local area names"]),
    "text for a percentage": ('provisional_pending_pct: "10"\n', ["provisional_pending_pct", "'10'", "not a number", "0 to 100"]),
    "percentage over 100": ("provisional_pending_pct: 150\n", ["provisional_pending_pct", "150", "0 to 100"]),
    "number for answers": ("satisfied_answers: 3\n", ["satisfied_answers", "3", "a list of answers"]),
    "answer off the scale": ('satisfied_answers: ["Yes"]\n', ["satisfied_answers", "'Yes'", "overall_satisfaction"]),
    "removed spc_rebase": ('spc_rebase: {trc_volume: ["2023-13-01"]}\n', ["spc_rebase", "no longer used", "annotations"]),
    "unknown time zone": ("timezone: Europe/Londn\n", ["timezone", "'Europe/Londn'", "tz database"]),
    "bad baseline year": ('baseline_year: "2019/21"\n', ["baseline_year", "'2019/21'", "2019/20"]),
    "quarter as baseline": ('baseline_year: "2019/20 Q1"\n', ["baseline_year", "whole financial year"]),
    "number as baseline": ("baseline_year: 2019\n", ["baseline_year", "2019", "not text"]),
    "misspelt key": ("thresold_999_seconds: 5\n", ["thresold_999_seconds", "did you mean threshold_999_seconds"]),
    "nan": ("threshold_101_seconds: .nan\n", ["threshold_101_seconds", "nan"]),
    "fractional count": ("min_events_for_count_test: 2.5\n", ["min_events_for_count_test", "not a whole number"]),
    "unknown kpi": ("spc_seasonal: [trc_volume, nope]\n", ["spc_seasonal", "unknown KPI id(s) ['nope']"]),
    "missing file": ("peers_file: nowhere.yaml\n", ["peers_file", "nowhere.yaml", "no such file"]),
    "bad basis": ("headline_basis: cohorts\n", ["headline_basis", "'cohorts'", "'cohort' or 'in_period'"]),
    "not a mapping": ("- 1\n", ["expected a mapping of parameter names"]),
    "bad yaml": ("a: [1,\n", ["not valid YAML", "line"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_bad_parameter_is_one_message_naming_file_key_value_and_expectation(case, tmp_path):
    text, words = BAD[case]
    path = write(tmp_path, text)
    with pytest.raises(ParameterError) as e:
        load_settings(path)
    msg = str(e.value)
    assert str(path.name) in msg
    for w in words:
        assert w in msg, (w, msg)
    assert "\n" not in msg and "Traceback" not in msg


def test_a_setting_is_described_once_on_the_model_and_every_reader_takes_it_from_there(tmp_path):
    """A setting's label (the report's settings table) and what it expects (error messages) are
    its field's title and description; nothing else declares them."""
    from kpi_lib.present.report import settings_table
    fields = Settings.model_fields
    assert all(f.title and f.description for f in fields.values()), \
        [k for k, f in fields.items() if not (f.title and f.description)]
    grade1 = fields["grade1_target_minutes"]
    assert (grade1.title, grade1.description) == ("Grade 1 (emergency) attendance target, minutes",
                                                  "a positive number of minutes")
    assert settings_table({"grade1_target_minutes": 12}).to_dict("records") == [
        {"Setting": "Grade 1 (emergency) attendance target, minutes", "Value": "12"}]
    with pytest.raises(ParameterError, match="grade1_target_minutes.*expected a positive number of minutes"):
        load_settings(write(tmp_path, "grade1_target_minutes: -3\n"))


def test_a_long_path_in_a_message_keeps_its_file_name(tmp_path):
    deep = tmp_path / ("a-folder-with-a-long-name-" * 4) / "nowhere.yaml"
    with pytest.raises(ParameterError, match=r"is '.+\.\.\..+-/nowhere\.yaml' \(text\): no such file"):
        load_settings(write(tmp_path, f"peers_file: {deep}\n"))


def test_params_must_be_a_file(tmp_path):
    with pytest.raises(ParameterError, match="is a folder; expected a YAML file"):
        load_settings(tmp_path)
    with pytest.raises(ParameterError, match="not found"):
        load_settings(tmp_path / "absent.yaml")


NUMBER_KEYS = ["provisional_pending_pct", "threshold_999_seconds", "threshold_101_seconds",
               "grade1_target_minutes", "grade2_target_minutes", "min_events_for_count_test"]
LIST_KEYS = ["charge_outcome_types", "action_taken_types", "satisfied_answers", "confidence_answers",
             "visibility_answers", "spc_seasonal"]


@settings(max_examples=40, deadline=None)
@given(key=st.sampled_from(NUMBER_KEYS), value=st.one_of(st.booleans(), st.text(max_size=5), st.none()))
def test_property_a_number_setting_refuses_anything_but_a_number(key, value):
    with pytest.raises(ParameterError) as e:
        load_settings(overrides={key: value})
    assert f"parameter {key} is {value!r}" in str(e.value)


@settings(max_examples=40, deadline=None)
@given(key=st.sampled_from(LIST_KEYS), value=st.one_of(st.text(max_size=5), st.integers(), st.booleans()))
def test_property_a_list_setting_refuses_a_single_value(key, value):
    with pytest.raises(ParameterError) as e:
        load_settings(overrides={key: value})
    assert f"parameter {key} is {value!r}" in str(e.value)


@settings(max_examples=40, deadline=None)
@given(grains=st.dictionaries(st.sampled_from(sorted(FAMILIES)), st.sampled_from(["month", "quarter", "none"])))
def test_property_grain_overrides_change_only_the_families_named(grains):
    got = load_params(overrides={"spc_grain": grains})["spc_grain"]
    assert got == {**DEFAULTS["spc_grain"], **grains}


# ---- bounded YAML --------------------------------------------------------------------------



def test_yaml_refuses_aliases_duplicates_depth_size_and_bad_text(tmp_path):
    cases = {
        "bomb.yaml": (BOMB, "anchors and aliases are not allowed"),
        "alias.yaml": ("x: *nothing\n", "alias"),
        "dup.yaml": ("threshold_999_seconds: 10\nthreshold_999_seconds: 20\n", "gives the key 'threshold_999_seconds' twice"),
        "deep.yaml": ("[" * 60 + "]" * 60 + "\n", "nested more than 50 levels"),
    }
    for name, (text, words) in cases.items():
        with pytest.raises(ParameterError) as e:
            load_yaml(write(tmp_path, text, name), what="parameter file")
        assert name in str(e.value) and words in str(e.value), str(e.value)
    big = write(tmp_path, "a: " + "x" * 2000 + "\n", "big.yaml")
    with pytest.raises(ParameterError, match="2,004 bytes; the limit is 1,000 bytes"):
        load_yaml(big, what="parameter file", max_bytes=1000)
    (tmp_path / "latin1.yaml").write_bytes("a: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ParameterError, match="not UTF-8"):
        load_yaml(tmp_path / "latin1.yaml", what="parameter file")
    assert load_yaml(write(tmp_path, "", "empty.yaml"), what="parameter file") is None
    assert load_yaml(write(tmp_path, "a: [1, {b: c}]\n", "ok.yaml"), what="x") == {"a": [1, {"b": "c"}]}


MEASURE = measuring_script("from kpi_lib.core.safe_yaml import load_yaml",
                           'load_yaml(sys.argv[1], what="parameter file")', "loaded")


def test_alias_bombs_fail_with_under_200_mb(tmp_path):
    # a 1 KB alias bomb, and a bomb hidden after a large harmless document
    hidden = "".join(f"k{i}: [{i}, {i + 1}]\n" for i in range(20_000)) + BOMB.replace("a:", "z:", 1)
    for name, text in (("bomb.yaml", BOMB), ("hidden.yaml", hidden)):
        path = write(tmp_path, text, name)
        r = subprocess.run([sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True,
                           cwd=REPO, timeout=60)
        got = json.loads(r.stdout)
        assert "anchors and aliases are not allowed" in got["outcome"], got
        assert got["extra_mb"] < 200, got  # expanded, a bomb takes gigabytes; a hang meets the timeout


# ---- real `kpi run`: the parameter fails before any work -----------------------------------

@pytest.mark.parametrize("text,words", [
    ("threshold_999_seconds: true\n", "parameter threshold_999_seconds is True"),
    ('charge_outcome_types: "1"\n', "parameter charge_outcome_types is '1'"),
    ("timezone: Mars/Olympus\n", "parameter timezone is 'Mars/Olympus'"),
    ("spc_grain: month\n", "parameter spc_grain is 'month'"),
    (BOMB, "anchors and aliases are not allowed"),
    (None, "is a folder; expected a YAML file"),
])
def test_kpi_run_refuses_bad_parameters_before_any_notebook_starts(text, words, tmp_path, small_sample):
    params = write(tmp_path, text) if text is not None else tmp_path
    out = tmp_path / "runs" / "q4"
    r = kpi("run", "2024/25-Q4", "--data", small_sample, "--out", out, "--params", params, "--quiet",
            "--no-pdf", cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout, r.stderr
    assert words in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (tmp_path / "runs").exists(), "nothing was created: no build folder, no output"
