"""The measurement panel: every KPI measured once per run, for every month, quarter, financial
year and rolling 12 months the data cover (plus breakdowns), from the inputs read once.

The panel is what computing and presenting share: ``compute(period, panel, config)`` derives
any period's KPI table from it, and the family notebooks load it, never the raw inputs. It is these tables, written to ``results/`` of a run:

- ``measurements.parquet``: one row per kpi_id x basis x breakdown x window (:data:`COLUMNS`);
  ``breakdown_dim`` is "" for the whole force.
- ``maturity.parquet``: cohort maturity of record-level crime outcomes: assigned outcomes by
  month of recording, category, outcome type and days after the recording month's last day
  (:data:`MATURITY_COLUMNS`), so that any cohort can be counted at any age (equal maturity).
  Empty when the source has no outcome dates.
- ``distributions.parquet``: what a test of a median needs: each month's values binned, with
  how many fall in each bin (``kpi_id, period_start, value, count``; response times to the
  nearest 6 seconds), from families that declare them.
- ``panel.json``: what the inputs were (extraction date, synthetic, force, sources, notes,
  licence, the row ledger) and which windows the panel spans.

Building the panel is pure (tables and reference data in, frames out); reading and writing are
the separate functions :func:`save` and :func:`load`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from kpi_lib.config.configuration import Configuration
from kpi_lib.core.errors import KpiError
from kpi_lib.core.io import write_atomic
from kpi_lib.core.periods import Period
from kpi_lib.core.windows import Window, month_windows, period_window, quarter_windows
from kpi_lib.measure import coverage as coverage_mod
from kpi_lib.measure import registry
from kpi_lib.measure.families import _common

COLUMNS = ["kpi_id", "basis", "breakdown_dim", "breakdown_value", "window_kind", "window_start",
           "window_end", "value", "numerator", "denominator", "ci_low", "ci_high", "sample_n",
           "test_n", "status", "note", "source", "pending_share", "family"]
MATURITY_COLUMNS = ["period_start", "category", "outcome_type", "days", "count"]
PEER_COLUMNS = ["quarter_start", "category", "measure", "force", "group", "england_and_wales"]
DISTRIBUTION_COLUMNS = _common.DISTRIBUTION_COLUMNS
FORMAT_VERSION = 3


@dataclass
class Panel:
    """Measurements, cohort maturity and information about the inputs (see the module doc)."""

    measurements: pd.DataFrame
    maturity: pd.DataFrame
    info: dict = field(default_factory=dict)
    peers: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PEER_COLUMNS))
    distributions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DISTRIBUTION_COLUMNS))

    # ---- convenience views ------------------------------------------------------------------
    @property
    def extraction_date(self) -> date | None:
        e = self.info.get("extraction_date")
        return date.fromisoformat(e) if e else None

    @property
    def synthetic(self) -> bool:
        return bool(self.info.get("synthetic"))

    @property
    def families(self) -> list[str]:
        return list(self.info.get("families", registry.NAMES))

    @property
    def first(self) -> Period:
        return Period.parse(self.info["first_quarter"])

    @property
    def last(self) -> Period:
        return Period.parse(self.info["last_quarter"])

    @property
    def coverage(self) -> dict[str, coverage_mod.TableCoverage]:
        """Which months each input table covers, and the missing ones (:mod:`kpi_lib.measure.coverage`)."""
        return {d["table"]: coverage_mod.TableCoverage.from_dict(d) for d in self.info.get("coverage", [])}

    def whole_force(self) -> pd.DataFrame:
        """Measurement rows for the whole force (no breakdown)."""
        m = self.measurements
        return m[m["breakdown_dim"] == ""]

    def breakdowns(self) -> pd.DataFrame:
        m = self.measurements
        return m[m["breakdown_dim"] != ""]

    def for_families(self, names: list[str]) -> Panel:
        """The part of the panel for some families (a family notebook needs only its own)."""
        m = self.measurements[self.measurements["family"].isin(names)].reset_index(drop=True)
        kept = self.distributions
        if len(kept):
            ids = set(self.measurements.loc[self.measurements["family"].isin(names), "kpi_id"])
            kept = kept[kept["kpi_id"].isin(ids)].reset_index(drop=True)
        return Panel(m, self.maturity, {**self.info, "families": list(names)}, self.peers, kept)

    def peers_for(self, quarter: Period) -> pd.DataFrame:
        """The force against its comparison group and England and Wales in one quarter (Home
        Office PFA tables only; empty otherwise)."""
        p = self.peers
        return p[pd.to_datetime(p["quarter_start"]) == pd.Timestamp(quarter.start)] \
            .drop(columns="quarter_start").reset_index(drop=True)


# ------------------------------------------------------------------------------ windows
def data_span(tables) -> tuple[date | None, date | None]:
    """First and last dates of any input (record dates, survey dates, finance years, carbon
    months, or the span of public crime tables)."""
    dates: list[date] = []
    cols = {"crimes": "recorded_date", "calls": "received_at", "incidents": "created_at",
            "survey_responses": "interview_date", "carbon": "period_start"}
    for table, col in cols.items():
        df = tables.get(table)
        if df is not None and len(df):
            s = df[col]
            if getattr(s.dt, "tz", None) is not None:
                s = s.dt.tz_convert("Europe/London").dt.tz_localize(None)
            dates += [s.min().date(), s.max().date()]
    fin = tables.get("finance")
    if fin is not None and len(fin):
        years = [Period.parse(y) for y in fin["financial_year"]]
        dates += [min(years).start, max(years).end]
    counts = tables.extras.get("crime_counts")
    if counts is not None and counts.first is not None:
        dates += [counts.first, counts.last_exclusive - timedelta(days=1)]
    return (min(dates), max(dates)) if dates else (None, None)


def span(tables, params: dict, through: Period | None = None) -> tuple[Period, Period]:
    """Quarters the panel covers: from the first quarter of the earlier of the baseline year and
    the year before the data start, to the last quarter of the financial year of the latest
    data (or of ``through``, when a run asks for a later period)."""
    baseline = Period.parse(params["baseline_year"])
    first_d, last_d = data_span(tables)
    first_fy = baseline.fy if first_d is None else min(baseline.fy, Period.containing(first_d).fy)
    last_fy = (Period.containing(last_d).fy if last_d is not None else first_fy)
    if through is not None:
        last_fy = max(last_fy, through.fy)
        first_fy = min(first_fy, through.fy - 1)
    return Period(first_fy, 1), Period(last_fy, 4)


def panel_windows(first: Period, last: Period) -> list[Window]:
    """Every window the panel measures: months, quarters, financial years, and the rolling 12
    months ending at each quarter end (including the 12 months before the first of them)."""
    months = month_windows(first.start, last.end_exclusive)
    quarters = quarter_windows(first, last)
    years = [period_window(Period(fy)) for fy in range(first.fy, last.fy + 1)]
    rolling = []
    q = Period(first.fy - 1, first.quarter)
    while q <= last:
        start, end = q.rolling_12_months()
        rolling.append(rolling_window(start, end))
        q = q.next()
    return months + quarters + years + rolling


def rolling_window(start: date, end: date) -> Window:
    last_month = date(end.year - (end.month == 1), (end.month - 2) % 12 + 1, 1)
    return Window("rolling12", f"12 months to {last_month:%Y-%m}", start, end)


def breakdown_windows(first: Period, last: Period) -> list[Window]:
    """Breakdowns are measured for quarters and financial years (the periods a report covers)."""
    return quarter_windows(first, last) + [period_window(Period(fy)) for fy in range(first.fy, last.fy + 1)]


# ------------------------------------------------------------------------------ building
def _measure_rows(fam, aggregate, windows: list[Window], config: Configuration) -> pd.DataFrame:
    if aggregate is None:
        return _common.frame([_common.unavailable(k, w, "not_available_from_source", fam.missing_note,
                                                  source="none")
                              for k in _common.family_kpi_ids(fam, config) for w in windows])
    return fam.measure(aggregate, windows, config.params)


def _breakdown_rows(fam, aggregate, windows: list[Window], params: dict, source: str) -> pd.DataFrame:
    parts = []
    for w in windows:
        b = fam.breakdown(aggregate, w, params)
        if len(b):
            parts.append(b.assign(window_kind=w.kind, window_start=w.start, window_end=w.end))
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    return _as_panel_rows(pd.concat(parts, ignore_index=True), source, fam.name)


def _series_rows(fam, aggregate, months: list[Window], params: dict, source: str) -> pd.DataFrame:
    """The family's monthly series by local area (``Family.area_series``) as panel rows."""
    b = fam.area_series(aggregate, months, params)
    if b is None or not len(b):
        return pd.DataFrame(columns=COLUMNS)
    return _as_panel_rows(b, source, fam.name)


def _as_panel_rows(b: pd.DataFrame, source: str, family: str) -> pd.DataFrame:
    """Breakdown rows with their windows (``window_kind``, ``window_start``, ``window_end``) as
    panel rows (:data:`COLUMNS`)."""
    return pd.DataFrame({
        "kpi_id": b["kpi_id"], "basis": b["basis"].fillna(""), "breakdown_dim": b["dimension"],
        "breakdown_value": b["category"].astype(str), "window_kind": b["window_kind"],
        "window_start": b["window_start"], "window_end": b["window_end"], "value": b["value"],
        "numerator": b["numerator"], "denominator": b["denominator"], "ci_low": b["ci_low"],
        "ci_high": b["ci_high"], "sample_n": b["sample_n"], "test_n": math.nan, "status": "reported",
        "note": "", "source": source, "pending_share": math.nan, "family": family})


def build_panel(tables, config: Configuration, families: list[str] | None = None,
                through: Period | None = None) -> Panel:
    """Measure every KPI of the families (all registered families when None) over every window
    the data cover, with breakdowns and cohort maturity, from tables already read."""
    params = config.params
    first, last = span(tables, params, through)
    windows = panel_windows(first, last)
    bwindows = breakdown_windows(first, last)
    names = list(families or registry.NAMES)
    cov = coverage_mod.coverage_of(tables)
    parts, maturity = [], None
    dists: list[pd.DataFrame] = []
    sources: dict[str, str] = {}
    for name in names:
        fam = registry.family(name)
        aggregate = fam.prepare(tables, config)
        missing, end, _ = coverage_mod.gaps_for(cov, name)
        m = coverage_mod.apply_coverage(_measure_rows(fam, aggregate, windows, config), missing, end)
        m = m.assign(family=name, breakdown_dim="", breakdown_value="")
        parts.append(m)
        src = str(m["source"].iloc[0]) if len(m) else "none"
        sources[name] = src
        if aggregate is not None:
            parts.append(coverage_mod.drop_uncovered(_breakdown_rows(fam, aggregate, bwindows, params, src),
                                                     missing, end))
            if fam.area_series is not None:  # monthly series by local area (small multiples)
                parts.append(coverage_mod.drop_uncovered(
                    _series_rows(fam, aggregate, [w for w in windows if w.kind == "month"], params, src),
                    missing, end))
            if fam.distributions is not None:
                dists.append(fam.distributions(aggregate))
        if name == "crime" and aggregate is not None and aggregate.maturity is not None:
            maturity = aggregate.maturity
    measurements = pd.concat([p for p in parts if len(p)], ignore_index=True)[COLUMNS]
    measurements["basis"] = measurements["basis"].fillna("").astype(str)
    for col in ("value", "numerator", "denominator", "ci_low", "ci_high", "sample_n", "test_n",
                "pending_share"):
        measurements[col] = measurements[col].astype(float)
    for col in ("note", "source", "breakdown_value"):
        measurements[col] = measurements[col].fillna("").astype(str)
    counts = tables.extras.get("crime_counts")
    info = {
        "format": FORMAT_VERSION, "families": names,
        "first_quarter": first.label, "last_quarter": last.label,
        "extraction_date": tables.extraction_date.isoformat() if tables.extraction_date else None,
        "synthetic": bool(tables.synthetic), "force": tables.force, "sources": sources,
        "notes": list(tables.notes), "licence": tables.licence,
        "outcome_dates": maturity is not None,
        "crime_grain": counts.grain if counts is not None else "month",
        "ledger": [e.as_dict() for e in tables.ledger],
        "coverage": [c.as_dict() for c in cov.values()],
    }
    if maturity is None:
        maturity = pd.DataFrame(columns=MATURITY_COLUMNS)
    info["peer_settings"] = (config.peers or {}).get("settings", {})
    info["category_labels"] = config.categories.labels if config.categories is not None else {}
    info["area_population"] = config.area_population
    dist = (pd.concat([d for d in dists if len(d)], ignore_index=True)[DISTRIBUTION_COLUMNS]
            if any(len(d) for d in dists) else pd.DataFrame(columns=DISTRIBUTION_COLUMNS))
    return Panel(measurements, maturity.reset_index(drop=True)[MATURITY_COLUMNS], info,
                 peer_tables(tables, config, first, last), dist)


def peer_tables(tables, config: Configuration, first: Period, last: Period) -> pd.DataFrame:
    """Peer comparison for every quarter the Home Office PFA tables cover (empty without them)."""
    pfa = tables.extras.get("home_office_pfa")
    peers = config.peers
    if pfa is None or not peers:
        return pd.DataFrame(columns=PEER_COLUMNS)
    from kpi_lib.inputs.homeoffice import peer_comparison
    s = peers["settings"]
    starts = set(pd.to_datetime(pfa["quarter_start"]).dt.date)
    used = [k.category for k in config.catalogue or [] if k.family == "crime"] or None
    parts = []
    q = first
    while q <= last:
        if q.start in starts:
            t = peer_comparison(pfa, q.start, s["force"], s["group"], peers.get("populations"),
                                s.get("averaging", "weighted"), used)
            parts.append(t.assign(quarter_start=q.start))
        q = q.next()
    return pd.concat(parts, ignore_index=True)[PEER_COLUMNS] if parts else pd.DataFrame(columns=PEER_COLUMNS)


# ------------------------------------------------------------------------------ equal maturity
def matured_counts(panel: Panel, category: str, types: list[str],
                   months_and_cutoffs: list[tuple[date, date]]) -> np.ndarray:
    """Assigned outcomes of the given types for crimes recorded in each month, counting only
    outcomes dated on or before that month's cutoff date. One count per (month, cutoff)."""
    index = _maturity_index(panel, category, tuple(sorted(types)))
    out = np.zeros(len(months_and_cutoffs))
    for i, (month, cutoff) in enumerate(months_and_cutoffs):
        found = index.get(month)
        if found is None:
            continue
        days, cum = found
        month_end = date(month.year + (month.month == 12), month.month % 12 + 1, 1) - timedelta(days=1)
        k = int(np.searchsorted(days, (cutoff - month_end).days, side="right"))
        out[i] = float(cum[k - 1]) if k else 0.0
    return out


def _maturity_index(panel: Panel, category: str, types: tuple[str, ...]) -> dict:
    """month -> (sorted days, cumulative counts) for one category and set of outcome types,
    built once per panel and reused (every comparison and SPC point asks for it)."""
    cache = panel.__dict__.setdefault("_maturity_cache", {})
    key = (category, types)
    if key not in cache:
        mat = panel.maturity
        sel = mat[(mat["category"] == category) & mat["outcome_type"].isin(types)]
        g = sel.groupby(["period_start", "days"])["count"].sum()
        months = pd.to_datetime(g.index.get_level_values(0)).date
        days = g.index.get_level_values(1).to_numpy(dtype="int64")
        counts = g.to_numpy(dtype=float)
        index = {}
        if len(g):
            starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
            ends = np.r_[starts[1:], len(g)]
            for a, b in zip(starts, ends, strict=True):
                index[months[a]] = (days[a:b], np.cumsum(counts[a:b]))
        cache[key] = index
    return cache[key]


# ------------------------------------------------------------------------------ files
PANEL_FILES = ("measurements.parquet", "maturity.parquet", "peers.parquet", "distributions.parquet",
               "panel.json")


def save(panel: Panel, folder: str | Path) -> list[Path]:
    """Write the panel's files into ``folder`` (each atomically); returns their paths."""
    folder = Path(folder)
    m = panel.measurements.copy()
    for c in ("window_start", "window_end"):
        m[c] = pd.to_datetime(m[c])
    mat = panel.maturity.copy()
    mat["period_start"] = pd.to_datetime(mat["period_start"])
    peers = panel.peers.copy()
    peers["quarter_start"] = pd.to_datetime(peers["quarter_start"])
    dist = panel.distributions.copy()
    dist["period_start"] = pd.to_datetime(dist["period_start"])
    dist["value"] = dist["value"].astype(float)
    dist["count"] = dist["count"].astype("int64")
    paths = [folder / name for name in PANEL_FILES]
    write_atomic(paths[0], lambda t: m.to_parquet(t, index=False))
    write_atomic(paths[1], lambda t: mat.to_parquet(t, index=False))
    write_atomic(paths[2], lambda t: peers.to_parquet(t, index=False))
    write_atomic(paths[3], lambda t: dist.to_parquet(t, index=False))
    write_atomic(paths[4], lambda t: Path(t).write_text(json.dumps(panel.info, indent=1, default=str),
                                                        encoding="utf-8"))
    return paths


def load(folder: str | Path) -> Panel:
    """Read a panel written by :func:`save` (a clear error when a file is missing or unreadable)."""
    folder = Path(folder)
    try:
        m = pd.read_parquet(folder / "measurements.parquet")
        mat = pd.read_parquet(folder / "maturity.parquet")
        peers = pd.read_parquet(folder / "peers.parquet")
        dist = pd.read_parquet(folder / "distributions.parquet")
        info = json.loads((folder / "panel.json").read_text(encoding="utf-8"))
    except Exception as exc:  # noqa: BLE001 - any failure means the panel cannot be used
        raise KpiError(f"cannot read the measurement panel in {folder}: {type(exc).__name__}: {exc}") from None
    if info.get("format") != FORMAT_VERSION:
        raise KpiError(f"the measurement panel in {folder} has format {info.get('format')!r}, "
                       f"expected {FORMAT_VERSION}: rebuild it")
    for c in ("window_start", "window_end"):
        m[c] = pd.to_datetime(m[c]).dt.date
    mat["period_start"] = pd.to_datetime(mat["period_start"])
    dist["period_start"] = pd.to_datetime(dist["period_start"]).dt.date
    return Panel(m, mat, info, peers, dist)
