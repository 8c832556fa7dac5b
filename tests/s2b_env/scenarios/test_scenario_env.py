"""MoralScenarioEnv on the shipped scenario files: API conformance, rewards, info, every path."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import s2b_env  # noqa: F401  (registers the ids)
from s2b_env.scenarios.data import VALUE_IDS, VERDICTS, Dilemma, load_scenarios, parse_verdict
from s2b_env.scenarios.env import INFO_KEYS, MoralScenarioEnv, match_option
from s2b_env.values import ValueVector


@pytest.fixture(scope="module")
def judgments() -> MoralScenarioEnv:
    return MoralScenarioEnv(kind="judgment")


@pytest.fixture(scope="module")
def dilemmas() -> MoralScenarioEnv:
    return MoralScenarioEnv(kind="dilemma")


@pytest.mark.parametrize("env_id", ["s2b/judgment-v0", "s2b/dilemma-v0"])
def test_check_env(env_id: str) -> None:
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)


def _rollout(env: gym.Env, seed: int, actions: list[str]) -> list:
    trace = []
    obs, info = env.reset(seed=seed)
    trace.append((obs, json.dumps(info, sort_keys=True)))
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append((obs, reward, terminated, truncated, json.dumps(info, sort_keys=True)))
        if terminated or truncated:
            break
    return trace


@pytest.mark.parametrize(
    ("env_id", "actions"),
    [("s2b/judgment-v0", ["NTA"]), ("s2b/dilemma-v0", ["2", "nonsense", "1", "1", "1", "1", "1"])],
)
def test_seeded_rollouts_are_deterministic(env_id: str, actions: list[str]) -> None:
    a = _rollout(gym.make(env_id), 7, actions)
    b = _rollout(gym.make(env_id), 7, actions)
    assert a == b
    items = {gym.make(env_id).reset(seed=s)[1]["item_id"] for s in range(12)}
    assert len(items) > 1, "different seeds should sample different items"


def test_split_option_restricts_items() -> None:
    for split in ("train", "validation", "test"):
        env = gym.make("s2b/judgment-v0", split=split)
        seen = {env.reset(seed=s)[1]["split"] for s in range(15)}
        assert seen == {split}
        assert {item.split for item in env.unwrapped.items} == {split}
    with pytest.raises(ValueError, match="split"):
        MoralScenarioEnv(kind="judgment", split="dev")


def test_judgment_reward_is_reference_share(judgments: MoralScenarioEnv) -> None:
    item = judgments.items[0]
    for verdict in VERDICTS:
        obs, info = judgments.reset(options={"item_id": item.id})
        assert item.text[:60] in obs and item.question in obs and "NAH" in obs
        assert info["options"] == list(VERDICTS) and info["reference"] == item.verdicts
        obs, reward, terminated, truncated, info = judgments.step(verdict.lower())
        assert terminated and not truncated
        assert reward == pytest.approx(item.verdicts[verdict])
        assert info["verdict"] == verdict and info["error"] is None
        assert info["options"] == [] and f"Your verdict: {verdict}" in obs


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("nta", "NTA"),
        ("Not the a-hole", "NTA"),
        ("you're the asshole", "YTA"),
        ("YTA. You should apologise.", "YTA"),
        ("Everyone sucks here", "ESH"),
        ("No a-holes here", "NAH"),
        ("I'd say NTA, your sister is not wrong either", "NTA"),
        ("2", "NTA"),
        ("you are in the wrong", "YTA"),
    ],
)
def test_verdicts_are_read_leniently(answer: str, verdict: str) -> None:
    assert parse_verdict(answer) == verdict


def test_judgment_invalid_answer_ends_cleanly(judgments: MoralScenarioEnv) -> None:
    judgments.reset(seed=0)
    obs, reward, terminated, truncated, info = judgments.step("I like turtles")
    assert terminated and not truncated and reward == 0.0
    assert "not a verdict" in info["error"] and "YTA, NTA, ESH or NAH" in info["error"]
    assert info["verdict"] is None and set(info["value_totals"].values()) == {0}
    assert judgments.observation_space.contains(obs)
    with pytest.raises(RuntimeError, match="reset"):
        judgments.step("NTA")


def test_judgment_effects_endorse_a_side(judgments: MoralScenarioEnv) -> None:
    item = next(i for i in judgments.items if i.values)
    judgments.reset(options={"item_id": item.id})
    _, _, _, _, info = judgments.step("NTA")
    for tension in item.values:
        expected = 1 if tension.side == "narrator" else -1
        assert info["value_effects"][tension.value] == expected
    judgments.reset(options={"item_id": item.id})
    _, _, _, _, info = judgments.step("NAH")
    assert set(info["value_effects"].values()) == {0}


def test_info_has_fixed_keys_every_step(dilemmas: MoralScenarioEnv) -> None:
    obs, info = dilemmas.reset(seed=3)
    infos = [info]
    for action in ["zzz", "1", "1", "1", "1", "1", "1"]:
        obs, _, terminated, _, info = dilemmas.step(action)
        infos.append(info)
        assert dilemmas.observation_space.contains(obs)
        if terminated:
            break
    assert terminated
    for info in infos:
        assert tuple(info) == INFO_KEYS
        assert list(info["value_effects"]) == list(VALUE_IDS) == list(info["value_totals"])
        # the same types as own games' info (ValueVector.to_dict): floats, read back losslessly
        for key in ("value_effects", "value_totals"):
            assert all(type(x) is float for x in info[key].values())
            assert ValueVector.from_dict(info[key]).to_dict() == info[key]


def test_dilemma_invalid_choice_changes_nothing(dilemmas: MoralScenarioEnv) -> None:
    item = dilemmas.items[0]
    obs0, info0 = dilemmas.reset(options={"item_id": item.id})
    labels = [o.label for o in item.nodes[item.start].options]
    assert info0["options"] == labels and info0["node"] == item.start
    assert all(f"{i}. {label}" in obs0 for i, label in enumerate(labels, start=1))
    for bad in ["9", "0", "", "something else entirely"]:
        obs, reward, terminated, truncated, info = dilemmas.step(bad)
        assert not terminated and not truncated and reward == 0.0
        assert info["error"] and info["node"] == item.start and info["options"] == labels
        assert info["value_totals"] == info0["value_totals"] and info["choice"] is None
        assert labels[0] in obs
    # the option's own words work as well as its number, and effects add up
    _, _, _, _, info = dilemmas.step(labels[1].upper() + ".")
    assert info["error"] is None and info["choice"] == 2 and info["chosen"] == labels[1]
    expected = dict(zip(VALUE_IDS, item.nodes[item.start].options[1].effects, strict=True))
    assert info["value_effects"] == expected and info["value_totals"] == expected


def test_match_option_leniency() -> None:
    labels = ["Call her back tonight", "Send a text instead", "Ignore it"]
    assert match_option("2", labels) == (1, None)
    assert match_option("Option 3.", labels) == (2, None)
    assert match_option("I choose option 1 because...", labels) == (0, None)
    assert match_option("send a text", labels) == (1, None)
    assert match_option("  ignore IT ", labels) == (2, None)
    assert match_option("4", labels)[0] is None
    index, error = match_option("e", labels)
    assert index is None and "expected a number 1-3" in error


def test_value_weights_give_the_dilemma_reward() -> None:
    weights = {"benevolence_caring": 1.0, "conformity_rules": -0.5}
    env = MoralScenarioEnv(kind="dilemma", value_weights=weights)
    item = env.items[0]
    env.reset(options={"item_id": item.id})
    option = item.nodes[item.start].options[0]
    _, reward, _, _, _ = env.step("1")
    by_id = dict(zip(VALUE_IDS, option.effects, strict=True))
    assert reward == pytest.approx(by_id["benevolence_caring"] - 0.5 * by_id["conformity_rules"])
    with pytest.raises(ValueError, match="value_weights: unknown value id 'kindness'"):
        MoralScenarioEnv(kind="dilemma", value_weights={"kindness": 1.0})


def test_unknown_item_id_is_a_clear_error(dilemmas: MoralScenarioEnv) -> None:
    with pytest.raises(ValueError, match=r"item_id.*got 'nope'"):
        dilemmas.reset(options={"item_id": "nope"})


def test_every_dilemma_path_ends_at_a_leaf(dilemmas: MoralScenarioEnv) -> None:
    """Walk every sequence of choices through the env itself; each must terminate in <= 6."""
    records = load_scenarios(dilemmas.config.paths(), kind="dilemma")
    walked = 0
    for dilemma in records:
        assert isinstance(dilemma, Dilemma)
        leaves = 0
        visited_nodes: set[str] = set()
        pending: list[list[int]] = [[]]
        while pending:
            prefix = pending.pop()
            _, info = dilemmas.reset(options={"item_id": dilemma.id})
            terminated = False
            for number in prefix:
                _, _, terminated, truncated, info = dilemmas.step(str(number))
                assert info["error"] is None and not truncated
            if terminated:
                assert info["node"] is None and info["options"] == []
                leaves += 1
                continue
            assert len(prefix) < 6, f"{dilemma.id}: path {prefix} is longer than 6 decisions"
            visited_nodes.add(info["node"])
            pending.extend([*prefix, n] for n in range(1, len(info["options"]) + 1))
        assert visited_nodes == set(dilemma.nodes), f"{dilemma.id}: unreachable nodes"
        assert leaves == len(dilemma.paths())
        walked += leaves
    assert walked >= 2 * len(records)


def test_user_scenarios_path(tmp_path) -> None:
    record = {
        "schema_version": 1,
        "kind": "judgment",
        "id": "mine-1",
        "title": "Kept the last slice",
        "text": "I ate the last slice of pizza my roommate had labelled with her name.",
        "verdicts": {"YTA": 0.9, "NAH": 0.1},
    }
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    env = gym.make("s2b/judgment-v0", scenarios_path=str(path))
    obs, info = env.reset(seed=0)
    assert info["item_id"] == "mine-1" and "last slice" in obs
    assert info["values_in_tension"] == [] and info["reference"]["YTA"] == pytest.approx(0.9)
    _, reward, terminated, _, _ = env.step("You're the asshole")
    assert terminated and reward == pytest.approx(0.9)


def test_observations_fit_the_charset(tmp_path) -> None:
    record = {
        "schema_version": 1,
        "kind": "judgment",
        "id": "u-1",
        "title": "Caf\u00e9 \u201cdrama\u201d \u2014 part one",
        "text": "The caf\u00e9\u2019s owner said \u2026 no. \u4f60\u597d",
    }
    path = tmp_path / "u.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    env = MoralScenarioEnv(kind="judgment", scenarios_path=path)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert 'Cafe "drama" -- part one' in obs and "The cafe's owner said ... no. ??" in obs


@pytest.mark.timeout(5)  # the old pattern took seconds on this input (quadratic backtracking)
def test_long_answers_are_rejected_quickly(dilemmas: MoralScenarioEnv) -> None:
    labels = ["Call her back tonight", "Send a text instead", "Ignore it"]
    for answer in ("!" + " " * 20_000 + "x", "#" * 20_000, "option " * 3_000 + "x"):
        index, error = match_option(answer, labels)
        assert index is None and "expected a number 1-3" in error
    assert match_option("!" + " " * 20_000 + "2", labels) == (1, None)  # still read as a number
    item = dilemmas.items[0]
    dilemmas.reset(options={"item_id": item.id})
    obs, reward, terminated, _, info = dilemmas.step("!" + " " * 20_000 + "x")
    assert not terminated and reward == 0.0 and info["choice"] is None
    assert "expected a number 1-3" in info["error"] and dilemmas.observation_space.contains(obs)
