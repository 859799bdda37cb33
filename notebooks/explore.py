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

# %% [markdown] tags=["explore"]
# # Exploring a run's figures
#
# Three everyday questions, answered from the folders two runs wrote. Every table below is a
# DataFrame and every chart a matplotlib object: change the KPI, the quarters or the style and run
# the cell again. Nothing here is computed afresh: the figures are the ones the reports showed.

# %% tags=["parameters"]
out_dir = "../outputs/2024-25-q4"  # the run to explore (a folder `kpi run` wrote)
previous_dir = "../outputs/2024-25-q3"  # the run before it, for questions 2 and 3
kpi_id = "trc_volume"  # the KPI for question 1 (see `kpi list`)
quarters = 8  # how many quarters question 1 looks back

# %% tags=["explore"]
from IPython.display import display

from kpi_lib.api import first_reported_and_now, open_run, verdict_changes

run = open_run(out_dir)
previous = open_run(previous_dir)

# %% [markdown] tags=["explore"]
# ## 1. One KPI by local area over the last eight quarters
#
# One row per quarter, one column per local area; the chart draws one line per area.

# %% tags=["explore"]
by_area = run.by_area(kpi_id, quarters).pivot(index="quarter", columns="area", values="value")
display(by_area)

# %% tags=["explore"]
ax = by_area.plot(figsize=(8, 4), marker="o", title=f"{kpi_id} by local area")
ax.set_xlabel("Quarter")
ax.legend(title="Local area", bbox_to_anchor=(1.02, 1), loc="upper left")

# %% [markdown] tags=["explore"]
# ## 2. A figure as first reported, against the same figure as it stands now
#
# Each quarter the earlier report showed, beside the same quarter measured again by this run.
# Charge and summons rates rise as investigations close; counts move when records are revised.

# %% tags=["explore"]
revised = first_reported_and_now(previous, run)
display(revised[revised["change"] != 0])

# %% [markdown] tags=["explore"]
# ## 3. Which KPIs changed verdict since the last quarter

# %% tags=["explore"]
display(verdict_changes(previous, run))

# %% [markdown] tags=["explore"]
# ## Everything else the run holds
#
# `run.results` (one row per KPI), `run.history` (the last eight quarters), `run.spc` (every
# point of every SPC chart), `run.breakdowns`, `run.measurements` (every KPI for every month and
# quarter), `run.inputs` (every file read, with its SHA-256) and `run.manifest`.

# %% tags=["explore"]
display(run.results[["kpi_id", "name", "value", "unit", "verdict"]].head(10))
