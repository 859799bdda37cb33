# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version,-jupytext.text_representation.format_version
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% tags=["notebook-only"]
from kpi_lib.present.notebook import show_heading

show_heading("crime")

# %% tags=["parameters"]
period = "2024/25 Q4"  # a quarter such as "2024/25 Q4", or a financial year "2024/25"
data_dir = "../data/sample"  # folder of input files (run `kpi sample` to create the sample)
out_dir = None  # None: outputs/interactive/<period>, so each period has its own folder
params_file = None  # optional YAML overriding params/defaults.yaml

# %%
from kpi_lib.present.area_views import show_areas
from kpi_lib.present.notebook import start_family
from kpi_lib.present.views import (
    show_breakdowns,
    show_kpis,
    show_overview,
    show_peers,
    show_sources,
)

run = start_family("crime", period, data_dir, out_dir, params_file)

# %% [markdown]
# **Reading these figures.** Charge and summons rates for recent months are still rising as investigations close, so they are compared with last year at the same age, or called too early to tell. Rape and robbery numbers are small: read them with their ranges. Crime is seasonal (more in summer).

# %%
show_kpis(run)

# %%
show_overview(run)
show_breakdowns(run)
show_peers(run)
show_sources(run)


# %% [markdown] tags=["appendix"]
# <h2 id="appendix-areas">Appendix D: local areas</h2>
#
# Councillors ask about their own area first. Each crime measure by local area for the period, and each area's monthly total on the same scale, so that one area can be compared with its own usual range and with the others.

# %% tags=["appendix"]
show_areas(run)

# %% [markdown] tags=["explore"]
# ## Explore these figures (not in the report)
#
# The figures behind this section, as tables to sort, filter and take further: `run.results` (one row per KPI), `run.measurements` (every month, quarter and year), `run.spc` (every SPC point), `run.breakdowns`; and `fig`, the first SPC chart, to restyle.

# %% tags=["explore"]
from IPython.display import display

from kpi_lib.present.explore import spc_chart

display(run.results)
display(run.measurements)
display(run.spc)
fig = spc_chart(run)
display(fig)
