"""Progress of the profile stages of ``s2b align``: a transient rich bar, or plain lines."""

from __future__ import annotations

from typing import Any

from training.sft import ProgressMode


class ProfileProgress:
    """A transient rich bar (or plain lines at quarters) over one profile's prompts."""

    def __init__(self, console: Any, mode: ProgressMode, label: str) -> None:
        self.console, self.mode, self.label = console, mode, label
        self.progress: Any = None
        self.task: Any = None
        self.last_quarter = -1

    def __enter__(self) -> ProfileProgress:
        if self.mode == "rich" and self.console is not None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn(f"[bold]{self.label}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
        return self

    def update(self, done: int, total: int, result: Any) -> None:
        if self.progress is not None:
            if self.task is None:
                self.task = self.progress.add_task(self.label, total=total)
            self.progress.update(self.task, completed=done)
        elif self.mode == "plain" and self.console is not None and total:
            quarter = 4 * done // total
            if quarter != self.last_quarter:
                self.last_quarter = quarter
                self.console.print(f"{self.label}: {done}/{total} prompts", highlight=False)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()
