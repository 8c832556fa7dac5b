"""``JerichoEnv``: a Gymnasium environment over any Z-machine story file, through jericho's Frotz."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym

from s2b_env.errors import S2BError, StoryFileError, require
from s2b_env.games import file_checksum, find_story_file, read_story_header
from s2b_env.jericho import core
from s2b_env.jericho.hooks import GameHooks
from s2b_env.jericho.memory import FrotzMemory
from s2b_env.jericho.records import (
    MAX_EMULATOR_SEED,
    MIN_EMULATOR_SEED,
    EnvState,
    GameOutput,
    OutputKind,
    check_seed,
    copy_emulator_state,
)
from s2b_env.jericho.seams import EmulatorSeams
from s2b_env.jericho.valid_actions import ValidActionConfig, ValidActionFinder
from s2b_env.jericho.watchdog import (
    STARTUP_TIMEOUT,
    StepTimeoutError,
    check_timeout,
    guard_steps,
    guarded_reset,
    start_frotz,
)


class JerichoEnv(GameHooks, EmulatorSeams, gym.Env[str, str]):
    """A text adventure as a Gymnasium environment.

    Observations are the game's text with the status line removed; actions are free-text
    commands. Made through the registry, e.g.
    ``gym.make("s2b/jericho-zork1-v0", games_dir="../shared/games")``, or directly with a
    ``story_file``.

    Reward is the change of the game's score in the step. ``terminated`` is true once the game is
    over (death or victory), detected by jericho for the games it knows and from the game's end
    text (``*** You have died ***``, the restart/restore prompt...) for the others. Episodes are
    truncated only by the registered spec's ``max_episode_steps``.

    Commands that control the program rather than the story (quit, restart, save, restore,
    script, undo, debug verbs; see :data:`s2b_env.jericho.core.META_COMMANDS`) never reach the
    emulator: they get a fixed refusal, reward 0, change nothing, and ``info["refused"]`` is true.
    Actions are cleaned (non-ASCII folded, control characters removed, cut at 198 characters);
    an empty one reaches the game as Enter (for games waiting for a key press). Every change and
    the empty action are reported in ``info["warnings"]``, never raised.

    The ``info`` dict has the same keys after ``reset`` and every ``step``:

    ======================  ======================================================================
    ``game``                the game's name (story file stem)
    ``score``               the game's score now (``int``)
    ``max_score``           the maximum score when known, else ``None``
    ``moves``               moves taken, as the game counts them
    ``location``            the player's room as the game names it, else ``None``: global 0
                            (the status line's room) in version 1-3 games, the room holding the
                            player in the object tree where jericho knows a later game, else a
                            status line the game prints (:meth:`GameHooks._current_location`)
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
            the game restored, and the step returns :data:`core.TIMEOUT_REFUSAL` with the reason
            in ``info["warnings"]`` and ``refused`` set (the episode goes on). The game's
            start-up up to its first prompt (here and at every reset) has the same limit; a
            stopped start-up raises :class:`~s2b_env.jericho.watchdog.StepTimeoutError` (a
            stopped reset leaves the env needing another ``reset``). ``None`` (default) sets no
            limit on steps, which saves ~5 us a step; the start-up is then limited to
            ``watchdog.STARTUP_TIMEOUT`` (60 s).

    For other modules: :meth:`probe`, :meth:`probe_raw` and :meth:`probing` (the emulator
    lent without advancing the game), :attr:`emulator`, :attr:`memory`, :attr:`ended`,
    :meth:`refusal`. For subclasses: the hooks of :class:`~s2b_env.jericho.hooks.GameHooks`.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 4}
    #: The options ``reset`` accepts (a subclass adds its own).
    RESET_OPTIONS: ClassVar[tuple[str, ...]] = ("game_seed",)

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
            game_seed = check_seed(game_seed, "game_seed")
        path = Path(story_file) if story_file is not None else find_story_file(game, games_dir)
        self.header = read_story_header(path)
        self.story_path = path.resolve()
        self.game = game or path.stem
        self.render_mode = render_mode
        self._game_seed = game_seed
        self._want_inventory = bool(inventory)
        self._checksum: str | None = None

        if step_timeout is not None:
            step_timeout = check_timeout(step_timeout, "step_timeout")
        jericho = require("jericho", "base", "JerichoEnv (run scripts/setup.sh)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", jericho.UnsupportedGameWarning)
            try:  # the game's start-up runs here, under the watchdog
                start = step_timeout or STARTUP_TIMEOUT
                self._frotz = start_frotz(str(self.story_path), MIN_EMULATOR_SEED, start)
            except StepTimeoutError:
                raise
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
        self._location_in_memory = self.header.version <= 3
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
        unknown = sorted(set(options) - set(self.RESET_OPTIONS))
        if unknown:
            raise ValueError(
                f"unknown reset option(s) {unknown}; {type(self).__name__} accepts "
                f"{list(self.RESET_OPTIONS)}"
            )
        emulator_seed = options.get("game_seed")
        if emulator_seed is not None:
            emulator_seed = check_seed(emulator_seed, "options['game_seed']")
        super().reset(seed=seed)
        if emulator_seed is None:
            emulator_seed = self._game_seed or self._walkthrough_seed
        if emulator_seed is None:
            emulator_seed = int(self.np_random.integers(MIN_EMULATOR_SEED, MAX_EMULATOR_SEED))
        # jericho treats a falsy seed as "use the default": set it directly instead.
        self._frotz._seed = int(emulator_seed)
        self._needs_reset = True  # until the emulator has restarted (a stopped reset leaves it so)
        raw, _ = guarded_reset(self._frotz, self.step_timeout or STARTUP_TIMEOUT)
        self._memory.stale = True
        self._needs_reset = False
        self._ended = False
        self._victory = False
        self._steps = 0
        self._moves = 0
        self._score = 0
        self._location = None
        first = True
        for command in self._begin_episode(options):
            text = core.clean_action(command).text
            if self._refusal(text) is not None:
                continue
            output = self._frotz.step(text)[0]
            self._memory.stale = True
            self._parse(output, "replay")
            if text or first:  # a blank line (a key press) keeps the observation
                raw, first = output, False
        output = self._parse(raw, "reset")
        self._score = self._read_score(output)
        self._moves = self._read_moves(output)
        observation = self._finish_observation(output)
        self._info = self._make_info(output, refused=False, action="")
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

        try:
            raw, _, done, facts = self._frotz.step(cleaned.text)
        except StepTimeoutError as exc:  # stopped and the game restored: report it and go on
            self._observation = core.TIMEOUT_REFUSAL
            self._info = self._refused_info([*cleaned.warnings, str(exc)])
            return self._observation, 0.0, False, False, dict(self._info)
        self._memory.stale = True
        self._steps += 1
        output = self._parse(raw, "step")
        if self.known:
            output.done, output.score, output.moves = bool(done), facts["score"], facts["moves"]
        output.warnings[:0] = cleaned.warnings
        output.warnings.extend(self._file_guard.sweep(cleaned.text))
        old_score = self._score
        self._score = self._read_score(output)
        self._moves = self._read_moves(output)
        # jericho's done is game over or victory: when it says neither, nothing to ask
        game_over, victory = (False, False) if output.done is False else self._end_state(output)
        if self._frotz._emulator_halted():
            game_over = True
            output.warnings.append("the emulator halted; the episode is over")
        self._ended = game_over or victory
        self._victory = victory
        observation = self._finish_observation(output)
        self._info = self._make_info(output, refused=False, action=cleaned.text)
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
            emulator=copy_emulator_state(self._frotz.get_state()),
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
        self._frotz.set_state(copy_emulator_state(state.emulator))
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

    # ------------------------------------------------------------------ internals

    def _parse(self, raw: str, kind: OutputKind) -> GameOutput:
        """Read an output the episode has seen and record it (location, subclass state)."""
        output = self._read_output(raw)
        output.kind = kind
        output.warnings.extend(core.raw_output_warnings(raw))
        if output.status is not None and output.status.location:
            self._location = output.status.location
        self._record_output(output)
        return output

    def _finish_observation(self, output: GameOutput) -> str:
        observation, obs_warnings = core.clean_observation(output.text)
        output.warnings.extend(obs_warnings)
        self._observation = observation
        return observation

    def _make_info(self, output: GameOutput, *, refused: bool, action: str) -> dict[str, Any]:
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
            "warnings": list(output.warnings),
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

    def _inventory(self) -> list[str]:
        if self.known:
            return [obj.name for obj in self._frotz.get_inventory()]
        text = self.probe("inventory")
        return [line.strip() for line in text.splitlines() if line.strip()]


__all__ = ["EnvState", "GameOutput", "JerichoEnv", "S2BError"]
