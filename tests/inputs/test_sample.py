"""The synthetic sample generator: deterministic, labelled synthetic, calibrated."""

from __future__ import annotations

import hashlib

from kpi_lib.inputs.sample import generate


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, scale=0.02, first_fy=2023, last_fy=2024)
    generate(b, scale=0.02, first_fy=2023, last_fy=2024)
    generate(c, scale=0.02, first_fy=2023, last_fy=2024, seed=7)
    assert _digest(a) == _digest(b)
    assert _digest(a)["crimes.parquet"] != _digest(c)["crimes.parquet"]


def test_says_it_is_synthetic(small_sample):
    assert "SYNTHETIC" in (small_sample / "README.md").read_text()
    assert "synthetic: true" in (small_sample / "metadata.yaml").read_text()


def test_calibration_on_the_small_sample(small_tables):
    crimes = small_tables.frames["crimes"]
    per_year = len(crimes) / 6 / 0.05
    assert 80_000 <= per_year <= 95_000
    calls = small_tables.frames["calls"]
    per_year_999 = (calls["line"] == "999").sum() / 6 / 0.05
    assert 150_000 <= per_year_999 <= 230_000
    outcomes = small_tables.frames["outcomes"]
    assert (outcomes["outcome_type"] == "0").any()  # recent outcomes not yet assigned
    inc = small_tables.frames["incidents"]
    local = inc["created_at"].dt.tz_convert("Europe/London")
    # some incidents are created on a clock-change day
    assert local.dt.strftime("%m-%d").isin(["10-27", "10-29", "10-30", "10-31", "03-26", "03-27", "03-28", "03-31"]).any()
    w = small_tables.frames["survey_responses"]["weight"]
    assert w.nunique() > 10  # real weights, not all 1
