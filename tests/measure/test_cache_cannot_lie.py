"""A cache that cannot lie: every input and every file a setting points to is hashed by content
before it is read, the readers read exactly the bytes hashed, a file that changes during a run
stops it, and a cache that cannot be used never stops a run."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_lib.config.params import load_params
from kpi_lib.core.errors import KpiError
from kpi_lib.measure import cache
from kpi_lib.measure import panel as panel_mod

PARAMS = load_params()
HEADER = "crime_ref,recorded_date,offence_code,domestic_abuse,local_area"


def _crimes(n: int, prefix: str = "C") -> str:
    """``n`` crimes recorded in April 2024 (2024/25 Q1), the first on its last day: with no
    extraction date, a month counts as covered only when a record reaches its last day."""
    return "\n".join([HEADER, *(f"{prefix}{i},2024-04-{30 - i % 28:02d},8N,false,Worcester" for i in range(n))]) + "\n"


def _april(pnl) -> float:
    m = pnl.whole_force()
    row = m[(m["kpi_id"] == "trc_volume") & (m["window_kind"] == "month")
            & (pd.to_datetime(m["window_start"]) == "2024-04-01")]
    return float(row["value"].iloc[0])


def _entries(root: Path) -> dict[str, float]:
    panels = root / "panels"
    if not panels.exists():
        return {}
    return {p.name: _april(cache.load_entry(p)) for p in panels.iterdir()
            if p.is_dir() and not p.name.startswith(".") and cache.load_entry(p) is not None}


def _replace(path: Path, text: str, in_place: bool) -> None:
    if in_place:  # the same file written over (same inode)
        with open(path, "r+b") as fh:
            fh.truncate(0)
            fh.write(text.encode())
    else:  # a new file renamed over the old one, as an export does
        tmp = path.with_name(".new")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


# --------------------------------------------------------------------------- stale figures
@pytest.mark.integration
def test_a_file_replaced_after_it_was_read_stops_the_run_and_is_never_cached(small_sample, tmp_path, monkeypatch):
    """The sample's crimes replaced (by a nightly export) after the run read them: the old run
    used to store the old figures under the new file's key, served as a hit ever after."""
    from kpi_lib.run.runner import measure, plan, validate
    monkeypatch.setenv("KPI_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    for name in ("crimes.parquet", "outcomes.parquet", "metadata.yaml"):
        shutil.copy(small_sample / name, data / name)
    crimes = pd.read_parquet(data / "crimes.parquet")
    extra = crimes[crimes["recorded_date"].astype(str).str.startswith("2025-01")].head(300).copy()
    assert len(extra) == 300
    extra["crime_ref"] = "NEW-" + extra["crime_ref"]
    newer = tmp_path / "newer.parquet"
    pd.concat([crimes, extra]).to_parquet(newer, index=False)

    pl = plan("2024/25 Q4", data, tmp_path / "out")
    first = validate(pl)
    os.replace(newer, data / "crimes.parquet")
    with pytest.raises(KpiError) as e:
        measure(pl, tmp_path / "build", first)
    assert "crimes.parquet" in str(e.value) and "changed" in str(e.value) and "\n" not in str(e.value)
    assert _entries(tmp_path / "cache") == {}  # nothing stored under any key
    first.snapshot.close()

    again = validate(pl)  # the next run reads the new file, and its figures are the new file's
    measure(pl, tmp_path / "build2", again)
    again.snapshot.close()
    pnl = panel_mod.load(tmp_path / "build2" / "results")
    m = pnl.whole_force()
    jan = m[(m["kpi_id"] == "trc_volume") & (m["window_kind"] == "month")
            & (pd.to_datetime(m["window_start"]) == "2025-01-01")]["value"].iloc[0]
    recorded = pd.to_datetime(crimes["recorded_date"])
    assert jan == ((recorded >= "2025-01-01") & (recorded < "2025-02-01")).sum() + 300
    ledger = {e["file"]: e["sha256"] for e in again.ledger}
    assert ledger["crimes.parquet"] == hashlib.sha256((data / "crimes.parquet").read_bytes()).hexdigest()


def test_files_named_by_settings_enter_the_key_by_content(tmp_path):
    """Doubling the population in the same file (same path) is a new key, as is an edited
    annotations file: the key hashes every file a setting points to, not its name."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "crimes.csv").write_text(_crimes(3), encoding="utf-8")
    pop = tmp_path / "settings" / "population.csv"
    pop.parent.mkdir()
    peers = pop.parent / "peers.yaml"
    peers.write_text('force: "West Mercia"\ngroup: ["Warwickshire"]\npopulation_file: population.csv\n')
    pop.write_text("force,population\nWest Mercia,1300000\nWarwickshire,600000\n")
    notes = pop.parent / "annotations.yaml"
    shutil.copy(Path(cache.params_dir()) / "annotations.yaml", notes)
    params = {**PARAMS, "peers_file": str(peers), "annotations_file": str(notes)}
    base = cache.cache_key(data, params)
    pop.write_text("force,population\nWest Mercia,2600000\nWarwickshire,1200000\n")
    doubled = cache.cache_key(data, params)
    assert doubled != base
    notes.write_text(notes.read_text() + "\n# edited\n")
    assert cache.cache_key(data, params) not in (base, doubled)
    assert {p.name for p in cache.settings_files(params)} == {"peers.yaml", "annotations.yaml", "population.csv"}


# --------------------------------------------------------------------------- property
@pytest.mark.integration
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(at=st.integers(min_value=0, max_value=19), in_place=st.booleans(), warm=st.booleans())
def test_a_run_whose_input_is_replaced_at_any_point_fails_or_matches_the_bytes(tmp_path_factory, at, in_place, warm):
    """Whenever the input is replaced (before hashing, between hashing and reading, while
    reading, after measuring, before storing, before publishing; renamed over or written in
    place; with a cold or a warm cache), the run either stops naming the change or publishes the
    figures of the very bytes its manifest records, and the cache never holds a panel under the
    key of other bytes."""
    from kpi_lib.core import snapshot as snap_mod
    from kpi_lib.inputs import parsing
    from kpi_lib.run import runner
    tmp = tmp_path_factory.mktemp("replace")
    data, root = tmp / "data", tmp / "cache"
    versions = {"A": _crimes(3), "B": _crimes(5, "D")}
    counts = {"A": 3.0, "B": 5.0}
    keys = {}
    for name, text in versions.items():
        alone = tmp / f"key-{name}"
        alone.mkdir()
        (alone / "crimes.csv").write_text(text, encoding="utf-8")
        keys[cache.cache_key(alone, PARAMS)] = name
    data.mkdir()
    path = data / "crimes.csv"
    path.write_text(versions["A"], encoding="utf-8")
    with mock.patch.dict(os.environ, {"KPI_CACHE_DIR": str(root)}):
        if warm:
            cache.get_panel(data, PARAMS)
        events = {"n": 0}

        def tick() -> None:
            if events["n"] == at:
                _replace(path, versions["B"], in_place)
            events["n"] += 1

        def hooked(fn):
            def wrapper(*a, **k):
                tick()
                return fn(*a, **k)
            return wrapper

        with ExitStack() as stack:
            for target, fn in ((snap_mod.Snapshot, "add"), (snap_mod.Snapshot, "verify"), (parsing, "open_bytes"),
                               (panel_mod, "build_panel"), (cache, "store_entry"), (cache, "cache_key")):
                stack.enter_context(mock.patch.object(target, fn, hooked(getattr(target, fn))))
            pl = runner.plan("2024/25 Q1", data, tmp / "out")
            try:
                v = runner.validate(pl)
                try:
                    runner.measure(pl, tmp / "build", v)
                    tick()
                    v.snapshot.verify("during the run")  # as publishing does
                finally:
                    v.snapshot.close()
            except KpiError as exc:
                assert "changed" in str(exc) or "appeared" in str(exc), str(exc)
                outcome = None
            else:
                outcome = v
    if outcome is not None:
        recorded = {e["file"]: e["sha256"] for e in outcome.ledger}["crimes.csv"]
        assert recorded == hashlib.sha256(path.read_bytes()).hexdigest()  # the manifest tells the truth
        version = next(n for n, t in versions.items() if hashlib.sha256(t.encode()).hexdigest() == recorded)
        assert _april(panel_mod.load(tmp / "build" / "results")) == counts[version]
    for key, value in _entries(root).items():  # every cached panel is its key's bytes' panel
        assert key in keys and value == counts[keys[key]]


# --------------------------------------------------------------------------- optional cache
def _tiny(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    (data / "crimes.csv").write_text(_crimes(3), encoding="utf-8")
    return data


@pytest.mark.parametrize("how", ["root_is_a_file", "no_home", "another_users", "disk_full"])
def test_an_unusable_cache_is_passed_by_with_one_line(how, tmp_path, monkeypatch):
    data = _tiny(tmp_path)
    root: Path | None = tmp_path / "cache"
    if how == "root_is_a_file":
        root.write_text("not a folder")
        words = "cannot be used"
    elif how == "no_home":
        blocker = tmp_path / "blocker"
        blocker.write_text("")
        monkeypatch.delenv("KPI_CACHE_DIR", raising=False)
        monkeypatch.setenv("HOME", str(blocker / "home"))  # a home folder that cannot exist
        root = None
        words = "cannot be used"
    elif how == "another_users":
        (root / "panels").mkdir(parents=True)
        real_uid = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: real_uid + 1)
        words = "belongs to another user"
    else:
        def full(*a, **k):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(cache, "store_entry", full)
        words = "could not be written"
    pnl, rep = cache.get_panel(data, PARAMS, root=root)
    assert _april(pnl) == 3.0 and not rep.hit and rep.path is None
    assert words in rep.note and "\n" not in rep.note and rep.note.startswith("the panel cache was not used")
    assert rep.as_dict()["panel_cache"] == "not used"


# --------------------------------------------------------------------------- lock and hidden files
def test_lock_and_hidden_files_are_skipped_and_listed(small_sample, tmp_path):
    """An Excel lock file (``~$notes.xlsx``, not a workbook) beside the inputs used to refuse the
    run; it and hidden files are now left out, listed, and do not change the cache key."""
    from kpi_lib.inputs.detect import read_any
    data = tmp_path / "data"
    data.mkdir()
    for name in ("crimes.parquet", "outcomes.parquet", "metadata.yaml"):
        shutil.copy(small_sample / name, data / name)
    key = cache.cache_key(data, PARAMS)
    (data / "~$notes.xlsx").write_bytes(b"\x00\x07Excel lock\x00")
    (data / ".DS_Store").write_bytes(b"\x00\x01")
    tables = read_any(data)
    assert set(tables.skipped) == {"~$notes.xlsx", ".DS_Store"}
    assert "lock file" in tables.skipped["~$notes.xlsx"] and tables.skipped[".DS_Store"] == "a hidden file"
    assert len(tables.frames["crimes"]) == len(pd.read_parquet(small_sample / "crimes.parquet"))
    (data / "~$notes.xlsx").write_bytes(b"changed while Excel has the workbook open")
    assert cache.cache_key(data, PARAMS) == key
    from typer.testing import CliRunner

    from kpi_lib.cli import app
    r = CliRunner().invoke(app, ["validate", str(data)])
    assert r.exit_code == 0 and "skipped ~$notes.xlsx: an Office lock file" in r.output, r.output


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".csv.gz"])
def test_readers_read_the_bytes_hashed_though_the_path_was_replaced(tmp_path, suffix):
    """A table renamed over between hashing and reading: every reader (Arrow's Parquet reader,
    pandas' CSV reader, gzip) still reads the file that was hashed."""
    from kpi_lib.core.snapshot import Snapshot
    from kpi_lib.inputs.chunks import raw_chunks
    old = pd.DataFrame({"crime_ref": ["A1", "A2"]})
    new = pd.DataFrame({"crime_ref": ["B1", "B2", "B3"]})
    path = tmp_path / f"crimes{suffix}"

    def write(frame, target):
        frame.to_parquet(target) if suffix == ".parquet" else frame.to_csv(target, index=False)
    write(old, path)
    with Snapshot.of(tmp_path) as snap, snap.active():
        replacement = tmp_path / f"x{suffix}"
        write(new, replacement)
        os.replace(replacement, path)
        got = pd.concat(list(raw_chunks(path)))
        assert list(got["crime_ref"]) == ["A1", "A2"]
        assert snap.changed() == [str(path)]
