"""The Jiminy Cricket data: per-game facts, morality annotations and the other game files.

Everything here is pure data handling, with no emulator: reading ``games.json``, a game's
``<game>_annotations.csv``, ``replacement_dict.csv``, walkthrough and initial actions (the format is
described in ``<games_dir>/jiminy-cricket/FORMAT.md``). :mod:`s2b_env.jiminy.labels` finds the
markers and applies the filters; :class:`s2b_env.jiminy.env.JiminyCricketEnv` puts these together
with the emulator.

Every problem with a data file is a :class:`~s2b_env.errors.DataError` naming the file, the line and
the field.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from s2b_env.errors import DataError, GameNotFoundError, parse_json, read_text
from s2b_env.games import STORY_SUFFIXES, resolve_games_dir

#: The folder of a games directory that holds the Jiminy Cricket games.
JIMINY_FOLDER = "jiminy-cricket"
#: The components of a label vector, in order.
LABEL_COMPONENTS: tuple[str, ...] = ("bad_others", "bad_self", "good_others", "good_self")
#: The benchmark's starting points, in percent of the walkthrough's commands.
STARTING_PERCENTAGES: tuple[int, ...] = (0, 20, 40, 60, 80)
#: The Python Filters keywords with a meaning; annotations with any other keyword never count.
FILTER_KEYWORDS: tuple[str, ...] = ("only-first", "ignore-first", "delete-next", "taken")

STATUS_LINE_KINDS = ("score_moves", "time", "leading_prompt", "none")
SCORE_KINDS = ("status_line", "regex", "reward_markers")
_HEADER = ("file", "line", "neighboring text", "description", "review", "conditioning", "morality")
_VISITED = re.compile(r"^(?P<key>[^:\s]+:[0-9]+(?:\([a-z]\))?)-visited$")

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


# ---------------------------------------------------------------------------- annotations


@dataclass(frozen=True)
class Annotation:
    """One row of an annotations CSV that labels an event.

    Attributes:
        key: ``<file without extension>:<line>``, as the ``[ID: ...]`` marker carries it.
        label: ``(bad_others, bad_self, good_others, good_self)``, each the sum of its tiers.
        keywords: The Python Filters keywords.
        description: What happened, in the annotators' words.
        line: The row's first line in the CSV file.
    """

    key: str
    label: tuple[int, int, int, int]
    keywords: tuple[str, ...] = ()
    description: str = ""
    line: int = 0

    @property
    def file(self) -> str:
        """The source file the key names (``"verbs"`` for the generic verb handlers)."""
        return self.key.split(":", 1)[0]

    @property
    def visited_key(self) -> str | None:
        """For a ``<key>-visited`` filter, the key that must have fired before, else ``None``."""
        for word in self.keywords:
            match = _VISITED.match(word)
            if match:
                return match.group("key")
        return None

    @property
    def unknown_keywords(self) -> tuple[str, ...]:
        """Keywords with no meaning in FORMAT.md (such as ``verb:alarm``).

        The benchmark's reference code lets no marker with such a keyword through, and neither
        does :class:`MoralityTracker`.
        """
        return tuple(w for w in self.keywords if w not in FILTER_KEYWORDS and not _VISITED.match(w))


def annotation_key(file_cell: str, line_cell: str) -> str:
    """The marker key of a CSV row: the File without its extension, a colon, the Line."""
    return f"{file_cell.strip().split('.')[0]}:{line_cell.strip()}"


def parse_morality(cell: str) -> tuple[int, int, int, int]:
    """Parse a Morality cell: lines ``category, target, tier``, or ``ancillary`` (all zeros).

    Raises:
        ValueError: Saying which line of the cell is malformed and what was expected.
    """
    label = [0, 0, 0, 0]
    lines = [x.strip() for x in cell.replace("\r", "").split("\n") if x.strip()]
    if not lines:
        raise ValueError(
            "expected lines 'category, target, tier' or 'ancillary', got an empty cell"
        )
    for text in lines:
        if text.lower() == "ancillary":
            continue
        parts = [p.strip().lower() for p in text.split(",")]
        if len(parts) != 3:
            raise ValueError(f"expected 'category, target, tier' (3 parts), got {text!r}")
        category, target, tier = parts
        if category not in ("bad", "good"):
            raise ValueError(f"expected category 'bad' or 'good', got {category!r} in {text!r}")
        if target not in ("others", "self"):
            raise ValueError(f"expected target 'others' or 'self', got {target!r} in {text!r}")
        if tier not in ("1", "2", "3"):
            raise ValueError(f"expected tier 1, 2 or 3, got {tier!r} in {text!r}")
        label[(0 if category == "bad" else 2) + (0 if target == "others" else 1)] += int(tier)
    return (label[0], label[1], label[2], label[3])


def _keywords(cell: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in re.split(r"[,\n]", cell) if w.strip())


def load_annotations(path: str | Path) -> dict[str, Annotation]:
    """Read a game's annotations CSV (see FORMAT.md).

    A row is an annotation when its Line is non-empty and its Morality is not ``N/A``; other rows
    (file separators, notes) are skipped. When two rows share a key, the later one wins, as in the
    benchmark's reference code.

    Returns:
        Annotations by marker key, in file order.

    Raises:
        GameNotFoundError: The file does not exist.
        DataError: The file is empty, is not UTF-8 CSV, has the wrong header, or a row has a
            malformed Morality cell (naming the row's line and the field).
    """
    path = Path(path)
    if not path.is_file():
        raise GameNotFoundError(f"annotations file {str(path)!r} does not exist (see FORMAT.md)")
    text = read_text(path, encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise DataError(path, "the file is empty; expected a header row", line=1)
        names = tuple(h.strip().lower() for h in header[: len(_HEADER)])
        if names != _HEADER:
            raise DataError(
                path,
                f"expected the header to start with {', '.join(h.title() for h in _HEADER)}; "
                f"got {', '.join(h.strip() for h in header[: len(_HEADER)])}",
                line=1,
            )
        found: dict[str, Annotation] = {}
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if len(row) < 2 or not row[1].strip():
                continue
            morality = row[6].strip() if len(row) > 6 else ""
            if morality.upper() == "N/A":
                continue
            if not row[0].strip():
                raise DataError(
                    path,
                    f"expected a source file name for Line {row[1]!r}",
                    line=line,
                    field="File",
                )
            try:
                label = parse_morality(morality)
            except ValueError as exc:
                raise DataError(path, str(exc), line=line, field="Morality") from exc
            key = annotation_key(row[0], row[1])
            found[key] = Annotation(
                key=key,
                label=label,
                keywords=_keywords(row[7]) if len(row) > 7 else (),
                description=" ".join(row[3].split()) if len(row) > 3 else "",
                line=line,
            )
    except csv.Error as exc:
        raise DataError(path, f"malformed CSV: {exc}", line=reader.line_num) from exc
    if not found:
        raise DataError(path, "no annotation rows (rows with a Line and a Morality)", line=2)
    return found


# ---------------------------------------------------------------------------- other game files


def load_replacements(path: str | Path) -> dict[str, str]:
    """Read ``replacement_dict.csv``: rows ``key,text`` (an optional ``key,text`` header is skipped).

    Raises:
        GameNotFoundError: The file does not exist.
        DataError: A row does not have exactly two columns, or a key repeats.
    """
    path = Path(path)
    if not path.is_file():
        raise GameNotFoundError(
            f"replacement file {str(path)!r} does not exist; games.json marks the game as "
            "compressed_text, so its folder must hold replacement_dict.csv"
        )
    text = read_text(path, encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    found: dict[str, str] = {}
    start = 1
    try:
        for row in reader:
            line, start = start, reader.line_num + 1
            if line == 1 and [c.strip().lower() for c in row] == ["key", "text"]:
                continue
            if not row:
                continue
            if len(row) != 2:
                raise DataError(path, f"expected 2 columns (key, text), got {len(row)}", line=line)
            key = row[0].strip()
            if not key:
                raise DataError(path, "expected a key, got an empty cell", line=line, field="key")
            if key in found:
                raise DataError(path, f"key {key!r} appears twice", line=line, field="key")
            found[key] = row[1]
    except csv.Error as exc:
        raise DataError(path, f"malformed CSV: {exc}", line=reader.line_num) from exc
    return found


def load_commands(path: str | Path) -> list[str]:
    """Read a walkthrough or initial-actions file: one command a line, blank lines skipped."""
    path = Path(path)
    if not path.is_file():
        raise GameNotFoundError(f"commands file {str(path)!r} does not exist (see FORMAT.md)")
    return [line.strip() for line in read_text(path).splitlines() if line.strip()]


def fast_forward_length(n_commands: int, starting_percentage: int) -> int:
    """How many walkthrough commands a start at ``starting_percentage`` plays first.

    Raises:
        TypeError: ``starting_percentage`` is not an int.
        ValueError: It is not one of :data:`STARTING_PERCENTAGES`.
    """
    if isinstance(starting_percentage, bool) or not isinstance(starting_percentage, int):
        raise TypeError(
            f"starting_percentage must be an int, got {type(starting_percentage).__name__}: "
            f"{starting_percentage!r}"
        )
    if starting_percentage not in STARTING_PERCENTAGES:
        raise ValueError(
            f"starting_percentage must be one of {STARTING_PERCENTAGES}, got {starting_percentage}"
        )
    return n_commands * starting_percentage // 100


@dataclass(frozen=True)
class JiminyGame:
    """Everything on disk about one game: its facts and files, loaded and checked.

    Made by :func:`load_game`.
    """

    facts: GameFacts
    folder: Path
    story_file: Path
    annotations: dict[str, Annotation]
    walkthrough: list[str]
    initial_actions: list[str] = field(default_factory=list)
    replacements: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.facts.name


def game_folder(name: str, games_dir: str | Path | None = None) -> Path:
    """``<games_dir>/jiminy-cricket/<name>``."""
    return games_json_path(games_dir).parent / name


def load_game(name: str, games_dir: str | Path | None = None) -> JiminyGame:
    """Load game ``name`` from ``<games_dir>/jiminy-cricket/``.

    Raises:
        DataError: ``name`` is not in ``games.json``, or a data file is malformed.
        GameNotFoundError: The directory, the game's folder or one of its files is missing.
    """
    facts = load_game_facts(name, games_json_path(games_dir))
    folder = game_folder(name, games_dir)
    if not folder.is_dir():
        raise GameNotFoundError(
            f"games.json describes {name!r} but there is no folder {str(folder)!r}; copy the "
            "game's folder of the Jiminy Cricket benchmark there"
        )
    stories = [folder / f"{name}{s}" for s in STORY_SUFFIXES if (folder / f"{name}{s}").is_file()]
    if not stories:
        raise GameNotFoundError(f"no story file {name}.z1 ... {name}.z8 in {str(folder)!r}")
    initial = folder / "initial_actions.txt"
    return JiminyGame(
        facts=facts,
        folder=folder,
        story_file=stories[0],
        annotations=load_annotations(folder / f"{name}_annotations.csv"),
        walkthrough=load_commands(folder / f"{name}_walkthrough.txt"),
        initial_actions=load_commands(initial) if initial.is_file() else [],
        replacements=load_replacements(folder / "replacement_dict.csv")
        if facts.compressed_text
        else {},
    )


__all__ = [
    "FILTER_KEYWORDS",
    "LABEL_COMPONENTS",
    "STARTING_PERCENTAGES",
    "Annotation",
    "GameFacts",
    "JiminyGame",
    "ScoreSource",
    "fast_forward_length",
    "game_names",
    "load_annotations",
    "load_commands",
    "load_game",
    "load_game_facts",
    "load_replacements",
]
