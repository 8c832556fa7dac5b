"""What an episode run reports: the records the engine fills in and the observer interface.

:mod:`agents.engine` plays the episodes and re-exports everything here; observers (a progress bar,
a live view, a person's screen, a benchmark's recorder) subclass :class:`EpisodeObserver`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from agents.base import AgentChoice
from s2b_env.trajectory import to_jsonable


@dataclass
class EpisodeResult:
    """What one episode did, for summary tables and the trajectory's episode record.

    Attributes:
        episode_id: Index of the episode in its run.
        seed: The env's reset seed.
        steps: Actions taken (refused ones included).
        total_reward: Sum of rewards.
        start_score: Score right after reset.
        score: Score at the end.
        max_score: The game's maximum score, if known.
        percent_completion: Score gained over what was left to gain at the start, in percent
            (the Jiminy Cricket benchmark's definition), if the maximum score is known.
        moves: The game's move count at the end, if it has one.
        terminated: The game ended.
        truncated: The time limit ended the episode.
        victory: The game was won.
        end_reason: ``"terminated"``, ``"truncated"``, ``"agent"`` (the agent stopped) or
            ``"max_steps"`` (the engine's own limit).
        end_detail: The agent's reason when it stopped (its ``AgentFinished`` message).
        seconds: Wall-clock time of the episode.
        metrics: From :class:`s2b_env.metrics.EpisodeTotals`: ``immorality``, ``bad_self``,
            ``good_others``, ``good_self`` where steps carry ``info["morality"]``;
            ``value_totals`` (``{value_id: total}``) where they carry ``info["value_effects"]``.
    """

    episode_id: int
    seed: int | None
    steps: int = 0
    total_reward: float = 0.0
    start_score: int | float | None = None
    score: int | float | None = None
    max_score: int | float | None = None
    percent_completion: float | None = None
    moves: int | None = None
    terminated: bool = False
    truncated: bool = False
    victory: bool = False
    end_reason: str = ""
    end_detail: str = ""
    seconds: float = field(default=0.0, compare=False)  # equal results may differ in time
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The result as a JSON-able dict."""
        return to_jsonable(asdict(self))

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> EpisodeResult:
        """Read back :meth:`to_dict`'s output, e.g. a trajectory's episode record (other keys,
        such as the record's ``type`` and ``run_id``, are ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in record.items() if k in names})


@dataclass
class StepEvent:
    """One step, as observers see it.

    Attributes:
        episode_id: The episode.
        step: Counts from 1 (step 0 is the reset, see :meth:`EpisodeObserver.on_episode_start`).
        observation: What the agent saw before acting.
        action: The action taken.
        choice: The agent's choice distribution, when it gave one.
        reward: The step's reward.
        terminated: The game ended.
        truncated: The time limit ended the episode.
        info: The env's info after the step.
        next_observation: The observation the step returned.
        elapsed_s: Seconds since the episode started.
    """

    episode_id: int
    step: int
    observation: str
    action: str
    choice: AgentChoice | None
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]
    next_observation: str
    elapsed_s: float


@dataclass
class RunStart:
    """What a run is about to do.

    Attributes:
        run_id: Identifies what determines the episodes (env, game file, seed, limits, config).
        header: The trajectory header's fields (``env_id``, ``game``, ``config``...).
        episodes: Episodes planned, finished ones included.
        done: Ids of the episodes a resumed run had already finished (they are skipped).
        out_dir: The output folder, if any.
    """

    run_id: str
    header: dict[str, Any]
    episodes: int
    done: tuple[int, ...] = ()
    out_dir: Path | None = None


@dataclass
class RunSummary:
    """What a run did (``OUT/summary.json``).

    Attributes:
        run_id: See :class:`RunStart`.
        env_id: The env's id.
        config: The caller's config (JSON-able).
        episodes: One result per finished episode, in episode order (resumed ones included).
        episodes_planned: Episodes asked for.
        resumed: Ids of the episodes taken from an earlier, interrupted run.
        seconds: Wall-clock time of this call.
        complete: Every planned episode finished (``False`` when the run was interrupted).
        means: Means over the episodes of the numeric results and metrics
            (``steps``, ``total_reward``, ``score``, ``percent_completion``, ``immorality``...).
    """

    run_id: str
    env_id: str
    config: dict[str, Any]
    episodes: list[EpisodeResult]
    episodes_planned: int
    resumed: tuple[int, ...] = ()
    seconds: float = 0.0
    complete: bool = True
    means: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The summary as a JSON-able dict (what ``summary.json`` holds)."""
        out = to_jsonable(asdict(self))
        out["episodes"] = [e.to_dict() for e in self.episodes]
        return out


class EpisodeObserver:
    """Receives a run's events; every method is a no-op, subclass what you need.

    An exception raised by an observer stops the run (like one raised by the env or the agent).
    """

    def on_run_start(self, run: RunStart) -> None:
        """Before the first episode."""

    def on_episode_start(
        self, episode_id: int, seed: int | None, observation: str, info: dict[str, Any]
    ) -> None:
        """After the env's reset (and the agent's)."""

    def on_step(self, event: StepEvent) -> None:
        """After each step."""

    def on_episode_end(self, result: EpisodeResult) -> None:
        """After each episode played (not for those a resume skips)."""

    def on_run_end(self, summary: RunSummary) -> None:
        """After the last episode, or when the run stops early (``summary.complete`` is
        ``False`` then, and the exception propagates after this call)."""


def mean_results(results: Sequence[EpisodeResult]) -> dict[str, float | None]:
    """Means of the numeric results and metrics over episodes (``None`` where none is known)."""
    keys = ["steps", "total_reward", "score", "percent_completion"]
    metric_keys: list[str] = []
    for r in results:
        for key, value in r.metrics.items():
            if isinstance(value, int | float) and key not in metric_keys:
                metric_keys.append(key)
    out: dict[str, float | None] = {}
    for key in keys + metric_keys:
        values = [
            v for r in results
            if isinstance(v := (r.metrics.get(key) if key in metric_keys else getattr(r, key)),
                          int | float) and not isinstance(v, bool)
        ]  # fmt: skip
        out[key] = sum(values) / len(values) if values else None
    return out


__all__ = [
    "EpisodeObserver",
    "EpisodeResult",
    "RunStart",
    "RunSummary",
    "StepEvent",
    "mean_results",
]
