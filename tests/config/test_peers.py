"""Peer settings and the population table are checked like inputs: a population file with other
columns, a relative path, bad rows: one message naming the file, row, line, column and value,
never a KeyError, and a relative path is read beside the settings file that names it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kpi_lib.cli import app
from kpi_lib.config.params import load_params
from kpi_lib.config.peers import load_peer_settings
from kpi_lib.core.errors import InputError, ParameterError

PARAMS = load_params()


def _peers(folder, population: str | None, text: str | None = None):
    folder.mkdir(parents=True, exist_ok=True)
    peers = folder / "peers.yaml"
    peers.write_text('force: "West Mercia"\ngroup: ["Warwickshire", "Norfolk"]\naveraging: weighted\n'
                     + ("population_file: population.csv\n" if population is not None else ""))
    if population is not None:
        (folder / "population.csv").write_text(population if text is None else text)
    return {**PARAMS, "peers_file": str(peers)}


GOOD = "# ONS mid-2023 estimates\nforce,population\nWest Mercia,1320000\nWarwickshire,620000\n\nNorfolk,930000\n"


def test_a_relative_population_file_is_read_beside_the_settings_file(tmp_path, monkeypatch):
    params = _peers(tmp_path / "settings", GOOD)
    monkeypatch.chdir(tmp_path)  # not the settings folder: the old reader looked here
    got = load_peer_settings(params)
    assert got["populations"] == {"West Mercia": 1_320_000, "Warwickshire": 620_000, "Norfolk": 930_000}
    assert got["settings"]["population_file"] == str((tmp_path / "settings" / "population.csv").resolve())
    (tmp_path / "settings" / "population.csv").unlink()
    with pytest.raises(ParameterError) as e:
        load_peer_settings(params)
    assert "population_file 'population.csv' not found (looked for " \
           f"{(tmp_path / 'settings' / 'population.csv').resolve()}, beside the settings file)" in str(e.value)


@pytest.mark.parametrize("text, message", [
    ("Force Name,Population (mid-2023)\nWest Mercia,1\n",
     "population.csv, column 'Force Name': unknown column 'Force Name'; expected exactly the columns force, population"),
    ("force,population ,Population\nWest Mercia,1,1\n",
     "population.csv, column 'Population': the column 'population' appears twice in the header: column 2 and column 3"),
    ("force,population\n\nWest Mercia,1320000\nWarwickshire,-5\n",
     "population.csv, row 2 (line 4), column 'population': not a positive number; found '-5'"),
    ("force,population\nWest Mercia,1320000\nGotham,5\n",
     "population.csv, row 2 (line 3), column 'force': not a police force; found 'Gotham'"),
    ("force,population\nWest Mercia,1320000\nWest Mercia Police,5\n",
     "population.csv, row 2 (line 3), column 'force': force listed twice; found 'West Mercia Police'"),
    ("force,population\nWest Mercia,1320000\nWarwickshire,620000\n",
     "population.csv: no population for Norfolk; expected a row for the force and every force of its comparison group"),
])
def test_a_bad_population_table_is_one_clear_error(tmp_path, text, message):
    params = _peers(tmp_path, "", text)
    with pytest.raises(InputError) as e:
        load_peer_settings(params)
    assert str(e.value).startswith(message), str(e.value)


def test_kpi_run_names_a_bad_population_table_before_any_work(tmp_path, small_sample):
    params = _peers(tmp_path / "settings", "", "Force Name,Population\nWest Mercia,1\n")
    run_params = tmp_path / "run.yaml"
    run_params.write_text(f"peers_file: {params['peers_file']}\n")
    r = CliRunner().invoke(app, ["run", "2024/25-Q4", "--data", str(small_sample), "--out", str(tmp_path / "out"),
                                 "--params", str(run_params), "--quiet", "--no-pdf"])
    assert r.exit_code == 1 and r.exception is None or isinstance(r.exception, SystemExit)
    assert "population.csv, column 'Force Name': unknown column 'Force Name'" in r.output
    assert "could not write its files" not in r.output and not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, words", [
    ('force: "West Mercia"\ngroup: ["Warwickshire"]\naveraging: mean\n', "averaging is 'mean'"),
    ('force: "West Mercia"\ngroup: ["Narnia"]\n', "a member of group is 'Narnia', which is not a police force"),
    ('force: "West Mercia"\ngroups: ["Warwickshire"]\n', "unknown key 'groups'"),
])
def test_bad_peer_settings_are_one_clear_error(tmp_path, text, words):
    peers = tmp_path / "peers.yaml"
    peers.write_text(text)
    with pytest.raises(ParameterError) as e:
        load_peer_settings({**PARAMS, "peers_file": str(peers)})
    assert words in str(e.value) and str(peers) in str(e.value)
