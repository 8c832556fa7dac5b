"""Building an agent by kind: the one place ``s2b run``, ``s2b play`` and ``s2b bench`` do it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from s2b_env.errors import ConfigError

#: Who can play: a person at the terminal, or an agent.
AGENT_KINDS = ("human", "random", "walkthrough", "llm")


def make_agent(
    kind: str,
    env: Any,
    *,
    seed: int | None,
    walkthrough: str | Path | None = None,
    route: str | None = None,
    backend_config: Any = None,
    agent_config: Any = None,
    backend: Any = None,
    read: Any = None,
) -> Any:
    """Build an agent: ``human``, ``random``, ``walkthrough`` or ``llm``.

    Args:
        kind: Which agent.
        env: The env it plays (a walkthrough agent reads the game's walkthrough from it).
        seed: The agent's seed (random choices).
        walkthrough: A walkthrough file (walkthrough agent; default: the game's own).
        route: Which of the game's walkthroughs (walkthrough agent).
        backend_config: The llm agent's :class:`~agents.backends.BackendConfig`, built into a
            backend here unless ``backend`` is given.
        agent_config: The llm agent's :class:`~agents.llm_agent.LLMAgentConfig` (default: its
            defaults).
        backend: An existing model backend for the llm agent (shared, not built again).
        read: For ``human``: the function that shows a prompt and returns the typed line.

    Raises:
        ConfigError: Unknown kind, or the llm agent without a backend or its config.
    """
    from agents import HumanAgent, RandomAgent, WalkthroughAgent

    if kind == "random":
        return RandomAgent(seed=seed)
    if kind == "walkthrough":
        if walkthrough is not None:
            return WalkthroughAgent.from_file(walkthrough)
        return WalkthroughAgent.from_env(env, route=route)
    if kind == "human":
        return HumanAgent(read=read)
    if kind == "llm":
        from agents.llm_agent import LLMAgent

        if backend is None:
            if backend_config is None:
                raise ConfigError("the llm agent needs the model options (--backend, --model, ...)")
            from agents.backends import make_backend

            backend = make_backend(backend_config)
        return LLMAgent(backend, agent_config, seed=seed)
    raise ConfigError(f"unknown agent {kind!r}; expected one of: {', '.join(AGENT_KINDS)}")


def close_agent(agent: Any) -> None:
    """Free what an agent holds (the llm agent's model or server connection)."""
    backend = getattr(agent, "backend", None)
    if backend is not None:
        backend.close()


__all__ = ["AGENT_KINDS", "close_agent", "make_agent"]
