"""A force's own extracts through mapping.yaml: the same records give exactly the canonical
figures; every problem of a file is reported in one pass; `kpi map` drafts the mapping; every
file of the data folder is read, described or left out on purpose."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from kpi_lib.analyse import engine
from kpi_lib.cli import app
from kpi_lib.config.configuration import load_configuration
from kpi_lib.config.params import load_params
from kpi_lib.core.errors import InputError
from kpi_lib.inputs.folder import read_inputs
from kpi_lib.inputs.mapping import InputProblems
from kpi_lib.measure import panel

from helpers import OUTCOME_WORDS, force_extract

pytestmark = pytest.mark.integration  # measures the small sample again, through its mapping
PARAMS = load_params()
MAPPING = {
    "crimes": {"file": "Crime extract*.csv", "encoding": "cp1252",
               "columns": {"crime_ref": "CrimeNumber", "recorded_date": "Date Recorded", "offence_code": "HO Code",
                           "domestic_abuse": "DA Flag", "local_area": "Area"},
               "formats": {"recorded_date": "%d/%m/%Y"},
               "values": {"domestic_abuse": {"Y": True, "N": False}}},
    "outcomes": {"file": "Outcome extract*.csv", "encoding": "cp1252",
                 "columns": {"crime_ref": "CrimeNumber", "outcome_type": "Outcome", "outcome_date": "Outcome Date"},
                 "formats": {"outcome_date": "%d/%m/%Y"},
                 "values": {"outcome_type": {words: code for code, words in OUTCOME_WORDS.items()}}},
}


def _write(folder, doc) -> None:
    (folder / "mapping.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.fixture(scope="module")
def extract(small_sample, tmp_path_factory):
    return force_extract(small_sample, tmp_path_factory.mktemp("force") / "extract")


@pytest.fixture()
def mapped(extract, tmp_path):
    folder = shutil.copytree(extract, tmp_path / "mapped")
    _write(folder, MAPPING)
    return folder


def _figures(tables, pnl=None) -> pd.DataFrame:
    config = load_configuration(PARAMS)
    pnl = pnl if pnl is not None else panel.build_panel(tables, config)
    return pd.concat([engine.compute(p, pnl, config) for p in ("2024/25 Q4", "2023/24 Q2", "2023/24")],
                     ignore_index=True)


def test_the_extract_really_differs_from_the_canonical_tables(extract):
    raw = (extract / "Crime extract 2025-05-15.csv").read_bytes()
    assert b"\r\n" in raw and "Café".encode("cp1252") in raw and b"CrimeNumber,Date Recorded" in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    first = raw.split(b"\r\n")[1].decode("cp1252").split(",")
    assert first[1][2] == "/" and first[3] in ("Y", "N")
    assert not (extract / "crimes.parquet").exists()


def test_a_mapped_extract_gives_exactly_the_canonical_figures(mapped, small_tables, small_panel):
    tables = read_inputs(mapped, PARAMS)
    assert len(tables.get("crimes")) == len(small_tables.get("crimes"))
    pd.testing.assert_frame_equal(_figures(tables), _figures(small_tables, small_panel))
    led = {e.table: e for e in tables.ledger}
    assert led["crimes"].file == "Crime extract 2025-05-15.csv" and led["crimes"].rows_used == led["crimes"].rows_read
    assert tables.extras["files"]["read"]["Outcome extract 2025-05-15.csv"] == "outcomes (mapped)"


def test_a_lookup_gives_each_beat_its_local_area(mapped, small_tables):
    crimes = mapped / "Crime extract 2025-05-15.csv"
    df = pd.read_csv(crimes, dtype=str, keep_default_na=False, encoding="cp1252")
    areas = sorted(set(df["Area"]))
    beats = {a: f"B{i:02d}" for i, a in enumerate(areas)}
    df["Beat"] = df.pop("Area").map(beats)
    df.to_csv(crimes, index=False, encoding="cp1252", lineterminator="\r\n")
    pd.DataFrame({"Beat code": list(beats.values()), "Local area": list(beats)}).to_csv(mapped / "beats.csv", index=False)
    doc = yaml.safe_load((mapped / "mapping.yaml").read_text(encoding="utf-8"))
    del doc["crimes"]["columns"]["local_area"]
    doc["crimes"]["lookups"] = {"local_area": {"file": "beats.csv", "from": "Beat", "key": "Beat code", "value": "Local area"}}
    _write(mapped, doc)
    tables = read_inputs(mapped, PARAMS)
    assert (tables.get("crimes")["local_area"].astype(str).to_numpy()
            == small_tables.get("crimes")["local_area"].astype(str).to_numpy()).all()
    # a beat missing from the lookup is named with its count
    pd.DataFrame({"Beat code": list(beats.values())[1:], "Local area": areas[1:]}).to_csv(mapped / "beats.csv", index=False)
    with pytest.raises(InputProblems, match=r"local_area: values of 'Beat' not in beats.csv: 'B00' \([\d,]+ rows\)"):
        read_inputs(mapped, PARAMS)


def test_every_problem_of_a_file_is_reported_in_one_pass(mapped):
    crimes = mapped / "Crime extract 2025-05-15.csv"
    df = pd.read_csv(crimes, dtype=str, keep_default_na=False, encoding="cp1252")
    df.loc[df.index % 1000 == 5, "DA Flag"] = "U"  # "unknown": a value with no mapping
    df.to_csv(crimes, index=False, encoding="cp1252", lineterminator="\r\n")
    doc = yaml.safe_load((mapped / "mapping.yaml").read_text(encoding="utf-8"))
    doc["crimes"]["formats"]["recorded_date"] = "%m/%d/%Y"  # the wrong order of day and month
    doc["crimes"]["columns"]["offence_code"] = "Offence"  # not a column of the file
    _write(mapped, doc)
    r = CliRunner().invoke(app, ["validate", str(mapped)])
    assert r.exit_code == 1 and r.exception is None or isinstance(r.exception, SystemExit)
    out = r.output
    assert "Crime extract 2025-05-15.csv: 1 problem in one pass" in out
    assert "offence_code: mapped to column 'Offence', which is not in the file" in out
    doc["crimes"]["columns"]["offence_code"] = "HO Code"
    _write(mapped, doc)
    with pytest.raises(InputProblems) as e:
        read_inputs(mapped, PARAMS)
    lines = str(e.value).splitlines()
    assert lines[0] == ("Crime extract 2025-05-15.csv: 2 problems in one pass (mapped by mapping.yaml); "
                        "nothing was read from this file:")
    n = int((df["DA Flag"] == "U").sum())
    assert any(line.startswith("  recorded_date: not in the format %m/%d/%Y (column 'Date Recorded'):") and "e.g. row" in line
               for line in lines)
    assert f"  domestic_abuse: values of column 'DA Flag' with no mapping: 'U' ({n:,} rows)" in "\n".join(lines)


def test_a_wrong_encoding_is_named(mapped):
    doc = yaml.safe_load((mapped / "mapping.yaml").read_text(encoding="utf-8"))
    doc["crimes"]["encoding"] = "utf-8"
    _write(mapped, doc)
    with pytest.raises(InputProblems, match=r"\(file\): not utf-8 text: line 2 \(data row 1\) has the byte 0xe9; set encoding: cp1252"):
        read_inputs(mapped, PARAMS)


def test_without_a_mapping_every_unread_file_is_named_in_one_message(extract):
    r = CliRunner().invoke(app, ["validate", str(extract)])
    assert r.exit_code == 1
    msg = r.output
    assert "2 files match no input table and no mapping" in msg
    assert "Crime extract 2025-05-15.csv (columns: CrimeNumber,Date Recorded,HO Code,DA Flag,Area,Officer note)" in msg
    assert "Outcome extract 2025-05-15.csv" in msg and "kpi map" in msg and "--ignore" in msg
    assert "Traceback" not in msg


def test_kpi_map_drafts_a_mapping_where_only_the_outcome_words_are_left(extract, tmp_path):
    folder = shutil.copytree(extract, tmp_path / "drafted")
    r = CliRunner().invoke(app, ["map", str(folder)])
    assert r.exit_code == 0, r.output
    assert "outcomes.outcome_type to map" in r.output and "columns not used: Officer note" in r.output
    draft = yaml.safe_load((folder / "mapping.yaml").read_text(encoding="utf-8"))
    assert draft["crimes"]["columns"] == MAPPING["crimes"]["columns"]
    assert draft["outcomes"]["columns"] == MAPPING["outcomes"]["columns"]
    assert draft["crimes"]["formats"] == {"recorded_date": "%d/%m/%Y"} and draft["crimes"]["encoding"] == "cp1252"
    assert draft["crimes"]["values"]["domestic_abuse"] == {"Y": True, "N": False}
    todo = {v for v, code in draft["outcomes"]["values"]["outcome_type"].items() if code is None}
    outcomes = pd.read_csv(folder / "Outcome extract 2025-05-15.csv", dtype=str, encoding="cp1252")
    assert todo == set(outcomes["Outcome"])
    # the only problems kpi validate finds in the draft are those words, each with its count
    with pytest.raises(InputProblems) as e:
        read_inputs(folder, PARAMS)
    assert [p.column for p in e.value.problems] == ["outcome_type"]
    assert e.value.problems[0].values == outcomes["Outcome"].value_counts().to_dict()
    # filled in, the draft reads
    draft["outcomes"]["values"]["outcome_type"] = {w: c for c, w in OUTCOME_WORDS.items()}
    _write(folder, draft)
    assert len(read_inputs(folder, PARAMS).get("outcomes")) == len(outcomes)
    assert CliRunner().invoke(app, ["map", str(folder)]).exit_code == 1  # an existing mapping is never replaced


def test_an_ambiguous_day_month_order_is_flagged(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    pd.DataFrame({"Crime Number": ["A1", "A2", "A3"], "Date Recorded": ["01/02/2024", "03/04/2024", "05/06/2024"],
                  "HO Code": ["46", "46", "8N"], "DA": ["Y", "N", "N"], "Area": ["X", "Y", "X"]}).to_csv(
        folder / "crime.csv", index=False)
    r = CliRunner().invoke(app, ["map", str(folder)])
    assert r.exit_code == 0, r.output
    assert "AMBIGUOUS" in r.output and "day first assumed" in r.output
    assert "AMBIGUOUS" in (folder / "mapping.yaml").read_text(encoding="utf-8")


def test_a_file_matching_no_table_stops_the_run_and_ignore_records_it(small_sample, tmp_path):
    from kpi_lib.run.plan import plan
    from kpi_lib.run.runner import validate
    data = shutil.copytree(small_sample, tmp_path / "data")
    (data / "Crime extract 2025-05-15.csv").write_text("CrimeNumber,Outcome\nX1,Charged\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"1 file match(es)? no input table and no mapping: Crime extract 2025-05-15.csv"):
        validate(plan("2024/25 Q4", data, tmp_path / "out"))
    v = validate(plan("2024/25 Q4", data, tmp_path / "out", overrides={"ignore_files": ["Crime extract*"]}))
    assert v.files["ignored"] == {"Crime extract 2025-05-15.csv": "Crime extract*"}
    assert set(v.files["read"]) == {p.name for p in small_sample.iterdir()
                                    if p.suffix in (".parquet", ".csv")}
    assert "metadata.yaml" in v.files["described"]
