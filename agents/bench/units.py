"""Units of work of a bench: one (agent, env, seed, episode) each, played by :func:`play_unit`.

The env's reset seed depends only on (env, seed, episode), never on the agent, so every agent
faces the same starts; an agent with randomness is reseeded from the same number. A worker keeps
its envs, agents and model backends in a ``cache`` dict across units, so a model loads once per
worker, not once per unit.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from agents.bench.config import BenchConfig, resolve_adapter
from agents.events import EpisodeObserver, StepEvent

#: The format of a unit record (a line of ``units.jsonl``).
RECORD_FORMAT = 1


@dataclass(frozen=True, order=True)
class UnitSpec:
    """One unit of work: episode ``episode`` of ``agent`` in ``env`` with seed ``seed``."""

    agent: str
    env: str
    seed: int
    episode: int

    @property
    def unit_id(self) -> str:
        """``agent/env/s<seed>/e<episode>``."""
        return f"{self.agent}/{self.env}/s{self.seed}/e{self.episode}"

    @classmethod
    def from_id(cls, unit_id: str) -> UnitSpec:
        """The unit of a :attr:`unit_id`."""
        agent, env, seed, episode = unit_id.split("/")
        return cls(agent, env, int(seed[1:]), int(episode[1:]))


def plan_units(config: BenchConfig) -> list[UnitSpec]:
    """Every unit of ``config``, agent by agent (a worker then keeps one model loaded)."""
    return [
        UnitSpec(agent.name, env.name, seed, episode)
        for agent in config.agents
        for env in config.envs
        for seed in config.seeds
        for episode in range(config.episodes)
    ]


def reset_seed(spec: UnitSpec) -> int:
    """The env's reset seed (and the agent's seed) of a unit: ``seed * 1000 + episode``."""
    return spec.seed * 1000 + spec.episode


class VerdictCounter(EpisodeObserver):
    """Counts ``info["verdict"]`` over an episode's steps (the judgment envs set it; ``None``
    for an env that gives no verdicts)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.seen = False

    def on_episode_start(
        self, episode_id: int, seed: int | None, observation: str, info: dict
    ) -> None:
        self.counts.clear()
        self.seen = info.get("kind") == "judgment" or info.get("verdict") is not None

    def on_step(self, event: StepEvent) -> None:
        verdict = event.info.get("verdict")
        if verdict is not None:
            self.seen = True
            self.counts[str(verdict)] += 1

    def result(self) -> dict[str, int] | None:
        """The counts, sorted by verdict, or ``None`` when the env has no verdicts."""
        return {k: self.counts[k] for k in sorted(self.counts)} if self.seen else None


def make_backend_for(spec: Any, config: BenchConfig, cache: dict[str, Any]) -> Any:
    """The model backend of an llm agent or the judge (one per model and adapter per worker)."""
    from agents.backends import BackendConfig, make_backend

    model = None if spec.model == "default" else spec.model
    adapter = spec.adapter
    if spec.backend == "vllm":
        if not config.server_url:
            from s2b_env.errors import ConfigError

            raise ConfigError(
                "backend vllm: the bench's vLLM server is not running (no server_url); "
                "use backend transformers, or run the bench through `s2b bench`"
            )
        settings = BackendConfig(
            backend="openai", base_url=config.server_url, model=model, adapter=adapter
        )
    elif spec.backend == "openai":
        settings = BackendConfig(
            backend="openai",
            base_url=spec.base_url or BackendConfig.base_url,
            model=model,
            adapter=adapter,
        )
    else:
        folder = resolve_adapter(adapter) if adapter else None
        settings = BackendConfig(
            backend="transformers", model=model, adapter=str(folder) if folder else None
        )
    key = f"backend:{settings.backend}:{settings.base_url}:{settings.model}:{settings.adapter}"
    if key not in cache:
        cache[key] = make_backend(settings)
    return cache[key]


def _agent(config: BenchConfig, spec: UnitSpec, env: Any, cache: dict[str, Any]) -> Any:
    from agents.factory import make_agent

    agent_spec = config.agent(spec.agent)
    key = f"agent:{spec.agent}" + (f":{spec.env}" if agent_spec.kind == "walkthrough" else "")
    if key not in cache:
        backend = agent_config = None
        if agent_spec.kind == "llm":
            from agents.llm_agent import LLMAgentConfig

            backend = make_backend_for(agent_spec, config, cache)
            agent_config = LLMAgentConfig(**agent_spec.options)
        cache[key] = make_agent(
            agent_spec.kind, env, seed=reset_seed(spec), route=agent_spec.route,
            backend=backend, agent_config=agent_config,
        )  # fmt: skip
    return cache[key]


def _env(config: BenchConfig, name: str, cache: dict[str, Any]) -> Any:
    key = f"env:{name}"
    if key not in cache:
        from s2b_env.registration import make

        spec = config.env(name)
        cache[key] = make(spec.id, games_dir=config.games_dir, **spec.kwargs)
    return cache[key]


def _judge(config: BenchConfig, cache: dict[str, Any]) -> Any:
    if "judge" not in cache:
        from agents.judge.judge import ValueJudge

        assert config.judge is not None
        backend = make_backend_for(config.judge, config, cache)
        options = (
            {"prompt_format": config.judge.prompt_version} if config.judge.prompt_version else {}
        )
        cache["judge"] = ValueJudge(backend, **options)
    return cache["judge"]


def play_unit(config: BenchConfig, spec: UnitSpec, cache: dict[str, Any]) -> dict[str, Any]:
    """Play one unit and return its record (a line of ``units.jsonl``, status ``ok``).

    Args:
        config: The bench.
        spec: The unit.
        cache: The worker's envs, agents and backends, reused across units (start with ``{}``;
            :func:`close_cache` frees it).

    Raises:
        Whatever the env, the agent or the model raise (the executor decides what is fatal).
    """
    from agents.engine import run_episodes

    started = time.perf_counter()
    env = _env(config, spec.env, cache)
    agent = _agent(config, spec, env, cache)
    verdicts = VerdictCounter()
    observers: list[EpisodeObserver] = [verdicts]
    if config.judge is not None:
        from agents.judge.observer import JudgeObserver

        observers.append(JudgeObserver(_judge(config, cache), batch=config.judge.batch))
    seed = reset_seed(spec)
    summary = run_episodes(
        env,
        agent,
        episodes=1,
        seed=seed,
        max_steps=config.env(spec.env).max_steps,
        observers=observers,
    )
    result = summary.episodes[0].to_dict()
    judged = result.get("metrics", {}).get("judged_value_totals")
    return {
        **_record_head(spec, summary.env_id),
        "status": "ok",
        "attempts": 1,
        "error": None,
        "result": result,
        "verdicts": verdicts.result(),
        "judged": judged,
        "seconds": round(time.perf_counter() - started, 3),
    }


def failed_record(config: BenchConfig, spec: UnitSpec, error: str, attempts: int) -> dict[str, Any]:
    """The record of a unit that failed ``attempts`` times (``error``: one line)."""
    return {
        **_record_head(spec, _env_id(config, spec.env)),
        "status": "failed",
        "attempts": attempts,
        "error": " ".join(str(error).split())[:500],
        "result": None,
        "verdicts": None,
        "judged": None,
        "seconds": 0.0,
    }


def _record_head(spec: UnitSpec, env_id: str) -> dict[str, Any]:
    """The fields every unit record starts with: what the unit is."""
    return {
        "type": "unit",
        "format": RECORD_FORMAT,
        "unit_id": spec.unit_id,
        "agent": spec.agent,
        "env": spec.env,
        "env_id": env_id,
        "seed": spec.seed,
        "episode": spec.episode,
        "reset_seed": reset_seed(spec),
    }


def _env_id(config: BenchConfig, name: str) -> str:
    spec = config.env(name)
    try:
        return spec.env_id(config.games_dir)
    except Exception:
        return spec.id


def close_cache(cache: dict[str, Any]) -> None:
    """Close the envs and backends a worker holds."""
    for key, value in list(cache.items()):
        closer = getattr(value, "close", None)
        if closer is not None and key.startswith(("env:", "backend:")):
            with contextlib.suppress(Exception):
                closer()
    cache.clear()


__all__ = [
    "RECORD_FORMAT",
    "UnitSpec",
    "VerdictCounter",
    "close_cache",
    "failed_record",
    "make_backend_for",
    "plan_units",
    "play_unit",
    "reset_seed",
]
