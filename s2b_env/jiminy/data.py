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
from pathlib import Path

from s2b_env.errors import DataError, GameNotFoundError, read_text
from s2b_env.games import STORY_SUFFIXES
from s2b_env.jiminy.facts import (
    JIMINY_FOLDER,
    GameFacts,
    ScoreSource,
    game_names,
    games_json_path,
    load_game_facts,
    read_games_json,
)

#: The components of a label vector, in order.
LABEL_COMPONENTS: tuple[str, ...] = ("bad_others", "bad_self", "good_others", "good_self")
#: The benchmark's starting points, in percent of the walkthrough's lines.
STARTING_PERCENTAGES: tuple[int, ...] = (0, 20, 40, 60, 80)
#: The Python Filters keywords with a meaning; annotations with any other keyword never count.
FILTER_KEYWORDS: tuple[str, ...] = ("only-first", "ignore-first", "delete-next", "taken")

_VISITED = re.compile(r"^(?P<key>[^:\s]+:[0-9]+(?:\([a-z]\))?)-visited$")

# ---------------------------------------------------------------------------- annotations


@dataclass(frozen=True)
class Annotation:
    """One row of an annotations CSV that labels an event.

    Attributes:
        key: ``<file without extension>:<line>``, as the ``[ID: ...]`` marker carries it.
        label: ``(bad_others, bad_self, good_others, good_self)``, each the sum of its tiers.
        keywords: The Python Filters keywords, as FORMAT.md reads them (split on commas and
            newlines, stripped).
        description: What happened, in the annotators' words.
        line: The row's first line in the CSV file.
        filters: The Python Filters cell as the reference code reads it: split on ``", "``
            exactly (``("",)`` for an empty cell); only these exact words have a meaning there.
    """

    key: str
    label: tuple[int, int, int, int]
    keywords: tuple[str, ...] = ()
    description: str = ""
    line: int = 0
    filters: tuple[str, ...] = ("",)

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
        does :class:`~s2b_env.jiminy.labels.MoralityTracker`.
        """
        return tuple(w for w in self.keywords if w not in FILTER_KEYWORDS and not _VISITED.match(w))


def annotation_key(file_cell: str, line_cell: str) -> str:
    """The marker key of a CSV row: the File without its extension, a colon, the Line."""
    return f"{file_cell.strip().split('.')[0]}:{line_cell.strip()}"


def parse_morality(cell: str) -> tuple[int, int, int, int]:
    """Parse a Morality cell: lines ``category, target, tier``, or ``ancillary`` (all zeros).

    As in the reference code, the lines after an ``ancillary`` one are not read.

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
            break
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


def _check_header(path: Path, header: list[str] | None) -> None:
    """An annotations table starts with a header whose first two columns are File and Line.

    The other columns' names vary between the benchmark's games (``Neighboring text``, ``Morality
    [bad-others, ...]``, ``Keywords``, a merged ``Conditioning Morality Python Filters``); like the
    reference code, the loader reads the columns by position and ignores their names.
    """
    if header is None or not any(h.strip() for h in header):
        raise DataError(path, "the file is empty; expected a header row", line=1)
    first = [h.strip().lower() for h in header[:2]]
    if first != ["file", "line"]:
        raise DataError(
            path,
            "expected an annotations table: a header whose first two columns are File and Line "
            f"(then Neighboring text, Description, Review, Conditioning, Morality, Python "
            f"Filters); got {', '.join(h.strip() for h in header[:8])}",
            line=1,
        )


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
        _check_header(path, next(reader, None))
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
                filters=tuple(row[7].split(", ")) if len(row) > 7 else ("",),
            )
    except csv.Error as exc:
        raise DataError(path, f"malformed CSV: {exc}", line=reader.line_num) from exc
    if not found:
        raise DataError(path, "no annotation rows (rows with a Line and a Morality)", line=2)
    return found


# ---------------------------------------------------------------------------- other game files


def load_replacements(path: str | Path) -> dict[str, str]:
    """Read ``replacement_dict.csv``: rows ``key,text`` (an optional ``key,text`` header is skipped).

    As in the reference code, columns after the second are ignored and a later row with the same
    key replaces an earlier one.

    Raises:
        GameNotFoundError: The file does not exist.
        DataError: A row has fewer than two columns.
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
            if len(row) < 2:
                raise DataError(path, f"expected 2 columns (key, text), got {len(row)}", line=line)
            found[row[0].strip()] = row[1]
    except csv.Error as exc:
        raise DataError(path, f"malformed CSV: {exc}", line=reader.line_num) from exc
    return found


def read_walkthrough_lines(path: str | Path) -> list[str]:
    """Read a walkthrough or initial-actions file as the reference code does: its text split on
    ``"\\n"``, every line kept (blank lines and the empty string after a final newline included),
    each stripped of surrounding white space."""
    path = Path(path)
    if not path.is_file():
        raise GameNotFoundError(f"commands file {str(path)!r} does not exist (see FORMAT.md)")
    return [line.strip() for line in read_text(path).split("\n")]


def load_commands(path: str | Path) -> list[str]:
    """Read a walkthrough or initial-actions file: one command a line, blank lines skipped."""
    return [line for line in read_walkthrough_lines(path) if line]


def fast_forward_length(n_lines: int, starting_percentage: int) -> int:
    """How many walkthrough lines a start at ``starting_percentage`` plays first.

    As the benchmark's reference code: ``int(n_lines * p / 100)``, where ``n_lines`` counts every
    line of the walkthrough file split on ``"\\n"`` (:func:`read_walkthrough_lines`), blank ones
    and the empty string after a final newline included.

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
    return int(n_lines * float(starting_percentage) / 100)


@dataclass(frozen=True)
class JiminyGame:
    """Everything on disk about one game: its facts and files, loaded and checked.

    Made by :func:`load_game`.
    """

    facts: GameFacts
    folder: Path
    story_file: Path
    annotations: dict[str, Annotation]
    walkthrough_lines: list[str]
    initial_lines: list[str] = field(default_factory=list)
    replacements: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.facts.name

    @property
    def walkthrough(self) -> list[str]:
        """The walkthrough's commands (its non-blank lines)."""
        return [line for line in self.walkthrough_lines if line]

    @property
    def initial_actions(self) -> list[str]:
        """The initial actions' commands (non-blank lines)."""
        return [line for line in self.initial_lines if line]


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
        walkthrough_lines=read_walkthrough_lines(folder / f"{name}_walkthrough.txt"),
        initial_lines=read_walkthrough_lines(initial) if initial.is_file() else [],
        replacements=load_replacements(folder / "replacement_dict.csv")
        if facts.compressed_text
        else {},
    )


__all__ = [
    "FILTER_KEYWORDS",
    "JIMINY_FOLDER",
    "LABEL_COMPONENTS",
    "STARTING_PERCENTAGES",
    "Annotation",
    "GameFacts",
    "JiminyGame",
    "ScoreSource",
    "fast_forward_length",
    "game_folder",
    "game_names",
    "games_json_path",
    "load_annotations",
    "load_commands",
    "load_game",
    "load_game_facts",
    "load_replacements",
    "read_games_json",
    "read_walkthrough_lines",
]
