"""Clear errors where there were tracebacks or wrong words: a header given twice (even differing
only in spaces or case) names both columns, and line numbers count blank lines and quoted fields
that span lines, in every reader."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi_lib.core.errors import InputError
from kpi_lib.inputs import read_tables
from kpi_lib.inputs.detect import read_any

from helpers import HEADERS, write_table


@pytest.mark.parametrize("header, second", [
    ("crime_ref,recorded_date,offence_code,domestic_abuse,local_area,crime_ref ", "'crime_ref '"),
    ("crime_ref,recorded_date,offence_code,domestic_abuse,local_area,crime_ref", "'crime_ref'"),
    ("crime_ref,recorded_date,offence_code,domestic_abuse,local_area, Local_Area", "' Local_Area'"),
])
def test_a_header_given_twice_names_both_columns(tmp_path, header, second):
    """A header twice with a trailing space used to raise AttributeError; given exactly twice, the
    first column was used silently."""
    n = len(header.split(","))
    write_table(tmp_path, "crimes", ["C1,2024-04-02,8N,true,Worcester,C9"], header=header)
    with pytest.raises(InputError) as e:
        read_tables(tmp_path)
    msg = str(e.value)
    assert msg.startswith("crimes.csv, column "), msg
    assert "appears twice in the header: column " in msg and f"and column {n} ({second})" in msg
    assert "expected each column once" in msg


def test_a_parquet_table_with_a_column_twice_modulo_spaces(tmp_path):
    pd.DataFrame([["C1", "2024-04-02", "8N", True, "Worcester", "x"]],
                 columns=["crime_ref", "recorded_date", "offence_code", "domestic_abuse", "local_area", "local_area "]
                 ).to_parquet(tmp_path / "crimes.parquet")
    with pytest.raises(InputError, match=r"crimes.parquet, column 'local_area': the column 'local_area' appears "
                                         r"twice in the header: column 5 \('local_area'\) and column 6"):
        read_tables(tmp_path)


def test_a_home_office_header_twice_is_named(tmp_path):
    (tmp_path / "pfa.csv").write_text(
        "Financial Year,Financial Quarter,Force Name,Offence Description,Offence Group,Offence Subgroup,"
        "Offence Code,Number of Offences,number of  offences\n2017/18,1,West Mercia,X,Robbery,Robbery of "
        "personal property,34B,5,6\n")
    with pytest.raises(InputError, match=r"pfa.csv, column 'number of  offences': the column 'number of offences' "
                                         r"appears twice in the header: column 8"):
        read_any(tmp_path)


def test_line_numbers_count_blank_lines_and_lines_inside_quotes(tmp_path):
    """Blank lines are skipped by the CSV reader, so "line = row + 1" was wrong after them."""
    path = tmp_path / "crimes.csv"
    path.write_text(HEADERS["crimes"] + "\n\n"
                    "C1,2024-04-02,8N,true,Worcester\n"
                    "   \n"
                    'C2,2024-04-03,8N,true,"Worcester\nNorth"\n'
                    "\n"
                    "C3,2024-04-31,8N,true,Worcester\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_tables(tmp_path)
    # the third data row starts on the 8th line of the file
    assert str(e.value).startswith("crimes.csv, row 3 (line 8), column 'recorded_date': not a date; found "
                                   "'2024-04-31'"), str(e.value)
    assert path.read_text().splitlines()[7].startswith("C3,2024-04-31")


def test_line_numbers_in_a_later_check_and_in_a_public_file(tmp_path):
    write_table(tmp_path / "a", "crimes", ["C1,2024-04-02,8N,true,Worcester", "", "", "C1,2024-04-03,8N,true,Worcester"])
    with pytest.raises(InputError, match=r"crimes.csv, row 2 \(line 5\), column 'crime_ref': reference used twice"):
        read_tables(tmp_path / "a")
    street = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
              "Last outcome category,Context\n\n"
              "a1,2025-01,West Mercia Police,West Mercia Police,,,No location,,,Robbery,Under investigation,\n\n"
              "a2,2025-13,West Mercia Police,West Mercia Police,,,No location,,,Robbery,Under investigation,\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2025-01-west-mercia-street.csv").write_text(street)
    with pytest.raises(InputError, match=r"2025-01-west-mercia-street.csv, row 2 \(line 5\), column 'Month': not a month"):
        read_any(tmp_path / "b")
