"""The first question a Panel asks of a KPI: has it changed since the same period last year?

One like-for-like comparison per KPI row, with an estimate of the change, its 95% interval and
a test (:func:`last_year_change`); then, across the whole report, Benjamini-Hochberg q-values and
the words (:func:`finalise`). The rule, also in docs/methods.md:

- **Not comparable** when the other period is not in the data ("not comparable: 2023/24 Q4 is
  not in the data"), or the comparison is not like-for-like (a cohort rate from a source
  without outcome dates while the period still matures).
- **Not tested** where no test applies (an in-period outcome rate is a ratio, not a
  proportion; money, carbon and savings are totals, not samples; a yes/no answer has no
  sampling noise, so a switch is a change in itself and is reported as "higher" or "lower").
- Otherwise a test: counts by quasi-Poisson with the dispersion of the series' own monthly
  history (:func:`kpi_lib.core.stats.quasi_poisson_change`); proportions by the two-proportion
  z-test with Newcombe's interval; medians by Mood's median test with a bootstrap interval.
- After Benjamini-Hochberg across every last-year test of the report: **higher** / **lower** (a
  real change) when q < ``fdr_q`` (0.05); **possibly higher / lower, not confirmed**
  (``not_confirmed``) when p is below 0.05 but q is not, whatever the interval's width: a hint
  that the many tests of the report do not confirm, never "a real change"; **not enough data to
  tell** when the interval reaches
  further than the practical margin on either side of the estimate (``practical_margin_pct``
  for counts and medians, ``practical_margin_points`` for percentages), or there are too few
  events to test; otherwise **no clear change**.

Pure: dicts and frames in, dicts and frames out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from kpi_lib.core import stats

#: last_year_finding codes and the words each starts with
FINDINGS = {
    "higher": "higher, a real change",
    "lower": "lower, a real change",
    "no_clear_change": "no clear change",
    "not_enough_data": "not enough data to tell",
    "not_confirmed": "possibly {direction}, not confirmed once the report's {tests} tests are allowed for",
    "not_comparable": "not comparable",
    "not_tested": "not tested",
    "": "",
}
DEFAULT_FDR_Q = 0.05
DEFAULT_MARGIN_PCT = 10.0
DEFAULT_MARGIN_POINTS = 5.0

_UNTESTED_UNITS = {
    "gbp": "not tested: a sum of money, not a sample",
    "tco2e": "not tested: a total of carbon, not a sample",
}


def _nan(v) -> bool:
    try:
        return v is None or math.isnan(float(v))
    except (TypeError, ValueError):
        return True


def _empty(change: float, pct: float) -> dict:
    return {"change": change, "pct": pct, "low": math.nan, "high": math.nan, "pct_low": math.nan,
            "pct_high": math.nan, "p_value": math.nan, "test": "", "dispersion": math.nan,
            "finding": "", "too_wide": False, "reason": ""}


def signed_bound(value: float, places: int = 1) -> str:
    """An interval bound with its sign, rounded to ``places`` decimals unless that would make it
    read as zero: then with as many more decimals as its first significant digit needs, so the
    sign shown is the bound's own ("-0.03", "+0.004", never "-0.0" or "+0.0"). Exactly zero is
    "0.0", without a sign."""
    if value == 0:
        return f"{0:.{places}f}"
    shown = places
    while round(abs(value), shown) == 0 and shown < 12:
        shown += 1
    return f"{value:+.{shown}f}"


def interval_words(low: float, high: float, suffix: str = "") -> str:
    """A 95% interval of a change, each bound signed honestly (:func:`signed_bound`): "95% interval
    -0.03% to +4.0%", "95% interval +0.1 to +0.6 min" (``suffix`` "%", " min", " s" or " points")."""
    if suffix == "%":  # "-0.03% to +4.0%"; a unit in words once, after the pair: "+0.1 to +0.6 min"
        return f"95% interval {signed_bound(low)}% to {signed_bound(high)}%"
    return f"95% interval {signed_bound(low)} to {signed_bound(high)}{suffix}"


def _per_day(res: Mapping, days: tuple[float, float]) -> str:
    """Where the two periods differ in length (a leap year's February), the test compares the count
    per day, while the interval shown is the count's own (centred on the change shown); when the
    two then disagree on whether the change could be nothing (an interval across zero beside
    p < 0.05, or the other way round), the interval per day, as tested, is added so that the words
    never seem to contradict themselves: "; per day, as tested over 365 days against 366, +0.24%
    to +4.2%". Otherwise the empty string."""
    lo, hi, p = res.get("ratio_low", math.nan), res.get("ratio_high", math.nan), res.get("p_value", math.nan)
    if days[0] == days[1] or _nan(p) or not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    if (res["pct_low"] < 0 < res["pct_high"]) != (p < stats.ALPHA):
        return ""
    return (f"; per day, as tested over {days[0]:.0f} days against {days[1]:.0f}, "
            f"{signed_bound(100 * (lo - 1))}% to {signed_bound(100 * (hi - 1))}%")


def pct_change(new: float, old: float) -> float:
    if _nan(new) or _nan(old) or old == 0:
        return math.nan
    return 100 * (new - old) / abs(old)


def last_year_change(unit: str, basis: str, cur: Mapping | None, old: Mapping | None, *,
                     days: tuple[float, float], other_label: str, like_for_like: str = "",
                     dispersion: Mapping | None = None, times: tuple | None = None,
                     margins: Mapping | None = None, min_events: int = stats.MIN_EVENTS_FOR_COUNT_TEST) -> dict:
    """The change of one KPI row against the same period last year, before multiplicity control.

    ``cur`` and ``old``: the two periods' measurement rows (value, numerator, denominator,
    test_n, status), ``old`` None or not reported when the other period is not in the data
    (``other_label`` names it). ``days``: each period's length (exposure of a count).
    ``like_for_like``: words saying why the comparison is not like-for-like ("" when it is).
    ``dispersion``: :func:`kpi_lib.core.stats.count_dispersion` of the series (counts).
    ``times``: (values_a, counts_a, values_b, counts_b) binned times (medians). ``margins``:
    practical_margin_pct and practical_margin_points.

    Returns change, pct, low, high (interval of the change, in the KPI's unit; points for a
    percentage), pct_low, pct_high, p_value, test (its name or why none), dispersion, finding
    ("" until :func:`finalise`, or not_comparable / not_tested / not_enough_data when no test
    can say more), too_wide (the interval is wider than the margin) and reason (words).
    """
    margins = margins or {}
    m_pct = float(margins.get("practical_margin_pct", DEFAULT_MARGIN_PCT))
    m_pts = float(margins.get("practical_margin_points", DEFAULT_MARGIN_POINTS))
    v = math.nan if cur is None else float(cur.get("value", math.nan))
    reported_old = old is not None and old.get("status") == "reported" and not _nan(old.get("value"))
    o = float(old["value"]) if reported_old else math.nan
    out = _empty(v - o, pct_change(v, o))
    if cur is None or _nan(v):
        return out
    if not reported_old:
        return {**out, "finding": "not_comparable", "reason": f"not comparable: {other_label} is not in the data"}
    if like_for_like:
        return {**out, "finding": "not_comparable", "reason": f"not comparable: {like_for_like}"}
    if unit in _UNTESTED_UNITS:
        return {**out, "finding": "not_tested", "reason": _UNTESTED_UNITS[unit], "test": _UNTESTED_UNITS[unit]}
    if unit == "flag":
        # a yes/no answer has no sampling noise: a switch is a change in itself
        if v == o:
            return {**out, "finding": "no_clear_change", "reason": "no change (a yes/no answer)",
                    "test": "no test needed: a yes/no answer"}
        return {**out, "finding": "higher" if v > o else "lower",
                "reason": "a change of answer (a yes/no answer has no sampling noise)",
                "test": "no test needed: a yes/no answer"}
    if unit == "count":
        d = dispersion or {}
        res = stats.quasi_poisson_change(v, o, days[0], days[1], dispersion=float(d.get("dispersion", 1.0)),
                                         df=float(d.get("df", math.inf)), min_events=min_events)
        out.update(p_value=res["p_value"], test=res["test"], dispersion=res["dispersion"],
                   pct_low=res["pct_low"], pct_high=res["pct_high"])
        if not math.isnan(res["pct_low"]):
            out["low"], out["high"] = o * res["pct_low"] / 100, o * res["pct_high"] / 100
        if math.isnan(res["p_value"]):
            return {**out, "finding": "not_enough_data", "reason": f"not enough data to tell ({res['test']})"}
        half = (res["pct_high"] - res["pct_low"]) / 2
        out["too_wide"] = bool(half > m_pct)
        out["reason"] = interval_words(res["pct_low"], res["pct_high"], "%") + _per_day(res, days)
        return out
    if unit == "percent":
        if basis == "in_period":
            why = "not tested: an in-period rate is a ratio, not a proportion"
            return {**out, "finding": "not_tested", "reason": why, "test": why}
        n1, n2 = float(cur.get("test_n", math.nan)), float(old.get("test_n", math.nan))
        if _nan(n1) or _nan(n2):
            why = "not tested: no sample behind the figure"
            return {**out, "finding": "not_tested", "reason": why, "test": why}
        res = stats.proportion_difference(v / 100 * n1, n1, o / 100 * n2, n2)
        out.update(p_value=res["p_value"], test=res["test"], low=res["low"], high=res["high"])
        if math.isnan(res["p_value"]):
            return {**out, "finding": "not_enough_data", "reason": f"not enough data to tell ({res['test']})"}
        half = (res["high"] - res["low"]) / 2
        out["too_wide"] = bool(half > m_pts)
        out["reason"] = interval_words(res["low"], res["high"], " points")
        return out
    if unit in ("minutes", "seconds"):
        if times is None:
            why = ("not tested: the times behind the median are not in the panel" if unit == "minutes"
                   else "not tested: the waits behind the average are not kept")
            return {**out, "finding": "not_tested", "reason": why, "test": why}
        res = stats.median_difference(*times)
        out.update(p_value=res["p_value"], test=res["test"], low=res["low"], high=res["high"])
        if math.isnan(res["p_value"]):
            return {**out, "finding": "not_enough_data", "reason": f"not enough data to tell ({res['test']})"}
        if o:
            out["pct_low"], out["pct_high"] = 100 * res["low"] / o, 100 * res["high"] / o
        half = (res["high"] - res["low"]) / 2
        out["too_wide"] = bool(o > 0 and 100 * half / o > m_pct)
        suffix = " min" if unit == "minutes" else " s"
        out["reason"] = interval_words(res["low"], res["high"], suffix)
        return out
    why = f"not tested: no test for a change in {unit}"
    return {**out, "finding": "not_tested", "reason": why, "test": why}


def finding_after_q(finding: str, q: float, change: float, too_wide: bool, fdr_q: float) -> str:
    """The last-year finding once the q-value is known (rows that were tested)."""
    if finding:
        return finding
    if not _nan(q) and q < fdr_q and not _nan(change) and change != 0:
        return "higher" if change > 0 else "lower"
    return "not_enough_data" if too_wide else "no_clear_change"


def words(finding: str, reason: str, q: float, p: float = math.nan, tests: int = 0,
          fdr_q: float = DEFAULT_FDR_Q, change: float = math.nan) -> str:
    """The last-year answer in words: "higher, a real change (q = 0.003; 95% interval ...)", "no
    clear change (95% interval -9.6% to +9.9%)", "not enough data to tell (95% interval -24% to
    +41%)", "not comparable: 2023/24 Q4 is not in the data", "not tested: ...". A change with
    p below 0.05 that fails the false discovery rate says so: "possibly higher, not confirmed once
    the report's 25 tests are allowed for (p = 0.043, q = 0.18; 95% interval +0.1 to +0.6 min)"
    (``not_confirmed``), also where the interval is wide: a change whose test reaches p < 0.05
    has enough data to be a possible change, and "not enough data" would read as the force's data
    falling short."""
    if not finding:
        return ""
    if finding == "not_confirmed":
        head = FINDINGS[finding].format(direction="higher" if not _nan(change) and change > 0 else "lower",
                                        tests=tests)
        detail = [f"p = {p:.3f}, q = {q:.2f}"] + ([reason] if reason else [])
        return f"{head} ({'; '.join(detail)})"
    if finding in ("not_comparable", "not_tested"):
        return reason
    if finding == "not_enough_data" and reason.startswith("not enough data"):
        return reason
    if reason.startswith("a change of answer"):
        yes = finding == "higher"
        return f"{'yes' if yes else 'no'} this year, {'no' if yes else 'yes'} last year"
    if reason.startswith("no change"):
        return FINDINGS[finding] + " (the same answer)"
    detail = []
    if finding in ("higher", "lower") and not _nan(q):
        detail.append("q < 0.001" if q < 0.001 else f"q = {q:.3f}")
    elif not _nan(p) and p < fdr_q and not _nan(q):
        detail.append(f"p = {p:.3f}, but q = {q:.2f} allowing for the report's {tests} tests")
    if reason:
        detail.append(reason)
    return FINDINGS[finding] + (f" ({'; '.join(detail)})" if detail else "")


def finalise_12_months(results: pd.DataFrame, fdr_q: float = DEFAULT_FDR_Q) -> pd.DataFrame:
    """Benjamini-Hochberg across every 12-month test of the table (``change_12m_p_value``): the
    q-values in ``change_12m_q_value`` and ``change_12m_significant`` (1.0 when q < ``fdr_q``, 0.0
    when tested and not, empty when untested): the rule by which a change is "a real change",
    applied to the report's 12-month tests as :func:`finalise` applies it to last year's, so that
    at Q4 the 12-month column agrees with the year table (the same tests). Pure: returns a copy."""
    out = results.copy()
    q = stats.benjamini_hochberg(out["change_12m_p_value"].to_numpy(dtype=float))
    out["change_12m_q_value"] = q
    out["change_12m_significant"] = np.where(np.isnan(q), math.nan, (q < fdr_q).astype(float))
    return out


def finalise(results: pd.DataFrame, fdr_q: float = DEFAULT_FDR_Q) -> pd.DataFrame:
    """Benjamini-Hochberg across every last-year test of the table (``last_year_p_value``), then
    ``last_year_q_value``, ``last_year_significant`` (1.0 when q < ``fdr_q``, 0.0 when tested and
    not, empty when untested), ``last_year_finding`` and ``last_year_words``. Expects the
    private columns ``_finding``, ``_too_wide`` and ``_reason`` of :func:`last_year_change`, and
    drops them. Pure: returns a copy."""
    out = results.copy()
    p = out["last_year_p_value"].to_numpy(dtype=float)
    q = stats.benjamini_hochberg(p)
    out["last_year_q_value"] = q
    findings, texts, sig = [], [], []
    tests = int(np.isfinite(p).sum())
    for f, w, r, ch, pp, qq in zip(out["_finding"], out["_too_wide"], out["_reason"], out["change_last_year"],
                                   p, q, strict=True):
        code = finding_after_q(str(f or ""), qq, ch, bool(w), fdr_q) if (f or not np.isnan(qq)) else ""
        if code in ("no_clear_change", "not_enough_data") and not np.isnan(pp) and pp < fdr_q \
                and not _nan(ch) and ch != 0:
            code = "not_confirmed"  # p below 0.05 but not after allowing for the many tests, wide or not
        findings.append(code)
        texts.append(words(code, str(r or ""), qq, pp, tests, fdr_q, ch))
        sig.append(math.nan if np.isnan(qq) else float(qq < fdr_q))
    out["last_year_finding"] = findings
    out["last_year_words"] = texts
    out["last_year_significant"] = sig
    return out.drop(columns=["_finding", "_too_wide", "_reason"])
