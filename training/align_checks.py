"""Field checks shared by the ``s2b align`` configuration dataclasses (:mod:`training.align_config`)."""

from __future__ import annotations

from typing import Any

from training.value_ids import check_value_ids


def positive(name: str, x: Any, kind: type = int, *, zero: bool = False) -> None:
    """Refuse ``x`` unless it is a positive (or, with ``zero``, non-negative) int or number."""
    ok = isinstance(x, kind) and not isinstance(x, bool) and (x >= 0 if zero else x > 0)
    if kind is float:
        ok = isinstance(x, int | float) and not isinstance(x, bool) and (x >= 0 if zero else x > 0)
    if not ok:
        sign = ">= 0" if zero else "> 0"
        raise ValueError(
            f"{name}: expected {'an integer' if kind is int else 'a number'} {sign}, got {x!r}"
        )


def is_int(x: Any) -> bool:
    """Whether ``x`` is an int and not a bool."""
    return isinstance(x, int) and not isinstance(x, bool)


def value_ids(name: str, values: Any) -> tuple[str, ...]:
    """Known, distinct value ids as a tuple (``name`` is the field, for the error)."""
    values = check_value_ids(values, name)
    if len(set(values)) != len(values):
        raise ValueError(f"{name}: expected distinct value ids, got {list(values)}")
    return values
