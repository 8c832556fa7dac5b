"""``s2b run``: episodes of an agent in an environment, with trajectories and a summary table.

The episodes are played by the engine (:func:`agents.engine.run_episodes`), which also writes
``OUT/trajectory.jsonl`` and ``OUT/summary.json`` and resumes; this module parses the options,
builds the env and the agent, and prints the tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from s2b.cli._common import (
    add_agent_options,
    add_env_options,
    add_progress,
    check_agent_options,
    close_agent,
    env_name,
    make_agent,
    make_env,
    model_settings,
    parse_env_args,
    progress_mode,
)
from s2b_env.errors import ConfigError

#: Short column labels of episode metrics in the summary table (80 columns).
METRIC_LABELS = {"immorality": "immoral", "bad_self": "bad-s", "good_others": "good-o",
                 "good_self": "good-s"}  # fmt: skip
#: How the summary table shows why an episode ended.
END_LABELS = {"terminated": "over", "truncated": "time", "agent": "agent", "max_steps": "limit"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run agent episodes, write trajectories, print a summary table",
        description="Run --episodes episodes of --agent in ENV. Trajectories (JSON Lines, "
        "format v1) go to OUT/trajectory.jsonl, flushed every step, and a summary to "
        "OUT/summary.json; --resume continues an interrupted run.",
    )
    add_env_options(parser)
    add_agent_options(parser, default="random")
    group = parser.add_argument_group("run")
    group.add_argument("--episodes", type=int, default=1, help="number of episodes (default: 1)")
    group.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder for trajectory.jsonl and summary.json (none: no files)",
    )
    group.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="continue the run in --out, skipping finished episodes",
    )
    add_progress(group)
    group.add_argument(
        "--quiet",
        action="store_true",
        help="with --progress plain: one line per episode instead of one per step",
    )
    parser.set_defaults(handler=run)


def run_config(args: argparse.Namespace) -> dict[str, Any]:
    """What, besides env, seed and limits, determines the episodes (part of the run id)."""
    return {
        "agent": args.agent,
        "env_args": parse_env_args(list(args.env_arg)),
        "walkthrough": None if args.walkthrough is None else str(args.walkthrough),
        "route": args.route,
        "step_timeout": args.step_timeout,
        "model": model_settings(args) if args.agent == "llm" else None,
    }


def summary_table(results: list[dict[str, Any]], title: str) -> Table:
    """The per-episode results table, with a mean row when there are several episodes."""
    metric_keys: list[str] = []
    for r in results:
        for key, value in r.get("metrics", {}).items():
            if isinstance(value, int | float) and key not in metric_keys:
                metric_keys.append(key)
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
        collapse_padding=True,
    )  # fmt: skip
    labels = [METRIC_LABELS.get(k, k) for k in metric_keys]
    for name in ["ep", "seed", "steps", "return", "score", "%done", "end", *labels]:
        table.add_column(name, justify="left" if name == "end" else "right")

    def fmt(x: Any) -> str:
        if x is None:
            return "-"
        if isinstance(x, float):
            return f"{x:.1f}" if abs(x - round(x)) > 1e-9 else str(round(x))
        return str(x)

    for r in results:
        score = fmt(r["score"]) + (
            f"/{fmt(r['max_score'])}" if r.get("max_score") is not None else ""
        )
        table.add_row(
            str(r["episode_id"]), fmt(r["seed"]), str(r["steps"]), fmt(r["total_reward"]), score,
            fmt(r.get("percent_completion")), END_LABELS.get(r["end_reason"], r["end_reason"]),
            *(fmt(r.get("metrics", {}).get(k)) for k in metric_keys),
        )  # fmt: skip
    if len(results) > 1:

        def mean(key: str, metric: bool = False) -> str:
            values = [(r.get("metrics", {}) if metric else r).get(key) for r in results]
            values = [v for v in values if isinstance(v, int | float)]
            return fmt(sum(values) / len(values)) if values else "-"

        table.add_section()
        table.add_row(
            "mean", "", mean("steps"), mean("total_reward"), mean("score"),
            mean("percent_completion"), "", *(mean(k, metric=True) for k in metric_keys),
        )  # fmt: skip
    return table


def value_table(results: list[dict[str, Any]]) -> Table | None:
    """Per-value totals over the episodes (mean, min, max), for envs that report value effects."""
    from s2b_env.values import VALUE_IDS, display_name

    totals = [
        r["metrics"]["value_totals"] for r in results if r.get("metrics", {}).get("value_totals")
    ]
    if not totals:
        return None
    table = Table(title=f"value totals per episode ({len(totals)} episodes)", title_justify="left")
    for name in ("value", "mean", "min", "max"):
        table.add_column(name, justify="left" if name == "value" else "right")
    for vid in VALUE_IDS:
        xs = [float(t.get(vid, 0.0)) for t in totals]
        if any(xs):
            table.add_row(
                display_name(vid), f"{sum(xs) / len(xs):+.2f}", f"{min(xs):+g}", f"{max(xs):+g}"
            )
    return table


def run(args: argparse.Namespace, console: Console) -> int:
    from agents.engine import run_episodes
    from s2b.cli.view import LiveView

    name = env_name(args)
    check_agent_options(args)
    if args.episodes < 1:
        raise ConfigError(f"--episodes must be >= 1, got {args.episodes}")
    if args.resume and args.out is None:
        raise ConfigError("--resume needs --out DIR (the run to continue)")
    config = run_config(args)
    mode = progress_mode(args.progress, console)
    env = make_env(name, args.games_dir, config["env_args"], step_timeout=args.step_timeout or None)
    agent = None
    try:
        agent = make_agent(
            args.agent, env, seed=args.seed, walkthrough=args.walkthrough, route=args.route,
            args=args, read=lambda prompt: console.input(f"[bold]{prompt}[/]"),
        )  # fmt: skip
        summary = run_episodes(
            env, agent, episodes=args.episodes, seed=args.seed, max_steps=args.max_steps,
            out_dir=args.out, resume=args.resume, config=config,
            observers=[LiveView(console, mode, quiet=args.quiet)],
        )  # fmt: skip
    finally:
        env.close()
        if agent is not None:
            close_agent(agent)  # the llm agent's model: free it now
    results = [e.to_dict() for e in summary.episodes]
    title = f"{summary.env_id} · {args.agent} · {len(results)} episodes"
    console.print(summary_table(results, title))
    values = value_table(results)
    if values is not None:
        console.print(values)
    if args.out is not None:
        console.print(f"[dim]trajectory: {args.out / 'trajectory.jsonl'}[/]")
    return 0
