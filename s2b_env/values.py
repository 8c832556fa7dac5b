"""The 20 human values (:mod:`s2b_env.taxonomy`, re-exported here) and :class:`ValueVector`,
the 20 floats of a value effect or total that games, scenarios and the engine's metrics pass around.

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
from typing import Any

import numpy as np

from s2b_env.taxonomy import (
    EFFECT_MAX,
    EFFECT_MIN,
    GROUP_IDS,
    GROUP_MEMBERS,
    GROUP_NAMES,
    NUM_VALUES,
    VALUE_IDS,
    VALUES,
    Value,
    check_value_id,
    definition,
    display_name,
    get_value,
    group_members,
    group_of,
    groups_of,
    value_id_problem,
    value_index,
)

_INDEX: dict[str, int] = {vid: i for i, vid in enumerate(VALUE_IDS)}


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
            raise ValueError(value_id_problem(key))
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
    "value_id_problem",
    "value_index",
]
