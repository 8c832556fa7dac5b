"""``s2b profile``: a model's value profile from the survey, or a comparison of two profiles."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from agents.backends.base import BackendConfig
from s2b.cli._args import add_dataclass_args, dataclass_from_args
from s2b.cli._common import add_progress
from training.profile import ProfileConfig

EPILOG = """examples:
  s2b profile --out runs/profile-base            # default model, all items, 3 phrasings
  s2b profile --items heldout --adapter runs/align/adapter --out runs/profile-aligned
  s2b profile --backend openai --base-url http://127.0.0.1:8000/v1 --out runs/profile-http
  s2b profile --compare runs/profile-base/profile.json runs/profile-aligned/profile.json
  s2b profile --items-file my_items.jsonl --out runs/profile-mine   # your own survey items
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="rate the value survey with a model: value profile (JSON, CSV, PNG, table)",
        description="Ask the value survey (every item under every phrasing), read the model's "
        "probabilities of the digits 1-6 and summarise them per value with bootstrap 95% "
        "intervals. An interrupted run continues from --out/results.jsonl.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_dataclass_args(parser.add_argument_group("model"), BackendConfig)
    survey = parser.add_argument_group("survey and output")
    add_survey_files(survey)
    add_dataclass_args(survey, ProfileConfig)
    parser.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("A", "B"),
        help="compare two profile.json files (B - A per value) instead of running a model; "
        "writes compare.json/.csv/.png into --out",
    )
    add_progress(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    profile_config = dataclass_from_args(ProfileConfig, args)
    if args.compare:
        return _compare(args.compare, profile_config, console)
    backend_config = dataclass_from_args(BackendConfig, args)
    from training.survey_io import load_custom_survey

    # read (and validate) the survey before a model is loaded
    survey = load_custom_survey(args.items_file, args.phrasings_file)
    return _profile(backend_config, profile_config, survey, args.progress, console)


def add_survey_files(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--items-file`` and ``--phrasings-file`` (a user's own survey; see docs/survey.md)."""
    parser.add_argument(
        "--items-file",
        type=Path,
        default=None,
        help="your own survey items (.jsonl or .csv, the shipped format; any of the 20 values) "
        "instead of the shipped games/survey/items.jsonl",
    )
    parser.add_argument(
        "--phrasings-file",
        type=Path,
        default=None,
        help="your own phrasings (.json, the shipped schema) instead of games/survey/phrasings.json",
    )


def _profile(
    backend_config: BackendConfig,
    config: ProfileConfig,
    survey: Any,
    progress_mode: str,
    console: Console,
) -> int:
    from rich.live import Live
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from agents.backends import make_backend
    from training.profile import run_profile

    started = time.perf_counter()
    if progress_mode != "off":
        console.print(f"loading model ({backend_config.backend}) ...", highlight=False)
    with make_backend(backend_config) as backend:
        bar = Progress(
            TextColumn("[bold]survey[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
            disable=progress_mode != "rich",
        )
        task = bar.add_task("survey", total=None, status="")
        last_plain = [0.0]

        def on_result(done: int, total: int, result: Any) -> None:
            status = (
                f"{result.item_id} ({result.phrasing}) mass {result.mass:.2f} "
                f"E {result.expected:.2f}"
                if result
                else ("resuming" if done else "")
            )
            bar.update(task, completed=done, total=total, status=status)
            now = time.perf_counter()
            if progress_mode == "plain" and (
                result is None or done == total or now - last_plain[0] > 5
            ):
                last_plain[0] = now
                console.print(f"{done}/{total} {status}", highlight=False, markup=False)

        try:
            if progress_mode == "rich":
                with Live(bar, console=console, refresh_per_second=8, transient=False):
                    profile = run_profile(backend, survey, config, progress=on_result)
            else:
                profile = run_profile(backend, survey, config, progress=on_result)
        except KeyboardInterrupt:
            console.print(
                f"[yellow]interrupted[/]: no profile written; the answers so far are in "
                f"{config.out / 'results.jsonl'} and the same command continues from them",
                highlight=False,
            )
            return 130
    elapsed = time.perf_counter() - started
    console.print(profile_table(profile))
    s = profile["summary"]
    console.print(
        f"{s['n_results']} answers from {s['n_items']} items in {elapsed:.0f} s; mean digit "
        f"mass {s['mean_digit_mass']:.2f} (min {s['min_digit_mass']:.2f}); value means "
        f"{s['value_mean_range'][0]:.2f}-{s['value_mean_range'][1]:.2f}; "
        f"{s['values_off_centre']} of {len(profile['values'])} values differ from the "
        "overall mean (centred 95% CI excludes 0)",
        highlight=False,
    )
    console.print(
        f"wrote {config.out}/profile.json, profile.csv, items.csv, profile.png", highlight=False
    )
    return 0


def profile_table(profile: dict[str, Any]) -> Table:
    """A rich table of the profile: one row per value."""
    table = Table(
        title=f"value profile ({profile['meta'].get('items')} items; ratings 1-6, 95% CIs)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        collapse_padding=True,
    )
    table.add_column("value", no_wrap=True)
    for name in ("n", "mean", "CI", "centred", "centred CI", "mass"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in profile["values"]:
        off = row["centred_ci_low"] > 0 or row["centred_ci_high"] < 0
        table.add_row(
            row["value"],
            str(row["n_items"]),
            f"{row['mean']:.2f}",
            f"{row['ci_low']:.2f}-{row['ci_high']:.2f}",
            f"[bold]{row['centred']:+.2f}[/]" if off else f"{row['centred']:+.2f}",
            f"{row['centred_ci_low']:+.2f}..{row['centred_ci_high']:+.2f}",
            f"{row['mass']:.2f}",
        )
    return table


def _compare(paths: list[Path], config: ProfileConfig, console: Console) -> int:
    from training.profile import NOISE, load_profile
    from training.profile_compare import compare_profiles, write_comparison

    a, b = (load_profile(p) for p in paths)
    comparison = compare_profiles(a, b, bootstrap=config.bootstrap, seed=config.seed)
    written = write_comparison(comparison, config.out)
    table = Table(
        title=f"B - A (A: {paths[0]}, B: {paths[1]}; 95% CIs)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        collapse_padding=True,
    )
    table.add_column("value", no_wrap=True)
    for name in ("n", "B - A", "CI", "centred", "centred CI"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in comparison["values"]:
        changed = row["ci_low"] > NOISE or row["ci_high"] < -NOISE
        diff = f"{row['diff']:+.3f}"
        table.add_row(
            row["value"],
            str(row["n_items"]),
            f"[bold]{diff}[/]" if changed else diff,
            f"{row['ci_low']:+.3f}..{row['ci_high']:+.3f}",
            f"{row['centred_diff']:+.3f}",
            f"{row['centred_ci_low']:+.3f}..{row['centred_ci_high']:+.3f}",
        )
    console.print(table)
    s = comparison["summary"]
    console.print(
        f"{s['values_changed']} of {len(comparison['values'])} values changed (95% CI excludes "
        f"0 by more than {NOISE:g}) over {s['shared_items']} shared items; mean change {s['mean_diff']:+.3f}; wrote "
        f"{', '.join(str(p) for p in written.values())}",
        highlight=False,
    )
    return 0
