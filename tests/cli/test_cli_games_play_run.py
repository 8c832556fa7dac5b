"""The foundation's commands: ``s2b games list``, ``s2b play``, ``s2b run``."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from rich.console import Console

from s2b.cli import main
from s2b_env.trajectory import read_trajectory
from tests.conftest import REPO, console_text, shared_jiminy_games


def run_cli(console: Console, *argv: str) -> tuple[int, str]:
    code = main(list(argv), console=console)
    return code, console_text(console)


def test_games_list_json(console, games_dir) -> None:
    code, out = run_cli(console, "games", "list", "--games-dir", str(games_dir), "--format", "json")
    assert code == 0
    games = json.loads(out)
    by_id = {g["id"]: g for g in games}
    zork = by_id["s2b/jericho-zork1-v0"]
    assert zork["kind"] == "jericho" and zork["path"].endswith("zork1.z5")
    assert "walkthrough" in zork["features"]
    assert "score" not in by_id["s2b/jericho-lgop-v0"]["features"]  # unknown to jericho
    assert all({"id", "kind", "path"} <= set(g) for g in games)
    assert sum(g["kind"] == "jericho" for g in games) == len(
        list((games_dir / "jericho").iterdir())
    )


def test_games_list_table_fits_80_columns(console, games_dir) -> None:
    code, out = run_cli(console, "games", "list", "--games-dir", str(games_dir))
    assert code == 0
    assert "s2b/jericho-zork1-v0" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_games_list_with_a_missing_dir_is_one_clear_line(console, tmp_path) -> None:
    code, out = run_cli(console, "games", "list", "--games-dir", str(tmp_path / "nope"))
    assert code == 2
    assert "does not exist" in out and "Traceback" not in out


def _games_dir_copy(games_dir, tmp_path, games_json: str):
    """The shared games dir's layout in ``tmp_path`` (folders linked) with our own ``games.json``."""
    root = tmp_path / "games"
    jiminy = root / "jiminy-cricket"
    jiminy.mkdir(parents=True)
    (root / "jericho").symlink_to(games_dir / "jericho", target_is_directory=True)
    for game in (games_dir / "jiminy-cricket").iterdir():
        if game.is_dir():
            (jiminy / game.name).symlink_to(game, target_is_directory=True)
    (jiminy / "games.json").write_text(games_json, encoding="utf-8")
    return root


def test_games_list_copy_of_games_dir_lists_jiminy_games(console, games_dir, tmp_path) -> None:
    text = (games_dir / "jiminy-cricket" / "games.json").read_text(encoding="utf-8")
    root = _games_dir_copy(games_dir, tmp_path, text)
    code, out = run_cli(console, "games", "list", "--games-dir", str(root), "--format", "json")
    assert code == 0, out
    jiminy = {g["name"] for g in json.loads(out) if g["kind"] == "jiminy"}
    assert "zork1" in jiminy and jiminy == set(shared_jiminy_games())


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda text: text[:-40], "games.json, line "),
        (lambda text: json.dumps({"games": {**json.loads(text)["games"], "zork1": 7}}),
         "field 'games.zork1': expected an object, got int"),
    ],
    ids=["malformed-json", "entry-not-an-object"],
)  # fmt: skip
def test_games_list_with_a_broken_games_json_is_one_clear_line(
    console, games_dir, tmp_path, break_it, message
) -> None:
    text = (games_dir / "jiminy-cricket" / "games.json").read_text(encoding="utf-8")
    root = _games_dir_copy(games_dir, tmp_path, break_it(text))
    code, out = run_cli(console, "games", "list", "--games-dir", str(root))
    assert code == 2, out
    assert str(root / "jiminy-cricket" / "games.json") in out.replace("\n", "")
    assert message in out.replace("\n", "") and "Traceback" not in out


def test_run_walkthrough_writes_trajectory_and_summary(console, games_dir, tmp_path) -> None:
    out_dir = tmp_path / "run"
    code, out = run_cli(
        console, "run", "--env", "s2b/jericho-zork1-v0", "--agent", "walkthrough",
        "--games-dir", str(games_dir), "--out", str(out_dir), "--progress", "off",
    )  # fmt: skip
    assert code == 0
    assert "350/350" in out and " over" in out
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["episodes"][0]["score"] == 350
    trajectory = read_trajectory(out_dir / "trajectory.jsonl")
    assert trajectory.header["game_checksum"].startswith("sha256:")
    assert trajectory.episodes[0].steps[-1]["terminated"] is True


def test_run_random_resumes_where_it_stopped(console, games_dir, tmp_path) -> None:
    out_dir = tmp_path / "run"
    args = ["run", "--env", "zork1", "--agent", "random", "--episodes", "3", "--seed", "7",
            "--max-steps", "30", "--games-dir", str(games_dir), "--out", str(out_dir),
            "--progress", "plain", "--quiet"]  # fmt: skip
    assert run_cli(console, *args)[0] == 0
    full = read_trajectory(out_dir / "trajectory.jsonl")
    # Simulate a crash in episode 2: keep episodes 0-1 and half of episode 2's lines.
    lines = (out_dir / "trajectory.jsonl").read_text().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if '"episode_id": 2' in line) + 10
    (out_dir / "trajectory.jsonl").write_text("".join(lines[:cut]) + lines[cut][:20])
    again = Console(file=io.StringIO(), width=80)
    assert run_cli(again, *args)[0] == 2  # refuses to overwrite without --resume
    # A resume with other options is refused before the file is touched.
    cut_file = (out_dir / "trajectory.jsonl").read_bytes()
    other = Console(file=io.StringIO(), width=80)
    code, out = run_cli(other, *[a if a != "7" else "8" for a in args], "--resume")
    assert code == 2 and "holds another run" in out and '"seed": 7' in out
    assert (out_dir / "trajectory.jsonl").read_bytes() == cut_file
    code, out = run_cli(again, *args, "--resume")
    assert code == 0
    assert "episode 2:" in out and "episode 1:" not in out  # only the cut episode is replayed
    resumed = read_trajectory(out_dir / "trajectory.jsonl")
    assert [e.actions for e in resumed.episodes] == [e.actions for e in full.episodes]
    assert all(e.complete for e in resumed.episodes)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--env", "zork9", "--games-dir", "{g}"], "no s2b environment called 'zork9'"),
        (["run", "--env", "zork1", "--episodes", "0", "--games-dir", "{g}"], "--episodes must be >= 1"),
        (["run", "--env", "zork1", "--agent", "walkthrough", "--walkthrough", "/nonexistent.txt",
          "--games-dir", "{g}"], "does not exist"),
        (["run", "--env", "zork1", "--resume", "--games-dir", "{g}"], "--resume needs --out"),
        (["run", "--env", "zork1", "--env-arg", "oops", "--games-dir", "{g}"], "KEY=VALUE"),
        (["play", "zork1", "--games-dir", "{g}", "--env-arg", "colour=blue"], "colour"),
    ],
    ids=["unknown-env", "zero-episodes", "missing-walkthrough", "resume-without-out",
         "bad-env-arg", "unknown-env-kwarg"],
)  # fmt: skip
def test_bad_options_give_one_clear_error(console, games_dir, argv, message) -> None:
    code, out = run_cli(console, *[a.replace("{g}", str(games_dir)) for a in argv])
    assert code == 2
    assert message in out and "Traceback" not in out


def test_play_as_a_person_shows_refusals_and_stops_at_end_of_input(games_dir, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("open mailbox\nsave\n"))
    console = Console(file=io.StringIO(), width=80)
    code, out = run_cli(console, "play", "zork1", "--games-dir", str(games_dir))
    assert code == 0
    assert "leaflet" in out and "refused" in out and "end of input" in out
    assert "score 0/350 · moves 1" in out


@pytest.mark.parametrize(
    ("game", "answers", "shown"),
    [
        ("dilemma", "1\n1\n1\n1\n", "Values your choices moved:"),
        ("judgment", "nta\n", "Reference verdicts:"),
    ],
)
def test_play_scenarios_as_a_person_shows_values_as_they_fire(
    game, answers, shown, monkeypatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(answers))
    console = Console(file=io.StringIO(), width=80)
    code, out = run_cli(console, "play", game, "--seed", "0")
    assert code == 0
    assert "[values]" in out and shown in out and "The game is over." in out
    assert "score None" not in out and "end of input" not in out


def test_play_jiminy_shows_morality_labels_as_they_fire(console, games_dir) -> None:
    code, out = run_cli(console, "play", "jiminy-zork1", "--agent", "walkthrough",
                        "--max-steps", "12", "--games-dir", str(games_dir))  # fmt: skip
    assert code == 0
    assert "[morality] bad_others 1" in out and "window" in out.lower()
    assert "[ID:" not in out  # markers never reach the screen


def test_rich_progress_without_a_terminal_prints_lines(games_dir) -> None:
    argv = ["run", "--env", "dilemma", "--episodes", "2", "--progress", "rich"]
    code, out = run_cli(Console(file=io.StringIO(), width=80), *argv)
    assert code == 0
    lines = out.splitlines()  # plain: a line per step
    assert lines[0].startswith("ep 0 step 1: ") and "reward +0" in lines[0]
    assert lines[1].startswith("ep 1 step 1: ")
    assert lines[3].strip() == "s2b/dilemma-v0 · random · 2 episodes"  # the table's own line
    code, out = run_cli(Console(file=io.StringIO(), width=80), *argv, "--quiet")
    lines = out.splitlines()  # --quiet: a line per episode
    assert lines[0].startswith("episode 0: 1 steps, return 0") and "score" not in lines[0]
    assert lines[2].strip() == "s2b/dilemma-v0 · random · 2 episodes"
    terminal = Console(file=io.StringIO(), width=80, force_terminal=True)
    code, out = run_cli(terminal, *argv)
    assert code == 0 and "2/2" in out and "episode 0:" not in out


def test_play_watching_the_walkthrough_agent(console, games_dir) -> None:
    code, out = run_cli(console, "play", "zork1", "--agent", "walkthrough", "--max-steps", "3",
                        "--games-dir", str(games_dir))  # fmt: skip
    assert code == 0 and "> N" in out and "Up a Tree" in out


def test_console_script_without_stdin_has_no_traceback(games_dir, tmp_path) -> None:
    env = {**os.environ, "S2B_GAMES_DIR": str(games_dir)}
    bad = tmp_path / "noise.z5"
    bad.write_bytes(os.urandom(2048))
    proc = subprocess.run(
        [sys.executable, "-m", "s2b", "play", "zork1"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, cwd=REPO, env=env,
    )  # fmt: skip
    assert proc.returncode == 0 and "end of input" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "s2b", "run", "--env", "noise", "--games-dir", str(tmp_path)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, cwd=REPO, env=env,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "not a Z-machine story file" in proc.stdout and "Traceback" not in proc.stderr


def test_run_on_a_value_env_reports_value_totals(console, tmp_path) -> None:
    out_dir = tmp_path / "dilemmas"
    code, out = run_cli(console, "run", "--env", "dilemma", "--episodes", "6", "--seed", "3",
                        "--out", str(out_dir), "--progress", "off")  # fmt: skip
    assert code == 0 and "value totals per episode (6 episodes)" in out
    episodes = json.loads((out_dir / "summary.json").read_text())["episodes"]
    trajectory = read_trajectory(out_dir / "trajectory.jsonl")
    for summary, episode in zip(episodes, trajectory.episodes, strict=True):
        summed: dict[str, float] = {}
        for step in episode.steps:
            for key, value in step["info"]["value_effects"].items():
                summed[key] = summed.get(key, 0) + value
        assert summary["metrics"]["value_totals"] == summed
        assert summed == episode.steps[-1]["info"]["value_totals"]


def test_jiminy_summary_shows_the_morality_metrics_in_80_columns(console, games_dir) -> None:
    code, out = run_cli(console, "run", "--env", "jiminy-zork1", "--agent", "walkthrough",
                        "--games-dir", str(games_dir), "--progress", "off")  # fmt: skip
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    # The row's numbers are the Jiminy Cricket reference env's on this walkthrough (issue 19's
    # table): 348 commands, score 360, labels [bad_others, bad_self, good_others, good_self] =
    # [63, 4, 0, 0]; percent completion 100.
    header = next(line for line in out.splitlines() if "immoral" in line).split()
    row = next(line for line in out.splitlines() if "360/360" in line).split()
    assert dict(zip(header, row, strict=True)) == {
        "ep": "0", "seed": "0", "steps": "348", "return": "360", "score": "360/360",
        "%done": "100", "end": "over", "immoral": "63", "bad-s": "4", "good-o": "0", "good-s": "0",
    }  # fmt: skip
