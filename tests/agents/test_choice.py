"""Order-debiased choice (agents/choice.py), on the real scenario envs and the default model."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import gymnasium as gym
import pytest

import s2b_env  # noqa: F401
from agents.choice import (
    average_over_orders,
    calibrate,
    option_orders,
    order_picks,
    permute_menu,
    split_menu,
)
from agents.llm_agent import LLMAgent, LLMAgentConfig


def test_orders_are_all_permutations_when_they_fit_and_balanced_otherwise() -> None:
    assert option_orders(3, 1) == [(0, 1, 2)]
    assert option_orders(2, 6) == [(0, 1), (1, 0)]
    assert sorted(option_orders(3, 6)) == sorted(itertools.permutations(range(3)))
    assert option_orders(3, 6)[0] == (0, 1, 2)
    for n, k, expected in ((4, 6, 4), (4, 8, 8), (4, 23, 8), (4, 24, 24), (5, 6, 5), (5, 12, 10)):
        orders = option_orders(n, k)
        assert len(orders) == expected and len(set(orders)) == expected
        assert all(sorted(o) == list(range(n)) for o in orders)
        if expected < math.factorial(n):
            # balanced: each option at each position equally often
            for position in range(n):
                counts = Counter(o[position] for o in orders)
                assert set(counts.values()) == {expected // n} and len(counts) == n
    assert option_orders(4, 3) == [(0, 1, 2, 3), (1, 2, 3, 0), (2, 3, 0, 1)]
    with pytest.raises(ValueError, match="orders >= 1"):
        option_orders(3, 0)


def test_averaging_maps_positions_back_to_options() -> None:
    # order (1, 0): option 1 shown first. A model that always says "first" (0.9) favours neither.
    probs = average_over_orders([[0.9, 0.1], [0.9, 0.1]], [(0, 1), (1, 0)])
    assert probs == pytest.approx([0.5, 0.5])
    probs = average_over_orders([[0.7, 0.3], [0.4, 0.6]], [(0, 1), (1, 0)])
    assert probs == pytest.approx([(0.7 + 0.6) / 2, (0.3 + 0.4) / 2])
    assert order_picks([[0.7, 0.3], [0.4, 0.6]], [(0, 1), (1, 0)]) == [0, 0]
    # calibration divides out the content-free prior: 0.6/0.8 vs 0.4/0.2 -> 0.75 : 2 -> 3/11
    assert calibrate([0.6, 0.4], [0.8, 0.2]) == pytest.approx([3 / 11, 8 / 11])


@pytest.mark.parametrize("kind", ["judgment", "dilemma"])
def test_the_envs_menu_is_found_and_reordered(kind: str) -> None:
    env = gym.make(f"s2b/{kind}-v0", split="test")
    observation, info = env.reset(seed=3)
    options = info["options"]
    body, texts = split_menu(observation, options)
    assert len(texts) == len(options)
    assert all(t.casefold().startswith(o.casefold()) for t, o in zip(texts, options, strict=True))
    assert all(t not in body for t in texts) and len(body) < len(observation)
    order = tuple(reversed(range(len(options))))
    moved, listed = permute_menu(observation, options, order)
    assert listed == list(reversed(options))
    again = split_menu(moved, listed)
    assert again is not None and again[0] == body and again[1] == list(reversed(texts))
    assert any(line.strip() == f"1. {texts[-1]}" for line in moved.split("\n"))


def test_a_menu_variant_and_no_menu() -> None:
    text = "Pick one.\n1) Tea - hot\n2) coffee\n3) Water\nThanks"
    assert split_menu(text, ["tea", "Coffee", "water"]) == (
        "Pick one.\nThanks",
        ["Tea - hot", "coffee", "Water"],
    )
    assert split_menu(text, ["tea", "juice", "water"]) is None  # line 2 is not "juice"
    assert split_menu("no menu here", ["a", "b"]) is None
    with pytest.raises(ValueError, match="no numbered menu"):
        permute_menu("no menu here", ["a", "b"], (1, 0))


# ----------------------------------------------------------------------- with the default model


def test_shared_prefix_scoring_matches_separate_prompts(tf_backend) -> None:
    from agents.llm_agent import LLMAgent

    env = gym.make("s2b/dilemma-v0", split="test")
    observation, info = env.reset(seed=1)
    agent = LLMAgent(tf_backend, LLMAgentConfig(history=0))
    n = len(info["options"])
    body, texts = split_menu(observation, info["options"])
    prompts = [
        agent._option_prompt(agent._messages(body, agent._listing([texts[i] for i in o])))
        for o in option_orders(n, n)
    ]
    numbers = [str(i + 1) for i in range(n)]
    shared = tf_backend.next_token_distributions(prompts, numbers)
    for prompt, dist in zip(prompts, shared, strict=True):
        alone = tf_backend.next_token_distribution(prompt, numbers)
        assert dist.logprobs == pytest.approx(alone.logprobs, abs=2e-4)


def test_debiased_choice_does_not_depend_on_the_listed_order(tf_backend) -> None:
    env = gym.make("s2b/dilemma-v0", split="test")
    observation, info = env.reset(options={"item_id": env.unwrapped.items[0].id})
    options = info["options"]
    n = len(options)
    # n cyclic shifts: a cyclic change of the input order asks the same set of listings
    agent = LLMAgent(tf_backend, LLMAgentConfig(history=0, orders=n))
    agent.act(observation, info)
    first = agent.last_choice
    assert first.extra["orders"] == n == first.extra["prompts"]
    assert first.extra["menu_removed"] and first.chosen in options
    assert math.isclose(sum(first.probabilities), 1.0, rel_tol=1e-9)
    order = tuple((p + 1) % n for p in range(n))
    moved, listed = permute_menu(observation, options, order)
    agent.act(moved, {**info, "options": listed})
    second = agent.last_choice
    assert second.chosen == first.chosen
    by_label = dict(zip(second.candidates, second.probabilities, strict=True))
    assert [by_label[o] for o in options] == pytest.approx(first.probabilities, abs=1e-3)


def test_one_order_is_the_undebiased_prompt(tf_backend) -> None:
    env = gym.make("s2b/dilemma-v0", split="test")
    observation, info = env.reset(seed=4)
    n = len(info["options"])
    agent = LLMAgent(tf_backend, LLMAgentConfig(history=0, orders=1))
    agent.act(observation, info)
    listing = "\n".join(f"{i}. {o}" for i, o in enumerate(info["options"], start=1))
    prompt = tf_backend.chat_prompt(
        [
            {"role": "system", "content": agent.config.system},
            {
                "role": "user",
                "content": f"{observation}\n\nYour options:\n{listing}\n\n"
                "Reply with the number of your choice.",
            },
        ],
        assistant_prefix="My choice: ",
    )
    expected = tf_backend.next_token_distribution(prompt, [str(i + 1) for i in range(n)]).probs
    assert agent.last_choice.probabilities == pytest.approx(expected, abs=1e-6)
    assert agent.last_choice.extra == {
        "method": "option-token",
        "orders": 1,
        "prompts": 1,
        "calibrated": False,
        "menu_removed": False,
        "order_picks": [max(range(n), key=expected.__getitem__)],
        "mass": pytest.approx(agent.last_choice.extra["mass"]),
    }


def test_calibration_prompts_are_cached_per_listing(tf_backend) -> None:
    env = gym.make("s2b/dilemma-v0", split="test")
    observation, info = env.reset(seed=2)
    agent = LLMAgent(tf_backend, LLMAgentConfig(history=0, orders=2, calibrate=True))
    for content_free_prompts in (2, 0):  # the same listings again: cached
        agent.act(observation, info)
        extra = agent.last_choice.extra
        assert extra["calibrated"] and extra["prompts"] == 2 + content_free_prompts
    assert len(agent._content_free) == 2
    plain = LLMAgent(tf_backend, LLMAgentConfig(history=0, orders=2))
    plain.act(observation, info)
    assert agent.last_choice.probabilities != pytest.approx(plain.last_choice.probabilities)
