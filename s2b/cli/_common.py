"""Options and pieces shared by the ``s2b`` subcommands, each defined once.

Every command that plays episodes (``run``, ``play``) takes the same environment options
(:func:`add_env_options`: ``ENV`` or ``--env``, ``--games-dir``, ``--env-arg KEY=VALUE`` repeated,
``--step-timeout``), the same agent options (:func:`add_agent_options`: ``--agent`` with the same
choices, ``--seed``, ``--walkthrough``, ``--route``, ``--max-steps``, the model options) and, where
there is a progress display, the same ``--progress`` (:func:`add_progress`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from s2b.cli._args import seed_value
from s2b_env.errors import ConfigError

PROGRESS_MODES = ("rich", "plain", "off")
#: Who can play, in every command that plays: a person at the terminal, or an agent.
AGENTS = ("human", "random", "walkthrough", "llm")
#: The help of ``--agent``, the same in every command.
AGENT_HELP = "who plays: human (you, at the terminal), random, walkthrough, or llm (a model)"


# --------------------------------------------------------------------------- options


def add_games_dir(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--games-dir`` (default: ``S2B_GAMES_DIR``)."""
    parser.add_argument(
        "--games-dir",
        type=Path,
        default=None,
        help="directory holding jericho/ story files and jiminy-cricket/ games "
        "(default: the S2B_GAMES_DIR setting)",
    )


def add_progress(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--progress {rich,plain,off}`` (see :func:`progress_mode` for how it resolves)."""
    parser.add_argument(
        "--progress",
        choices=PROGRESS_MODES,
        default="rich",
        help="progress display: a live bar with ETA, plain log lines, or nothing; a live bar "
        "needs a terminal, so without one rich prints plain lines (default: rich)",
    )


def progress_mode(requested: str, console: Any) -> str:
    """The progress mode to use: ``rich`` becomes ``plain`` when the console is no terminal.

    Raises:
        ConfigError: ``requested`` is not one of :data:`PROGRESS_MODES`.
    """
    if requested not in PROGRESS_MODES:
        raise ConfigError(f"--progress: expected one of {', '.join(PROGRESS_MODES)}, "
                          f"got {requested!r}")  # fmt: skip
    if requested == "rich" and not getattr(console, "is_terminal", False):
        return "plain"
    return requested


def add_env_options(parser: argparse.ArgumentParser) -> None:
    """Add the environment: ``ENV`` (positional) or ``--env ENV``, ``--games-dir``,
    ``--env-arg KEY=VALUE`` (one pair each, repeatable) and ``--step-timeout``."""
    group = parser.add_argument_group("environment")
    group.add_argument(
        "env_positional",
        nargs="?",
        default=None,
        metavar="ENV",
        help="environment id or short name: s2b/jericho-zork1-v0, zork1, jiminy-zork1, "
        "s2b-<name>, dilemma, judgment (or give it with --env)",
    )
    group.add_argument("--env", default=None, help="the environment (same as ENV)")
    add_games_dir(group)
    group.add_argument(
        "--env-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment keyword, one KEY=VALUE per option, repeatable; VALUE is read as "
        'JSON when it parses (true, 3, "text"), else as a string. Example: --env-arg '
        "inventory=true --env-arg valid_actions=true",
    )
    group.add_argument(
        "--step-timeout",
        type=float,
        default=30.0,
        help="stop a game command that runs longer than this many seconds, restore the game and "
        "report it (0: no watchdog; default: 30)",
    )


def env_name(args: argparse.Namespace) -> str:
    """The environment named by ``ENV`` or ``--env``.

    Raises:
        ConfigError: Neither or two different ones were given.
    """
    positional, option = getattr(args, "env_positional", None), getattr(args, "env", None)
    if positional and option and positional != option:
        raise ConfigError(f"the environment was given twice ({positional!r} and --env {option!r});"
                          " give it once")  # fmt: skip
    name = positional or option
    if not name:
        raise ConfigError("no environment given: name one, e.g. `zork1` or --env dilemma "
                          "(`s2b games list` shows them)")  # fmt: skip
    return name


def add_agent_options(parser: argparse.ArgumentParser, *, default: str) -> None:
    """Add ``--agent`` (the same choices everywhere), ``--seed``, ``--walkthrough``, ``--route``,
    ``--max-steps`` and the model options of ``--agent llm``."""
    group = parser.add_argument_group("agent")
    group.add_argument(
        "--agent", choices=AGENTS, default=default, help=f"{AGENT_HELP} (default: {default})"
    )
    group.add_argument(
        "--seed",
        type=seed_value,
        default=0,
        help="reset seed of episode 0 (and the agent's); episode i uses seed + i (default: 0)",
    )
    group.add_argument(
        "--walkthrough", type=Path, default=None, help="walkthrough file for --agent walkthrough"
    )
    group.add_argument("--route", default=None, help="which of the game's own walkthroughs to play")
    group.add_argument(
        "--max-steps", type=int, default=None, help="stop each episode after this many actions"
    )
    add_model_args(parser)


def check_agent_options(args: argparse.Namespace) -> None:
    """Checks of the agent options that argparse cannot do.

    Raises:
        ConfigError: Naming the option.
    """
    if args.max_steps is not None and args.max_steps < 1:
        raise ConfigError(f"--max-steps must be >= 1, got {args.max_steps}")
    if args.walkthrough is not None and args.agent != "walkthrough":
        raise ConfigError("--walkthrough is only for --agent walkthrough")
    if args.step_timeout < 0:
        raise ConfigError(f"--step-timeout must be >= 0 seconds, got {args.step_timeout}")


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

    backend = asdict(dataclass_from_args(BackendConfig, args))
    backend.pop("api_key", None)  # a secret: never in a run id or a trajectory header
    return {"backend": backend, "agent": asdict(dataclass_from_args(LLMAgentConfig, args))}


# --------------------------------------------------------------------------- building things


def parse_env_args(pairs: list[str]) -> dict[str, Any]:
    """Turn ``["inventory=true", "split=test"]`` into keywords.

    Raises:
        ConfigError: A pair has no ``=`` or an empty key.
    """
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--env-arg expects KEY=VALUE, got {pair!r}")
        try:
            kwargs[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key.strip()] = value
        except RecursionError:
            raise ConfigError(
                f"--env-arg {key.strip()}: the value is nested too deeply to read as JSON; "
                "pass a flat value (a number, true/false, a string or a short list)"
            ) from None
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

    Raises:
        GameNotFoundError: No env has that name (the message lists the closest ids).
        ConfigError: An ``--env-arg`` keyword the env does not take.
    """
    import gymnasium

    import s2b_env  # registers the ids
    from s2b_env.errors import GameNotFoundError
    from s2b_env.registration import accepts_kwarg, make, resolve_env_id

    s2b_env.register_games_dir(games_dir)
    try:
        env_id = resolve_env_id(name)
    except gymnasium.error.Error as exc:
        raise GameNotFoundError(str(exc)) from None
    for key in env_args:
        if not accepts_kwarg(env_id, key):
            raise ConfigError(f"--env-arg {key}=...: {env_id} takes no keyword {key!r}")
    if (
        step_timeout is not None
        and "step_timeout" not in env_args
        and accepts_kwarg(env_id, "step_timeout")
    ):
        kwargs["step_timeout"] = step_timeout
    return make(env_id, games_dir=games_dir, **env_args, **kwargs)


def make_agent(
    name: str,
    env: Any,
    *,
    seed: int | None,
    walkthrough: Path | None,
    route: str | None,
    args: argparse.Namespace | None = None,
    read: Any = None,
):
    """Build an agent by name (see :func:`agents.factory.make_agent`) from the CLI's options.

    Raises:
        ConfigError: Unknown agent name, the llm agent without model options, or a walkthrough
            agent for a game without one.
    """
    from agents.factory import make_agent as build

    backend_config = agent_config = None
    if name == "llm":
        if args is None:
            raise ConfigError("the llm agent needs the model options (--backend, --model, ...)")
        from agents.backends import BackendConfig
        from agents.llm_agent import LLMAgentConfig
        from s2b.cli._args import dataclass_from_args

        backend_config = dataclass_from_args(BackendConfig, args)
        agent_config = dataclass_from_args(LLMAgentConfig, args)
    return build(
        name, env, seed=seed, walkthrough=walkthrough, route=route,
        backend_config=backend_config, agent_config=agent_config, read=read,
    )  # fmt: skip


def close_agent(agent: Any) -> None:
    """Free what an agent holds (the llm agent's model or server connection)."""
    from agents.factory import close_agent as close

    close(agent)
