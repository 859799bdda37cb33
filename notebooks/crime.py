# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# <h2 id="family-crime">Crime volumes and charge/summons outcomes</h2>
#
# Volumes of total recorded crime (excluding fraud) and of violence with injury, rape, robbery, residential burglary, vehicle crime and domestic abuse, with the percentage given Home Office outcome 1 or 1A (charged or summonsed), and the action-taken outcome rate.
#
# Every figure below comes from `kpi_lib` (tested functions); this notebook only calls it and
# shows the results. Run it top to bottom in JupyterLab, or through `kpi run` (Papermill).

# %% tags=["parameters"]
period = "2024/25 Q4"  # a quarter such as "2024/25 Q4", or a financial year "2024/25"
data_dir = "../data/sample"  # folder of input files (run `kpi sample` to create the sample)
out_dir = "../outputs/interactive/2024-25-q4"  # results/crime.csv is written here
params_file = None  # optional YAML overriding params/defaults.yaml

# %%
from kpi_lib.notebook import start_family
from kpi_lib.views import show_breakdown, show_kpis, show_overview, show_peers, show_sources

run = start_family("crime", period, data_dir, out_dir, params_file)

# %% [markdown]
# ### The KPIs this period
#
# Value, 95% interval, counts and comparisons. A change in a percentage is called an increase or
# decrease only when a two-proportion test says it is significant.

# %%
show_overview(run)
show_sources(run)
show_peers(run)

# %% [markdown]
# **Caveats.** Cohort outcome rates for recent periods are immature: many crimes have not yet been assigned an outcome (the share is given in each note), so recent rates rise as investigations close. Rape and robbery have small numbers: read them with their intervals. Limits for total recorded crime are recalculated from June 2023, when the Home Office principal crime rule changed how stalking and harassment are counted. Monthly crime is seasonal (more in summer): a run of high summer months can show as special cause, so compare with the same period last year too.

# %%
show_kpis(run)

# %%
show_breakdown(run, "outcome group")

# %%
show_breakdown(run, "local area")
