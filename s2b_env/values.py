"""The 20 human values s2b studies, their higher-order groups, and :class:`ValueVector`.

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

Example:
    >>> from s2b_env.values import ValueVector
    >>> v = ValueVector(hedonism=2, benevolence_caring=-1)
    >>> v["hedonism"], v.benevolence_caring, v.get("humility")
    (2.0, -1.0, 0.0)
    >>> (v + v * 2).to_dict(nonzero=True)
    {'hedonism': 6.0, 'benevolence_caring': -3.0}
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

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


def check_value_id(value_id: object) -> str:
    """Return ``value_id`` if it is one of the 20 ids.

    Raises:
        TypeError: It is not a string.
        ValueError: It is not a known id (the message lists the valid ids).
    """
    if not isinstance(value_id, str):
        raise TypeError(f"a value id must be a str, got {type(value_id).__name__}: {value_id!r}")
    if value_id not in _INDEX:
        raise _unknown("value id", value_id, VALUE_IDS)
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


_MISSING: Any = object()


def _as_float(x: object, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a real number, got {type(x).__name__}: {x!r}")
    f = float(x)
    if not math.isfinite(f):
        raise ValueError(f"{what} must be finite, got {f}")
    return f


class ValueVector(Mapping[str, float]):
    """An immutable vector of 20 floats, one per value, in :data:`VALUE_IDS` order.

    It is a read-only mapping from value id to float (``v["hedonism"]``, ``v.get("hedonism")``,
    ``dict(v)``, ``"face" in v``), and values are also attributes (``v.hedonism``). Arithmetic is
    element-wise: ``+``, ``-``, ``*`` and ``/`` take another vector or a scalar; ``sum()`` of
    vectors works (``0 + v`` is ``v``). Equality compares the 20 floats with another vector.

    Args:
        values: 20 numbers in canonical order, or a mapping from value id to number (missing ids
            are 0). Leave out for keyword construction.
        **by_id: Numbers by value id, e.g. ``ValueVector(hedonism=1, face=-2)``.

    Raises:
        TypeError: A number is not a real number, or both ``values`` and keywords are given.
        ValueError: Wrong length, unknown id, or a non-finite number.
    """

    __slots__ = ("_values",)
    _values: tuple[float, ...]

    def __init__(
        self, values: Iterable[float] | Mapping[str, float] | None = None, /, **by_id: float
    ) -> None:
        if values is not None and by_id:
            raise TypeError("give ValueVector either one positional argument or keywords, not both")
        if values is None:
            values = by_id
        if isinstance(values, ValueVector):
            data = values._values
        elif isinstance(values, Mapping):
            data = _from_mapping(values)
        elif isinstance(values, str | bytes):
            raise TypeError(f"expected {NUM_VALUES} numbers or a mapping, got a string: {values!r}")
        else:
            items = values.tolist() if isinstance(values, np.ndarray) else list(values)
            if len(items) != NUM_VALUES:
                raise ValueError(f"expected {NUM_VALUES} numbers (one per value), got {len(items)}")
            data = tuple(_as_float(x, f"value {VALUE_IDS[i]!r}") for i, x in enumerate(items))
        object.__setattr__(self, "_values", data)

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def zeros(cls) -> ValueVector:
        """The all-zero vector."""
        return cls((0.0,) * NUM_VALUES)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValueVector:
        """Build from a ``{value_id: number}`` dict (e.g. parsed JSON); missing ids are 0.

        Raises:
            TypeError: ``data`` is not a mapping, or a number is not a real number.
            ValueError: An unknown id (the message lists the valid ones) or a non-finite number.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"expected a dict of value id -> number, got {type(data).__name__}")
        return cls(data)

    @classmethod
    def from_numpy(cls, array: np.ndarray) -> ValueVector:
        """Build from a numpy array of shape ``(20,)``."""
        array = np.asarray(array)
        if array.shape != (NUM_VALUES,):
            raise ValueError(f"expected an array of shape ({NUM_VALUES},), got {array.shape}")
        return cls(array.astype(float).tolist())

    # --- export -------------------------------------------------------------------------------
    def to_dict(self, *, nonzero: bool = False) -> dict[str, float]:
        """A JSON-ready ``{value_id: float}`` dict in canonical order (only non-zero entries
        when ``nonzero``); :meth:`from_dict` reads it back."""
        return {k: x for k, x in zip(VALUE_IDS, self._values, strict=True) if x or not nonzero}

    def to_numpy(self) -> np.ndarray:
        """A new float64 array of shape ``(20,)``."""
        return np.array(self._values, dtype=np.float64)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.array(self._values, dtype=dtype or np.float64)

    def to_tuple(self) -> tuple[float, ...]:
        """The 20 floats in canonical order."""
        return self._values

    # --- mapping / attribute access -------------------------------------------------------------
    def __getitem__(self, key: str) -> float:
        return self._values[value_index(key)]

    def get(self, key: str, default: Any = _MISSING) -> Any:  # type: ignore[override]
        """The number for ``key``.

        Unlike a dict, an unknown id raises ``ValueError`` (listing the valid ids) unless a
        ``default`` is given, which is then returned.
        """
        if default is not _MISSING and key not in _INDEX:
            return default
        return self._values[value_index(key)]

    def __getattr__(self, name: str) -> float:
        index = _INDEX.get(name)
        if index is None:
            raise AttributeError(
                f"{type(self).__name__!r} has no attribute {name!r} (value ids: "
                f"{', '.join(VALUE_IDS)})"
            )
        return self._values[index]

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ValueVector is immutable; build a new one (e.g. v + other)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("ValueVector is immutable")

    def __contains__(self, key: object) -> bool:
        return key in _INDEX

    def __iter__(self) -> Iterator[str]:
        return iter(VALUE_IDS)

    def __len__(self) -> int:
        return NUM_VALUES

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._values,))

    # --- comparison ---------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, ValueVector):
            return self._values == other._values
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values)

    def __bool__(self) -> bool:
        return any(self._values)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={x:g}" for k, x in self.to_dict(nonzero=True).items())
        return f"ValueVector({inner})"

    # --- arithmetic ---------------------------------------------------------------------------
    def _other(self, other: object, op: str) -> tuple[float, ...] | None:
        if isinstance(other, ValueVector):
            return other._values
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return (float(other),) * NUM_VALUES
        return None

    def _apply(self, other: object, op: str, fn: Any, reflected: bool = False) -> Any:
        rhs = self._other(other, op)
        if rhs is None:
            return NotImplemented
        pairs = (
            zip(rhs, self._values, strict=True)
            if reflected
            else zip(self._values, rhs, strict=True)
        )
        return ValueVector(tuple(fn(a, b) for a, b in pairs))

    def __add__(self, other: object) -> ValueVector:
        return self._apply(other, "+", float.__add__)

    def __radd__(self, other: object) -> ValueVector:
        return self._apply(other, "+", float.__add__, reflected=True)

    def __sub__(self, other: object) -> ValueVector:
        return self._apply(other, "-", float.__sub__)

    def __rsub__(self, other: object) -> ValueVector:
        return self._apply(other, "-", float.__sub__, reflected=True)

    def __mul__(self, other: object) -> ValueVector:
        return self._apply(other, "*", float.__mul__)

    def __rmul__(self, other: object) -> ValueVector:
        return self._apply(other, "*", float.__mul__, reflected=True)

    def __truediv__(self, other: object) -> ValueVector:
        return self._apply(other, "/", float.__truediv__)

    def __rtruediv__(self, other: object) -> ValueVector:
        return self._apply(other, "/", float.__truediv__, reflected=True)

    def __neg__(self) -> ValueVector:
        return ValueVector(tuple(-x for x in self._values))

    def __pos__(self) -> ValueVector:
        return self

    def __abs__(self) -> ValueVector:
        return ValueVector(tuple(abs(x) for x in self._values))

    # --- summaries ----------------------------------------------------------------------------
    def total(self) -> float:
        """Sum of the 20 entries."""
        return math.fsum(self._values)

    def group_totals(self) -> dict[str, float]:
        """Sum of entries per higher-order group (primary assignment)."""
        return {
            g: math.fsum(self._values[_INDEX[v]] for v in members)
            for g, members in GROUP_MEMBERS.items()
        }

    def nonzero_ids(self) -> tuple[str, ...]:
        """Ids whose entry is not zero, in canonical order."""
        return tuple(k for k, x in zip(VALUE_IDS, self._values, strict=True) if x)


def _from_mapping(data: Mapping[Any, Any]) -> tuple[float, ...]:
    out = [0.0] * NUM_VALUES
    for key, x in data.items():
        if not isinstance(key, str) or key not in _INDEX:
            raise _unknown("value id", key, VALUE_IDS)
        out[_INDEX[key]] = _as_float(x, f"value {key!r}")
    return tuple(out)


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
    "ValueVector",
    "check_value_id",
    "definition",
    "display_name",
    "get_value",
    "group_members",
    "group_of",
    "groups_of",
    "value_index",
]
