"""What a run records about itself: the inputs record (``inputs.json``, written first, the
build's marker), the manifest (``manifest.json``: settings, inputs with SHA-256 and row ledger,
versions, timings, outputs) and the report's title block (period, data, licence, contents)."""

from __future__ import annotations

import time
from datetime import date, datetime, timezone
from pathlib import Path

from kpi_lib.core.periods import Period
from kpi_lib.core.provenance import code_version, library_versions
from kpi_lib.core.snapshot import sha256_of
from kpi_lib.inputs.detect import detect_kinds
from kpi_lib.inputs.homeoffice import LICENCE
from kpi_lib.inputs.kinds import label, registered
from kpi_lib.measure import registry
from kpi_lib.run.outputs import SUITE
from kpi_lib.run.plan import Plan


def inputs_record(pl: Plan, inputs) -> dict:
    kinds = detect_kinds(pl.data)
    return {
        "suite": SUITE, "period": pl.period.label, "data_folder": str(pl.data), "input_kinds": kinds,
        "synthetic": inputs.synthetic, "public_data": any(registered()[k].public for k in kinds),
        "extraction_date": inputs.extraction_date, "inputs_validated": inputs.how,
        "parameters": pl.params, "params_file": str(pl.params_file) if pl.params_file else None,
        "previous_run": str(pl.previous_dir) if pl.previous_dir else None,
        **_previous(pl, kinds),
        "commentary_file": str(pl.commentary_file) if pl.commentary_file else None,
        "inputs": inputs.ledger, "code_version": code_version(),
        "data_span": [d.isoformat() if d else None for d in inputs.span],
        "skipped_files": [{"file": name, "why": why} for name, why in
                          sorted((inputs.snapshot.skipped if getattr(inputs, "snapshot", None) else {}).items())],
        "data_files": getattr(inputs, "files", None),
        "as_at": pl.params.get("as_at"), "backfill": pl.backfill,
        "coverage": list(getattr(inputs, "coverage", ())),
    }


def _previous(pl: Plan, kinds: list[str]) -> dict:
    """The earlier run "what changed" compares with, once checked (:func:`previous_problem`):
    ``previous_run`` is None and ``previous_run_left_out`` says why when it may not be used."""
    if pl.previous_dir is None:
        return {}
    from kpi_lib.present.changes import previous_problem
    why = previous_problem(pl.previous_dir, pl.period.label, kinds)
    return {} if why is None else {"previous_run": None, "previous_run_left_out": {"folder": str(pl.previous_dir),
                                                                                   "why": why}}


def manifest_record(pl: Plan, build: Path, inputs: dict, durations: dict, cache: dict, cleaned: list,
              formats: dict[str, str]) -> dict:
    return {
        **{k: v for k, v in inputs.items() if k != "inputs"},
        "inputs": inputs["inputs"],
        "row_ledger": {e["table"]: {"read": e["rows_read"], "used": e["rows_used"],
                                    "rejected": e["rows_rejected"], "reasons": e["rejected_reasons"]}
                       for e in inputs["inputs"]},
        "library_versions": library_versions(),
        "started": pl.started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds_total": round(time.monotonic() - pl.t0, 2), "seconds_by_step": durations,
        "jobs": pl.jobs, "jobs_requested": pl.jobs_requested, **cache,
        "cleaned_up": [str(c) for c in cleaned],
        "formats": formats,
        "outputs": sorted(str(x.relative_to(build)) for x in build.rglob("*") if x.is_file()),
        "output_sha256": {str(x.relative_to(build)): sha256_of(x) for x in sorted(build.rglob("*"))
                          if x.is_file() and x.name != "manifest.json"},
    }


def report_meta(p: Period, inputs: dict, started: datetime, params: dict) -> dict:
    """The title block, banner and contents of the report, from the run's inputs record."""
    kinds = inputs.get("input_kinds", [])
    return {
        "panel": params.get("panel_name", "Police and Crime Panel"),
        "title": "Budget KPI metrics report", "period": p.label,
        "period_dates": f"{p.start:%-d %B %Y} to {p.end:%-d %B %Y}",
        "produced": started.strftime("%-d %B %Y"),
        "extraction_date": inputs.get("extraction_date") or "not stated",
        "data_description": ("synthetic sample data" if inputs.get("synthetic") else
                             ", ".join(label(k) for k in kinds)) + _months_read(inputs),
        "synthetic": bool(inputs.get("synthetic")), "public_data": bool(inputs.get("public_data")),
        "licence": LICENCE,
        "sections": _sections(p),
        "figures_as_at": figures_as_at(inputs),
    }


def figures_as_at(inputs: dict) -> str:
    """When the figures stand: as at a past extraction date (``--as-at``), "retrospective" for a
    backfilled report (today's figures for a past quarter, not those first reported), else ""."""
    def day(iso: str | None) -> str:
        return f"{date.fromisoformat(iso):%-d %B %Y}" if iso else "a date not stated"
    if inputs.get("as_at"):
        return (f"As at {day(inputs['as_at'])}: records dated and outcomes assigned after it are "
                "left out, as in an extract taken that day")
    if inputs.get("backfill"):
        return (f"Retrospective, as at {day(inputs.get('extraction_date'))}: the figures as they stand "
                "in that extract, which may differ from those first reported for this period")
    return ""


def _months_read(inputs: dict) -> str:
    """The months the inputs cover, said beside the period so that a report never seems to rest
    on the period's months alone (earlier months feed the comparisons and charts)."""
    span = inputs.get("data_span") or [None, None]
    if not span[0] or not span[1]:
        return ""
    first, last = (date.fromisoformat(d) for d in span)
    from kpi_lib.measure.coverage import gaps_sentence
    gaps = gaps_sentence(inputs.get("coverage") or [])
    return (f"; months read: {first:%B %Y} to {last:%B %Y} (the months outside the period feed "
            "the comparisons and charts only)" + (f"; {gaps} (never read as zero)" if gaps else ""))


def _sections(p: Period) -> list:
    from kpi_lib.present.render import sections
    return sections(p.is_year, list(registry.NAMES))
