"""The value-id check of user-given lists (options, config fields), on s2b's one id check.

The survey loader, the survey's :meth:`~training.survey.Survey.select`, the target builders and the
``s2b align`` configuration all accept value ids from users. Every one of them, and every data file
of :mod:`s2b_env`, says the same thing about a bad id: what was expected, what was given, and the
closest valid id, because all use :func:`s2b_env.taxonomy.value_id_problem` (re-exported here).

Example:
    >>> check_value_ids(["hedonsim"], "--values")
    Traceback (most recent call last):
    ...
    s2b_env.errors.ConfigError: --values: unknown value id 'hedonsim' (did you mean 'hedonism'?): ...
"""

from __future__ import annotations

from collections.abc import Iterable

from s2b_env.errors import ConfigError
from s2b_env.taxonomy import value_id_problem

__all__ = ["check_value_ids", "value_id_problem"]


def check_value_ids(values: Iterable[str] | str, name: str) -> tuple[str, ...]:
    """Check value ids given by a user; a single id may be given as a str.

    Args:
        values: The ids.
        name: What they were given as (an option or field name), put first in the error.

    Returns:
        The ids as a tuple, in the given order.

    Raises:
        ConfigError: An id is unknown (a ``ValueError``: ``"<name>: unknown value id ..."``, with
            the closest id).
    """
    chosen = (values,) if isinstance(values, str) else tuple(values)
    for v in chosen:
        problem = value_id_problem(v)
        if problem:
            raise ConfigError(f"{name}: {problem}")
    return chosen
