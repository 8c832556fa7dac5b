"""The records a :class:`~s2b_env.jericho.env.JerichoEnv` hands around: one game output, a snapshot.

``GameOutput`` is what one emulator command produced, as the env reads it; subclasses receive it in
their hooks (``_read_output`` makes it, ``_record_output`` and the score/end hooks read it).
``EnvState`` is the opaque snapshot of ``get_state()``/``set_state()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from s2b_env.jericho.core import StatusLine

#: Emulator seeds below 1000 put Frotz's random generator in "predictable" mode; 0 asks the OS.
MIN_EMULATOR_SEED = 1000
MAX_EMULATOR_SEED = 2**31 - 1

#: Why the env read an output: the start-up text, a start command replayed before the agent's
#: first move (``JerichoEnv._begin_episode``), an agent's step, or a probe (nothing advances).
OutputKind = Literal["reset", "replay", "step", "probe"]


@dataclass
class GameOutput:
    """What the game printed for one command (or at start-up), as the env reads it.

    Made by the ``_read_output`` hook, which must have no side effects (probes use it too); the
    env then sets :attr:`kind` and hands it to ``_record_output``, ``_read_score``,
    ``_read_moves`` and ``_end_state``.

    Attributes:
        raw: The emulator's text as received.
        text: The text without status line (and, in subclasses, markers), before the final
            observation cleaning (charset, length).
        status: The status line removed from the text, parsed, or ``None``.
        warnings: Lines for ``info["warnings"]``; hooks may add to it.
        data: What a subclass parsed from the text for its own hooks (markers, events).
        kind: Why it was read (:data:`OutputKind`); ``"probe"`` until the env sets it.
        done: jericho's own end flag after the step where it knows the game, else ``None``.
        score: jericho's score after the step where it knows the game, else ``None``.
        moves: jericho's move count after the step where it knows the game, else ``None``.
    """

    raw: str
    text: str
    status: StatusLine | None = None
    warnings: list[str] = field(default_factory=list)
    data: Any = None
    kind: OutputKind = "probe"
    done: bool | None = None
    score: int | None = None
    moves: int | None = None


@dataclass(frozen=True)
class EnvState:
    """A snapshot of a :class:`~s2b_env.jericho.env.JerichoEnv`: the emulator and its counters.

    Made by ``JerichoEnv.get_state`` and consumed by ``JerichoEnv.set_state``; opaque to
    callers. ``extra`` holds what subclasses keep (labels fired so far, and so on).
    """

    game: str
    emulator: tuple
    score: int
    moves: int
    steps: int
    ended: bool
    victory: bool
    observation: str
    info: dict[str, Any]
    extra: Any = None
    location: str | None = None


def check_seed(value: Any, name: str) -> int:
    """An emulator seed as an ``int``; Frotz's special small seeds are refused.

    Raises:
        TypeError: ``value`` is not an integer.
        ValueError: It is outside ``[MIN_EMULATOR_SEED, MAX_EMULATOR_SEED]``.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}: {value!r}")
    if not MIN_EMULATOR_SEED <= int(value) <= MAX_EMULATOR_SEED:
        raise ValueError(
            f"{name} must be in [{MIN_EMULATOR_SEED}, {MAX_EMULATOR_SEED}] (Frotz treats smaller "
            f"seeds as 'predictable mode' or 'random'), got {value}"
        )
    return int(value)


def copy_emulator_state(state: tuple) -> tuple:
    """A copy of a ``FrotzEnv.get_state()`` tuple that shares no array with it."""
    return tuple(x.copy() if isinstance(x, np.ndarray) else x for x in state)


__all__ = [
    "MAX_EMULATOR_SEED",
    "MIN_EMULATOR_SEED",
    "EnvState",
    "GameOutput",
    "OutputKind",
    "check_seed",
    "copy_emulator_state",
]
