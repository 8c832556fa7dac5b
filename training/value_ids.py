"""One check of value ids for the training code, with a "did you mean" hint.

The survey loader, the survey's :meth:`~training.survey.Survey.select`, the target builders and the
``s2b align`` configuration all accept value ids from users; they share this check so every one
of them says the same thing: what was expected, what was given, and the closest valid id.
(:func:`s2b_env.values.check_value_id` lists the valid ids but suggests none.)

Example:
    >>> value_id_problem("hedonsim").split(":")[0]
    "unknown value id 'hedonsim' (did you mean 'hedonism'?)"
    >>> value_id_problem("hedonism") is None
    True
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from s2b_env.errors import ConfigError
from s2b_env.values import VALUE_IDS


def value_id_problem(value: object) -> str | None:
    """What is wrong with a value id, or ``None`` if it is one of the 20 taxonomy ids.

    Args:
        value: The id as given.

    Returns:
        ``None``, or e.g. ``"unknown value id 'hedonsim' (did you mean 'hedonism'?): expected one
        of ..."``.
    """
    if not isinstance(value, str):
        return f"expected a value id (a string), got {type(value).__name__} {value!r}"
    if value in VALUE_IDS:
        return None
    close = difflib.get_close_matches(value, VALUE_IDS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown value id {value!r}{hint}: expected one of {', '.join(VALUE_IDS)}"


def check_value_ids(values: Iterable[str] | str, name: str) -> tuple[str, ...]:
    """Check value ids given by a user; a single id may be given as a str.

    Args:
        values: The ids.
        name: What they were given as (an option or field name), put first in the error.

    Returns:
        The ids as a tuple, in the given order.

    Raises:
        ConfigError: An id is unknown (a ``ValueError``) (``"<name>: unknown value id ..."``, with the closest id).
    """
    chosen = (values,) if isinstance(values, str) else tuple(values)
    for v in chosen:
        problem = value_id_problem(v)
        if problem:
            raise ConfigError(f"{name}: {problem}")
    return chosen
