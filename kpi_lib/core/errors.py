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
    gives the line of the file it starts on (``line``, when the reader worked it out; else row + 1,
    which holds for a file without blank lines or multi-line fields).
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
        more_at_least: bool = False,
        line: int | None = None,
    ) -> None:
        self.file, self.row, self.column, self.value = file, row, column, value
        self.expected, self.problem, self.more = expected, problem, more
        self.more_at_least, self.line = more_at_least, line
        parts = [f"{file}"]
        if row is not None:
            where = f"row {row}"
            if line is not None:
                where += f" (line {line})"
            elif str(file).endswith(".csv"):
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
            msg += (f" (and {'at least ' if more_at_least else ''}{more} more row{'s' if more != 1 else ''}"
                    " with the same problem)")
        super().__init__(msg)

    def shifted(self, rows_before: int, *, later_rows_unread: bool) -> InputError:
        """The same error for a chunk of a file that starts after ``rows_before`` data rows: the
        row number becomes the row in the whole file. When later rows were not read, the count
        of other rows with the problem is a lower bound and says so."""
        return InputError(self.file, self.problem,
                          row=None if self.row is None else self.row + rows_before,
                          column=self.column, value=self.value, expected=self.expected, more=self.more,
                          more_at_least=self.more_at_least or (later_rows_unread and self.more > 0))

    def with_line(self, line: int) -> InputError:
        """The same error naming the line of the file on which its row starts (a CSV's blank
        lines and multi-line fields make it differ from the row number plus one)."""
        return InputError(self.file, self.problem, row=self.row, column=self.column, value=self.value,
                          expected=self.expected, more=self.more, more_at_least=self.more_at_least,
                          line=line)


class InputErrors(InputError):
    """Several input problems found in one pass: each file's first problem, and every rule of a
    file that its rows break. One message lists them all, so a data folder is put right in one
    go rather than one error at a time."""

    def __init__(self, errors: list[InputError]) -> None:
        flat: list[InputError] = []
        for e in errors:
            flat.extend(e.errors if isinstance(e, InputErrors) else [e])
        self.errors = flat
        self.file = ", ".join(dict.fromkeys(str(e.file) for e in flat))
        self.row, self.column, self.value, self.expected = None, None, None, None
        self.more, self.more_at_least, self.line = 0, False, None
        self.problem = f"{len(flat)} problems"
        lines = [f"{len(flat)} problems in the inputs, every one found in one pass:"]
        for e in flat:
            first, *rest = str(e).splitlines() or [""]
            lines.append(f"- {first}")
            lines.extend(f"  {line}" for line in rest)
        KpiError.__init__(self, "\n".join(lines))

    def shifted(self, rows_before: int, *, later_rows_unread: bool) -> InputError:
        return InputErrors([e.shifted(rows_before, later_rows_unread=later_rows_unread)
                            for e in self.errors])

    def with_line(self, line: int) -> InputError:
        return self


def one_or_all(errors: list[InputError]) -> InputError:
    """The error to raise for the problems found: the one problem itself, or all of them in one
    :class:`InputErrors`."""
    return errors[0] if len(errors) == 1 else InputErrors(errors)


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
