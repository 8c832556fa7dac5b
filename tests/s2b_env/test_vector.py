"""Parallel episodes: Gymnasium's AsyncVectorEnv over s2b envs gives what single envs give."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import gymnasium as gym
import pytest

from s2b_env.jericho.env import JerichoEnv
from s2b_env.vector import make_async
from tests.conftest import GAMES_DIR
from tests.s2b_env.watchdog_room import build_watchdog_room

COMMANDS = [("open mailbox", "north"), ("read leaflet", "east"), ("take leaflet", "xyzzy")]


def single_run(seed: int, commands: list[str], **kwargs) -> list[tuple]:
    env = gym.make("s2b/jericho-zork1-v0", games_dir=GAMES_DIR, **kwargs)
    observation, info = env.reset(seed=seed)
    out = [(observation, info.get("valid_actions"))]
    for command in commands:
        observation, reward, terminated, truncated, info = env.step(command)
        out.append((observation, info.get("valid_actions"), reward, terminated, truncated))
    env.close()
    return out


def test_two_workers_play_what_two_single_envs_play(games_dir: Path) -> None:
    envs = make_async("s2b/jericho-zork1-v0", 2, games_dir=GAMES_DIR, valid_actions=True)
    try:
        observations, infos = envs.reset(seed=[11, 12])
        got = [[(observations[i], list(infos["valid_actions"][i]))] for i in range(2)]
        for pair in COMMANDS:
            observations, rewards, terminated, truncated, infos = envs.step(list(pair))
            for i in range(2):
                got[i].append(
                    (
                        observations[i],
                        list(infos["valid_actions"][i]),
                        float(rewards[i]),
                        bool(terminated[i]),
                        bool(truncated[i]),
                    )
                )
    finally:
        envs.close()
    for i in range(2):
        expected = single_run(11 + i, [pair[i] for pair in COMMANDS], valid_actions=True)
        assert got[i] == expected
    assert got[0][1][0] != got[1][1][0]  # the two envs really played different commands
    assert "Opening the small mailbox reveals a leaflet." in got[0][1][0]


def test_episodes_reset_on_the_step_after_they_end(games_dir: Path) -> None:
    envs = make_async("s2b/jericho-zork1-v0", 2, games_dir=GAMES_DIR, max_episode_steps=2)
    try:
        first, _ = envs.reset(seed=[5, 5])
        envs.step(["north", "north"])
        _, _, _, truncated, _ = envs.step(["east", "east"])
        assert list(truncated) == [True, True]
        observations, rewards, *_ = envs.step(["ignored", "ignored"])
    finally:
        envs.close()
    assert observations == first and list(rewards) == [0.0, 0.0]


def test_jiminy_envs_run_in_workers(games_dir: Path) -> None:
    # Both workers are compared with a single env given the same seed and command: observation,
    # reward and the morality label vector of every step.
    commands = [("open mailbox", "kick mailbox"), ("take leaflet", "attack mailbox")]
    envs = make_async("s2b/jiminy-zork1-v0", 2, games_dir=GAMES_DIR)
    try:
        observations, infos = envs.reset(seed=[0, 1])
        got = [[observations[i]] for i in range(2)]
        for pair in commands:
            observations, rewards, _, _, infos = envs.step(list(pair))
            for i in range(2):
                got[i].append((observations[i], float(rewards[i]), list(infos["morality"][i])))
    finally:
        envs.close()
    for i in range(2):
        env = gym.make("s2b/jiminy-zork1-v0", games_dir=GAMES_DIR)
        observation, _ = env.reset(seed=i)
        expected = [observation]
        for pair in commands:
            observation, reward, _, _, info = env.step(pair[i])
            expected.append((observation, float(reward), list(info["morality"])))
        env.close()
        assert got[i] == expected
    assert "leaflet" in got[0][1][0] and got[0][1] != got[1][1]


def test_a_hang_in_a_worker_is_reported_not_a_hang(tmp_path: Path) -> None:
    room = build_watchdog_room(tmp_path)
    make = functools.partial(JerichoEnv, story_file=str(room), step_timeout=0.5)
    envs = gym.vector.AsyncVectorEnv([make, make], shared_memory=False)
    try:
        envs.reset(seed=[1, 2])
        start = time.monotonic()
        _, _, terminated, _, infos = envs.step(["take box", "spin lever"])
        assert time.monotonic() - start < 10 and not terminated.any()
        assert not infos["refused"][0] and infos["refused"][1]
        assert any("spin lever" in w for w in infos["warnings"][1])
    finally:
        envs.close(terminate=True)


def test_num_envs_is_checked() -> None:
    with pytest.raises(ValueError, match="num_envs"):
        make_async("s2b/jericho-zork1-v0", 0)
