"""Every story file in the games folder: jericho's own walkthrough ends through the registered env
exactly where raw ``jericho.FrotzEnv`` ends it (final score and end flag), and ``info["location"]``
names the room the game itself names.

Raw Frotz is the oracle: both play the same commands (jericho's walkthrough, with jericho's
walkthrough seed) in one pass, the env made with ``gym.make(id, games_dir=...)`` alone, so its
registered step limit applies. The room's oracle is the game's own answer to ``look`` (its first
lines hold the room's name), probed every tenth step. The whole file runs in about a minute.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import jericho
import pytest
from jericho import defines

import s2b_env  # noqa: F401  (registers the ids)
from s2b_env.games import find_story_files
from s2b_env.registration import JERICHO_SUITE, env_id
from tests.conftest import GAMES_DIR

STORIES = find_story_files(GAMES_DIR) if GAMES_DIR.is_dir() else {}
#: Games whose info["location"] is None, and why (README, "Game environments").
NO_LOCATION = {
    # Inform 7: rooms have no short name (a routine prints it) and no status line is printed
    "afflicted": "Inform 7 room names",
    "partyfoul": "Inform 7 room names",
    "snacktime": "Inform 7 room names",
    "yomomma": "Inform 7 room names",
    # its rooms have no short name (Inform's placeholder "(START)"); it prints no room header
    "murdac": "rooms without names",
}
#: Share of the probed states with a location whose look answer names it in its first lines (any
#: case; one miss always allowed): the misses are dark rooms and game modes (menus, yes/no).
LOCATION_AGREEMENT = 0.8
#: Share of the probed states with a location (None in mazes whose rooms have no name: huntdark's
#: maze, one unnamed object, is 4 of its 7 probed states).
LOCATION_KNOWN = 0.4


def _raw(path) -> jericho.FrotzEnv:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jericho.FrotzEnv(str(path))


@pytest.mark.skipif(not STORIES, reason=f"no story files in {GAMES_DIR}")
@pytest.mark.parametrize("game", sorted(STORIES))
def test_the_walkthrough_ends_where_raw_frotz_ends_it(game: str) -> None:
    raw = _raw(STORIES[game])
    env = gym.make(env_id("jericho", game), games_dir=GAMES_DIR)
    try:
        if not raw.bindings:  # jericho does not know the file: no walkthrough on either side
            assert env.unwrapped.walkthrough() is None and not env.unwrapped.known
            return
        commands = raw.get_walkthrough()
        assert env.unwrapped.walkthrough() == commands
        raw.reset()
        env.reset()
        raw_done = env_done = False
        info = env.unwrapped.get_state().info
        rooms: list[tuple[str | None, list[str]]] = []
        for step, command in enumerate(commands):
            if step % 10 == 0 and not env_done:
                look = [line for line in env.unwrapped.probe("look").splitlines() if line.strip()]
                if len(look) >= 2:  # a room's description, not a one-line prompt (yes/no...)
                    rooms.append((info["location"], look[:2]))
            if not raw_done:
                *_, raw_done, _ = raw.step(command)
            if not env_done:
                _, _, terminated, truncated, info = env.step(command)
                assert not truncated, f"{game}: the step limit cut the walkthrough"
                env_done = terminated
            if raw_done and env_done:
                break
        assert (info["score"], env_done) == (raw.get_score(), raw_done)
        assert raw_done, f"{game}: raw Frotz does not end its own walkthrough"
        if game in NO_LOCATION:
            assert all(location is None for location, _ in rooms)
        else:  # a location given is the game's name of the room; unknown (None) is rare
            given = [(loc.lower(), [line.lower() for line in look]) for loc, look in rooms if loc]
            missed = [(loc, look) for loc, look in given if not any(loc in x for x in look)]
            assert len(missed) <= max(1, (1 - LOCATION_AGREEMENT) * len(given)), (game, missed[:3])
            assert len(given) >= LOCATION_KNOWN * len(rooms), (game, len(given), len(rooms))
    finally:
        env.close()
        raw.close()


@pytest.mark.parametrize("game", JERICHO_SUITE)
def test_the_step_limit_fits_the_games_own_walkthrough(game: str) -> None:
    binding = next((b for b in defines.BINDINGS_DICT.values() if b["name"] == game), None)
    assert binding is not None, f"jericho has no bindings named {game!r}"
    commands = binding.get("walkthrough", "").split("/") if binding.get("walkthrough") else []
    limit = gym.spec(env_id("jericho", game)).max_episode_steps
    assert limit is not None and limit >= len(commands)
