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

show_heading("response")

# %% tags=["parameters"]
period = "2024/25 Q4"  # a quarter such as "2024/25 Q4", or a financial year "2024/25"
data_dir = "../data/sample"  # folder of input files (run `kpi sample` to create the sample)
out_dir = None  # None: outputs/interactive/<period>, so each period has its own folder
params_file = None  # optional YAML overriding params/defaults.yaml

# %%
from kpi_lib.present.notebook import start_family
from kpi_lib.present.views import show_breakdowns, show_kpis, show_overview, show_sources

run = start_family("response", period, data_dir, out_dir, params_file)

# %% [markdown]
# **Reading these figures.** Incidents that were not attended are left out of the typical (median) time and counted in each note. Each median comes with its 95% range.

# %%
show_kpis(run)

# %%
show_overview(run)
show_breakdowns(run)
show_sources(run)


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
