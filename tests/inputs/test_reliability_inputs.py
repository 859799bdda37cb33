"""Bounded reading and no silent choices.

CSV fields over the stated length, formula-like text, two files for one table, hostile or
invalid ``metadata.yaml``, an empty outcomes table, and periods outside the data: each is a clear
error or an explicit status, found before any notebook runs, never a traceback."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_lib import compute
from kpi_lib.core.errors import InputError, ParameterError
from kpi_lib.core.periods import Period
from kpi_lib.inputs import read_tables
from kpi_lib.inputs.detect import read_any
from kpi_lib.inputs.parsing import MAX_FIELD_BYTES, check_field_lengths
from kpi_lib.run.runner import check_coverage

from helpers import BOMB, HEADERS, REPO, kpi, measuring_script, write_table

# ---- CSV field length -------------------------------------------------------------------------

def test_a_field_over_the_limit_names_file_row_and_column(tmp_path):
    long = "Worcester" + "x" * MAX_FIELD_BYTES
    write_table(tmp_path, "crimes", ["C1,2023-04-02,8N,true,Worcester", "C2,2023-04-03,8N,true,Redditch",
                                     f"C3,2023-04-04,8N,true,{long}"])
    with pytest.raises(InputError) as e:
        read_tables(tmp_path)
    msg = str(e.value)
    assert msg.startswith("crimes.csv, row 3 (line 4), column 'local_area': a field is "
                          f"{len(long):,} bytes long; the limit is {MAX_FIELD_BYTES:,} bytes"), msg


def test_quoted_commas_and_line_breaks_are_inside_their_field(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a,b\n"x, ""quoted"", and\na line break",2\n', encoding="utf-8")
    check_field_lengths(path, limit=40)
    with pytest.raises(InputError, match=r"row 1 \(line 2\), column 'a': a field is 33 bytes"):
        check_field_lengths(path, limit=20)


def _escaped(field: str) -> str:
    """The field as csv.writer puts it in the file (quoted and with doubled quotes if needed)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([field])
    return buf.getvalue()[:-1]


_cell = st.text(alphabet=st.sampled_from(list('ab,"\n x')), max_size=30)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=8),
       limit=st.integers(min_value=2, max_value=40))  # the header cells are 2 bytes
def test_property_the_scan_finds_exactly_the_first_field_over_the_limit(rows, limit, tmp_path_factory):
    """The byte scan agrees with Python's csv module on which field (in file order) is the first
    longer than the limit, and its row and column."""
    folder = tmp_path_factory.mktemp("scan")
    path = folder / "t.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([["h1", "h2", "h3"], *rows])
    first = next(((r, c, len(_escaped(v).encode())) for r, row in enumerate(rows, start=1)
                  for c, v in enumerate(row) if len(_escaped(v).encode()) > limit), None)
    if first is None:
        check_field_lengths(path, limit=limit)
    else:
        with pytest.raises(InputError) as e:
            check_field_lengths(path, limit=limit)
        r, c, n = first
        assert f"row {r} (line {r + 1}), column 'h{c + 1}': a field is {n:,} bytes long" in str(e.value)


MEASURE_CSV = measuring_script("from kpi_lib.inputs import read_tables", "read_tables(Path(sys.argv[1]))", "read")


def test_a_huge_field_is_refused_with_bounded_memory(tmp_path):
    with open(tmp_path / "crimes.csv", "w", encoding="utf-8") as fh:
        fh.write(HEADERS["crimes"] + "\nC1,2023-04-02,8N,true,")
        for _ in range(200):
            fh.write("y" * 1_000_000)  # one 200 MB field
        fh.write("\n")
    r = subprocess.run([sys.executable, "-c", MEASURE_CSV, str(tmp_path)], capture_output=True, text=True,
                       cwd=REPO, timeout=120)
    got = json.loads(r.stdout)
    assert "crimes.csv, row 1 (line 2), column 'local_area': a field is at least" in got["outcome"], got
    assert got["extra_mb"] < 200, got  # memory, not time: a timed assertion would only test the machine


# ---- formula-like text ----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+44 1905", "@SUM(A1)", "\tWorcester", "\rWorcester"])
def test_text_that_a_spreadsheet_would_run_is_an_input_error(tmp_path, text):
    write_table(tmp_path, "crimes", ["C1,2023-04-02,8N,true,Worcester", "C2,2023-04-03,8N,true,\"" + text.replace('"', '""') + '"'])
    with pytest.raises(InputError) as e:
        read_tables(tmp_path)
    assert "crimes.csv, row 2 (line 3), column 'local_area': text starts with =, +, @" in str(e.value)
    assert repr(text) in str(e.value)


def test_formula_text_in_a_survey_answer_or_police_uk_area_is_refused(tmp_path):
    write_table(tmp_path / "survey", "survey_responses",
                ["victim,R1,2023-04-01,Worcester,Burglary,overall_satisfaction,=1+1,1"])
    with pytest.raises(InputError, match="column 'answer': text starts with"):
        read_tables(tmp_path / "survey")
    street = tmp_path / "street"
    street.mkdir()
    (street / "2024-01-west-mercia-street.csv").write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
        "Last outcome category,Context\n"
        "a1,2024-01,West Mercia Police,West Mercia Police,-2.2,52.2,On or near X,E01,@cmd 001A,"
        "Burglary,Under investigation,\n", encoding="utf-8")
    with pytest.raises(InputError, match="column 'LSOA name': text starts with"):
        read_any(street)


# ---- no silent choices ------------------------------------------------------------------------------

@pytest.mark.integration
def test_two_files_for_one_table_is_an_error_naming_both(tmp_path, small_sample):
    data = tmp_path / "data"
    shutil.copytree(small_sample, data)
    write_table(data, "crimes", ["C1,2023-04-02,8N,true,Worcester"])
    r = kpi("validate", str(data))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "crimes.parquet and crimes.csv: 2 files for the table 'crimes'" in r.stderr, r.stderr


def test_an_empty_outcomes_table_makes_outcome_kpis_not_available_never_zero(tmp_path):
    write_table(tmp_path, "crimes", [f"C{i},2024-0{1 + i % 3}-1{i % 9},8N,true,Worcester" for i in range(40)])
    write_table(tmp_path, "outcomes", [])
    tables = read_tables(tmp_path)
    assert "outcomes" not in tables.frames
    assert any("outcomes.csv has no rows" in n for n in tables.notes)
    r = compute("2023/24 Q4", tables)
    rates = r[r["kpi_id"].str.endswith("_charge_rate") | (r["kpi_id"] == "action_taken_rate")]
    assert len(rates) and (rates["status"] != "reported").all()
    assert not (rates["value"] == 0).any()


@pytest.mark.parametrize("text, words", [
    (BOMB, "metadata.yaml: line 1: defines the anchor &a; anchors and aliases are not allowed"),
    ('extraction_date: "2025-13-40"\n', "key 'extraction_date'"),
    ("extraction_date: 9999-01-01\n", "key 'extraction_date': a date between 1990 and 2100 is expected; found '9999-01-01'"),
    ("extration_date: 2025-01-01\n", "unknown key 'extration_date'"),
    ('synthetic: "maybe"\n', "key 'synthetic'"),
    ("timezone: Europe/Londn\n", "key 'timezone': not a time zone"),
    ("- 1\n", "expected a mapping"),
])
def test_metadata_is_bounded_and_validated(tmp_path, text, words):
    write_table(tmp_path, "crimes", ["C1,2023-04-02,8N,true,Worcester"])
    (tmp_path / "metadata.yaml").write_text(text, encoding="utf-8")
    r = kpi("validate", str(tmp_path))
    assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert words in r.stderr, r.stderr


def test_the_metadata_alias_bomb_fails_fast_with_little_memory(tmp_path):
    write_table(tmp_path, "crimes", ["C1,2023-04-02,8N,true,Worcester"])
    (tmp_path / "metadata.yaml").write_text(BOMB, encoding="utf-8")
    r = subprocess.run([sys.executable, "-c", MEASURE_CSV, str(tmp_path)], capture_output=True, text=True,
                       cwd=REPO, timeout=60)
    got = json.loads(r.stdout)
    assert "anchors and aliases are not allowed" in got["outcome"], got
    assert got["extra_mb"] < 200, got  # an expanded bomb would take gigabytes; the subprocess timeout bounds a hang


# ---- periods outside the data ----------------------------------------------------------------

def test_a_period_outside_the_data_names_the_coverage():
    first, last = date(2019, 4, 1), date(2025, 3, 31)
    check_coverage(Period(2024, 4), first, last, Path("data"))
    check_coverage(Period(2019), first, last, Path("data"))
    check_coverage(Period(2025, 1), first, date(2025, 4, 1), Path("data"))  # one day is enough
    for p in (Period(2025, 1), Period(2018, 4), Period(2099, 1)):
        with pytest.raises(ParameterError) as e:
            check_coverage(p, first, last, Path("data"))
        assert "which cover 1 April 2019 to 31 March 2025 (2019/20 Q1 to 2024/25 Q4)" in str(e.value)


@pytest.mark.parametrize("period, words", [
    ("2099/00-Q1", "is outside the data in"),
    ("2018/19-Q4", "which cover 1 April 2019 to 31 March 2025"),
    ("9999/00", "period 9999/00 is out of range"),
])
@pytest.mark.integration
def test_kpi_run_refuses_a_period_outside_the_data_before_any_work(period, words, tmp_path, small_sample):
    r = kpi("run", period, "--data", str(small_sample), "--out", str(tmp_path / "out"), "--quiet", "--no-pdf")
    assert r.returncode == 1 and "Traceback" not in r.stderr and words in r.stderr, r.stderr
    assert sorted(tmp_path.iterdir()) == []


@pytest.mark.integration
def test_validation_is_skipped_only_when_a_cached_panel_vouches_for_the_same_bytes(tmp_path, small_sample, monkeypatch):
    from kpi_lib.measure.cache import get_panel
    from kpi_lib.run.runner import plan, validate
    monkeypatch.setenv("KPI_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    shutil.copytree(small_sample, data)
    pl = plan("2024/25 Q4", data, tmp_path / "out")
    first = validate(pl)
    assert first.how == "read" and first.tables is not None
    get_panel(data, pl.params, tables=first.tables)  # what the measure step stores
    again = validate(pl)
    assert again.how == "cache" and again.tables is None
    assert again.ledger == first.ledger and again.synthetic and again.extraction_date == first.extraction_date
    with pytest.raises(ParameterError, match="which cover 1 April 2019 to 31 March 2025"):
        validate(plan("2099/00 Q1", data, tmp_path / "out"))
    write_table(data, "finance", ["2024/25,4,lots,1,1,1"])  # new bytes: read and refused again
    (data / "finance.parquet").unlink(missing_ok=True)
    with pytest.raises(InputError, match="finance.csv, row 1 .*'lots'"):
        validate(pl)


def test_a_gzip_compression_bomb_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    import gzip

    from kpi_lib.inputs import parsing
    monkeypatch.setattr(parsing, "_GZIP_FLOOR", 1_000_000)
    row = b"C1,2023-04-02,8N,true,Worcester\n"
    with gzip.open(tmp_path / "crimes.csv.gz", "wb", compresslevel=9) as fh:
        fh.write(HEADERS["crimes"].encode() + b"\n")
        for _ in range(200):
            fh.write(row * 10_000)  # 64 MB of rows from a file of a few hundred KB
    size = (tmp_path / "crimes.csv.gz").stat().st_size
    with pytest.raises(InputError) as e:
        read_tables(tmp_path)
    assert f"crimes.csv.gz: expands to more than {max(200 * size, 1_000_000):,} bytes" in str(e.value)
    write_table(tmp_path / "ok", "crimes", ["C1,2023-04-02,8N,true,Worcester"])
    with open(tmp_path / "ok" / "crimes.csv", "rb") as src, gzip.open(tmp_path / "ok" / "crimes.csv.gz", "wb") as dst:
        dst.write(src.read())
    (tmp_path / "ok" / "crimes.csv").unlink()
    assert len(read_tables(tmp_path / "ok").frames["crimes"]) == 1
