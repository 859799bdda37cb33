"""Run settings: one typed, validated object built from ``params/defaults.yaml``, an optional
``--params`` file and optional overrides, checked before any work starts.

Every key of ``defaults.yaml`` is a field of :class:`Settings`. Types are strict: a boolean is not
a number, the text ``"1"`` is not a list, a grain is a mapping by family, a period is a period,
the time zone must exist in the tz database. A bad value stops the run with one message naming the
file, the key, the value found and what was expected, never a traceback from inside a notebook.

Mappings (``spc_grain``, ``survey_scales``) are merged key by key, so a parameter file can change
one family's grain without restating the others; every other key replaces the default. Relative
file paths (``peers_file``, ``annotations_file``) are resolved against the folder of the file that
names them, so notebooks (which run in another folder) find the same file.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kpi_lib.config.catalogue import FAMILIES
from kpi_lib.core.errors import ParameterError
from kpi_lib.core.paths import params_file
from kpi_lib.core.periods import Period
from kpi_lib.core.safe_yaml import load_yaml

#: Home Office outcome types (0 = no outcome assigned yet); outcome settings must use these codes.
OUTCOME_TYPES = ["0", "1", "1A", "2", "2A", "3", "3A", "4", "5", "6", "7", "8", "9", "10", "11",
                 "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22"]
GRAINS = ("month", "quarter", "none")
#: Which answer setting belongs to which survey question (the questions are part of the KPIs).
ANSWER_SETTINGS = {"satisfied_answers": "overall_satisfaction",
                   "confidence_answers": "confidence_local_policing",
                   "visibility_answers": "seen_officer_frequency"}
MERGED = ("spc_grain", "survey_scales", "panel_paper")
REMOVED = {"spc_rebase": "rebasing now comes only from entries with `rebase: true` in "
                         "params/annotations.yaml (or the file named by annotations_file)"}
FILE_KEYS = ("peers_file", "annotations_file", "kpis_file", "crime_categories_file", "area_population",
             "mapping_file")

Number = int | float  # strict (model_config): true/false and text are refused
Text = Annotated[str, Field(min_length=1)]

#: The placeholders the Panel paper's text may use (filled in by the report).
PAPER_PLACEHOLDERS = ("force", "panel", "commissioner", "year", "period")


def _placeholders_known(text: str) -> str:
    import string
    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None and name not in PAPER_PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {{{name}}} in {text[:60]!r}; known: "
                             + ", ".join("{" + p + "}" for p in PAPER_PLACEHOLDERS))
    return text


class Contact(BaseModel):
    """One contact point of the Panel paper: who the contact speaks for, and how to reach them."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    represents: Text
    name: str | None = None
    role: str | None = None
    organisation: str | None = None
    phone: str | None = None
    email: str | None = None


class PanelPaper(BaseModel):
    """The Panel paper's own words (the sections of the agenda paper around the figures): the
    force's name (None: the name given with the inputs), the Commissioner's title, the meeting
    date, the recommendation, background and accountability paragraphs, the implications, the
    contact points and the background papers line."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    force: Text | None = None
    commissioner: Text = "Police and Crime Commissioner"
    meeting_date: Text | None = None
    recommendation: Text
    background: list[Text]
    accountability: list[Text]
    implications: dict[Text, Text]
    contacts: list[Contact]
    background_papers: Text

    @field_validator("recommendation", "background_papers")
    @classmethod
    def _text(cls, v: str) -> str:
        return _placeholders_known(v)

    @field_validator("background", "accountability")
    @classmethod
    def _paragraphs(cls, v: list[str]) -> list[str]:
        return [_placeholders_known(x) for x in v]

    @field_validator("implications")
    @classmethod
    def _implications(cls, v: dict[str, str]) -> dict[str, str]:
        return {k: _placeholders_known(x) for k, x in v.items()}


def _kpi_ids(path: str | None = None) -> set[str]:
    """Every KPI id of the catalogue at ``path`` (params/kpis.yaml when None), of any budget year."""
    doc = load_yaml(Path(path) if path else params_file("kpis.yaml"), what="KPI catalogue")
    return {str(k["id"]) for k in (doc or {}).get("kpis", []) if isinstance(k, dict) and "id" in k}


class Settings(BaseModel):
    """Every run setting, typed. Each field's ``title`` is its label for people (the report's
    settings table) and its ``description`` what it expects, in words (every error message names
    it); ``params/defaults.yaml`` gives the defaults and what each setting is for."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    panel_name: Text = Field(title="Panel", description="the Panel's name as text")
    headline_basis: Literal["cohort", "in_period"] = Field(title="Headline basis for outcome rates",
        description="'cohort' or 'in_period'")
    charge_outcome_types: list[Text] = Field(min_length=1, title="Outcome types counted as charged or summonsed",
        description=f"a list of Home Office outcome codes as text, e.g. ['1', '1A'] (codes: {', '.join(OUTCOME_TYPES[1:])})")
    action_taken_types: list[Text] = Field(min_length=1, title="Outcome types counted as action taken",
        description=f"a list of Home Office outcome codes as text, e.g. ['1', '1A', '2'] (codes: {', '.join(OUTCOME_TYPES[1:])})")
    provisional_pending_pct: Number = Field(ge=0, le=100, title="An outcome rate is provisional while more than this % of crimes await an outcome",
        description="a number from 0 to 100 (a percentage)")
    threshold_999_seconds: Number = Field(gt=0, title="999 calls: answered within (seconds)",
        description="a positive number of seconds")
    threshold_101_seconds: Number = Field(gt=0, title="101 calls: answered within (seconds)",
        description="a positive number of seconds")
    grade1_target_minutes: Number = Field(gt=0, title="Grade 1 (emergency) attendance target, minutes",
        description="a positive number of minutes")
    grade2_target_minutes: Number = Field(gt=0, title="Grade 2 (priority) attendance target, minutes",
        description="a positive number of minutes")
    survey_scales: dict[Text, list[Text]] = Field(title="Survey answer scales",
        description="a mapping of survey question to its list of valid answers (text)")
    satisfied_answers: list[Text] = Field(min_length=1, title="Answers counted as satisfied",
        description="a list of answers (text) from the survey scale of overall_satisfaction")
    confidence_answers: list[Text] = Field(min_length=1, title="Answers counted as confident",
        description="a list of answers (text) from the survey scale of confidence_local_policing")
    visibility_answers: list[Text] = Field(min_length=1, title="Answers counted as seeing an officer",
        description="a list of answers (text) from the survey scale of seen_officer_frequency")
    baseline_year: Text = Field(title="Baseline year",
        description="a financial year such as '2019/20' (quoted)")
    spc_screen_outliers: bool = Field(title="Extreme points left out when setting chart limits",
        description="true or false")
    spc_grain: dict[Text, Literal["month", "quarter", "none"]] = Field(title="Chart points (month or quarter), by section",
        description=f"a mapping of family to grain, e.g. {{crime: month}}, each grain one of {', '.join(GRAINS)}")
    spc_seasonal: list[Text] = Field(title="Measures whose chart limits allow for the seasons",
        description="a list of KPI ids from the KPI catalogue (params/kpis.yaml or kpis_file)")
    min_events_for_count_test: int = Field(ge=1, title="Fewest events for a test of a change in a count",
        description="a whole number of at least 1")
    spc_window_months: int = Field(default=24, ge=12, le=120, title="Chart limits from the latest months",
        description="a whole number of months from 12 to 120")
    spc_min_points: int = Field(default=12, ge=8, le=60, title="Fewest chart points to judge",
        description="a whole number of points from 8 to 60")
    practical_margin_pct: Number = Field(default=10, gt=0, le=100, title="Not enough data to tell when the interval reaches beyond (% of last year)",
        description="a positive number (a percentage of last year's value)")
    practical_margin_points: Number = Field(default=5, gt=0, le=100, title="Not enough data to tell when the interval reaches beyond (percentage points)",
        description="a positive number of percentage points")
    fdr_q: Number = Field(default=0.05, gt=0, lt=1, title="False discovery rate across the tests against last year",
        description="a number above 0 and below 1 (the false discovery rate, e.g. 0.05)")
    timezone: str | None = Field(title="Time zone",
        description="a time zone from the tz database, e.g. Europe/London, or null")
    peers_file: str | None = Field(title="Peer forces file", description="the path of a YAML file, or null")
    annotations_file: str | None = Field(title="Dated events file",
        description="the path of a YAML file, or null")
    local_areas: list[Text] | None = Field(default=None, title="The force's own local areas",
        description="a list of the force's own local area names (text), or null")
    kpis_file: str | None = Field(default=None, title="KPI catalogue file",
        description="the path of a KPI catalogue YAML file (as params/kpis.yaml), or null")
    crime_categories_file: str | None = Field(default=None, title="Crime categories file",
        description="the path of a crime categories YAML file (as params/crime_categories.yaml), or null")
    area_population: str | None = Field(default=None, title="Population of each local area (file)",
        description="the path of a CSV file of local_area, population (with a '# source:' line), or null")
    mapping_file: str | None = Field(default=None, title="Input mapping file",
        description="the path of an input mapping YAML file (as mapping.yaml), or null")
    ignore_files: list[Text] = Field(default=[], title="Files left out on purpose",
        description="a list of file name patterns (text), e.g. ['*.txt', 'archive/*']")
    as_at: str | None = Field(default=None, title="Figures as at (extraction date)",
        description="a date written YYYY-MM-DD (quoted), or null")
    panel_paper: PanelPaper = Field(
        title="The Panel paper's own words",
        description=("a mapping with any of force, commissioner, meeting_date, recommendation, "
                     "background (a list of paragraphs), accountability (a list of paragraphs), "
                     "implications (heading: text), contacts (a list of {represents, name, role, "
                     "organisation, phone, email}) and background_papers; text may use "
                     + ", ".join("{" + p + "}" for p in PAPER_PLACEHOLDERS)))
    max_answer_wait_seconds: Number = Field(gt=0, title="Longest plausible wait for a call to be answered, seconds",
        description="a positive number of seconds")
    max_attendance_minutes: Number = Field(gt=0, title="Longest plausible attendance time, minutes",
        description="a positive number of minutes")
    survey_weight_range: list[Number] = Field(min_length=2, max_length=2, title="Plausible survey weights (lowest, highest)",
        description="two positive numbers [lowest, highest], the lowest below the highest")

    @field_validator("survey_weight_range")
    @classmethod
    def _weight_range(cls, v: list[int | float]) -> list[int | float]:
        lo, hi = v
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
            raise ValueError("the lowest weight must be above 0 and below the highest")
        return v

    @field_validator("provisional_pending_pct", "threshold_999_seconds", "threshold_101_seconds",
                     "grade1_target_minutes", "grade2_target_minutes", "max_answer_wait_seconds",
                     "max_attendance_minutes")
    @classmethod
    def _finite(cls, v: int | float) -> int | float:
        if not math.isfinite(v):
            raise ValueError("not a finite number")
        return v

    @field_validator("charge_outcome_types", "action_taken_types")
    @classmethod
    def _outcome_codes(cls, v: list[str]) -> list[str]:
        unknown = [c for c in v if c not in OUTCOME_TYPES[1:]]
        if unknown:
            raise ValueError(f"unknown outcome code(s) {unknown}")
        if len(set(v)) != len(v):
            raise ValueError("a code is listed twice")
        return v

    @field_validator("survey_scales")
    @classmethod
    def _scales(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for question, answers in v.items():
            if not answers or len(set(answers)) != len(answers):
                raise ValueError(f"the scale of {question!r} must list each answer once")
        return v

    @field_validator("baseline_year")
    @classmethod
    def _year(cls, v: str) -> str:
        try:
            p = Period.parse(v)
        except ParameterError as exc:
            raise ValueError(str(exc)) from None
        if not p.is_year:
            raise ValueError("a whole financial year is needed, not a quarter")
        return p.label

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not a time zone in the tz database") from None
        return v

    @field_validator("as_at")
    @classmethod
    def _date(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from datetime import date
        try:
            d = date.fromisoformat(v)
        except ValueError:
            raise ValueError("not a date written YYYY-MM-DD") from None
        if not 1990 <= d.year <= 2100:
            raise ValueError("a date between 1990 and 2100 is expected")
        return d.isoformat()

    @field_validator("peers_file", "annotations_file", "kpis_file", "crime_categories_file",
                     "area_population", "mapping_file")
    @classmethod
    def _file(cls, v: str | None) -> str | None:
        if v is not None and not Path(v).is_file():
            raise ValueError("no such file" if not Path(v).exists() else "not a file")
        return v

    def as_params(self) -> dict[str, Any]:
        """The settings as the plain dict most of the code takes (``params``)."""
        return self.model_dump(mode="python")


#: What each key expects, in words (error messages): each field's description.
EXPECTED: dict[str, str] = {name: f.description or "a valid value" for name, f in Settings.model_fields.items()}
#: Each key's label for people (the report's settings table): each field's title.
LABELS: dict[str, str] = {name: f.title or name.replace("_", " ").capitalize()
                          for name, f in Settings.model_fields.items()}


def setting_files(params: dict) -> dict[str, Path]:
    """The files the settings name (key -> path), for digests: figures depend on their content,
    not only on their names."""
    return {k: Path(params[k]) for k in FILE_KEYS if params.get(k)}


def _describe(value: Any) -> str:
    kind = {bool: "true/false", str: "text", int: "a number", float: "a number", list: "a list",
            dict: "a mapping", type(None): "null"}.get(type(value), type(value).__name__)
    text = repr(value)
    # a long value keeps its end, where a path has its file name
    return f"{text if len(text) <= 80 else text[:30] + '...' + text[-47:]} ({kind})"


def _value_at(values: dict, loc: list) -> Any:
    """The value at a pydantic error location (key, then list index or mapping key)."""
    value: Any = values
    for part in loc:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


NUMBER_ERRORS = {"int_type", "float_type", "int_parsing", "float_parsing"}


def _message(exc: ValidationError, sources: dict[str, str], values: dict[str, Any]) -> str:
    """One readable message for every problem pydantic found, each naming where the key came
    from, the key (and item), the value and what was expected."""
    parts = []
    for err in exc.errors(include_url=False):
        # drop the tags pydantic adds for union members ("int", "float") and validators
        loc = [x for x in err["loc"] if not (isinstance(x, str) and (x in ("int", "float", "str", "none")
                                                                     or "[" in x))]
        key = str(loc[0])
        where = key + "".join(f"[{x!r}]" if isinstance(x, str) else f"[{x}]" for x in loc[1:])
        value = _value_at(values, loc)
        why = err["msg"].removeprefix("Value error, ")
        if err["type"] in NUMBER_ERRORS:
            why = ("true/false is not a number" if isinstance(value, bool) else
                   "not a whole number" if isinstance(value, float) else "not a number")
        elif err["type"] == "string_type":
            why = "not text (write it in quotes)"
        parts.append(f"{sources.get(key, 'parameters')}: parameter {where} is {_describe(value)}: {why}; "
                     f"expected {EXPECTED.get(key, 'a valid value')}")
    return "; ".join(dict.fromkeys(parts))


def _check_answers(settings: Settings, sources: dict[str, str]) -> None:
    """Each answer setting lists answers on its question's scale (else it could never match)."""
    for key, question in ANSWER_SETTINGS.items():
        scale = settings.survey_scales.get(question)
        if scale is None:
            raise ParameterError(f"{sources['survey_scales']}: parameter survey_scales has no scale for "
                                 f"{question!r}, which {key} needs; expected {EXPECTED['survey_scales']}")
        outside = [a for a in getattr(settings, key) if a not in scale]
        if outside:
            raise ParameterError(f"{sources[key]}: parameter {key} has {_describe(outside)} not on the "
                                 f"scale of {question!r}; expected answers from {scale}")


def _resolve_files(values: dict, base: Path) -> dict:
    return {k: (str((base / v).resolve()) if k in FILE_KEYS and isinstance(v, str) and v else v)
            for k, v in values.items()}


def _merge(into: dict, extra: dict, source: str, sources: dict[str, str], known: set[str]) -> None:
    unknown = [k for k in extra if k not in known]
    for key in unknown:
        if key in REMOVED:
            raise ParameterError(f"{source}: parameter {key} is no longer used: {REMOVED[key]}")
        near = difflib.get_close_matches(str(key), sorted(known), n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise ParameterError(f"{source}: unknown parameter {key!r}{hint}; known parameters: "
                             f"{', '.join(sorted(known))}")
    for key, value in extra.items():
        if key in MERGED and isinstance(value, dict) and isinstance(into.get(key), dict):
            if key == "spc_grain":
                unknown_families = [f for f in value if f not in FAMILIES]
                if unknown_families:
                    raise ParameterError(f"{source}: parameter spc_grain names unknown famil"
                                         f"{'ies' if len(unknown_families) > 1 else 'y'} "
                                         f"{unknown_families}; expected {', '.join(FAMILIES)}")
            into[key] = {**into[key], **value}
        else:
            into[key] = value
        sources[key] = source


def load_settings(path: str | Path | None = None, overrides: dict | None = None) -> Settings:
    """Defaults, then the YAML file at ``path``, then ``overrides``; validated (ParameterError)."""
    defaults_path = params_file("defaults.yaml")
    values = load_yaml(defaults_path, what="default parameters")
    if not isinstance(values, dict):
        raise ParameterError(f"{defaults_path}: expected a mapping of parameter names to values")
    values = _resolve_files(values, defaults_path.parent)
    known = set(values)
    sources = dict.fromkeys(values, str(defaults_path))
    if path is not None:
        p = Path(path)
        extra = load_yaml(p, what="parameter file")
        if extra is None:
            extra = {}
        if not isinstance(extra, dict):
            raise ParameterError(f"parameter file {p}: expected a mapping of parameter names to values, "
                                 f"found {_describe(extra)}")
        _merge(values, _resolve_files(extra, p.resolve().parent), str(p), sources, known)
    if overrides:
        _merge(values, _resolve_files(dict(overrides), Path.cwd()), "overrides", sources, known)
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        raise ParameterError(_message(exc, sources, values)) from None
    _check_answers(settings, sources)
    return _check_seasonal(settings, sources)


def _check_seasonal(settings: Settings, sources: dict[str, str]) -> Settings:
    """``spc_seasonal`` names KPIs of the catalogue in use (``kpis_file``). An id the user wrote
    that the catalogue lacks is an error; an id of the default list that a force's own catalogue
    has dropped (e.g. vehicle crime) is left out, since a KPI not measured needs no adjustment."""
    try:
        known = _kpi_ids(settings.kpis_file)
    except ParameterError as exc:
        raise ParameterError(f"{sources['kpis_file']}: parameter kpis_file: {exc}") from None
    unknown = [k for k in settings.spc_seasonal if k not in known]
    if not unknown:
        return settings
    if sources["spc_seasonal"] != str(params_file("defaults.yaml")):
        raise ParameterError(f"{sources['spc_seasonal']}: parameter spc_seasonal is "
                             f"{_describe(settings.spc_seasonal)}: unknown KPI id(s) {sorted(unknown)}; "
                             f"expected {EXPECTED['spc_seasonal']}")
    return settings.model_copy(update={"spc_seasonal": [k for k in settings.spc_seasonal if k in known]})


__all__ = ["EXPECTED", "GRAINS", "LABELS", "OUTCOME_TYPES", "PAPER_PLACEHOLDERS", "PanelPaper", "Settings",
           "load_settings", "setting_files"]
