"""Public data: Home Office PFA and outcomes tables, data.police.uk street files, peers.

Expected values for the real files are worked out independently of the readers: the tests add up
the published rows with Python's csv module (no pandas, no kpi_lib), using the labels the Home
Office prints, and a few totals are also pinned as literals read off the files by hand. They skip
with a clear reason when ../shared/data is absent. No real outcomes file is available: those tests
write small files in the published layout."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
import pytest

from kpi_lib import compute
from kpi_lib.analyse.engine import measurements
from kpi_lib.core.errors import InputError
from kpi_lib.core.periods import Period
from kpi_lib.inputs.detect import detect_kinds, read_any
from kpi_lib.inputs.homeoffice import peer_comparison

from helpers import kpi as kpi_command
from helpers import shared_data

pytestmark = [pytest.mark.shared, pytest.mark.integration]
SUBGROUPS = {  # STATS.md: KPI categories as the 2017/18 table labels them
    "vwi": {"Violence with injury"}, "rape": {"Rape offences"},
    "robbery": {"Robbery of business property", "Robbery of personal property"},
    "burglary_residential": {"Domestic burglary", "Residential burglary"},
    "vehicle_crime": {"Theft from a vehicle", "Theft of a motor vehicle", "Vehicle interference"},
}
FRAUD = {"Action Fraud", "CIFAS", "UK Finance", "Financial Fraud Action UK"}
VOLUME_IDS = {"vwi": "vwi_volume", "rape": "rape_volume", "robbery": "robbery_volume",
              "burglary_residential": "burglary_residential_volume", "vehicle_crime": "vehicle_crime_volume"}


def _by_hand(path: Path, force_label: str) -> dict[tuple[int, str], int]:
    """Sum 'Number of Offences' per quarter and category for one force, with the csv module."""
    sums: dict[tuple[int, str], int] = defaultdict(int)
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["Force Name"] != force_label:
                continue
            q, n = int(row["Financial Quarter"]), int(row["Number of Offences"].strip())
            if row["Offence Group"] != "Fraud offences":
                sums[(q, "trc")] += n
            for cat, labels in SUBGROUPS.items():
                if row["Offence Subgroup"] in labels:
                    sums[(q, cat)] += n
    return sums


@pytest.fixture(scope="module")
def pfa_dir():
    return shared_data("home-office")


@pytest.fixture(scope="module")
def pfa_tables(pfa_dir):
    return read_any(pfa_dir)


@pytest.mark.parametrize("quarter", [1, 2, 3, 4])
def test_west_mercia_2017_18_by_quarter(pfa_dir, pfa_tables, quarter):
    hand = _by_hand(pfa_dir / "prc-pfa-2017-18.csv", "West Mercia")
    r = compute(Period(2017, quarter), pfa_tables, families=["crime"]).set_index("kpi_id")
    assert r.loc["trc_volume", "value"] == hand[(quarter, "trc")]
    for cat, kpi in VOLUME_IDS.items():
        assert r.loc[kpi, "value"] == hand[(quarter, cat)], kpi
    assert r.loc["domestic_abuse_volume", "status"] == "not_available_from_source"
    assert r.loc["trc_volume", "source"] == "home_office"


def test_west_mercia_literal_pins(pfa_tables):
    # Read off the file by hand: West Mercia's quarterly totals (no fraud rows are filed under it).
    for q, total in {1: 22194, 2: 22254, 3: 21025, 4: 18877}.items():
        r = compute(Period(2017, q), pfa_tables, families=["crime"]).set_index("kpi_id")
        assert r.loc["trc_volume", "value"] == total


def test_another_force_with_a_renamed_label(pfa_dir):
    # The 2017/18 table says "London, City of"; the reader's canonical name is "City of London".
    from kpi_lib.inputs import homeoffice
    from kpi_lib.inputs.canonical import Tables
    t = Tables(frames={}, ledger=[], folder=str(pfa_dir))
    homeoffice.read_into(pfa_dir, t, force="City of London")
    hand = _by_hand(pfa_dir / "prc-pfa-2017-18.csv", "London, City of")
    r = compute(Period(2017, 2), t, families=["crime"]).set_index("kpi_id")
    assert r.loc["trc_volume", "value"] == hand[(2, "trc")]
    assert r.loc["robbery_volume", "value"] == hand[(2, "robbery")]


def test_fraud_bodies_are_not_forces(pfa_dir, pfa_tables):
    pfa = pfa_tables.extras["home_office_pfa"]
    assert not set(pfa["force"]) & (FRAUD | {"FRAUD"})
    led = next(e for e in pfa_tables.ledger if e.table == "home_office_pfa")
    with open(pfa_dir / "prc-pfa-2017-18.csv", newline="", encoding="utf-8") as fh:
        fraud_rows = sum(1 for row in csv.DictReader(fh) if row["Force Name"] in FRAUD)
    assert sum(led.rejected.values()) == fraud_rows and led.rows_read == led.rows_used + fraud_rows
    # England and Wales total: the territorial forces only (no fraud bodies, no BTP)
    table = peer_comparison(pfa, Period(2017, 1).start, "West Mercia", ["Warwickshire"])
    with open(pfa_dir / "prc-pfa-2017-18.csv", newline="", encoding="utf-8") as fh:
        ew = sum(int(r["Number of Offences"].strip()) for r in csv.DictReader(fh)
                 if r["Financial Quarter"] == "1" and r["Force Name"] not in FRAUD | {"British Transport Police"}
                 and r["Offence Group"] != "Fraud offences")
    assert table.set_index(["category", "measure"]).loc[("trc", "count"), "england_and_wales"] == ew


def test_negative_published_counts_are_kept_and_reported(pfa_tables):
    note = next(n for n in pfa_tables.notes if "negative count" in n)
    # first negative row in the file: line 6187 (row 6186), Cambridgeshire, Bigamy, -1
    assert "prc-pfa-2017-18.csv, row 6186, column 'Number of Offences': negative count '-1'" in note
    assert "36 such row(s)" in note


def test_peer_group_and_population_rates(pfa_dir, pfa_tables, tmp_path):
    pfa = pfa_tables.extras["home_office_pfa"]
    hand_w = _by_hand(pfa_dir / "prc-pfa-2017-18.csv", "Warwickshire")
    hand_n = _by_hand(pfa_dir / "prc-pfa-2017-18.csv", "Norfolk")
    t = peer_comparison(pfa, Period(2017, 1).start, "West Mercia", ["Warwickshire", "Norfolk"]).set_index(["category", "measure"])
    assert t.loc[("trc", "count"), "group"] == hand_w[(1, "trc")] + hand_n[(1, "trc")]
    simple = peer_comparison(pfa, Period(2017, 1).start, "West Mercia", ["Warwickshire", "Norfolk"], averaging="simple")
    assert simple.set_index(["category", "measure"]).loc[("trc", "count"), "group"] == (hand_w[(1, "trc")] + hand_n[(1, "trc")]) / 2
    pops = {"West Mercia": 1_000_000, "Warwickshire": 500_000, "Norfolk": 500_000}
    r = peer_comparison(pfa, Period(2017, 1).start, "West Mercia", ["Warwickshire", "Norfolk"], pops)
    r = r.set_index("category")
    assert r.loc["trc", "force"] == pytest.approx(22194 / 1000)  # per 1,000 people
    assert r.loc["trc", "group"] == pytest.approx(1000 * (hand_w[(1, "trc")] + hand_n[(1, "trc")]) / 1_000_000)


# ---------------------------------------------------------------------------------- police.uk
def _street_by_hand(folder: Path):
    months, robbery, vehicle, areas = Counter(), Counter(), Counter(), Counter()
    for path in sorted(folder.glob("*-street.csv")):
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row["Crime type"] == "Anti-social behaviour":
                    continue
                months[row["Month"]] += 1
                robbery[row["Month"]] += row["Crime type"] == "Robbery"
                vehicle[row["Month"]] += row["Crime type"] == "Vehicle crime"
                name = row["LSOA name"].strip()
                areas[name.rsplit(" ", 1)[0] if name else "No location"] += 1
    return months, robbery, vehicle, areas


@pytest.mark.parametrize("folder, period, literal_total, literal_asb", [
    ("west-mercia-2025", "2025/26 Q3", 102105 - 16870, 16870),
    ("west-mercia-2024-01-to-04", "2024/25 Q1", 32423 - 4956, 4956),
])
def test_police_uk_monthly_counts(folder, period, literal_total, literal_asb, config):
    path = shared_data("police-uk", folder)
    months, robbery, vehicle, areas = _street_by_hand(path)
    tables = read_any(path)
    m, _ = measurements(period, tables, config, families=["crime"])
    got = {(r.kpi_id, r.window_start.strftime("%Y-%m")): r.value for r in m.itertuples()
           if r.window_kind == "month" and r.status == "reported"}
    for month in months:
        assert got[("trc_volume", month)] == months[month], month
        assert got[("robbery_volume", month)] == robbery[month]
        assert got[("vehicle_crime_volume", month)] == vehicle[month]
    if literal_total is not None:
        assert sum(months.values()) == literal_total
        asb = sum(sum(e.rejected.values()) for e in tables.ledger)
        assert asb == literal_asb
    rows = tables.extras["police_uk_rows"]
    assert rows.groupby("local_area").size().to_dict() == dict(areas)
    assert sum(areas.values()) == sum(months.values())  # rows without a location are still crimes


def test_police_uk_vintage_caveat_differs():
    t24 = read_any(shared_data("police-uk", "west-mercia-2024-01-to-04"))
    t25 = read_any(shared_data("police-uk", "west-mercia-2025"))
    assert any("Under investigation" in n for n in t24.notes)
    assert any("not a Home Office outcome type" in n for n in t25.notes)


def test_police_uk_unsupported_kpis():
    tables = read_any(shared_data("police-uk", "west-mercia-2025"))
    r = compute("2025/26 Q1", tables, families=["crime"]).set_index(["kpi_id", "basis"])
    for kpi in ("vwi_volume", "rape_volume", "burglary_residential_volume", "domestic_abuse_volume"):
        assert r.loc[(kpi, ""), "status"] == "not_available_from_source"
    assert r.loc[("trc_charge_rate", "cohort"), "status"] == "not_available_from_source"
    assert r.loc[("robbery_volume", ""), "status"] == "reported"


# ------------------------------------------------------------------- outcomes tables (synthetic)
PFA_HEADER = "Financial Year,Financial Quarter,Force Name,Offence Description,Offence Group,Offence Subgroup,Offence Code,Number of Offences"
OUT_HEADER = ("Financial Year,Financial Quarter,Force Name,Offence Description,Offence Group,Offence Subgroup,"
              "Offence Code,Outcome Description,Outcome Group,Outcome Type,"
              "Number of outcomes for offences that were recorded in the quarter,"
              "Number of outcomes for investigations that were closed in the quarter")


def _write(folder: Path, name: str, header: str, rows: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return p


def test_outcomes_table_in_the_published_layout(tmp_path):
    _write(tmp_path, "pfa.csv", PFA_HEADER, [
        "2023/24,1,West Mercia Police,Assault with injury,Violence against the person,Violence with injury,8N, 200 ",
        "2023/24,1,West Mercia Police,Shoplifting,Theft offences,Shoplifting,46, 100 ",
        "2023/24,1,Action Fraud,Fraud,Fraud offences,Fraud: action fraud,AF, 5000 ",
    ])
    _write(tmp_path, "outcomes.csv", OUT_HEADER, [
        "2023/24,1,West Mercia,Assault with injury,Violence against the person,Violence with injury,8N,Charged,Charge/summons,1, 30 , 25 ",
        "2023/24,1,West Mercia,Assault with injury,Violence against the person,Violence with injury,8N,Alternative offence,Charge/summons,1A, 4 , 3 ",
        "2023/24,1,West Mercia,Shoplifting,Theft offences,Shoplifting,46,Charged,Charge/summons,1, 20 , -2 ",
        "2023/24,1,West Mercia,Shoplifting,Theft offences,Shoplifting,46,Not yet assigned,Not yet assigned,0, 50 , 0 ",
    ])
    assert detect_kinds(tmp_path) == ["home_office"]
    t = read_any(tmp_path)
    r = compute("2023/24 Q1", t, families=["crime"]).set_index(["kpi_id", "basis"])
    # type 1 only (1A is an "of which" row inside type 1): cohort (30 + 20) / 300; in-period (25 - 2) / 300
    assert r.loc[("trc_volume", ""), "value"] == 300
    assert r.loc[("trc_charge_rate", "cohort"), "value"] == pytest.approx(100 * 50 / 300)
    assert r.loc[("trc_charge_rate", "in_period"), "value"] == pytest.approx(100 * 23 / 300)
    assert r.loc[("vwi_charge_rate", "cohort"), "value"] == pytest.approx(100 * 30 / 200)
    assert "16.7% not yet assigned" in r.loc[("trc_charge_rate", "cohort"), "note"]  # 50 / 300
    led = next(e for e in t.ledger if e.table == "home_office_outcomes")
    assert led.rejected == {"'of which' rows 1A/2A/3A (already inside types 1/2/3)": 1}
    assert any("negative count '-2'" in n and "row 3" in n for n in t.notes)
    assert any("outcome type 1" in n for n in t.notes)


@pytest.mark.parametrize("rows, header, words", [
    (["2017/18,1,West Mercia,X,Theft offences,Shoplifting,46,12"], PFA_HEADER.replace("Offence Code,", ""),
     ["pfa.csv", "missing column 'Offence Code'"]),
    (["2017/18,1,West Mercia,X,Theft offences,Shoplifting,46,12"], PFA_HEADER.replace("Number of Offences", "Offences"),
     ["pfa.csv", "unknown header 'Offences'"]),
    (["2017/18,1,West Mercia,X,Theft offences,Shoplifting,46,twelve"], PFA_HEADER,
     ["pfa.csv", "row 1", "column 'Number of Offences'", "'twelve'", "not a number"]),
    (["2017/18,1,West Mercia,X,Theft offences,Shoplifting,46,1", "2017/18,1,Gotham City,X,Theft offences,Shoplifting,46,1"], PFA_HEADER,
     ["pfa.csv", "row 2", "column 'Force Name'", "'Gotham City'", "unknown force"]),
    (["2017/18,1,West Mercia,X,Theft offences,Made-up subgroup,ZZ1,1"], PFA_HEADER,
     ["pfa.csv", "row 1", "column 'Offence Code'", "'ZZ1'", "unknown offence code"]),
])
def test_bad_public_files_give_one_clear_message(tmp_path, rows, header, words):
    _write(tmp_path, "pfa.csv", header, rows)
    if "Offence Code" not in header:  # a file that no longer looks like a PFA table is not detected
        with pytest.raises(InputError, match="no recognised input files"):
            read_any(tmp_path)
        from kpi_lib.inputs.homeoffice import read_pfa
        with pytest.raises(InputError) as e:
            read_pfa(tmp_path / "pfa.csv")
    else:
        with pytest.raises(InputError) as e:
            read_any(tmp_path)
    for w in words:
        assert w in str(e.value), str(e.value)
    r = kpi_command("validate", tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr


def test_a_code_placed_by_its_label(tmp_path):
    # a code newer than the mapping, but with a known subgroup label, is placed by the label
    _write(tmp_path, "pfa.csv", PFA_HEADER, ["2017/18,1,West Mercia,New offence,Violence against the person,Violence with injury,8Z,7"])
    r = compute("2017/18 Q1", read_any(tmp_path), families=["crime"]).set_index("kpi_id")
    assert r.loc["vwi_volume", "value"] == 7


# --------------------------------------------------------------------------- the whole pipeline
@pytest.mark.notebooks
def test_kpi_run_on_the_real_pfa_table(pfa_dir, tmp_path):
    from kpi_lib.run.runner import run_period
    res = run_period("2017/18 Q3", pfa_dir, tmp_path / "pfa", jobs=2, quiet=True, pdf=False)
    k = pd.read_csv(res.out / "results" / "kpis.csv").set_index(["kpi_id", "headline"]).xs(True, level=1)
    hand = _by_hand(pfa_dir / "prc-pfa-2017-18.csv", "West Mercia")
    assert k.loc["trc_volume", "value"] == hand[(3, "trc")]
    assert k.loc["robbery_volume", "value"] == hand[(3, "robbery")]
    for kpi in ("domestic_abuse_volume", "trc_charge_rate", "calls_999_within_10s", "victim_satisfaction"):
        assert k.loc[kpi, "status"] == "not_available_from_source"
    html = (res.out / "report.html").read_text()
    assert "Open Government Licence v3.0" in html and "SYNTHETIC SAMPLE DATA" not in html
    assert "West Mercia against its comparison group and England and Wales" in html  # the peer table


@pytest.mark.notebooks
def test_kpi_run_on_a_police_uk_quarter(tmp_path):
    from kpi_lib.run.runner import run_period
    folder = shared_data("police-uk", "west-mercia-2025")
    months, robbery, vehicle, _ = _street_by_hand(folder)
    res = run_period("2025/26 Q1", folder, tmp_path / "puk", jobs=2, quiet=True, pdf=False)
    k = pd.read_csv(res.out / "results" / "kpis.csv").set_index(["kpi_id", "headline"]).xs(True, level=1)
    q1 = ["2025-04", "2025-05", "2025-06"]
    assert k.loc["trc_volume", "value"] == sum(months[m] for m in q1)
    assert k.loc["vehicle_crime_volume", "value"] == sum(vehicle[m] for m in q1)
    assert k.loc["vwi_volume", "status"] == "not_available_from_source"
    assert "Open Government Licence v3.0" in (res.out / "report.html").read_text()


def test_police_uk_outcomes_files_are_read_but_not_used_for_rates(tmp_path):
    street = ",".join(["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
                       "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"])
    _write(tmp_path, "2025-01-west-mercia-street.csv", street, [
        "a1,2025-01,West Mercia Police,West Mercia Police,-2.1,52.1,On or near X,E01,Worcester 001A,Robbery,Under investigation,",
        ",2025-01,West Mercia Police,West Mercia Police,-2.1,52.1,On or near X,E01,Worcester 001A,Anti-social behaviour,,",
        "a2,2025-01,West Mercia Police,West Mercia Police,,,No location,,,Vehicle crime,Under investigation,",
    ])
    _write(tmp_path, "2025-01-west-mercia-outcomes.csv",
           "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type",
           ["a1,2025-01,West Mercia Police,West Mercia Police,-2.1,52.1,On or near X,E01,Worcester 001A,Suspect charged"])
    t = read_any(tmp_path)
    assert any("not Home Office outcome types" in n and "Suspect charged 1" in n for n in t.notes)
    rows = t.extras["police_uk_rows"]
    assert len(rows) == 2 and set(rows["local_area"]) == {"Worcester", "No location"}


@pytest.mark.parametrize("ext, engine", [("xlsx", "openpyxl"), ("ods", "odf")])
def test_pfa_table_as_a_spreadsheet(tmp_path, ext, engine):
    rows = [["2017/18", "1", "West Mercia", "Robbery of personal property", "Robbery",
             "Robbery of personal property", "34B", " 12 "],
            ["2017/18", "1", "CIFAS", "Fraud", "Fraud offences", "Fraud: CIFAS", "CIFAS", " 900 "]]
    df = pd.DataFrame(rows, columns=PFA_HEADER.split(","))
    df.to_excel(tmp_path / f"pfa.{ext}", index=False, engine=engine)
    t = read_any(tmp_path)
    r = compute("2017/18 Q1", t, families=["crime"]).set_index("kpi_id")
    assert r.loc["robbery_volume", "value"] == 12 and r.loc["trc_volume", "value"] == 12
