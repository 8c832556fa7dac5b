"""``s2b play GAME``: play a game in the terminal, or watch an agent play it."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from s2b.cli._common import (
    add_env_args,
    add_games_dir,
    add_step_timeout,
    make_agent,
    make_env,
    parse_env_args,
)
from s2b_env.jiminy.data import LABEL_COMPONENTS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "play",
        help="play a game yourself (or watch an agent) with score, moves and labels shown",
        description="Play GAME in the terminal. GAME is an id (s2b/jericho-zork1-v0) or a short "
        "name (zork1, jiminy-zork1, s2b-<name>, judgment). Type /quit or Ctrl-D to stop.",
    )
    parser.add_argument("game", help="environment id or short name")
    add_games_dir(parser)
    parser.add_argument(
        "--agent",
        choices=("human", "random", "walkthrough"),
        default="human",
        help="who plays: you (default), or an agent you watch",
    )
    parser.add_argument("--seed", type=int, default=None, help="reset seed (and the agent's)")
    parser.add_argument("--walkthrough", type=Path, default=None, help="walkthrough file to play")
    parser.add_argument("--route", default=None, help="which of the game's walkthroughs to play")
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many actions")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds between an agent's moves (default 0)"
    )
    add_step_timeout(parser)
    add_env_args(parser)
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


def play(args: argparse.Namespace, console: Console) -> int:
    from agents import AgentFinished, HumanAgent

    env = make_env(
        args.game, args.games_dir, parse_env_args(args.env_arg),
        step_timeout=args.step_timeout or None,
    )  # fmt: skip
    try:
        if args.agent == "human":
            agent = HumanAgent(read=lambda prompt: console.input(f"[bold]{prompt}[/]"))
        else:
            agent = make_agent(
                args.agent, env, seed=args.seed, walkthrough=args.walkthrough, route=args.route
            )
        agent.reset()
        observation, info = env.reset(seed=args.seed)
        console.rule(env.spec.id if env.spec else args.game)
        console.print(observation, markup=False, highlight=False)
        for line in describe_step(info):
            console.print(line)
        steps = 0
        total = 0.0
        while args.max_steps is None or steps < args.max_steps:
            try:
                action = agent.act(observation, info)
            except AgentFinished as reason:
                console.print(f"[dim]({reason})[/]")
                break
            if args.agent != "human":
                console.print(Text(f"> {action}", style="bold"))
            observation, reward, terminated, truncated, info = env.step(action)
            steps += 1
            total += reward
            console.print(observation, markup=False, highlight=False)
            for line in describe_step(info, reward):
                console.print(line)
            if terminated or truncated:
                console.print(
                    f"[bold]{'The game is over' if terminated else 'Time limit reached'}.[/]"
                )
                break
            if args.delay > 0:
                time.sleep(args.delay)
        scored = "" if info.get("score") is None else f", score {info['score']}"
        console.print(f"[bold]{steps} actions, total reward {total:g}{scored}[/]")
    finally:
        env.close()
    return 0
