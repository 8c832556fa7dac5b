"""The moral-scenario record types (schema version 1): judgment items and dilemmas.

Built and checked by :func:`s2b_env.scenarios.data.parse_record`; the schema is documented in
``docs/scenarios.md``. Re-exported from :mod:`s2b_env.scenarios.data`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_QUESTION = "Am I the asshole here?"


@dataclass(frozen=True)
class ValueTension:
    """A value at stake in a judgment item, and the side of the conflict it supports.

    Attributes:
        value: A taxonomy id.
        side: ``"narrator"`` (the value supports what the narrator did) or ``"other"``.
    """

    value: str
    side: str


@dataclass(frozen=True)
class JudgmentItem:
    """One everyday-judgment item: an account, a question and a reference verdict distribution."""

    id: str
    title: str
    text: str
    question: str = DEFAULT_QUESTION
    values: tuple[ValueTension, ...] = ()
    verdicts: dict[str, float] | None = None
    votes: dict[str, int] | None = None
    domain: str | None = None
    source: str | None = None
    split: str = "train"
    meta: dict[str, Any] = field(default_factory=dict)
    kind: str = "judgment"


@dataclass(frozen=True)
class DilemmaOption:
    """One choice at a dilemma node.

    Attributes:
        label: What the option says.
        effects: 20 integers -3..+3, in :data:`VALUE_IDS` order.
        next: The node it leads to, or ``None`` when the story ends with it.
        outcome: Text shown after the choice (may be empty).
    """

    label: str
    effects: tuple[int, ...]
    next: str | None
    outcome: str = ""


@dataclass(frozen=True)
class DilemmaNode:
    """A decision point: the situation and its options."""

    id: str
    text: str
    options: tuple[DilemmaOption, ...]


@dataclass(frozen=True)
class Dilemma:
    """A short branching story of 2-6 decision points."""

    id: str
    title: str
    intro: str
    start: str
    nodes: dict[str, DilemmaNode]
    domain: str | None = None
    source: str | None = None
    split: str = "train"
    meta: dict[str, Any] = field(default_factory=dict)
    kind: str = "dilemma"

    def paths(self) -> list[list[tuple[str, int]]]:
        """Every path from the start to a leaf, as ``(node id, option index)`` pairs."""
        found: list[list[tuple[str, int]]] = []

        def walk(node_id: str, prefix: list[tuple[str, int]]) -> None:
            for index, option in enumerate(self.nodes[node_id].options):
                path = [*prefix, (node_id, index)]
                if option.next is None:
                    found.append(path)
                else:
                    walk(option.next, path)

        walk(self.start, [])
        return found


Scenario = JudgmentItem | Dilemma
