"""Episode observers of the command line: the progress display of ``s2b run`` and ``s2b demo``.

They receive the engine's events (:class:`agents.engine.EpisodeObserver`); none plays an episode
itself. The mode is the resolved ``--progress`` (:func:`s2b.cli._common.progress_mode`): ``rich``
(a live bar with elapsed time and ETA), ``plain`` (one line per episode, for logs) or ``off``.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console

from agents.engine import EpisodeObserver, EpisodeResult, RunStart, RunSummary, StepEvent


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class ProgressObserver(EpisodeObserver):
    """Shows a run's progress: a live bar, a line per episode, or nothing.

    Args:
        console: Where to show it.
        mode: ``rich``, ``plain`` or ``off``.
        description: The bar's label (default: the env id).
        step_every: Update the bar's status every this many steps.
        per_episode: In plain mode, a line per episode (else one line when the run ends).
    """

    def __init__(
        self,
        console: Console,
        mode: str,
        description: str | None = None,
        *,
        step_every: int = 25,
        per_episode: bool = True,
    ) -> None:
        self.console = console
        self.mode = mode
        self.description = description
        self.step_every = step_every
        self.per_episode = per_episode
        self._live: Any = None
        self._progress: Any = None
        self._task: Any = None
        self._started = 0.0
        self._planned = 0
        self._finished = 0
        self._played = 0

    def on_run_start(self, run: RunStart) -> None:
        self._started = time.perf_counter()
        self._planned = run.episodes
        self._finished = len(run.done)
        self._played = 0
        if self.mode != "rich":
            return
        from rich.live import Live
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TextColumn("ETA"),
            TimeRemainingColumn(), console=self.console,
        )  # fmt: skip
        label = self.description or str(run.header.get("env_id", "episodes"))
        self._task = self._progress.add_task(
            label, total=run.episodes, completed=len(run.done), status=""
        )
        self._live = Live(self._progress, console=self.console, refresh_per_second=8)
        self._live.start()

    def on_step(self, event: StepEvent) -> None:
        if self._progress is not None and event.step % self.step_every == 0:
            self._progress.update(self._task, status=f"ep {event.episode_id} step {event.step}")

    def on_episode_end(self, result: EpisodeResult) -> None:
        self._finished += 1
        self._played += 1
        scored = "" if result.score is None else f", score {result.score}"
        if self._progress is not None:
            self._progress.update(
                self._task, advance=1, status=f"ep {result.episode_id}{scored.replace(',', ':')}"
            )
        elif self.mode == "plain" and self.per_episode:
            left = self._planned - self._finished
            per = (time.perf_counter() - self._started) / self._played
            eta = f", ETA {_clock(per * left)}" if left else ""
            self.console.print(
                f"episode {result.episode_id}: {result.steps} steps{scored}, "
                f"return {result.total_reward:g}, {result.end_reason} "
                f"({self._finished}/{self._planned}{eta})",
                highlight=False,
            )

    def on_run_end(self, summary: RunSummary) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        elif self.mode == "plain" and not self.per_episode:
            label = self.description or summary.env_id
            self.console.print(f"{label}: {len(summary.episodes)} episodes", highlight=False)
