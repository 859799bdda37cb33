"""Finance family: outturn within budget, savings plan delivered, VFM conclusion.

- Outturn (annual KPI): reported at year end (Q4 row = final outturn). In Q1 to Q3 the status is
  ``annual`` and the note gives the in-year forecast against budget (variance in GBP and %).
- Savings delivered (quarterly oversight): savings delivered in the year to date as a % of the
  year's savings plan.
- VFM (annual): the external auditor's conclusion for the year; ``not_yet_available`` at year
  end until the conclusion is received (it follows the statement of accounts).
Rolling 12-month and monthly windows do not apply to these KPIs.
"""

from __future__ import annotations

import pandas as pd

from kpi_lib.config.configuration import Configuration
from kpi_lib.core.periods import Period
from kpi_lib.core.windows import Window
from kpi_lib.measure.families._common import (
    Family,
    breakdown_frame,
    frame,
    row,
    unavailable,
)

KPI_IDS = ["finance_outturn_within_budget", "finance_savings_delivered", "finance_vfm_unqualified"]


def _period(w: Window) -> Period | None:
    if w.kind not in ("quarter", "year"):
        return None
    return Period.containing(w.start) if w.kind == "quarter" else Period(Period.containing(w.start).fy)


def _money(x: float) -> str:
    sign = "-" if x < 0 else ""
    return f"{sign}£{abs(x) / 1e6:,.2f}m"


def measure_returns(finance: pd.DataFrame | None, vfm: pd.DataFrame | None, windows: list[Window],
                    params: dict | None = None) -> pd.DataFrame:
    rows = []
    for w in windows:
        p = _period(w)
        if p is None:
            for k in KPI_IDS:
                rows.append(unavailable(k, w, "annual", "Finance KPIs are reported by quarter and year only."))
            continue
        q = 4 if p.is_year else p.quarter
        rec = None
        if finance is not None:
            m = finance[(finance["financial_year"] == p.fy_label) & (finance["quarter"] == q)]
            rec = m.iloc[0] if len(m) else None
        if rec is None:
            for k in ("finance_outturn_within_budget", "finance_savings_delivered"):
                rows.append(unavailable(k, w, "not_yet_available", f"No finance return for {p.fy_label} Q{q}."))
        else:
            budget, outturn = float(rec["budget_gbp"]), float(rec["forecast_outturn_gbp"])
            variance = outturn - budget
            pct = 100 * variance / budget if budget else float("nan")
            final = q == 4
            words = "Final outturn" if final else f"Forecast outturn at Q{q}"
            note = (f"{words} {_money(outturn)} against budget {_money(budget)}: variance "
                    f"{_money(variance)} ({pct:+.2f}%).")
            if final:
                rows.append(row("finance_outturn_within_budget", w, value=float(outturn <= budget),
                                numerator=outturn, denominator=budget, basis="final", note=note))
            else:
                rows.append(row("finance_outturn_within_budget", w, numerator=outturn, denominator=budget,
                                status="annual", basis="forecast",
                                note="Annual KPI, reported at year end. " + note))
            target, done = float(rec["savings_target_gbp"]), float(rec["savings_delivered_gbp"])
            rows.append(row("finance_savings_delivered", w,
                            value=100 * done / target if target else float("nan"),
                            numerator=done, denominator=target, basis="year to date",
                            note=f"{_money(done)} delivered of a {_money(target)} plan for {p.fy_label} (year to date)."))
        if q != 4:
            rows.append(unavailable("finance_vfm_unqualified", w, "annual",
                                    "Annual KPI: follows the statement of accounts at year end."))
            continue
        v = vfm[vfm["financial_year"] == p.fy_label] if vfm is not None else pd.DataFrame()
        if v.empty:
            rows.append(unavailable("finance_vfm_unqualified", w, "not_yet_available",
                                    f"The external auditor's VFM conclusion for {p.fy_label} has not been received yet."))
        else:
            conclusion = str(v.iloc[0]["conclusion"])
            rows.append(row("finance_vfm_unqualified", w, value=float(conclusion == "unqualified"),
                            basis="auditor's conclusion", note=f"Conclusion: {conclusion}."))
    return frame(rows)


def prepare(tables, config: Configuration) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The finance returns and the auditor's VFM conclusions (either may be absent)."""
    return tables.get("finance"), tables.get("vfm")


def measure(returns: tuple, windows: list[Window], params: dict) -> pd.DataFrame:
    return measure_returns(returns[0], returns[1], windows, params)


def breakdown(returns: tuple, w: Window, params: dict) -> pd.DataFrame:
    """No breakdown for finance."""
    return breakdown_frame([])


FAMILY = Family(
    name="finance", title="Finance",
    spc_grain="none",  # a yes/no a year: no chart
    introduction=(
        "Spending against the agreed budget, delivery of the savings plan, and the "
        "external auditor's value for money conclusion."),
    tables=("finance", "vfm"), kpi_ids=tuple(KPI_IDS),
    prepare=prepare, measure=measure, breakdown=breakdown)
