"""The worked examples of docs/methods.md, written from a KPI result table, so that the document
says exactly what a run gives.

Each example is a block of Markdown between ``<!-- example: NAME -->`` and ``<!-- /example -->``
in the document. :func:`worked_examples` writes every block from the result rows of a period (the
sample's 2024/25 Q4 in the document); :func:`fill` puts them into the document's text and
:func:`stale` names the blocks that differ (a test runs the sample and checks none does). To
refresh the document after a deliberate change::

    python -m kpi_lib.analyse.examples docs/methods.md data/sample 2024/25-Q4
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping

import pandas as pd

#: example name -> (kpi_id, basis) of the row it is written from
EXAMPLES = {
    "vehicle-crime": ("vehicle_crime_volume", ""),
    "rape-volume": ("rape_volume", ""),
    "grade2-median": ("response_grade2_median", ""),
    "confidence": ("confidence_overall", ""),
    "trc-charged": ("trc_charge_rate", "cohort"),
    "action-taken": ("action_taken_rate", "cohort"),
}
BLOCK = re.compile(r"(<!-- example: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /example -->)", re.S)


def _f(v, places: int = 1) -> str:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return "—"
    if math.isnan(x):
        return "—"
    return f"{x:,.{places}f}"


def _p(v) -> str:
    """ "< 0.001" or "= 0.028", to follow "p" or "q"."""
    x = float(v)
    return "< 0.001" if x < 0.001 else f"= {x:.3f}"


def _row(results: pd.DataFrame, kpi_id: str, basis: str) -> Mapping:
    b = results["basis"].fillna("").astype(str)
    sel = results[(results["kpi_id"] == kpi_id) & (b == basis)]
    if sel.empty:
        raise KeyError(f"no result row for {kpi_id} {basis!r}")
    return sel.iloc[0].to_dict()


def _lines(r: Mapping, unit_word: str, places: int) -> list[str]:
    """The figures every example gives: the two answers and the verdict."""
    out = [f"- Against {r['last_year_period']}: {_f(r['value'], places)} against "
           f"{_f(r['last_year_value'], places)}{unit_word}; {r['last_year_test']}, p {_p(r['last_year_p_value'])}, "
           f"q {_p(r['last_year_q_value'])}: **{r['last_year_words']}**."]
    out.append(f"- Over time ({r['spc_grain']}ly points, limits from the {int(r['spc_window_points'])} "
               f"points from {pd.Timestamp(r['spc_window_start']):%B %Y}): **{r['spc_words']}**.")
    out.append(f"- Verdict: **{r['verdict']}**.")
    return out


def worked_examples(results: pd.DataFrame) -> dict[str, str]:
    """Every example's Markdown, from the result rows of one period."""
    out = {}
    r = _row(results, *EXAMPLES["vehicle-crime"])
    out["vehicle-crime"] = "\n".join(
        [f"Vehicle crime, {r['period']} (dispersion of its monthly counts {_f(r['last_year_dispersion'], 2)}):",
         *_lines(r, " crimes", 0)])
    r = _row(results, *EXAMPLES["rape-volume"])
    out["rape-volume"] = "\n".join([f"Rape, {r['period']}:", *_lines(r, " offences", 0)])
    r = _row(results, *EXAMPLES["grade2-median"])
    out["grade2-median"] = "\n".join(
        [f"Median grade 2 response time, {r['period']} (change {_f(r['change_last_year'], 1)} min, 95% interval "
         f"{_f(r['change_last_year_low'], 1)} to {_f(r['change_last_year_high'], 1)} min):", *_lines(r, " min", 1)])
    r = _row(results, *EXAMPLES["confidence"])
    out["confidence"] = "\n".join(
        [f"Overall confidence, {r['period']} (target {_f(r['target'], 0)}%: {r['target_source']}):",
         *_lines(r, "%", 1)])
    r = _row(results, *EXAMPLES["trc-charged"])
    out["trc-charged"] = "\n".join(
        [f"Total recorded crime, % charged or summonsed (cohort), {r['period']}: {_f(r['value'], 1)}% "
         f"({_f(r['pending_share'], 0)}% of outcomes pending, provisional) against {_f(r['last_year_value'], 1)}% "
         f"for {r['last_year_period']} counted at the same age ({int(r['comparator_age_days'])} days after its end); "
         f"fully matured today that quarter stands at {_f(r['last_year_value_mature'], 1)}%.",
         *_lines(r, "%", 1)])
    r = _row(results, *EXAMPLES["action-taken"])
    out["action-taken"] = (
        f"Action-taken rate (cohort), {r['period']}: {_f(r['value'], 1)}%, with {_f(r['pending_share'], 1)}% of "
        f"its crimes still awaiting an outcome ({'provisional' if r['provisional'] else 'not provisional'}); "
        f"verdict: **{r['verdict']}**.")
    return out


def fill(doc: str, examples: Mapping[str, str]) -> str:
    """``doc`` with each example block's body replaced by ``examples[name]`` (blocks without an
    example are left as they are)."""
    def repl(m: re.Match) -> str:
        name = m.group("name")
        if name not in examples:
            return m.group(0)
        return f"{m.group(1)}{examples[name]}\n{m.group(4)}"
    return BLOCK.sub(repl, doc)


def blocks(doc: str) -> dict[str, str]:
    """The example blocks of a document, by name (bodies without their last newline)."""
    return {m.group("name"): m.group("body").rstrip("\n") for m in BLOCK.finditer(doc)}


def stale(doc: str, examples: Mapping[str, str]) -> list[str]:
    """Names of the document's example blocks that differ from ``examples`` (or are missing)."""
    have = blocks(doc)
    return [name for name, text in examples.items() if have.get(name) != text]


def main(argv: list[str]) -> int:  # pragma: no cover - the command-line edge
    """Rewrite the example blocks of a document from a run of the engine on a data folder."""
    from pathlib import Path

    from kpi_lib.analyse.engine import compute
    from kpi_lib.config.configuration import load_configuration
    from kpi_lib.measure.cache import get_panel

    doc_path, data, period = Path(argv[0]), argv[1], argv[2]
    config = load_configuration()
    results = compute(period, get_panel(data, config.params)[0], config)
    doc_path.write_text(fill(doc_path.read_text(encoding="utf-8"), worked_examples(results)), encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
