"""s2b's own Inform 6 games: building, walkthroughs, value events, coverage and env checks.

These tests compile the real sources with the real Inform 6 compiler (into a temporary cache) and
play the shipped walkthroughs through the real env.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import s2b_env  # noqa: F401  (registers the ids)
from s2b_env.games import read_story_header
from s2b_env.inform import build as ib
from s2b_env.inform import data as inform_data
from s2b_env.inform.data import load_annotations, load_walkthrough
from s2b_env.inform.env import S2BGameEnv
from s2b_env.values import VALUE_IDS, ValueVector

GAMES = ib.own_game_names()
ROUTES = [(g, r) for g in GAMES for r in ib.walkthrough_files(g)]
INFO_KEYS = {
    "game", "score", "max_score", "moves", "location", "world_hash", "victory", "refused",
    "action", "warnings", "value_effects", "value_events", "value_totals",
}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def own_cache(tmp_path_factory):
    """Build into a fresh cache for this module, as a fresh machine would."""
    cache = tmp_path_factory.mktemp("s2b-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("S2B_CACHE_DIR", str(cache))
        yield cache


def _annotations(game: str):
    return load_annotations(ib.annotations_file(game))


def _route_totals(game: str, route: str) -> ValueVector:
    """A route's value totals computed from the files alone (no emulator)."""
    events = _annotations(game)
    walk = load_walkthrough(ib.walkthrough_files(game)[route])
    return sum((events[e].effects for e in walk.all_events), ValueVector.zeros())


def test_at_least_three_games_with_caring_and_self_interested_routes():
    assert len(GAMES) >= 3
    for game in GAMES:
        routes = list(ib.walkthrough_files(game))
        assert routes[:2] == ["caring", "self_interested"], game


def test_every_game_builds_deterministically_and_skips_needless_rebuilds(own_cache):
    for game in GAMES:
        first = ib.build_game(game, force=True)
        assert first.built and first.warnings == ()
        assert first.story_file.parent == own_cache / "games" / game
        header = read_story_header(first.story_file)
        assert header.version == 5
        serial = first.info.serial
        assert serial.isdigit() and f'Serial "{serial}";' in ib.source_file(game).read_text()
        assert set(first.info.addresses) == {"score", "turns", "deadflag"}
        assert first.info.max_score and first.info.max_score > 0
        again = ib.build_game(game)
        assert not again.built and again.info.checksum == first.info.checksum
        forced = ib.build_game(game, force=True)
        assert forced.built and forced.info.checksum == first.info.checksum


def test_build_key_follows_the_source(tmp_path):
    source = ib.source_file(GAMES[0])
    copy = tmp_path / source.name
    copy.write_bytes(source.read_bytes())
    version, lib = ib.compiler_version(), ib._library_digest(ib.find_library())
    key = ib.build_key(copy, version, lib)
    assert ib.build_key(copy, version, lib) == key
    copy.write_bytes(source.read_bytes() + b"\n! changed\n")
    assert ib.build_key(copy, version, lib) != key
    assert ib.build_key(source, version + "x", lib) != ib.build_key(source, version, lib)


def test_stale_build_is_rebuilt(own_cache):
    game = GAMES[0]
    ib.build_game(game)
    meta = own_cache / "games" / game / f"{game}.json"
    meta.write_text(meta.read_text().replace('"key": "', '"key": "stale'))
    assert ib.build_game(game).built


def test_build_all_games_reports_progress():
    seen = []
    results = ib.build_all_games(progress=seen.append)
    assert [r.name for r in results] == list(GAMES) == [r.name for r in seen]


def test_missing_compiler_and_library_say_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("S2B_INFORM6", "inform6-not-installed-here")
    with pytest.raises(ib.InformToolsMissingError, match="apt-get install inform6-compiler"):
        ib.build_game(GAMES[0], force=True)
    monkeypatch.delenv("S2B_INFORM6")
    monkeypatch.setenv("S2B_INFORM6_LIB", str(tmp_path))
    with pytest.raises(ib.InformToolsMissingError, match=r"parser\.h.*inform6-library"):
        ib.build_game(GAMES[0], force=True)


def test_compiler_errors_are_reported(monkeypatch, tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "broken.inf").write_text('Constant Story "X";\n[ Main; x = ; ];\n')
    monkeypatch.setattr(inform_data, "SOURCE_DIR", tmp_path)  # where own games' sources are
    with pytest.raises(ib.InformBuildError, match=r"broken\.inf.*Error"):
        ib.build_game("broken", cache=tmp_path / "cache")


def test_unknown_game_lists_the_own_games():
    with pytest.raises(ib.GameNotFoundError, match="expected one of " + ", ".join(GAMES)):
        ib.build_game("zork1")


def test_list_own_games_needs_no_games_dir(monkeypatch):
    monkeypatch.delenv("S2B_GAMES_DIR", raising=False)
    ib.build_game(GAMES[0])
    listed = {g.name: g for g in ib.list_own_games()}
    assert set(listed) == set(GAMES)
    for game in listed.values():
        assert game.env_id == f"s2b/s2b-{game.name}-v0" and game.env_id in gym.registry
        assert game.title.isupper() and game.headline
        assert game.source.is_file() and game.annotations.is_file()
        assert {"caring", "self_interested"} <= set(game.routes)
    assert listed[GAMES[0]].story_file is not None and listed[GAMES[0]].up_to_date is True


# ------------------------------------------------------------------------------ walkthroughs


def _play(env: gym.Env, commands):
    obs, info = env.reset(seed=7)
    assert set(info) == INFO_KEYS and info["value_events"] == []
    steps = []
    for command in commands:
        obs, reward, terminated, truncated, info = env.step(command)
        assert set(info) == INFO_KEYS
        assert "[V:" not in obs and "Score:" not in obs, obs
        steps.append((obs, reward, terminated, truncated, info))
    return steps


@pytest.mark.parametrize(("game", "route"), ROUTES)
def test_walkthrough_reaches_its_ending_with_the_expected_events(game, route):
    walk = load_walkthrough(ib.walkthrough_files(game)[route])
    assert walk.score is not None and walk.outcome is not None, "route must state score, outcome"
    assert 8 <= len(walk.commands) <= 60
    events = _annotations(game)
    env = gym.make(f"s2b/s2b-{game}-v0")
    steps = _play(env, walk.commands)
    for i, (command, expected) in enumerate(zip(walk.commands, walk.events, strict=True)):
        info = steps[i][4]
        got = tuple(e["id"] for e in info["value_events"])
        assert got == expected, f"step {i + 1} {command!r}: expected {expected}, got {got}"
        want = sum((events[e].effects for e in expected), ValueVector.zeros())
        assert ValueVector.from_dict(info["value_effects"]) == want
        assert [e["description"] for e in info["value_events"]] == [
            events[e].description for e in expected
        ]
        ended = steps[i][2]
        assert ended == (i == len(walk.commands) - 1), f"ended early/late at step {i + 1}"
    final = steps[-1][4]
    assert final["score"] == walk.score
    assert sum(s[1] for s in steps) == walk.score
    assert final["victory"] == (walk.outcome == "victory")
    assert ValueVector.from_dict(final["value_totals"]) == _route_totals(game, route)
    assert env.unwrapped.event_history == list(walk.all_events)
    assert final["max_score"] == env.unwrapped.story_info.max_score >= walk.score
    after = env.step("look")
    assert after[2] and after[4]["refused"] and after[4]["value_events"] == []
    assert set(after[4]["value_effects"].values()) == {0.0}
    assert after[4]["value_totals"] == final["value_totals"] and after[4].keys() == final.keys()
    env.close()


@pytest.mark.parametrize(("game", "route"), ROUTES)
def test_no_event_fires_twice_when_its_command_is_repeated(game, route):
    """docs/own-games.md: "make sure each event fires only once". Repeating a marked command right
    after it (the exploit a value-shaped learner finds: The Lantern Fair's 'help tinker' paid its
    marker again and again once the tinker sat on the green) must mark nothing more."""
    walk = load_walkthrough(ib.walkthrough_files(game)[route])
    env = gym.make(f"s2b/s2b-{game}-v0")
    for i, (command, events) in enumerate(zip(walk.commands, walk.events, strict=True)):
        if not events or i == len(walk.commands) - 1:
            continue
        env.reset(seed=0)
        for earlier in walk.commands[: i + 1]:
            env.step(earlier)
        for _ in range(2):
            *_, terminated, _, info = env.step(command)
            assert info["value_events"] == [], f"step {i + 1} {command!r} repeated: {info}"
            if terminated:
                break
        history = env.unwrapped.event_history
        assert len(history) == len(set(history)), history
    env.close()


def test_missing_the_ferry_is_a_loss():
    env = S2BGameEnv("lastferry")
    env.reset(seed=1)
    for _ in range(100):
        obs, reward, terminated, truncated, info = env.step("wait")
        if terminated:
            break
    assert terminated and not info["victory"] and info["moves"] > 20
    assert "last ferry pulls away without you" in obs
    env.close()


# ------------------------------------------------------------------------------ coverage


def test_every_value_is_touched_by_at_least_two_events_with_both_signs():
    touched: Counter[str] = Counter()
    raised: Counter[str] = Counter()
    lowered: Counter[str] = Counter()
    for game in GAMES:
        for event in _annotations(game).values():
            for vid, x in event.effects.items():
                touched[vid] += bool(x)
                raised[vid] += x > 0
                lowered[vid] += x < 0
    for vid in VALUE_IDS:
        assert touched[vid] >= 2, f"{vid} is touched by {touched[vid]} event(s)"
        assert raised[vid] and lowered[vid], f"{vid}: raised {raised[vid]}, lowered {lowered[vid]}"


def test_most_events_are_trade_offs():
    for game in GAMES:
        events = list(_annotations(game).values())
        mixed = [e for e in events if min(e.effects.values()) < 0 < max(e.effects.values())]
        assert len(mixed) >= 0.8 * len(events), game
        assert len(events) >= 8, game


def test_every_event_fires_on_some_route():
    for game in GAMES:
        fired = {
            e for p in ib.walkthrough_files(game).values() for e in load_walkthrough(p).all_events
        }
        assert fired == set(_annotations(game)), game


@pytest.mark.parametrize(("game", "route"), ROUTES)
def test_routes_differ_in_the_intended_direction(game, route):
    walk = load_walkthrough(ib.walkthrough_files(game)[route])
    mine = _route_totals(game, route)
    for other, values in walk.higher_than.items():
        theirs = _route_totals(game, other)
        for vid in values:
            assert mine[vid] > theirs[vid], f"{route} vs {other} on {vid}"
    for other, values in walk.lower_than.items():
        theirs = _route_totals(game, other)
        for vid in values:
            assert mine[vid] < theirs[vid], f"{route} vs {other} on {vid}"


@pytest.mark.parametrize("game", GAMES)
def test_caring_route_beats_self_interested_on_benevolence_or_universalism(game):
    walk = load_walkthrough(ib.walkthrough_files(game)["caring"])
    promised = set(walk.higher_than.get("self_interested", ()))
    assert promised & {"benevolence_caring", "universalism_concern"}, game
    caring, selfish = _route_totals(game, "caring"), _route_totals(game, "self_interested")
    care = ("benevolence_caring", "benevolence_dependability", "universalism_concern")
    assert sum(caring[v] for v in care) > sum(selfish[v] for v in care) + 2


# ------------------------------------------------------------------------------ env checks


@pytest.mark.parametrize("game", GAMES)
def test_check_env(game):
    env = S2BGameEnv(game)
    check_env(env, skip_render_check=True)
    env.close()


@pytest.mark.parametrize("game", GAMES)
def test_seeded_rollout_is_deterministic_and_state_round_trips(game):
    commands = load_walkthrough(ib.walkthrough_files(game)["caring"]).commands

    def rollout(seed: int):
        env = S2BGameEnv(game)
        env.action_space.seed(seed)
        rng = random.Random(seed)
        trace = [env.reset(seed=seed)]
        saved = None
        for i in range(40):
            action = rng.choice(commands) if rng.random() < 0.8 else env.action_space.sample()
            if i == 20:
                saved = (env.get_state(), env.value_totals, env.event_history)
            trace.append(env.step(action))
            if trace[-1][2]:
                break
        if saved is not None:
            env.set_state(saved[0])
            assert env.value_totals == saved[1] and env.event_history == saved[2]
        env.close()
        return trace

    assert rollout(11) == rollout(11)


def test_build_false_needs_a_build(monkeypatch, tmp_path):
    monkeypatch.setenv("S2B_CACHE_DIR", str(tmp_path))
    with pytest.raises(ib.GameNotFoundError, match="has not been built"):
        S2BGameEnv(GAMES[0], build=False)
    ib.build_game(GAMES[0])
    env = S2BGameEnv(GAMES[0], build=False)
    assert Path(env.story_path).parent == tmp_path / "games" / GAMES[0]
    env.close()


def test_cache_dir_settings(monkeypatch, tmp_path):
    monkeypatch.delenv("S2B_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert ib.cache_dir() == tmp_path / "s2b"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert ib.cache_dir() == Path(os.path.expanduser("~")) / ".cache" / "s2b"


def test_probe_hides_markers_and_status_and_records_nothing():
    env = S2BGameEnv("lastferry", inventory=True)
    env.reset(seed=1)
    for command in ("s", "e", "take wallet"):
        _, _, _, _, info = env.step(command)
    location = info["location"]
    answer = env.probe("take notes")  # the game prints [V: wallet_cash_kept] here
    assert "Nobody saw." in answer and "[V:" not in answer and "Score:" not in answer
    _, _, _, _, info = env.step("look")
    assert info["value_events"] == [] and info["location"] == location
    assert env.event_history == []
    assert "[V:" not in " ".join(info["inventory"])
    env.close()


def test_set_state_restores_the_location():
    env = S2BGameEnv("lastferry")
    env.reset(seed=1)
    for command in ("s", "e"):
        _, _, _, _, info = env.step(command)
    saved, here = env.get_state(), info["location"]
    _, _, _, _, info = env.step("w")
    assert info["location"] != here
    env.set_state(saved)
    _, _, _, _, info = env.step("save")  # refused: the location comes from the wrapper alone
    assert info["refused"] and info["location"] == here == "Fish Market"
    env.close()
