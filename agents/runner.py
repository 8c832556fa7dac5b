"""Running agents in environments: one episode at a time, with trajectories and episode metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from agents.base import Agent, AgentFinished
from s2b_env.jiminy.data import LABEL_COMPONENTS
from s2b_env.trajectory import TrajectoryWriter

#: Index of each component in a Jiminy Cricket morality vector.
MORALITY_KEYS = LABEL_COMPONENTS  # the order of info["morality"]


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
            ``"max_steps"`` (the runner's own limit).
        metrics: Env-specific totals: ``immorality``, ``bad_self``, ``good_others``, ``good_self``
            where steps carry ``info["morality"]``; ``value_totals`` (20 values) where they carry
            ``info["value_effects"]``.
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
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Totals:
    """Accumulates per-step label vectors into episode metrics."""

    def __init__(self) -> None:
        self.morality: list[float] | None = None
        self.values: dict[str, float] | None = None

    def add(self, info: dict[str, Any]) -> None:
        morality = info.get("morality")
        if morality is not None:
            if self.morality is None:
                self.morality = [0.0] * len(MORALITY_KEYS)
            for i, x in enumerate(morality):
                self.morality[i] += float(x)
        effects = info.get("value_effects")
        if effects:
            if hasattr(effects, "to_dict"):
                effects = effects.to_dict()
            if self.values is None:
                self.values = {}
            for key, x in effects.items():
                self.values[key] = self.values.get(key, 0.0) + float(x)

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.morality is not None:
            out["immorality"] = self.morality[0]
            out.update(zip(MORALITY_KEYS[1:], self.morality[1:], strict=True))
        if self.values is not None:
            out["value_totals"] = self.values
        return out


def percent_completion(
    start: float | None, end: float | None, maximum: float | None
) -> float | None:
    """Score gained over the score that was left to gain, in percent (``None`` if unknown)."""
    if start is None or end is None or maximum is None or maximum <= start:
        return None
    return 100.0 * (end - start) / (maximum - start)


StepCallback = Callable[[int, str, float, dict[str, Any]], None]


def run_episode(
    env: Any,
    agent: Agent,
    *,
    episode_id: int = 0,
    seed: int | None = None,
    writer: TrajectoryWriter | None = None,
    max_steps: int | None = None,
    on_step: StepCallback | None = None,
    reset_options: dict[str, Any] | None = None,
) -> EpisodeResult:
    """Play one episode of ``agent`` in ``env``.

    The env is reset with ``seed``; an agent with a ``reseed`` method (like
    :class:`agents.RandomAgent`) is reseeded with it too, so an episode depends only on its seed.

    Args:
        env: A Gymnasium env with text actions (usually from ``gym.make``).
        agent: The agent.
        episode_id: Recorded in the trajectory and the result.
        seed: Reset seed.
        writer: Trajectory to append the steps to (and the episode's end record).
        max_steps: Stop after this many actions (the registered time limit applies anyway).
        on_step: Called after each step with ``(step, action, reward, info)``.
        reset_options: Passed to ``env.reset(options=...)``.

    Returns:
        The episode's :class:`EpisodeResult`.
    """
    if hasattr(agent, "reseed") and seed is not None:
        agent.reseed(seed)
    agent.reset()
    observation, info = env.reset(seed=seed, options=reset_options)
    result = EpisodeResult(episode_id=episode_id, seed=seed)
    result.start_score = info.get("score")
    result.max_score = info.get("max_score")
    totals = _Totals()
    totals.add(info)
    if writer is not None:
        writer.write_step(
            episode_id=episode_id, seed=seed, step=0, action=None, observation=observation,
            reward=0.0, terminated=False, truncated=False, info=info,
        )  # fmt: skip
    terminated = truncated = False
    while True:
        if max_steps is not None and result.steps >= max_steps:
            result.end_reason = "max_steps"
            break
        try:
            action = agent.act(observation, info)
        except AgentFinished:
            result.end_reason = "agent"
            break
        observation, reward, terminated, truncated, info = env.step(action)
        result.steps += 1
        result.total_reward += float(reward)
        totals.add(info)
        if writer is not None:
            writer.write_step(
                episode_id=episode_id, seed=seed, step=result.steps, action=action,
                observation=observation, reward=reward, terminated=terminated,
                truncated=truncated, info=info,
            )  # fmt: skip
        if on_step is not None:
            on_step(result.steps, action, float(reward), info)
        if terminated or truncated:
            result.end_reason = "terminated" if terminated else "truncated"
            break
    result.terminated = bool(terminated)
    result.truncated = bool(truncated)
    result.score = info.get("score")
    result.moves = info.get("moves")
    result.victory = bool(info.get("victory", False))
    if result.max_score is None:
        result.max_score = info.get("max_score")
    result.percent_completion = percent_completion(
        result.start_score, result.score, result.max_score
    )
    result.metrics = totals.metrics()
    if writer is not None:
        writer.write_episode_end(episode_id=episode_id, summary=result.to_dict())
    return result
