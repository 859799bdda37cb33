"""The columns of the suite's result tables, declared once, as data.

Each :class:`Column` gives a column's name, its type, the label a reader sees, whether it may be
empty, the values it may take, and how a spreadsheet shows it. A :class:`Table` is an ordered
tuple of them, and everything else is derived from it:

- the CSV column order: :attr:`Table.names`;
- the pandera schema that checks every write: :func:`kpi_lib.analyse.results.schema`;
- the spreadsheet headers and number formats: :mod:`kpi_lib.present.excel`;
- the one typed reader of the CSV files: :func:`read_csv` (text as text, empty as "", flags as
  booleans, numbers as floats), which needs neither pandera nor the engine.

:data:`RESULTS` is the KPI result table (``results/kpis.csv``, one row per KPI and basis);
:data:`SPC_POINTS` is every point of every SPC chart (``results/spc.csv``). A new column is one
entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

#: What a KPI row's ``status`` may be.
STATUSES = ("reported", "not_yet_available", "annual", "not_available_from_source", "not_in_data")


@dataclass(frozen=True)
class Check:
    """The values a column may take: one of ``values`` (a tuple, or a function returning them
    when the list lives elsewhere, such as the registered families), or a number between
    ``low`` and ``high`` (either end open when None)."""

    values: tuple | Callable[[], Iterable] | None = None
    low: float | None = None
    high: float | None = None

    def allowed(self) -> tuple | None:
        """The allowed values, resolved (None when any value of the type is allowed)."""
        if self.values is None:
            return None
        return tuple(self.values() if callable(self.values) else self.values)


def one_of(values: tuple | Callable[[], Iterable]) -> Check:
    return Check(values=values)


def between(low: float | None, high: float | None) -> Check:
    return Check(low=low, high=high)


@dataclass(frozen=True)
class Column:
    """One column: ``kind`` is ``str``, ``float``, ``int`` or ``bool``; ``label`` is what a reader
    sees (the spreadsheet header); ``nullable`` says whether a cell may be empty (text that may
    not be empty must have at least one character); ``excel`` is how a spreadsheet shows a
    value: ``"unit"`` in the KPI's own unit, ``"date"`` as a date, or an Excel number format."""

    name: str
    kind: type
    label: str
    nullable: bool = False
    check: Check | None = None
    excel: str = ""


@dataclass(frozen=True)
class Table:
    """An ordered set of columns: the order is the CSV's."""

    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def of_kind(self, kind: type) -> list[str]:
        return [c.name for c in self.columns if c.kind is kind]

    def with_column(self, column: Column, after: str | None = None) -> Table:
        """This table with one more column (at the end, or after the column named ``after``)."""
        cols = list(self.columns)
        at = len(cols) if after is None else self.names.index(after) + 1
        return Table((*cols[:at], column, *cols[at:]))


def _families() -> tuple[str, ...]:
    from kpi_lib.measure.registry import NAMES
    return NAMES


def _verdict_codes() -> tuple[str, ...]:
    from kpi_lib.analyse.verdicts import VERDICTS
    return ("", *VERDICTS)


def _text(name: str, label: str, check: Check | None = None) -> Column:
    return Column(name, str, label, nullable=True, check=check)


def _required(name: str, label: str, check: Check | None = None, excel: str = "") -> Column:
    return Column(name, str, label, check=check, excel=excel)


def _number(name: str, label: str, excel: str = "", check: Check | None = None) -> Column:
    return Column(name, float, label, nullable=True, check=check, excel=excel)


def _flag(name: str, label: str) -> Column:
    return Column(name, bool, label)


PROBABILITY = between(0.0, 1.0)
#: last_year_finding codes (kpi_lib.analyse.compare) and spc_finding codes (kpi_lib.analyse.overtime)
LAST_YEAR_FINDINGS = ("", "higher", "lower", "no_clear_change", "not_enough_data", "not_confirmed",
                      "not_comparable", "not_tested")
SPC_FINDINGS = ("", "outside", "shift", "trend", "within", "too_few", "none")
SIGNIFICANT = one_of((0.0, 1.0))  # 1.0 a real change, 0.0 could be chance, empty when untested
PERCENT = "0.0"
#: p- and q-values as Excel's General format shows them (2.2E-04, never a rounded 0.0000)
P_VALUE = "General"

#: The windows each KPI row is compared with (``<name>_value``, ``<name>_value_mature``), in words.
COMPARED = (("previous", "Previous quarter"), ("last_year", "Same period last year"),
            ("rolling12", "Rolling 12 months"), ("previous12", "Previous 12 months"),
            ("baseline", "Baseline year"))

#: The KPI result table: one row per KPI and basis (``results/kpis.csv``, ``year_kpis.csv``).
RESULTS = Table((
    _required("kpi_id", "KPI id"),
    _required("name", "KPI"),
    _required("family", "Family", one_of(_families)),
    _required("period", "Period"),
    _required("period_start", "Period start", excel="date"),
    _required("period_end", "Period end", excel="date"),
    _number("value", "Value", "unit"),
    _required("unit", "Unit"),
    _number("numerator", "Numerator", "unit"),
    _number("denominator", "Denominator", "unit"),
    _number("ci_low", "95% interval, low", "unit"),
    _number("ci_high", "95% interval, high", "unit"),
    _number("sample_n", "Sample size", "#,##0"),
    _required("status", "Status", one_of(STATUSES)),
    _text("basis", "Basis"),
    _flag("headline", "Headline row"),
    _text("source", "Source"),
    _text("note", "Note"),
    _number("target", "Target", "unit"),
    _text("target_source", "Target set by"),
    _required("polarity", "Better when"),
    _flag("supplementary", "Supplementary measure"),
    _text("budget_year", "Budget year"),
    _flag("new_this_year", "New KPI this budget year"),
    _number("pending_share", "Outcomes pending (%)", PERCENT),
    _flag("provisional", "Provisional"),
    *(_number(f"{name}_value", words, "unit") for name, words in COMPARED),
    *(_number(f"{name}_value_mature", f"{words} (fully matured)", "unit") for name, words in COMPARED),
    _text("comparison_basis", "Comparison basis"),
    _number("comparator_age_days", "Compared at the same age: days after each period end", "0"),
    _text("last_year_period", "Same period last year: which"),
    _number("change_previous", "Change on previous quarter", "unit"),
    _number("change_last_year", "Change on last year", "unit"),
    _number("change_last_year_pct", "Change on last year (%)", PERCENT),
    _number("change_last_year_low", "Change on last year, 95% interval low", "unit"),
    _number("change_last_year_high", "Change on last year, 95% interval high", "unit"),
    _number("change_last_year_pct_low", "Change on last year (%), 95% interval low", PERCENT),
    _number("change_last_year_pct_high", "Change on last year (%), 95% interval high", PERCENT),
    _text("last_year_test", "Test (last year)"),
    _number("last_year_p_value", "p-value (last year)", P_VALUE, PROBABILITY),
    _number("last_year_q_value", "q-value (last year, Benjamini-Hochberg)", P_VALUE, PROBABILITY),
    _number("last_year_significant", "Change on last year significant (q below 0.05)", check=SIGNIFICANT),
    _number("last_year_dispersion", "Dispersion of the count (last-year test)", "0.00"),
    _text("last_year_finding", "Against last year (code)", one_of(LAST_YEAR_FINDINGS)),
    _text("last_year_words", "Against last year"),
    _number("change_12m", "Change, 12 months on previous 12", "unit"),
    _number("change_12m_pct", "Change, 12 months on previous 12 (%)", PERCENT),
    _text("change_12m_test", "Test (12 months)"),
    _number("change_12m_p_value", "p-value (12 months)", P_VALUE, PROBABILITY),
    _number("change_12m_q_value", "q-value (12 months, Benjamini-Hochberg)", P_VALUE, PROBABILITY),
    _number("change_12m_significant", "12-month change significant", check=SIGNIFICANT),
    _number("change_baseline", "Change on baseline", "unit"),
    _number("change_baseline_pct", "Change on baseline (%)", PERCENT),
    _text("baseline_period", "Baseline period"),
    _text("spc_grain", "SPC grain"),
    Column("spc_points", int, "SPC points", check=between(0, None), excel="0"),
    _text("spc_variation", "SPC variation"),
    _text("spc_assurance", "SPC assurance"),
    _text("spc_rule", "SPC rule"),
    _flag("spc_trial", "SPC trial limits"),
    _flag("spc_seasonal", "SPC seasonal limits"),
    _text("spc_finding", "Over time (code)", one_of(SPC_FINDINGS)),
    Column("spc_direction", int, "Over time: direction (+1 up, -1 down)", check=between(-1, 1), excel="0"),
    _text("spc_words", "Over time"),
    _text("spc_since", "Over time: since"),
    Column("spc_trend", int, "Steady trend (+1 rising, -1 falling)", check=between(-1, 1), excel="0"),
    _text("spc_window_start", "SPC limits from"),
    Column("spc_window_points", int, "SPC points in the limits", check=between(0, None), excel="0"),
    _text("verdict_code", "Verdict code", one_of(_verdict_codes)),
    _text("verdict", "Verdict"),
    _number("outlook_value", "Year-end outlook", "unit"),
    _number("outlook_low", "Year-end outlook, 80% interval low", "unit"),
    _number("outlook_high", "Year-end outlook, 80% interval high", "unit"),
    _number("outlook_p_meet", "Probability of meeting the target by year end", "0.00", PROBABILITY),
    _text("verdict_direction", "Verdict direction", one_of(("", "better", "worse", "higher", "lower"))),
    _flag("synthetic_data", "Synthetic data"),
))

#: Every point of every SPC chart (``results/spc.csv``).
SPC_POINTS = Table((
    _required("kpi_id", "KPI id"),
    _text("basis", "Basis"),
    Column("x", str, "Period starting", excel="date"),
    _number("y", "Value", "unit"),
    _number("mean", "Mean", "unit"),
    _number("lpl", "Lower process limit", "unit"),
    _number("upl", "Upper process limit", "unit"),
    _text("variation", "Variation"),
    _text("rule", "Rule"),
    Column("segment", int, "Segment"),
    _number("adjustment", "Seasonal factor", "0.000"),
    _flag("limits_clipped", "Limits clipped to 0-100"),
    _flag("in_window", "In the window the limits come from"),
))


def _flag_values(s: pd.Series) -> pd.Series:
    """True/False from booleans or their text ("True", "true", "1"); anything else is False."""
    if s.dtype == bool:
        return s
    return s.map(lambda v: v if isinstance(v, bool) else str(v).strip().lower() in ("true", "1", "1.0")).astype(bool)


def typed(df: pd.DataFrame, table: Table = RESULTS) -> pd.DataFrame:
    """``df`` with each declared column in its type: text with "" for empty, numbers as floats
    (unreadable ones empty), whole numbers as int (empty as 0), flags as booleans. Columns the
    table does not declare are left as they are."""
    df = df.copy()
    for c in table.columns:
        if c.name not in df:
            continue
        s = df[c.name]
        if c.kind is str:
            df[c.name] = s.fillna("").astype(str)
        elif c.kind is float:
            df[c.name] = pd.to_numeric(s, errors="coerce").astype(float)
        elif c.kind is int:
            df[c.name] = pd.to_numeric(s, errors="coerce").fillna(0).astype(int)
        elif c.kind is bool:
            df[c.name] = _flag_values(s)
    return df


_MISSING = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
            "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")


def read_csv(path: str | Path, table: Table = RESULTS) -> pd.DataFrame:
    """A CSV written from ``table`` (or with some of its columns, such as history.csv), typed by
    :func:`typed`. Text columns are read as written: a note saying "N/A" stays "N/A", and an
    empty text cell is "". Other columns treat pandas' usual markers as missing."""
    header = pd.read_csv(path, nrows=0).columns
    text = [c for c in header if c in table and table[c].kind is str]
    df = pd.read_csv(path, dtype={c: str for c in text}, keep_default_na=False,
                     na_values={c: list(_MISSING) for c in header if c not in text})
    return typed(df, table)
