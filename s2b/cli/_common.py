"""Pieces shared by the ``s2b`` subcommands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

PROGRESS_MODES = ("rich", "plain", "off")


def add_games_dir(parser: argparse.ArgumentParser) -> None:
    """Add ``--games-dir`` (default: ``S2B_GAMES_DIR``)."""
    parser.add_argument(
        "--games-dir",
        type=Path,
        default=None,
        help="directory holding jericho/ story files and jiminy-cricket/ games "
        "(default: the S2B_GAMES_DIR setting)",
    )


def add_progress(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--progress {rich,plain,off}``."""
    parser.add_argument(
        "--progress",
        choices=PROGRESS_MODES,
        default="rich",
        help="progress display: a live rich bar, plain log lines, or nothing (default: rich)",
    )


def add_env_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--env-arg KEY=VALUE`` (repeatable) for environment keywords."""
    parser.add_argument(
        "--env-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment keyword, repeatable; VALUE is read as JSON when it parses "
        '(true, 3, "text"), else as a string. Example: --env-arg inventory=true',
    )


def parse_env_args(pairs: list[str]) -> dict[str, Any]:
    """Turn ``["inventory=true", "split=test"]`` into keywords.

    Raises:
        ValueError: A pair has no ``=`` or an empty key.
    """
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--env-arg expects KEY=VALUE, got {pair!r}")
        try:
            kwargs[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key.strip()] = value
    return kwargs


def make_env(
    name: str,
    games_dir: Path | None,
    env_args: dict[str, Any],
    *,
    step_timeout: float | None = None,
    **kwargs: Any,
):
    """Make an s2b env by id or short name (see :func:`s2b_env.registration.make`).

    ``step_timeout`` (seconds) is given to the envs that take one (the game envs' watchdog).
    """
    import s2b_env  # registers the ids
    from s2b_env.registration import accepts_kwarg, make, resolve_env_id

    if step_timeout is not None and "step_timeout" not in env_args:
        s2b_env.register_games_dir(games_dir)
        if accepts_kwarg(resolve_env_id(name), "step_timeout"):
            kwargs["step_timeout"] = step_timeout
    return make(name, games_dir=games_dir, **env_args, **kwargs)


def add_step_timeout(parser: argparse.ArgumentParser) -> None:
    """Add ``--step-timeout SECONDS`` (the game envs' watchdog)."""
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=30.0,
        help="stop a game command that runs longer than this many seconds, restore the game and "
        "report it (0: no watchdog; default: 30)",
    )


def add_model_args(parser: argparse.ArgumentParser) -> None:
    """Add the model options an LLM agent uses (``--backend --model --adapter --base-url`` ...)."""
    from agents.backends.base import BackendConfig
    from agents.llm_agent import LLMAgentConfig
    from s2b.cli._args import add_dataclass_args

    add_dataclass_args(parser.add_argument_group("model (with --agent llm)"), BackendConfig)
    add_dataclass_args(
        parser.add_argument_group("LLM agent (with --agent llm)"),
        LLMAgentConfig,
        exclude=("system",),
    )


def model_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The model options of ``args`` as a JSON-able dict (for run ids and trajectory headers)."""
    from dataclasses import asdict

    from agents.backends.base import BackendConfig
    from agents.llm_agent import LLMAgentConfig
    from s2b.cli._args import dataclass_from_args

    return {
        "backend": asdict(dataclass_from_args(BackendConfig, args)),
        "agent": asdict(dataclass_from_args(LLMAgentConfig, args)),
    }


def make_agent(
    name: str,
    env: Any,
    *,
    seed: int | None,
    walkthrough: Path | None,
    route: str | None,
    args: argparse.Namespace | None = None,
):
    """Build an agent by name: ``random``, ``walkthrough``, ``human`` or ``llm``.

    Raises:
        ValueError: Unknown agent name, or a walkthrough agent for a game without one.
    """
    from agents import HumanAgent, RandomAgent, WalkthroughAgent

    if name == "random":
        return RandomAgent(seed=seed)
    if name == "walkthrough":
        if walkthrough is not None:
            return WalkthroughAgent.from_file(walkthrough)
        return WalkthroughAgent.from_env(env, route=route)
    if name == "human":
        return HumanAgent()
    if name == "llm":
        if args is None:
            raise ValueError("the llm agent needs the model options (--backend, --model, ...)")
        from agents.backends.base import BackendConfig, make_backend
        from agents.llm_agent import LLMAgent, LLMAgentConfig
        from s2b.cli._args import dataclass_from_args

        backend = make_backend(dataclass_from_args(BackendConfig, args))
        return LLMAgent(backend, dataclass_from_args(LLMAgentConfig, args), seed=seed)
    raise ValueError(f"unknown agent {name!r}; expected one of: random, walkthrough, human, llm")
