"""``s2b games list`` and ``s2b games build``."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from s2b.cli._common import add_games_dir


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("games", help="list and build the games s2b can play")
    sub = parser.add_subparsers(dest="games_command", metavar="ACTION")
    listing = sub.add_parser("list", help="list every game found, its kind and features")
    add_games_dir(listing)
    listing.add_argument(
        "--format", choices=("table", "json"), default="table", help="output format"
    )
    listing.set_defaults(handler=list_games)
    build = sub.add_parser("build", help="(re)build our own Inform 6 games into the cache")
    build.add_argument("--force", action="store_true", help="rebuild even if up to date")
    build.set_defaults(handler=build_games)
    parser.set_defaults(handler=lambda args, console: parser.print_help() or 0)


def list_games(args: argparse.Namespace, console: Console) -> int:
    from s2b_env.catalog import list_games as catalog

    entries = catalog(args.games_dir)
    if args.format == "json":
        console.print_json(json.dumps([e.to_dict() for e in entries]))
        return 0
    table = Table(title=f"{len(entries)} games", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("kind")
    table.add_column("features")
    for entry in entries:
        table.add_row(entry.id, entry.kind, ", ".join(entry.features))
    console.print(table)
    if args.games_dir is None and not any(e.kind in ("jericho", "jiminy") for e in entries):
        console.print(
            "[dim]No games directory set: use --games-dir DIR or S2B_GAMES_DIR to list "
            "Jericho and Jiminy Cricket story files too.[/]"
        )
    return 0


def build_games(args: argparse.Namespace, console: Console) -> int:
    try:
        from s2b_env.inform.build import build_all_games
    except ImportError:
        console.print("[red]error:[/] this s2b has no own games to build")
        return 2
    table = Table(title="own games", title_justify="left")
    table.add_column("game")
    table.add_column("status")
    table.add_column("seconds", justify="right")
    table.add_column("story file", overflow="fold")
    for result in build_all_games(force=args.force):
        status = "built" if result.built else "up to date"
        if result.warnings:
            status += f" ({len(result.warnings)} warnings)"
        table.add_row(result.name, status, f"{result.seconds:.2f}", str(result.story_file))
    console.print(table)
    return 0
