"""The panel cache: a rerun with unchanged inputs reuses the stored panel and computes nothing;
any change to an input, a setting or the code makes a new key; a damaged entry is rebuilt."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from kpi_lib.config.configuration import load_configuration
from kpi_lib.measure import cache, panel

pytestmark = pytest.mark.integration

CONFIG = load_configuration()
PARAMS = CONFIG.params


@pytest.fixture
def data(small_sample, tmp_path):
    return shutil.copytree(small_sample, tmp_path / "data")


def _no_build(*a, **k):
    raise AssertionError("the panel was measured again")


def test_rerun_is_a_hit_and_computes_nothing(data, tmp_path, monkeypatch):
    root = tmp_path / "cache"
    first, rep1 = cache.get_panel(data, PARAMS, root=root)
    assert not rep1.hit and (rep1.path / "complete.json").exists()
    monkeypatch.setattr(panel, "build_panel", _no_build)
    monkeypatch.setattr("kpi_lib.inputs.detect.read_any", _no_build)
    again, rep2 = cache.get_panel(data, PARAMS, root=root)
    assert rep2.hit and rep2.key == rep1.key
    assert rep2.as_dict()["panel_cache"] == "hit"
    pd.testing.assert_frame_equal(first.measurements.reset_index(drop=True), again.measurements)


def test_every_change_makes_a_new_key(data, monkeypatch):
    base = cache.cache_key(data, PARAMS)
    assert cache.cache_key(data, PARAMS) == base  # stable
    assert cache.cache_key(data, {**PARAMS, "threshold_999_seconds": 11}) != base
    meta = data / "metadata.yaml"
    meta.write_text(meta.read_text() + "\n# edited\n")
    changed_input = cache.cache_key(data, PARAMS)
    assert changed_input != base
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "another version")
    assert cache.cache_key(data, PARAMS) not in (base, changed_input)


@pytest.fixture(scope="module")
def built_cache(small_sample, tmp_path_factory):
    """A cache holding the small sample's panel, built once; each test damages its own copy."""
    root = tmp_path_factory.mktemp("built-cache") / "cache"
    _, rep = cache.get_panel(small_sample, PARAMS, root=root)
    assert not rep.hit
    return root, rep.path.relative_to(root)


@pytest.mark.parametrize("damage", ["truncate", "no_marker", "garbage_marker", "missing_file"])
def test_a_damaged_entry_is_ignored_and_rebuilt(small_sample, built_cache, tmp_path, damage):
    root = shutil.copytree(built_cache[0], tmp_path / "cache")
    entry = root / built_cache[1]
    assert cache.load_entry(entry) is not None
    data = small_sample
    if damage == "truncate":
        f = entry / "measurements.parquet"
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    elif damage == "no_marker":
        (entry / "complete.json").unlink()
    elif damage == "garbage_marker":
        (entry / "complete.json").write_text("{not json")
    else:
        (entry / "maturity.parquet").unlink()
    assert cache.load_entry(entry) is None
    rebuilt, rep2 = cache.get_panel(data, PARAMS, root=root)
    assert not rep2.hit and "damaged" in rep2.note
    assert cache.load_entry(entry) is not None and len(rebuilt.measurements)


def test_measure_run_writes_the_panel_for_the_notebooks(data, tmp_path):
    out = tmp_path / "run"
    rep = cache.measure_run(data, PARAMS, out, root=tmp_path / "cache")
    loaded = panel.load(out / "results")
    assert not rep.hit and len(loaded.whole_force()) and loaded.synthetic
    assert cache.measure_run(data, PARAMS, out, root=tmp_path / "cache").hit


# ------------------------------------------------------------------ family results and combine
def test_family_results_combine_into_the_run_tables(data, tmp_path, monkeypatch):
    """start_family for every registered family, then combine_run: kpis.csv (schema-checked, one
    row per KPI and basis), spc.csv, history.csv (8 quarters) and, at Q4, year_kpis.csv."""
    from kpi_lib.analyse.results import combine_run, read_results
    from kpi_lib.measure import registry
    from kpi_lib.present.notebook import start_family
    monkeypatch.setenv("KPI_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    for name in registry.NAMES:
        run = start_family(name, "2024/25 Q4", str(data), str(out))
        assert set(run.results["family"]) == {name}
    combine_run(out)
    res = out / "results"
    kpis = read_results(res / "kpis.csv")
    assert not kpis.duplicated(["kpi_id", "basis"]).any() and kpis["verdict"].str.len().gt(0).all()
    spc = pd.read_csv(res / "spc.csv")
    assert list(spc.columns[:12]) == ["kpi_id", "basis", "x", "y", "mean", "lpl", "upl", "variation", "rule",
                                      "segment", "adjustment", "limits_clipped"]
    charted = kpis[kpis["spc_points"] > 0]
    assert set(charted["kpi_id"]) == set(spc["kpi_id"])
    # each chart has as many points as the table says
    counts = spc.dropna(subset=["y"]).groupby(["kpi_id", spc["basis"].fillna("")]).size()
    for _, r in charted.iterrows():
        assert counts[(r["kpi_id"], r["basis"])] == r["spc_points"]
    hist = pd.read_csv(res / "history.csv")
    assert (hist.groupby("kpi_id").size() == 8).all() and hist["quarter"].iloc[-1] == "2024/25 Q4"
    q4 = kpis.set_index(["kpi_id", "basis"]).loc[("trc_volume", "")]
    assert hist[(hist["kpi_id"] == "trc_volume")]["value"].iloc[-1] == q4["value"]
    year = read_results(res / "year_kpis.csv")
    assert set(year["period"]) == {"2024/25"}
    # the year's volume is the sum of its four quarters, from the history table
    assert year.set_index(["kpi_id", "basis"]).loc[("trc_volume", ""), "value"] == \
        hist[(hist["kpi_id"] == "trc_volume") & hist["quarter"].str.startswith("2024/25")]["value"].sum()


def test_a_bad_result_table_is_refused_with_row_and_column(data, tmp_path):
    from kpi_lib.analyse import engine
    from kpi_lib.analyse.results import write_results
    from kpi_lib.core.errors import KpiError
    table = engine.compute("2024/25 Q4", cache.get_panel(data, PARAMS, root=tmp_path / "c")[0], CONFIG)
    bad = table.copy()
    bad.loc[3, "status"] = "nearly"
    with pytest.raises(KpiError, match=r"row 5 .*column status: value 'nearly'"):
        write_results(bad, tmp_path / "kpis.csv")
    assert not (tmp_path / "kpis.csv").exists()
    with pytest.raises(KpiError, match="missing"):
        write_results(table.drop(columns="verdict"), tmp_path / "kpis.csv")


def test_cached_panel_reads_nothing_but_hashes(data, tmp_path, monkeypatch):
    root = tmp_path / "cache"
    assert cache.cached_panel(data, PARAMS, root=root) is None
    built, _ = cache.get_panel(data, PARAMS, root=root)
    monkeypatch.setattr("kpi_lib.inputs.detect.read_any", _no_build)
    found = cache.cached_panel(data, PARAMS, root=root)
    assert found is not None and found.info["ledger"] == built.info["ledger"]
    assert {e["table"] for e in found.info["ledger"]} >= {"crimes", "calls", "incidents"}


def test_the_cache_keeps_only_the_most_recent_entries(tmp_path):
    import os
    panels = tmp_path / "panels"
    for i in range(5):
        (panels / f"k{i}").mkdir(parents=True)
        os.utime(panels / f"k{i}", (1000 + i, 1000 + i))
    (panels / ".k9.tmp").mkdir()
    removed = cache.prune(panels, keep=2)
    assert sorted(p.name for p in removed) == ["k0", "k1", "k2"]
    assert sorted(p.name for p in panels.iterdir()) == [".k9.tmp", "k3", "k4"]
