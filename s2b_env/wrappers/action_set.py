"""A fixed set of candidate actions in ``info["valid_actions"]``, for agents that choose among candidates.

Valid-action detection probes the game for every new world state; on our own games (which jericho
does not know, so it uses generic templates) that costs about a second a step here, too slow for
learning agents that take thousands of steps. :class:`ActionSetWrapper` instead offers the same
list every step, e.g. every command of a game's walkthrough routes (:func:`walkthrough_actions`).
The list is *not* checked against the world: a command may do nothing where it is tried (the game
says so and the step costs a move), as for any agent that types commands.

Example:
    >>> import gymnasium as gym, s2b_env
    >>> from s2b_env.wrappers.action_set import ActionSetWrapper, walkthrough_actions
    >>> env = gym.make("s2b/s2b-lastferry-v0")
    >>> env = ActionSetWrapper(env, walkthrough_actions(env))
    >>> obs, info = env.reset(seed=0)
    >>> "take wallet" in info["valid_actions"]
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import gymnasium as gym

from s2b_env.errors import S2BError

#: Added to a walkthrough's commands: moves every game understands.
BASIC_MOVES: tuple[str, ...] = (
    "north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest",
    "up", "down", "look", "wait",
)  # fmt: skip
_ABBREVIATIONS = {
    "n": "north", "s": "south", "e": "east", "w": "west", "ne": "northeast", "nw": "northwest",
    "se": "southeast", "sw": "southwest", "u": "up", "d": "down", "l": "look", "z": "wait",
}  # fmt: skip


def walkthrough_actions(
    env: gym.Env, *, basic_moves: bool = True, limit: int | None = None
) -> list[str]:
    """Every command of every walkthrough route of ``env``'s game, once each, sorted.

    Compass abbreviations are spelled out (``s`` -> ``south``), so each move appears once.

    Args:
        env: An env (wrapped or not) whose unwrapped env has ``walkthrough_routes()`` and
            ``walkthrough(route)`` (own games, Jiminy Cricket games, Jericho games it knows).
        basic_moves: Add :data:`BASIC_MOVES`.
        limit: Take only the first ``limit`` commands of each route (the opening of a long game
            such as Zork, for short episodes); ``None``: all of them.

    Raises:
        S2BError: The env has no walkthrough, or ``limit`` is below 1.
    """
    if limit is not None and limit < 1:
        raise S2BError(f"walkthrough limit must be >= 1, got {limit}")
    base = env.unwrapped
    if not hasattr(base, "walkthrough_routes"):
        raise S2BError(f"{type(base).__name__} has no walkthrough to take candidate actions from")
    commands: set[str] = set(BASIC_MOVES) if basic_moves else set()
    for route in base.walkthrough_routes():
        for command in (base.walkthrough(route) or [])[:limit]:
            text = " ".join(command.strip().lower().split())
            if text:
                commands.add(_ABBREVIATIONS.get(text, text))
    if not commands:
        raise S2BError(f"game {getattr(base, 'game', '?')!r} has an empty walkthrough")
    return sorted(commands)


class ActionSetWrapper(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Puts a fixed list of candidate commands in ``info["valid_actions"]`` after reset and steps.

    Once the episode has ended (terminated) the list is ``[]``, as with valid-action detection.
    ``info["action_set"]`` is ``"fixed"`` so a reader can tell it from detected valid actions.

    Args:
        env: A text env.
        actions: The commands (at least one; duplicates are dropped, order kept).

    Raises:
        S2BError: ``actions`` is empty or holds a non-string or blank command.
    """

    def __init__(self, env: gym.Env, actions: Iterable[str]) -> None:
        actions = tuple(actions)
        gym.utils.RecordConstructorArgs.__init__(self, actions=actions)
        super().__init__(env)
        listed: list[str] = []
        for action in actions:
            if not isinstance(action, str) or not action.strip():
                raise S2BError(f"candidate actions must be non-blank strings, got {action!r}")
            if action not in listed:
                listed.append(action)
        if not listed:
            raise S2BError("ActionSetWrapper needs at least one candidate action, got none")
        self.actions: tuple[str, ...] = tuple(listed)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset; ``info["valid_actions"]`` is the fixed list."""
        observation, info = self.env.reset(seed=seed, options=options)
        return observation, self._with_actions(info, False)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Step; ``info["valid_actions"]`` is the fixed list (``[]`` once terminated)."""
        observation, reward, terminated, truncated, info = self.env.step(action)
        return observation, reward, terminated, truncated, self._with_actions(info, terminated)

    def _with_actions(self, info: dict[str, Any], ended: bool) -> dict[str, Any]:
        info = dict(info)
        info["valid_actions"] = [] if ended else list(self.actions)
        info["action_set"] = "fixed"
        return info


__all__ = ["BASIC_MOVES", "ActionSetWrapper", "walkthrough_actions"]
