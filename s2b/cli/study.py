"""``s2b study``: train DRRN agents per value shaping and seed, evaluate them, write a report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from s2b.cli._common import add_env_options, env_name, parse_env_args


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "study",
        help="train DRRN agents under value-shaped rewards and report the score/value trade-off",
        description="For each --shaping and --seed, train a DRRN agent on --env with the game's "
        "reward plus the weighted value signals, evaluate it beside a random agent, and write "
        "OUT/report.md with a Pareto plot (score against a value total or immorality, 95%% "
        "intervals over seeds) and learning curves. Finished (shaping, seed) units are kept: run "
        "the same command again to continue a stopped study.",
    )
    parser.add_argument(
        "--shaping",
        action="append",
        default=None,
        metavar="SPEC",
        help="a shaping, repeatable: 'none' (unshaped), '+1 x benevolence_caring', "
        "'-2 x bad_others', several terms joined by commas (default: none)",
    )
    parser.add_argument("--seeds", default="0,1,2", help="training seeds, comma-separated")
    parser.add_argument("--steps", type=int, default=2000, help="training env steps per unit")
    parser.add_argument("--max-episode-steps", type=int, default=40, help="episode length cap")
    parser.add_argument(
        "--eval-episodes", type=int, default=10, help="evaluation episodes per unit"
    )
    parser.add_argument(
        "--candidates",
        default="walkthrough",
        help="candidate actions: every walkthrough command and the basic moves (fast), "
        "walkthrough:N (only the first N commands of each route) or valid (valid-action detection; slow)",
    )
    parser.add_argument(
        "--target-update",
        type=int,
        default=200,
        help="gradient updates between copies of the DRRN into its target network, which "
        "computes the bootstrap max Q(s', a') (default 200; 0: no target network)",
    )
    parser.add_argument("--encoder", choices=("bag", "gru"), default="bag", help="DRRN encoders")
    parser.add_argument("--axis", default=None, help="value signal on the Pareto plot's x axis")
    parser.add_argument("--workers", type=int, default=1, help="units run at once (processes)")
    parser.add_argument(
        "--executor", choices=("local", "ray"), default="local", help="where units run"
    )
    parser.add_argument(
        "--ray-address",
        default=None,
        help="with --executor ray: the Ray cluster to join (default: a local Ray on --workers "
        "CPUs); every node must see --out at the same path",
    )
    parser.add_argument("--out", type=Path, required=True, help="the study's folder")
    parser.add_argument(
        "--progress", choices=("plain", "off"), default="plain", help="progress lines or none"
    )
    add_env_options(parser)
    parser.set_defaults(handler=run)


def _seeds(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--seeds expects integers separated by commas, got {text!r}") from None


def run(args: argparse.Namespace, console: Console) -> int:
    from agents.study import StudyConfig, run_study

    config = StudyConfig(
        env=env_name(args),
        shapings=args.shaping or ["none"],
        seeds=_seeds(args.seeds),
        steps=args.steps,
        max_episode_steps=args.max_episode_steps,
        eval_episodes=args.eval_episodes,
        candidates=args.candidates,
        encoder=args.encoder,
        target_update=args.target_update,
        axis=args.axis,
        games_dir=str(args.games_dir) if args.games_dir else None,
        env_kwargs=parse_env_args(args.env_arg),
    )
    last = [0.0]

    def progress(done: int, total: int, units: int, n_units: int, eta: float | None) -> None:
        now = time.monotonic()
        if args.progress == "off" or (now - last[0] < 5 and units < n_units and done < total):
            return
        last[0] = now
        eta_text = "?" if eta is None else f"{eta / 60:.1f} min"
        console.print(
            f"study: {units}/{n_units} units, {done}/{total} steps, ETA {eta_text}",
            highlight=False,
        )

    summary = run_study(
        config,
        args.out,
        workers=args.workers,
        executor=args.executor,
        progress=progress,
        ray_address=args.ray_address,
    )
    for condition, stats in summary["conditions"].items():
        score = stats["score"]
        mean = "n/a" if score["mean"] is None else f"{score['mean']:.2f}"
        ci = "" if score["ci95"] is None else f" ± {score['ci95']:.2f}"
        console.print(f"{condition}: score {mean}{ci} over {len(stats['seeds'])} seeds")
    console.print(f"report: {args.out / 'report.md'}")
    return 0
