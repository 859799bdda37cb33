"""The annotations registry: the shipped file, its validation messages, and the lookups."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from kpi_lib.config.annotations import (
    Annotation,
    annotations_frame,
    for_kpi,
    load_annotations,
    parse_annotations,
    rebase_dates,
)
from kpi_lib.config.catalogue import load_catalogue
from kpi_lib.core.errors import ParameterError

IDS = [k.id for k in load_catalogue()]
GOOD = {"date": "2023-06-01", "kpis": ["trc_volume"], "text": "A recording rule changed.", "rebase": True}


def test_shipped_file_is_valid_and_holds_the_two_known_changes():
    from kpi_lib.inputs import sample
    notes = load_annotations(known_kpis=IDS)
    assert rebase_dates(notes, "trc_volume") == [date(2023, 6, 1)]
    assert rebase_dates(notes, "calls_999_within_10s") == [sample.CALL_HANDLING_CHANGE] == [date(2023, 10, 1)]
    assert sample.PRINCIPAL_CRIME_RULE == date(2023, 6, 1)
    assert rebase_dates(notes, "rape_volume") == []
    assert all(len(a.text) > 40 for a in notes)


def test_every_rebase_is_an_annotation_with_words():
    notes = parse_annotations([GOOD, {**GOOD, "date": "2024-01-01", "rebase": False}], known_kpis=IDS)
    assert rebase_dates(notes, "trc_volume") == [date(2023, 6, 1)]
    assert [a.date for a in for_kpi(notes, "trc_volume")] == [date(2023, 6, 1), date(2024, 1, 1)]


def test_all_applies_to_every_kpi_and_lookups_sort_by_date():
    notes = parse_annotations([{**GOOD, "date": "2024-02-01"},
                               {**GOOD, "kpis": "all", "date": "2020-03-23", "rebase": False}], known_kpis=IDS)
    assert [a.date for a in for_kpi(notes, "trc_volume")] == [date(2020, 3, 23), date(2024, 2, 1)]
    assert [a.kpis for a in for_kpi(notes, "rape_volume")] == ["all"]
    frame = annotations_frame(notes, kpi_ids=["trc_volume", "rape_volume"])
    assert sorted(zip(frame["kpi_id"], frame["date"], strict=True)) == [
        ("rape_volume", date(2020, 3, 23)), ("trc_volume", date(2020, 3, 23)), ("trc_volume", date(2024, 2, 1))]


def test_text_is_folded_to_one_line():
    a = parse_annotations([{**GOOD, "text": "One\n  two   three four"}])[0]
    assert a.text == "One two three four" and isinstance(a, Annotation)


@pytest.mark.parametrize("change, message", [
    ({"date": "2023-13-01"}, "entry 1 (date 2023-13-01), field 'date': expected a date written YYYY-MM-DD; found '2023-13-01'"),
    ({"kpis": ["trc_volum"]}, "field 'kpis': unknown KPI id 'trc_volum'; did you mean 'trc_volume'?"),
    ({"kpis": []}, "field 'kpis': expected a list of KPI ids, or \"all\"; found []"),
    ({"kpis": "everything"}, "field 'kpis': expected a list of KPI ids, or \"all\"; found 'everything'"),
    ({"rebase": "yes"}, "field 'rebase': expected true or false; found 'yes'"),
    ({"text": "x"}, "field 'text': expected plain-English text of at least 10 characters; found 'x'"),
    ({"colour": "red"}, "field 'colour': not a known field"),
])
def test_bad_entries_give_one_readable_message(change, message):
    with pytest.raises(ParameterError) as exc:
        parse_annotations([{**GOOD, **change}], source="my.yaml", known_kpis=IDS)
    assert message in str(exc.value) and str(exc.value).startswith("my.yaml, entry 1")


def test_missing_field_and_wrong_shapes():
    with pytest.raises(ParameterError, match="field 'rebase': missing"):
        parse_annotations([{k: v for k, v in GOOD.items() if k != "rebase"}])
    with pytest.raises(ParameterError, match="expected a list of annotations"):
        parse_annotations({"date": "2023-01-01"})
    with pytest.raises(ParameterError, match="entry 2: expected a mapping"):
        parse_annotations([GOOD, "just words"])
    assert parse_annotations(None) == []


def test_unknown_ids_are_not_checked_without_a_catalogue():
    assert parse_annotations([{**GOOD, "kpis": ["anything"]}])[0].kpis == ("anything",)


def test_load_from_a_file(tmp_path):
    p = tmp_path / "notes.yaml"
    p.write_text(yaml.safe_dump([GOOD]), encoding="utf-8")
    assert rebase_dates(load_annotations(p, known_kpis=IDS), "trc_volume") == [date(2023, 6, 1)]
    with pytest.raises(ParameterError, match="not found"):
        load_annotations(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- date: [unclosed\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="bad.yaml"):
        load_annotations(bad)
