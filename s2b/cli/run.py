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
#: Episode metrics of ``--judge``: shown in their own table (:func:`judge_table`).
JUDGED_KEYS = ("judged_harm_others", "judged_harm_self")
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
    from s2b.cli.score import add_run_judge_args

    add_run_judge_args(parser)
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
            if isinstance(value, int | float) and key not in metric_keys + list(JUDGED_KEYS):
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


def judge_table(results: list[dict[str, Any]]) -> Table | None:
    """With ``--judge``: per episode, the judge's expected harmful steps beside the env's labels
    (the Jiminy ``immorality`` and ``bad_self``, where the env has them), with a mean row."""
    judged = [r for r in results if "judged_harm_others" in r.get("metrics", {})]
    if not judged:
        return None
    first = judged[0]["metrics"]
    labelled = [k for k in ("immorality", "bad_self") if k in first]
    table = Table(
        title=f"judged by {first.get('judge', '?')} ({first.get('judge_prompt_version', '?')}): "
        "expected harmful steps",
        title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
    )  # fmt: skip
    columns = ["ep", "steps", *(METRIC_LABELS.get(k, k) for k in labelled),
               "judged harm-o", "judged harm-s"]  # fmt: skip
    for name in columns:
        table.add_column(name, justify="right")
    keys = [*labelled, *JUDGED_KEYS]
    for r in judged:
        m = r["metrics"]
        table.add_row(str(r["episode_id"]), str(r["steps"]), *(f"{float(m[k]):.1f}" for k in keys))
    if len(judged) > 1:
        table.add_section()
        means = [sum(float(r["metrics"][k]) for r in judged) / len(judged) for k in keys]
        steps = sum(r["steps"] for r in judged) / len(judged)
        table.add_row("mean", f"{steps:.1f}", *(f"{x:.1f}" for x in means))
    return table


def value_table(results: list[dict[str, Any]]) -> Table | None:
    """Per-value totals over the episodes (mean, min, max): the env's hand-labelled ones
    (``value_totals``) and, with ``--judge``, the judge's (``judged_value_totals``) beside them."""
    from s2b_env.values import VALUE_IDS, display_name

    def totals_of(key: str) -> list[dict[str, float]]:
        return [r["metrics"][key] for r in results if r.get("metrics", {}).get(key)]

    labelled, judged = totals_of("value_totals"), totals_of("judged_value_totals")
    if not labelled and not judged:
        return None
    kinds = " and ".join(k for k, xs in (("labelled", labelled), ("judged", judged)) if xs)
    title = f"value totals per episode ({max(len(labelled), len(judged))} episodes)"
    if judged:
        title = title[:-1] + f"; {kinds})"
    table = Table(title=title, title_justify="left")
    columns = ["value"]
    if labelled:
        columns += ["mean", "min", "max"]
    if judged:
        columns += ["judged mean", "judged min", "judged max"]
    for name in columns:
        table.add_column(name, justify="left" if name == "value" else "right")
    for vid in VALUE_IDS:
        row = [display_name(vid)]
        xs = [float(t.get(vid, 0.0)) for t in labelled]
        js = [float(t.get(vid, 0.0)) for t in judged]
        if labelled:
            row += [f"{sum(xs) / len(xs):+.2f}", f"{min(xs):+g}", f"{max(xs):+g}"]
        if judged:
            row += [f"{sum(js) / len(js):+.2f}", f"{min(js):+.2f}", f"{max(js):+.2f}"]
        if any(xs) or judged:
            table.add_row(*row)
    return table


def run(args: argparse.Namespace, console: Console) -> int:
    from agents.engine import run_episodes
    from s2b.cli.score import make_run_judge
    from s2b.cli.view import LiveView

    name = env_name(args)
    check_agent_options(args)
    if args.episodes < 1:
        raise ConfigError(f"--episodes must be >= 1, got {args.episodes}")
    if args.resume and args.out is None:
        raise ConfigError("--resume needs --out DIR (the run to continue)")
    config = run_config(args)
    mode = progress_mode(args.progress, console)
    judge = make_run_judge(args)  # a bad judge option is refused before the env starts
    observers = [] if judge is None else [_judge_observer(judge, args, console)]
    try:
        env = make_env(
            name, args.games_dir, config["env_args"], step_timeout=args.step_timeout or None
        )
    except BaseException:
        _close_judge(judge)
        raise
    agent = None
    try:
        agent = make_agent(
            args.agent, env, seed=args.seed, walkthrough=args.walkthrough, route=args.route,
            args=args, read=lambda prompt: console.input(f"[bold]{prompt}[/]"),
        )  # fmt: skip
        summary = run_episodes(
            env, agent, episodes=args.episodes, seed=args.seed, max_steps=args.max_steps,
            out_dir=args.out, resume=args.resume, config=config,
            observers=[*observers, LiveView(console, mode, quiet=args.quiet)],
        )  # fmt: skip
    finally:
        env.close()
        _close_judge(judge)
        if agent is not None:
            close_agent(agent)  # the llm agent's model: free it now
    results = [e.to_dict() for e in summary.episodes]
    title = f"{summary.env_id} · {args.agent} · {len(results)} episodes"
    console.print(summary_table(results, title))
    for extra in (judge_table(results), value_table(results)):
        if extra is not None:
            console.print(extra)
    if args.out is not None:
        console.print(f"[dim]trajectory: {args.out / 'trajectory.jsonl'}[/]")
    return 0


def _judge_observer(judge: Any, args: argparse.Namespace, console: Console) -> Any:
    """The :class:`~agents.judge.observer.JudgeObserver` of ``--judge``, showing its progress."""
    from agents.judge.observer import JudgeObserver

    def progress(episode_id: int, done: int, total: int) -> None:
        if args.progress != "off":
            console.print(f"[dim]judged {done}/{total} steps of episode {episode_id}[/]")

    return JudgeObserver(judge, batch=args.judge_batch, progress=progress)


def _close_judge(judge: Any) -> None:
    if judge is not None:
        judge.close()
        judge.backend.close()
