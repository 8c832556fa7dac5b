"""``s2b run``: episodes of an agent in an environment, with trajectories and a summary table."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from s2b.cli._args import add_dataclass_args, dataclass_from_args
from s2b.cli._common import (
    PROGRESS_MODES,
    add_model_args,
    make_agent,
    make_env,
    model_settings,
    parse_env_args,
)

AGENTS = ("random", "walkthrough", "llm")
#: Short column labels of episode metrics in the summary table (80 columns).
METRIC_LABELS = {"immorality": "immoral", "bad_self": "bad-s", "good_others": "good-o",
                 "good_self": "good-s"}  # fmt: skip
#: How the summary table shows why an episode ended.
END_LABELS = {"terminated": "over", "truncated": "time", "agent": "agent", "max_steps": "limit"}


@dataclass
class RunConfig:
    """What ``s2b run`` does; every field is a command-line option."""

    env: str = field(metadata={"help": "environment id or short name, e.g. s2b/jericho-zork1-v0"})
    agent: str = field(
        default="random",
        metadata={"help": "agent: random, walkthrough, or llm (a model; see the model options)"},
    )
    episodes: int = field(default=1, metadata={"help": "number of episodes"})
    seed: int = field(default=0, metadata={"help": "seed of episode 0; episode i uses seed + i"})
    out: Path | None = field(
        default=None,
        metadata={
            "help": "output directory for trajectory.jsonl and summary.json (none: no files)"
        },
    )
    games_dir: Path | None = field(
        default=None, metadata={"help": "games directory (default: the S2B_GAMES_DIR setting)"}
    )
    walkthrough: Path | None = field(
        default=None, metadata={"help": "walkthrough file for the walkthrough agent"}
    )
    route: str | None = field(
        default=None, metadata={"help": "which of the game's own walkthroughs to play"}
    )
    max_steps: int | None = field(
        default=None, metadata={"help": "stop each episode after this many actions"}
    )
    step_timeout: float = field(
        default=30.0,
        metadata={
            "help": "stop a game command that runs longer than this many seconds, restore the "
            "game and report it (0: no watchdog)"
        },
    )
    resume: bool = field(
        default=False, metadata={"help": "continue a run in --out, skipping finished episodes"}
    )
    progress: str = field(
        default="rich", metadata={"help": "progress display", "choices": list(PROGRESS_MODES)}
    )
    env_arg: tuple[str, ...] = field(
        default=(),
        metadata={"help": "extra environment keyword KEY=VALUE (VALUE read as JSON if it parses)"},
    )

    def __post_init__(self) -> None:
        if self.agent not in AGENTS:
            raise ValueError(f"--agent must be one of {', '.join(AGENTS)}, got {self.agent!r}")
        if self.episodes < 1:
            raise ValueError(f"--episodes must be >= 1, got {self.episodes}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"--max-steps must be >= 1, got {self.max_steps}")
        if self.progress not in PROGRESS_MODES:
            raise ValueError(f"--progress must be one of {PROGRESS_MODES}, got {self.progress!r}")
        if self.step_timeout < 0:
            raise ValueError(f"--step-timeout must be >= 0 seconds, got {self.step_timeout}")
        if self.resume and self.out is None:
            raise ValueError("--resume needs --out DIR (the run to continue)")
        if self.walkthrough is not None and self.agent != "walkthrough":
            raise ValueError("--walkthrough is only for --agent walkthrough")

    def run_id(self, extra: dict[str, Any] | None = None) -> str:
        """A stable id of what determines the episodes (not of the output or display options)."""
        ignored = {"out", "progress", "resume", "episodes"}
        key = {k: v for k, v in self.jsonable().items() if k not in ignored}
        key["extra"] = extra or {}
        digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
        return f"run-{digest}"

    def jsonable(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run agent episodes, write trajectories, print a summary table",
        description="Run --episodes episodes of --agent in --env. Trajectories (JSON Lines, "
        "format v1) go to OUT/trajectory.jsonl, flushed every step; --resume continues a run.",
    )
    add_dataclass_args(parser, RunConfig)
    add_model_args(parser)
    parser.set_defaults(handler=run)


def _completed_episodes(path: Path) -> dict[int, dict[str, Any]]:
    from s2b_env.trajectory import read_trajectory

    if not path.exists():
        return {}
    return {e.episode_id: e.summary for e in read_trajectory(path).episodes if e.complete}


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
    from rich.live import Live
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from agents.runner import run_episode
    from s2b_env.trajectory import TrajectoryWriter, keep_complete_episodes, read_header

    config = dataclass_from_args(RunConfig, args)
    env = make_env(
        config.env, config.games_dir, parse_env_args(list(config.env_arg)),
        step_timeout=config.step_timeout or None,
    )  # fmt: skip
    env_id = env.spec.id if env.spec else config.env
    model = model_settings(args) if config.agent == "llm" else None
    run_id = config.run_id(model)
    writer = None
    done: dict[int, dict[str, Any]] = {}
    if config.out is not None:
        path = config.out / "trajectory.jsonl"
        if path.exists() and path.stat().st_size and not config.resume:
            raise ValueError(
                f"{path} exists; pass --resume to continue that run, or choose another --out"
            )
        if config.resume and path.exists():
            # Check the run before the rewrite, so a refused resume leaves the file as it was.
            saved = read_header(path)
            if saved.get("run_id") != run_id:
                raise ValueError(
                    f"{path} holds another run (saved options: {json.dumps(saved.get('config'))}); "
                    "--resume needs the same env, agent, seed and model options, or choose "
                    "another --out"
                )
            keep_complete_episodes(path)
            done = _completed_episodes(path)
        base = env.unwrapped
        writer = TrajectoryWriter(
            path,
            run_id=run_id,
            env_id=env_id,
            header={
                "game": getattr(base, "game", None),
                "game_checksum": getattr(base, "checksum", None),
                "config": config.jsonable(),
                "model": model,
            },
        )
    agent = make_agent(
        config.agent, env, seed=config.seed, walkthrough=config.walkthrough, route=config.route,
        args=args,
    )  # fmt: skip
    results: list[dict[str, Any]] = []
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=console,
        disable=config.progress != "rich",
    )  # fmt: skip
    task = progress.add_task(env_id, total=config.episodes, status="")
    started = time.perf_counter()
    try:
        live = (
            Live(progress, console=console, refresh_per_second=8)
            if config.progress == "rich"
            else contextlib.nullcontext()
        )
        with live:
            for episode in range(config.episodes):
                if episode in done:
                    results.append(done[episode])
                    progress.advance(task)
                    continue

                def on_step(
                    step: int, action: str, reward: float, info: dict[str, Any], ep: int = episode
                ) -> None:
                    if step % 25 == 0:
                        progress.update(task, status=f"ep {ep} step {step}")

                result = run_episode(
                    env, agent, episode_id=episode, seed=config.seed + episode, writer=writer,
                    max_steps=config.max_steps, on_step=on_step,
                )  # fmt: skip
                results.append(result.to_dict())
                scored = "" if result.score is None else f": score {result.score}"
                progress.update(task, advance=1, status=f"ep {episode}{scored}")
                if config.progress == "plain":
                    console.print(
                        f"episode {episode}: {result.steps} steps{scored.replace(':', ',')}, "
                        f"return {result.total_reward:g}, {result.end_reason}",
                        highlight=False,
                    )
    finally:
        if writer is not None:
            writer.close()
        env.close()
        backend = getattr(agent, "backend", None)  # the llm agent's model: free it now
        if backend is not None:
            backend.close()
    elapsed = time.perf_counter() - started
    console.print(summary_table(results, f"{env_id} · {config.agent} · {len(results)} episodes"))
    values = value_table(results)
    if values is not None:
        console.print(values)
    if config.out is not None:
        summary = {"run_id": run_id, "env_id": env_id, "config": config.jsonable(),
                   "seconds": round(elapsed, 3), "episodes": results}  # fmt: skip
        (config.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        console.print(f"[dim]trajectory: {config.out / 'trajectory.jsonl'}[/]")
    return 0
