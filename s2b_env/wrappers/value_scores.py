"""``ValueScoresWrapper``: adds ``info["value_scores"]`` to every step, from any scorer callable.

The wrapper knows nothing about what scores: a language-model judge
(``agents.judge.ValueJudge(...).scorer()``), a keyword rule, a lookup table. It calls
``scorer(context, action, outcome)`` after each step, where ``context`` is the observation the
agent saw before acting, ``action`` the action as given to the env and ``outcome`` the observation
after it, and stores the returned ``{name: number}`` mapping (e.g. the 20 value ids, plus
``harm_others``/``harm_self`` from a judge) as a plain dict of floats. ``reset`` puts an empty
dict there, so the key is always present.

Example:
    >>> env = ValueScoresWrapper(env, lambda context, action, outcome: {"hedonism": 1.0})
    >>> obs, reward, terminated, truncated, info = env.step("eat apple")
    >>> info["value_scores"]
    {'hedonism': 1.0}
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

#: The scorer's signature: (context, action, outcome) -> {name: number}.
Scorer = Callable[[str, str, str | None], Mapping[str, float]]
#: The info key the wrapper fills.
INFO_KEY = "value_scores"


class ValueScoresWrapper(gym.Wrapper):
    """Score every step's action with ``scorer`` and put the result in ``info["value_scores"]``.

    Args:
        env: A text env whose observations are strings and whose actions are strings (or are
            shown as strings by ``info["action_text"]`` when the env sets it).
        scorer: ``(context, action, outcome) -> {name: number}``.
        key: The info key to fill (default ``"value_scores"``).

    Raises:
        TypeError: The scorer returned something other than a mapping of names to real numbers.
        ValueError: The scorer returned a non-finite number.
    """

    def __init__(self, env: gym.Env, scorer: Scorer, *, key: str = INFO_KEY) -> None:
        super().__init__(env)
        if not callable(scorer):
            raise TypeError(f"scorer: expected a callable, got {type(scorer).__name__}")
        self.scorer = scorer
        self.key = key
        self._context = ""

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(**kwargs)
        self._context = _text(observation)
        info = dict(info)
        info[self.key] = {}
        return observation, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        text = str(info.get("action_text", action)) if isinstance(info, dict) else str(action)
        outcome = _text(observation)
        scores = self.scorer(self._context, text, outcome)
        info = dict(info)
        info[self.key] = _checked(scores)
        self._context = outcome
        return observation, reward, terminated, truncated, info


def _text(observation: Any) -> str:
    if isinstance(observation, str):
        return observation
    if isinstance(observation, Mapping) and isinstance(observation.get("text"), str):
        return observation["text"]
    return str(observation)


def _checked(scores: Any) -> dict[str, float]:
    if not isinstance(scores, Mapping):
        raise TypeError(
            f"the value scorer returned {type(scores).__name__}; expected a mapping of name -> "
            "number"
        )
    out: dict[str, float] = {}
    for name, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(
                f"the value scorer returned {value!r} for {name!r}; expected a real number"
            )
        if not math.isfinite(value):
            raise ValueError(f"the value scorer returned {value} for {name!r}; expected finite")
        out[str(name)] = float(value)
    return out
