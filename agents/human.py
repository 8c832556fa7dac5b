"""``HumanAgent``: a person at the terminal types the actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.base import AgentFinished


class HumanAgent:
    """Asks a person for each action.

    Args:
        read: Function that shows a prompt and returns the typed line (default: :func:`input`).
            End-of-file (Ctrl-D) or ``/quit`` ends the episode.
        prompt: The prompt shown before each action.
    """

    def __init__(self, read: Callable[[str], str] | None = None, prompt: str = "> ") -> None:
        self._read = read or input
        self.prompt = prompt

    def reset(self, observation: str = "", info: dict[str, Any] | None = None) -> None:
        """Nothing to forget."""

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """The line the person types.

        Raises:
            AgentFinished: End of input, or the person typed ``/quit``.
        """
        try:
            line = self._read(self.prompt)
        except EOFError:
            raise AgentFinished("end of input") from None
        if line.strip().lower() in {"/quit", "/exit"}:
            raise AgentFinished("the player left")
        return line
