"""The one small protocol every s2b agent implements."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


class AgentFinished(Exception):
    """Raised by :meth:`Agent.act` when the agent has nothing more to do (a walkthrough ran out,
    a person typed end-of-file). The episode ends there; it is not an error."""


@runtime_checkable
class Agent(Protocol):
    """An agent maps the latest observation and info to a text action.

    ``reset()`` is called before each episode, ``act()`` once per step. Agents never see the
    environment object itself, only what it returns, so the same agent runs in any s2b env (and in
    vector envs or across processes).
    """

    def reset(self) -> None:
        """Forget the previous episode."""
        ...

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Choose the next action.

        Raises:
            AgentFinished: The agent has no more actions for this episode.
        """
        ...
