"""``s2b play ENV``: play a game in the terminal, or watch an agent play it.

A person is an agent (:class:`agents.HumanAgent`, reading the terminal) and the screen is an
observer (:class:`PlayScreen`): the episode runs in the engine like every other.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from rich.console import Console
from rich.text import Text

from agents.engine import EpisodeObserver, EpisodeResult, StepEvent
from s2b.cli._common import (
    add_agent_options,
    add_env_options,
    check_agent_options,
    close_agent,
    env_name,
    make_agent,
    make_env,
    parse_env_args,
)
from s2b_env.jiminy.data import LABEL_COMPONENTS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "play",
        help="play a game yourself (or watch an agent) with score, moves and labels shown",
        description="Play ENV in the terminal. ENV is an id (s2b/jericho-zork1-v0) or a short "
        "name (zork1, jiminy-zork1, s2b-<name>, judgment). Type /quit or Ctrl-D to stop.",
    )
    add_env_options(parser)
    add_agent_options(parser, default="human")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds between an agent's moves (default 0)"
    )
    parser.set_defaults(handler=play)


def describe_step(info: dict[str, Any], reward: float | None = None) -> list[Text]:
    """The lines shown under an observation: status, labels as they fire, errors, warnings."""
    lines: list[Text] = []
    parts = []
    if info.get("score") is not None:
        score = f"score {info['score']}"
        if info.get("max_score") is not None:
            score += f"/{info['max_score']}"
        parts.append(score)
    if info.get("moves") is not None:
        parts.append(f"moves {info['moves']}")
    if reward:
        parts.append(f"reward {reward:+g}")
    if info.get("location"):
        parts.append(str(info["location"]))
    if parts:
        lines.append(Text(" · ".join(parts), style="dim"))
    morality = info.get("morality")
    if morality is not None and any(morality):
        fired = ", ".join(
            f"{k} {v:g}" for k, v in zip(LABEL_COMPONENTS, morality, strict=False) if v
        )
        events = info.get("morality_events") or []
        names = "; ".join(
            str(e.get("description", e)) if isinstance(e, dict) else str(e) for e in events
        )
        lines.append(
            Text(f"[morality] {fired}" + (f" — {names}" if names else ""), style="magenta")
        )
    for event in info.get("value_events") or []:
        desc = event.get("description", event.get("id")) if isinstance(event, dict) else event
        lines.append(Text(f"[value event] {desc}", style="cyan"))
    effects = info.get("value_effects")
    if effects:
        items = effects.to_dict() if hasattr(effects, "to_dict") else dict(effects)
        moved = ", ".join(f"{k} {v:+g}" for k, v in items.items() if v)
        if moved:
            lines.append(Text(f"[values] {moved}", style="cyan"))
    if info.get("error"):
        lines.append(Text(f"[error] {info['error']}", style="red"))
    if info.get("refused"):
        lines.append(Text("[refused: the game did not receive this command]", style="yellow"))
    for warning in info.get("warnings") or []:
        lines.append(Text(f"[warning] {warning}", style="yellow"))
    return lines


class PlayScreen(EpisodeObserver):
    """The player's screen: each observation with its status, labels, errors and warnings.

    Args:
        console: Where to show it.
        title: The rule's title (the env id).
        echo: Show the agent's actions (a person's own typing is already on the screen).
        delay: Seconds to wait after each of an agent's moves.
    """

    def __init__(self, console: Console, title: str, *, echo: bool, delay: float = 0.0) -> None:
        self.console = console
        self.title = title
        self.echo = echo
        self.delay = delay

    def _show(self, observation: str, info: dict[str, Any], reward: float | None = None) -> None:
        self.console.print(observation, markup=False, highlight=False)
        for line in describe_step(info, reward):
            self.console.print(line)

    def on_episode_start(
        self, episode_id: int, seed: int | None, observation: str, info: dict[str, Any]
    ) -> None:
        self.console.rule(self.title)
        self._show(observation, info)

    def on_step(self, event: StepEvent) -> None:
        if self.echo:
            self.console.print(Text(f"> {event.action}", style="bold"))
            if event.choice is not None and len(event.choice.candidates) > 1:
                from s2b.cli.view import considered_line, step_view

                view = step_view(
                    env_id=self.title, episode_id=event.episode_id, step=event.step,
                    observation=event.observation, action=event.action,
                    choice=event.choice.to_dict(), reward=event.reward, info=event.info,
                    total_reward=0.0,
                )  # fmt: skip
                self.console.print(Text(considered_line(view), style="dim"))
        self._show(event.next_observation, event.info, event.reward)
        if event.terminated or event.truncated:
            ended = "The game is over" if event.terminated else "Time limit reached"
            self.console.print(f"[bold]{ended}.[/]")
        elif self.delay > 0:
            time.sleep(self.delay)

    def on_episode_end(self, result: EpisodeResult) -> None:
        if result.end_reason == "agent" and result.end_detail:
            self.console.print(f"[dim]({result.end_detail})[/]")
        scored = "" if result.score is None else f", score {result.score}"
        self.console.print(
            f"[bold]{result.steps} actions, total reward {result.total_reward:g}{scored}[/]"
        )


def play(args: argparse.Namespace, console: Console) -> int:
    from agents.engine import run_episodes

    name = env_name(args)
    check_agent_options(args)
    if args.delay < 0:
        from s2b_env.errors import ConfigError

        raise ConfigError(f"--delay must be >= 0 seconds, got {args.delay}")
    env = make_env(
        name, args.games_dir, parse_env_args(args.env_arg),
        step_timeout=args.step_timeout or None,
    )  # fmt: skip
    agent = None
    try:
        agent = make_agent(
            args.agent, env, seed=args.seed, walkthrough=args.walkthrough, route=args.route,
            args=args, read=lambda prompt: console.input(f"[bold]{prompt}[/]"),
        )  # fmt: skip
        screen = PlayScreen(
            console, env.spec.id if env.spec else name, echo=args.agent != "human",
            delay=args.delay,
        )  # fmt: skip
        run_episodes(
            env, agent, episodes=1, seed=args.seed, max_steps=args.max_steps, observers=[screen]
        )
    finally:
        env.close()
        if agent is not None:
            close_agent(agent)
    return 0
