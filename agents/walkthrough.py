"""``WalkthroughAgent``: plays a fixed list of commands, from a file or from the game.

Files are read by :func:`s2b_env.walkthrough.read_walkthrough` (re-exported here), the reader the
own games' walkthroughs use too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agents.base import AgentFinished
from s2b_env.errors import ConfigError
from s2b_env.walkthrough import read_walkthrough


class WalkthroughAgent:
    """Plays the commands of a walkthrough in order, then raises :class:`AgentFinished`.

    Args:
        commands: The commands (e.g. from :func:`read_walkthrough` or an env's ``walkthrough()``).
    """

    def __init__(self, commands: Iterable[str]) -> None:
        self.commands = [str(c) for c in commands]
        if not self.commands:
            raise ValueError("a WalkthroughAgent needs at least one command, got none")
        self._next = 0

    @classmethod
    def from_file(cls, path: str | Path) -> WalkthroughAgent:
        """An agent playing a walkthrough file (see :func:`read_walkthrough`)."""
        return cls(read_walkthrough(path))

    @classmethod
    def from_env(cls, env: Any, route: str | None = None) -> WalkthroughAgent:
        """An agent playing the walkthrough an env's game provides.

        Raises:
            ConfigError: The game has no walkthrough (pass a file instead); a ``ValueError``.
        """
        base = getattr(env, "unwrapped", env)
        getter = getattr(base, "walkthrough", None)
        commands = getter(route) if getter is not None else None
        if not commands:
            name = getattr(base, "game", type(base).__name__)
            raise ConfigError(
                f"game {name!r} has no built-in walkthrough; give one with --walkthrough FILE"
            )
        return cls(commands)

    @property
    def remaining(self) -> int:
        """Commands not played yet in this episode."""
        return len(self.commands) - self._next

    def reset(self, observation: str = "", info: dict[str, Any] | None = None) -> None:
        """Start again from the first command."""
        self._next = 0

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The next command.

        Raises:
            AgentFinished: All commands have been played.
        """
        if self._next >= len(self.commands):
            raise AgentFinished(f"walkthrough finished after {len(self.commands)} commands")
        command = self.commands[self._next]
        self._next += 1
        return command


__all__ = ["WalkthroughAgent", "read_walkthrough"]
