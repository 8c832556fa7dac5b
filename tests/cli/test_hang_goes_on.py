"""A command that hangs the game is reported and the session goes on: issue 22, item 6.

The game is the watchdog test room (``spin lever`` never returns), in a games folder of its own.
"""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

from rich.console import Console

from s2b.cli import main

COMMANDS = ["take box", "spin lever", "inventory", "drop box"]


def _cli(*argv: str) -> tuple[int, str]:
    console = Console(file=StringIO(), width=300)
    code = main([str(a) for a in argv], console=console)
    return code, console.file.getvalue()  # type: ignore[attr-defined]


def _walkthrough(tmp_path: Path) -> Path:
    path = tmp_path / "walk.txt"
    path.write_text("\n".join(COMMANDS) + "\n", encoding="utf-8")
    return path


def test_run_records_the_timeout_on_its_step_and_goes_on(room_games, tmp_path) -> None:
    out = tmp_path / "run"
    argv = [
        "run", "--env", "s2b/jericho-watchdog_room-v0", "--games-dir", room_games,
        "--agent", "walkthrough", "--walkthrough", _walkthrough(tmp_path),
        "--step-timeout", "0.5", "--episodes", "1", "--out", out, "--progress", "off",
    ]  # fmt: skip
    code, text = _cli(*argv)
    assert code == 0, text  # was: exit 2 on the hang, the run over
    steps = [json.loads(x) for x in (out / "trajectory.jsonl").read_text().splitlines()]
    steps = [r for r in steps if r.get("action") in COMMANDS]
    assert [r["action"] for r in steps] == COMMANDS  # every command, the hang included
    hung = json.dumps(steps[1])
    assert "step time limit of 0.5 s" in hung and "spin lever" in hung
    assert "wooden box" in json.dumps(steps[2])  # the game was restored and went on
    code, text = _cli(*argv, "--resume")  # nothing left to do: no wall hit again
    assert code == 0, text


def test_play_shows_the_timeout_and_keeps_playing(room_games, tmp_path) -> None:
    code, text = _cli(
        "play", "s2b/jericho-watchdog_room-v0", "--games-dir", room_games,
        "--agent", "walkthrough", "--walkthrough", _walkthrough(tmp_path),
        "--step-timeout", "0.5",
    )  # fmt: skip
    assert code == 0, text
    assert "did not answer 'spin lever' within the step time limit" in text
    assert "wooden box" in text.split("spin lever", 1)[1]  # inventory, after the hang
