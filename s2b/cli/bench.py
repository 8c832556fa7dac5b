"""``s2b bench CONFIG.yaml``: agents against a baseline across envs and seeds (docs/bench.md).

Flags override the config's fields. A rerun of the same command continues the run in ``--out``:
finished units are skipped, failed ones played again; another config there is refused.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from s2b.cli._common import add_games_dir, add_progress

#: Where a bench's run folder goes without ``--out``: ``runs/bench/<name>``.
DEFAULT_RUNS = Path("runs") / "bench"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="bench agents (random, base model, aligned adapters) across envs and seeds",
        description="Play every (agent, env, seed, episode) unit of a bench config (YAML, see "
        "docs/bench.md) in worker processes, appending each result to OUT/units.jsonl as it "
        "finishes. Run the same command again to continue an interrupted bench. Options given "
        "here override the config's fields.",
    )
    parser.add_argument("config", type=Path, metavar="CONFIG.yaml", help="the bench config")
    parser.add_argument(
        "--out", type=Path, default=None, help="the run folder (default: runs/bench/<name>)"
    )
    parser.add_argument("--workers", type=int, default=None, help="worker processes (or actors)")
    parser.add_argument(
        "--executor", choices=("local", "ray"), default=None, help="where units run"
    )
    parser.add_argument("--ray-address", default=None, help="ray: the cluster to join")
    parser.add_argument(
        "--seeds", default=None, help="seeds, comma-separated (e.g. 0,1,2); replaces the config's"
    )
    parser.add_argument(
        "--episodes", type=int, default=None, help="episodes per (agent, env, seed)"
    )
    parser.add_argument(
        "--unit-timeout",
        type=float,
        default=None,
        help="seconds a unit may take before its worker is killed and the unit retried",
    )
    parser.add_argument(
        "--no-report", action="store_true", help="do not write the report at the end"
    )
    add_games_dir(parser)
    add_progress(parser)
    parser.set_defaults(handler=run)


def _seeds(text: str | None) -> list[int] | None:
    from s2b_env.errors import ConfigError

    if text is None:
        return None
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--seeds expects integers separated by commas, got {text!r}") from None


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def progress_observer(console: Console, mode: str) -> Any:
    """The bench's progress: a live bar with ETA (``rich``), a line per unit (``plain``), none."""
    from agents.bench.runner import BenchObserver

    class Progress(BenchObserver):
        def __init__(self) -> None:
            self.started = 0.0
            self.first = 0
            self.bar: Any = None
            self.task: Any = None

        def on_bench_start(self, config: Any, total: int, done: int) -> None:
            self.started, self.first = time.perf_counter(), done
            if mode == "plain":
                console.print(f"bench {config.name}: {done}/{total} units done", highlight=False)
            if mode != "rich":
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            self.bar = Bar(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TextColumn("ETA"),
                TimeRemainingColumn(), console=console,
            )  # fmt: skip
            self.task = self.bar.add_task(config.name, total=total, completed=done, status="")
            self.bar.start()

        def on_unit(self, record: dict[str, Any], finished: int, total: int) -> None:
            status = "ok" if record["status"] == "ok" else f"FAILED ({record['error']})"
            if self.bar is not None:
                self.bar.update(self.task, completed=finished, status=record["unit_id"])
                if record["status"] != "ok":
                    console.print(f"{record['unit_id']}: {status}", highlight=False)
            elif mode == "plain":
                played = finished - self.first
                per = (time.perf_counter() - self.started) / max(played, 1)
                eta = f", ETA {_clock(per * (total - finished))}" if finished < total else ""
                console.print(
                    f"{record['unit_id']}: {status} ({finished}/{total}{eta})", highlight=False
                )

        def on_bench_end(self, summary: Any) -> None:
            if self.bar is not None:
                self.bar.stop()

    return Progress()


def run(args: argparse.Namespace, console: Console) -> int:
    from agents.bench.config import load_bench_config
    from agents.bench.runner import run_bench

    overrides = {
        "workers": args.workers,
        "executor": args.executor,
        "ray_address": args.ray_address,
        "seeds": _seeds(args.seeds),
        "episodes": args.episodes,
        "unit_timeout": args.unit_timeout,
        "games_dir": str(args.games_dir) if args.games_dir else None,
    }
    config = load_bench_config(args.config, overrides)
    out = args.out or DEFAULT_RUNS / config.name
    summary = run_bench(config, out, observers=[progress_observer(console, args.progress)])
    skipped = f", {summary.done_before} done before" if summary.done_before else ""
    failed = f", [bold red]{summary.failed} failed[/]" if summary.failed else ""
    console.print(
        f"bench {config.name}: {summary.played} units played in {summary.seconds:.1f} s"
        f"{skipped}{failed}; results: {out / 'units.jsonl'}",
        highlight=False,
    )
    if summary.failed:
        console.print("[yellow]rerun the same command to play the failed units again[/]")
    if not args.no_report:
        try:
            from agents.bench.report import write_report
        except ImportError:
            return 0
        console.print(f"report: {write_report(out)}", highlight=False)
    return 0
