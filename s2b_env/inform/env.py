"""``S2BGameEnv``: s2b's own Inform 6 games, with their value events, as Gymnasium environments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from s2b_env.errors import GameNotFoundError
from s2b_env.inform.build import (
    StoryInfo,
    annotations_file,
    build_game,
    built_story,
    source_file,
    walkthrough_files,
)
from s2b_env.inform.data import (
    ValueEvent,
    Walkthrough,
    check_markers,
    load_annotations,
    load_walkthrough,
    split_markers,
)
from s2b_env.jericho.env import JerichoEnv
from s2b_env.jericho.records import GameOutput
from s2b_env.jericho.valid_actions import ValidActionConfig
from s2b_env.values import ValueVector


class S2BGameEnv(JerichoEnv):
    """One of s2b's own games (``games/inform/<name>``), e.g. ``gym.make("s2b/s2b-lastferry-v0")``.

    Everything :class:`~s2b_env.jericho.env.JerichoEnv` does holds here. In addition the game's
    value markers (``[V: <event>]``) are removed from the observations, and ``info`` gets three
    more keys, present after ``reset`` and every ``step``:

    ======================  ======================================================================
    ``value_effects``       this step's summed effect on the 20 values, ``{value_id: float}``
                            (a :class:`~s2b_env.values.ValueVector` as a dict; all zero if no event)
    ``value_events``        this step's events in order, ``[{"id": ..., "description": ...}]``
    ``value_totals``        the episode's summed effects so far, ``{value_id: float}``
    ======================  ======================================================================

    Score, moves and the end of the game are read from the emulator's memory at the addresses of
    the ``score``, ``turns`` and ``deadflag`` globals (from the compiler's debug file):
    ``deadflag`` 2 is a victory, any other non-zero value a loss. ``max_score`` is the game's
    ``MAX_SCORE``. The game is built from source on first use (and rebuilt when the source
    changed) unless ``build=False``.

    Args:
        game: The own game's name, e.g. ``"lastferry"``.
        game_seed: Fixed emulator seed (our games use no randomness; see ``JerichoEnv``).
        inventory: Add ``info["inventory"]`` every step.
        render_mode: ``"ansi"`` makes :meth:`render` return the last observation.
        build: Build the game if needed; with ``False`` an existing build is used as it is.
        games_dir: Accepted for a uniform ``gym.make`` call and ignored: own games need none.

    Raises:
        GameNotFoundError: Not an own game, or (``build=False``) not built yet.
        InformToolsMissingError: The game must be built and the compiler is not installed.
        DataError: The annotations file is bad or does not match the source's markers.
    """

    def __init__(
        self,
        game: str,
        *,
        game_seed: int | None = None,
        inventory: bool = False,
        render_mode: str | None = None,
        build: bool = True,
        games_dir: str | Path | None = None,
        valid_actions: bool | ValidActionConfig | dict = False,
        step_timeout: float | None = None,
    ) -> None:
        source = source_file(game)
        ann_path = annotations_file(game)
        events = load_annotations(ann_path)
        check_markers(source, ann_path, events)
        if build:
            info = build_game(game).info
        else:
            found = built_story(game)
            if found is None:
                raise GameNotFoundError(
                    f"own game {game!r} has not been built; run 's2b games build' or pass "
                    "build=True"
                )
            info = found
        #: The story file's build metadata (addresses, MAX_SCORE, serial).
        self.story_info: StoryInfo = info
        #: Event id -> annotated :class:`ValueEvent`.
        self.value_events: dict[str, ValueEvent] = events
        self._pending: list[str] = []
        self._totals = ValueVector.zeros()
        self._history: list[str] = []
        super().__init__(
            game,
            story_file=info.story_file,
            game_seed=game_seed,
            inventory=inventory,
            render_mode=render_mode,
            valid_actions=valid_actions,
            step_timeout=step_timeout,
        )
        self.max_score = info.max_score

    # ------------------------------------------------------------------ public API

    def walkthrough(self, route: str | None = None) -> list[str] | None:
        """The commands of a route (default: the first of :meth:`walkthrough_routes`).

        Raises:
            ValueError: The game has no such route.
        """
        return list(self.load_walkthrough(route).commands)

    def walkthrough_routes(self) -> list[str]:
        """The game's routes: ``caring`` and ``self_interested`` first, then the others."""
        return list(walkthrough_files(self.game))

    def load_walkthrough(self, route: str | None = None) -> Walkthrough:
        """A route with its expected events, score and outcome.

        Raises:
            ValueError: The game has no such route.
        """
        files = walkthrough_files(self.game)
        if route is None:
            route = next(iter(files))
        if route not in files:
            raise ValueError(
                f"game {self.game!r} has no walkthrough route {route!r}; it has {list(files)}"
            )
        return load_walkthrough(files[route])

    @property
    def event_history(self) -> list[str]:
        """Every event fired this episode, in order."""
        return list(self._history)

    @property
    def value_totals(self) -> ValueVector:
        """The episode's summed value effects so far."""
        return self._totals

    # ------------------------------------------------------------------ JerichoEnv hooks

    def _read_output(self, raw: str) -> GameOutput:
        # The status line jericho's Frotz appends after the prompt is removed (and its room
        # recorded) by JerichoEnv's reading; the value markers are removed here.
        output = super()._read_output(raw)
        output.text, output.data = split_markers(output.text)
        output.text = output.text.strip("\n")
        return output

    def _record_output(self, output: GameOutput) -> None:
        self._pending.extend(output.data)

    def _read_score(self, output: GameOutput) -> int:
        return self.memory.word(self.story_info.addresses["score"])

    def _read_moves(self, output: GameOutput) -> int:
        return self.memory.word(self.story_info.addresses["turns"])

    def _end_state(self, output: GameOutput) -> tuple[bool, bool]:
        flag = self.memory.word(self.story_info.addresses["deadflag"])
        return flag != 0, flag == 2

    def _extra_info(self) -> dict[str, Any]:
        ids, self._pending = self._pending, []
        step = ValueVector.zeros()
        described = []
        for event_id in ids:
            event = self.value_events.get(event_id)
            if event is not None:
                step = step + event.effects
                described.append({"id": event_id, "description": event.description})
            else:  # impossible after check_markers, unless the story file is stale
                described.append({"id": event_id, "description": "(not annotated)"})
        self._totals = self._totals + step
        self._history.extend(ids)
        return {
            "value_effects": step.to_dict(),
            "value_events": described,
            "value_totals": self._totals.to_dict(),
        }

    def _refused_step_info(self) -> dict[str, Any]:
        return {"value_effects": ValueVector.zeros().to_dict(), "value_events": []}

    def _extra_state(self) -> Any:
        return (tuple(self._pending), self._totals, tuple(self._history))

    def _restore_extra_state(self, extra: Any) -> None:
        pending, totals, history = extra
        self._pending = list(pending)
        self._totals = totals
        self._history = list(history)

    def _begin_episode(self, options: dict[str, Any]) -> list[str]:
        self._pending = []
        self._totals = ValueVector.zeros()
        self._history = []
        return []


__all__ = ["S2BGameEnv"]
