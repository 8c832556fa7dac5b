"""``s2b scenarios``: check scenario files and import users' judgment data.

* ``s2b scenarios validate FILE [FILE...]``: a table with every line's status; errors name file,
  line and field; exit status 1 when any line is bad.
* ``s2b scenarios import --format aita-csv|scruples FILE --out OUT.jsonl [--force]``: convert,
  report every row that could not be imported, exit status 1 when any row was left out. An
  existing ``--out`` is replaced only with ``--force``, the input never; the output is written
  whole or not at all.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.table import Table

from s2b.cli._args import add_dataclass_args, dataclass_from_args
from s2b_env.errors import ConfigError

_FORMATS = ("aita-csv", "scruples")


@dataclass
class ImportConfig:
    """Options of ``s2b scenarios import``."""

    out: Path = field(metadata={"help": "the scenario JSONL file to write"})
    format: Literal["aita-csv", "scruples"] = field(
        default="aita-csv", metadata={"help": "input format"}
    )
    id_prefix: str = field(default="", metadata={"help": "text put before every imported id"})
    force: bool = field(
        default=False, metadata={"help": "replace --out if it exists (never the input file)"}
    )

    def __post_init__(self) -> None:
        if self.format not in _FORMATS:
            raise ConfigError(
                f"--format: expected one of {', '.join(_FORMATS)}, got {self.format!r}"
            )
        self.out = Path(self.out)
        if not isinstance(self.id_prefix, str):
            raise ConfigError(f"--id-prefix: expected text, got {type(self.id_prefix).__name__}")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``scenarios`` and its subcommands."""
    parser = subparsers.add_parser(
        "scenarios",
        help="validate scenario files; import AITA-style CSV or Scruples-style JSONL",
        description="Work with moral-scenario files (judgments and dilemmas, schema version 1).",
    )
    sub = parser.add_subparsers(dest="scenarios_command", metavar="SUBCOMMAND", required=True)
    validate = sub.add_parser(
        "validate",
        help="check scenario JSONL files line by line",
        description="Check every line of scenario JSONL files; exit status 1 if any is bad.",
    )
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.set_defaults(handler=_validate)
    imp = sub.add_parser(
        "import",
        help="convert AITA-style CSV or Scruples-style anecdotes to scenario JSONL",
        description="Convert users' judgment data into s2b scenario records.",
    )
    imp.add_argument("file", type=Path, metavar="FILE")
    add_dataclass_args(imp, ImportConfig)
    imp.set_defaults(handler=_import)


def _validate(args: argparse.Namespace, console: Console) -> int:
    from s2b_env.scenarios.data import validate_files

    reports = validate_files(args.files)
    table = Table(title="scenario lines", show_lines=False)
    for column in ("file", "line", "id", "kind", "split", "status"):
        table.add_column(column, overflow="fold")
    bad = 0
    for report in reports:
        record = report.record
        if report.error is None and record is not None:
            status = "[green]ok[/]"
        else:
            bad += 1
            err = report.error
            status = f"[red]error[/] {_escape(err.message if err else '')}"
            if err is not None and err.field:
                status = f"[red]error[/] field {_escape(repr(err.field))}: {_escape(err.message)}"
        table.add_row(
            str(report.path),
            str(report.line),
            record.id if record else "-",
            record.kind if record else "-",
            record.split if record else "-",
            status,
        )
    console.print(table)
    for report in reports:
        if report.error is not None:
            console.print(f"[red]error:[/] {_escape(str(report.error))}", soft_wrap=True)
    good = len(reports) - bad
    console.print(
        f"{good} valid, {bad} bad, in {len(args.files)} file(s)", highlight=False, soft_wrap=True
    )
    return 1 if bad else 0


def _import(args: argparse.Namespace, console: Console) -> int:
    from s2b_env.safe_io import check_output_path
    from s2b_env.scenarios.importers import import_file

    config = dataclass_from_args(ImportConfig, args)
    # Checked before reading: a doomed import never costs the input or the old output.
    check_output_path(config.out, replace=config.force, inputs=[args.file])
    result = import_file(args.file, config.format, id_prefix=config.id_prefix)
    written = 0
    if result.records:  # written whole or not at all; an import with no good row writes nothing
        written = result.write_jsonl(config.out, replace=config.force)
    if result.failed:
        table = Table(title="rows not imported")
        for column in ("line", "id", "reason"):
            table.add_column(column, overflow="fold")
        for row in result.failed:
            table.add_row(str(row.line), row.source_id or "-", _escape(str(row.error)))
        console.print(table)
    where = f"into {config.out}" if written else f"(nothing written; {config.out} untouched)"
    console.print(
        f"imported {written} of {len(result.rows)} rows from {args.file} ({config.format}) "
        f"{where}; {len(result.failed)} left out",
        highlight=False,
        soft_wrap=True,
    )
    return 1 if result.failed else 0


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
