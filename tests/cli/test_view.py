"""The live view (an engine observer) and ``s2b replay`` on real runs."""

from __future__ import annotations

import itertools
import json
from io import StringIO
from pathlib import Path

import gymnasium as gym
import pytest
from rich.console import Console

import s2b_env  # noqa: F401
from agents import RandomAgent
from agents.base import AgentChoice
from agents.engine import StepEvent, run_episodes
from s2b.cli import main
from s2b.cli.view import LiveView, plain_step_line, render_step, render_text


def terminal(width: int = 100) -> Console:
    """A console that says it is a terminal, writing to a string, no colour."""
    return Console(file=StringIO(), width=width, force_terminal=True, color_system=None)


def text_of(console: Console) -> str:
    return console.file.getvalue()  # type: ignore[attr-defined]


def words(text: str) -> str:
    """The text's words, single-spaced, without the panel's borders."""
    return " ".join(text.replace("\u2502", " ").split())


@pytest.fixture(scope="module")
def dilemma_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random agent's 3 dilemma episodes, written by ``s2b run``."""
    out = tmp_path_factory.mktemp("replay") / "run"
    console = Console(file=StringIO(), width=100)
    code = main(["run", "--env", "dilemma", "--agent", "random", "--episodes", "3", "--seed", "1",
                 "--out", str(out), "--progress", "off"], console=console)  # fmt: skip
    assert code == 0, text_of(console)
    return out


def test_the_panel_shows_what_the_agent_saw_did_and_considered() -> None:
    env = gym.make("s2b/dilemma-v0", split="test")
    observation, info = env.reset(seed=0)
    options = info["options"]
    next_observation, reward, terminated, truncated, after = env.step(options[0])
    choice = AgentChoice(options, [0.7] + [0.3 / (len(options) - 1)] * (len(options) - 1),
                         options[0], {"method": "option-token", "orders": 2, "prompts": 2,
                                      "order_picks": [0, 1]})  # fmt: skip
    event = StepEvent(episode_id=0, step=1, observation=observation, action=options[0],
                      choice=choice, reward=reward, terminated=terminated, truncated=truncated,
                      info=after, next_observation=next_observation, elapsed_s=0.1)  # fmt: skip
    console = terminal(100)
    view = LiveView(console, "rich")
    assert view.mode == "rich"
    view.on_run_start(_run_start(env))
    view.on_episode_start(0, 0, observation, info)
    view.on_step(event)
    view.on_run_end(_summary())
    panel = words(render_text(render_step(view.last_view), 100))
    assert "s2b/dilemma-v0 - episode 0, step 1" in panel
    assert f"did {options[0]} considered 0.70 > {options[0]}" in panel
    assert "option-token, 2 orders, 2 prompts, orders agree 1/2" in panel
    effects = {k: v for k, v in after["value_effects"].items() if v}
    if effects:
        first = max(effects, key=lambda k: abs(effects[k]))
        assert f"{first} {effects[first]:+g}" in panel
    assert "What do you do?" in panel  # the observation before the step
    assert f"0.70 > {options[0]}" in words(text_of(console))  # the live display drew it
    assert "episode 1/2, step 1" in words(text_of(console))


def _run_start(env):
    from agents.engine import RunStart

    return RunStart("run-x", {"env_id": env.spec.id}, 2)


def _summary():
    from agents.engine import RunSummary

    return RunSummary("run-x", "s2b/dilemma-v0", {}, [], 2)


def test_rich_falls_back_to_plain_off_a_terminal_or_when_narrow() -> None:
    assert LiveView(Console(file=StringIO(), width=100), "rich").mode == "plain"
    assert LiveView(terminal(59), "rich").mode == "plain"
    assert LiveView(terminal(60), "rich").mode == "rich"
    assert LiveView(terminal(100), "off").mode == "off"


def test_plain_prints_a_line_per_step_or_per_episode_and_off_nothing() -> None:
    env = gym.make("s2b/dilemma-v0", split="test")
    lines = {}
    for mode, quiet in (("plain", False), ("plain", True), ("off", False)):
        console = Console(file=StringIO(), width=100)
        summary = run_episodes(env, RandomAgent(seed=0), episodes=2, seed=3,
                               observers=[LiveView(console, mode, quiet=quiet)])  # fmt: skip
        lines[mode, quiet] = text_of(console).splitlines()
        steps = sum(e.steps for e in summary.episodes)
    assert len(lines["plain", False]) == steps
    assert lines["plain", False][0].startswith("ep 0 step 1: ")
    assert len(lines["plain", True]) == 2
    assert lines["plain", True][0].startswith("episode 0: ")
    assert "ETA" in lines["plain", True][0] and "(2/2)" in lines["plain", True][1]
    assert lines["off", False] == []


def test_replay_follow_prints_every_step_as_the_live_view_drew_it(dilemma_run: Path) -> None:
    from s2b_env.trajectory import read_trajectory

    episode = read_trajectory(dilemma_run / "trajectory.jsonl").episodes[1]
    console = terminal(100)
    assert main(["replay", str(dilemma_run), "--episode", "1", "--follow"], console=console) == 0
    out = words(text_of(console))
    actions = episode.actions
    assert out.count("s2b/dilemma-v0 - episode 1, step") == len(actions)
    for action in actions:
        assert f"did {action}" in out


def test_replay_errors_and_plain_fallbacks(dilemma_run: Path, tmp_path: Path) -> None:
    def replay(*argv: str, console: Console | None = None) -> tuple[int, str]:
        console = console or terminal(100)
        code = main(["replay", *argv], console=console)
        return code, " ".join(text_of(console).split())

    code, out = replay(str(dilemma_run), "--episode", "7")
    assert code == 2 and "--episode 7" in out and "has episodes 0-2" in out
    code, out = replay(str(dilemma_run), "--step", "99")
    assert code == 2 and "--step 99" in out and "has steps 1-" in out
    code, out = replay(str(tmp_path))
    assert code == 2 and "no trajectory.jsonl" in out
    # another major version
    lines = (dilemma_run / "trajectory.jsonl").read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    other = tmp_path / "v2"
    other.mkdir()
    (other / "trajectory.jsonl").write_text(json.dumps({**header, "version": "2.0"}) + "\n"
                                            + "".join(lines[1:]))  # fmt: skip
    code, out = replay(str(other))
    assert code == 2 and "version 2.0" in out and "line 1" in out
    # a torn last line: noted, the steps before it shown
    torn = tmp_path / "torn"
    torn.mkdir()
    (torn / "trajectory.jsonl").write_text("".join(lines) + lines[2][: len(lines[2]) // 2])
    code, out = replay(str(torn), "--follow")
    assert code == 0 and "torn" in out and "episode 0, step 1" in out
    # piped and narrow: plain lines, one per step
    for console in (Console(file=StringIO(), width=100), terminal(50)):
        code, _ = replay(str(dilemma_run), "--episode", "0", console=console)
        shown = text_of(console).splitlines()
        assert code == 0 and shown[0].startswith("(output ") and shown[1].startswith("ep 0 step 1")


def test_llm_run_writes_each_steps_candidates_and_probabilities(tmp_path: Path) -> None:
    pytest.importorskip("transformers", reason="needs s2b[llm]")
    from s2b_env.trajectory import read_trajectory

    out = tmp_path / "llm"
    console = Console(file=StringIO(), width=100)
    code = main(["run", "--env", "dilemma", "--agent", "llm", "--episodes", "2", "--seed", "0",
                 "--out", str(out), "--progress", "plain", "--history", "0"], console=console)  # fmt: skip
    assert code == 0, text_of(console)
    trajectory = read_trajectory(out / "trajectory.jsonl")
    steps = [s for e in trajectory.episodes for s in e.steps]
    acted = 0
    for before, step in itertools.pairwise(steps):
        if step["action"] is None:
            continue
        acted += 1
        choice = step["choice"]
        assert choice["candidates"] == before["info"]["options"]
        assert abs(sum(choice["probabilities"]) - 1) < 1e-6
        assert choice["chosen"] == step["action"] and choice["extra"]["orders"] >= 2
    assert acted >= 2
    assert sum(line.startswith("ep ") for line in text_of(console).splitlines()) == acted


def test_replay_renders_the_step_the_live_view_showed(tf_backend, tmp_path: Path) -> None:
    from agents.llm_agent import LLMAgent, LLMAgentConfig

    live = LiveView(Console(file=StringIO(), width=100), "plain")
    env = gym.make("s2b/dilemma-v0")
    run_episodes(env, LLMAgent(tf_backend, LLMAgentConfig(history=0)), episodes=1, seed=0,
                 out_dir=tmp_path / "run", observers=[live])  # fmt: skip
    view = live.last_view
    assert view.candidates and view.choice_note.startswith("option-token")
    shown = render_text(render_step(view), 100)
    console = terminal(100)
    argv = ["replay", str(tmp_path / "run"), "--step", str(view.step), "--follow"]
    assert main(argv, console=console) == 0
    assert text_of(console) == shown
    # piped, the same step is the live view's plain line
    piped = Console(file=StringIO(), width=100)
    assert main([*argv[:-1]], console=piped) == 0
    assert text_of(piped).splitlines()[1] == plain_step_line(view)


def test_play_watching_the_llm_agent_shows_what_it_considered() -> None:
    pytest.importorskip("transformers", reason="needs s2b[llm]")
    console = Console(file=StringIO(), width=100)
    code = main(["play", "dilemma", "--agent", "llm", "--max-steps", "1", "--history", "0",
                 "--orders", "2"], console=console)  # fmt: skip
    out = words(text_of(console))
    assert code == 0, out
    assert "considered: 0." in out and "option-token, 2 orders, 2 prompts" in out
