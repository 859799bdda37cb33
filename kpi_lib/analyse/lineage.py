"""Where each figure comes from: one lineage record for every figure of every budget KPI
(the period's value and each comparison value in ``kpis.csv``), written to
``results/lineage.json``.

A record says, for one figure: the KPI's definition; what was counted as the numerator and the
denominator, with their values; the filters, both in words and as a small machine-readable
recipe (the input table, the columns, the values, the dates), precise enough to recompute the
figure from the input files alone; the period and, for a cohort outcome rate, the date outcomes
were counted to and the cohort's age; each input file with its SHA-256 and rows; the code
version; and one line of Python that reproduces the figure with kpi_lib.

The recipe language (``recipe``) is deliberately small: ``kind`` is one of

- ``count``: rows of ``table`` passing ``where``;
- ``proportion``: 100 x rows passing ``where`` and ``numerator_where``, over rows passing ``where``;
- ``weighted_share``: the same with the ``weight`` column summed instead of rows counted;
- ``cohort_rate``: crimes passing ``where``; the numerator is those whose outcome (table
  ``outcomes``, joined on ``crime_ref``) passes ``numerator_where``;
- ``in_period_rate``: outcomes passing ``numerator_where`` of crimes passing ``crimes_where``,
  over crimes passing ``where``;
- ``median_minutes``: the median of ``end`` minus ``start`` in minutes over rows passing ``where``;
- ``mean_seconds``: the mean of ``end`` minus ``start`` in seconds over rows passing ``where``;
- ``ratio_of_columns``: 100 x ``numerator`` / ``denominator`` of the one row passing ``where``;
- ``described``: no recipe (aggregated public tables, yes/no answers, converted quantities):
  the words say how.

A ``where`` item is ``{"column", "op", "value"}`` with ``op`` one of ``in``, ``not_in``,
``equals``, ``date_between`` (inclusive ISO dates), ``local_date_between`` (a UTC timestamp's
calendar date in ``timezone``), ``on_or_before``, ``is_null``, ``not_null``,
``seconds_at_most`` (``value`` = [start column, seconds]: the column minus the start column).

Pure: the result table, the measurement rows, the windows, the settings and the inputs record
in, a list of dicts out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd

from kpi_lib.core.windows import Window

FORMAT = 1
ZONE = "Europe/London"
#: kpis.csv comparison column -> (the window's name in the run's window set, words)
FIGURES = {
    "value": ("current", "this period"),
    "previous_value": ("previous", "the previous quarter"),
    "last_year_value": ("last_year", "the same period last year"),
    "rolling12_value": ("rolling12", "the 12 months to the period's end"),
    "previous12_value": ("previous12", "the 12 months before those"),
    "baseline_value": ("baseline", "the baseline year"),
}
SURVEY_QUESTIONS = {"victim_satisfaction": ("overall_satisfaction", "satisfied_answers"),
                    "confidence_overall": ("confidence_local_policing", "confidence_answers"),
                    "visibility_weekly": ("seen_officer_frequency", "visibility_answers")}
CALL_LINES = {"calls_999_within_10s": ("999", "threshold_999_seconds"),
              "calls_101_within_30s": ("101", "threshold_101_seconds")}
TABLE_OF = {"crime": ("crimes", "outcomes"), "calls": ("calls",), "response": ("incidents",),
            "satisfaction": ("survey_responses",), "confidence": ("survey_responses",),
            "finance": ("finance", "vfm"), "environment": ("carbon",)}


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _last_day(w: Window) -> date:
    return w.end - timedelta(days=1)


def _dates(w: Window) -> list[str]:
    return [w.start.isoformat(), _last_day(w).isoformat()]


def _w(column: str, op: str, value: Any = None) -> dict:
    return {"column": column, "op": op, "value": value}


def crime_code_filter(category: str, categories) -> tuple[dict | None, str]:
    """The offence-code filter of a crime category (a where item, or None for a flag category
    such as domestic abuse) and its words."""
    kind = categories.kind(category)
    if kind == "flag":
        return None, f"crimes flagged as {category.replace('_', ' ')} (any offence)"
    codes = categories.codes
    if kind == "total":
        excluded = sorted(codes.index[codes["group"].isin(categories.excluded_groups)])
        return (_w("offence_code", "not_in", excluded),
                "every offence code except the " + ", ".join(categories.excluded_groups).lower()
                + f" group ({', '.join(excluded)})")
    subgroups = categories.categories[category]
    members = sorted(codes.index[codes["subgroup"].isin(subgroups)])
    return (_w("offence_code", "in", members),
            f"offence codes of {', '.join(subgroups)} ({', '.join(members)})")


def _crime_recipe(kpi_id: str, basis: str, w: Window, params: Mapping, categories, category: str,
                  cutoff: date | None, volume: bool, action: bool) -> tuple[dict, dict]:
    where = [_w("recorded_date", "date_between", _dates(w))]
    code, code_words = crime_code_filter(category, categories)
    if code is not None:
        where.append(code)
    else:
        where.append(_w(categories.flags[category], "equals", True))
    dates_words = f"recorded {w.start:%-d %B %Y} to {_last_day(w):%-d %B %Y}"
    if volume:
        return ({"kind": "count", "table": "crimes", "where": where},
                {"numerator": f"crimes {dates_words}: {code_words}", "denominator": ""})
    types = list(params["action_taken_types" if action else "charge_outcome_types"])
    what = "action taken" if action else "charged or summonsed"
    types_words = f"outcome types {', '.join(types)} ({what})"
    if basis == "in_period":
        crimes_where = [c for c in where if c["column"] != "recorded_date"]
        num = [_w("outcome_type", "in", types), _w("outcome_date", "date_between", _dates(w))]
        return ({"kind": "in_period_rate", "table": "crimes", "where": where, "crimes_where": crimes_where,
                 "numerator_table": "outcomes", "numerator_where": num},
                {"numerator": f"outcomes with {types_words} dated {w.start:%-d %B %Y} to "
                              f"{_last_day(w):%-d %B %Y}, for crimes of {code_words} recorded at any time",
                 "denominator": f"crimes {dates_words}: {code_words}"})
    num = [_w("outcome_type", "in", types)]
    upto = ""
    if cutoff is not None:
        num.append(_w("outcome_date", "on_or_before", cutoff.isoformat()))
        upto = f", with the outcome dated on or before {cutoff:%-d %B %Y}"
    return ({"kind": "cohort_rate", "table": "crimes", "where": where, "numerator_table": "outcomes",
             "numerator_where": num},
            {"numerator": f"those crimes given {types_words}{upto}",
             "denominator": f"crimes {dates_words}: {code_words}"})


def recipe(kpi_id: str, basis: str, w: Window, params: Mapping, categories,
           crime_categories: Mapping[str, tuple[str, str]], cutoff: date | None = None) -> tuple[dict, dict]:
    """(recipe, words) of one KPI's figure over window ``w`` (see the module doc)."""
    local = {"timezone": ZONE}
    if kpi_id in crime_categories:
        category, measure = crime_categories[kpi_id]
        return _crime_recipe(kpi_id, basis, w, params, categories, category, cutoff,
                             volume=measure == "volume", action=measure == "action_taken_rate")
    if kpi_id in CALL_LINES:
        line, key = CALL_LINES[kpi_id]
        secs = params[key]
        where = [_w("line", "equals", line), {**_w("received_at", "local_date_between", _dates(w)), **local}]
        return ({"kind": "proportion", "table": "calls", "where": where,
                 "numerator_where": [_w("answered_at", "not_null"),
                                     _w("answered_at", "seconds_at_most", ["received_at", secs])]},
                {"numerator": f"{line} calls answered within {secs:g} seconds of being received",
                 "denominator": f"every {line} call received {w.start:%-d %B %Y} to {_last_day(w):%-d %B %Y} "
                                "(UK time), abandoned calls included"})
    if kpi_id in ("calls_999_abandoned_rate", "calls_101_abandoned_rate"):
        line = kpi_id.split("_")[1]
        where = [_w("line", "equals", line), {**_w("received_at", "local_date_between", _dates(w)), **local}]
        return ({"kind": "proportion", "table": "calls", "where": where,
                 "numerator_where": [_w("answered_at", "is_null")]},
                {"numerator": f"{line} calls never answered", "denominator": f"every {line} call received"})
    if kpi_id == "calls_101_average_wait":
        where = [_w("line", "equals", "101"), {**_w("received_at", "local_date_between", _dates(w)), **local},
                 _w("answered_at", "not_null")]
        return ({"kind": "mean_seconds", "table": "calls", "where": where, "start": "received_at",
                 "end": "answered_at"},
                {"numerator": "seconds from receipt to answer, summed", "denominator": "101 calls answered"})
    if kpi_id in ("response_grade1_median", "response_grade2_median"):
        g = 1 if "grade1" in kpi_id else 2
        where = [_w("grade", "equals", g), {**_w("created_at", "local_date_between", _dates(w)), **local},
                 _w("arrived_at", "not_null")]
        return ({"kind": "median_minutes", "table": "incidents", "where": where, "start": "created_at",
                 "end": "arrived_at"},
                {"numerator": f"attended grade {g} incidents within {params[f'grade{g}_target_minutes']:g} minutes "
                              "(shown beside the median)",
                 "denominator": f"grade {g} incidents created in the period and attended (the median is over these)"})
    if kpi_id == "unresourced_incidents":
        where = [{**_w("created_at", "local_date_between", _dates(w)), **local}, _w("resourced", "equals", False)]
        return ({"kind": "count", "table": "incidents", "where": where},
                {"numerator": "incidents created in the period with no resource sent (any grade)",
                 "denominator": "every incident created in the period"})
    if kpi_id in SURVEY_QUESTIONS:
        question, key = SURVEY_QUESTIONS[kpi_id]
        answers = list(params[key])
        where = [_w("question", "equals", question), _w("interview_date", "date_between", _dates(w))]
        return ({"kind": "weighted_share", "table": "survey_responses", "where": where, "weight": "weight",
                 "numerator_where": [_w("answer", "in", answers)]},
                {"numerator": f"survey weights of respondents answering {', '.join(answers)}",
                 "denominator": f"survey weights of every respondent to the question '{question}' "
                                "interviewed in the period (\"don't know\" included)"})
    if kpi_id == "finance_savings_delivered":
        p_fy, q = _finance_period(w)
        return ({"kind": "ratio_of_columns", "table": "finance",
                 "where": [_w("financial_year", "equals", p_fy), _w("quarter", "equals", q)],
                 "numerator": "savings_delivered_gbp", "denominator": "savings_target_gbp"},
                {"numerator": f"savings delivered in {p_fy} to the end of Q{q} (pounds)",
                 "denominator": f"the savings plan for {p_fy} (pounds)"})
    if kpi_id == "finance_outturn_within_budget":
        p_fy, q = _finance_period(w)
        return ({"kind": "described", "table": "finance",
                 "where": [_w("financial_year", "equals", p_fy), _w("quarter", "equals", q)]},
                {"numerator": "the outturn (pounds); yes when it is at or under the budget",
                 "denominator": "the budget (pounds)"})
    if kpi_id == "finance_vfm_unqualified":
        p_fy, _ = _finance_period(w)
        return ({"kind": "described", "table": "vfm", "where": [_w("financial_year", "equals", p_fy)]},
                {"numerator": "yes when the external auditor's conclusion is 'unqualified'", "denominator": ""})
    if kpi_id == "carbon_footprint":
        return ({"kind": "described", "table": "carbon",
                 "where": [_w("period_start", "date_between", _dates(w))]},
                {"numerator": "each month's quantity of electricity, gas and fuel times its conversion "
                              "factor (kg CO2e per unit, params/carbon_factors.yaml, by calendar year), "
                              "summed and divided by 1,000",
                 "denominator": ""})
    return {"kind": "described"}, {"numerator": "", "denominator": ""}


def crime_category_of(catalogue) -> dict[str, tuple[str, str]]:
    """Crime KPI id -> (the crime category it counts, its measure), from the catalogue."""
    return {k.id: (k.category, k.measure) for k in catalogue if k.family == "crime"}


def _finance_period(w: Window) -> tuple[str, int]:
    from kpi_lib.core.periods import Period
    p = Period.containing(w.start)
    return p.fy_label, (4 if w.kind == "year" else p.quarter)


#: each filter operation of a recipe, in words (column, value -> words)
OPERATION_WORDS: dict[str, Callable[[str, Any], str]] = {
    "in": lambda col, v: f"{col} is one of {', '.join(map(str, v))}",
    "not_in": lambda col, v: f"{col} is not one of {', '.join(map(str, v))}",
    "equals": lambda col, v: f"{col} = {v}",
    "date_between": lambda col, v: f"{col} from {v[0]} to {v[1]}",
    "local_date_between": lambda col, v: f"{col} (UK date) from {v[0]} to {v[1]}",
    "on_or_before": lambda col, v: f"{col} on or before {v}",
    "is_null": lambda col, v: f"{col} is empty",
    "not_null": lambda col, v: f"{col} is given",
    "seconds_at_most": lambda col, v: f"{col} at most {v[1]:g} seconds after {v[0]}",
}


def _item_words(item: dict) -> str:
    words = OPERATION_WORDS.get(item["op"])
    if words is None:
        raise ValueError(f"unknown filter {item['op']!r}")
    return words(item["column"], item["value"])


def filter_words(rec: dict) -> list[str]:
    """The recipe's filters in words, one line each."""
    labels = {"where": "", "crimes_where": "outcomes of crimes with ", "numerator_where": "numerator: "}
    return [labels[part] + _item_words(item) for part in labels for item in rec.get(part, [])]


def _inputs_for(tables: Iterable[str], ledger: list[dict], counted: Mapping[str, float | None]) -> list[dict]:
    out = []
    for e in ledger:
        if e.get("table") in tables:
            out.append({"table": e.get("table"), "file": e.get("file"), "sha256": e.get("sha256"),
                        "rows_in_file": e.get("rows_used"), "rows_counted": counted.get(e.get("table"))})
    return out


def reproduce_line(period: str, kpi_id: str, basis: str, figure: str) -> str:
    """One line of Python that recomputes the figure with kpi_lib from the data folder."""
    query = f"kpi_id == '{kpi_id}'" + (f" and basis == '{basis}'" if basis else "")
    return ("python -c \"from kpi_lib import compute, read_tables; "
            f"print(compute('{period}', read_tables('DATA_FOLDER')).query(\\\"{query}\\\")['{figure}'].item())\"")


def _matching(m: pd.DataFrame, kpi_id: str, basis: str, w: Window) -> dict | None:
    sel = m[(m["kpi_id"] == kpi_id) & (m["window_kind"] == w.kind)
            & (pd.to_datetime(m["window_start"]) == pd.Timestamp(w.start))
            & (pd.to_datetime(m["window_end"]) == pd.Timestamp(w.end))]
    if "basis" in sel:
        b = sel["basis"].fillna("")
        if (b == basis).any():
            sel = sel[b == basis]
    return sel.iloc[0].to_dict() if len(sel) else None


def build_lineage(results: pd.DataFrame, measurements: pd.DataFrame, windows: Mapping[str, Window],
                  catalogue, params: Mapping, categories, crime_categories: Mapping[str, tuple[str, str]],
                  inputs_record: Mapping, extraction_date: date | None, lag_days: int | None) -> dict:
    """The lineage document: run facts and one record per figure of every budget KPI row."""
    cat = {k.id: k for k in catalogue}
    ledger = list(inputs_record.get("inputs", []))
    period = str(results["period"].iloc[0]) if len(results) else ""
    code = str(inputs_record.get("code_version", ""))
    records = []
    for r in results.to_dict("records"):
        k = cat.get(r["kpi_id"])
        if k is None or k.supplementary:
            continue
        basis = "" if r.get("basis") is None or (isinstance(r.get("basis"), float)) else str(r["basis"])
        source = str(r.get("source") or "")
        for figure, (wname, words) in FIGURES.items():
            w = windows.get(wname)
            value = _num(r.get(figure))
            if w is None or (figure != "value" and value is None):
                continue
            cohort = basis == "cohort"
            cutoff = age = None
            if cohort and extraction_date is not None:
                if figure == "value":
                    cutoff = extraction_date
                    age = (extraction_date - _last_day(w)).days
                elif lag_days is not None and str(r.get("comparison_basis", "")).startswith("equal maturity"):
                    cutoff = _last_day(w) + timedelta(days=lag_days)
                    age = lag_days
                else:
                    cutoff = extraction_date
                    age = (extraction_date - _last_day(w)).days
            rec, words_nd = recipe(k.id, basis, w, params, categories, crime_categories, cutoff)
            mrow = _matching(measurements, k.id, basis, w) or {}
            num = _num(r.get("numerator")) if figure == "value" else _num(mrow.get("numerator"))
            den = _num(r.get("denominator")) if figure == "value" else _num(mrow.get("denominator"))
            if figure != "value" and cohort and den and value is not None:
                num = round(value * den / 100)  # the comparator counted at equal maturity
            status = str(r.get("status")) if figure == "value" else str(mrow.get("status", "reported"))
            if source not in ("", "canonical", "none"):
                rec = {"kind": "described", "table": rec.get("table"), "source": source}
            tables = TABLE_OF.get(k.family, ())
            counted = {}
            if rec.get("kind") in ("proportion", "weighted_share", "cohort_rate", "in_period_rate",
                                   "median_minutes", "mean_seconds"):
                counted[tables[0]] = _num(r.get("sample_n")) if figure == "value" and k.family in (
                    "satisfaction", "confidence") else (den if rec["kind"] != "weighted_share" else _num(mrow.get("sample_n")))
            elif rec.get("kind") == "count":
                counted[rec["table"]] = value
            if rec.get("kind") in ("cohort_rate", "in_period_rate"):
                counted["outcomes"] = num
            records.append({
                "id": "/".join(x for x in (k.id, basis, figure) if x),
                "kpi_id": k.id, "kpi": k.name, "basis": basis, "figure": figure, "figure_words": words,
                "value": value, "unit": k.unit, "status": status,
                "numerator": num, "denominator": den,
                "numerator_words": words_nd.get("numerator", ""), "denominator_words": words_nd.get("denominator", ""),
                "definition": k.definition,
                "period": {"label": w.label if figure != "value" else period, "start": w.start.isoformat(),
                           "end": _last_day(w).isoformat(), "kind": w.kind},
                "cohort": None if cutoff is None else {"outcomes_up_to": cutoff.isoformat(), "age_days": age},
                "filters": filter_words(rec), "recipe": rec,
                "inputs": _inputs_for(tables, ledger, counted),
                "source": source,
                "code_version": code,
                "reproduce": reproduce_line(period, k.id, basis, figure),
            })
    return {"format": FORMAT, "period": period, "data_folder": inputs_record.get("data_folder"),
            "extraction_date": extraction_date.isoformat() if extraction_date else None,
            "code_version": code, "records": records}
