"""Double counting and the wrong force, built from the real public files: two Home Office releases
of one year, a police.uk month downloaded twice, another force's street file, the same Crime ID in
two files, and a peer file naming another force. Each is one error naming both files (or both
forces), and the clean folder gives the published figures. Skipped without ../shared/data."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from kpi_lib import compute
from kpi_lib.config.params import load_params
from kpi_lib.core.errors import InputError
from kpi_lib.inputs.detect import read_any, read_with_settings

from helpers import shared_data

pytestmark = pytest.mark.shared
PARAMS = load_params()


def _linked(folder: Path, files: list[Path]) -> Path:
    """A data folder of links to the real files (nothing copied)."""
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        (folder / f.name).symlink_to(f)
    return folder


def _hand_total(path: Path, force: str, quarter: str) -> int:
    with open(path, newline="", encoding="utf-8") as fh:
        return sum(int(r["Number of Offences"].strip()) for r in csv.DictReader(fh)
                   if r["Force Name"] == force and r["Financial Quarter"] == quarter
                   and r["Offence Group"] != "Fraud offences")


# ------------------------------------------------------------------------------ Home Office
def test_two_releases_of_one_year_are_refused_naming_both(tmp_path):
    pfa = shared_data("home-office", "prc-pfa-2017-18.csv")
    data = _linked(tmp_path / "data", [pfa])
    (data / "prc-pfa-2017-18-republished.csv").symlink_to(pfa)
    with pytest.raises(InputError) as e:
        read_any(data)
    msg = str(e.value)
    assert msg.startswith("prc-pfa-2017-18.csv, row ") and "is also in prc-pfa-2017-18-republished.csv" in msg \
        or msg.startswith("prc-pfa-2017-18-republished.csv, row ") and "is also in prc-pfa-2017-18.csv (row 1)" in msg, msg
    assert "two releases of the recorded crime tables for the same quarter would be counted twice" in msg
    (data / "prc-pfa-2017-18-republished.csv").unlink()
    r = compute("2017/18 Q4", read_any(data), families=["crime"]).set_index("kpi_id")
    assert r.loc["trc_volume", "value"] == _hand_total(pfa, "West Mercia", "4") == 18_877


def test_the_home_office_force_comes_from_the_metadata_and_must_match_the_peers(tmp_path):
    pfa = shared_data("home-office", "prc-pfa-2017-18.csv")
    data = _linked(tmp_path / "data", [pfa])
    peers = tmp_path / "peers.yaml"
    peers.write_text('force: "Warwickshire"\ngroup: ["West Mercia", "Norfolk"]\n')
    params = {**PARAMS, "peers_file": str(peers)}
    # no metadata: the peer settings name the force, and the KPIs are that force's
    t = read_with_settings(data, params)
    r = compute("2017/18 Q2", t, families=["crime"]).set_index("kpi_id")
    assert r.loc["trc_volume", "value"] == _hand_total(pfa, "Warwickshire", "2") and t.force == "Warwickshire"
    # the metadata names West Mercia, the peer settings Warwickshire: stop, saying which is which
    (data / "metadata.yaml").write_text('force: "West Mercia Police"\n')
    with pytest.raises(InputError) as e:
        read_with_settings(data, params)
    assert str(e.value) == (f"metadata.yaml: names the force 'West Mercia', but the peer settings ({peers}) name "
                            "'Warwickshire': the KPIs would be West Mercia's and the peer comparison "
                            "Warwickshire's; expected the same force in both (the 'force' key of each)")
    # the metadata alone decides when the peer settings agree
    assert read_with_settings(data, PARAMS).force == "West Mercia Police"


def test_a_peer_file_naming_no_force_is_refused(tmp_path):
    from kpi_lib.config.peers import load_peer_settings
    from kpi_lib.core.errors import ParameterError
    peers = tmp_path / "peers.yaml"
    peers.write_text('force: "Gotham"\ngroup: []\n')
    with pytest.raises(ParameterError, match="force is 'Gotham', which is not a police force"):
        load_peer_settings({**PARAMS, "peers_file": str(peers)})


# ------------------------------------------------------------------------------ police.uk
@pytest.fixture(scope="module")
def street_2025():
    return sorted(shared_data("police-uk", "west-mercia-2025").glob("*-street.csv"))


def _count(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as fh:
        return sum(1 for r in csv.DictReader(fh) if r["Crime type"] != "Anti-social behaviour")


def test_a_month_downloaded_twice_is_refused_naming_both(tmp_path, street_2025):
    data = _linked(tmp_path / "data", street_2025[:3])
    (data / "2025-03-west-mercia-street (1).csv").symlink_to(street_2025[2])
    with pytest.raises(InputError) as e:
        read_any(data)
    assert str(e.value).startswith("2025-03-west-mercia-street.csv, row 1 (line 2), column 'Month': the month "
                                   "2025-03 is also in 2025-03-west-mercia-street (1).csv"), str(e.value)
    (data / "2025-03-west-mercia-street (1).csv").unlink()
    m = compute("2024/25 Q4", read_any(data), families=["crime"]).set_index(["kpi_id", "basis"])
    assert m.loc[("trc_volume", ""), "value"] == sum(_count(p) for p in street_2025[:3])  # January to March 2025


def test_another_forces_street_file_is_refused(tmp_path, street_2025):
    data = _linked(tmp_path / "data", street_2025[:1])
    lines = street_2025[1].read_text(encoding="utf-8").splitlines()
    btp = [lines[0]] + [ln.replace("West Mercia Police", "British Transport Police") for ln in lines[1:40]]
    (data / "2025-02-british-transport-police-street.csv").write_text("\n".join(btp) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_any(data)
    assert str(e.value).startswith("2025-02-british-transport-police-street.csv, row 1 (line 2), column "
                                   "'Falls within': a record of another force; found 'British Transport Police'; "
                                   "expected 'West Mercia'"), str(e.value)


def test_the_same_crime_in_two_files_is_refused(tmp_path, street_2025):
    data = _linked(tmp_path / "data", street_2025[:1])
    jan = street_2025[0].read_text(encoding="utf-8").splitlines()
    feb = street_2025[1].read_text(encoding="utf-8").splitlines()
    moved = [ln.replace(",2025-01,", ",2025-02,", 1) for ln in jan[1:] if ln.split(",")[0]][:5]
    (data / street_2025[1].name).write_text("\n".join(feb + moved) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_any(data)
    crime_id = moved[0].split(",")[0]
    assert "column 'Crime ID': Crime ID also in 2025-01-west-mercia-street.csv (row " in str(e.value)
    assert f"found {crime_id!r}" in str(e.value) and "(and 4 more rows with the same problem)" in str(e.value)


def test_crime_ids_repeated_inside_one_published_file_are_counted_and_noted(street_2025, tmp_path):
    t = read_any(_linked(tmp_path / "data", street_2025))
    ids = []
    for p in street_2025:
        with open(p, newline="", encoding="utf-8") as fh:
            seen = [r["Crime ID"] for r in csv.DictReader(fh) if r["Crime ID"]]
        ids.append(len(seen) - len(set(seen)))
    note = next(n for n in t.notes if "second row of the same monthly file" in n)
    assert note.startswith(f"{sum(ids):,} Crime IDs appear on a second row") and sum(ids) == 36
    assert len(t.extras["police_uk_rows"]) == sum(_count(p) for p in street_2025)
