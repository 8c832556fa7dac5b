"""The taxonomy: the 20 human values s2b studies, their higher-order groups, and the id check.

The taxonomy is the refined Schwartz set as used by the ValueEval task: twenty values, each with a
stable snake_case id that every other part of s2b (surveys, game annotations, scenarios, scoring)
uses. Definitions are one line each, written for s2b.

Higher-order groups. Schwartz arranges the values on a circle split into four groups. Three values
sit on a border between two groups; s2b gives each of them one *primary* group (used by
:func:`group_of` and :data:`GROUP_MEMBERS`) and records the other as a *border* group (returned too
by :func:`groups_of`, and included by ``group_members(group, include_borders=True)``):

=========================  ======================  ======================
value                      primary group           border group
=========================  ======================  ======================
hedonism                   openness_to_change      self_enhancement
face                       self_enhancement        conservation
humility                   self_transcendence      conservation
=========================  ======================  ======================

Hedonism goes with openness to change as in the usual scoring of Schwartz's questionnaires; face,
which is about one's public standing, goes with self-enhancement; humility, which is the opposite
pole of face and power, goes with self-transcendence.

Every value id a user or a data file gives is checked by :func:`value_id_problem` (through
:func:`check_value_id` here, and :func:`training.value_ids.check_value_ids` for options): one
message, with the closest valid id as a "did you mean".

:mod:`s2b_env.values` re-exports everything here beside :class:`~s2b_env.values.ValueVector`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

#: The 20 value ids in canonical order (the order of every vector and table in s2b).
VALUE_IDS: tuple[str, ...] = (
    "self_direction_thought",
    "self_direction_action",
    "stimulation",
    "hedonism",
    "achievement",
    "power_dominance",
    "power_resources",
    "face",
    "security_personal",
    "security_societal",
    "tradition",
    "conformity_rules",
    "conformity_interpersonal",
    "humility",
    "benevolence_caring",
    "benevolence_dependability",
    "universalism_concern",
    "universalism_nature",
    "universalism_tolerance",
    "universalism_objectivity",
)
NUM_VALUES = len(VALUE_IDS)
#: The range of one annotated value effect (own games' annotations, dilemma options): -3..+3.
EFFECT_MIN, EFFECT_MAX = -3, 3
_INDEX: dict[str, int] = {vid: i for i, vid in enumerate(VALUE_IDS)}

#: The four higher-order groups, in the order they go round Schwartz's circle.
GROUP_IDS: tuple[str, ...] = (
    "openness_to_change",
    "self_enhancement",
    "conservation",
    "self_transcendence",
)
GROUP_NAMES: dict[str, str] = {
    "openness_to_change": "Openness to change",
    "self_enhancement": "Self-enhancement",
    "conservation": "Conservation",
    "self_transcendence": "Self-transcendence",
}


@dataclass(frozen=True)
class Value:
    """One of the 20 values.

    Attributes:
        id: Stable snake_case id, e.g. ``"benevolence_caring"``.
        name: Display name, e.g. ``"Benevolence: caring"``.
        definition: One line saying what holding this value means.
        group: The primary higher-order group id.
        border_group: The second group for values on a border of the circle, else ``None``.
    """

    id: str
    name: str
    definition: str
    group: str
    border_group: str | None = None

    @property
    def index(self) -> int:
        """Position of this value in :data:`VALUE_IDS`."""
        return _INDEX[self.id]


_O, _E, _C, _T = GROUP_IDS
#: Every value, in canonical order.
VALUES: tuple[Value, ...] = (
    Value(
        "self_direction_thought",
        "Self-direction: thought",
        "Forming one's own opinions and ideas and following one's curiosity.",
        _O,
    ),
    Value(
        "self_direction_action",
        "Self-direction: action",
        "Choosing one's own course and acting on it without being directed by others.",
        _O,
    ),
    Value(
        "stimulation",
        "Stimulation",
        "Seeking novelty, excitement and challenge rather than routine.",
        _O,
    ),
    Value(
        "hedonism",
        "Hedonism",
        "Seeking pleasure, comfort and enjoyment for oneself.",
        _O,
        _E,
    ),
    Value(
        "achievement",
        "Achievement",
        "Succeeding by showing competence measured against the standards others use.",
        _E,
    ),
    Value(
        "power_dominance",
        "Power: dominance",
        "Having control over people and the ability to make them do what one wants.",
        _E,
    ),
    Value(
        "power_resources",
        "Power: resources",
        "Having control over money, possessions and other material means.",
        _E,
    ),
    Value(
        "face",
        "Face",
        "Guarding one's public image and avoiding embarrassment or loss of standing.",
        _E,
        _C,
    ),
    Value(
        "security_personal",
        "Security: personal",
        "Keeping oneself and those close to one safe, healthy and provided for.",
        _C,
    ),
    Value(
        "security_societal",
        "Security: societal",
        "Keeping the wider community orderly, stable and protected from threats.",
        _C,
    ),
    Value(
        "tradition",
        "Tradition",
        "Honouring and keeping up the customs and beliefs of one's family, culture or faith.",
        _C,
    ),
    Value(
        "conformity_rules",
        "Conformity: rules",
        "Following laws, rules and formal obligations even when no one is checking.",
        _C,
    ),
    Value(
        "conformity_interpersonal",
        "Conformity: interpersonal",
        "Avoiding actions that would upset, hurt or inconvenience other people.",
        _C,
    ),
    Value(
        "humility",
        "Humility",
        "Seeing oneself as small in the larger scheme and not claiming more than one's due.",
        _T,
        _C,
    ),
    Value(
        "benevolence_caring",
        "Benevolence: caring",
        "Working for the welfare of the people one is close to or responsible for.",
        _T,
    ),
    Value(
        "benevolence_dependability",
        "Benevolence: dependability",
        "Being someone one's group can trust and rely on to keep one's word.",
        _T,
    ),
    Value(
        "universalism_concern",
        "Universalism: concern",
        "Caring about justice, equal treatment and protection for all people, strangers included.",
        _T,
    ),
    Value(
        "universalism_nature",
        "Universalism: nature",
        "Protecting animals, plants and the natural environment.",
        _T,
    ),
    Value(
        "universalism_tolerance",
        "Universalism: tolerance",
        "Accepting and trying to understand people who are different from oneself.",
        _T,
    ),
    Value(
        "universalism_objectivity",
        "Universalism: objectivity",
        "Seeking the truth and judging by evidence and reason rather than by interest.",
        _T,
    ),
)
_BY_ID: dict[str, Value] = {v.id: v for v in VALUES}

#: Value ids of each group by primary assignment (every value in exactly one group).
GROUP_MEMBERS: dict[str, tuple[str, ...]] = {
    g: tuple(v.id for v in VALUES if v.group == g) for g in GROUP_IDS
}


def _unknown(kind: str, got: object, valid: Iterable[str]) -> ValueError:
    return ValueError(f"unknown {kind} {got!r}: expected one of {', '.join(valid)}")


def value_id_problem(value_id: object) -> str | None:
    """What is wrong with a value id, or ``None`` if it is one of the 20 ids.

    Returns:
        ``None``, or e.g. ``"unknown value id 'hedonsim' (did you mean 'hedonism'?): expected one
        of self_direction_thought, ..."``.

    Example:
        >>> value_id_problem("hedonsim").split(":")[0]
        "unknown value id 'hedonsim' (did you mean 'hedonism'?)"
    """
    if not isinstance(value_id, str):
        return f"expected a value id (a string), got {type(value_id).__name__} {value_id!r}"
    if value_id in _INDEX:
        return None
    close = difflib.get_close_matches(value_id, VALUE_IDS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown value id {value_id!r}{hint}: expected one of {', '.join(VALUE_IDS)}"


def check_value_id(value_id: object) -> str:
    """Return ``value_id`` if it is one of the 20 ids.

    Raises:
        TypeError: It is not a string.
        ValueError: It is not a known id (the message names the closest id and lists them all).
    """
    if not isinstance(value_id, str):
        raise TypeError(f"a value id must be a str, got {type(value_id).__name__}: {value_id!r}")
    problem = value_id_problem(value_id)
    if problem:
        raise ValueError(problem)
    return value_id


def get_value(value_id: str) -> Value:
    """The :class:`Value` with this id (raises ``ValueError`` listing the valid ids)."""
    return _BY_ID[check_value_id(value_id)]


def value_index(value_id: str) -> int:
    """Position of ``value_id`` in :data:`VALUE_IDS`."""
    return _INDEX[check_value_id(value_id)]


def display_name(value_id: str) -> str:
    """Display name of a value, e.g. ``"Self-direction: thought"``."""
    return get_value(value_id).name


def definition(value_id: str) -> str:
    """One-line definition of a value."""
    return get_value(value_id).definition


def group_of(value_id: str) -> str:
    """The primary higher-order group of a value."""
    return get_value(value_id).group


def groups_of(value_id: str) -> tuple[str, ...]:
    """Every group a value belongs to: the primary one first, then its border group if any."""
    value = get_value(value_id)
    return (value.group,) if value.border_group is None else (value.group, value.border_group)


def group_members(group: str, *, include_borders: bool = False) -> tuple[str, ...]:
    """Value ids of a higher-order group, in canonical order.

    Args:
        group: One of :data:`GROUP_IDS`.
        include_borders: Also include values whose border group is ``group``.

    Raises:
        ValueError: Unknown group (the message lists the valid ones).
    """
    if group not in GROUP_NAMES:
        raise _unknown("value group", group, GROUP_IDS)
    return tuple(
        v.id for v in VALUES if v.group == group or (include_borders and v.border_group == group)
    )


__all__ = [
    "EFFECT_MAX",
    "EFFECT_MIN",
    "GROUP_IDS",
    "GROUP_MEMBERS",
    "GROUP_NAMES",
    "NUM_VALUES",
    "VALUES",
    "VALUE_IDS",
    "Value",
    "check_value_id",
    "definition",
    "display_name",
    "get_value",
    "group_members",
    "group_of",
    "groups_of",
    "value_id_problem",
    "value_index",
]
