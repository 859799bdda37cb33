"""The KPI catalogue (params/kpis.yaml, or the file named by the ``kpis_file`` setting): the budget
KPIs of Table 1 plus supplementary measures, with the budget years each belongs to and its targets.

The catalogue is data, validated on load: unique ids, known families, units, polarities and
frequencies. A crime KPI is a category of the crime categories file plus a measure (``volume``,
``charge_rate`` or ``action_taken_rate``), so next year's KPIs are a change to this file, never to
code. Each entry may say which budget years it belongs to (``from_year``, ``until_year``) and give
targets by year (``targets``: each applies from its year until the next one listed). Names,
definitions and target sources may name settings in braces (``{threshold_101_seconds}``): they are
filled in from the run's settings, so a label always says what was measured. A target set for
particular settings (``target_assumes``) does not apply when the settings differ.

Figures about the catalogue (how many KPIs are regularly reportable, how many were already
integrated into the force's performance framework) are computed here, never typed.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from kpi_lib.core.errors import CatalogueError, ParameterError
from kpi_lib.core.paths import params_file
from kpi_lib.core.periods import Period
from kpi_lib.core.safe_yaml import load_yaml

FAMILIES = ("crime", "calls", "response", "confidence", "satisfaction", "finance", "environment")
UNITS = ("count", "percent", "minutes", "seconds", "gbp", "flag", "tco2e")
POLARITIES = ("higher_better", "lower_better", "neutral")
FREQUENCIES = ("quarterly", "annual")
#: What a crime KPI measures of its category, and the unit that measure is in.
CRIME_MEASURES = {"volume": "count", "charge_rate": "percent", "action_taken_rate": "percent"}
#: Measures that are outcome rates (cohort and in-period bases, maturity).
OUTCOME_RATE_MEASURES = ("charge_rate", "action_taken_rate")
REQUIRED = ("id", "plan_priority", "improvement_area", "name", "pmf_integration", "family",
            "unit", "polarity", "frequency", "definition")
OPTIONAL = ("supplementary", "target", "target_source", "targets", "target_assumes", "category",
            "measure", "from_year", "until_year")
#: Text fields in which settings may be named in braces.
TEMPLATED = ("name", "definition", "target_source")

DEFAULT_PATH = params_file("kpis.yaml")


@dataclass(frozen=True)
class Kpi:
    """One catalogue entry (for a run: its labels filled in from the settings, and its target
    that of the run's budget year)."""

    id: str
    plan_priority: str
    improvement_area: str
    name: str
    pmf_integration: str
    family: str
    unit: str
    polarity: str
    frequency: str
    definition: str
    supplementary: bool = False
    target: float | None = None
    target_source: str | None = None
    category: str | None = None
    measure: str | None = None
    from_year: str | None = None
    until_year: str | None = None
    targets: tuple[tuple[str, float, str | None], ...] = ()  # (first budget year, value, source)
    target_assumes: tuple[tuple[str, Any], ...] = field(default=(), compare=False)
    new_this_year: bool = False
    budget_year: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def is_outcome_rate(self) -> bool:
        """A crime outcome rate (cohort and in-period bases; compared at equal maturity)."""
        return self.family == "crime" and self.measure in OUTCOME_RATE_MEASURES

    def in_year(self, fy: int) -> bool:
        """Whether the KPI belongs to the budget year starting in April of ``fy``."""
        first = Period.parse(self.from_year).fy if self.from_year else None
        last = Period.parse(self.until_year).fy if self.until_year else None
        return (first is None or fy >= first) and (last is None or fy <= last)

    def target_in(self, fy: int) -> tuple[float | None, str | None]:
        """The target (and its source) for the budget year starting in ``fy``: the latest of
        ``targets`` from that year or before, else ``target``."""
        chosen = (self.target, self.target_source)
        for year, value, source in self.targets:
            if Period.parse(year).fy <= fy:
                chosen = (value, source)
        return chosen


def _year(where: str, key: str, value: Any) -> str:
    try:
        p = Period.parse(str(value))
    except ParameterError:
        p = None
    if p is None or not p.is_year or not isinstance(value, str):
        raise CatalogueError(f"{where}: {key} must be a financial year written like \"2024/25\" "
                             f"(quoted), got {value!r}")
    return p.label


def _targets(where: str, value: Any) -> tuple[tuple[str, float, str | None], ...]:
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise CatalogueError(f"{where}: targets must be a mapping of budget year to a number or to "
                             f"{{value, source}}, got {value!r}")
    out = []
    for year, spec in value.items():
        label = _year(where, "a targets year", year)
        source = None
        if isinstance(spec, dict):
            unknown = set(spec) - {"value", "source"}
            if unknown or "value" not in spec:
                raise CatalogueError(f"{where}: target for {label} must be a number or {{value, source}}, "
                                     f"got {spec!r}")
            source, spec = spec.get("source"), spec["value"]
        if spec is not None and (isinstance(spec, bool) or not isinstance(spec, (int, float))):
            raise CatalogueError(f"{where}: target for {label} must be a number (or null for none), got {spec!r}")
        out.append((label, None if spec is None else float(spec), None if source is None else str(source)))
    return tuple(sorted(out, key=lambda t: Period.parse(t[0]).fy))


def _parse_entry(entry: Any, i: int, source: str) -> Kpi:
    where = f"{source}: entry {i}" + (f" ({entry.get('id')})" if isinstance(entry, dict) else "")
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: expected a mapping")
    missing = [k for k in REQUIRED if k not in entry or entry[k] in (None, "")]
    if missing:
        raise CatalogueError(f"{where}: missing {', '.join(missing)}")
    for key, allowed in (("family", FAMILIES), ("unit", UNITS), ("polarity", POLARITIES),
                         ("frequency", FREQUENCIES)):
        if entry[key] not in allowed:
            raise CatalogueError(
                f"{where}: unknown {key} {entry[key]!r}; expected one of {', '.join(allowed)}")
    target = entry.get("target")
    if target is not None and (isinstance(target, bool) or not isinstance(target, (int, float))):
        raise CatalogueError(f"{where}: target must be a number, got {target!r}")
    category, measure = entry.get("category"), entry.get("measure")
    if entry["family"] == "crime":
        if not category or not measure:
            raise CatalogueError(f"{where}: a crime KPI needs category (a category of the crime "
                                 "categories file) and measure (" + ", ".join(CRIME_MEASURES) + ")")
        if measure not in CRIME_MEASURES:
            raise CatalogueError(f"{where}: unknown measure {measure!r}; expected one of "
                                 + ", ".join(CRIME_MEASURES))
        if entry["unit"] != CRIME_MEASURES[measure]:
            raise CatalogueError(f"{where}: measure {measure} is in unit {CRIME_MEASURES[measure]}, "
                                 f"not {entry['unit']}")
    elif category is not None or measure is not None:
        raise CatalogueError(f"{where}: category and measure are for crime KPIs only")
    assumes = entry.get("target_assumes") or {}
    if not isinstance(assumes, dict):
        raise CatalogueError(f"{where}: target_assumes must be a mapping of setting to value")
    first = _year(where, "from_year", entry["from_year"]) if entry.get("from_year") is not None else None
    last = _year(where, "until_year", entry["until_year"]) if entry.get("until_year") is not None else None
    if first and last and Period.parse(last).fy < Period.parse(first).fy:
        raise CatalogueError(f"{where}: until_year {last} is before from_year {first}")
    known = set(REQUIRED) | set(OPTIONAL)
    return Kpi(
        **{k: str(entry[k]) for k in REQUIRED},
        supplementary=bool(entry.get("supplementary", False)),
        target=None if target is None else float(target),
        target_source=entry.get("target_source"),
        category=None if category is None else str(category),
        measure=None if measure is None else str(measure),
        from_year=first, until_year=last, targets=_targets(where, entry.get("targets")),
        target_assumes=tuple((str(k), v) for k, v in assumes.items()),
        extra={k: v for k, v in entry.items() if k not in known},
    )


def parse_catalogue(doc: dict, source: str = "kpis.yaml") -> list[Kpi]:
    """Validate a loaded catalogue document and return its entries in file order (labels as
    written, every budget year)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("kpis"), list):
        raise CatalogueError(f"{source}: expected a mapping with a list under 'kpis'")
    out: list[Kpi] = []
    seen: set[str] = set()
    for i, entry in enumerate(doc["kpis"], start=1):
        kpi = _parse_entry(entry, i, source)
        if kpi.id in seen:
            raise CatalogueError(f"{source}: entry {i} ({kpi.id}): duplicate id {kpi.id!r}")
        seen.add(kpi.id)
        out.append(kpi)
    return out


# ------------------------------------------------------------------------------ labels
def setting_text(value: Any) -> str:
    """A setting as written in a label: 30 (not 30.0), 12.5, text as it is."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fill_labels(kpis: list[Kpi], params: Mapping[str, Any], source: str = "kpis.yaml") -> list[Kpi]:
    """Each KPI's name, definition and target source with the settings named in braces filled
    in, and its target dropped (with a sentence saying why) when the settings differ from those
    the target was set for (``target_assumes``). An unknown setting is an error naming the KPI."""
    values = {k: setting_text(v) for k, v in params.items() if isinstance(v, (int, float, str))
              and not isinstance(v, bool)}
    out = []
    for k in kpis:
        filled = {}
        for attr in TEMPLATED:
            text = getattr(k, attr)
            if not text or "{" not in text:
                continue
            names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
            unknown = [n for n in names if n not in values]
            if unknown:
                raise CatalogueError(f"{source}: {k.id}: {attr} names {{{unknown[0]}}}, which is not a setting "
                                     "with a number or text value (see params/defaults.yaml)")
            filled[attr] = text.format_map(values)
        targets = k.targets
        if filled.get("target_source") is not None or any("{" in (s or "") for _, _, s in targets):
            targets = tuple((y, v, s.format_map(values) if s and "{" in s else s) for y, v, s in targets)
        differs = [(s, v) for s, v in k.target_assumes if params.get(s) != v]
        kpi = replace(k, **filled, targets=targets)
        if differs and (kpi.target is not None or kpi.targets):
            said = ", ".join(f"{s} {setting_text(v)}" for s, v in k.target_assumes)
            now = ", ".join(f"{s} {setting_text(params.get(s))}" for s, _ in differs)
            kpi = replace(kpi, target=None, target_source=None, targets=(),
                          definition=f"{kpi.definition} No target is shown: the published target is "
                                     f"for {said}, and this report uses {now}.")
        out.append(kpi)
    return out


def for_year(kpis: list[Kpi], fy: int) -> list[Kpi]:
    """The KPIs of the budget year starting in ``fy``, each with that year's target and
    ``new_this_year`` when it was not a KPI of the year before."""
    label = Period(fy).label
    return [replace(k, target=t, target_source=s, budget_year=label, new_this_year=not k.in_year(fy - 1))
            for k in kpis if k.in_year(fy)
            for t, s in [k.target_in(fy)]]


# ------------------------------------------------------------------------------ loading
@functools.lru_cache(maxsize=8)
def _parsed(path: str, stamp: tuple[int, int]) -> tuple[Kpi, ...]:
    try:
        doc = load_yaml(Path(path), what="KPI catalogue")
    except ParameterError as exc:
        raise CatalogueError(str(exc)) from None
    return tuple(parse_catalogue(doc, path))


def _entries(path: Path) -> list[Kpi]:
    try:
        st = path.stat()
    except OSError:
        raise CatalogueError(f"KPI catalogue {path}: not found") from None
    return list(_parsed(str(path), (st.st_mtime_ns, st.st_size)))


def catalogue_path(params: Mapping[str, Any] | None) -> Path:
    """The catalogue file a run uses: the ``kpis_file`` setting, else params/kpis.yaml."""
    given = (params or {}).get("kpis_file")
    return Path(given) if given else DEFAULT_PATH


def load_catalogue(path: str | Path | None = None, params: Mapping[str, Any] | None = None,
                   period: Period | str | None = None) -> list[Kpi]:
    """The catalogue at ``path`` (default: the ``kpis_file`` of ``params``, else params/kpis.yaml),
    its labels filled in from ``params`` (default: the default settings) and, when ``period`` is
    given, only the KPIs (and targets) of its budget year."""
    if params is None:
        from kpi_lib.config.settings import load_settings
        params = load_settings().as_params()
    where = Path(path) if path is not None else catalogue_path(params)
    kpis = fill_labels(_entries(where), params, str(where))
    if period is not None:
        kpis = for_year(kpis, Period.parse(period).fy)
    return kpis


def catalogue_for(params: Mapping[str, Any], period: Period | str | None = None) -> list[Kpi]:
    """The run's catalogue: the ``kpis_file`` setting's (or the default), labels from ``params``,
    the KPIs and targets of ``period``'s budget year (every year's when None)."""
    return load_catalogue(None, params, period)


def check_categories(kpis: list[Kpi], names: list[str], source: str = "the crime categories file") -> None:
    """Every crime KPI names a category the categories file defines (one message naming them)."""
    bad = [(k.id, k.category) for k in kpis if k.family == "crime" and k.category not in names]
    if bad:
        raise CatalogueError(f"crime KPI(s) name categories not defined in {source}: "
                             + "; ".join(f"{i} has category {c!r}" for i, c in bad)
                             + f"; expected one of {', '.join(names)}")


# ------------------------------------------------------------------------------ a run's catalogue
RUN_FILE = "catalogue.json"  # in a run's results/: the catalogue exactly as the run used it


def to_records(kpis: list[Kpi]) -> list[dict]:
    """The catalogue as plain records (JSON), labels and targets as used."""
    from dataclasses import asdict
    return [{**asdict(k), "targets": [list(t) for t in k.targets],
             "target_assumes": [list(t) for t in k.target_assumes]} for k in kpis]


def from_records(records: list[dict]) -> list[Kpi]:
    return [Kpi(**{**r, "targets": tuple(tuple(t) for t in r.get("targets", ())),
                   "target_assumes": tuple(tuple(t) for t in r.get("target_assumes", ()))})
            for r in records]


def write_run_catalogue(kpis: list[Kpi], results_dir: str | Path) -> Path:
    """Record the catalogue a run used in ``results_dir/catalogue.json`` (atomically), so that the
    report, the spreadsheet and a later re-render use exactly those names, targets and years."""
    import json
    import os
    import tempfile
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{RUN_FILE}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(to_records(kpis), fh, indent=1, default=str)
    os.chmod(tmp, 0o644)
    os.replace(tmp, folder / RUN_FILE)
    return folder / RUN_FILE


def run_catalogue(out_dir: str | Path, period: Period | str | None = None) -> list[Kpi]:
    """The catalogue of the run in ``out_dir``: the one it recorded (results/catalogue.json), else
    the one its settings name (inputs.json), else the default settings'."""
    import json
    out = Path(out_dir)
    recorded = out / "results" / RUN_FILE
    if recorded.exists():
        return from_records(json.loads(recorded.read_text(encoding="utf-8")))
    params = None
    inputs = out / "inputs.json"
    if inputs.exists():
        params = json.loads(inputs.read_text(encoding="utf-8")).get("parameters")
    if params is None:
        from kpi_lib.config.settings import load_settings
        params = load_settings().as_params()
    return catalogue_for(params, period)


# ------------------------------------------------------------------------------ tables and figures
def catalogue_frame(kpis: list[Kpi]) -> pd.DataFrame:
    """The catalogue as a table, one row per KPI, in catalogue order."""
    return pd.DataFrame([{
        "kpi_id": k.id, "name": k.name, "family": k.family, "unit": k.unit,
        "polarity": k.polarity, "frequency": k.frequency, "supplementary": k.supplementary,
        "target": k.target, "plan_priority": k.plan_priority,
        "improvement_area": k.improvement_area, "pmf_integration": k.pmf_integration,
        "definition": k.definition, "category": k.category or "", "measure": k.measure or "",
        "from_year": k.from_year or "", "until_year": k.until_year or "",
        "targets": "; ".join(f"{y}: {setting_text(v)}" for y, v, _ in k.targets),
    } for k in kpis])


def budget_kpis(kpis: list[Kpi]) -> list[Kpi]:
    """The Table 1 budget KPIs (not the supplementary measures)."""
    return [k for k in kpis if not k.supplementary]


def is_integrated(kpi: Kpi) -> bool:
    """Rule used for the paper's coverage sentence: PMF text says it is 'Already included'.

    The paper counts 14 integrated KPIs "into Force performance reports or existing PCC
    products"; read literally, Table 1 marks 13 as "Already included". The 14th is most likely
    visibility, which is "already included in the SMSR report published on the PCC's website".
    This rule follows Table 1's own wording; see docs/assumptions.md.
    """
    return kpi.pmf_integration.strip().lower().startswith("already included")


@dataclass(frozen=True)
class Coverage:
    """'N of M regularly reportable KPIs ...' with its percentage."""

    count: int
    of: int

    @property
    def percent(self) -> float:
        return 100.0 * self.count / self.of if self.of else float("nan")

    def sentence(self, what: str) -> str:
        return f"{self.count} of {self.of} regularly reportable KPIs {what} ({self.percent:.0f}%)"


def pmf_coverage(kpis: list[Kpi]) -> Coverage:
    """How many regularly reportable budget KPIs (not annual) Table 1 marks as integrated."""
    regular = [k for k in budget_kpis(kpis) if k.frequency != "annual"]
    return Coverage(sum(is_integrated(k) for k in regular), len(regular))
