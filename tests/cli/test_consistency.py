"""Options shared by the commands behave the same in each; exit codes tell input from bugs."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from s2b.cli import build_parser, main
from s2b.cli._common import AGENTS, env_name, parse_env_args
from tests.conftest import console_text

SHARED = ("env", "games_dir", "env_arg", "step_timeout", "agent", "seed", "walkthrough", "route",
          "max_steps", "backend", "model", "adapter", "base_url", "temperature")  # fmt: skip


def _parse(*argv: str):
    return build_parser().parse_args(list(argv))


def test_play_and_run_parse_env_args_alike() -> None:
    play = _parse("play", "zork1", "--env-arg", "a=1", "--env-arg", "b=2")
    run = _parse("run", "zork1", "--env-arg", "a=1", "--env-arg", "b=2")
    run_option = _parse("run", "--env", "zork1", "--env-arg", "a=1", "--env-arg", "b=2")
    for args in (play, run, run_option):
        assert env_name(args) == "zork1"
        assert parse_env_args(args.env_arg) == {"a": 1, "b": 2}
    # One KEY=VALUE per option, in both: a second bare pair is an error in both.
    for command in ("play", "run"):
        with pytest.raises(SystemExit) as exit_:
            _parse(command, "zork1", "--env-arg", "a=1", "b=2")
        assert exit_.value.code == 2


def test_shared_options_have_the_same_choices_and_defaults() -> None:
    play, run = _parse("play", "zork1"), _parse("run", "zork1")
    for name in SHARED:
        if name != "agent":
            assert getattr(play, name) == getattr(run, name), name
    assert play.seed == run.seed == 0
    assert (play.agent, run.agent) == ("human", "random")  # who plays by default differs
    for command in ("play", "run"):
        for agent in AGENTS:
            assert _parse(command, "zork1", "--agent", agent).agent == agent
    for command in ("run", "play", "demo", "profile", "align"):
        parser = build_parser()
        sub = parser._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
        progress = [a for a in sub._actions if a.dest == "progress"]
        if progress:
            assert progress[0].choices == ("rich", "plain", "off"), command


def test_the_environment_given_twice_or_not_at_all_is_a_user_error(console) -> None:
    assert main(["run", "zork1", "--env", "dilemma"], console=console) == 2
    assert "given twice" in console_text(console)
    again = Console(file=io.StringIO(), width=80)
    assert main(["play", "--agent", "random"], console=again) == 2
    assert "no environment given" in console_text(again)


def test_a_bug_exits_1_and_a_bad_input_exits_2(monkeypatch, games_dir) -> None:
    """A plain ValueError raised inside the library is a bug (exit 1, S2B_DEBUG hint)."""
    import agents.engine

    def broken(*args, **kwargs):
        raise ValueError("an internal check failed")

    bad = Console(file=io.StringIO(), width=200)
    code = main(["run", "zork1", "--games-dir", str(games_dir), "--episodes", "0"], console=bad)
    assert code == 2 and "--episodes must be >= 1" in console_text(bad)
    assert "internal error" not in console_text(bad)
    monkeypatch.setattr(agents.engine, "run_episodes", broken)
    monkeypatch.delenv("S2B_DEBUG", raising=False)
    bug = Console(file=io.StringIO(), width=200)
    code = main(["run", "zork1", "--games-dir", str(games_dir), "--progress", "off"], console=bug)
    text = console_text(bug)
    assert code == 1
    assert "internal error: ValueError: an internal check failed" in text
    assert "S2B_DEBUG=1" in text and "Traceback" not in text
    monkeypatch.setenv("S2B_DEBUG", "1")
    with pytest.raises(ValueError, match="internal check"):
        main(["run", "zork1", "--games-dir", str(games_dir), "--progress", "off"], console=bug)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["play", "zork1", "--max-steps", "0"], "--max-steps must be >= 1"),
        (["run", "zork1", "--agent", "random", "--walkthrough", "w.txt"], "--walkthrough is only"),
        (["run", "zork1", "--backend", "openai", "--agent", "llm", "--base-url", "ftp://x"],
         "base_url"),
        (["serve", "--port", "0"], "--port"),
        (["run", "zork1", "--env-arg", "colour=blue"], "takes no keyword 'colour'"),
        (["play", "zork1", "--env-arg", "k=" + "[" * 100_000], "nested too deeply"),
    ],
    ids=["max-steps", "walkthrough-without-agent", "bad-url", "bad-port", "unknown-kwarg",
         "deep-env-arg"],
)  # fmt: skip
def test_bad_options_exit_2_in_every_command(argv, message, games_dir) -> None:
    console = Console(file=io.StringIO(), width=200)
    code = main([*argv, *(["--games-dir", str(games_dir)] if argv[0] != "serve" else [])],
                console=console)  # fmt: skip
    assert code == 2, console_text(console)
    assert message in console_text(console)
