"""What a DRRN agent remembers within an episode: the room it is in and what it already tried there.

Two things the step's observation alone does not give, and without which a greedy DRRN loops (as
it did on The Last Ferry: at the pier it chose ``south`` again and again, each time reading "You
can't go that way.", a state it had never learned from):

* **The room's description.** The Jericho DRRN reads the ``look`` text with every observation
  (Hausknecht et al. 2020). Sending ``look`` costs a game move here, so the context instead keeps
  the text the game printed when the agent entered the current location (or at reset), and the
  state is ``room name | observation | room description``.
* **The actions that changed nothing.** A *visit* lasts while the location and the score stay the
  same. An action is *spent* for the rest of the visit when it kept both and printed a text already
  printed in this visit ("You can't go that way." the second time, "Ticket." again, the room's
  own description after ``look``). Spent actions are skipped while others remain, so a refused
  command cannot be repeated in a loop; a new visit (another room, a new score) starts afresh,
  so a command refused earlier (``give wallet`` before the wallet was taken) can be tried again.

Both the agent (when it acts) and the trainer (when it stores transitions) feed the same steps to
an :class:`EpisodeContext`, so the states the network is trained on are the states it acts on.
"""

from __future__ import annotations

from typing import Any


class EpisodeContext:
    """Per-episode memory of the room description and the spent actions."""

    def __init__(self) -> None:
        self.room_text = ""
        self.spent: set[str] = set()
        #: Actions taken in this visit (exploration tries the others first).
        self.tried: set[str] = set()
        self._key: tuple[Any, Any] = (None, None)
        self._seen: set[str] = set()  # texts printed in this visit

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        """Start an episode from the reset's observation and info."""
        self.room_text = observation
        self.spent = set()
        self.tried = set()
        self._key = (info.get("location"), info.get("score"))
        self._seen = {_norm(observation)}

    def update(self, action: str, observation: str, info: dict[str, Any]) -> bool:
        """Record a step: ``action`` led to ``observation`` and ``info``.

        Returns:
            Whether the step changed anything (location, score, or a text new to this visit).
        """
        key = (info.get("location"), info.get("score"))
        text = _norm(observation)
        if key[0] != self._key[0]:
            self.room_text = observation
        if key != self._key:
            self.spent = set()
            self.tried = set()
            self._seen = {text}
            self._key = key
            return True
        self.tried.add(action)
        if text in self._seen:
            self.spent.add(action)
            return False
        self._seen.add(text)
        return True

    def allowed(self, candidates: list[str]) -> list[int]:
        """Indices of the candidates not spent (all of them when every one is spent)."""
        keep = [i for i, a in enumerate(candidates) if a not in self.spent]
        return keep or list(range(len(candidates)))

    def untried(self, candidates: list[str]) -> list[int]:
        """Indices of the candidates not yet taken in this visit (else :meth:`allowed`)."""
        keep = [i for i, a in enumerate(candidates) if a not in self.tried and a not in self.spent]
        return keep or self.allowed(candidates)


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


__all__ = ["EpisodeContext"]
