"""``JerichoEnv``: a Gymnasium environment over any Z-machine story file, through jericho's Frotz."""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from s2b_env.errors import S2BError, StoryFileError, require
from s2b_env.games import file_checksum, find_story_file, read_story_header
from s2b_env.jericho import core
from s2b_env.jericho.memory import FrotzMemory
from s2b_env.jericho.valid_actions import ValidActionConfig, ValidActionFinder
from s2b_env.jericho.watchdog import guard_steps, guarded_reset

#: Emulator seeds below 1000 put Frotz's random generator in "predictable" mode; 0 asks the OS.
_MIN_EMULATOR_SEED = 1000
_MAX_EMULATOR_SEED = 2**31 - 1


@dataclass(frozen=True)
class EnvState:
    """A snapshot of a :class:`JerichoEnv`: the emulator and the wrapper's own counters.

    Made by :meth:`JerichoEnv.get_state` and consumed by :meth:`JerichoEnv.set_state`; opaque to
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


@dataclass
class _Step:
    """What one emulator step produced, before it becomes the public 5-tuple."""

    text: str
    status: core.StatusLine | None = None
    warnings: list[str] = field(default_factory=list)
    # jericho's own reading after the step, where it knows the game (else None): whether the game
    # ended, the score and the moves; the env reuses them instead of asking the emulator again.
    done: bool | None = None
    score: int | None = None
    moves: int | None = None


class JerichoEnv(gym.Env[str, str]):
    """A text adventure as a Gymnasium environment.

    Observations are the game's text with the status line removed; actions are free-text
    commands. Made through the registry, e.g.
    ``gym.make("s2b/jericho-zork1-v0", games_dir="../shared/games")``, or directly with a
    ``story_file``.

    Reward is the change of the game's score in the step. ``terminated`` is true once the game is
    over (death or victory), detected by jericho for the games it knows and from the game's end
    text (``*** You have died ***``, ``*** You have won ***``, the restart/restore prompt) for the
    others. Episodes are truncated only by the registered spec's ``max_episode_steps``.

    Commands that control the program rather than the story (quit, restart, save, restore,
    script, undo, debug verbs; see :data:`s2b_env.jericho.core.META_COMMANDS`) and empty commands never
    reach the emulator: they get a fixed refusal, reward 0, and change nothing. Actions are
    cleaned (non-ASCII folded, control characters removed, cut at 198 characters); every change is
    reported in ``info["warnings"]``, never raised.

    The ``info`` dict has the same keys after ``reset`` and every ``step``:

    ======================  ======================================================================
    ``game``                the game's name (story file stem)
    ``score``               the game's score now (``int``)
    ``max_score``           the maximum score when known, else ``None``
    ``moves``               moves taken, as the game counts them
    ``location``            the player's room, when known, else ``None``: from the object tree
                            where jericho knows the game, from global 0 (the status line's
                            room) for other version 1-3 games, else from a status line the
                            game prints in its output
    ``world_hash``          hash of the world's object tree where jericho knows the game, else ``None``
    ``victory``             whether the game was won
    ``refused``             whether the action was refused without reaching the game
    ``action``              the command the game received after cleaning (``""`` if refused)
    ``warnings``            what was changed in the action or observation, one line each
    ``inventory``           only with ``inventory=True``: item names (or the inventory text's
                            lines for games jericho does not know)
    ``valid_actions``       only with ``valid_actions``: the commands that change the world from
                            here (:meth:`valid_actions`; ``[]`` once the game is over)
    ======================  ======================================================================

    Opt-in extras are gathered between ``get_state()`` and ``set_state()``, so they never advance
    the game. A refused step changes nothing, so its ``info`` is the previous one with ``refused``,
    ``action`` and ``warnings`` replaced (and a subclass's per-step keys zeroed): nothing is
    gathered again.

    Args:
        game: Game name, the story file's stem (``"zork1"``), looked up in the games directory.
        story_file: Path to a story file; overrides ``game`` and the games directory.
        games_dir: Games directory (default: ``S2B_GAMES_DIR``).
        game_seed: Fixed emulator seed for every episode. By default the game's walkthrough seed
            when jericho knows one (so its walkthrough replays), else one drawn from the env's
            ``np_random`` at each reset. ``reset(options={"game_seed": n})`` overrides it.
        inventory: Add ``info["inventory"]`` every step.
        render_mode: ``"ansi"`` makes :meth:`render` return the last observation.
        valid_actions: Add ``info["valid_actions"]`` every step: ``True`` or a
            :class:`~s2b_env.jericho.valid_actions.ValidActionConfig` (or its fields as a dict).
        step_timeout: Seconds a command may run in the emulator; past it the command is stopped,
            the game restored and :class:`~s2b_env.jericho.watchdog.StepTimeoutError` raised. A reset
            (the game's start-up up to its first prompt) has the same limit; a stopped reset
            raises it too and leaves the env needing another ``reset``. ``None``
            (default) sets no limit and saves ~5 us a step.

    Subclass hooks: :meth:`_process_output`, :meth:`_read_score`, :meth:`_end_state`,
    :meth:`_refusal`, :meth:`_extra_info`, :meth:`_refused_step_info`, :meth:`_extra_state`,
    :meth:`_restore_extra_state`, :meth:`_after_reset`, :meth:`_known_options`,
    :meth:`_prepare_raw`, :meth:`_split_status`, :meth:`_clean_probe_text`,
    :meth:`_current_location`.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        game: str | None = None,
        *,
        story_file: str | Path | None = None,
        games_dir: str | Path | None = None,
        game_seed: int | None = None,
        inventory: bool = False,
        render_mode: str | None = None,
        valid_actions: bool | ValidActionConfig | dict = False,
        step_timeout: float | None = None,
    ) -> None:
        if story_file is None and not game:
            raise ValueError("JerichoEnv needs a game name or a story_file, got neither")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']} or None, "
                f"got {render_mode!r}"
            )
        if game_seed is not None:
            game_seed = _check_seed(game_seed, "game_seed")
        path = Path(story_file) if story_file is not None else find_story_file(game, games_dir)
        self.header = read_story_header(path)
        self.story_path = path.resolve()
        self.game = game or path.stem
        self.render_mode = render_mode
        self._game_seed = game_seed
        self._want_inventory = bool(inventory)
        self._checksum: str | None = None

        jericho = require("jericho", "base", "JerichoEnv (run scripts/setup.sh)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jericho.UnsupportedGameWarning)
            try:
                self._frotz = jericho.FrotzEnv(str(self.story_path), seed=_MIN_EMULATOR_SEED)
            except Exception as exc:  # jericho raises bare exceptions on unusable files
                raise StoryFileError(f"Frotz could not load {str(path)!r}: {exc}") from exc
        bindings = self._frotz.bindings or {}
        #: Whether jericho knows this story file (score, moves, world hash, end detection).
        self.known = bool(bindings) and bool(self._frotz.is_fully_supported)
        self._walkthrough_seed = bindings.get("seed") if self.known else None
        # Version 3 games keep the status line's score and moves in globals 1 and 2 (the
        # Z-machine standard); later versions draw their own status line, which is parsed instead.
        self._score_in_memory = (
            not self.known and self.header.version <= 3 and not self.header.status_is_time
        )
        # Global 0 of a version 1-3 game is the object whose name the status line shows, the
        # player's room (standard 8.2.2): read it after the step rather than parse the status line
        # in the output, which the interpreter drew at the prompt, before the command ran.
        self._location_in_memory = not self.known and self.header.version <= 3
        self.max_score: int | None = self._frotz.get_max_score() if self.known else None
        self._memory = FrotzMemory(self._frotz, self.header, objects=self.known)
        self._file_guard = core.StrayFileGuard(self.story_path.stem)
        self._valid: ValidActionFinder | None = None
        self.set_valid_actions(valid_actions)
        self.set_step_timeout(step_timeout)

        self.action_space = core.action_space()
        self.observation_space = core.observation_space()

        self._needs_reset = True
        self._score = 0
        self._moves = 0
        self._steps = 0
        self._ended = False
        self._victory = False
        self._observation = ""
        self._info: dict[str, Any] = {}
        self._location: str | None = None

    # ------------------------------------------------------------------ public API

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start a new episode; the same ``seed`` gives the same episode.

        Options:
            game_seed (int): emulator seed for this episode only.
        """
        # The options are checked before anything changes: a refused reset leaves the episode
        # (and the seeded generator) as it was.
        options = dict(options or {})
        unknown = sorted(set(options) - set(self._known_options()))
        if unknown:
            raise ValueError(
                f"unknown reset option(s) {unknown}; {type(self).__name__} accepts "
                f"{self._known_options()}"
            )
        emulator_seed = options.get("game_seed")
        if emulator_seed is not None:
            emulator_seed = _check_seed(emulator_seed, "options['game_seed']")
        super().reset(seed=seed)
        if emulator_seed is None:
            emulator_seed = self._game_seed or self._walkthrough_seed
        if emulator_seed is None:
            emulator_seed = int(self.np_random.integers(_MIN_EMULATOR_SEED, _MAX_EMULATOR_SEED))
        # jericho treats a falsy seed as "use the default": set it directly instead.
        self._frotz._seed = int(emulator_seed)
        self._needs_reset = True  # until the emulator has restarted (a stopped reset leaves it so)
        raw, _ = guarded_reset(self._frotz, self.step_timeout)
        self._memory.stale = True
        self._needs_reset = False
        self._ended = False
        self._victory = False
        self._steps = 0
        self._moves = 0
        self._score = 0
        self._location = None
        raw = self._after_reset(raw, options)
        step = self._parse(raw)
        self._score = self._read_score(step)
        self._moves = self._read_moves(step)
        observation = self._finish_observation(step)
        self._info = self._make_info(step, refused=False, action="")
        return observation, dict(self._info)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Send one command to the game.

        Returns:
            ``(observation, reward, terminated, truncated, info)``; ``truncated`` is always
            ``False`` here (the registered spec's time limit sets it).

        Raises:
            gymnasium.error.ResetNeeded: ``reset`` was not called first.
            TypeError: ``action`` is not a string.
        """
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before step()")
        cleaned = core.clean_action(action)
        refusal = core.ENDED_REFUSAL if self._ended else self._refusal(cleaned.text)
        if refusal is not None:
            self._observation = refusal
            self._info = self._refused_info(cleaned.warnings)
            return refusal, 0.0, self._ended, False, dict(self._info)

        raw, _, done, facts = self._frotz.step(cleaned.text)
        self._memory.stale = True
        self._steps += 1
        step = self._parse(raw)
        if self.known:
            step.done, step.score, step.moves = bool(done), facts["score"], facts["moves"]
        step.warnings[:0] = cleaned.warnings
        step.warnings.extend(self._file_guard.sweep(cleaned.text))
        old_score = self._score
        self._score = self._read_score(step)
        self._moves = self._read_moves(step)
        # jericho's done is game over or victory: when it says neither, nothing to ask
        game_over, victory = (False, False) if step.done is False else self._end_state(step.text)
        if self._frotz._emulator_halted():
            game_over = True
            step.warnings.append("the emulator halted; the episode is over")
        self._ended = game_over or victory
        self._victory = victory
        observation = self._finish_observation(step)
        self._info = self._make_info(step, refused=False, action=cleaned.text)
        return observation, float(self._score - old_score), self._ended, False, dict(self._info)

    def render(self) -> str | None:
        """With ``render_mode="ansi"``, the last observation."""
        return self._observation if self.render_mode == "ansi" else None

    def close(self) -> None:
        """Shut the emulator down (safe to call twice)."""
        frotz = getattr(self, "_frotz", None)
        if frotz is not None and not self._needs_reset:
            frotz.close()
        self._needs_reset = True

    def get_state(self) -> EnvState:
        """Snapshot the game and the wrapper's counters; restore with :meth:`set_state`."""
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before get_state()")
        return EnvState(
            game=self.game,
            emulator=_copy_emulator_state(self._frotz.get_state()),
            score=self._score,
            moves=self._moves,
            steps=self._steps,
            ended=self._ended,
            victory=self._victory,
            observation=self._observation,
            info=copy.deepcopy(self._info),
            extra=copy.deepcopy(self._extra_state()),
            location=self._location,
        )

    def set_state(self, state: EnvState) -> None:
        """Return to a snapshot from :meth:`get_state` of an env of the same game.

        Raises:
            TypeError: ``state`` is not an :class:`EnvState`.
            ValueError: It was taken from another game.
        """
        if not isinstance(state, EnvState):
            raise TypeError(f"expected an EnvState from get_state(), got {type(state).__name__}")
        if state.game != self.game:
            raise ValueError(f"state is from game {state.game!r}, this env plays {self.game!r}")
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before set_state()")
        self._frotz.set_state(_copy_emulator_state(state.emulator))
        self._memory.stale = True
        self._score = state.score
        self._moves = state.moves
        self._steps = state.steps
        self._ended = state.ended
        self._victory = state.victory
        self._observation = state.observation
        self._info = copy.deepcopy(state.info)
        self._location = state.location
        self._restore_extra_state(copy.deepcopy(state.extra))

    @property
    def checksum(self) -> str:
        """The story file's SHA-256 (``"sha256:<hex>"``), for trajectory headers."""
        if self._checksum is None:
            self._checksum = file_checksum(self.story_path)
        return self._checksum

    @property
    def last_observation(self) -> str:
        """The observation returned by the last ``reset`` or ``step``."""
        return self._observation

    def valid_actions(self) -> list[str]:
        """The commands that change the world from the current state, one per distinct effect.

        Found without spaCy and without advancing the game (see :mod:`s2b_env.jericho.valid_actions`);
        cached by world state. Uses the settings of :meth:`set_valid_actions` (defaults if unset).
        """
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before valid_actions()")
        finder = self._valid or ValidActionFinder()
        return finder.find(self).actions

    def set_valid_actions(self, valid_actions: bool | ValidActionConfig | dict) -> None:
        """Turn ``info["valid_actions"]`` on (``True``, a config or its fields) or off (``False``)."""
        config = ValidActionConfig.coerce(valid_actions)
        self._valid = None if config is None else ValidActionFinder(config)

    def set_step_timeout(self, seconds: float | None) -> None:
        """Limit every emulator command to ``seconds`` (``None``: no limit); see ``step_timeout``."""
        guard_steps(self._frotz, seconds)
        self.step_timeout = seconds

    def walkthrough(self, route: str | None = None) -> list[str] | None:
        """The commands of a walkthrough of the game, or ``None`` if there is none.

        Here: jericho's walkthrough for the games it knows (it replays with the default seed).
        Subclasses with several routes (endings) take their name in ``route``; see
        :meth:`walkthrough_routes`.

        Raises:
            ValueError: ``route`` names a route this game does not have.
        """
        routes = self.walkthrough_routes()
        if route is not None and route not in routes:
            raise ValueError(
                f"game {self.game!r} has no walkthrough route {route!r}; it has {routes}"
            )
        if not self.known:
            return None
        return list(self._frotz.get_walkthrough())

    def walkthrough_routes(self) -> list[str]:
        """Names of the walkthroughs :meth:`walkthrough` can give (the first is the default)."""
        return ["default"] if self.known else []

    def probe(self, command: str) -> str:
        """What the game would answer to ``command``, without advancing it.

        The emulator's state is saved before the command and restored after it. The answer is
        cleaned as observations are (:meth:`_clean_probe_text`: status line, markers), without
        touching the episode's state.
        """
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before probe()")
        saved = self._frotz.get_state()
        text = core.clean_action(command).text
        try:
            raw = self._frotz.step(text)[0]
        finally:
            self._frotz.set_state(saved)
            self._memory.stale = True
            self._file_guard.sweep(text)
        return self._clean_probe_text(raw)

    # ------------------------------------------------------------------ hooks for subclasses

    def _prepare_raw(self, raw: str) -> tuple[str, list[str]]:
        """Hook: first transformation of the emulator's raw output, before the status line is
        removed (e.g. putting compressed text back); returns the text and warnings for ``info``."""
        return raw, []

    def _split_status(self, text: str) -> tuple[str, core.StatusLine | None]:
        """Hook: remove the status line(s) from the output and parse them."""
        return core.split_status_line(text)

    def _clean_probe_text(self, raw: str) -> str:
        """Hook: the emulator's raw answer to a probe, cleaned as an observation would be.

        Unlike :meth:`_parse` it must have no side effects (no labels, events or location are
        recorded): a probe does not advance the game. Subclasses that transform observations
        (markers, compressed text) do the same here.
        """
        return core.split_status_line(raw)[0]

    def _process_output(self, text: str) -> str:
        """Hook: transform the game's text (status line already removed) before anything else.

        Subclasses strip their markers here and record what they mean for this step.
        """
        return text

    def _read_score(self, step: _Step) -> int:
        """Hook: the game's score after the step just taken (or after reset)."""
        if self.known:
            return int(self._frotz.get_score() if step.score is None else step.score)
        if self._score_in_memory:
            return self._read_global(1)
        if step.status is not None and step.status.score is not None:
            return step.status.score
        return self._score

    def _read_moves(self, step: _Step) -> int:
        if self.known:
            return int(self._frotz.get_moves() if step.moves is None else step.moves)
        if self._score_in_memory:
            return self._read_global(2)
        if step.status is not None and step.status.moves is not None:
            return step.status.moves
        return self._steps

    def _end_state(self, text: str) -> tuple[bool, bool]:
        """Hook: ``(game_over, victory)`` after a step whose (processed) output is ``text``."""
        if self.known:
            victory = bool(self._frotz.victory())
            return victory or bool(self._frotz.game_over()), victory
        return core.detect_end(text)

    def _refusal(self, command: str) -> str | None:
        """Hook: a fixed reply if ``command`` must not reach the emulator, else ``None``."""
        if not command:
            return core.EMPTY_REFUSAL
        if core.is_meta_command(command):
            return core.META_REFUSAL
        return None

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

    def _after_reset(self, raw: str, options: dict[str, Any]) -> str:
        """Hook: reset subclass state after the emulator restarted; return the text to show.

        Subclasses read their reset ``options`` here (listed by :meth:`_known_options`) and may
        play commands (initial actions, a fast-forward) before the agent's first move.
        """
        return raw

    def _known_options(self) -> list[str]:
        """Hook: the reset options this env accepts."""
        return ["game_seed"]

    # ------------------------------------------------------------------ internals

    def _parse(self, raw: str) -> _Step:
        """Turn the emulator's raw output into a step: prepare, split the status line, process."""
        text, notes = self._prepare_raw(raw)
        text, status = self._split_status(text)
        if status is not None and status.location:
            self._location = status.location
        step = _Step(text=self._process_output(text), status=status)
        step.warnings.extend(notes)
        return step

    def _finish_observation(self, step: _Step) -> str:
        observation, obs_warnings = core.clean_observation(step.text)
        step.warnings.extend(obs_warnings)
        self._observation = observation
        return observation

    def _make_info(self, step: _Step, *, refused: bool, action: str) -> dict[str, Any]:
        info: dict[str, Any] = {
            "game": self.game,
            "score": self._score,
            "max_score": self.max_score,
            "moves": self._moves,
            "location": self._current_location(),
            "world_hash": self._memory.world_hash() if self.known else None,
            "victory": self._victory,
            "refused": refused,
            "action": action,
            "warnings": list(step.warnings),
        }
        if self._want_inventory:
            info["inventory"] = self._inventory()
        if self._valid is not None:
            found = self._valid.find(self)
            info["valid_actions"] = found.actions
            info["warnings"].extend(found.warnings)
        info.update(self._extra_info())
        return info

    def _refused_info(self, warnings: list[str]) -> dict[str, Any]:
        """The ``info`` of a refused step: the previous one, since the state did not change.

        Nothing is asked of the emulator again (world hash, inventory, valid actions), except the
        valid actions when they were turned on since the last step.
        """
        info = copy.deepcopy(self._info)
        info.update(refused=True, action="", warnings=list(warnings))
        if self._valid is None:
            info.pop("valid_actions", None)
        elif "valid_actions" not in info:  # set_valid_actions(...) since the last step
            found = self._valid.find(self)
            info["valid_actions"] = found.actions
            info["warnings"].extend(found.warnings)
        info.update(self._refused_step_info())
        return info

    def _current_location(self) -> str | None:
        """Hook: the player's room now, for ``info["location"]``."""
        if self.known:
            return self._memory.player_location()
        if self._location_in_memory:
            return self._memory.object_name(self._memory.global_value(0)) or None
        return self._location

    def _inventory(self) -> list[str]:
        if self.known:
            return [obj.name for obj in self._frotz.get_inventory()]
        text = self.probe("inventory")
        return [line.strip() for line in text.splitlines() if line.strip()]

    def _read_global(self, index: int) -> int:
        """Signed 16-bit Z-machine global variable ``index`` (0 is the first)."""
        return self._memory.global_value(index)


def _check_seed(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}: {value!r}")
    if not _MIN_EMULATOR_SEED <= int(value) <= _MAX_EMULATOR_SEED:
        raise ValueError(
            f"{name} must be in [{_MIN_EMULATOR_SEED}, {_MAX_EMULATOR_SEED}] (Frotz treats smaller "
            f"seeds as 'predictable mode' or 'random'), got {value}"
        )
    return int(value)


def _copy_emulator_state(state: tuple) -> tuple:
    return tuple(x.copy() if isinstance(x, np.ndarray) else x for x in state)


__all__ = ["EnvState", "JerichoEnv", "S2BError"]
