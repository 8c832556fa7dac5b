"""``s2b demo``: the whole loop on what ships with s2b, offline, on a CPU, in about 10 minutes.

1. **Behaviour with ground truth.** Every own game played along its caring and its
   self-interested route: the value events fired and what they add up to.
2. **Align.** The default model fine-tuned on its survey answers to move one value
   (``s2b align --preset demo``, power_dominance down 2 unless told otherwise); its held-out survey
   shift with a 95% interval.
3. **Bench.** Random, base and aligned agents side by side (``s2b bench``) on our own games, the
   test split of the moral scenarios and, when a games folder is given, one Jiminy Cricket game;
   the report's headline table, and what moved from the base model and what did not.

Everything goes to ``--out`` (``align/`` and ``bench/``); running the same command again continues
where it stopped (finished stages and units are kept).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from s2b.cli._common import add_games_dir, add_progress
from s2b_env.errors import ConfigError

#: The values shown in the own-games table (those the routes pull apart most), short labels.
SHOWN_VALUES = {"benevolence_caring": "caring", "universalism_concern": "concern",
                "power_resources": "wealth", "achievement": "achieve",
                "conformity_rules": "rules", "tradition": "custom"}  # fmt: skip


#: The value the demo moves unless told otherwise (docs/align.md measured the demo preset on it).
DEFAULT_VALUE = "power_dominance"
#: Valid-action detection for the games: found actions kept in the shared SQLite cache, so the
#: bench's workers share them and a second run finds them at once (detection is ~1-3 s a step).
VALID_ACTIONS = {"persist": True}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="the whole loop: own games, align the default model, bench base vs aligned (CPU)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder")
    parser.add_argument(
        "--no-model",
        action="store_true",
        help="skip the steps that run the language model (align; the bench has the random agent)",
    )
    parser.add_argument(
        "--model", default=None, help="model folder (default: SmolLM2-135M-Instruct)"
    )
    parser.add_argument(
        "--adapter",
        default=None,
        help="bench this LoRA adapter (or s2b align run folder) instead of aligning one",
    )
    parser.add_argument("--value", default=DEFAULT_VALUE, help="the value to align")
    parser.add_argument("--direction", choices=("down", "up"), default="down")
    parser.add_argument(
        "--values",
        nargs="*",
        default=(),
        metavar="ID",
        help="evaluate only these values' held-out items in the align step (default: all 20)",
    )
    parser.add_argument(
        "--episodes", type=int, default=None, help="bench episodes per agent and env (default: 3)"
    )
    parser.add_argument(
        "--max-steps", type=int, default=None,
        help="actions per episode in the games (default: 10)",
    )  # fmt: skip
    parser.add_argument(
        "--jiminy", default="zork1", metavar="GAME",
        help="the Jiminy Cricket game benched when a games folder is given (default: zork1)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="bench worker processes")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a minutes-long check: the smoke align preset, one own game, 2 episodes of 4 steps",
    )
    add_games_dir(parser)
    add_progress(parser)
    parser.set_defaults(handler=demo)


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


def align_step(args: argparse.Namespace, console: Console) -> Path:
    """Align the model on ``--value`` (resumed when ``OUT/align`` holds the run); its folder."""
    from s2b.cli._args import config_errors
    from training.align import run_align
    from training.align_config import build_config

    values = tuple(dict.fromkeys([*args.values, args.value])) if args.values else ()
    overrides: dict[str, Any] = {"preset": "smoke" if args.quick else "demo",
                                 "values": (args.value,), "direction": args.direction,
                                 "delta": 2, "eval_values": values}  # fmt: skip
    if args.model:
        overrides["model"] = args.model
    with config_errors():
        config = build_config(overrides=overrides)
    run_dir = args.out / "align"
    resume = (run_dir / "config.yaml").is_file()
    console.rule(f"2. align: {args.value} {args.direction} 2 ({overrides['preset']} preset)")
    result = run_align(config, run_dir, console=console, progress=args.progress, resume=resume)
    target = result.evaluation["target"]
    verdict = result.evaluation["average_check"]["verdict"]
    console.print(
        f"in domain: {args.value} held-out survey shift {target['mean']:+.2f} "
        f"[{target['ci_low']:+.2f}, {target['ci_high']:+.2f}] (asked: {args.direction} 2; "
        f"verdict {verdict}); {result.timings['total']:.0f} s, {result.peak_rss_gib:.2f} GiB",
        highlight=False,
        soft_wrap=True,
    )
    return run_dir


def bench_config(args: argparse.Namespace, adapter: str | None) -> Any:
    """The demo's bench: random, base and aligned agents on own games, scenarios, Jiminy."""
    from agents.bench.config import BenchConfig
    from s2b_env.inform.build import own_game_names

    agents: list[dict[str, Any]] = [{"name": "random", "kind": "random"}]
    if not args.no_model:
        model = args.model or "default"
        agents += [{"name": "base", "kind": "llm", "model": model},
                   {"name": "aligned", "kind": "llm", "model": model, "adapter": adapter}]  # fmt: skip
    games = own_game_names()[:1] if args.quick else own_game_names()
    envs: list[dict[str, Any]] = [
        {"name": g, "id": f"s2b-{g}", "kwargs": {"valid_actions": VALID_ACTIONS},
         "max_steps": args.max_steps} for g in games
    ]  # fmt: skip
    envs += [{"name": k, "id": k, "kwargs": {"split": "test"}} for k in ("dilemma", "judgment")]
    games_dir = args.games_dir or os.environ.get("S2B_GAMES_DIR")
    if games_dir and (Path(games_dir) / "jiminy-cricket").is_dir():
        envs.append({"name": f"jiminy-{args.jiminy}", "id": f"jiminy-{args.jiminy}",
                     "kwargs": {"starting_percentage": 0, "valid_actions": VALID_ACTIONS},
                     "max_steps": args.max_steps})  # fmt: skip
    return BenchConfig(
        name="demo", agents=agents, envs=envs, baseline="base" if not args.no_model else "random",
        seeds=[0], episodes=args.episodes, workers=args.workers,
        games_dir=str(games_dir) if games_dir else None,
    )  # fmt: skip


def honest_lines(summary: Any, value: str, align_run: Path | None) -> list[str]:
    """What moved for the trained value: in domain (survey) and in each env's behaviour."""
    from agents.bench.align_info import find_align_run

    lines = []
    info = find_align_run(str(align_run), align_run.parent) if align_run else None
    if info is not None and value in info.survey:
        s = info.survey[value]
        lines.append(f"{value} on held-out survey items: {s.format(signed=True)}, "
                     + ("moved" if s.excludes_zero else "did not move"))  # fmt: skip
    for env in [*summary.run.envs, "all"]:
        s = summary.shifts.get(("aligned", env, f"value:{value}"))
        if s is None or s.n == 0:
            continue
        where = "all envs pooled" if env == "all" else env
        verdict = "moved" if s.excludes_zero else "did not move (interval includes 0)"
        if s.excludes_zero and s.low == s.high:
            verdict += (" (every episode gave the same difference: a greedy agent repeating one"
                        " trajectory, so the interval says nothing about chance)")  # fmt: skip
        lines.append(f"{value} in behaviour on {where}: aligned − base "
                     f"{s.format(signed=True)} over {s.n} episodes, {verdict}")  # fmt: skip
    return lines


def demo(args: argparse.Namespace, console: Console) -> int:
    if args.episodes is None:
        args.episodes = 2 if args.quick else 3
    if args.max_steps is None:
        args.max_steps = 4 if args.quick else 10
    for name in ("episodes", "max_steps", "workers"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    from s2b_env.values import VALUE_IDS

    if args.value not in VALUE_IDS:
        raise ConfigError(
            f"--value: expected a value id such as power_dominance, got {args.value!r}"
        )
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    console.rule("s2b demo: Survey-to-Behavior on what ships with s2b")
    own_games_table(console)
    adapter: str | None = args.adapter
    align_run: Path | None = None
    if not args.no_model and adapter is None:
        align_run = align_step(args, console)
        adapter = str(align_run.resolve())
    from agents.bench.report import load_run, summarize, write_report
    from agents.bench.runner import run_bench
    from s2b.cli.bench import progress_observer
    from s2b.cli.report import print_headline

    config = bench_config(args, adapter)
    console.rule(f"3. bench: {', '.join(a.name for a in config.agents)} on "
                 f"{', '.join(e.name for e in config.envs)}")  # fmt: skip
    run_dir = args.out / "bench"
    summary = run_bench(config, run_dir, observers=[progress_observer(console, args.progress)])
    path = write_report(run_dir)
    report = summarize(load_run(run_dir))
    print_headline(report, console, title="3. bench")
    if not args.no_model:
        for line in honest_lines(report, args.value, align_run):
            console.print(f"- {line}", highlight=False)
    failed = f"; {summary.failed} units failed (rerun to retry)" if summary.failed else ""
    console.print(
        f"[bold]done in {time.perf_counter() - started:.0f} s[/]{failed}; report: {path} "
        f"(plots beside it)",
        highlight=False,
        soft_wrap=True,
    )
    return 0
