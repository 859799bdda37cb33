"""Input kinds are a registry: detection, a source's words and the licence line come from it, and a
new kind is one registration (here a toy export format, registered by the test)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpi_lib import compute
from kpi_lib.inputs import kinds
from kpi_lib.inputs.detect import detect_kinds, read_any
from kpi_lib.inputs.kinds import InputKind


def test_the_built_in_kinds_their_words_and_the_licence_line():
    assert list(kinds.registered()) == ["canonical", "mapped", "home_office", "police_uk"]
    assert kinds.label("canonical") == "force records" and kinds.label("unknown") == "unknown"
    assert kinds.licence_text(["canonical"]) == ""
    assert kinds.licence_text(["police_uk"]) == (
        "Contains public sector information licensed under the Open Government Licence v3.0. "
        "Source: data.police.uk street-level crime files.")


def _read_toy(folder: Path, tables, force: str) -> None:
    """A force's crime export (ref;date;code;area) as the canonical crimes table."""
    raw = pd.read_csv(folder / "crime-export.txt", sep=";", dtype=str)
    tables.frames["crimes"] = pd.DataFrame({
        "crime_ref": raw["ref"], "recorded_date": pd.to_datetime(raw["date"]),
        "offence_code": raw["code"], "domestic_abuse": False, "local_area": raw["area"]})
    tables.sources["crime"] = "toy_export"


@pytest.fixture()
def toy_kind():
    kind = kinds.register(InputKind("toy_export", "the force's crime export",
                                    lambda folder: (folder / "crime-export.txt").exists(), _read_toy,
                                    public=True))
    yield kind
    kinds.registered().pop("toy_export")


def test_a_registered_kind_is_detected_read_and_measured(tmp_path, toy_kind):
    rows = ["ref;date;code;area", "A1;2023-04-03;8N;North", "A2;2023-05-10;28E;South",
            "A3;2023-06-30;8N;North", "A4;2023-07-01;8N;North"]  # three in 2023/24 Q1, one in Q2
    (tmp_path / "crime-export.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "metadata.yaml").write_text("force: West Mercia\nextraction_date: 2023-09-30\n", encoding="utf-8")
    assert detect_kinds(tmp_path) == ["toy_export"]
    tables = read_any(tmp_path)
    r = compute("2023/24 Q1", tables, families=["crime"]).set_index(["kpi_id", "basis"])
    assert r.loc[("trc_volume", ""), "value"] == 3
    assert r.loc[("trc_volume", ""), "status"] == "reported"  # record-level crimes, like force records
