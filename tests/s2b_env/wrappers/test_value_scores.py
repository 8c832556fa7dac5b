"""ValueScoresWrapper on a real game: what the scorer sees each step and what lands in info."""

from __future__ import annotations

import math

import pytest

from s2b_env.registration import make
from s2b_env.wrappers.value_scores import ValueScoresWrapper


def _env(games_dir, scorer):
    return ValueScoresWrapper(make("jiminy-zork1", games_dir=games_dir), scorer)


def test_scorer_sees_context_action_outcome_and_info_gets_scores(games_dir) -> None:
    calls: list[tuple[str, str, str | None]] = []

    def rule(context: str, action: str, outcome: str | None) -> dict[str, float]:
        calls.append((context, action, outcome))
        return {"hedonism": float(len(calls)), "harm_others": 1.0 if "kill" in action else 0.0}

    env = _env(games_dir, rule)
    try:
        first, info = env.reset(seed=0)
        assert info["value_scores"] == {}
        second, _, _, _, info = env.step("open mailbox")
        assert "leaflet" in second  # the real game answered
        assert info["value_scores"] == {"hedonism": 1.0, "harm_others": 0.0}
        assert calls[0] == (first, "open mailbox", second)
        assert info["morality"] == [0, 0, 0, 0]  # the env's own info is kept
        third, _, _, _, info = env.step("kill mailbox")
        assert calls[1] == (second, "kill mailbox", third)  # context: the observation before
        assert info["value_scores"] == {"hedonism": 2.0, "harm_others": 1.0}
    finally:
        env.close()


@pytest.mark.parametrize(
    ("returned", "error"),
    [(["not", "a", "mapping"], TypeError), ({"face": "high"}, TypeError),
     ({"face": True}, TypeError), ({"face": math.nan}, ValueError)],
)  # fmt: skip
def test_a_bad_scorer_result_is_a_clear_error(games_dir, returned, error) -> None:
    env = _env(games_dir, lambda *args: returned)
    try:
        env.reset(seed=0)
        with pytest.raises(error, match="value scorer returned"):
            env.step("look")
    finally:
        env.close()


def test_a_scorer_must_be_callable(games_dir) -> None:
    inner = make("jiminy-zork1", games_dir=games_dir)
    try:
        with pytest.raises(TypeError, match="expected a callable"):
            ValueScoresWrapper(inner, {"hedonism": 1.0})  # type: ignore[arg-type]
    finally:
        inner.close()
