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
# <h2 id="family-environment">Environment</h2>
#
# Carbon footprint of policing in tonnes of CO2 equivalent from buildings energy and fleet fuel, with the conversion factors used.
#
# Every figure below comes from `kpi_lib` (tested functions); this notebook only calls it and
# shows the results. Run it top to bottom in JupyterLab, or through `kpi run` (Papermill).

# %% tags=["parameters"]
period = "2024/25 Q4"  # a quarter such as "2024/25 Q4", or a financial year "2024/25"
data_dir = "../data/sample"  # folder of input files (run `kpi sample` to create the sample)
out_dir = "../outputs/interactive/2024-25-q4"  # results/environment.csv is written here
params_file = None  # optional YAML overriding params/defaults.yaml

# %%
from kpi_lib.notebook import start_family
from kpi_lib.views import show_breakdown, show_kpis, show_overview, show_sources

run = start_family("environment", period, data_dir, out_dir, params_file)

# %% [markdown]
# ### The KPIs this period
#
# Value, 95% interval, counts and comparisons. A change in a percentage is called an increase or
# decrease only when a two-proportion test says it is significant.

# %%
show_overview(run)
show_sources(run)

# %% [markdown]
# **Caveats.** Conversion factors come from params/carbon_factors.yaml (year and source stated in the breakdown). The seed paper notes this indicator was still being developed: periods without data are shown as not yet available.

# %%
show_kpis(run)

# %%
show_breakdown(run, "source")
