"""``JiminyCricketEnv``: the Jiminy Cricket games, with ground-truth morality labels every step."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from s2b_env.jericho import core
from s2b_env.jericho.env import JerichoEnv
from s2b_env.jericho.records import GameOutput
from s2b_env.jericho.valid_actions import ValidActionConfig
from s2b_env.jiminy.data import STARTING_PERCENTAGES, JiminyGame, fast_forward_length, load_game
from s2b_env.jiminy.labels import (
    LABEL_RULES,
    MoralityTracker,
    expand_compressed,
    label_sum,
    parse_markers,
)

#: The emulator seed of the benchmark (its walkthroughs and starting points assume it).
BENCHMARK_SEED = 1
#: The fixed reply to a command that matches one of the game's bad-action patterns.
BAD_ACTION_REFUSAL = "[That command is not available in this game.]"
#: How the score is read: ``auto`` (game memory where exact, else the probe), ``memory``, ``probe``.
SCORE_READINGS = ("auto", "memory", "probe")

#: Score globals found with :func:`score_global_candidates` on the walkthrough and checked against
#: the probe at every step (tests/s2b_env/jiminy/test_jiminy_env.py), keyed by game and story checksum.
#: Version-3 games whose status line shows the score need no entry: it is global 1 by the standard.
VERIFIED_SCORE_GLOBALS: dict[str, tuple[str, int]] = {
    "sherlock": ("sha256:9e8779c8a73d85aef7d9228b8c844a62fbdd2408cc6c69fc05ff95aab2ac796f", 14),
    "trinity": ("sha256:92a7919279ad4b1acdab1ded291ce54cbe461e01485264c4b7772b36054ba533", 37),
}

#: Globals holding the player's room (the object the game shows as the place) in games of version
#: 4 and later, where the Z-machine standard fixes none, keyed by game and story checksum. Found on
#: the walkthrough (the globals whose object's name is the room header of every step that shows
#: one; sherlock's globals 18 and 20 never differ there) and checked there by
#: tests/s2b_env/jiminy/test_jiminy_env.py. Version 1-3 games need no entry: it is global 0.
VERIFIED_LOCATION_GLOBALS: dict[str, tuple[str, int]] = {
    "sherlock": ("sha256:9e8779c8a73d85aef7d9228b8c844a62fbdd2408cc6c69fc05ff95aab2ac796f", 18),
    "trinity": ("sha256:92a7919279ad4b1acdab1ded291ce54cbe461e01485264c4b7772b36054ba533", 34),
}

_SCORE_FIELD = re.compile(r"Score:\s*(-?[0-9]+)")
_LEADING_BLANK = re.compile(r"\A(?:[ \t]*\n)+")
_LEADING_PROMPT = re.compile(r"\A>[ \t]*(?:\n|\Z)")


class JiminyCricketEnv(JerichoEnv):
    """A Jiminy Cricket game: an annotated Infocom story with morality labels every step.

    Made through the registry, e.g. ``gym.make("s2b/jiminy-zork1-v0", games_dir=...)``. The game's
    files are read from ``<games_dir>/jiminy-cricket/<game>/`` and its facts from
    ``<games_dir>/jiminy-cricket/games.json`` (format: ``FORMAT.md`` there), so any of the 25 games
    works given its folder. Same API as :class:`~s2b_env.jericho.env.JerichoEnv`, and:

    - markers are stripped from every observation, from :meth:`probe`'s answers and from
      ``info["inventory"]``; ``[RIDX: key]`` text is put back first;
    - the game's initial actions are played after each reset, and with
      ``reset(options={"starting_percentage": p})`` (p in 0, 20, 40, 60, 80) the first p percent of
      the walkthrough too; labels fired there do not count, but the filters remember them;
    - commands matching the game's bad-action patterns get :data:`BAD_ACTION_REFUSAL` and change
      nothing;
    - ``terminated`` is true after ``[EVENT: GAME OVER]`` or when jericho's Frotz reports the game
      over or won (as in the reference); ``victory`` when the game ends with its maximum score;
    - the score comes from the game's ``score_source``: the game's memory where that is exact
      (global 1 of version-3 status-line games, :data:`VERIFIED_SCORE_GLOBALS`), else the
      benchmark's probe (save, send ``look`` or ``score``, read, restore); reward-marker games sum
      their ``[RWD_ID]`` values, each once per episode; on the final step of games with
      ``final_score_from_last_observation`` the score is read from that step's own output.

    Extra ``info`` keys, on reset and every step:

    =========================  =================================================================
    ``morality``               ``[bad_others, bad_self, good_others, good_self]`` of the step,
                               after every filter (zeros on reset and refused steps)
    ``morality_events``        the annotations that counted: dicts with ``key``, ``description``,
                               ``label``, ``prso``, ``prsi``
    ``starting_percentage``    the episode's starting point
    =========================  =================================================================

    ``info["max_score"]`` is the game's maximum from ``games.json``.

    Args:
        game: The game's name, e.g. ``"zork1"`` (one of ``games.json``'s).
        games_dir: Games directory (default: ``S2B_GAMES_DIR``).
        starting_percentage: Default starting point of every episode (a reset option overrides).
        score_reading: ``"auto"``, ``"memory"`` (fail if no exact memory source is known) or
            ``"probe"`` (the benchmark's protocol every step, for comparison).
        label_rules: ``"reference"`` (default: labels as the benchmark's reference code counts
            them, equal to its published numbers) or ``"documented"`` (the filters as FORMAT.md
            describes them); see :class:`~s2b_env.jiminy.labels.MoralityTracker`.
        game_seed: Emulator seed; default :data:`BENCHMARK_SEED`, which the walkthroughs need.
        inventory: Add ``info["inventory"]`` every step.
        render_mode: ``"ansi"`` makes :meth:`render` return the last observation.

    Raises:
        DataError: The game is not in ``games.json`` or one of its files is malformed.
        GameNotFoundError: The games directory, the game's folder or a file is missing.
        ValueError: A bad ``score_reading`` or ``starting_percentage``.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 4}
    RESET_OPTIONS: ClassVar[tuple[str, ...]] = (*JerichoEnv.RESET_OPTIONS, "starting_percentage")

    def __init__(
        self,
        game: str,
        *,
        games_dir: str | Path | None = None,
        starting_percentage: int = 0,
        score_reading: str = "auto",
        label_rules: str = "reference",
        game_seed: int | None = None,
        inventory: bool = False,
        render_mode: str | None = None,
        valid_actions: bool | ValidActionConfig | dict = False,
        step_timeout: float | None = None,
    ) -> None:
        if score_reading not in SCORE_READINGS:
            raise ValueError(
                f"score_reading must be one of {SCORE_READINGS}, got {score_reading!r}"
            )
        if label_rules not in LABEL_RULES:
            raise ValueError(f"label_rules must be one of {LABEL_RULES}, got {label_rules!r}")
        self.jiminy: JiminyGame = load_game(game, games_dir)
        fast_forward_length(len(self.jiminy.walkthrough_lines), starting_percentage)
        self._default_start = starting_percentage
        self.facts = self.jiminy.facts
        super().__init__(
            game,
            story_file=self.jiminy.story_file,
            game_seed=game_seed,
            inventory=inventory,
            render_mode=render_mode,
            valid_actions=valid_actions,
            step_timeout=step_timeout,
        )
        self.max_score = self.facts.max_score
        self._walkthrough_seed = BENCHMARK_SEED
        #: How markers become labels: ``"reference"`` or ``"documented"`` (see MoralityTracker).
        self.label_rules = label_rules
        self._tracker = MoralityTracker(self.jiminy.annotations, rules=label_rules)
        self._location_global: int | None = None
        if self.header.version >= 4 and self.game in VERIFIED_LOCATION_GLOBALS:
            checksum, index = VERIFIED_LOCATION_GLOBALS[self.game]
            self._location_global = index if checksum == self.checksum else None
        self._rewards_seen: set[str] = set()
        self._reward_total = 0
        self._start = starting_percentage
        self._labels = [0, 0, 0, 0]
        self._events: list[dict[str, Any]] = []
        self._game_over = False
        #: The global variable the score is read from, or ``None`` when it is probed or summed.
        self.score_global = self._choose_score_global(score_reading)

    # ------------------------------------------------------------------ public API

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start a new episode.

        Options:
            starting_percentage (int): 0, 20, 40, 60 or 80: play that share of the walkthrough
                first (needs the benchmark's emulator seed).
            game_seed (int): emulator seed for this episode only.
        """
        options = dict(options or {})
        start = options.get("starting_percentage", self._default_start)
        if fast_forward_length(len(self.jiminy.walkthrough_lines), start):
            emulator_seed = options.get("game_seed") or self._game_seed or BENCHMARK_SEED
            if emulator_seed != BENCHMARK_SEED:
                raise ValueError(
                    f"starting_percentage {start} plays the walkthrough, which needs the "
                    f"benchmark's emulator seed {BENCHMARK_SEED}; got game_seed {emulator_seed}"
                )
        return super().reset(seed=seed, options=options)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Send one command; see :meth:`JerichoEnv.step`. ``info["morality"]`` is this step's."""
        self._labels = [0, 0, 0, 0]
        self._events = []
        return super().step(action)

    def walkthrough(self, route: str | None = None) -> list[str]:
        """The game's walkthrough (it reaches the end from reset with the benchmark's seed).

        Raises:
            ValueError: ``route`` is not ``None`` or ``"default"`` (there is one walkthrough).
        """
        if route not in (None, "default"):
            raise ValueError(f"game {self.game!r} has one walkthrough, 'default'; got {route!r}")
        return list(self.jiminy.walkthrough)

    def walkthrough_routes(self) -> list[str]:
        """The one route of :meth:`walkthrough`: ``["default"]``."""
        return ["default"]

    @property
    def start_commands(self) -> list[str]:
        """The lines every reset plays before the agent's first move: the initial actions file split
        on ``"\\n"`` as the reference reads it (sherlock: ``["LOOK", ""]``; blank ones are played as
        an empty input), before any fast-forward."""
        return list(self.jiminy.initial_lines)

    # ------------------------------------------------------------------ JerichoEnv hooks

    def _read_output(self, raw: str) -> GameOutput:
        # The compressed text is put back before anything else, the status line included.
        text, unknown = expand_compressed(raw, self.jiminy.replacements)
        notes = [f"no replacement text for [RIDX: {k}]" for k in unknown]
        body, status = self._split_status(text)
        parsed = parse_markers(body)
        body = parsed.text
        if body[:1] in (" ", "\t", "\n"):
            body = _LEADING_BLANK.sub("", body)
        return GameOutput(raw=raw, text=body, status=status, warnings=notes, data=(text, parsed))

    def _record_output(self, output: GameOutput) -> None:
        # Labels count on steps and on the start commands (the filters remember those; their
        # labels are discarded when the episode begins), not on the start-up text.
        parsed = output.data[1]
        self._game_over = parsed.game_over
        if output.kind == "reset":
            self._labels = [0, 0, 0, 0]
            self._events = []
        else:
            self._count(parsed.markers, parsed.rewards, output.warnings)

    def _read_score(self, output: GameOutput) -> int:
        source = self.facts.score_source
        if source.kind == "reward_markers":
            return self._reward_total
        if (
            self._game_over
            and output.kind == "step"
            and self.facts.final_score_from_last_observation
        ):
            final = self._final_score(output.data[0])
            if final is not None:
                return final
        if self.score_global is not None:
            return self.memory.global_value(self.score_global)
        return self._probe_score()

    def _current_location(self) -> str | None:
        if self._location_global is not None:
            location = self.memory.object_name(self.memory.global_value(self._location_global))
            location = location or None
        else:
            location = super()._current_location()
        # Object names of compressed games hold [RIDX] markers too (trinity's do).
        if location is not None and "[RIDX:" in location:
            location = expand_compressed(location, self.jiminy.replacements)[0] or None
        return location

    def _end_state(self, output: GameOutput) -> tuple[bool, bool]:
        # As the reference: the marker, or jericho's own end test (which, for these rebuilt
        # story files too, sees e.g. zork1's death that sends the player to the land of the dead).
        frotz = self.emulator
        over = self._game_over or bool(frotz.game_over()) or bool(frotz.victory())
        return over, over and self._score >= self.facts.max_score

    def _refusal(self, command: str) -> str | None:
        refusal = super()._refusal(command)
        if refusal is None and self.facts.is_bad_action(command):
            return BAD_ACTION_REFUSAL
        return refusal

    def _extra_info(self) -> dict[str, Any]:
        return {
            "morality": list(self._labels),
            "morality_events": [dict(e) for e in self._events],
            "starting_percentage": self._start,
        }

    def _refused_step_info(self) -> dict[str, Any]:
        return {"morality": [0, 0, 0, 0], "morality_events": []}

    def _extra_state(self) -> Any:
        return {
            "tracker": self._tracker.state(),
            "rewards_seen": set(self._rewards_seen),
            "reward_total": self._reward_total,
            "start": self._start,
            "labels": list(self._labels),
            "events": [dict(e) for e in self._events],
            "game_over": self._game_over,
        }

    def _restore_extra_state(self, extra: Any) -> None:
        self._tracker.restore(extra["tracker"])
        self._rewards_seen = set(extra["rewards_seen"])
        self._reward_total = extra["reward_total"]
        self._start = extra["start"]
        self._labels = list(extra["labels"])
        self._events = [dict(e) for e in extra["events"]]
        self._game_over = extra["game_over"]

    def _begin_episode(self, options: dict[str, Any]) -> list[str]:
        self._tracker.reset()
        self._rewards_seen = set()
        self._reward_total = 0
        self._labels = [0, 0, 0, 0]
        self._events = []
        self._game_over = False
        start = options.get("starting_percentage", self._default_start)
        n = fast_forward_length(len(self.jiminy.walkthrough_lines), start)  # checked by reset()
        self._start = start
        # Played like agent steps (the filters and rewards remember them), labels discarded; as
        # in the reference, every line is played, blank ones too (the game reads an empty input),
        # and the observation is the output of the last line that is not blank.
        return self.jiminy.initial_lines + self.jiminy.walkthrough_lines[:n]

    # ------------------------------------------------------------------ internals

    def _split_status(self, text: str) -> tuple[str, core.StatusLine | None]:
        """Remove the status line(s) by the game's ``status_line`` rule; parse the first one."""
        text = _LEADING_BLANK.sub("", text)
        rule = self.facts.status_line
        if rule == "leading_prompt":
            return _LEADING_PROMPT.sub("", text), None
        if rule == "none":
            return text, None
        marks = ("Score:", "Moves:") if rule == "score_moves" else (">", "Time:")
        if marks[1] not in text:
            return text, None
        first, _, rest = text.partition("\n")
        if self._is_status(first, rule) and marks[1] not in rest:  # the usual case
            return rest, _status_fields(first, rule)
        status = None
        kept = []
        for line in text.split("\n"):
            if self._is_status(line, rule):
                if status is None:
                    status = _status_fields(line, rule)
            else:
                kept.append(line)
        return "\n".join(kept), status

    @staticmethod
    def _is_status(line: str, rule: str) -> bool:
        if rule == "time":
            return line.startswith(">") and "Time:" in line
        return "Score:" in line and "Moves:" in line

    def _count(self, markers: list, rewards: list[tuple[str, int]], notes: list[str]) -> None:
        if not markers and not rewards:
            self._labels = [0, 0, 0, 0]
            self._events = []
            return
        annotations, fired, unknown = self._tracker.counted(markers)
        self._labels = label_sum(annotations)
        self._events = [
            {
                "key": a.key,
                "description": a.description,
                "label": list(a.label),
                "prso": m.prso,
                "prsi": m.prsi,
            }
            for a, m in zip(annotations, fired, strict=True)
        ]
        notes.extend(f"marker {k!r} has no annotation row; ignored" for k in unknown)
        for key, value in rewards:
            if key not in self._rewards_seen:
                self._rewards_seen.add(key)
                self._reward_total += value

    def _final_score(self, text: str) -> int | None:
        source = self.facts.score_source
        pattern = source.pattern if source.kind == "regex" else source.final_pattern
        if pattern is not None:
            values = [m.group(1) for m in pattern.finditer(text)]
        else:  # the last status line the final output shows
            values = [m.group(1) for m in _SCORE_FIELD.finditer(text)][::-1]
        for value in values:
            if value.strip().lstrip("-").isdigit():
                return int(value)
        return None

    def _probe_score(self) -> int:
        """The benchmark's probe: the score the probe command shows, from a restored state."""
        source = self.facts.score_source
        raw = self.probe_raw(source.probe_action)
        text, _ = expand_compressed(raw, self.jiminy.replacements)
        pattern = source.pattern if source.kind == "regex" else _SCORE_FIELD
        for match in pattern.finditer(text):
            value = match.group(1).strip()
            if value.lstrip("-").isdigit():
                return int(value)
        return self._score

    def _choose_score_global(self, reading: str) -> int | None:
        kind = self.facts.score_source.kind
        if kind == "reward_markers" or reading == "probe":
            return None
        found: int | None = None
        if kind == "status_line" and self.header.version <= 3 and not self.header.status_is_time:
            found = 1
        elif self.game in VERIFIED_SCORE_GLOBALS:
            checksum, index = VERIFIED_SCORE_GLOBALS[self.game]
            found = index if checksum == self.checksum else None
        if found is None and reading == "memory":
            raise ValueError(
                f"score_reading='memory': no exact memory source of {self.game}'s score is known "
                "(it is not a version-3 status-line game and not in VERIFIED_SCORE_GLOBALS); "
                "use 'auto' or 'probe'"
            )
        return found


def _status_fields(line: str, rule: str) -> core.StatusLine:
    """The location, score and moves of a status line (``None`` for what it does not show)."""
    if rule == "time":
        return core.StatusLine(line.lstrip("> ").split("Time:")[0].strip(), None, None)
    head, _, tail = line.partition("Score:")
    score_text, _, moves_text = tail.partition("Moves:")
    score, moves = score_text.split()[:1], moves_text.split()[:1]
    return core.StatusLine(
        location=head.strip().lstrip(">").strip(),
        score=int(score[0]) if score and score[0].lstrip("-").isdigit() else None,
        moves=int(moves[0]) if moves and moves[0].lstrip("-").isdigit() else None,
    )


def score_global_candidates(
    game: str, games_dir: str | Path | None = None, *, commands: list[str] | None = None
) -> tuple[list[int], list[int]]:
    """Find the globals that hold a game's score, by playing commands with the probe.

    Plays ``commands`` (default: the walkthrough) in probe mode and keeps the global variables
    (0-239) whose value equals the probed score after every step before the game ends. Use it to
    add a game to :data:`VERIFIED_SCORE_GLOBALS` (with the story file's checksum).

    Returns:
        The candidate global indices, and the probed score after each step.
    """
    env = JiminyCricketEnv(game, games_dir=games_dir, score_reading="probe")
    try:
        env.reset()
        candidates = set(range(240))
        scores = []
        for command in env.walkthrough() if commands is None else commands:
            _, _, terminated, _, info = env.step(command)
            scores.append(info["score"])
            if terminated:
                break
            candidates = {i for i in candidates if env.memory.global_value(i) == info["score"]}
        return sorted(candidates), scores
    finally:
        env.close()


__all__ = [
    "BAD_ACTION_REFUSAL",
    "BENCHMARK_SEED",
    "SCORE_READINGS",
    "STARTING_PERCENTAGES",
    "VERIFIED_LOCATION_GLOBALS",
    "VERIFIED_SCORE_GLOBALS",
    "JiminyCricketEnv",
    "score_global_candidates",
]
