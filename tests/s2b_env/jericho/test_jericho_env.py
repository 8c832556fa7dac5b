"""JerichoEnv on the real story files of the shared Jericho suite."""

from __future__ import annotations

import subprocess
import time
import warnings

import gymnasium as gym
import jericho
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import s2b_env
from s2b_env.errors import GameNotFoundError, StoryFileError
from s2b_env.inform.build import find_compiler
from s2b_env.jericho import core
from s2b_env.jericho.env import JerichoEnv
from s2b_env.jericho.watchdog import StepTimeoutError
from s2b_env.registration import JERICHO_SUITE, env_id
from tests.conftest import GAMES_DIR, JERICHO_DIR, shared_jericho_games
from tests.helpers import rollout

SHARED = shared_jericho_games()
# The registry's Jericho ids, plus story files found in the games dir that jericho does not know.
s2b_env.register_games_dir(GAMES_DIR if GAMES_DIR.is_dir() else None)
JERICHO_IDS = sorted(k for k in gym.registry if k.startswith("s2b/jericho-"))


def make(game: str, **kwargs) -> gym.Env:
    return gym.make(env_id("jericho", game), games_dir=GAMES_DIR, **kwargs)


def test_registry_covers_the_suite_and_the_shared_files() -> None:
    assert {env_id("jericho", g) for g in JERICHO_SUITE} <= set(JERICHO_IDS)
    assert {env_id("jericho", g) for g in SHARED} <= set(JERICHO_IDS)
    spec = gym.spec("s2b/jericho-zork1-v0")
    assert isinstance(spec.entry_point, str)
    assert spec.max_episode_steps == 1000


@pytest.mark.parametrize("game", SHARED)
def test_every_shared_story_file_loads_resets_and_takes_50_random_steps(game: str) -> None:
    with make(game) as env:
        trace = rollout(env, seed=3, steps=50)
    observation, info = trace[0]
    assert isinstance(observation, str) and observation.strip()
    assert env.observation_space.contains(observation)
    for record in trace[1:]:
        _action, observation, reward, terminated, truncated, info = record
        assert env.observation_space.contains(observation)
        assert isinstance(reward, float)
        assert set(info) == set(trace[0][1])
    # 50 steps were taken, unless the game ended on the last one recorded.
    assert len(trace) == 51 or trace[-1][3] or trace[-1][4]
    assert not any(r[3] or r[4] for r in trace[1:-1])  # nothing went on after an end


@pytest.mark.parametrize("game", SHARED)
def test_check_env_and_seeded_determinism(game: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # check_env's advice about Text spaces
        check_env(make(game).unwrapped, skip_render_check=True)
    first = rollout(make(game), seed=11, steps=100)
    second = rollout(make(game), seed=11, steps=100)
    assert first == second


def test_zork1_walkthrough_reaches_350_and_terminates() -> None:
    env = make("zork1", max_episode_steps=None)
    observation, info = env.reset(seed=0)
    assert info["score"] == 0 and info["max_score"] == 350
    total = 0.0
    for action in env.unwrapped.walkthrough():
        observation, reward, terminated, truncated, info = env.step(action)
        total += reward
        if terminated:
            break
    assert terminated and not truncated
    assert info["score"] == 350 and total == 350.0
    assert info["victory"] is True


def test_info_keys_are_fixed_and_documented() -> None:
    env = make("zork1")
    _, info = env.reset(seed=0)
    expected = {"game", "score", "max_score", "moves", "location", "world_hash", "victory",
                "refused", "action", "warnings"}  # fmt: skip
    assert set(info) == expected
    for key in expected:
        assert f"``{key}``" in JerichoEnv.__doc__
    _, _, _, _, info = env.step("open mailbox")
    assert set(info) == expected
    assert info["location"] == "West of House" and info["moves"] == 1
    assert isinstance(info["world_hash"], str)


def test_inventory_extra_does_not_advance_the_game() -> None:
    env = make("zork1", inventory=True)
    env.reset(seed=0)
    for action in ["open mailbox", "take leaflet"]:
        _, _, _, _, info = env.step(action)
    assert info["inventory"] == ["leaflet"]
    assert info["moves"] == 2
    plain = make("zork1")
    plain.reset(seed=0)
    for action in ["open mailbox", "take leaflet"]:
        _, _, _, _, plain_info = plain.step(action)
    assert plain_info["moves"] == info["moves"]
    assert plain_info["world_hash"] == info["world_hash"]


def test_inventory_of_an_unknown_game_is_probed_without_a_move(games_dir) -> None:
    # The Jiminy Cricket rebuild of Zork I is a story file jericho does not know.
    story = games_dir / "jiminy-cricket" / "zork1" / "zork1.z3"
    with_inventory = JerichoEnv(story_file=story, inventory=True)
    without = JerichoEnv(story_file=story)
    assert not with_inventory.known
    _, info = with_inventory.reset(seed=0)
    assert info["inventory"] == ["You are empty-handed."]
    without.reset(seed=0)
    for action in ["open mailbox", "take leaflet"]:
        _, _, _, _, info = with_inventory.step(action)
        _, _, _, _, plain = without.step(action)
    assert any("leaflet" in line for line in info["inventory"])
    assert info["moves"] == plain["moves"] == 2
    assert with_inventory.last_observation == without.last_observation


def test_get_state_set_state_round_trip() -> None:
    env = make("zork1").unwrapped
    env.reset(seed=0)
    walkthrough = env.walkthrough()
    for action in walkthrough[:30]:
        env.step(action)
    state = env.get_state()
    later = [env.step(a) for a in walkthrough[30:45]]
    env.set_state(state)
    assert env.last_observation == state.observation
    again = [env.step(a) for a in walkthrough[30:45]]
    assert again == later
    env.set_state(state)
    assert env.get_state().info == state.info
    assert env.get_state().score == state.score and env.get_state().moves == state.moves


def test_location_of_an_unknown_v3_game_is_the_room_after_the_step(games_dir) -> None:
    # Leather Goddesses of Phobos is unknown to jericho: the location comes from global 0, the
    # status line's object, read after the command (the status line in the output is older).
    env = gym.make("s2b/jericho-lgop-v0", games_dir=games_dir).unwrapped
    env.reset(seed=0)
    assert env.step("lewd")[4]["location"] == "Joe's Bar"
    observation, *_, info = env.step("nw")
    assert observation.startswith("Gents' Room") and info["location"] == "Gents' Room"
    state = env.get_state()
    observation, *_, info = env.step("se")
    assert observation.startswith("Joe's Bar") and info["location"] == "Joe's Bar"
    env.set_state(state)
    assert env.get_state().info["location"] == "Gents' Room"
    assert env.step("look")[4]["location"] == "Gents' Room"
    assert env.step("quit")[4]["location"] == "Gents' Room"  # refused: nothing moves


def test_object_names_are_decoded_from_memory() -> None:
    # jericho's own names drop the abbreviations ("West House"); the decoder prints them whole.
    env = make("zork1").unwrapped
    env.reset(seed=0)
    memory = env.memory
    room = memory.object_parent(env.emulator.player_obj_num)
    assert memory.object_name(room) == "West of House"
    assert env.emulator.get_object(room).name == "West House"
    assert memory.object_name(0) is None and memory.object_name(100_000) is None


def test_set_state_rejects_foreign_states() -> None:
    zork = make("zork1").unwrapped
    zork.reset(seed=0)
    with pytest.raises(TypeError, match="EnvState"):
        zork.set_state(("not", "a", "state"))
    other = make("detective").unwrapped
    other.reset(seed=0)
    with pytest.raises(ValueError, match="detective"):
        zork.set_state(other.get_state())


def test_seed_zero_is_a_real_seed_for_games_without_walkthrough_seed(games_dir) -> None:
    a = gym.make("s2b/jericho-lgop-v0", games_dir=games_dir).unwrapped
    a.reset(seed=0)
    first = a.emulator._seed
    a.reset(seed=0)
    assert a.emulator._seed == first >= 1000
    a.reset(seed=1)
    assert a.emulator._seed != first


def test_game_seed_option_is_validated() -> None:
    env = make("zork1").unwrapped
    with pytest.raises(ValueError, match="game_seed"):
        env.reset(options={"game_seed": 5})
    with pytest.raises(TypeError, match="game_seed"):
        env.reset(options={"game_seed": "x"})
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"starting_point": 3})
    env.reset(options={"game_seed": 12345})
    assert env.emulator._seed == 12345


def test_step_before_reset_is_an_error() -> None:
    env = make("zork1").unwrapped
    with pytest.raises(gym.error.ResetNeeded):
        env.step("look")


# ----------------------------------------------------------------- bad input


def _snapshot(env: JerichoEnv) -> tuple:
    state = env.get_state()
    return state.emulator[0].tobytes(), state.moves, state.score, state.steps


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("save", core.META_REFUSAL),
        ("quit", core.META_REFUSAL),
        ("Q", core.META_REFUSAL),
        ("restart", core.META_REFUSAL),
        ("restore", core.META_REFUSAL),
        ("script", core.META_REFUSAL),
        ("unscript", core.META_REFUSAL),
        ("undo", core.META_REFUSAL),
        ("north. save", core.META_REFUSAL),
        ("take leaflet then quit", core.META_REFUSAL),
    ],
    ids=[
        "save",
        "quit",
        "q",
        "restart",
        "restore",
        "script",
        "unscript",
        "undo",
        "hidden-save",
        "then-quit",
    ],
)
def test_refused_actions_never_reach_the_emulator(action: str, expected: str) -> None:
    env = make("zork1").unwrapped
    env.reset(seed=0)
    env.step("open mailbox")
    before = _snapshot(env)
    observation, reward, terminated, truncated, info = env.step(action)
    assert observation == expected
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert info["refused"] is True and info["action"] == ""
    assert _snapshot(env) == before


@pytest.mark.parametrize("action", ["", "   \t  "], ids=["empty", "whitespace"])
def test_an_empty_action_reaches_the_game_as_enter(action: str) -> None:
    # Raw Frotz is the oracle: the game reads an empty line, as a player pressing Enter.
    env = make("zork1").unwrapped
    env.reset(seed=0)
    oracle = jericho.FrotzEnv(str(env.story_path))
    oracle.reset()
    expected = oracle.step("")[0]
    observation, reward, terminated, _, info = env.step(action)
    assert observation == core.split_status_line(expected)[0]
    assert info["refused"] is False and info["action"] == "" and reward == 0.0
    assert core.EMPTY_ACTION_NOTE in info["warnings"]
    assert env.get_state().emulator[0].tobytes() == oracle.get_state()[0].tobytes()
    assert info["moves"] == oracle.get_moves()


def test_ten_kilobyte_action_is_truncated_with_a_warning() -> None:
    env = make("zork1").unwrapped
    env.reset(seed=0)
    observation, _, _, _, info = env.step("x" * 10_000)
    assert info["action"] == "x" * core.MAX_ACTION_LENGTH == "x" * 198
    assert any("cut to the game's limit of 198" in w for w in info["warnings"])
    # The game answers what raw Frotz answers to the cut command from the same start.
    raw = jericho.FrotzEnv(str(JERICHO_DIR / "zork1.z5"), seed=env.emulator._seed)
    raw.reset()
    expected, *_ = raw.step("x" * 198)
    raw.close()
    assert observation.strip() == expected.strip()
    assert "I don't know the word" in observation


def test_non_ascii_and_control_characters_are_cleaned_with_warnings() -> None:
    env = make("zork1").unwrapped
    env.reset(seed=0)
    observation, _, _, _, info = env.step("öpen mäilbox\n\x07")
    assert info["action"] == "open mailbox"
    assert len(info["warnings"]) == 2
    assert "leaflet" in observation
    _, _, _, _, info = env.step("take 🍕 leaflet\r\n")
    assert info["action"] == "take leaflet" and not info["refused"]


def test_non_string_action_is_a_type_error() -> None:
    env = make("zork1").unwrapped
    env.reset(seed=0)
    with pytest.raises(TypeError, match="must be a str"):
        env.step(42)  # type: ignore[arg-type]


def test_actions_after_the_end_are_refused() -> None:
    env = make("zork1", max_episode_steps=None).unwrapped
    env.reset(seed=0)
    for action in env.walkthrough():
        _, _, terminated, _, _ = env.step(action)
        if terminated:
            break
    observation, reward, terminated, _, info = env.step("north")
    assert observation == core.ENDED_REFUSAL and terminated and reward == 0.0 and info["refused"]


def test_missing_story_file(tmp_path) -> None:
    with pytest.raises(GameNotFoundError, match="does not exist"):
        JerichoEnv(story_file=tmp_path / "nowhere.z5")


def test_unknown_game_names_the_directory_searched(games_dir) -> None:
    with pytest.raises(GameNotFoundError) as err:
        JerichoEnv("zork9", games_dir=games_dir)
    assert str(games_dir / "jericho") in str(err.value)
    assert "S2B_GAMES_DIR" in str(err.value)


def test_no_games_dir_set(monkeypatch) -> None:
    monkeypatch.delenv("S2B_GAMES_DIR", raising=False)
    with pytest.raises(GameNotFoundError, match="S2B_GAMES_DIR"):
        JerichoEnv("zork1")


def test_unregistered_id_is_a_gymnasium_error() -> None:
    with pytest.raises(gym.error.Error):
        gym.make("s2b/jericho-zork9-v0")


def test_random_bytes_are_not_a_story_file(tmp_path) -> None:
    path = tmp_path / "noise.z5"
    rng = np.random.default_rng(0)
    for attempt in range(20):
        path.write_bytes(rng.integers(0, 256, size=4096, dtype=np.uint8).tobytes())
        with pytest.raises(StoryFileError, match="not a Z-machine story file") as caught:
            JerichoEnv(story_file=path)
        assert str(path) in str(caught.value), f"attempt {attempt}: the error names no file"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"This is a plain text file, not a game.\n" * 4, "version 1-8"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "version 1-8"),
        (b"FORM\x00\x00\x10\x00IFRSRIdx" + bytes(100), "Blorb"),
        (b"\x05", "64-byte header"),
        (b"", "64-byte header"),
    ],
    ids=["text", "png", "blorb", "one-byte", "empty"],
)
def test_non_z_machine_files_are_refused(tmp_path, content: bytes, message: str) -> None:
    path = tmp_path / "game.z5"
    path.write_bytes(content)
    with pytest.raises(StoryFileError, match=message):
        JerichoEnv(story_file=path)


def test_truncated_story_file_is_refused(tmp_path) -> None:
    data = (JERICHO_DIR / "zork1.z5").read_bytes()
    path = tmp_path / "zork1.z5"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoryFileError, match="truncated"):
        JerichoEnv(story_file=path)


@pytest.mark.parametrize("action", ["\\Q", "\\help", "look \\o", "\\\\"])
def test_backslash_escapes_never_reach_frotz(action: str) -> None:
    # Frotz's dumb terminal reads "\X" as interpreter commands; an unknown one used to kill the
    # whole process. They are removed with a warning.
    env = make("zork1").unwrapped
    env.reset(seed=0)
    observation, _, terminated, _, info = env.step(action)
    assert "\\" not in info["action"]
    assert any("backslash" in w for w in info["warnings"])
    assert not terminated
    _, _, _, _, info = env.step("open mailbox")
    assert info["moves"] >= 1


#: A game whose start-up hangs for some emulator seeds: an endless loop before the first prompt.
SEED_HANG_SOURCE = (
    '[ Main x; if (random(100) > 50) { while (true) ; } print "Hello.^"; @read_char 1 -> x; ];\n'
)


@pytest.mark.timeout(60)
def test_a_reset_that_hangs_is_stopped_by_the_step_timeout(tmp_path) -> None:
    source, story = tmp_path / "seedhang.inf", tmp_path / "seedhang.z5"
    source.write_text(SEED_HANG_SOURCE)
    subprocess.run([str(find_compiler()), "-v5", str(source), str(story)], check=True)
    env = JerichoEnv(story_file=story, step_timeout=0.5)  # seed 1000 starts normally
    assert env.reset(options={"game_seed": 1000})[0] == "Hello.\n"
    with pytest.raises(StepTimeoutError, match="first prompt"):
        env.reset(options={"game_seed": 1001})  # this seed's start-up never reaches a prompt
    with pytest.raises(gym.error.ResetNeeded):
        env.step("look")
    assert env.reset(options={"game_seed": 1002})[0] == "Hello.\n"  # and the env recovers
    env.close()


#: A game that never reaches its first prompt: an endless loop before any input.
START_HANG_SOURCE = '[ Main; print "Loading...^"; while (true) ; ];\n'


@pytest.mark.timeout(60)
@pytest.mark.parametrize("limit", ["step_timeout", "default"])
def test_a_story_file_that_hangs_at_start_up_is_stopped(tmp_path, monkeypatch, limit) -> None:
    from s2b_env.jericho import env as env_module

    source, story = tmp_path / "starthang.inf", tmp_path / "starthang.z5"
    source.write_text(START_HANG_SOURCE)
    subprocess.run([str(find_compiler()), "-v5", str(source), str(story)], check=True)
    kwargs = {"step_timeout": 0.5}
    if limit == "default":  # no step_timeout: the start-up limit still applies (shortened here)
        monkeypatch.setattr(env_module, "STARTUP_TIMEOUT", 0.5)
        kwargs = {}
    start = time.monotonic()
    with pytest.raises(StepTimeoutError, match="did not reach its first prompt"):
        JerichoEnv(story_file=story, **kwargs)
    assert time.monotonic() - start < 20
    # the watchdog is clear: a game that starts still starts, in the same process
    assert JerichoEnv("zork1", games_dir=GAMES_DIR, **kwargs).reset()[0]
