"""The one small protocol every s2b agent implements, and what an agent may say about a choice."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


class AgentFinished(Exception):
    """Raised by :meth:`Agent.act` when the agent has nothing more to do (a walkthrough ran out,
    a person typed end-of-file). The episode ends there; it is not an error."""


@dataclass
class AgentChoice:
    """What an agent considered at one step.

    An agent that scores candidates sets ``last_choice`` to one of these in :meth:`Agent.act`; the
    episode engine (:mod:`agents.engine`) reads it after each ``act()``, gives it to observers and
    records it in the trajectory's step.

    Attributes:
        candidates: The actions it scored, in its own order.
        probabilities: One per candidate (summing to about 1), in the same order.
        chosen: The action taken.
        extra: Anything else worth recording, e.g. ``{"orders": 3, "prompts": 6,
            "calibrated": False}`` (JSON-able values).
    """

    candidates: list[str]
    probabilities: list[float]
    chosen: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.candidates = [str(c) for c in self.candidates]
        self.probabilities = [float(p) for p in self.probabilities]
        if len(self.candidates) != len(self.probabilities):
            raise ValueError(
                f"AgentChoice: {len(self.candidates)} candidates but "
                f"{len(self.probabilities)} probabilities; expected one per candidate"
            )
        if any(not math.isfinite(p) or p < 0 for p in self.probabilities):
            raise ValueError(f"AgentChoice: probabilities must be finite and >= 0, got "
                             f"{self.probabilities}")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """The choice as a JSON-able dict (the trajectory's step ``"choice"`` field)."""
        return {
            "candidates": list(self.candidates),
            "probabilities": list(self.probabilities),
            "chosen": self.chosen,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> AgentChoice:
        """Read back :meth:`to_dict`'s output (unknown keys are ignored)."""
        return cls(
            candidates=list(record.get("candidates") or []),
            probabilities=list(record.get("probabilities") or []),
            chosen=str(record.get("chosen", "")),
            extra=dict(record.get("extra") or {}),
        )


@runtime_checkable
class Agent(Protocol):
    """An agent maps the latest observation and info to a text action.

    ``reset(observation, info)`` is called at the start of each episode with what the env's reset
    returned, ``act()`` once per step. Agents never see the environment object itself, only what it
    returns, so the same agent runs in any s2b env (and in vector envs or across processes).

    Optionally an agent sets ``last_choice`` (an :class:`AgentChoice`) in ``act()``: what it
    considered and how probable each candidate was. The engine records it with the step. An agent
    whose ``reset`` takes no arguments is accepted too (the engine checks its signature).
    """

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        """Start a new episode from the reset's observation and info."""
        ...

    def act(self, observation: str, info: dict[str, Any]) -> str:
        """Choose the next action.

        Raises:
            AgentFinished: The agent has no more actions for this episode.
        """
        ...
