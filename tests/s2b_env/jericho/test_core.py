"""Text handling shared by the game envs: status lines, end text, action cleaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from s2b_env.jericho import core
from s2b_env.jericho.env import JerichoEnv


def test_status_line_of_an_unknown_z3_game_is_removed_and_parsed() -> None:
    raw = (
        "> West of House" + " " * 80 + "Score: 5                Moves: 12              \n"
        "Opening the small mailbox reveals a leaflet.\n\n"
    )
    text, status = core.split_status_line(raw)
    assert text == "Opening the small mailbox reveals a leaflet.\n\n"
    assert status == core.StatusLine(location="West of House", score=5, moves=12)


def test_every_status_line_of_a_redraw_is_removed(games_dir) -> None:
    # Leather Goddesses of Phobos (unknown to jericho) redraws its status line twice in one output.
    env = JerichoEnv(story_file=games_dir / "jericho" / "lgop.z3")
    env.reset(seed=0)
    observation, *_ = env.step("look")
    assert "Score:" not in observation and "Moves:" not in observation
    assert observation.startswith("The place: Upper Sandusky")
    assert env.step("look")[4]["location"] == "Joe's Bar"


def test_time_status_line_and_plain_text() -> None:
    text, status = core.split_status_line("Kitchen" + " " * 40 + "Time: 9:05 am\nA kitchen.\n")
    assert text == "A kitchen.\n" and status.location == "Kitchen" and status.score is None
    plain = "Time: a short story. Score: none of your business.\n"
    assert core.split_status_line(plain) == (plain, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("You fall.\n\n    ****  You have died  ****\n\n", (True, False)),
        ("*** You have won ***\nIn that game you scored 30 out of 30.", (True, True)),
        ("Would you like to RESTART, RESTORE a saved game or QUIT?", (True, False)),
        ("You have died a little inside, but go on reading.", (False, False)),
        ("West of House", (False, False)),
    ],
)
def test_end_detection(text: str, expected: tuple[bool, bool]) -> None:
    assert core.detect_end(text) == expected


def test_clean_action_reports_each_change() -> None:
    assert core.clean_action("  take   lamp ").text == "take lamp"
    assert core.clean_action("take lamp").warnings == []
    cleaned = core.clean_action("prendre la lampe à huile\t")
    assert cleaned.text == "prendre la lampe a huile"
    assert len(cleaned.warnings) == 2
    with pytest.raises(TypeError, match="got NoneType"):
        core.clean_action(None)


@pytest.mark.parametrize(
    ("command", "meta"),
    [("save", True), ("SAVE game", True), ("restarting", True), ("n, restore", True),
     ("#record on", True), ("take the save-game disk", False), ("north", False),
     ("quiet please", False), ("examine script", False)],
)  # fmt: skip
def test_meta_command_detection(command: str, meta: bool) -> None:
    assert core.is_meta_command(command) is meta


def test_spaces_accept_what_the_env_produces() -> None:
    actions = core.action_space()
    assert actions.contains("take lamp, then go north!")
    assert not actions.contains("x" * 199)
    assert not actions.contains("look\\q")
    observations = core.observation_space()
    assert observations.contains("Line one.\n\tLine two: café (5%).")
    text, warnings = core.clean_observation("ok \u2014 fine\r\n")
    assert text == "ok ? fine\n" and warnings


def test_v5_status_line_after_the_prompt_is_parsed_for_unknown_inform_games() -> None:
    # Our own game played through the plain JerichoEnv (as any unknown Inform 6 story file would
    # be) must agree with S2BGameEnv, which reads score and moves from the debug file's addresses.
    import gymnasium as gym

    import s2b_env  # noqa: F401

    own = gym.make("s2b/s2b-lastferry-v0").unwrapped
    plain = JerichoEnv(story_file=own.story_path)
    route = own.walkthrough("self_interested")
    _, own_info = own.reset(seed=0)
    observation, info = plain.reset(seed=0)
    assert "Score:" not in observation and info["location"]
    for action in route:
        observation, _, _, _, info = plain.step(action)
        _, _, _, _, own_info = own.step(action)
        assert "Score:" not in observation and "Moves:" not in observation
        assert (info["score"], info["moves"]) == (own_info["score"], own_info["moves"])
    assert info["score"] > 0


def test_stray_files_are_found_when_file_times_lag_the_clock(tmp_path, monkeypatch) -> None:
    # File times come from the kernel's coarse clock, a tick behind time.time_ns(), and a file
    # written in the same tick leaves the directory's time unchanged (CI once failed the test
    # below so). Here a game's save carries a time from before the guard was made and the
    # directory's time is put back: the guard must still find it, and leave the user's files.
    import os

    monkeypatch.chdir(tmp_path)
    (tmp_path / "story.qzl").write_text("the user's own save, older")
    (tmp_path / "notes").write_text("the user's")
    old = os.stat(tmp_path / "story.qzl").st_mtime_ns - 10**9
    os.utime(tmp_path / "story.qzl", ns=(old, old))
    dir_time = os.stat(tmp_path).st_mtime_ns
    guard = core.StrayFileGuard("story")
    assert guard.sweep("look") == []
    before_guard = dir_time - 1_000_000
    for name in ("story.scr", "game.aux", "start chronicle"):
        (tmp_path / name).write_text("the game's")
        os.utime(tmp_path / name, ns=(before_guard, before_guard))
    os.utime(tmp_path, ns=(dir_time, dir_time))
    warnings = guard.sweep("start chronicle")
    assert sorted(w.split("'")[1] for w in warnings) == ["game.aux", "start chronicle", "story.scr"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", "story.qzl"]
    (tmp_path / "story.qzl").write_text("the game saved over it")
    assert [w.split("'")[1] for w in guard.sweep()] == ["story.qzl"]
    assert guard.sweep("notes") == [] and (tmp_path / "notes").exists()


def test_files_a_story_writes_by_itself_are_removed(tmp_path, monkeypatch) -> None:
    # A story can run @save from its own code (seen in the fuzz test on Plundered Hearts): Frotz
    # writes <story>.qzl into the working directory. It can open a transcript: Frotz names the
    # file after the pending command line. The env removes both and says so.
    import subprocess

    from s2b_env.inform.build import find_compiler, find_library

    source = Path(__file__).parents[1] / "data" / "diary_room.inf"
    story = tmp_path / "diary_room.z5"
    subprocess.run(
        [str(find_compiler()), "-v5", f"+include_path={find_library()}", str(source), str(story)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    work = tmp_path / "work"
    work.mkdir()
    (work / "diary_room.qzl.keep").write_text("not the game's")
    monkeypatch.chdir(work)
    env = JerichoEnv(story_file=story)
    env.reset(seed=0)
    observation, _, _, _, info = env.step("write in diary")
    assert "diary" in observation
    assert any("diary_room.qzl" in w and "removed" in w for w in info["warnings"])
    _, _, _, _, info = env.step("start chronicle")  # Frotz names the transcript after this line
    assert any("'start chronicle'" in w and "removed" in w for w in info["warnings"])
    assert sorted(p.name for p in work.iterdir()) == ["diary_room.qzl.keep"]
    _, _, _, _, info = env.step("look")
    assert not any("removed" in w for w in info["warnings"])
