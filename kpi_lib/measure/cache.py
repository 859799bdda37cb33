"""The panel cache: a measurement panel stored under a key made from the input files' SHA-256s,
the settings and the code, so that a rerun or a backfill measures the inputs once.

- Key: SHA-256 of (every input file's name and SHA-256, the settings as sorted JSON, the SHA-256
  of every file a setting points to (the peer settings, their population table, annotations),
  the SHA-256 of every reference file in params/, and the code fingerprint: the package version
  and the SHA-256 of every ``kpi_lib`` source file). Any change to an input, a setting, a file a
  setting names, a reference table or the code makes a new key.
- The files are hashed once, before they are read, by a :class:`~kpi_lib.core.snapshot.Snapshot`
  that then serves exactly those bytes to the readers; the key is made from those hashes, and an
  entry is stored only after checking that no file changed meanwhile. So a panel is never stored
  under the key of bytes it was not measured from.
- Entries live in ``<root>/panels/<key>/`` where root is ``$KPI_CACHE_DIR`` or
  ``~/.cache/kpi_lib`` (safe to delete at any time); the 20 most recent are kept. An entry is written in a temporary folder and
  renamed into place; ``complete.json`` lists the SHA-256 of each file and is written last. An
  entry whose files are missing, altered or unreadable is ignored, removed and rebuilt, never
  trusted.
- The cache is optional: when it cannot be used (no home folder, a full or read-only disk, a
  folder belonging to another user) the panel is measured and used without it, and
  :attr:`CacheReport.note` says why in one line.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from kpi_lib.config.settings import setting_files
from kpi_lib.core.errors import KpiError
from kpi_lib.core.io import json_sha256
from kpi_lib.core.paths import params_dir
from kpi_lib.core.provenance import code_digest
from kpi_lib.core.snapshot import Snapshot, sha256_of
from kpi_lib.core.snapshot import active as active_snapshot
from kpi_lib.measure import panel as panel_mod
from kpi_lib.measure.panel import PANEL_FILES, Panel

ENV = "KPI_CACHE_DIR"
KEEP = 20  # panels kept in the cache (a few MB each for the sample)


def default_root() -> Path:
    """``$KPI_CACHE_DIR`` if set, else ``~/.cache/kpi_lib``."""
    env = os.environ.get(ENV)
    return Path(env) if env else Path.home() / ".cache" / "kpi_lib"


sha256_file = sha256_of  # one implementation: kpi_lib.core.snapshot


def _files(folder: Path, patterns: tuple[str, ...] = ("*",)) -> list[Path]:
    out = set()
    for pat in patterns:
        out |= {p for p in folder.rglob(pat) if p.is_file()
                and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(folder).parts)}
    return sorted(out)


def _named_files(params: dict) -> list[Path]:
    """The files settings name directly (each ``*_file`` setting, ``area_population``) and the
    peer settings file."""
    from kpi_lib.config.peers import peers_path
    out: list[Path] = []
    for p in [*(Path(v) for k, v in sorted(params.items()) if k.endswith("_file") and isinstance(v, str) and v),
              *setting_files(params).values(), peers_path(params)]:
        if p not in out:
            out.append(p)
    return out


def settings_files(params: dict) -> list[Path]:
    """Every file the settings point to, whose content the figures depend on: each ``*_file``
    setting, and the peer settings file with the population table it names."""
    from kpi_lib.config.peers import population_path
    pop = population_path(params)
    return _named_files(params) + ([pop] if pop is not None and pop not in _named_files(params) else [])


def snapshot_inputs(data_dir: str | Path, params: dict) -> Snapshot:
    """The run's inputs hashed and held open before anything is read: every input file of the
    data folder and every file the settings point to (see :mod:`kpi_lib.core.snapshot`). The peer
    settings are hashed first and then read as hashed to find the population table, so the table
    hashed is the one the hashed settings name."""
    from kpi_lib.config.peers import population_path
    snap = Snapshot.of(data_dir)
    try:
        with snap.active():
            for f in _named_files(params):
                snap.add(f)
            pop = population_path(params)
            if pop is not None:
                snap.add(pop)
    except BaseException:
        snap.close()
        raise
    return snap


def input_fingerprint(data_dir: str | Path) -> dict[str, str]:
    """File name -> SHA-256 of every input file in the data folder (lock files and hidden
    files are not inputs)."""
    snap = active_snapshot()
    if snap is not None and snap.covers(data_dir):
        return snap.digests(data_dir)
    with Snapshot.of(data_dir) as own:
        return own.digests(data_dir)


code_fingerprint = code_digest  # one implementation: kpi_lib.core.provenance


def cache_key(data_dir: str | Path, params: dict, families: list[str] | None = None,
              snapshot: Snapshot | None = None) -> str:
    """The key of the panel measured from ``data_dir`` with ``params`` (see the module doc), from
    the hashes ``snapshot`` took (one is taken here when none is given or active)."""
    snap = snapshot or active_snapshot()
    if snap is None or not snap.covers(data_dir):
        with snapshot_inputs(data_dir, params) as own:
            return cache_key(data_dir, params, families, own)
    doc = {
        "inputs": snap.digests(data_dir),
        "settings": params,
        "settings_files": {str(p): snap.add(p).sha256 for p in _settings_files_of(snap, params)},
        "reference": {p.name: sha256_file(p) for p in _files(params_dir(), ("*.yaml", "*.csv"))},
        "code": code_fingerprint(),
        "families": sorted(families) if families else "all",
    }
    return json_sha256(doc)


def _settings_files_of(snap: Snapshot, params: dict) -> list[Path]:
    with snap.active():
        return settings_files(params)


@dataclass
class CacheReport:
    """What the cache did: hit (reused) or built, the key, the entry folder (None when the cache
    could not be used), seconds taken, and a one-line note when something was worth saying."""

    hit: bool
    key: str
    path: Path | None
    seconds: float
    note: str = ""

    def as_dict(self) -> dict:
        state = "hit" if self.hit else "built" if self.path is not None else "not used"
        return {"panel_cache": state, "panel_key": self.key,
                "panel_cache_folder": str(self.path) if self.path is not None else None,
                "panel_seconds": round(self.seconds, 2),
                **({"panel_cache_note": self.note} if self.note else {})}


def panels_folder(root: str | Path | None = None) -> tuple[Path | None, str]:
    """The cache's ``panels`` folder, created if need be, or None and why it cannot be used (no
    home folder, not writable, or belonging to another user: its entries could not be trusted)."""
    try:
        base = Path(root) if root is not None else default_root()
    except (RuntimeError, KeyError, OSError) as exc:  # no home folder at all
        return None, f"the panel cache was not used: no cache folder ({exc})"
    panels = base / "panels"
    try:
        panels.mkdir(parents=True, exist_ok=True)
        for folder in (base, panels):
            if hasattr(os, "getuid") and folder.stat().st_uid != os.getuid():
                return None, (f"the panel cache was not used: {folder} belongs to another user, so its "
                              "entries cannot be trusted (set KPI_CACHE_DIR to a folder of your own)")
        if not os.access(panels, os.W_OK | os.X_OK):
            return None, f"the panel cache was not used: {panels} is not writable"
    except OSError as exc:
        return None, f"the panel cache was not used: {base} cannot be used ({exc.strerror or exc})"
    return panels, ""


def load_entry(folder: Path) -> Panel | None:
    """The panel stored in ``folder``, or None when the entry is absent, partial or altered."""
    done = folder / "complete.json"
    try:
        expected = json.loads(done.read_text(encoding="utf-8"))["sha256"]
        if sorted(expected) != sorted(PANEL_FILES):
            return None
        for name, digest in expected.items():
            if sha256_file(folder / name) != digest:
                return None
        return panel_mod.load(folder)
    except (OSError, ValueError, KeyError, TypeError, KpiError):
        return None


def store_entry(panel: Panel, folder: Path) -> None:
    """Write the panel into ``folder`` atomically (temporary folder, then rename)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".tmp"))
    try:
        paths = panel_mod.save(panel, tmp)
        digests = {p.name: sha256_file(p) for p in paths}
        (tmp / "complete.json").write_text(json.dumps({"sha256": digests}, indent=1), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process stored the same entry first: keep theirs if sound
            if load_entry(folder) is None:
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _lookup(folder: Path) -> tuple[Panel | None, bool]:
    """The sound entry in ``folder``, or None and whether a damaged one was there (removed)."""
    try:
        if not folder.exists():
            return None, False
    except OSError:
        return None, False
    found = load_entry(folder)
    if found is None:
        shutil.rmtree(folder, ignore_errors=True)
        return None, True
    return found, False


def cached_panel(data_dir: str | Path, params: dict, *, root: str | Path | None = None,
                 families: list[str] | None = None, snapshot: Snapshot | None = None) -> Panel | None:
    """The stored panel for these inputs, settings and code, or None (nothing is read but the
    files' hashes; None too when the cache cannot be used). A sound entry means the very same
    bytes were validated when it was built, so a runner may skip re-validating them; the row
    ledger is in ``panel.info["ledger"]``."""
    key = cache_key(data_dir, params, families, snapshot)
    panels, _ = panels_folder(root)
    if panels is None:
        return None
    return _lookup(panels / key)[0]


def _same_bytes(tables, snap: Snapshot, data_dir: str | Path) -> None:
    """Tables read earlier must come from the bytes the key describes (their ledger records the
    SHA-256 of what was read): otherwise figures would be stored under another file's key."""
    digests = snap.digests(data_dir)
    for entry in getattr(tables, "ledger", []):
        now = digests.get(entry.file)
        if now is not None and entry.sha256 != now:
            from kpi_lib.core.errors import InputError
            raise InputError(entry.file, "changed after it was read and before the panel was stored",
                             expected="input files left unchanged while a run reads them: nothing was "
                                      "cached; run again once the new file is complete")


def get_panel(data_dir: str | Path, params: dict, *, tables=None, root: str | Path | None = None,
              families: list[str] | None = None, snapshot: Snapshot | None = None) -> tuple[Panel, CacheReport]:
    """The panel for these inputs and settings: from the cache when a sound entry exists (nothing
    is read or computed), else measured (from ``tables`` if already read, else from the data
    folder, through the snapshot the key was made from) and stored. When the cache cannot be used
    the panel is measured all the same and the report's note says why."""
    t0 = time.monotonic()
    with ExitStack() as stack:
        snap = snapshot or active_snapshot()
        if snap is None or not snap.covers(data_dir):
            snap = stack.enter_context(snapshot_inputs(data_dir, params))
        stack.enter_context(snap.active())
        key = cache_key(data_dir, params, families, snap)
        panels, note = panels_folder(root)
        folder = panels / key if panels is not None else None
        if folder is not None:
            found, damaged = _lookup(folder)
            if found is not None:
                return found, CacheReport(True, key, folder, time.monotonic() - t0)
            if damaged:
                note = "a damaged cache entry was ignored and rebuilt"
        from kpi_lib.config.configuration import load_configuration
        if tables is None:
            from kpi_lib.inputs.detect import read_with_settings
            tables = read_with_settings(data_dir, params)
        else:
            _same_bytes(tables, snap, data_dir)
        built = panel_mod.build_panel(tables, load_configuration(params), families)
        snap.verify("while the panel was measured")
        if folder is not None:
            try:
                store_entry(built, folder)
                prune(folder.parent, keep=KEEP)
            except OSError as exc:
                note = (f"the panel cache was not used: the entry could not be written in {folder.parent} "
                        f"({exc.strerror or exc})")
                folder = None
    return built, CacheReport(False, key, folder, time.monotonic() - t0, note)


def prune(panels: Path, keep: int = 20) -> list[Path]:
    """Remove all but the ``keep`` most recently stored entries (the cache never grows without
    bound); returns what was removed. Temporary folders of writes in progress are left alone."""
    entries = sorted((p for p in panels.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    removed = entries[keep:]
    for p in removed:
        shutil.rmtree(p, ignore_errors=True)
    return removed


def measure_run(data_dir: str | Path, params: dict, out_dir: str | Path, *, tables=None,
                root: str | Path | None = None, snapshot: Snapshot | None = None) -> CacheReport:
    """The runner's measure step: the panel (cached) written into ``<out_dir>/results/`` for the
    family notebooks to load. Returns what the cache did, for the manifest."""
    pnl, report = get_panel(data_dir, params, tables=tables, root=root, snapshot=snapshot)
    panel_mod.save(pnl, Path(out_dir) / "results")
    return report
