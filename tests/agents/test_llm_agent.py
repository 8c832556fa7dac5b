"""LLMAgent with the real default model (SmolLM2-135M-Instruct) on real envs."""

from __future__ import annotations

import math

import gymnasium as gym
import pytest

import s2b_env  # noqa: F401
from agents.engine import run_episode
from agents.llm_agent import LLMAgent, LLMAgentConfig

pytest.importorskip("transformers", reason="needs s2b[llm]")


def test_dilemma_choices_come_from_the_option_number_distribution(tf_backend) -> None:
    env = gym.make("s2b/dilemma-v0")
    agent = LLMAgent(tf_backend)
    observation, info = env.reset(seed=2)
    options = info["options"]
    action = agent.act(observation, info)
    choice = agent.last_choice
    assert choice.extra["method"] == "option-token" and action in options
    assert choice.candidates == options and choice.chosen == action
    assert math.isclose(sum(choice.probabilities), 1.0, rel_tol=1e-6)
    assert action == options[max(range(len(options)), key=choice.probabilities.__getitem__)]
    # debiased by default: every order of the 2-3 options asked, the prompts counted
    assert choice.extra["orders"] == choice.extra["prompts"] == math.factorial(len(options))
    # The env accepts the label as an action and moves on.
    _, _, _, _, info = env.step(action)
    assert info["error"] is None and info["chosen"] == action


def test_episodes_are_reproducible_and_end_at_a_leaf(tf_backend) -> None:
    env = gym.make("s2b/dilemma-v0")
    cheap = LLMAgentConfig(orders=1)  # one prompt a step: reproducibility, not debiasing
    first = run_episode(env, LLMAgent(tf_backend, cheap), seed=5)
    second = run_episode(env, LLMAgent(tf_backend, cheap), seed=5)
    assert first == second and first.terminated
    assert "value_totals" in first.metrics


def test_sampling_with_a_temperature_is_seeded(tf_backend) -> None:
    env = gym.make("s2b/dilemma-v0")
    observation, info = env.reset(seed=1)
    sampling = LLMAgentConfig(temperature=2.0, history=0, orders=1)
    agents = [LLMAgent(tf_backend, sampling, seed=s) for s in (0, 0, 1)]
    picks = [[agent.act(observation, info) for _ in range(2)] for agent in agents]
    assert picks[0] == picks[1]
    assert all(p in info["options"] for pick in picks for p in pick)
    greedy = LLMAgent(tf_backend, LLMAgentConfig(history=0, orders=1))
    greedy.act(observation, info)
    assert agents[2].last_choice.probabilities == pytest.approx(
        greedy.last_choice.probabilities, abs=1e-5
    )


def test_a_tiny_temperature_samples_like_greedy(tf_backend) -> None:
    env = gym.make("s2b/dilemma-v0")
    observation, info = env.reset(seed=1)
    greedy = LLMAgent(tf_backend, LLMAgentConfig(history=0, orders=1))
    cold = LLMAgent(tf_backend, LLMAgentConfig(temperature=1e-4, history=0, orders=1), seed=0)
    # probs ** (1/T) would underflow to 0 here and make the sampling weights NaN
    assert [cold.act(observation, info) for _ in range(3)] == [greedy.act(observation, info)] * 3


def test_history_keeps_at_most_the_configured_turns(tf_backend) -> None:
    env = gym.make("s2b/dilemma-v0")
    for history in (0, 1):
        agent = LLMAgent(tf_backend, LLMAgentConfig(history=history, orders=1))
        observation, info = env.reset(seed=3)
        for _ in range(2):
            observation, _, terminated, _, info = env.step(agent.act(observation, info))
            if terminated:
                break
        assert len(agent._turns) == history  # nothing kept beyond what prompts use
        messages = agent._messages(observation, "?")
        assert len(messages) == 2 + 2 * history  # system, the kept turns, this observation


def test_candidate_actions_are_scored_with_a_shared_prompt(tf_backend, games_dir) -> None:
    env = gym.make("s2b/jericho-zork1-v0", games_dir=games_dir)
    observation, info = env.reset(seed=0)
    candidates = ["open mailbox", "north", "south", "take mailbox", "west"]
    agent = LLMAgent(tf_backend, LLMAgentConfig(history=0))
    action = agent.act(observation, {**info, "valid_actions": candidates})
    choice = agent.last_choice
    assert choice.extra == {"method": "continuation", "prompts": 1, "length_norm": "mean"}
    assert action in candidates
    # The probabilities are the softmax of the mean token log-probabilities of each candidate.
    prompt = tf_backend.chat_prompt(
        agent._messages(observation, "What do you do? Reply with one short command."),
    )
    scores = [s.mean_logprob for s in tf_backend.score_continuations(prompt, candidates)]
    peak = max(scores)
    expected = [math.exp(s - peak) / sum(math.exp(x - peak) for x in scores) for s in scores]
    assert choice.probabilities == pytest.approx(expected, abs=1e-6)
    # length_norm="sum": the softmax of the total log-probabilities
    summed = LLMAgent(tf_backend, LLMAgentConfig(history=0, length_norm="sum"))
    summed.act(observation, {**info, "valid_actions": candidates})
    totals = [s.logprob for s in tf_backend.score_continuations(prompt, candidates)]
    peak = max(totals)
    expected = [math.exp(s - peak) / sum(math.exp(x - peak) for x in totals) for s in totals]
    assert summed.last_choice.probabilities == pytest.approx(expected, abs=1e-6)


def test_free_generation_when_nothing_is_offered(tf_backend) -> None:
    env = gym.make("s2b/s2b-lastferry-v0")
    observation, info = env.reset(seed=0)
    agent = LLMAgent(tf_backend)
    # The prompt before the agent acts (its history is still empty).
    prompt = tf_backend.chat_prompt(
        agent._messages(observation, "What do you do? Reply with one short command."),
        assistant_prefix="",
    )
    action = agent.act(observation, info)
    assert agent.last_choice.extra["method"] == "generation"
    assert agent.last_choice.candidates == [action] and agent.last_choice.probabilities == [1.0]
    assert action and "\n" not in action and len(action) < 120
    # The command is the first line of the model's greedy reply (temperature 0, the default), as
    # the backend generates it on its own, stripped of quotes and a full stop.
    reply = tf_backend.generate(prompt, max_new_tokens=agent.config.max_new_tokens, temperature=0.0)
    lines = reply.text.strip().splitlines()
    assert action == ((lines[0].strip().strip(" .\"'`*") if lines else "") or "look")
    _, _, _, _, info = env.step(action)
    assert info["action"] == action and not info["refused"]


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="temperature"):
        LLMAgentConfig(temperature=-1)
    with pytest.raises(ValueError, match="history"):
        LLMAgentConfig(history=-2)
    with pytest.raises(ValueError, match="orders"):
        LLMAgentConfig(orders=0)
    with pytest.raises(ValueError, match="length_norm"):
        LLMAgentConfig(length_norm="max")


def test_s2b_run_with_the_llm_agent_records_the_model(tmp_path) -> None:
    from io import StringIO

    from rich.console import Console

    from s2b.cli import main
    from s2b_env.trajectory import read_trajectory

    console = Console(file=StringIO(), width=80)
    out = tmp_path / "llm"
    code = main(["run", "--env", "dilemma", "--agent", "llm", "--episodes", "1", "--seed", "4",
                 "--out", str(out), "--progress", "off", "--history", "0"], console=console)  # fmt: skip
    assert code == 0, console.file.getvalue()
    header = read_trajectory(out / "trajectory.jsonl").header
    assert header["config"]["model"]["backend"]["backend"] == "transformers"
    assert header["config"]["model"]["agent"]["history"] == 0
    assert header["config"]["model"]["agent"]["orders"] == 8
    assert "value totals" in console.file.getvalue()
