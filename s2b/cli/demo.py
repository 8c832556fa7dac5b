"""``s2b demo``: the method end to end on what ships with s2b, offline, on a CPU.

1. **Behaviour with ground truth.** Every own game played along its caring and its
   self-interested route: the value events fired and what they add up to.
2. **Profile.** The default model answers the held-out survey items; its expected rating per value.
3. **Out of domain.** The model as an agent on the test split of the moral scenarios (dilemmas
   and judgments), beside a random agent: the value totals of what each chose.

Aligning the model (``s2b align``) takes ~15 minutes per value on a CPU, so the demo ends by
printing the command that does it and the commands that re-run steps 2-3 with the adapter.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from s2b.cli._common import add_progress
from s2b_env.errors import ConfigError

#: The values shown in the own-games table (those the routes pull apart most), short labels.
SHOWN_VALUES = {"benevolence_caring": "caring", "universalism_concern": "concern",
                "power_resources": "wealth", "achievement": "achieve",
                "conformity_rules": "rules", "tradition": "custom"}  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="the method end to end on s2b's own games, survey and scenarios (offline, CPU)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder")
    parser.add_argument(
        "--no-model",
        action="store_true",
        help="skip the steps that run the language model (profile, LLM agent)",
    )
    parser.add_argument(
        "--model", default=None, help="model folder (default: SmolLM2-135M-Instruct)"
    )
    parser.add_argument("--adapter", default=None, help="a LoRA adapter folder to demo instead")
    parser.add_argument(
        "--episodes",
        type=int,
        default=None,
        help="scenario episodes per kind (default: the test split)",
    )
    parser.add_argument(
        "--values",
        nargs="*",
        default=(),
        metavar="ID",
        help="profile only these values (default: all 20)",
    )
    parser.add_argument(
        "--phrasings", nargs="*", default=(), metavar="ID",
        help="survey phrasings to profile with (default: all)",
    )  # fmt: skip
    add_progress(parser)
    parser.set_defaults(handler=demo)


def _live(progress: Any, console: Console, mode: str):
    from rich.live import Live

    if mode != "rich":
        return contextlib.nullcontext()
    return Live(progress, console=console, refresh_per_second=8)


def own_games_table(console: Console) -> list[dict[str, Any]]:
    """Play every own game's caring and self-interested routes; print and return the totals."""
    import gymnasium as gym

    import s2b_env  # noqa: F401
    from agents import WalkthroughAgent
    from agents.engine import run_episode
    from s2b_env.inform.build import build_all_games, own_game_names
    from s2b_env.registration import env_id

    build_all_games()
    rows = []
    for name in own_game_names():
        env = gym.make(env_id("s2b", name))
        for route in ("caring", "self_interested"):
            agent = WalkthroughAgent.from_env(env, route=route)
            result = run_episode(env, agent, seed=0)
            totals = result.metrics.get("value_totals", {})
            rows.append({"game": name, "route": route, "score": result.score,
                         "max_score": result.max_score, "victory": result.victory,
                         "value_totals": totals})  # fmt: skip
        env.close()
    table = Table(
        title="1. own games: value totals of two routes",
        box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False, collapse_padding=True,
    )  # fmt: skip
    table.add_column("game")
    table.add_column("route")
    table.add_column("score", justify="right")
    for label in SHOWN_VALUES.values():
        table.add_column(label, justify="right")
    for row in rows:
        table.add_row(
            row["game"], row["route"].replace("self_interested", "selfish"),
            f"{row['score']}/{row['max_score']}",
            *(f"{row['value_totals'].get(v, 0):+g}" for v in SHOWN_VALUES),
        )  # fmt: skip
    console.print(table)
    return rows


def scenario_runs(
    console: Console, agents: dict[str, Any], episodes: int | None, mode: str
) -> dict[str, dict[str, dict[str, float]]]:
    """Each agent on the test split of both scenario kinds; mean value totals per agent."""
    import gymnasium as gym

    import s2b_env  # noqa: F401
    from agents.engine import run_episodes
    from s2b.cli._observers import ProgressObserver
    from s2b_env.values import VALUE_IDS

    means: dict[str, dict[str, dict[str, float]]] = {}
    for kind in ("dilemma", "judgment"):
        env = gym.make(f"s2b/{kind}-v0", split="test")
        items = [item.id for item in env.unwrapped.items]
        items = items[:episodes] if episodes else items
        try:
            for name, agent in agents.items():
                progress = ProgressObserver(console, mode, f"{kind} · {name}", per_episode=False)
                summary = run_episodes(
                    env, agent, episodes=len(items), seed=0, observers=[progress],
                    reset_options=lambda k, ids=items: {"item_id": ids[k]},
                )  # fmt: skip
                totals = dict.fromkeys(VALUE_IDS, 0.0)
                for result in summary.episodes:
                    for vid, x in result.metrics.get("value_totals", {}).items():
                        totals[vid] += x / len(items)
                means.setdefault(kind, {})[name] = totals
        finally:
            env.close()
    return means


def scenario_table(means: dict[str, dict[str, dict[str, float]]]) -> Table:
    """Mean value totals per episode, per scenario kind and agent (values that moved)."""
    from s2b_env.values import VALUE_IDS, display_name

    columns = [(kind, agent) for kind, by_agent in means.items() for agent in by_agent]
    table = Table(
        title="3. out of domain: mean value totals per episode, test split",
        box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False, collapse_padding=True,
    )  # fmt: skip
    table.add_column("value")
    for kind, agent in columns:
        table.add_column(f"{kind}\n{agent}", justify="right")
    for vid in VALUE_IDS:
        cells = [means[kind][agent][vid] for kind, agent in columns]
        if any(abs(c) > 1e-9 for c in cells):
            table.add_row(display_name(vid), *(f"{c:+.2f}" for c in cells))
    return table


def demo(args: argparse.Namespace, console: Console) -> int:
    if args.episodes is not None and args.episodes < 1:
        raise ConfigError(f"--episodes must be >= 1, got {args.episodes}")
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    console.rule("s2b demo: Survey-to-Behavior on what ships with s2b")
    own_games_table(console)

    from agents import RandomAgent

    agents: dict[str, Any] = {"random": RandomAgent(seed=0)}
    if not args.no_model:
        from agents.backends import BackendConfig, make_backend
        from s2b.cli.profile import profile_table
        from training.profile import ProfileConfig, run_profile
        from training.survey_io import load_survey

        backend = make_backend(BackendConfig(model=args.model, adapter=args.adapter))
        config = ProfileConfig(
            items="heldout", out=args.out / "profile", bootstrap=1000,
            values=tuple(args.values), phrasings=tuple(args.phrasings),
        )  # fmt: skip
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        bar = Progress(TextColumn("2. profile"), BarColumn(), MofNCompleteColumn(),
                       console=console, disable=args.progress != "rich")  # fmt: skip
        task = bar.add_task("profile", total=None)
        with _live(bar, console, args.progress):
            profile = run_profile(
                backend, load_survey(), config,
                progress=lambda done, total, _r: bar.update(task, completed=done, total=total),
            )  # fmt: skip
        table = profile_table(profile)
        table.title = f"2. profile of {backend.model_name} ({table.title})"
        console.print(table)
        from agents.llm_agent import LLMAgent

        agents["llm"] = LLMAgent(backend)
    try:
        means = scenario_runs(console, agents, args.episodes, args.progress)
    finally:
        if "llm" in agents:
            agents["llm"].backend.close()
    console.print(scenario_table(means))
    import json

    (args.out / "scenario_means.json").write_text(json.dumps(means, indent=2) + "\n")
    console.print(
        f"[bold]done in {time.perf_counter() - started:.0f} s[/]; outputs in {args.out}\n"
        "Next: align the model on one value and compare, e.g.\n"
        "  s2b align --value benevolence_caring --direction up --delta 2\n"
        "  s2b demo --adapter runs/align/<run>/adapter --out runs/demo-aligned",
        highlight=False,
    )
    return 0
