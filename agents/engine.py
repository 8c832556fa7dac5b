"""The episode engine: every episode s2b plays runs here.

:func:`run_episodes` plays episodes of an agent in an env and is the only episode loop in s2b:
``s2b run``, ``s2b play`` (a person is an agent, the screen an observer), ``s2b demo`` and the
benchmarks all call it. It

* resets the env (episode ``i`` with ``seed + i``) and the agent, asks the agent for actions and
  steps the env until the game ends, the time limit or ``max_steps`` is reached, or the agent
  raises :class:`~agents.base.AgentFinished`;
* reads the agent's :class:`~agents.base.AgentChoice` (``agent.last_choice``) after each ``act()``;
* computes each episode's metrics with :class:`s2b_env.metrics.EpisodeTotals`;
* delivers events to :class:`EpisodeObserver` objects (a progress bar, a live view, a person's
  screen are observers, not loops of their own);
* with ``out_dir``, writes ``OUT/trajectory.jsonl`` (format v1, one line per step, flushed, with the
  step's ``"choice"`` when the agent gave one) and ``OUT/summary.json``, and resumes an interrupted
  run: finished episodes are skipped, an episode cut short is dropped and played again from its
  seed, a torn last line is cut, and another run's folder is refused.

The records it fills in and the observer interface live in :mod:`agents.events` and are
re-exported here. docs/architecture.md walks through one ``s2b run``.

Example:
    >>> import gymnasium as gym, s2b_env
    >>> from agents import RandomAgent
    >>> from agents.engine import run_episodes
    >>> env = gym.make("s2b/jericho-zork1-v0")
    >>> summary = run_episodes(env, RandomAgent(), episodes=3, seed=0, max_steps=50, out_dir="out")
    >>> [e.steps for e in summary.episodes]
    [50, 50, 50]
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import inspect
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agents.base import Agent, AgentChoice, AgentFinished
from agents.events import (
    EpisodeObserver,
    EpisodeResult,
    RunStart,
    RunSummary,
    StepEvent,
    mean_results,
)
from s2b_env.errors import S2BError
from s2b_env.metrics import EpisodeTotals, percent_completion
from s2b_env.trajectory import (
    TrajectoryWriter,
    keep_complete_episodes,
    read_header,
    read_trajectory,
    to_jsonable,
)

TRAJECTORY_FILE = "trajectory.jsonl"
SUMMARY_FILE = "summary.json"
#: How an episode ended (``EpisodeResult.end_reason``).
END_REASONS = ("terminated", "truncated", "agent", "max_steps")

ResetOptions = Mapping[str, Any] | Callable[[int], Mapping[str, Any] | None] | None


class RunFolderError(S2BError):
    """An output folder holds another run, or a run that would be overwritten without resume."""


# --------------------------------------------------------------------------- the run


def run_episodes(
    env: Any,
    agent: Agent,
    *,
    episodes: int,
    seed: int | None = None,
    max_steps: int | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    config: Mapping[str, Any] | None = None,
    observers: Sequence[EpisodeObserver] = (),
    reset_options: ResetOptions = None,
) -> RunSummary:
    """Play ``episodes`` episodes of ``agent`` in ``env``.

    Args:
        env: A Gymnasium env with text actions (usually from ``gym.make``); the caller closes it.
        agent: The agent; one with a ``reseed(seed)`` method (like :class:`agents.RandomAgent`)
            is reseeded with each episode's seed, so an episode depends only on its seed.
        episodes: How many episodes (ids ``0 .. episodes-1``).
        seed: Seed of episode 0; episode ``i`` uses ``seed + i`` (``None``: unseeded resets).
        max_steps: Stop each episode after this many actions (the env's time limit applies anyway).
        out_dir: Folder for ``trajectory.jsonl`` and ``summary.json`` (``None``: no files).
        resume: Continue the run in ``out_dir``: finished episodes are skipped, an unfinished one
            is played again. Without it, an ``out_dir`` that holds a trajectory is refused.
        config: What else determines the episodes (agent and model settings, env keywords...),
            JSON-able; it is part of the run id and recorded in the header and the summary.
        observers: Receive the run's events, in this order.
        reset_options: ``env.reset(options=...)``: one mapping for every episode, or a function
            of the episode id.

    Returns:
        The :class:`RunSummary` (also written to ``OUT/summary.json`` after every episode).

    Raises:
        ValueError: ``episodes < 1`` or ``max_steps < 1``.
        RunFolderError: ``out_dir`` holds another run, or a trajectory and ``resume`` is off.
        DataError: The trajectory to resume is malformed (names the line).
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1, got {episodes!r}")
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    started = time.perf_counter()
    config_dict: dict[str, Any] = to_jsonable(dict(config or {}))
    header = run_header(env, agent, seed=seed, max_steps=max_steps, config=config_dict)
    run_id = header["run_id"]
    out = Path(out_dir) if out_dir is not None else None
    done: dict[int, EpisodeResult] = {}
    writer: TrajectoryWriter | None = None
    if out is not None:
        done = _prepare_folder(out, run_id, resume)
        extra = {k: v for k, v in header.items() if k not in ("run_id", "env_id")}
        writer = TrajectoryWriter(
            out / TRAJECTORY_FILE, run_id=run_id, env_id=header["env_id"], header=extra
        )
    done = {k: v for k, v in done.items() if k < episodes}
    start = RunStart(run_id, header, episodes, tuple(sorted(done)), out)
    results: dict[int, EpisodeResult] = dict(done)

    def summary(complete: bool) -> RunSummary:
        ordered = [results[k] for k in sorted(results)]
        return RunSummary(
            run_id=run_id, env_id=header["env_id"], config=config_dict, episodes=ordered,
            episodes_planned=episodes, resumed=start.done,
            seconds=round(time.perf_counter() - started, 3), complete=complete,
            means=mean_results(ordered),
        )  # fmt: skip

    try:
        for observer in observers:
            observer.on_run_start(start)
        for episode_id in range(episodes):
            if episode_id in done:
                continue
            episode_seed = None if seed is None else seed + episode_id
            options = reset_options(episode_id) if callable(reset_options) else reset_options
            result = play_episode(
                env, agent, episode_id=episode_id, seed=episode_seed, max_steps=max_steps,
                writer=writer, observers=observers, reset_options=options,
            )  # fmt: skip
            results[episode_id] = result
            for observer in observers:
                observer.on_episode_end(result)
            if out is not None:
                _write_summary(out, summary(len(results) == episodes))
    except BaseException:
        partial = summary(False)
        if writer is not None:
            writer.close()
        if out is not None:
            _write_summary(out, partial)
        for observer in observers:
            with contextlib.suppress(Exception):  # the original exception is the one to see
                observer.on_run_end(partial)
        raise
    if writer is not None:
        writer.close()
    final = summary(True)
    if out is not None:
        _write_summary(out, final)
    for observer in observers:
        observer.on_run_end(final)
    return final


def run_episode(
    env: Any,
    agent: Agent,
    *,
    episode_id: int = 0,
    seed: int | None = None,
    max_steps: int | None = None,
    observers: Sequence[EpisodeObserver] = (),
    reset_options: Mapping[str, Any] | None = None,
) -> EpisodeResult:
    """Play one episode without files (see :func:`run_episodes` for the arguments)."""
    return play_episode(
        env, agent, episode_id=episode_id, seed=seed, max_steps=max_steps, writer=None,
        observers=observers, reset_options=reset_options,
    )  # fmt: skip


def play_episode(
    env: Any,
    agent: Agent,
    *,
    episode_id: int,
    seed: int | None,
    max_steps: int | None,
    writer: TrajectoryWriter | None,
    observers: Sequence[EpisodeObserver],
    reset_options: Mapping[str, Any] | None,
) -> EpisodeResult:
    """The episode loop itself (one episode; :func:`run_episodes` calls it)."""
    started = time.perf_counter()
    if seed is not None and hasattr(agent, "reseed"):
        agent.reseed(seed)
    observation, info = env.reset(seed=seed, options=dict(reset_options) if reset_options else None)
    reset_agent(agent, observation, info)
    result = EpisodeResult(episode_id=episode_id, seed=seed)
    result.start_score = info.get("score")
    result.max_score = info.get("max_score")
    totals = EpisodeTotals()
    totals.add(info)
    if writer is not None:
        writer.write_step(
            episode_id=episode_id, seed=seed, step=0, action=None, observation=observation,
            reward=0.0, terminated=False, truncated=False, info=info,
        )  # fmt: skip
    for observer in observers:
        observer.on_episode_start(episode_id, seed, observation, info)
    terminated = truncated = False
    while True:
        if max_steps is not None and result.steps >= max_steps:
            result.end_reason = "max_steps"
            break
        before = getattr(agent, "last_choice", None)
        try:
            action = agent.act(observation, info)
        except AgentFinished as reason:
            result.end_reason = "agent"
            result.end_detail = str(reason)
            break
        after = getattr(agent, "last_choice", None)
        choice = as_choice(after, action) if after is not before else None
        next_observation, reward, terminated, truncated, info = env.step(action)
        result.steps += 1
        result.total_reward += float(reward)
        totals.add(info)
        if writer is not None:
            extra = {"choice": choice.to_dict()} if choice is not None else {}
            writer.write_step(
                episode_id=episode_id, seed=seed, step=result.steps, action=action,
                observation=next_observation, reward=reward, terminated=terminated,
                truncated=truncated, info=info, **extra,
            )  # fmt: skip
        event = StepEvent(
            episode_id=episode_id, step=result.steps, observation=observation, action=action,
            choice=choice, reward=float(reward), terminated=bool(terminated),
            truncated=bool(truncated), info=info, next_observation=next_observation,
            elapsed_s=time.perf_counter() - started,
        )  # fmt: skip
        for observer in observers:
            observer.on_step(event)
        observation = next_observation
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
    result.seconds = round(time.perf_counter() - started, 3)
    if writer is not None:
        writer.write_episode_end(episode_id=episode_id, summary=result.to_dict())
    return result


# --------------------------------------------------------------------------- helpers


def reset_agent(agent: Any, observation: str, info: dict[str, Any]) -> None:
    """Call ``agent.reset(observation, info)``, or ``agent.reset()`` for an agent whose
    ``reset`` takes no arguments."""
    reset = agent.reset
    try:
        parameters = inspect.signature(reset).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: give it the arguments
        reset(observation, info)
        return
    positional = [
        p for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]  # fmt: skip
    if positional:
        reset(observation, info)
    else:
        reset()


def as_choice(value: Any, action: str) -> AgentChoice | None:
    """An agent's ``last_choice`` as an :class:`AgentChoice`.

    Besides an :class:`AgentChoice`, an object with ``candidates`` and ``probabilities`` (or
    ``probs``) attributes is read (its ``action``, ``chosen`` or else the action taken is the
    choice; its ``method``, if any, goes to ``extra``). Anything else gives ``None``.
    """
    if value is None or isinstance(value, AgentChoice):
        return value
    candidates = getattr(value, "candidates", None)
    probabilities = getattr(value, "probabilities", getattr(value, "probs", None))
    if candidates is None or probabilities is None:
        return None
    chosen = getattr(value, "chosen", getattr(value, "action", action))
    extra = dict(getattr(value, "extra", None) or {})
    if getattr(value, "method", None) is not None:
        extra.setdefault("method", value.method)
    return AgentChoice(list(candidates), list(probabilities), str(chosen), extra)


def run_header(
    env: Any,
    agent: Any,
    *,
    seed: int | None,
    max_steps: int | None,
    config: Mapping[str, Any],
) -> dict[str, Any]:
    """The run id and the trajectory header of a run.

    The run id hashes what determines the episodes: the env id, the game file's checksum, the
    agent's class, ``seed``, ``max_steps`` and ``config``. The episode count is not part of it,
    so a run can be extended by resuming it with more episodes.
    """
    base = getattr(env, "unwrapped", env)
    spec = getattr(env, "spec", None)
    env_id = spec.id if spec is not None else type(base).__name__
    key = {
        "env_id": env_id,
        "game_checksum": getattr(base, "checksum", None),
        "agent": type(agent).__name__,
        "seed": seed,
        "max_steps": max_steps,
        "config": to_jsonable(dict(config)),
    }
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return {
        "run_id": f"run-{digest}",
        "env_id": env_id,
        "game": getattr(base, "game", None),
        "game_checksum": key["game_checksum"],
        "agent": key["agent"],
        "seed": seed,
        "max_steps": max_steps,
        "config": key["config"],
    }


def _prepare_folder(out: Path, run_id: str, resume: bool) -> dict[int, EpisodeResult]:
    """Check ``out`` for resuming; return the finished episodes (after dropping the others)."""
    path = out / TRAJECTORY_FILE
    if not (path.exists() and path.stat().st_size):
        return {}
    if not resume:
        raise RunFolderError(
            f"{path} exists; resume that run (s2b run --resume, or resume=True), or choose "
            "another output folder"
        )
    saved = read_header(path)  # checked before any rewrite: a refused resume changes nothing
    if saved.get("run_id") != run_id:
        settings = {k: saved.get(k) for k in ("env_id", "agent", "seed", "max_steps", "config")}
        raise RunFolderError(
            f"{path} holds another run (its settings: {json.dumps(settings)}); resume it with "
            "the same env, agent, seed, limits and options, or choose another output folder"
        )
    keep_complete_episodes(path)
    finished = {}
    for episode in read_trajectory(path).episodes:
        if episode.summary is not None:
            finished[episode.episode_id] = EpisodeResult.from_dict(episode.summary)
    return finished


def _write_summary(out: Path, summary: RunSummary) -> None:
    out.mkdir(parents=True, exist_ok=True)
    record = {
        **summary.to_dict(),
        "written": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    tmp = out / (SUMMARY_FILE + ".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out / SUMMARY_FILE)


__all__ = [
    "END_REASONS",
    "SUMMARY_FILE",
    "TRAJECTORY_FILE",
    "EpisodeObserver",
    "EpisodeResult",
    "RunFolderError",
    "RunStart",
    "RunSummary",
    "StepEvent",
    "as_choice",
    "mean_results",
    "play_episode",
    "reset_agent",
    "run_episode",
    "run_episodes",
    "run_header",
]
