"""Options built from config dataclasses (``s2b.cli._args``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from s2b.cli import build_parser
from s2b.cli._args import add_dataclass_args, dataclass_from_args


@dataclass
class _Config:
    names: tuple[str, ...] = field(default=("a", "b"), metadata={"help": "names"})
    limit: int = field(default=3, metadata={"help": "a limit"})
    note: str | None = field(default=None, metadata={"help": "a note"})


def _parse(*argv: str) -> _Config:
    parser = argparse.ArgumentParser()
    add_dataclass_args(parser, _Config)
    return dataclass_from_args(_Config, parser.parse_args(list(argv)))


def test_list_options_add_up_and_replace_the_default() -> None:
    assert _parse().names == ("a", "b")
    assert _parse("--names", "x").names == ("x",)
    assert _parse("--names", "x", "y", "--names", "z").names == ("x", "y", "z")
    assert _parse("--names").names == ()  # given empty: empty, not the default
    assert _parse("--limit", "5") == _Config(names=("a", "b"), limit=5)


def test_list_option_help_shows_the_field_default() -> None:
    parser = argparse.ArgumentParser()
    add_dataclass_args(parser, _Config)
    text = " ".join(parser.format_help().split())
    assert "names (default: a b)" in text and "a limit (default: 3)" in text


def test_repeated_options_reach_the_commands() -> None:
    parser = build_parser()
    run = parser.parse_args(
        ["run", "--env", "zork1", "--env-arg", "inventory=true", "--env-arg", "valid_actions=true"]
    )
    assert run.env_arg == ["inventory=true", "valid_actions=true"]
    serve = parser.parse_args(["serve", "--adapter", "a=/x", "--adapter", "b=/y"])
    assert serve.adapter == ["a=/x", "b=/y"]
