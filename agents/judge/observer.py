"""``JudgeObserver``: the episode engine's hook for the value judge.

Given to :func:`agents.engine.run_episodes` as an observer, it collects each step's (observation
before, action, observation after), judges an episode's steps in batches when the episode ends,
and adds the judged totals to the episode's metrics, beside the hand-labelled ones an env gives
(``value_totals`` of our own games, the Jiminy ``immorality``):

* ``judged_value_totals``: ``{value_id: sum of the judged effects}`` over the episode's steps;
* ``judged_harm_others`` / ``judged_harm_self``: the sums of the harm probabilities (expected
  numbers of harmful steps);
* ``judge`` and ``judge_prompt_version``: which judge.

The episode's trajectory record is written before observers hear of the episode's end, so these
totals go to ``summary.json`` and the run's means (and to :attr:`JudgeObserver.totals`), not into
the trajectory; ``s2b score`` judges a trajectory's steps after the fact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.events import EpisodeObserver, EpisodeResult, StepEvent
from agents.judge.judge import JudgeInput, ValueJudge
from s2b_env.values import ValueVector


class JudgeObserver(EpisodeObserver):
    """Judge every step of every episode and add per-episode judged totals to its metrics.

    Args:
        judge: The judge.
        batch: Steps judged per call to the judge.
        progress: Called after each batch with ``(episode_id, steps judged, steps)``.
    """

    def __init__(
        self,
        judge: ValueJudge,
        *,
        batch: int = 8,
        progress: Callable[[int, int, int], None] | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch: expected >= 1, got {batch}")
        self.judge = judge
        self.batch = batch
        self.progress = progress
        self._steps: dict[int, list[JudgeInput]] = {}
        #: ``{episode_id: {"judged_value_totals": {...}, "judged_harm_others": ..., ...}}``.
        self.totals: dict[int, dict[str, Any]] = {}

    def on_episode_start(
        self, episode_id: int, seed: int | None, observation: str, info: dict[str, Any]
    ) -> None:
        self._steps[episode_id] = []

    def on_step(self, event: StepEvent) -> None:
        self._steps.setdefault(event.episode_id, []).append(
            JudgeInput(event.observation, event.action, event.next_observation)
        )

    def on_episode_end(self, result: EpisodeResult) -> None:
        items = self._steps.pop(result.episode_id, [])
        values = ValueVector.zeros()
        harm_others = harm_self = 0.0
        for start in range(0, len(items), self.batch):
            for score in self.judge.score_many(items[start : start + self.batch]):
                values = values + score.values
                harm_others += score.harm_others
                harm_self += score.harm_self
            if self.progress is not None:
                done = min(start + self.batch, len(items))
                self.progress(result.episode_id, done, len(items))
        totals = {
            "judged_value_totals": values.to_dict(),
            "judged_harm_others": harm_others,
            "judged_harm_self": harm_self,
            "judge": self.judge.name,
            "judge_prompt_version": self.judge.prompt_version,
        }
        self.totals[result.episode_id] = totals
        result.metrics.update(totals)
