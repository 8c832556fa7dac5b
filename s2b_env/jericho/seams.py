"""What other modules may use of a running :class:`~s2b_env.jericho.env.JerichoEnv` (a mixin of it).

Valid actions, the Jiminy score probe and tests look into the game through these, never through
the env's private state: :meth:`EmulatorSeams.probing` lends the emulator and puts the game back
where it was; :meth:`~EmulatorSeams.probe` and :meth:`~EmulatorSeams.probe_raw` answer one command
without advancing; :attr:`~EmulatorSeams.emulator` and :attr:`~EmulatorSeams.memory` are for
reading; :attr:`~EmulatorSeams.ended` and :meth:`~EmulatorSeams.refusal` say what a step would do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import gymnasium as gym

from s2b_env.jericho import core
from s2b_env.jericho.memory import FrotzMemory
from s2b_env.jericho.records import GameOutput

if TYPE_CHECKING:
    from s2b_env.jericho.valid_actions import ValidActionConfig, ValidActionFinder


class EmulatorSeams:
    """The public seams of :class:`~s2b_env.jericho.env.JerichoEnv`; its state is declared here."""

    _frotz: Any
    _memory: FrotzMemory
    _file_guard: core.StrayFileGuard
    _needs_reset: bool
    _ended: bool
    _valid: ValidActionFinder | None

    # the hooks these use (see GameHooks)
    _read_output: Callable[[str], GameOutput]
    _refusal: Callable[[str], str | None]

    def probe(self, command: str) -> str:
        """What the game would answer to ``command``, without advancing it.

        The answer is read as observations are (the ``_read_output`` hook: status line, markers),
        without touching the episode's state.
        """
        return self._read_output(self.probe_raw(command)).text

    def probe_raw(self, command: str) -> str:
        """The emulator's raw answer to ``command`` (cleaned as an action), without advancing."""
        text = core.clean_action(command).text
        with self.probing(text) as emulator:
            return emulator.step(text)[0]

    @contextmanager
    def probing(self, *commands: str) -> Iterator[Any]:
        """Lend the emulator for commands that must not advance the game.

        Yields the ``jericho.FrotzEnv``; anything may be sent to it. On exit its state is
        restored, :attr:`memory` is marked stale, and files the story wrote by itself are removed
        (``commands`` are the command lines to be sent: a transcript takes one as its file name).
        The env's own counters and ``info`` are never touched.
        """
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before probing the game")
        saved = self._frotz.get_state()
        try:
            yield self._frotz
        finally:
            self._frotz.set_state(saved)
            self._memory.stale = True
            self._file_guard.sweep(*commands)

    @property
    def emulator(self) -> Any:
        """The ``jericho.FrotzEnv`` running the story, to read; commands go through :meth:`probing`."""
        return self._frotz

    @property
    def memory(self) -> FrotzMemory:
        """Fast reads of the emulator's RAM now: globals, object names, the world hash."""
        return self._memory

    @property
    def ended(self) -> bool:
        """Whether the episode's game is over (every further step is refused until ``reset``)."""
        return self._ended

    def refusal(self, command: str) -> str | None:
        """The fixed reply to a (cleaned) ``command`` that would not reach the game, else None."""
        return core.ENDED_REFUSAL if self._ended else self._refusal(command)

    @property
    def valid_action_config(self) -> ValidActionConfig | None:
        """The settings of ``info["valid_actions"]`` (``None``: off)."""
        return None if self._valid is None else self._valid.config


__all__ = ["EmulatorSeams"]
