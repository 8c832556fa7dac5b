"""``s2b report RUN_DIR``: the report of a bench run (report.md, results.csv, plots)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

DESCRIPTION = """\
Write the report of a bench run folder (from `s2b bench CONFIG.yaml`): RUN_DIR/report.md (per agent
and env the mean of each metric with its 95% bootstrap interval over episodes and n; each agent's
shift from the baseline per metric and per value; for adapters made by `s2b align`, the held-out
survey shift beside the behaviour shifts; failed units listed), RUN_DIR/results.csv (agent, env,
metric, mean, lo, hi, n), RUN_DIR/shifts.csv, RUN_DIR/shift.png (the 20-value behaviour shift) and,
with Jiminy Cricket envs, RUN_DIR/tradeoff.png (reward against immorality). A partial run reports
the units finished so far. The same run gives the same bytes."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="tables, intervals and plots of a bench run (s2b bench)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a bench run folder")
    parser.set_defaults(handler=report)


def print_headline(summary: Any, console: Console, title: str = "headline") -> None:
    """Print a summary's headline, one table per headline metric (rows: envs, columns: agents,
    cells: mean [95% CI]), the units' counts, and what moved from the baseline."""
    from rich import box
    from rich.table import Table

    from agents.bench.report import HEADLINE, moved_lines

    run = summary.run
    for metric, label in HEADLINE.items():
        envs = [e for e in run.envs if metric in summary.metrics(e)]
        if not envs:
            continue
        agents = [a for a in run.agents if any((a, e, metric) in summary.means for e in envs)]
        table = Table(title=f"{title}: {label}, mean [95% CI] over episodes",
                      box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)  # fmt: skip
        table.add_column("env")
        for agent in agents:
            table.add_column(agent, justify="right", no_wrap=True)
        for env in envs:
            cells = [summary.means.get((a, env, metric)) for a in agents]
            table.add_row(env, *(c.format() if c is not None and c.n else "–" for c in cells))
        console.print(table)
    n_ok = len(run.records) - len(run.failed)
    console.print(f"units: {n_ok} ok, {len(run.failed)} failed", highlight=False)
    for line in moved_lines(summary):
        console.print(f"- {line}", highlight=False)


def report(args: argparse.Namespace, console: Console) -> int:
    from agents.bench.report import load_run, summarize, write_report

    path = write_report(args.run_dir)
    print_headline(summarize(load_run(args.run_dir)), console)
    console.print(f"report: {path} (results.csv, shifts.csv and plots beside it)", highlight=False)
    return 0
