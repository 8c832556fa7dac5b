"""Seeded random-action fuzzing of every shared story file (Jericho and Jiminy Cricket) and of
s2b's own games.

Each game plays :data:`STEPS` commands drawn from its own grammar and dictionary, the agent's
candidates, its valid actions where they are on (every :data:`VALID_EVERY`-th game of each
family: Jericho's, Jiminy Cricket's and the own games'), meta commands
and garbage. Every step runs under the step watchdog, so a hang fails the test instead of hanging
it. The envs must not crash, must keep their spaces and info keys, and gathering valid actions
must not change the game. A last test provokes real hangs in a compiled room.
"""

from __future__ import annotations

import math
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from agents import RandomAgent
from s2b_env.inform.build import own_game_names
from s2b_env.inform.env import S2BGameEnv
from s2b_env.jericho.action_candidates import game_vocabulary
from s2b_env.jericho.env import JerichoEnv
from s2b_env.jiminy.env import JiminyCricketEnv
from tests.conftest import GAMES_DIR, shared_jericho_games, shared_jiminy_games
from tests.s2b_env.watchdog_room import build_watchdog_room

STEPS = 40
VALID_EVERY = 8
VALID_STEPS = 8
STEP_TIMEOUT = 10.0
JIMINY = shared_jiminy_games()
GAMES = (
    [f"jericho:{g}" for g in shared_jericho_games()]
    + [f"jiminy:{g}" for g in JIMINY]
    + [f"s2b:{g}" for g in own_game_names()]
)
GARBAGE = [
    "",
    "   ",
    "save",
    "restore",
    "quit",
    "undo",
    ";;;",
    "take ; drop",
    "é ñ ü ß 🙂",
    "x" * 300,
]


def make_env(name: str) -> JerichoEnv:
    family, game = name.split(":", 1)
    if family == "jiminy":
        env = JiminyCricketEnv(game, games_dir=GAMES_DIR)
        env.set_step_timeout(STEP_TIMEOUT)
        return env
    if family == "s2b":
        return S2BGameEnv(game, step_timeout=STEP_TIMEOUT)
    return JerichoEnv(game, games_dir=GAMES_DIR, step_timeout=STEP_TIMEOUT)


def ram(env: JerichoEnv) -> bytes:
    env.memory.stale = True
    return env.memory.refresh().tobytes()


def random_command(rng: np.random.Generator, env: JerichoEnv, observation: str, info: dict) -> str:
    """A command from one of five sources, chosen at random."""
    vocabulary = game_vocabulary(env)
    source = rng.random()
    if source < 0.4 and vocabulary.templates:
        template = str(rng.choice(vocabulary.templates))
        nouns = sorted(vocabulary.nouns) or ["it"]
        while "OBJ" in template:
            template = template.replace("OBJ", str(rng.choice(nouns)), 1)
        return template
    if source < 0.7:
        agent = RandomAgent(seed=int(rng.integers(1 << 30)))
        return agent.act(observation, info)
    if source < 0.9:
        return str(rng.choice(["north", "south", "east", "west", "up", "down", "in", "out"]))
    return str(rng.choice(GARBAGE))


@pytest.mark.parametrize("name", GAMES)
def test_random_commands_never_crash_or_hang(games_dir: Path, name: str) -> None:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    env = make_env(name)
    family = [g for g in GAMES if g.split(":")[0] == name.split(":")[0]]
    with_valid = family.index(name) % VALID_EVERY == 0  # the 1st, 9th... of each family
    observation, info = env.reset(seed=int(rng.integers(1 << 30)))
    keys = set(info)
    steps = 0
    while steps < STEPS:
        if with_valid and steps < VALID_STEPS:
            before = ram(env)
            actions = env.valid_actions()
            assert ram(env) == before, "valid_actions() changed the game"
            assert all(isinstance(a, str) and a and a.isascii() for a in actions)
            info = dict(info, valid_actions=actions)
        command = random_command(rng, env, observation, info)
        observation, reward, terminated, truncated, info = env.step(command)
        steps += 1
        assert isinstance(observation, str) and env.observation_space.contains(observation)
        assert isinstance(reward, float) and math.isfinite(reward)
        assert isinstance(terminated, bool) and truncated is False
        assert set(info) == keys, (command, set(info) ^ keys)
        if terminated:
            observation, info = env.reset(seed=int(rng.integers(1 << 30)))
    env.close()


def test_the_watchdog_fires_on_provoked_hangs_while_fuzzing(tmp_path: Path) -> None:
    room = build_watchdog_room(tmp_path)
    env = JerichoEnv(
        story_file=room, step_timeout=0.3, valid_actions={"workers": 0, "probe_timeout": 0.3}
    )
    rng = np.random.default_rng(7)
    observation, info = env.reset(seed=1)
    commands = ["take box", "drop box", "spin lever", "spin box", "look", "push lever"]
    fired = spins = 0
    start = time.monotonic()
    for _ in range(10):
        command = str(rng.choice(commands))
        spins += command.startswith("spin")
        before = ram(env)
        observation, _, terminated, _, info = env.step(command)
        if any("step time limit" in w for w in info["warnings"]):  # reported, the game goes on
            fired += 1
            assert command.startswith("spin") and info["refused"]
            assert ram(env) == before, "the game was not restored after the hang"
            continue
        assert not command.startswith("spin")
        assert info["valid_actions"] and not terminated  # the probes that hung were skipped
    assert fired == spins >= 2
    assert time.monotonic() - start < 60
