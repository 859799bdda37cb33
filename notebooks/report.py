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
# results and presents the Panel paper (key messages and questions, the Recommendation, the
# one-page summary, the Background, the KPIs, the accountability route, Implications, Contact
# points, the appendices and the annex for officers). It computes nothing. This cell is not part
# of the printed report.

# %% tags=["parameters"]
period = "2024/25 Q4"  # the period the family notebooks were run for
out_dir = None  # the run's folder (results/kpis.csv is read from it); None: outputs/interactive/<period>
previous_dir = None  # an earlier run's output folder, for "what changed since the last report"
commentary_file = None  # the force's commentary (Markdown, a "## <kpi id>" section per KPI)

# %%
from kpi_lib.present.report import (
    show_accountability,
    show_appendices,
    show_background,
    show_changes,
    show_commentary,
    show_contacts,
    show_implications,
    show_key_messages,
    show_methods,
    show_officers_annex,
    show_outlook,
    show_recommendation,
    show_table1,
    show_verdicts,
    show_year,
    start_report,
)

rep = start_report(period, out_dir, previous_dir, commentary_file)

# %%
show_key_messages(rep)
show_recommendation(rep)

# %%
show_verdicts(rep)

# %%
show_background(rep)

# %%
show_table1(rep)

# %%
show_outlook(rep)
show_year(rep)

# %%
show_commentary(rep)

# %%
show_changes(rep)

# %% tags=["families-go-here"]
show_accountability(rep)

# %%
show_implications(rep)
show_contacts(rep)

# %%
show_appendices(rep)
show_methods(rep)

# %% tags=["annex"]
show_officers_annex(rep)
