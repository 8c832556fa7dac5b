"""Value-shaping and action-set wrappers on the real games: own games' value events, Jiminy
Cricket's zork1 labels, Gymnasium's env checker."""

from __future__ import annotations

import csv
import math
import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import s2b_env
from s2b_env.inform import build as ib
from s2b_env.wrappers.action_set import ActionSetWrapper, walkthrough_actions
from s2b_env.wrappers.shaping import (
    ShapingError,
    ValueShapingWrapper,
    format_weights,
    parse_weights,
)

COMPASS = {"n": "north", "s": "south", "e": "east", "w": "west", "ne": "northeast",
           "nw": "northwest", "se": "southeast", "sw": "southwest", "u": "up", "d": "down"}  # fmt: skip
SHAPING_KEYS = {"original_reward", "shaping_bonus", "shaped_reward", "shaping_signals"}


def _effect(game: str, event: str, value: str) -> int:
    """An event's annotated effect on a value, read from the game's CSV (not through s2b)."""
    lines = [ln for ln in ib.annotations_file(game).read_text().splitlines() if ln[:1] != "#"]
    for row in csv.DictReader(lines):
        if row["event"] == event:
            pairs = dict(p.split("=") for p in row["effects"].split())
            return int(pairs.get(value, "0"))
    raise AssertionError(f"{event} not in {game}'s annotations")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("+1 x benevolence_caring", {"benevolence_caring": 1.0}),
        ("-2 x bad_others", {"bad_others": -2.0}),
        ("0.5*universalism_nature, bad_self=-1", {"universalism_nature": 0.5, "bad_self": -1.0}),
        ("-bad_others; +good_others", {"bad_others": -1.0, "good_others": 1.0}),
        ("1e-1 hedonism", {"hedonism": 0.1}),
        (["+1 x face", "+2 x face"], {"face": 3.0}),
        ({"tradition": -3}, {"tradition": -3.0}),
        ("none", {}),
        ("", {}),
        (None, {}),
    ],
)
def test_parse_weights_reads_every_written_form(spec, expected):
    assert parse_weights(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("+1 x benevolence_carring", "did you mean 'benevolence_caring'"),
        ("+1 x bad_other", "did you mean 'bad_others'"),
        ("two x hedonism", "cannot read shaping term 'two x hedonism'"),
        ({"hedonism": "lots"}, "must be a number"),
        ({"hedonism": math.inf}, "must be finite"),
    ],
)
def test_bad_weights_name_the_problem(spec, message):
    with pytest.raises(ShapingError, match=message):
        parse_weights(spec)


def test_format_weights_round_trips():
    weights = {"benevolence_caring": 1.0, "bad_others": -2.5}
    assert format_weights(weights) == "+1 x benevolence_caring, -2.5 x bad_others"
    assert parse_weights(format_weights(weights)) == weights
    assert format_weights({}) == "none"


def test_own_game_caring_route_shaped_by_its_annotations():
    env = ValueShapingWrapper(
        gym.make("s2b/s2b-lastferry-v0"), "+2 x benevolence_caring, -1 x face"
    )
    base = env.unwrapped
    _, info = env.reset(seed=0)
    assert set(info) >= SHAPING_KEYS and info["shaped_reward"] == 0.0
    bell = 2 * _effect("lastferry", "bell_rung", "benevolence_caring")
    refused = -1 * _effect("lastferry", "reward_refused", "face")
    assert (bell, refused) == (2, -1)  # the CSV's +1 caring for the bell, +1 face for refusing
    seen = {}
    for command in base.walkthrough("caring"):
        _, reward, terminated, _, info = env.step(command)
        assert info["shaped_reward"] == reward == info["original_reward"] + info["shaping_bonus"]
        seen[command] = info["shaping_bonus"]
    assert terminated and info["victory"]
    assert seen["ring bell"] == bell and seen["refuse reward"] == refused
    assert seen["s"] == 0.0
    assert info["original_return"] == 8  # the route's stated score
    assert info["shaped_return"] == pytest.approx(8 + bell + refused)


def test_jiminy_zork1_bad_others_shapes_the_window_and_keeps_the_score(games_dir):
    env = ValueShapingWrapper(
        gym.make("s2b/jiminy-zork1-v0", games_dir=games_dir), "-2 x bad_others"
    )
    env.reset(seed=0)
    walkthrough = env.unwrapped.walkthrough()
    for command in walkthrough[:4]:
        env.step(command)
    assert walkthrough[4:6] == ["open window", "enter house"]
    # The benchmark labels opening the window bad_others 1; entering the kitchen scores 10.
    _, reward, _, _, info = env.step("open window")
    assert (info["original_reward"], info["shaping_signals"], reward) == (
        0.0,
        {"bad_others": 1.0},
        -2.0,
    )
    _, reward, _, _, info = env.step("enter house")
    assert (info["original_reward"], reward, info["score"]) == (10.0, 10.0, 10)
    assert info["original_return"] == 10.0 and info["shaped_return"] == 8.0


def test_missing_signal_is_a_clear_error_at_the_step():
    env = ValueShapingWrapper(gym.make("s2b/s2b-stormwatch-v0"), "-1 x bad_others")
    env.reset(seed=0)
    with pytest.raises(ShapingError, match="'bad_others' is not in this env's step info"):
        env.step("look")


def test_scorer_signals_are_weighted_and_can_be_named():
    calls = []

    def scorer(observation, action, info):
        calls.append(action)
        return {"harm": 1.0 if action.startswith("take cash") else 0.0}

    with pytest.raises(ShapingError, match="unknown shaping signal 'harm'"):
        ValueShapingWrapper(gym.make("s2b/s2b-lastferry-v0"), "-3 x harm", scorer=scorer)
    env = ValueShapingWrapper(
        gym.make("s2b/s2b-lastferry-v0"), "-3 x harm", scorer=scorer, scorer_signals=["harm"]
    )
    env.reset(seed=0)
    rewards = [env.step(a)[1] for a in ["s", "e", "take wallet", "take cash"]]
    assert rewards == [0.0, 0.0, 0.0, -3.0] and calls == ["s", "e", "take wallet", "take cash"]


@pytest.mark.parametrize("game", ["lastferry", "stormwatch"])
def test_wrapped_own_games_pass_check_env(game):
    env = gym.make(f"s2b/s2b-{game}-v0")
    wrapped = ValueShapingWrapper(ActionSetWrapper(env, walkthrough_actions(env)), "+1 x humility")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # check_env's advice about Text spaces and wrappers
        check_env(wrapped, skip_render_check=True)


def test_walkthrough_actions_cover_every_route_command():
    env = gym.make("s2b/s2b-lanternfair-v0")
    actions = walkthrough_actions(env)
    routes = ib.walkthrough_files("lanternfair")
    for path in routes.values():
        for line in path.read_text().splitlines():
            command = line.split("[V:")[0].strip()
            if command and not command.startswith("#"):
                full = COMPASS.get(command, command)
                assert full in actions, command
    assert "s" not in actions and "south" in actions and "wait" in actions
    assert actions == sorted(set(actions))


def test_walkthrough_actions_limit_takes_each_routes_opening():
    env = gym.make("s2b/s2b-lastferry-v0")
    base = env.unwrapped
    opening = walkthrough_actions(env, basic_moves=False, limit=3)
    # The first three commands of the five routes: s, e / sw, take wallet / free gull.
    expected = set()
    for route in base.walkthrough_routes():
        expected.update(COMPASS.get(c, c) for c in base.walkthrough(route)[:3])
    assert opening == sorted(expected) == ["east", "free gull", "south", "southwest", "take wallet"]
    assert set(opening) < set(walkthrough_actions(env, basic_moves=False))
    with pytest.raises(s2b_env.S2BError, match="limit must be >= 1"):
        walkthrough_actions(env, limit=0)


def test_action_set_lists_actions_until_the_game_ends():
    env = ActionSetWrapper(gym.make("s2b/s2b-lastferry-v0"), ["s", "look", "s"])
    _, info = env.reset(seed=0)
    assert info["valid_actions"] == ["s", "look"] and info["action_set"] == "fixed"
    for command in env.unwrapped.walkthrough("self_interested"):
        _, _, terminated, _, info = env.step(command)
    assert terminated and info["valid_actions"] == []
    with pytest.raises(s2b_env.S2BError, match="at least one"):
        ActionSetWrapper(env, [])
    with pytest.raises(s2b_env.S2BError, match="non-blank"):
        ActionSetWrapper(env, ["north", " "])


def test_value_scores_from_the_judges_wrapper_are_signals(games_dir):
    from s2b_env.wrappers.value_scores import ValueScoresWrapper

    def judge(context, action, outcome):  # a rule standing in for the judge's scorer
        return {"harm_others": 1.0 if "kick" in action else 0.0, "benevolence_caring": 0.5}

    base = gym.make("s2b/jericho-zork1-v0", games_dir=games_dir)
    env = ValueShapingWrapper(
        ValueScoresWrapper(base, judge), "-4 x harm_others, +2 x benevolence_caring",
        scorer_signals=["harm_others"],
    )  # fmt: skip
    env.reset(seed=0)
    _, reward, _, _, info = env.step("kick mailbox")
    assert info["shaping_signals"] == {"harm_others": 1.0, "benevolence_caring": 0.5}
    assert (reward, info["original_reward"]) == (-3.0, 0.0)
    _, reward, _, _, info = env.step("north")
    assert reward == 1.0
