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

# %% [markdown] tags=["notebook-only"]
# # The Panel's report
#
# Run this notebook after the family notebooks for the same period: it reads the run's
# results and presents the Panel's pages (the one-page summary, commentary, what changed, the
# Table 1 layout and the end-of-year view). It computes nothing. This cell is not part of the
# printed report.

# %% tags=["parameters"]
period = "2024/25 Q4"  # the period the family notebooks were run for
out_dir = None  # the run's folder (results/kpis.csv is read from it); None: outputs/interactive/<period>
previous_dir = None  # an earlier run's output folder, for "what changed since the last report"
commentary_file = None  # the force's commentary (Markdown, a "## <kpi id>" section per KPI)

# %%
from kpi_lib.present.report import (
    show_changes,
    show_commentary,
    show_methods,
    show_table1,
    show_verdicts,
    show_year,
    start_report,
)

rep = start_report(period, out_dir, previous_dir, commentary_file)

# %%
show_verdicts(rep)

# %%
show_commentary(rep)

# %%
show_changes(rep)

# %%
show_table1(rep)

# %%
show_year(rep)

# %% [markdown] tags=["families-go-here"]
# <h2 id="methods">How the figures are made</h2>

# %%
show_methods(rep)
