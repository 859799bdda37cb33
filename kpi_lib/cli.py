"""The ``kpi`` command: list, validate, sample, run, render.

Expected failures (bad input, bad parameter, failing notebook) print one readable message and
exit with status 1, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from kpi_lib.core.errors import Interrupted, KpiError

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="Budget KPI metrics report for a Police and Crime Panel.")


def _fail(exc: Exception) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(1)


def _overrides(*, timezone: str | None = None, mapping: Path | None = None,
               ignore: list[str] | None = None, as_at: str | None = None) -> dict | None:
    """Settings given on the command line (they override the parameter file, and the run
    records them with its settings)."""
    out: dict = {}
    if timezone:
        out["timezone"] = timezone
    if mapping is not None:
        out["mapping_file"] = str(Path(mapping).resolve())
    if ignore:
        out["ignore_files"] = list(ignore)
    if as_at:
        out["as_at"] = as_at
    return out or None


MAPPING_HELP = "The input mapping of the force's own extracts (default: mapping.yaml in the data folder)."
IGNORE_HELP = "Leave out files matching this pattern on purpose (repeatable); the manifest records them."


def _skip_help() -> str:
    from kpi_lib.present.formats import registered
    return ("Leave out this output format (repeatable): " +
            ", ".join(f"{name} ({fmt.filename})" for name, fmt in registered().items()) + ".")


SKIP_HELP = _skip_help()


def _warn_about_formats(manifest: dict) -> None:
    """One warning line for each output format that was asked for but could not be written."""
    from kpi_lib.present.formats import failures
    for note in failures(manifest.get("formats") or {}).values():
        typer.echo(f"  warning: {note}")


@app.command("list")
def list_kpis(csv: bool = typer.Option(False, "--csv", help="CSV instead of a table."),
              params: bool = typer.Option(False, "--params", help="List each notebook's parameters instead."),
              settings: Path | None = typer.Option(None, "--settings", help="A parameter file (as for run --params): "
                                                   "its kpis_file and the settings the labels name."),
              year: str | None = typer.Option(None, "--year", help="Only the KPIs (and targets) of this budget "
                                              "year, e.g. 2024/25.")) -> None:
    """List the KPI catalogue (params/kpis.yaml or kpis_file), or the report notebooks' parameters."""
    if params:
        import papermill as pm

        from kpi_lib.run.runner import NOTEBOOKS, REPORT_NOTEBOOKS
        for nb in (NOTEBOOKS / f"{name}.ipynb" for name in REPORT_NOTEBOOKS):
            typer.echo(f"{nb.name}:")
            for name, p in pm.inspect_notebook(str(nb)).items():
                typer.echo(f"  {name} = {p['default']}  {p['help']}".rstrip())
        return
    from kpi_lib.config.catalogue import catalogue_for, catalogue_frame
    from kpi_lib.config.params import load_params
    try:
        period = None
        if year is not None:
            from kpi_lib.core.periods import Period
            period = Period.parse(year)
            if not period.is_year:
                raise KpiError(f"--year {year}: a budget (financial) year such as 2024/25 is expected")
        df = catalogue_frame(catalogue_for(load_params(settings), period))
    except KpiError as exc:
        _fail(exc)
    cols = ["kpi_id", "name", "family", "unit", "polarity", "frequency", "supplementary", "target",
            "category", "measure", "from_year", "until_year", "targets"]
    if csv:
        df[cols].to_csv(sys.stdout, index=False, lineterminator="\n")
        return
    from rich.console import Console
    from rich.table import Table
    t = Table(title="Budget KPIs (Table 1) and supplementary measures")
    for c in ("kpi_id", "name", "family", "unit", "polarity", "frequency", "supplementary"):
        t.add_column(c, overflow="fold")
    for _, r in df.iterrows():
        t.add_row(*[str(r[c]) for c in ("kpi_id", "name", "family", "unit", "polarity", "frequency", "supplementary")])
    Console(width=160).print(t)


@app.command()
def validate(data_dir: Path = typer.Argument(Path("data/sample"), help="Folder of input files."),
             timezone: str | None = typer.Option(None, help="Zone for timestamps without an offset, e.g. Europe/London."),
             params: Path | None = typer.Option(None, "--params", help="YAML overriding params/defaults.yaml (as for run)."),
             mapping: Path | None = typer.Option(None, "--mapping", help=MAPPING_HELP),
             ignore: list[str] = typer.Option([], "--ignore", help=IGNORE_HELP)) -> None:
    """Check every input file as a run would (every problem of a mapped extract in one pass);
    print rows per table, the periods covered and what happened to each file."""
    from kpi_lib.config.params import load_params
    from kpi_lib.inputs.detect import detect_kinds, read_with_settings
    try:
        settings = load_params(params, _overrides(timezone=timezone, mapping=mapping, ignore=ignore))
        tables = read_with_settings(data_dir, settings)
    except KpiError as exc:
        _fail(exc)
    typer.echo(f"{data_dir}: {', '.join(detect_kinds(data_dir))} input"
               + (" (SYNTHETIC sample data)" if tables.synthetic else ""))
    date_cols = {"crimes": "recorded_date", "calls": "received_at", "incidents": "created_at",
                 "survey_responses": "interview_date", "carbon": "period_start"}
    for e in tables.ledger:
        frame = tables.frames.get(e.table)
        span = ""
        if frame is not None and e.table in date_cols and len(frame):
            col = frame[date_cols[e.table]]
            if getattr(col.dt, "tz", None) is not None:
                col = col.dt.tz_convert("Europe/London")  # the local days the records belong to
            span = f", {col.min():%Y-%m-%d} to {col.max():%Y-%m-%d}"
        elif frame is not None and "financial_year" in frame and len(frame):
            span = f", {frame['financial_year'].min()} to {frame['financial_year'].max()}"
        typer.echo(f"  {e.table:<17} {e.file:<26} {e.rows_read:>10,} rows read, {e.rows_used:>10,} used, "
                   f"{sum(e.rejected.values()):,} rejected{span}")
        for reason, n in e.rejected.items():
            typer.echo(f"      rejected {n:,}: {reason}")
    for name, why in tables.skipped.items():
        typer.echo(f"  skipped {name}: {why}")
    for note in tables.notes:
        typer.echo(f"  note: {note}")
    files = tables.extras.get("files") or {}
    for name, pattern in (files.get("ignored") or {}).items():
        typer.echo(f"  ignored on purpose: {name} (--ignore {pattern})")
    typer.echo("valid")


@app.command("map")
def map_folder(data_dir: Path = typer.Argument(..., help="Folder of the force's own extracts."),
               out: Path | None = typer.Option(None, "--out", help="Where to write the draft (default: "
                                               "mapping.yaml in the folder; an existing file is never replaced)."),
               params: Path | None = typer.Option(None, "--params", help="YAML overriding params/defaults.yaml "
                                                  "(its crime_categories_file, to recognise offence codes).")) -> None:
    """Draft a mapping.yaml for a folder of unknown extracts: tables, columns, date formats, and
    the values still to map (with their counts). Prints what it could not place."""
    from kpi_lib.config.categories import categories_for
    from kpi_lib.config.params import load_params
    from kpi_lib.inputs.mapping_draft import draft_mapping, to_yaml, unplaced_report
    try:
        if not data_dir.is_dir():
            raise KpiError(f"data folder not found: {data_dir}")
        target = out or data_dir / "mapping.yaml"
        if target.exists():
            raise KpiError(f"{target} exists: it is never replaced; give --out for the draft")
        codes = frozenset(categories_for(load_params(params)).codes.index)
        drafts = draft_mapping(data_dir, codes)
    except KpiError as exc:
        _fail(exc)
    placed = [d for d in drafts if d.table]
    if not drafts:
        typer.echo(f"{data_dir}: no extracts to map (every CSV file there is already an input the suite reads)")
        return
    if placed:
        from kpi_lib.inputs.mapping_draft import write_draft
        write_draft(target, to_yaml(drafts))
        typer.echo(f"draft written to {target}: " + ", ".join(f"{d.file} as {d.table}" for d in placed))
    for line in unplaced_report(drafts):
        typer.echo(f"  to check: {line}")
    typer.echo(f"next: fill in what is marked TO MAP in {target.name}, then run `kpi validate {data_dir}`")


@app.command()
def sample(out: Path = typer.Option(Path("data/sample"), help="Folder to write."),
           seed: int = typer.Option(20230727), scale: float = typer.Option(1.0, help="Volume scale (rates unchanged)."),
           first_fy: int = typer.Option(2019, help="First financial year (2019 = 2019/20)."),
           last_fy: int = typer.Option(2024, help="Last financial year (2024 = 2024/25).")) -> None:
    """Write the SYNTHETIC sample data (seeded: the same seed gives the same bytes)."""
    from kpi_lib.inputs.sample import generate
    counts = generate(out, seed=seed, scale=scale, first_fy=first_fy, last_fy=last_fy)
    typer.echo(f"wrote synthetic sample data to {out}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@app.command()
def run(period: str = typer.Argument(..., help="A quarter (2024/25-Q4) or a financial year (2024/25)."),
        to: str | None = typer.Option(None, "--to", help="Last quarter of a backfill range."),
        data: Path = typer.Option(Path("data/sample"), "--data", help="Folder of input files."),
        out: Path | None = typer.Option(None, "--out", help="Output folder (default outputs/<period>; with --to, the parent folder). "
                                        "It must not exist yet, or be an earlier run's output folder."),
        params: Path | None = typer.Option(None, "--params", help="YAML overriding params/defaults.yaml."),
        jobs: int | None = typer.Option(None, "--jobs", help="Notebooks run in parallel (default: cores)."),
        quiet: bool = typer.Option(False, "--quiet", help="Plain log lines instead of a progress bar."),
        pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Also print report.pdf with Chromium "
                                 "(--no-pdf is --skip pdf)."),
        skip: list[str] = typer.Option([], "--skip", metavar="FORMAT", help=SKIP_HELP),
        previous: Path | None = typer.Option(None, "--previous", help="An earlier run's output folder to compare with "
                                             "(default: the previous quarter's folder beside --out, if it is one)."),
        commentary: Path | None = typer.Option(None, "--commentary", help="Force commentary (Markdown) for the report "
                                               "(default: commentary.md in the data folder, if present)."),
        mapping: Path | None = typer.Option(None, "--mapping", help=MAPPING_HELP),
        ignore: list[str] = typer.Option([], "--ignore", help=IGNORE_HELP),
        as_at: str | None = typer.Option(None, "--as-at", help="Every figure as it stood at this past extraction "
                                         "date (YYYY-MM-DD): later records and outcomes left out. +N: each "
                                         "period as at N days after its end (as first reported).")) -> None:
    """Run the quarter (or year, or range): notebooks through Papermill, then the report."""
    from kpi_lib.run.runner import run_many
    kw = {"params_file": params, "jobs": jobs, "quiet": quiet, "pdf": pdf, "skip_formats": skip,
          "previous_dir": previous, "commentary_file": commentary}
    days = None
    if as_at and as_at.startswith("+"):  # each period as at N days after its end
        if not as_at[1:].isdigit():
            _fail(KpiError(f"--as-at {as_at}: expected a date YYYY-MM-DD, or +N (N days after each period's end)"))
        days, as_at = int(as_at[1:]), None
    kw["overrides"] = _overrides(mapping=mapping, ignore=ignore, as_at=as_at)
    kw["as_at_days"] = days
    try:
        results = run_many(period, to, data, out_root=out, **kw)
    except Interrupted as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(exc.exit_code) from None
    except KpiError as exc:
        _fail(exc)
    for r in results:
        typer.echo(f"{r.period.label}: report written to {r.report}")
        _warn_about_formats(r.manifest)
        if r.manifest.get("panel_cache_note"):
            typer.echo(f"  note: {r.manifest['panel_cache_note']}")


@app.command()
def render(out: Path = typer.Argument(..., help="An output folder written by `kpi run`."),
           pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="--no-pdf is --skip pdf."),
           skip: list[str] = typer.Option([], "--skip", metavar="FORMAT", help=SKIP_HELP)) -> None:
    """Re-render every output format (report.html, the spreadsheet, the PDF, ...) from a run's
    executed notebooks."""
    from kpi_lib.run.runner import rerender
    try:
        path = rerender(out, pdf=pdf, skip_formats=skip)
    except Interrupted as exc:  # each file is replaced whole, but some may be new and some old
        typer.echo("interrupted; run `kpi render` again to finish re-rendering", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KpiError as exc:
        _fail(exc)
    typer.echo(f"report written to {path}")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
