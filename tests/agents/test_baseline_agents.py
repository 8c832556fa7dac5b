"""Baseline agents, played by the episode engine on real games."""

from __future__ import annotations

import gymnasium as gym
import pytest

from agents import Agent, AgentFinished, HumanAgent, RandomAgent, WalkthroughAgent
from agents.engine import run_episode, run_episodes
from s2b_env.errors import DataError
from s2b_env.jericho.env import JerichoEnv
from s2b_env.trajectory import read_trajectory


@pytest.fixture
def zork(games_dir):
    env = gym.make("s2b/jericho-zork1-v0", games_dir=games_dir)
    yield env
    env.close()


def test_agents_implement_the_protocol() -> None:
    for agent in (RandomAgent(seed=0), WalkthroughAgent(["look"]), HumanAgent(read=lambda p: "")):
        assert isinstance(agent, Agent)


def test_random_agent_is_seeded_and_prefers_valid_actions() -> None:
    observation = "You see a brass lantern and a wooden door."
    a, b = RandomAgent(seed=5), RandomAgent(seed=5)
    assert [a.act(observation, {}) for _ in range(20)] == [
        b.act(observation, {}) for _ in range(20)
    ]
    assert "take lantern" in a.candidates(observation, {})
    assert a.candidates(observation, {"valid_actions": ["open door", "west"]}) == [
        "open door",
        "west",
    ]
    assert a.candidates("", {"options": ["help", "leave"]}) == ["1", "2"]
    with pytest.raises(TypeError):
        RandomAgent(seed="seven")  # type: ignore[arg-type]


def test_walkthrough_file_parsing(tmp_path) -> None:
    path = tmp_path / "w.txt"
    path.write_text("# opening\nopen mailbox\n\n  take leaflet  \n")
    agent = WalkthroughAgent.from_file(path)
    assert agent.commands == ["open mailbox", "take leaflet"]
    assert [agent.act("", {}), agent.act("", {})] == ["open mailbox", "take leaflet"]
    with pytest.raises(AgentFinished):
        agent.act("", {})
    agent.reset()
    assert agent.remaining == 2
    path.write_text("# nothing\n\n")
    with pytest.raises(DataError, match="found none"):
        WalkthroughAgent.from_file(path)
    path.write_text("look\nta\x07ke\n")
    with pytest.raises(DataError, match="line 2"):
        WalkthroughAgent.from_file(path)
    with pytest.raises(FileNotFoundError):
        WalkthroughAgent.from_file(tmp_path / "missing.txt")


def test_walkthrough_from_an_unknown_game_is_a_clear_error(games_dir) -> None:
    env = JerichoEnv(story_file=games_dir / "jericho" / "lgop.z3")
    with pytest.raises(ValueError, match="no built-in walkthrough"):
        WalkthroughAgent.from_env(env)


def test_human_agent_reads_lines_and_stops_on_eof() -> None:
    lines = iter(["look", "/quit"])
    agent = HumanAgent(read=lambda prompt: next(lines))
    assert agent.act("", {}) == "look"
    with pytest.raises(AgentFinished):
        agent.act("", {})

    def eof(prompt: str) -> str:
        raise EOFError

    with pytest.raises(AgentFinished):
        HumanAgent(read=eof).act("", {})


def test_run_episode_walkthrough_writes_a_complete_trajectory(zork, tmp_path) -> None:
    agent = WalkthroughAgent.from_env(zork)
    summary = run_episodes(zork, agent, episodes=1, seed=0, out_dir=tmp_path)
    result = summary.episodes[0]
    path = tmp_path / "trajectory.jsonl"
    assert result.score == 350 and result.terminated and result.end_reason == "terminated"
    assert result.percent_completion == 100.0 and result.victory
    episode = read_trajectory(path).episodes[0]
    assert episode.actions == agent.commands[: result.steps]
    assert episode.total_reward == 350.0 and episode.summary["score"] == 350


def test_run_episode_is_reproducible_for_a_seed(zork) -> None:
    results = [run_episode(zork, RandomAgent(), seed=4, max_steps=60) for _ in range(2)]
    assert results[0] == results[1]
    assert results[0].end_reason in {"max_steps", "terminated"}
