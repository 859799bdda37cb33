"""Making Data Count XmR charts for any series: ``kpi_lib.spc.xmr(series, polarity=...)``.

The public face of :mod:`kpi_lib.analyse.spc`, kept at this short path for analysts; the caller
chooses the window, the polarity, the target, outlier screening and rebasing dates.
"""

from kpi_lib.analyse.spc import (
    ASSURANCE_LABELS,
    VARIATION_LABELS,
    assurance,
    limits,
    points_table,
    seasonal_factors,
    seasonality_test,
    summary,
    xmr,
)

__all__ = ["ASSURANCE_LABELS", "VARIATION_LABELS", "assurance", "limits", "points_table",
           "seasonal_factors", "seasonality_test", "summary", "xmr"]
