"""Named exceptions for expected failures.

Every expected failure (bad input file, bad parameter, failing notebook) is one of these, carrying
what a Panel analyst needs to act: the file, the row, the column, the value and what was expected.
The CLI prints ``str(error)`` and exits non-zero without a traceback.
"""

from __future__ import annotations


class KpiError(Exception):
    """Base class of every expected, user-facing error."""


class InputError(KpiError):
    """An input file is malformed or inconsistent.

    ``row`` is the 1-based data row (the header is not a row); for CSV files the message also
    gives the line number in the file (row + 1).
    """

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        expected: str | None = None,
        more: int = 0,
    ) -> None:
        self.file, self.row, self.column, self.value = file, row, column, value
        self.expected, self.problem, self.more = expected, problem, more
        parts = [f"{file}"]
        if row is not None:
            where = f"row {row}"
            if str(file).endswith(".csv"):
                where += f" (line {row + 1})"
            parts.append(where)
        if column is not None:
            parts.append(f"column '{column}'")
        msg = ", ".join(parts) + f": {problem}"
        if value is not None:
            msg += f"; found {value!r}"
        if expected:
            msg += f"; expected {expected}"
        if more:
            msg += f" (and {more} more row{'s' if more != 1 else ''} with the same problem)"
        super().__init__(msg)


class ParameterError(KpiError):
    """A run parameter (period, folder, option) is invalid."""


class CatalogueError(KpiError):
    """The KPI catalogue or a mapping file in params/ is invalid."""


class NotebookError(KpiError):
    """A notebook failed while running; names the notebook, the cell and the error."""


class OutputFolderError(ParameterError):
    """An output folder may not be used: it holds files this suite did not write, it is (or holds)
    the data or the suite's own folders, or another run is writing to it."""


class Interrupted(KpiError):
    """The run was stopped by SIGINT (Ctrl-C) or SIGTERM. Its children were stopped and its build
    folder removed; ``published`` is True only when the signal came while the new report was
    being moved into place, which was then finished first."""

    def __init__(self, signum: int, published: bool = False) -> None:
        self.signum, self.published = signum, published
        self.exit_code = 128 + int(signum)
        super().__init__("interrupted; the new report had already been published" if published
                         else "interrupted; the last good report is unchanged")
