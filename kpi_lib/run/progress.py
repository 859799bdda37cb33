"""The progress of a run: a bar of notebooks done and running (rich), or one plain line per
notebook when quiet."""

from __future__ import annotations


class Progress:
    """Progress bar of notebooks done and running (rich), or plain log lines with quiet."""

    def __init__(self, total: int, label: str, quiet: bool) -> None:
        self.quiet, self.label, self.total, self.done = quiet, label, total, 0
        self.bar = None
        if not quiet:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), transient=False)
            self.task = self.bar.add_task(label, total=total)
            self.bar.start()

    def running(self, names: list[str]) -> None:
        if self.bar is not None:
            what = "notebooks done" if not names else f"running {', '.join(names)}"
            self.bar.update(self.task, description=f"{self.label}: {what}")

    def advance(self, name: str, seconds: float) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.advance(self.task)
        else:
            print(f"[{self.label}] {name} done in {seconds:.1f}s ({self.done}/{self.total})", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
