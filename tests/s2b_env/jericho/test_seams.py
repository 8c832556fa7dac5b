"""JerichoEnv's public seams (probing, probe, refusal) and its subclass hooks' contracts.

The oracle is a raw ``jericho.FrotzEnv`` playing the same commands: whatever is probed through the
seams, the env's emulator must end where raw Frotz ends without the probes.
"""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym
import jericho
import numpy as np
import pytest

from s2b_env.jericho import core
from s2b_env.jericho.env import JerichoEnv
from s2b_env.jericho.records import GameOutput
from tests.conftest import GAMES_DIR, JERICHO_DIR

pytestmark = pytest.mark.skipif(
    not (JERICHO_DIR / "zork1.z5").is_file(), reason=f"zork1.z5 not in {JERICHO_DIR}"
)


def raw_frotz(game: str, commands: list[str]) -> Any:
    """A raw FrotzEnv of ``game`` (walkthrough seed) after ``commands``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frotz = jericho.FrotzEnv(str(JERICHO_DIR / f"{game}.z5"))
    frotz.reset()
    for command in commands:
        frotz.step(command)
    return frotz


def same_emulator(env: JerichoEnv, frotz: Any) -> bool:
    ours, theirs = env.emulator.get_state(), frotz.get_state()
    return all(
        np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
        for a, b in zip(ours, theirs, strict=True)
    )


def test_probing_lends_the_emulator_and_leaves_the_game_where_raw_frotz_is() -> None:
    env = JerichoEnv("zork1", games_dir=GAMES_DIR)
    env.reset()
    env.step("open mailbox")
    info, observation = env.get_state().info, env.last_observation
    with env.probing("take leaflet", "read leaflet") as emulator:
        assert emulator is env.emulator
        emulator.step("take leaflet")
        assert "leaflet" in {o.name for o in emulator.get_inventory()}
    assert env.probe("north") and env.probe_raw("inventory")
    assert env.get_state().info == info and env.last_observation == observation
    observation, *_ = env.step("take leaflet")
    oracle = raw_frotz("zork1", ["open mailbox"])
    expected = oracle.step("take leaflet")[0]
    assert observation == core.split_status_line(expected)[0]
    assert same_emulator(env, oracle)
    env.close()


def test_probing_restores_the_game_even_when_the_caller_fails() -> None:
    env = JerichoEnv("zork1", games_dir=GAMES_DIR)
    env.reset()
    with pytest.raises(RuntimeError, match="boom"), env.probing("north") as emulator:
        emulator.step("north")
        raise RuntimeError("boom")
    assert same_emulator(env, raw_frotz("zork1", []))
    # memory reads are not stale after the restore
    assert env.memory.world_hash() == env.get_state().info["world_hash"]
    env.close()


def test_probing_before_reset_is_an_error() -> None:
    env = JerichoEnv("zork1", games_dir=GAMES_DIR)
    with pytest.raises(gym.error.ResetNeeded), env.probing():
        pass
    with pytest.raises(gym.error.ResetNeeded):
        env.probe("look")


def test_probe_is_probe_raw_read_as_an_observation(games_dir) -> None:
    # lgop is a version-3 game jericho does not know: its raw output carries the status line.
    env = gym.make("s2b/jericho-lgop-v0", games_dir=games_dir).unwrapped
    env.reset(seed=0)
    raw = env.probe_raw("look")
    assert env.probe("look") == core.split_status_line(raw)[0]
    env.close()


def test_refusal_names_what_would_not_reach_the_game() -> None:
    env = JerichoEnv("zork1", games_dir=GAMES_DIR)
    env.reset()
    assert env.refusal("save") == core.META_REFUSAL
    assert env.refusal("take leaflet then quit") == core.META_REFUSAL
    assert env.refusal("open mailbox") is None
    assert not env.ended
    env.close()


class _Recording(JerichoEnv):
    """Records what the hooks are called with; starts every episode with three commands."""

    START = ("open mailbox", "save", "take leaflet")

    def _begin_episode(self, options: dict[str, Any]) -> list[str]:
        self.kinds: list[str] = []
        return list(self.START)

    def _read_output(self, raw: str) -> GameOutput:
        output = super()._read_output(raw)
        output.data = len(raw)
        return output

    def _record_output(self, output: GameOutput) -> None:
        assert output.data == len(output.raw)
        self.kinds.append(output.kind)


def test_start_commands_are_replayed_and_recorded_by_kind() -> None:
    env = _Recording("zork1", games_dir=GAMES_DIR)
    observation, info = env.reset()
    # "save" is refused (a meta-command) and skipped; the last output read is the observation.
    assert env.kinds == ["replay", "replay", "reset"]
    oracle = raw_frotz("zork1", ["open mailbox"])
    assert observation == core.split_status_line(oracle.step("take leaflet")[0])[0]
    assert same_emulator(env, oracle) and info["score"] == oracle.get_score()
    env.probe("look")
    env.step("read leaflet")
    env.step("quit")  # refused: nothing is read
    assert env.kinds == ["replay", "replay", "reset", "step"]
    env.close()
