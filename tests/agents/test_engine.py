"""The episode engine from Python: observers, choices, files, and resume after a kill."""

from __future__ import annotations

import json
from typing import Any

import gymnasium as gym
import pytest

from agents import AgentChoice, AgentFinished, RandomAgent, WalkthroughAgent
from agents.engine import (
    EpisodeObserver,
    RunFolderError,
    StepEvent,
    run_episodes,
)
from s2b_env.errors import S2BError
from s2b_env.trajectory import read_trajectory


@pytest.fixture
def zork(games_dir):
    env = gym.make("s2b/jericho-zork1-v0", games_dir=games_dir)
    yield env
    env.close()


class Recorder(EpisodeObserver):
    """Records every event, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.steps: list[StepEvent] = []

    def on_run_start(self, run) -> None:
        self.events.append(("run_start", run.episodes, run.done))

    def on_episode_start(self, episode_id, seed, observation, info) -> None:
        self.events.append(("episode_start", episode_id, seed))

    def on_step(self, event: StepEvent) -> None:
        self.steps.append(event)

    def on_episode_end(self, result) -> None:
        self.events.append(("episode_end", result.episode_id, result.steps))

    def on_run_end(self, summary) -> None:
        self.events.append(("run_end", summary.complete, len(summary.episodes)))


class KillAt(EpisodeObserver):
    """Stops the process (as Ctrl-C would) at one step of one episode."""

    def __init__(self, episode_id: int, step: int) -> None:
        self.at = (episode_id, step)

    def on_step(self, event: StepEvent) -> None:
        if (event.episode_id, event.step) == self.at:
            raise KeyboardInterrupt


def test_walkthrough_run_with_observers_and_files(zork, tmp_path) -> None:
    recorder = Recorder()
    summary = run_episodes(
        zork, WalkthroughAgent.from_env(zork), episodes=1, seed=0, out_dir=tmp_path,
        observers=[recorder], config={"note": "walkthrough"},
    )  # fmt: skip
    result = summary.episodes[0]
    # Zork I's maximum is 350 (the game's own "out of 350"), reached by its walkthrough.
    assert result.score == 350 and result.max_score == 350 and result.victory
    assert result.percent_completion == 100.0 and result.end_reason == "terminated"
    assert recorder.events[0] == ("run_start", 1, ())
    assert recorder.events[1] == ("episode_start", 0, 0)
    assert recorder.events[-2:] == [("episode_end", 0, result.steps), ("run_end", True, 1)]
    assert [e.step for e in recorder.steps] == list(range(1, result.steps + 1))
    first, second = recorder.steps[:2]
    assert first.next_observation == second.observation  # what the agent saw before acting
    assert sum(e.reward for e in recorder.steps) == 350
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["complete"] and saved["run_id"] == summary.run_id
    assert saved["config"] == {"note": "walkthrough"} and saved["episodes"][0]["score"] == 350
    trajectory = read_trajectory(tmp_path / "trajectory.jsonl")
    assert trajectory.header["run_id"] == summary.run_id
    assert trajectory.header["game"] == "zork1" and trajectory.header["config"]["note"]
    assert trajectory.episodes[0].total_reward == 350.0


def test_resume_after_a_kill_plays_every_episode_exactly_once(zork, tmp_path) -> None:
    kwargs: dict[str, Any] = {"episodes": 4, "seed": 11, "max_steps": 15}
    reference = run_episodes(zork, RandomAgent(), out_dir=tmp_path / "ref", **kwargs)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_episodes(zork, RandomAgent(), out_dir=out, observers=[KillAt(2, 7)], **kwargs)
    partial = json.loads((out / "summary.json").read_text())
    assert not partial["complete"] and [e["episode_id"] for e in partial["episodes"]] == [0, 1]
    with (out / "trajectory.jsonl").open("a") as handle:  # and a torn line, as a crash leaves
        handle.write('{"type": "step", "run_id": "run-x", "episode_id": 2, "st')
    recorder = Recorder()
    resumed = run_episodes(
        zork, RandomAgent(), out_dir=out, resume=True, observers=[recorder], **kwargs
    )
    assert recorder.events[0] == ("run_start", 4, (0, 1))
    assert [e[1] for e in recorder.events if e[0] == "episode_end"] == [2, 3]
    assert resumed.resumed == (0, 1) and resumed.complete
    trajectory = read_trajectory(out / "trajectory.jsonl")
    assert not trajectory.partial_last_line
    assert [e.episode_id for e in trajectory.episodes] == [0, 1, 2, 3]
    assert all(e.complete for e in trajectory.episodes)
    steps = [(s["episode_id"], s["step"]) for e in trajectory.episodes for s in e.steps]
    assert len(steps) == len(set(steps))  # no step twice
    expected = read_trajectory(tmp_path / "ref" / "trajectory.jsonl")
    assert [e.actions for e in trajectory.episodes] == [e.actions for e in expected.episodes]
    assert resumed.episodes == reference.episodes
    assert resumed.run_id == reference.run_id


def test_another_run_or_an_existing_run_is_refused_and_left_alone(zork, tmp_path) -> None:
    run_episodes(zork, RandomAgent(), episodes=1, seed=0, max_steps=5, out_dir=tmp_path)
    path = tmp_path / "trajectory.jsonl"
    before = path.read_bytes()
    with pytest.raises(RunFolderError, match="holds another run"):
        run_episodes(
            zork, RandomAgent(), episodes=1, seed=1, max_steps=5, out_dir=tmp_path, resume=True
        )
    with pytest.raises(RunFolderError, match="exists; resume"):
        run_episodes(zork, RandomAgent(), episodes=1, seed=0, max_steps=5, out_dir=tmp_path)
    assert issubclass(RunFolderError, S2BError) and path.read_bytes() == before
    # The same run resumed with more episodes extends it.
    more = run_episodes(
        zork, RandomAgent(), episodes=2, seed=0, max_steps=5, out_dir=tmp_path, resume=True
    )
    assert more.resumed == (0,) and [e.episode_id for e in more.episodes] == [0, 1]


class Chooser:
    """Scores two fixed commands; its reset takes the reset's observation."""

    def __init__(self, legacy: bool = False) -> None:
        self.legacy = legacy
        self.seen: list[str] = []
        self.last_choice: Any = None

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        self.seen.append(observation)

    def act(self, observation: str, info: dict[str, Any]) -> str:
        if len(self.seen) > 3:
            raise AgentFinished("enough")
        self.seen.append(observation)
        if self.legacy:  # an older agent's own record: candidates, probs, action, method

            class Old:
                candidates = ("look", "inventory")
                probs = (0.25, 0.75)
                action = "inventory"
                method = "continuation"

            self.last_choice = Old()
        else:
            self.last_choice = AgentChoice(["look", "inventory"], [0.25, 0.75], "inventory",
                                           {"orders": 2})  # fmt: skip
        return "inventory"


@pytest.mark.parametrize("legacy", [False, True])
def test_the_agent_choice_reaches_observers_and_the_trajectory(zork, tmp_path, legacy) -> None:
    agent, recorder = Chooser(legacy), Recorder()
    summary = run_episodes(zork, agent, episodes=1, out_dir=tmp_path, observers=[recorder])
    assert summary.episodes[0].end_reason == "agent"
    assert summary.episodes[0].end_detail == "enough" and summary.episodes[0].steps == 3
    assert "West of House" in agent.seen[0]  # reset(observation, info) got the reset's text
    choice = recorder.steps[0].choice
    assert choice is not None and choice.candidates == ["look", "inventory"]
    assert choice.probabilities == [0.25, 0.75] and choice.chosen == "inventory"
    steps = read_trajectory(tmp_path / "trajectory.jsonl").episodes[0].steps
    assert "choice" not in steps[0]  # the reset
    assert steps[1]["choice"]["probabilities"] == [0.25, 0.75]
    assert steps[1]["choice"]["extra"] == ({"method": "continuation"} if legacy else {"orders": 2})


def test_agents_without_a_choice_or_with_a_bare_reset_work(zork) -> None:
    recorder = Recorder()
    summary = run_episodes(zork, RandomAgent(), episodes=2, seed=3, max_steps=4,
                           observers=[recorder])  # fmt: skip
    assert [e.seed for e in summary.episodes] == [3, 4]
    assert all(e.choice is None for e in recorder.steps) and len(recorder.steps) == 8
    assert summary.means["steps"] == 4

    class Bare:
        def reset(self) -> None:
            self.reset_called = True

        def act(self, observation: str, info: dict[str, Any]) -> str:
            return "look"

    bare = Bare()
    result = run_episodes(zork, bare, episodes=1, max_steps=2).episodes[0]
    assert bare.reset_called and result.steps == 2 and result.end_reason == "max_steps"


def test_bad_arguments_and_choices_are_rejected(zork) -> None:
    with pytest.raises(ValueError, match="episodes"):
        run_episodes(zork, RandomAgent(), episodes=0)
    with pytest.raises(ValueError, match="max_steps"):
        run_episodes(zork, RandomAgent(), episodes=1, max_steps=0)
    with pytest.raises(ValueError, match="one per candidate"):
        AgentChoice(["a", "b"], [1.0], "a")
    assert AgentChoice.from_dict(AgentChoice(["a"], [1.0], "a").to_dict()).chosen == "a"
