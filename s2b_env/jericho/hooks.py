"""The hooks a subclass of :class:`~s2b_env.jericho.env.JerichoEnv` may override, in one place.

``JerichoEnv`` runs every episode the same way; a game family (Jiminy Cricket, s2b's own games)
changes what it reads from the game through these hooks, each with one job:

==========================  ===================================================================
``_read_output``            raw emulator text -> :class:`GameOutput` (no side effects)
``_record_output``          act on an output the episode saw (labels, events)
``_read_score``             the score after a step or reset
``_read_moves``             the move count after a step or reset
``_end_state``              ``(game_over, victory)`` after a step
``_refusal``                the fixed reply to a command that must not reach the game
``_current_location``       the player's room for ``info["location"]``
``_extra_info``             more ``info`` keys (the same keys every call)
``_refused_step_info``      those keys as a refused step has them
``_extra_state``            subclass state kept in ``get_state()``'s snapshot
``_restore_extra_state``    restore it
``_begin_episode``          reset subclass state; the commands to play before the first move
==========================  ===================================================================

Hooks never step the emulator themselves except through ``JerichoEnv.probing`` (or
``probe``/``probe_raw``), which leave the game where it was.
"""

from __future__ import annotations

import re
from typing import Any

from s2b_env.jericho import core
from s2b_env.jericho.memory import FrotzMemory
from s2b_env.jericho.records import GameOutput

_PLACEHOLDER = re.compile(r"\(\S+\)")


class GameHooks:
    """The default hooks of :class:`~s2b_env.jericho.env.JerichoEnv` (a mixin of it).

    They read the env's state set up by ``JerichoEnv.__init__``, declared here.
    """

    known: bool
    _frotz: Any
    _memory: FrotzMemory
    _score_in_memory: bool
    _location_in_memory: bool
    _score: int
    _steps: int
    _location: str | None

    def _read_output(self, raw: str) -> GameOutput:
        """Hook: read the emulator's raw output: remove the status line (and a subclass's markers).

        Must have no side effects: probes use it too. What a subclass parsed for itself goes in
        :attr:`GameOutput.data` and is acted on in :meth:`_record_output`.
        """
        text, status = core.split_status_line(raw)
        return GameOutput(raw=raw, text=text, status=status)

    def _record_output(self, output: GameOutput) -> None:
        """Hook: act on an output the episode has seen (count labels, collect events).

        Called for each start command of :meth:`_begin_episode` (``output.kind == "replay"``),
        then for the text that becomes the episode's first observation (``"reset"``: the start-up
        text, or the last start command's output read again), and for each step (``"step"``);
        never for probes. Warnings go in ``output.warnings``.
        """

    def _read_score(self, output: GameOutput) -> int:
        """Hook: the game's score after the step just taken (or after reset)."""
        if self.known:
            return int(self._frotz.get_score() if output.score is None else output.score)
        if self._score_in_memory:
            return self._memory.global_value(1)
        if output.status is not None and output.status.score is not None:
            return output.status.score
        return self._score

    def _read_moves(self, output: GameOutput) -> int:
        """Hook: the game's move count after the step just taken (or after reset)."""
        if self.known:
            return int(self._frotz.get_moves() if output.moves is None else output.moves)
        if self._score_in_memory:
            return self._memory.global_value(2)
        if output.status is not None and output.status.moves is not None:
            return output.status.moves
        return self._steps

    def _end_state(self, output: GameOutput) -> tuple[bool, bool]:
        """Hook: ``(game_over, victory)`` after a step (the score is already read)."""
        if self.known:
            victory = bool(self._frotz.victory())
            return victory or bool(self._frotz.game_over()), victory
        return core.detect_end(output.text)

    def _refusal(self, command: str) -> str | None:
        """Hook: a fixed reply if ``command`` must not reach the emulator, else ``None``."""
        if core.is_meta_command(command):
            return core.META_REFUSAL
        return None

    def _current_location(self) -> str | None:
        """Hook: the player's room now, for ``info["location"]`` (``None`` if unknown).

        Version 1-3 games: the object in global 0, which the status line names (standard
        8.2.2). Later games jericho knows: the room holding the player in the object tree
        (:meth:`FrotzMemory.player_room`). Names are decoded from memory as the game prints
        them. Other games: the room of the last status line in the output, if any.
        """
        memory = self._memory
        if self._location_in_memory:
            return memory.room_name(memory.global_value(0)) or None
        if self.known:
            room = memory.player_room(self._frotz.player_obj_num)
            name = memory.room_name(room) if room else None
            # Inform names an object without a short name "(its_id)": not a room's name
            return None if not name or _PLACEHOLDER.fullmatch(name) else name
        return self._location

    def _extra_info(self) -> dict[str, Any]:
        """Hook: more ``info`` keys; must return the same keys on every call."""
        return {}

    def _refused_step_info(self) -> dict[str, Any]:
        """Hook: the :meth:`_extra_info` keys that describe one step, as a refused step has them.

        A refused step changes nothing, so its ``info`` is the previous one with these values
        (e.g. zero labels, no events) and ``refused``, ``action`` and ``warnings`` replaced.
        """
        return {}

    def _extra_state(self) -> Any:
        """Hook: subclass state to keep in :class:`EnvState` (deep-copied)."""
        return None

    def _restore_extra_state(self, extra: Any) -> None:
        """Hook: restore what :meth:`_extra_state` returned."""

    def _begin_episode(self, options: dict[str, Any]) -> list[str]:
        """Hook: reset subclass state after the emulator restarted; return the start commands.

        ``options`` are the reset's (checked against ``RESET_OPTIONS``). The commands (initial
        actions, a fast-forward) are played before the agent's first move: each output goes to
        :meth:`_record_output` as ``"replay"``; refused ones are skipped, blank ones are played
        (a key press). The episode's first observation is the output of the last command that is
        not blank (of the first command played, if all are blank).
        """
        return []


__all__ = ["GameHooks"]
