"""The Jiminy Cricket per-game facts: ``<games_dir>/jiminy-cricket/games.json``, read and checked.

The format is described in ``<games_dir>/jiminy-cricket/FORMAT.md``. Every problem is a
:class:`~s2b_env.errors.DataError` naming the file, the entry's line and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from s2b_env.errors import DataError, GameNotFoundError, parse_json, read_text
from s2b_env.games import resolve_games_dir

#: The folder of a games directory that holds the Jiminy Cricket games.
JIMINY_FOLDER = "jiminy-cricket"
STATUS_LINE_KINDS = ("score_moves", "time", "leading_prompt", "none")
SCORE_KINDS = ("status_line", "regex", "reward_markers")

# ---------------------------------------------------------------------------- games.json


@dataclass(frozen=True)
class ScoreSource:
    """Where a game's score comes from (``score_source`` in ``games.json``).

    Attributes:
        kind: ``"status_line"``, ``"regex"`` or ``"reward_markers"``.
        probe_action: The command whose output shows the score (``look`` or ``score``).
        pattern: For ``regex``: its first group is the score.
        final_pattern: For ``status_line`` games: the pattern to read the final observation with.
        moves_is_clock: The status line's Moves field is a clock.
    """

    kind: str
    probe_action: str | None = None
    pattern: re.Pattern[str] | None = None
    final_pattern: re.Pattern[str] | None = None
    moves_is_clock: bool = False


@dataclass(frozen=True)
class GameFacts:
    """One game's entry of ``games.json``, checked.

    Attributes:
        name: The game's name (its folder's name).
        max_score: The maximum score, for percent completion.
        player_object: The object that stands for the player.
        status_line: ``"score_moves"``, ``"time"``, ``"leading_prompt"`` or ``"none"``.
        score_source: Where the score comes from.
        final_score_from_last_observation: Read the final step's score from its observation.
        compressed_text: The story prints ``[RIDX: key]`` markers to expand.
        bad_actions: Patterns (common and game-specific) of commands that never reach the game.
    """

    name: str
    max_score: int
    player_object: str
    status_line: str
    score_source: ScoreSource
    final_score_from_last_observation: bool
    compressed_text: bool
    bad_actions: tuple[re.Pattern[str], ...]

    def is_bad_action(self, command: str) -> bool:
        """Whether ``command`` (any case) matches one of the bad-action patterns."""
        if self._bad_action is None:
            return False
        return self._bad_action.search(command.lower()) is not None

    @cached_property
    def _bad_action(self) -> re.Pattern[str] | None:
        if not self.bad_actions:
            return None
        return re.compile("|".join(f"(?:{p.pattern})" for p in self.bad_actions))


def games_json_path(games_dir: str | Path | None = None) -> Path:
    """``<games_dir>/jiminy-cricket/games.json`` (``games_dir`` defaults to ``S2B_GAMES_DIR``)."""
    root = resolve_games_dir(games_dir)
    assert root is not None  # required=True raises instead
    return root / JIMINY_FOLDER / "games.json"


def read_games_json(path: str | Path) -> dict[str, Any]:
    """Read ``games.json`` as JSON and check its top-level shape.

    Raises:
        GameNotFoundError: The file does not exist.
        DataError: It is not JSON, or lacks the ``games`` object.
    """
    path = Path(path)
    if not path.is_file():
        raise GameNotFoundError(
            f"Jiminy Cricket facts file {str(path)!r} does not exist; the games directory must "
            f"hold {JIMINY_FOLDER}/games.json (see FORMAT.md)"
        )
    text = read_text(path)
    data = parse_json(path, text)
    if not isinstance(data, dict) or not isinstance(data.get("games"), dict):
        raise DataError(path, "expected an object with a 'games' object", field="games")
    if not isinstance(data.get("common_bad_actions", []), list):
        raise DataError(path, "expected a list of regular expressions", field="common_bad_actions")
    data["_text"] = text
    return data


def game_names(games_json: str | Path) -> tuple[str, ...]:
    """The names of the games ``games_json`` describes, sorted."""
    data = read_games_json(games_json)
    return tuple(sorted(data["games"]))


def load_game_facts(name: str, games_json: str | Path) -> GameFacts:
    """Read and check the entry of game ``name`` in ``games_json``.

    Raises:
        DataError: ``name`` is not in the file (the error lists the names that are), or one of its
            fields is missing or malformed (the error names the field and the entry's line).
    """
    path = Path(games_json)
    data = read_games_json(path)
    games = data["games"]
    text: str = data["_text"]
    if name not in games:
        raise DataError(
            path,
            f"unknown Jiminy Cricket game {name!r}; it describes {', '.join(sorted(games))}",
            field="games",
            fix="use one of those names, or add the game's facts to games.json",
        )
    at = text.find(f'"{name}":')
    line = text.count("\n", 0, at) + 1 if at >= 0 else None
    entry = games[name]
    where = f"games.{name}"

    def bad(key: str, message: str) -> DataError:
        return DataError(path, message, line=line, field=f"{where}.{key}")

    if not isinstance(entry, dict):
        raise DataError(
            path, f"expected an object, got {type(entry).__name__}", line=line, field=where
        )

    def get(key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if key not in entry:
            if default is ...:
                raise bad(key, "missing")
            return default
        value = entry[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise bad(key, f"expected {getattr(kind, '__name__', kind)}, got {value!r}")
        return value

    max_score = get("max_score", int)
    if max_score <= 0:
        raise bad("max_score", f"expected a positive int, got {max_score}")
    status_line = get("status_line", str)
    if status_line not in STATUS_LINE_KINDS:
        raise bad("status_line", f"expected one of {STATUS_LINE_KINDS}, got {status_line!r}")
    source = get("score_source", dict)
    kind = source.get("kind")
    if kind not in SCORE_KINDS:
        raise bad("score_source.kind", f"expected one of {SCORE_KINDS}, got {kind!r}")
    probe = source.get("probe_action")
    if kind != "reward_markers" and not (isinstance(probe, str) and probe.strip()):
        raise bad(
            "score_source.probe_action", f"expected a command for kind {kind!r}, got {probe!r}"
        )

    def pattern(key: str, required: bool) -> re.Pattern[str] | None:
        value = source.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise bad(f"score_source.{key}", f"expected a regular expression, got {value!r}")
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise bad(f"score_source.{key}", f"bad regular expression {value!r}: {exc}") from exc
        if compiled.groups < 1:
            raise bad(f"score_source.{key}", f"expected a group for the score in {value!r}")
        return compiled

    bad_actions = []
    for key, patterns in (
        ("common_bad_actions", data.get("common_bad_actions", [])),
        (f"{where}.game_specific_bad_actions", get("game_specific_bad_actions", list, [])),
    ):
        for i, value in enumerate(patterns):
            try:
                bad_actions.append(re.compile(value))
            except (re.error, TypeError) as exc:
                raise DataError(
                    path, f"bad regular expression {value!r}: {exc}", field=f"{key}[{i}]"
                ) from exc
    return GameFacts(
        name=name,
        max_score=max_score,
        player_object=get("player_object", str, ""),
        status_line=status_line,
        score_source=ScoreSource(
            kind=kind,
            probe_action=probe.strip() if isinstance(probe, str) else None,
            pattern=pattern("pattern", kind == "regex"),
            final_pattern=pattern("final_pattern", False),
            moves_is_clock=bool(source.get("moves_is_clock", False)),
        ),
        final_score_from_last_observation=get("final_score_from_last_observation", bool, False),
        compressed_text=get("compressed_text", bool, False),
        bad_actions=tuple(bad_actions),
    )


__all__ = [
    "JIMINY_FOLDER",
    "SCORE_KINDS",
    "STATUS_LINE_KINDS",
    "GameFacts",
    "ScoreSource",
    "game_names",
    "games_json_path",
    "load_game_facts",
    "read_games_json",
]
