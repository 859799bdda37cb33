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
# <h2 id="summary">Summary of the budget KPIs</h2>
#
# The budget KPIs agreed by the Police and Crime Commissioner and the Chief Constable (Table 1
# of the Panel's budget metrics paper), for the period below: which are on track, which are
# getting worse, and which cannot be reported yet and why. This notebook reads the results the
# family notebooks wrote and recomputes nothing.

# %% tags=["parameters"]
period = "2024/25 Q4"  # the period the family notebooks were run for
out_dir = "../outputs/interactive/2024-25-q4"  # folder holding results/<family>.csv

# %%
from kpi_lib.report import (
                            show_first_screen,
                            show_methods,
                            show_summary,
                            show_supplementary,
                            show_year,
                            start_report,
)

rep = start_report(period, out_dir)

# %%
show_first_screen(rep)

# %% [markdown]
# ### All budget KPIs
#
# **How to read this table.** *Latest* is the value for the period, with the basis for outcome
# rates. *Change* compares with the same period a year earlier; for percentages "(not
# significant)" means a two-proportion test found no real difference. *SPC variation* says
# whether the latest point is ordinary (● common cause) or a real change (▲ or ▼ special cause);
# *Assurance* says whether a target is being met reliably.

# %%
show_summary(rep)

# %%
show_year(rep)

# %% [markdown]
# ### Supplementary measures

# %%
show_supplementary(rep)

# %% [markdown] tags=["families-go-here"]
# <h2 id="methods">Methods and provenance</h2>

# %%
show_methods(rep)
