"""``RandomAgent``: a seeded baseline that picks uniformly among candidate actions."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

#: Commands the agent tries when the env offers no candidate actions.
BASIC_ACTIONS: tuple[str, ...] = (
    "north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest",
    "up", "down", "enter", "exit", "look", "inventory", "take all", "wait",
)  # fmt: skip
#: Verbs combined with nouns seen in the observation.
OBJECT_VERBS: tuple[str, ...] = ("take", "drop", "open", "close", "examine", "push", "read", "eat")
_STOPWORDS = frozenset(
    "the a an and or but you your are there here this that with from into onto then them they "
    "have has was were will would could should what which where when while about also just some "
    "very there's it's can't don't isn't".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


class RandomAgent:
    """Picks an action uniformly at random.

    Candidates, in order of preference: ``info["valid_actions"]`` when the env provides it (for
    example ``valid_actions=True`` on game envs), else ``info["options"]`` numbers for choice envs,
    else :data:`BASIC_ACTIONS` plus verb-noun pairs built from nouns in the observation.

    Args:
        seed: Seed of the agent's own generator; the same seed gives the same choices for the same
            observations.
        use_nouns: Build verb-noun pairs from the observation's words.
    """

    def __init__(self, seed: int | None = None, *, use_nouns: bool = True) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
        self.seed = seed
        self.use_nouns = use_nouns
        self._rng = np.random.default_rng(seed)

    def reset(self, observation: str = "", info: dict[str, Any] | None = None) -> None:
        """Nothing to forget: the generator keeps running across episodes."""

    def reseed(self, seed: int | None) -> None:
        """Restart the generator from ``seed``."""
        self.seed = seed
        self._rng = np.random.default_rng(seed)

    def candidates(self, observation: str, info: dict[str, Any]) -> list[str]:
        """The actions the agent would choose among for this observation and info."""
        valid = info.get("valid_actions")
        if valid:
            return list(valid)
        options = info.get("options")
        if options:
            return [str(i + 1) for i in range(len(options))]
        actions = list(BASIC_ACTIONS)
        if self.use_nouns:
            nouns = sorted({w.lower() for w in _WORD.findall(observation)} - _STOPWORDS)[:12]
            actions += [f"{verb} {noun}" for verb in OBJECT_VERBS for noun in nouns]
        return actions

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """A uniformly random candidate."""
        choices = self.candidates(observation, info)
        return choices[int(self._rng.integers(len(choices)))]
