"""Charts in the UK Government Analysis Function style (afcharts), each with a title that states
the finding, labelled axes with units, a target line where there is one, and alt text that
describes the finding. Charts are shown as PNG outputs carrying their alt text in the output
metadata; the project's nbconvert template writes it into the ``alt`` attribute."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .narrative import format_value  # noqa: E402
from .spc import VARIATION_LABELS  # noqa: E402

AF_CATEGORICAL = ["#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"]
AXIS_LABEL = {"percent": "Per cent", "count": "Number", "minutes": "Minutes", "seconds": "Seconds",
              "tco2e": "Tonnes CO2e", "gbp": "GBP", "flag": "Yes (1) / No (0)"}
MARKERS = {"improvement": ("^", AF_CATEGORICAL[1], "Special cause improvement"),
           "concern": ("v", AF_CATEGORICAL[3], "Special cause concern"),
           "neutral": ("D", AF_CATEGORICAL[5], "Special cause (neutral)")}


def use_style() -> None:
    """Apply the afcharts matplotlib style (falls back to its palette if the style is absent)."""
    try:
        plt.style.use("afcharts.afcharts")
    except (OSError, ValueError):
        plt.rcParams["axes.prop_cycle"] = matplotlib.cycler(color=AF_CATEGORICAL)


def _label(x, grain: str) -> str:
    ts = pd.Timestamp(x)
    return ts.strftime("%b %Y")


def spc_alt_text(chart: pd.DataFrame, name: str, unit: str, grain: str, target: float | None) -> str:
    """Alt text that states what the chart shows and its finding, in words."""
    if chart.empty:
        return f"No chart: there are no data points for {name}."
    last = chart.iloc[-1]
    flagged = chart[chart["rule"] != ""]
    parts = [f"SPC chart of {name}, {grain}ly from {_label(chart['x'].iloc[0], grain)} to "
             f"{_label(last['x'], grain)} ({len(chart)} points).",
             f"Latest value {format_value(last['y'], unit)}; mean {format_value(last['mean'], unit)}; "
             f"process limits {format_value(last['lpl'], unit)} to {format_value(last['upl'], unit)}.",
             f"Latest point: {VARIATION_LABELS.get(last['variation'], 'not enough data').lower()}.",
             f"{len(flagged)} of {len(chart)} points show special cause variation."]
    if target is not None and not pd.isna(target):
        parts.append(f"Target {format_value(target, unit)}.")
    if chart["segment"].nunique() > 1:
        parts.append("Limits were recalculated after a recording-practice change.")
    return " ".join(parts)


def spc_figure(chart: pd.DataFrame, *, title: str, unit: str, grain: str,
               target: float | None = None) -> plt.Figure:
    """XmR chart: values, mean, process limits, target, special-cause points by shape."""
    use_style()
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=100)
    x = pd.to_datetime(chart["x"])
    ax.plot(x, chart["y"], color=AF_CATEGORICAL[0], marker="o", markersize=3.5, linewidth=1.6,
            label="Value", zorder=3)
    for seg, d in chart.assign(xd=x).groupby("segment"):
        first = seg == chart["segment"].iloc[0]
        ax.plot(d["xd"], d["mean"], color=AF_CATEGORICAL[4], linewidth=1.2, linestyle="-",
                label="Mean" if first else None)
        ax.plot(d["xd"], d["upl"], color=AF_CATEGORICAL[4], linewidth=1, linestyle=":",
                label="Process limits" if first else None)
        ax.plot(d["xd"], d["lpl"], color=AF_CATEGORICAL[4], linewidth=1, linestyle=":")
    for kind, (marker, colour, label) in MARKERS.items():
        pts = chart[chart["variation"].str.startswith(kind)]
        if len(pts):
            ax.scatter(pd.to_datetime(pts["x"]), pts["y"], marker=marker, s=60, color=colour,
                       edgecolor="black", linewidth=0.6, label=label, zorder=4)
    if target is not None and not pd.isna(target):
        ax.axhline(target, color=AF_CATEGORICAL[2], linestyle="--", linewidth=1.4, label=f"Target ({format_value(target, unit)})")
    ax.set_title(title, fontsize=13, loc="left", wrap=True)
    ax.set_ylabel(AXIS_LABEL.get(unit, unit))
    ax.set_xlabel("Month" if grain == "month" else "Quarter (start month)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
    fig.tight_layout()
    return fig


def png_bytes(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def display_figure(fig: plt.Figure, alt: str) -> None:
    """Show a figure in a notebook as PNG with alt text in the output metadata (and as text)."""
    from IPython.display import display
    data = base64.b64encode(png_bytes(fig)).decode("ascii")
    display({"image/png": data, "text/plain": alt}, raw=True, metadata={"image/png": {"alt": alt}})
