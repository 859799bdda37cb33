"""The panel cache: a measurement panel stored under a key made from the input files' SHA-256s,
the settings and the code, so that a rerun or a backfill measures the inputs once.

- Key: SHA-256 of (every input file's relative path and SHA-256, the settings as sorted JSON,
  the SHA-256 of every reference file in params/, and the code fingerprint: the package version
  and the SHA-256 of every ``kpi_lib`` source file). Any change to an input, a setting, a
  reference table or the code makes a new key.
- Entries live in ``<root>/panels/<key>/`` where root is ``$KPI_CACHE_DIR`` or
  ``~/.cache/kpi_lib`` (safe to delete at any time); the 20 most recent are kept. An entry is written in a temporary folder and
  renamed into place; ``complete.json`` lists the SHA-256 of each file and is written last. An
  entry whose files are missing, altered or unreadable is ignored, removed and rebuilt, never
  trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kpi_lib.core.errors import KpiError
from kpi_lib.core.paths import params_dir
from kpi_lib.core.provenance import code_digest
from kpi_lib.inputs.canonical import sha256_of
from kpi_lib.measure import panel as panel_mod
from kpi_lib.measure.panel import PANEL_FILES, Panel

ENV = "KPI_CACHE_DIR"
KEEP = 20  # panels kept in the cache (a few MB each for the sample)


def default_root() -> Path:
    """``$KPI_CACHE_DIR`` if set, else ``~/.cache/kpi_lib``."""
    env = os.environ.get(ENV)
    return Path(env) if env else Path.home() / ".cache" / "kpi_lib"


sha256_file = sha256_of  # one implementation: the readers' (kpi_lib.inputs.canonical)


def _files(folder: Path, patterns: tuple[str, ...] = ("*",)) -> list[Path]:
    out = set()
    for pat in patterns:
        out |= {p for p in folder.rglob(pat) if p.is_file()
                and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(folder).parts)}
    return sorted(out)


def input_fingerprint(data_dir: str | Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every (non-hidden) file in the data folder."""
    d = Path(data_dir)
    return {str(p.relative_to(d)): sha256_file(p) for p in _files(d)}


code_fingerprint = code_digest  # one implementation: kpi_lib.core.provenance


def cache_key(data_dir: str | Path, params: dict, families: list[str] | None = None) -> str:
    """The key of the panel measured from ``data_dir`` with ``params`` (see the module doc)."""
    doc = {
        "inputs": input_fingerprint(data_dir),
        "settings": params,
        "reference": {p.name: sha256_file(p) for p in _files(params_dir(), ("*.yaml", "*.csv"))},
        "code": code_fingerprint(),
        "families": sorted(families) if families else "all",
    }
    text = json.dumps(doc, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class CacheReport:
    """What the cache did: hit (reused) or built, the key, the entry folder, seconds taken."""

    hit: bool
    key: str
    path: Path
    seconds: float
    note: str = ""

    def as_dict(self) -> dict:
        return {"panel_cache": "hit" if self.hit else "built", "panel_key": self.key,
                "panel_cache_folder": str(self.path), "panel_seconds": round(self.seconds, 2),
                **({"panel_cache_note": self.note} if self.note else {})}


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


def cached_panel(data_dir: str | Path, params: dict, *, root: str | Path | None = None,
                 families: list[str] | None = None) -> Panel | None:
    """The stored panel for these inputs, settings and code, or None (nothing is read but the
    files' hashes). A sound entry means the very same bytes were validated when it was built,
    so a runner may skip re-validating them; the row ledger is in ``panel.info["ledger"]``."""
    key = cache_key(data_dir, params, families)
    return load_entry(Path(root or default_root()) / "panels" / key)


def get_panel(data_dir: str | Path, params: dict, *, tables=None, root: str | Path | None = None,
              families: list[str] | None = None) -> tuple[Panel, CacheReport]:
    """The panel for these inputs and settings: from the cache when a sound entry exists (nothing
    is read or computed), else measured (from ``tables`` if already read, else from the data
    folder) and stored."""
    t0 = time.monotonic()
    key = cache_key(data_dir, params, families)
    folder = Path(root or default_root()) / "panels" / key
    note = ""
    if folder.exists():
        found = load_entry(folder)
        if found is not None:
            return found, CacheReport(True, key, folder, time.monotonic() - t0)
        note = "a damaged cache entry was ignored and rebuilt"
        shutil.rmtree(folder, ignore_errors=True)
    from kpi_lib.config.configuration import load_configuration
    if tables is None:
        from kpi_lib.inputs.detect import read_any
        tables = read_any(data_dir, timezone=params.get("timezone"),
                          survey_scales=params.get("survey_scales"))
    built = panel_mod.build_panel(tables, load_configuration(params), families)
    store_entry(built, folder)
    prune(folder.parent, keep=KEEP)
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
                root: str | Path | None = None) -> CacheReport:
    """The runner's measure step: the panel (cached) written into ``<out_dir>/results/`` for the
    family notebooks to load. Returns what the cache did, for the manifest."""
    pnl, report = get_panel(data_dir, params, tables=tables, root=root)
    panel_mod.save(pnl, Path(out_dir) / "results")
    return report
