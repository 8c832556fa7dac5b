"""DRRN on the real own games: it learns, saves and reloads to act identically, policy shaping
lowers flagged actions, and the replay buffer keeps its priority share."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
import torch

import s2b_env
from agents.base import Agent
from agents.drrn.agent import DRRNAgent, PolicyShaping, state_text
from agents.drrn.context import EpisodeContext
from agents.drrn.model import EMPTY, DRRNNetConfig, tokenize
from agents.drrn.replay import ReplayBuffer, Transition
from agents.drrn.trainer import DRRNTrainer, TrainConfig, evaluate
from agents.random_agent import RandomAgent
from s2b_env.errors import DataError
from s2b_env.wrappers.action_set import ActionSetWrapper, walkthrough_actions
from s2b_env.wrappers.shaping import ValueShapingWrapper

#: A small action set of The Last Ferry: stowing away (south, then hide in crate) scores 5.
SMALL = ["north", "south", "east", "west", "wait", "take wallet", "hide in crate"]


def _env(game: str = "lastferry", shaping: str | None = None, actions=None) -> gym.Env:
    env = gym.make(f"s2b/s2b-{game}-v0")
    return ValueShapingWrapper(ActionSetWrapper(env, actions or walkthrough_actions(env)), shaping)


def _play(env: gym.Env, commands: list[str]):
    observation, info = env.reset(seed=0)
    for command in commands:
        observation, reward, terminated, _, info = env.step(command)
    return observation, info


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A DRRN trained 40 steps on The Last Ferry's small action set (seed 0), then 150 updates on
    real transitions at the ferry pier, where hiding in the crate ends the game with 5 points; and
    its saved file."""
    env = _env(actions=SMALL)
    agent = DRRNAgent(DRRNNetConfig(encoder="bag", embed_dim=16, hidden_dim=32), seed=0)
    config = TrainConfig(
        steps=40, max_episode_steps=10, learning_starts=8, learning_rate=3e-3, target_update=10
    )
    trainer = DRRNTrainer(agent, config, seed=0)
    summary = trainer.train(env)
    pier, pier_info = _play(env, ["south", "south"])
    observation, _ = _play(env, ["south", "south", "hide in crate"])
    state = agent.tokenize_state(pier, pier_info)
    hide, wait = agent.tokenize_action("hide in crate"), agent.tokenize_action("wait")
    waited, waited_info = _play(env, ["south", "south", "wait"])
    trainer.replay.add(
        Transition(state, hide, 5.0, agent.tokenize_state(observation, {}), (), True)
    )
    cands = (hide, wait)  # the pier's candidates here: hide, or wait and stay
    trainer.replay.add(
        Transition(state, wait, 0.0, agent.tokenize_state(waited, waited_info), cands, False)
    )
    losses = [trainer.update() for _ in range(150)]
    path = agent.save(tmp_path_factory.mktemp("drrn") / "m.safetensors", metadata={"k": 1})
    return agent, path, summary, (pier, pier_info), losses


def test_training_learns_the_rewarded_action_at_the_pier(trained):
    agent, _, summary, (pier, pier_info), losses = trained
    assert summary.steps == 40 and summary.updates > 0 and len(summary.episodes) >= 4
    assert all(r.steps <= 10 for r in summary.episodes)
    pair = ["wait", "hide in crate"]
    q = dict(zip(pair, agent.q_values(pier, pier_info, pair), strict=True))
    # The crate ends the game with the stowaway route's 5 points: Q(hide) -> 5; waiting stays at
    # the pier, so Q(wait) -> 0.9 * 5 = 4.5 (gamma 0.9), below it.
    assert q["hide in crate"] == pytest.approx(5.0, abs=1.0)
    assert q["wait"] == pytest.approx(4.5, abs=1.0) and q["wait"] < q["hide in crate"]
    assert np.mean(losses[-10:]) < np.mean(losses[:10])
    agent.epsilon = 0.0
    assert agent.act(pier, {**pier_info, "valid_actions": pair}) == "hide in crate"


def test_saved_agent_reloads_and_acts_identically(trained):
    agent, path, *_ = trained
    loaded = DRRNAgent.load(path, epsilon=0.0)
    assert loaded.net_config == agent.net_config and loaded.metadata == {"k": 1}
    assert isinstance(loaded, Agent)
    env = _env()
    observation, info = env.reset(seed=0)
    for a in (agent, loaded):
        a.epsilon = 0.3
        a.reseed(5)
        a.reset(observation, info)
    for _ in range(25):
        candidates = info["valid_actions"]
        q1 = agent.q_values(observation, info, candidates)
        q2 = loaded.q_values(observation, info, candidates)
        assert np.array_equal(q1, q2)
        action = agent.act(observation, info)
        assert loaded.act(observation, info) == action
        observation, _, terminated, _, info = env.step(action)
        if terminated:
            break
    agent.epsilon = 0.0


def test_load_refuses_files_that_are_not_drrn_weights(tmp_path, trained):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(DataError, match="not a safetensors file"):
        DRRNAgent.load(bad)
    import torch
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(DataError, match="not an s2b DRRN file"):
        DRRNAgent.load(tmp_path / "other.safetensors")
    with pytest.raises(FileNotFoundError):
        DRRNAgent.load(tmp_path / "missing.safetensors")


def test_policy_shaping_lowers_flagged_actions_by_the_weight(trained):
    agent, path, *_ = trained
    env = _env()
    observation, info = env.reset(seed=0)
    for command in ["south", "east", "take wallet"]:
        observation, _, _, _, info = env.step(command)
    candidates = info["valid_actions"]

    def flags(obs, cands):
        return [0.9 if c == "take cash" else 0.1 for c in cands]

    shaped = DRRNAgent.load(path, policy_shaping=PolicyShaping(flags, threshold=0.5, weight=7.0))
    plain = agent.q_values(observation, info, candidates)
    lowered = shaped.q_values(observation, info, candidates)
    i = candidates.index("take cash")
    assert lowered[i] == pytest.approx(plain[i] - 7.0)
    assert np.delete(lowered, i) == pytest.approx(np.delete(plain, i))
    huge = DRRNAgent.load(path, policy_shaping=PolicyShaping(flags, threshold=0.5, weight=1e9))
    assert huge.act(observation, info) != "take cash"
    bad = DRRNAgent.load(path, policy_shaping=PolicyShaping(lambda o, c: [1.0]))
    with pytest.raises(s2b_env.S2BError, match="1 scores for"):
        bad.act(observation, info)


def test_act_records_its_choice_and_falls_back_without_candidates(trained):
    agent, *_ = trained
    env = _env()
    observation, info = env.reset(seed=0)
    action = agent.act(observation, info)
    choice = agent.last_choice
    fields = choice if isinstance(choice, dict) else vars(choice)
    assert fields["chosen"] == action and fields["candidates"] == info["valid_actions"]
    assert sum(fields["probabilities"]) == pytest.approx(1.0)
    assert agent.act("The end.", {"valid_actions": []}) == "look"


def test_replay_draws_its_priority_share_from_rewarded_steps():
    buffer = ReplayBuffer(capacity=3, priority_fraction=0.25, seed=0)
    step = Transition((2,), (3,), 0.0, (4,), ((5,),), False)
    for r in (0.0, 0.0, 0.0, 0.0, 1.0):
        buffer.add(Transition(step.state, step.action, r, step.next_state, (), r > 0))
    assert len(buffer) == 4  # the plain ring holds its 3 newest
    batch = buffer.sample(8)
    assert len(batch) == 8 and sum(t.reward > 0 for t in batch) == 2
    with pytest.raises(ValueError, match="priority_fraction"):
        ReplayBuffer(3, priority_fraction=1.5)


def test_epsilon_decays_linearly_then_stays():
    config = TrainConfig(steps=100, epsilon_start=1.0, epsilon_end=0.1)
    assert [round(config.epsilon(s), 3) for s in (0, 25, 50, 90)] == [1.0, 0.55, 0.1, 0.1]
    with pytest.raises(ValueError, match="gamma"):
        TrainConfig(gamma=2.0)


def _params(net) -> list:
    return [p.detach().clone() for p in net.parameters()]


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_target_network_gives_the_bootstrap_and_is_copied_every_n_updates():
    agent = DRRNAgent(DRRNNetConfig(encoder="bag", embed_dim=8, hidden_dim=8), seed=0)
    config = TrainConfig(learning_starts=1, batch_size=1, priority_fraction=0.0, target_update=3)
    trainer = DRRNTrainer(agent, config, seed=0)
    assert trainer.target is not agent.net and _same(_params(trainer.target), _params(agent.net))
    step = Transition((5, 6), (7,), 1.0, (8, 9), ((10,), (11, 12)), False)
    trainer.replay.add(step)
    initial = _params(agent.net)
    for _ in range(2):
        with torch.no_grad():  # the loss a hand-computed Q-learning target gives
            q = agent.net.q_values([step.state], [[step.action]])[0][0]
            boot = trainer.target.q_values([step.next_state], [step.next_candidates])[0].max()
            want = torch.nn.functional.smooth_l1_loss(q, step.reward + config.gamma * boot)
        assert trainer.update() == pytest.approx(want.item(), rel=1e-5)
        assert _same(_params(trainer.target), initial)  # not copied before the 3rd update
        assert not _same(_params(agent.net), initial)
    trainer.update()
    assert _same(_params(trainer.target), _params(agent.net))
    # without a target network the bootstrap is the trained network itself
    assert DRRNTrainer(agent, TrainConfig(target_update=0)).target is agent.net
    with pytest.raises(ValueError, match="target_update"):
        TrainConfig(target_update=-1)


def test_tokenize_is_stable_and_bounded():
    ids = tokenize("Take the WALLET, then go south!", 64, 5)
    assert ids == tokenize("take the wallet ,   then", 64, 50)[:5] and len(ids) == 5
    assert all(2 <= i < 64 for i in ids)
    assert tokenize("   ", 64, 5) == [EMPTY]


def test_state_text_adds_room_score_inventory_and_room_description():
    text = state_text("Taken.", {"location": "Quay", "inventory": ["wallet", "watch"]})
    assert text == "room: Quay | Taken. | carrying: wallet, watch"
    text = state_text("Ticket.", {"location": "Ferry Pier", "score": 0}, "Ferry Pier\nThe pier.")
    assert text == "room: Ferry Pier | score: 0 | Ticket. | here: Ferry Pier\nThe pier."
    # The description is not repeated when it is the observation itself.
    assert state_text("Pier  text", {}, "Pier text") == "Pier  text"


def test_context_spends_actions_that_change_nothing_until_the_next_visit():
    env = _env()
    context = EpisodeContext()
    observation, info = env.reset(seed=0)
    context.reset(observation, info)
    assert context.room_text == observation
    steps = {}
    for command in ["south", "south", "south", "south", "look", "wait"]:
        observation, _, _, _, info = env.step(command)
        steps.setdefault(command, []).append(context.update(command, observation, info))
        if len(steps["south"]) == 2 and command == "south":
            pier = observation
    # The first two moves enter new rooms; at the pier "south" gets "Ticket." (new), then the
    # same again (spent); "look" prints the pier's description, already printed on entering.
    assert steps["south"] == [True, True, True, False] and steps["look"] == [False]
    assert context.room_text == pier and "The pier runs out" in pier
    assert context.spent == {"south", "look"}
    assert steps["wait"] == [True] and context.tried == {"south", "look", "wait"}
    cands = ["south", "look", "wait", "north"]
    assert context.allowed(cands) == [2, 3] and context.untried(cands) == [3]
    assert context.allowed(["south"]) == [0]  # never nothing to choose
    observation, _, _, _, info = env.step("north")
    assert context.update("north", observation, info) is True
    assert context.spent == set() and context.tried == set()
    assert "Harbour Road" in context.room_text


def test_a_greedy_agent_does_not_repeat_a_spent_action():
    """With Q pushed up for "south", the agent walks south to the pier, gets "Ticket." twice, then
    tries something else; without ``avoid_spent`` it repeats "south" for ever."""

    def all_but_south(observation, candidates):
        return [0.0 if c == "south" else 1.0 for c in candidates]

    shaping = PolicyShaping(all_but_south, threshold=0.5, weight=1e6)
    for avoid in (True, False):
        agent = DRRNAgent(DRRNNetConfig(encoder="bag"), seed=0, policy_shaping=shaping,
                          avoid_spent=avoid)  # fmt: skip
        env = _env()
        observation, info = env.reset(seed=0)
        agent.reset(observation, info)
        actions = []
        for _ in range(6):
            actions.append(agent.act(observation, info))
            observation, _, _, _, info = env.step(actions[-1])
        if avoid:
            assert actions[:4] == ["south"] * 4 and "south" not in actions[4:]
        else:
            assert actions == ["south"] * 6


def test_trainer_states_chain_and_carry_the_room_description():
    env = _env(actions=SMALL)
    agent = DRRNAgent(DRRNNetConfig(encoder="bag", embed_dim=8, hidden_dim=8), seed=1)
    trainer = DRRNTrainer(agent, TrainConfig(steps=30, max_episode_steps=30), seed=1)
    trainer.train(env)
    stored = [t for t in trainer.replay.transitions() if t.reward <= 0][:20]  # in step order
    assert all(a.next_state == b.state for a, b in itertools.pairwise(stored))
    # Some step replied briefly ("You can't go that way.") and its state still names the room.
    here = agent.tokenize_action("here")[0]
    assert any(here in t.next_state for t in stored)


def test_trained_agent_plays_episodes_through_the_runner_and_evaluate(trained):
    from agents.engine import run_episode

    agent, *_ = trained
    agent.epsilon = 0.0
    env = _env(actions=["south", "wait", "hide in crate"])
    first = run_episode(env, agent, seed=0, max_steps=6)
    again = run_episode(env, agent, seed=0, max_steps=6)
    assert (first.steps, first.score) == (again.steps, again.score) and 1 <= first.steps <= 6
    # Scripted, the stowaway ending: south, south, hide in crate gives the route's 5 points and
    # its annotated +2 stimulation.
    scripted = [r for r in evaluate(env, _Script(["south", "south", "hide in crate"]),
                                    episodes=1, max_episode_steps=6, seed=0)]  # fmt: skip
    assert (scripted[0].score, scripted[0].steps, scripted[0].original_return) == (5, 3, 5.0)
    assert scripted[0].signals["stimulation"] == 2.0 and scripted[0].victory
    assert len(evaluate(env, RandomAgent(0), episodes=2, max_episode_steps=6, seed=0)) == 2


class _Script:
    def __init__(self, commands: list[str]) -> None:
        self.commands = commands

    def reset(self, *args) -> None:
        self.left = list(self.commands)

    def act(self, observation: str, info: dict) -> str:
        return self.left.pop(0)
