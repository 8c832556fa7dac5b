"""The ``s2b`` command.

Each subcommand lives in its own module under :mod:`s2b.cli` and exposes
``register(subparsers)``, which adds its parser and sets ``handler=function(args, console) -> int``.
Modules keep heavy imports inside their handlers so that ``s2b --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from rich.console import Console

from s2b import __version__

# One line per command module; the order is the order in ``s2b --help``.
COMMAND_MODULES: tuple[str, ...] = (
    "s2b.cli.games",
    "s2b.cli.play",
    "s2b.cli.run",
    "s2b.cli.scenarios",
    "s2b.cli.profile",
    "s2b.cli.serve",
    "s2b.cli.align",
    "s2b.cli.study",
    "s2b.cli.bench",
    "s2b.cli.demo",
    "s2b.cli.report",
    "s2b.cli.score",
    "s2b.cli.judge",
    "s2b.cli.replay",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="s2b",
        description="Survey-to-Behavior: value surveys, LLM agents and text-game environments.",
    )
    parser.add_argument("--version", action="version", version=f"s2b {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run the ``s2b`` command; returns the process exit status.

    * 0: done; 130: interrupted (Ctrl-C).
    * 2: a problem with the input: s2b's own errors (:class:`s2b_env.errors.S2BError`: bad
      files, options or config, a missing game or model) and file-system errors (``OSError``:
      a missing file, no permission, a full disk), shown as one line without a traceback;
      argparse's usage errors also exit 2.
    * 1: anything else is a bug in s2b (a plain ``ValueError`` inside the library included):
      one line saying so, and that ``S2B_DEBUG=1`` shows the traceback.
    """
    from s2b.cli._common import progress_mode
    from s2b_env.errors import S2BError

    parser = build_parser()
    args = parser.parse_args(argv)
    console = console or Console()
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    debug = bool(os.environ.get("S2B_DEBUG"))
    try:
        if getattr(args, "progress", None) is not None:
            args.progress = progress_mode(args.progress, console)
        return int(args.handler(args, console) or 0)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        return 130
    except (S2BError, OSError) as exc:
        if debug:
            raise
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 2
    except Exception as exc:
        if debug:
            raise
        console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {exc} "
            "(this is a bug in s2b; run again with S2B_DEBUG=1 to see the traceback, and "
            "report it)",
            highlight=False,
            soft_wrap=True,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
