"""Replay memory for DRRN: transitions over tokenized text, with a priority share for rewarded ones.

As in the Jericho DRRN (Hausknecht et al. 2020), transitions with a positive reward go to a second
buffer and a fixed share of every batch (``priority_fraction``) is drawn from it, so the rare
rewarded steps of a text game are replayed often enough to be learned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Transition:
    """One step, tokenized.

    Attributes:
        state: Token ids of the state the action was taken in.
        action: Token ids of the action.
        reward: The (shaped) reward.
        next_state: Token ids of the next state.
        next_candidates: Token ids of each candidate action in the next state (empty when done).
        done: The episode ended by the game (no bootstrap); a time limit is not ``done``.
    """

    state: tuple[int, ...]
    action: tuple[int, ...]
    reward: float
    next_state: tuple[int, ...]
    next_candidates: tuple[tuple[int, ...], ...]
    done: bool


class _Ring:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.items: list[Transition] = []
        self.position = 0

    def add(self, item: Transition) -> None:
        if len(self.items) < self.capacity:
            self.items.append(item)
        else:
            self.items[self.position] = item
        self.position = (self.position + 1) % self.capacity


class ReplayBuffer:
    """Two rings of transitions: rewarded ones (reward > 0) and the rest.

    Args:
        capacity: Most transitions kept in each ring (oldest replaced first).
        priority_fraction: Share of each batch drawn from the rewarded ring (when it has any).
        seed: Seed of the sampling generator.
    """

    def __init__(self, capacity: int, priority_fraction: float = 0.5, seed: int | None = 0) -> None:
        if capacity < 1:
            raise ValueError(f"replay capacity must be >= 1, got {capacity}")
        if not 0.0 <= priority_fraction <= 1.0:
            raise ValueError(f"priority_fraction must be in [0, 1], got {priority_fraction}")
        self.priority_fraction = priority_fraction
        self._plain = _Ring(capacity)
        self._rewarded = _Ring(capacity)
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self._plain.items) + len(self._rewarded.items)

    def transitions(self) -> list[Transition]:
        """Every stored transition: the plain ring's, then the rewarded ring's (oldest first while
        neither ring has wrapped)."""
        return list(self._plain.items) + list(self._rewarded.items)

    def add(self, transition: Transition) -> None:
        """Store a transition."""
        (self._rewarded if transition.reward > 0 else self._plain).add(transition)

    def sample(self, batch_size: int) -> list[Transition]:
        """``batch_size`` transitions drawn with replacement (fewer only when the buffer is empty)."""
        rewarded, plain = self._rewarded.items, self._plain.items
        if not rewarded and not plain:
            return []
        n_rewarded = round(batch_size * self.priority_fraction) if rewarded else 0
        if not plain:
            n_rewarded = batch_size
        out = [rewarded[i] for i in self._rng.integers(len(rewarded), size=n_rewarded)]
        out += [plain[i] for i in self._rng.integers(len(plain), size=batch_size - n_rewarded)]
        return out


__all__ = ["ReplayBuffer", "Transition"]
