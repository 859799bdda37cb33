"""Charts in the UK Government Analysis Function style (afcharts): an XmR chart with its key above
the plot, an axis that says the grain ("per month"), at most about seven date labels, a target line
where there is one, numbered markers for annotated events, and alt text that states the finding.
The title that states the finding (the KPI's verdict words) is set beside the chart as text by
:mod:`kpi_lib.present.views`, which embeds the PNG in the KPI's card with its alt text."""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING

import pandas as pd

from kpi_lib.analyse.spc import VARIATION_LABELS
from kpi_lib.present.narrative import format_value

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

AF_CATEGORICAL = ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"]
AXIS_LABEL = {"percent": "Per cent", "count": "Number", "minutes": "Minutes", "seconds": "Seconds",
              "tco2e": "Tonnes CO2e", "gbp": "GBP", "flag": "Yes (1) / No (0)"}
MARKERS = {"improvement": ("^", AF_CATEGORICAL[1], "Special cause improvement"),
           "concern": ("v", AF_CATEGORICAL[3], "Special cause concern"),
           "neutral": ("D", AF_CATEGORICAL[5], "Special cause (neutral)")}


@functools.cache
def _pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend, imported on first use: only
    drawing needs it, and the report notebook and the runner import this module for its words
    (titles, alt text) without drawing, so they need not pay for importing matplotlib."""
    from kpi_lib.core.kernel import imports_settled

    with imports_settled():  # in a run's kernel: no collection while importing (kpi_lib.core.kernel)
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.dates
        import matplotlib.pyplot as plt

    return plt


def use_style() -> None:
    """Apply the afcharts matplotlib style (falls back to its palette if the style is absent)."""
    import matplotlib

    plt = _pyplot()
    try:
        plt.style.use("afcharts.afcharts")
    except (OSError, ValueError):
        plt.rcParams["axes.prop_cycle"] = matplotlib.cycler(color=AF_CATEGORICAL)


def _label(x, grain: str) -> str:
    ts = pd.Timestamp(x)
    return ts.strftime("%b %Y")


def axis_label(unit: str, grain: str, age_days: float | None = None) -> str:
    """The value axis label, saying the grain so monthly points are not read as the quarterly
    headline ("Number per month", "Per cent, each month"), and for an outcome rate charted at
    equal maturity the age every point is counted at ("Per cent, each month at 45 days")."""
    base = AXIS_LABEL.get(unit, unit)
    if grain not in ("month", "quarter"):
        return base
    if unit in ("count", "tco2e", "gbp"):
        return f"{base} per {grain}"
    age = f" at {age_days:.0f} days" if age_days is not None else ""
    return f"{base}, each {grain}{age}"


def chart_title(name: str, row, grain: str) -> str:
    """A title that states the finding: the KPI's verdict words from kpis.csv (never restated
    differently), or, before there is a verdict, what the chart's latest point shows."""
    verdict = str(row.get("verdict") or "")
    every = "each month" if grain == "month" else "each quarter"
    if verdict and verdict != "nan":
        return f"{verdict}: {name}, {every}"
    v = str(row.get("spc_variation", ""))
    words = VARIATION_LABELS.get(v, "not enough data").lower()
    return f"{name}, {every}: latest point {words}"


def spc_alt_text(chart: pd.DataFrame, name: str, unit: str, grain: str, target: float | None,
                 annotations=(), age_days: float | None = None) -> str:
    """Alt text that states what the chart shows and its finding, in words."""
    if chart.empty:
        return f"No chart: there are no data points for {name}."
    last = chart.iloc[-1]
    flagged = chart[chart["rule"].fillna("") != ""]
    parts = [f"SPC chart of {name}, one point per {grain} from {_label(chart['x'].iloc[0], grain)} to "
             f"{_label(last['x'], grain)} ({len(chart)} points).",
             f"Latest value {format_value(last['y'], unit)}; "
             f"{centre_line_label(chart).lower()} {format_value(last['mean'], unit)}"
             f"{'' if centre_line_label(chart) == 'Mean' else ' at the latest point'}; "
             f"process limits {format_value(last['lpl'], unit)} to {format_value(last['upl'], unit)}.",
             f"Latest point: {VARIATION_LABELS.get(last['variation'], 'not enough data').lower()}.",
             f"{len(flagged)} of {len(chart)} points show special cause variation."]
    if target is not None and not pd.isna(target):
        parts.append(f"Target {format_value(target, unit)}.")
    if "segment" in chart and chart["segment"].nunique() > 1:
        parts.append("Limits were recalculated after a known change.")
    if "upl" in chart and chart["upl"].notna().any() and chart["upl"].isna().any():
        parts.append(f"The usual range comes from the points from {_label(chart.loc[chart['upl'].notna(), 'x'].iloc[0], grain)}.")
    if age_days is not None:
        parts.append(f"Each {grain} is counted {age_days:.0f} days after it ended (equal maturity).")
    gaps = int(chart["y"].isna().sum())
    if gaps:
        parts.append(f"{gaps} {grain}{'s' if gaps > 1 else ''} not in the data (the line breaks).")
    for i, a in enumerate(annotations, start=1):
        parts.append(f"Marker {i}, {pd.Timestamp(a.date):%B %Y}: {a.text}")
    return " ".join(parts)


def _draw_limits_and_signals(ax, chart: pd.DataFrame, x: pd.Series, seg: pd.Series, *, centre: str,
                             limits: str, centre_width: float, limit_width: float, marker_size: float,
                             edge_width: float) -> None:
    """The centre line and usual range of each segment (broken at a rebase) and the special-cause
    points by shape, keyed once: the one drawing of an SPC chart's limits, for a single chart and
    for each small multiple alike, so both name the centre line and the range in the same words."""
    for i, (_, d) in enumerate(chart.assign(xd=x, _seg=seg).groupby("_seg", sort=False)):
        ax.plot(d["xd"], d["mean"], color=AF_CATEGORICAL[4], linewidth=centre_width, linestyle="-",
                label=centre if i == 0 else None)
        ax.plot(d["xd"], d["upl"], color=AF_CATEGORICAL[4], linewidth=limit_width, linestyle=":",
                label=limits if i == 0 else None)
        ax.plot(d["xd"], d["lpl"], color=AF_CATEGORICAL[4], linewidth=limit_width, linestyle=":")
    for kind, (marker, colour, label) in MARKERS.items():
        pts = chart[chart["variation"].astype(str).str.startswith(kind)]
        if len(pts):
            ax.scatter(pd.to_datetime(pts["x"]), pts["y"], marker=marker, s=marker_size, color=colour,
                       edgecolor="black", linewidth=edge_width, label=label, zorder=4)


def centre_line_label(chart: pd.DataFrame) -> str:
    """What the chart's centre line is, for its key: "Mean" when flat, "Trend line" when it
    follows a steady trend, "Centre line" when it moves with seasonal factors (and perhaps a trend)."""
    if "mean" not in chart:
        return "Mean"
    seg = chart["segment"] if "segment" in chart else pd.Series(0, index=chart.index)
    spread = chart.groupby(seg)["mean"].agg(lambda m: m.max() - m.min() if m.notna().any() else 0.0)
    if not (spread > 1e-9 * chart["mean"].abs().max()).any():
        return "Mean"
    seasonal = "adjustment" in chart and (pd.to_numeric(chart["adjustment"], errors="coerce").fillna(1) != 1).any()
    return "Centre line" if seasonal else "Trend line"


def spc_figure(chart: pd.DataFrame, *, title: str | None = None, unit: str, grain: str,
               target: float | None = None, annotations=(), provisional_from=None, ax=None,
               legend: bool = True, age_days: float | None = None) -> plt.Figure:
    """XmR chart: values (the line breaks where a month is not in the data), the centre line and
    the usual range over the points they come from (the key says from when), target,
    special-cause points by shape, numbered dashed markers for annotations, the key above the
    plot, at most about seven date labels. ``provisional_from``: points from this date on are
    still maturing (an outcome rate whose latest period kpis.csv marks provisional) and are drawn
    hollow, with a key entry. ``age_days``: every point is counted this many days after its end
    (an outcome rate at equal maturity), said on the value axis.

    Any series an analyst builds can be charted: ``chart = kpi_lib.spc.xmr(series,
    polarity="lower_better")`` (``series`` with columns x and y), then ``spc_figure(chart,
    unit="count", grain="month")``; :func:`png_bytes` gives the PNG. ``ax``: draw into these axes
    (small multiples, :func:`spc_small_multiples`) instead of a new figure; ``legend=False`` leaves
    the key out."""
    import matplotlib.dates as mdates

    plt = _pyplot()
    use_style()
    if unit == "percent":  # percent limits are drawn clipped to 0-100 (stated in the methods)
        chart = chart.assign(**{c: chart[c].clip(0, 100) for c in ("mean", "lpl", "upl")})
    fig, ax = plt.subplots(figsize=(6.4, 3.1), dpi=100) if ax is None else (ax.figure, ax)
    x = pd.to_datetime(chart["x"])
    ax.plot(x, chart["y"], color=AF_CATEGORICAL[0], marker="o", markersize=3, linewidth=1.5,
            label="Value", zorder=3)
    seg = chart["segment"] if "segment" in chart else pd.Series(0, index=chart.index)
    judged = chart["upl"].notna() if "upl" in chart else pd.Series(False, index=chart.index)
    since = f" (from {x[judged].min():%b %Y})" if judged.any() and not judged.all() else ""
    centre = centre_line_label(chart)
    _draw_limits_and_signals(ax, chart, x, seg, centre=centre, limits=f"Usual range{since}",
                             centre_width=1.1, limit_width=1.0, marker_size=42, edge_width=0.6)
    if provisional_from is not None:
        prov = chart[x >= pd.Timestamp(provisional_from)]
        if len(prov):
            ax.scatter(pd.to_datetime(prov["x"]), prov["y"], marker="o", s=40, facecolor="white",
                       edgecolor=AF_CATEGORICAL[0], linewidth=1.4, label="Provisional (still maturing)",
                       zorder=5)
    if target is not None and not pd.isna(target):
        ax.axhline(target, color=AF_CATEGORICAL[2], linestyle="--", linewidth=1.3,
                   label=f"Target ({format_value(target, unit)})")
    for i, a in enumerate(annotations, start=1):
        d = pd.Timestamp(a.date)
        ax.axvline(d, color="#505a5f", linestyle="--", linewidth=1, zorder=1,
                   label="Known change (numbered)" if i == 1 else None)
        ax.annotate(str(i), xy=(d, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -12),
                    textcoords="offset points", fontsize=9, fontweight="bold", color="#0b0c0c")
    if title:
        ax.set_title(title, fontsize=11, loc="left", wrap=True)
    ax.set_ylabel(axis_label(unit, grain, age_days), fontsize=11)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(labelsize=11)
    if legend:
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=3, frameon=False, fontsize=10.5,
                  borderaxespad=0.0, handlelength=1.6, columnspacing=1.0)
    fix_date_ticks(ax)
    if len(fig.axes) == 1:
        fig.tight_layout()
    return fig


def spc_small_multiples(charts: dict[str, pd.DataFrame], *, unit: str, grain: str, ncols: int = 3) -> plt.Figure:
    """One XmR chart per area (or any group of the same measure), all on one value scale and the
    same months so that a taller line means a bigger value, titled with the group's name, one key
    above them all: values, centre line, usual range, special-cause points by shape. (Charts of one
    series, with target and annotation markers: :func:`spc_figure`.)"""
    import matplotlib.dates as mdates

    plt = _pyplot()
    use_style()
    names = list(charts)
    nrows = max(1, -(-len(names) // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 1.75 * nrows + 0.5), dpi=90,
                             sharey=True, sharex=True, squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= len(names):
            ax.set_visible(False)
            continue
        chart = charts[names[i]]
        if unit == "percent":
            chart = chart.assign(**{c: chart[c].clip(0, 100) for c in ("mean", "lpl", "upl")})
        x = pd.to_datetime(chart["x"])
        ax.plot(x, chart["y"], color=AF_CATEGORICAL[0], marker="o", markersize=2, linewidth=1.2, label="Value")
        seg = chart["segment"] if "segment" in chart else pd.Series(0, index=chart.index)
        _draw_limits_and_signals(ax, chart, x, seg, centre=centre_line_label(chart), limits="Usual range",
                                 centre_width=1.0, limit_width=0.9, marker_size=28, edge_width=0.5)
        ax.set_title(names[i], fontsize=10, loc="left")
        ax.tick_params(labelsize=8)
    lo = min(float(c[["y", "lpl"]].min().min()) for c in charts.values()) if charts else 0.0
    hi = max(float(c[["y", "upl"]].max().max()) for c in charts.values()) if charts else 1.0
    first = axes.flat[0]
    first.set_ylim(min(0.0, lo), hi * 1.05)
    locator = mdates.AutoDateLocator(minticks=2, maxticks=4)
    first.xaxis.set_major_locator(locator)
    first.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    fix_date_ticks(first)
    seen: dict = {}
    for ax in axes.flat[:len(names)]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(lab, h)
    fig.legend(list(seen.values()), list(seen), loc="upper left", ncol=5, frameon=False, fontsize=9.5,
               bbox_to_anchor=(0.0, 1.0))
    fig.supylabel(axis_label(unit, grain), fontsize=10, x=0.005)
    fig.subplots_adjust(left=0.085, right=0.99, bottom=0.06, top=1 - 0.62 / fig.get_figheight(),
                        wspace=0.08, hspace=0.42)
    return fig


def fix_date_ticks(ax) -> None:
    """Pin the date axis to the ticks and labels its date locator and formatter give now.

    They depend only on the axis' date range (not its size), which is final once the data are
    plotted; left automatic they are worked out again at every layout pass and draw (with date
    rules), some 15% of a chart's cost. The chart is the same to the pixel (tests compare bytes)."""
    from matplotlib.ticker import FixedFormatter, FixedLocator

    axis = ax.xaxis
    locs = axis.get_majorticklocs()
    auto = axis.get_major_formatter()
    fixed = FixedFormatter(auto.format_ticks(locs))
    fixed.set_offset_string(auto.get_offset())
    axis.set_major_locator(FixedLocator(locs))
    axis.set_major_formatter(fixed)


PAD_INCHES = 0.06  # white margin around the chart's tight bounding box


def png_bytes(fig: plt.Figure) -> bytes:
    """The figure as PNG, cropped to its tight bounding box plus :data:`PAD_INCHES`, then closed.

    The box is measured once here from the laid-out figure and handed to ``savefig``: with
    ``bbox_inches="tight"`` matplotlib would draw the whole figure an extra time just to find it
    (a third of a chart's cost). The pixels are the same (tests compare the bytes)."""
    plt = _pyplot()
    buf = io.BytesIO()
    box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(PAD_INCHES)
    fig.savefig(buf, format="png", metadata={"Software": None}, bbox_inches=box)
    plt.close(fig)
    return buf.getvalue()
