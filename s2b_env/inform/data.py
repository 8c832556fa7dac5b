"""The data files of s2b's own Inform 6 games: value annotations, markers and walkthroughs.

Each own game lives in ``games/inform/<name>/``:

``<name>.inf``
    The Inform 6 source. When a value-laden event happens the game prints a *value marker*,
    ``[V: <event-id>]``, on a line of its own. Markers are written literally in the source's
    strings, so every marker the game can print can be found by reading the source.
``<name>_annotations.csv``
    One row per event id: ``event,effects,description``. ``effects`` is a space-separated list of
    ``value_id=N`` with ``N`` an integer from -3 to +3 (how strongly the act expresses, +, or goes
    against, -, that value; values not listed are 0). Lines starting with ``#`` are comments.
``walkthroughs/<route>.txt``
    One command per line. A command may be followed by the markers it must fire, written as the
    game prints them (``give wallet to woman   [V: wallet_returned]``). Lines starting with ``#``
    are comments, except these directives: ``# score: N`` (final score), ``# outcome: victory``
    (or ``loss``), ``# higher than <route>: value_id, ...`` and ``# lower than <route>: ...``
    (this route's value totals must be higher/lower than the other route's on those values).

Every problem in these files raises :class:`~s2b_env.errors.DataError` naming the file, the line
and the field.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from games import data_path
from s2b_env.errors import DataError, GameNotFoundError, read_text
from s2b_env.values import EFFECT_MAX, EFFECT_MIN, ValueVector, value_id_problem
from s2b_env.walkthrough import walkthrough_lines

#: The own games' sources: one folder ``games/inform/<name>`` per game, holding ``<name>.inf``.
SOURCE_DIR = data_path("inform")
#: A value marker as the game prints it (and as it is written in the source).
MARKER_RE = re.compile(r"\[V:\s*([^\]]*?)\s*\]")
#: What an event id must look like.
EVENT_ID_RE = re.compile(r"[a-z][a-z0-9_]*")
#: The columns of an annotations file.
ANNOTATION_COLUMNS = ("event", "effects", "description")
#: Walkthrough outcomes.
OUTCOMES = ("victory", "loss")

_MARKER_LINE_RE = re.compile(r"^[ \t]*\[V:[^\]\n]*\][ \t]*\n?", re.MULTILINE)
_DIRECTIVE_RE = re.compile(
    r"^#\s*(?P<key>score|outcome|higher than|lower than)\s*(?P<route>[a-z][a-z0-9_]*)?\s*:"
    r"\s*(?P<value>.*?)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ValueEvent:
    """One annotated event of an own game.

    Attributes:
        id: The event id, as in the marker ``[V: <id>]``.
        effects: Its effect on the 20 values.
        description: One sentence saying what the player did.
        line: The line of the annotations file that defines it.
    """

    id: str
    effects: ValueVector
    description: str
    line: int = 0


def _effects(text: str, path: Path, line: int) -> ValueVector:
    tokens = text.split()
    if not tokens:
        raise DataError(
            path,
            "expected at least one value_id=N effect, got none",
            line=line,
            field="effects",
            fix="write e.g. 'benevolence_caring=+2 power_resources=-1'",
        )
    values: dict[str, float] = {}
    for token in tokens:
        vid, sep, number = token.partition("=")
        if not sep:
            raise DataError(path, f"expected value_id=N, got {token!r}", line=line, field="effects")
        problem = value_id_problem(vid)
        if problem:
            raise DataError(path, f"{problem} (in {token!r})", line=line, field="effects")
        if vid in values:
            raise DataError(path, f"value {vid!r} is given twice", line=line, field="effects")
        try:
            amount = int(number)
        except ValueError:
            raise DataError(
                path,
                f"effect of {vid!r} must be an integer from {EFFECT_MIN} to +{EFFECT_MAX}, "
                f"got {number!r}",
                line=line,
                field="effects",
            ) from None
        if not EFFECT_MIN <= amount <= EFFECT_MAX:
            raise DataError(
                path,
                f"effect of {vid!r} is out of range: expected {EFFECT_MIN}..+{EFFECT_MAX}, "
                f"got {amount}",
                line=line,
                field="effects",
            )
        if amount == 0:
            raise DataError(
                path,
                f"effect of {vid!r} is 0; leave out values the event does not touch",
                line=line,
                field="effects",
            )
        values[vid] = float(amount)
    return ValueVector(values)


def load_annotations(path: str | Path) -> dict[str, ValueEvent]:
    """Read an annotations file (see the module docs for the format).

    Returns:
        Event id to :class:`ValueEvent`, in file order.

    Raises:
        DataError: A bad header, event id, effect or description, or a duplicate event id; the
            error names the file, the line and the field.
    """
    path = Path(path)
    try:
        lines = read_text(path).splitlines()
    except FileNotFoundError:
        raise DataError(path, "annotations file does not exist") from None
    header: dict[str, int] | None = None
    events: dict[str, ValueEvent] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        row = [cell.strip() for cell in next(csv.reader([raw]))]
        if header is None:
            header = {name: i for i, name in enumerate(row)}
            for column in ANNOTATION_COLUMNS:
                if column not in header:
                    raise DataError(
                        path,
                        f"the header must name the columns {', '.join(ANNOTATION_COLUMNS)}; "
                        f"got {', '.join(row)}",
                        line=number,
                        field=column,
                    )
            continue
        if len(row) != len(header):
            raise DataError(
                path,
                f"expected {len(header)} columns, got {len(row)} (quote a description that "
                "holds commas)",
                line=number,
            )
        event_id = row[header["event"]]
        if not EVENT_ID_RE.fullmatch(event_id):
            raise DataError(
                path,
                f"event id must be lowercase snake_case (a-z, 0-9, _), got {event_id!r}",
                line=number,
                field="event",
            )
        if event_id in events:
            raise DataError(
                path,
                f"duplicate event id {event_id!r} (first defined on line {events[event_id].line})",
                line=number,
                field="event",
            )
        description = row[header["description"]]
        if not description:
            raise DataError(path, "description is empty", line=number, field="description")
        effects = _effects(row[header["effects"]], path, number)
        events[event_id] = ValueEvent(event_id, effects, description, number)
    if header is None:
        raise DataError(path, f"no header line ({','.join(ANNOTATION_COLUMNS)}) found")
    if not events:
        raise DataError(path, "the file annotates no events")
    return events


def source_markers(path: str | Path) -> list[tuple[str, int]]:
    """Every value marker written in an Inform source, as ``(event_id, line)`` in file order.

    Raises:
        DataError: A marker whose event id is malformed.
    """
    path = Path(path)
    found = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if line.lstrip().startswith("!"):
            continue  # an Inform comment
        for match in MARKER_RE.finditer(line):
            event_id = match.group(1)
            if not EVENT_ID_RE.fullmatch(event_id):
                raise DataError(
                    path,
                    f"marker {match.group(0)!r} has a malformed event id: expected lowercase "
                    "snake_case",
                    line=number,
                    field="marker",
                )
            found.append((event_id, number))
    return found


def check_markers(
    source: str | Path, annotations_path: str | Path, events: dict[str, ValueEvent]
) -> None:
    """Check that source markers and annotations match one to one.

    Raises:
        DataError: A marker in the source has no annotation (names the source line), or an
            annotated event has no marker in the source (names the annotation line).
    """
    source = Path(source)
    markers = source_markers(source)
    for event_id, line in markers:
        if event_id not in events:
            raise DataError(
                source,
                f"marker [V: {event_id}] has no annotation in {Path(annotations_path).name}",
                line=line,
                field="marker",
                fix=f"add a row for {event_id!r} to {annotations_path}",
            )
    in_source = {event_id for event_id, _ in markers}
    for event in events.values():
        if event.id not in in_source:
            raise DataError(
                annotations_path,
                f"event {event.id!r} never fires: no marker [V: {event.id}] in {source.name}",
                line=event.line,
                field="event",
            )


def split_markers(text: str) -> tuple[str, list[str]]:
    """Remove value markers from game output.

    A line holding only a marker is removed with its newline; a marker inside other text is cut
    out.

    Returns:
        The text without markers, and the event ids in the order they were printed.
    """
    ids = [m.group(1) for m in MARKER_RE.finditer(text)]
    if not ids:
        return text, []
    text = _MARKER_LINE_RE.sub("", text)
    text = MARKER_RE.sub("", text)
    return text, ids


@dataclass(frozen=True)
class Walkthrough:
    """A route through an own game, with what it must produce.

    Attributes:
        route: The route's name (the file's stem), e.g. ``"caring"``.
        path: The file.
        commands: One command per step.
        events: For each command, the event ids it must fire, in order.
        score: The final score the route must reach, if given.
        outcome: ``"victory"`` or ``"loss"``, if given.
        higher_than: Other route -> values on which this route's totals must be higher.
        lower_than: Other route -> values on which this route's totals must be lower.
    """

    route: str
    path: Path
    commands: tuple[str, ...]
    events: tuple[tuple[str, ...], ...]
    score: int | None = None
    outcome: str | None = None
    higher_than: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lower_than: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def all_events(self) -> tuple[str, ...]:
        """Every event the route fires, in order."""
        return tuple(e for step in self.events for e in step)


def _value_list(text: str, path: Path, line: int, key: str) -> tuple[str, ...]:
    ids = tuple(v for v in re.split(r"[\s,]+", text) if v)
    if not ids:
        raise DataError(path, "expected a list of value ids, got none", line=line, field=key)
    for vid in ids:
        problem = value_id_problem(vid)
        if problem:
            raise DataError(path, problem, line=line, field=key)
    return ids


def load_walkthrough(path: str | Path) -> Walkthrough:
    """Read a walkthrough file (see the module docs for the format).

    Raises:
        DataError: A bad directive, a malformed marker, or no commands.
    """
    path = Path(path)
    commands: list[str] = []
    events: list[tuple[str, ...]] = []
    score: int | None = None
    outcome: str | None = None
    higher: dict[str, tuple[str, ...]] = {}
    lower: dict[str, tuple[str, ...]] = {}
    for number, line in walkthrough_lines(path, comments=True):
        if line.startswith("#"):
            match = _DIRECTIVE_RE.match(line)
            if not match:
                continue
            key = match.group("key").lower()
            value = match.group("value")
            route = match.group("route")
            if key == "score":
                try:
                    score = int(value)
                except ValueError:
                    raise DataError(
                        path, f"expected an integer score, got {value!r}", line=number, field=key
                    ) from None
            elif key == "outcome":
                if value not in OUTCOMES:
                    raise DataError(
                        path,
                        f"expected outcome {' or '.join(OUTCOMES)}, got {value!r}",
                        line=number,
                        field=key,
                    )
                outcome = value
            else:
                if not route:
                    raise DataError(
                        path,
                        f"expected '# {key} <route>: value_id, ...', got {line!r}",
                        line=number,
                        field=key,
                    )
                (higher if key == "higher than" else lower)[route] = _value_list(
                    value, path, number, key
                )
            continue
        command = MARKER_RE.split(line)[0].strip() if "[" in line else line
        ids = tuple(m.group(1) for m in MARKER_RE.finditer(line))
        for event_id in ids:
            if not EVENT_ID_RE.fullmatch(event_id):
                raise DataError(
                    path, f"malformed event id {event_id!r}", line=number, field="marker"
                )
        if not command:
            raise DataError(path, "a marker without a command", line=number, field="command")
        commands.append(command)
        events.append(ids)
    if not commands:
        raise DataError(path, "the walkthrough has no commands")
    return Walkthrough(
        route=path.stem,
        path=path,
        commands=tuple(commands),
        events=tuple(events),
        score=score,
        outcome=outcome,
        higher_than=higher,
        lower_than=lower,
    )


# --------------------------------------------------------------------------- where the files are


def own_game_names() -> tuple[str, ...]:
    """Names of the own games: folders ``games/inform/<name>`` holding ``<name>.inf``."""
    if not SOURCE_DIR.is_dir():
        return ()
    return tuple(sorted(p.name for p in SOURCE_DIR.iterdir() if (p / f"{p.name}.inf").is_file()))


def game_dir(name: str) -> Path:
    """The source folder of an own game.

    Raises:
        GameNotFoundError: ``name`` is not an own game (the message lists them).
    """
    names = own_game_names()
    if name not in names:
        raise GameNotFoundError(
            f"no own game {name!r}: expected one of {', '.join(names) or 'none'} "
            f"(folders with <name>.inf under {SOURCE_DIR})"
        )
    return SOURCE_DIR / name


def source_file(name: str) -> Path:
    """The ``.inf`` source of an own game."""
    return game_dir(name) / f"{name}.inf"


def annotations_file(name: str) -> Path:
    """The annotations file of an own game (``<name>_annotations.csv``)."""
    return game_dir(name) / f"{name}_annotations.csv"


def walkthrough_files(name: str) -> dict[str, Path]:
    """Route name -> walkthrough file; ``caring`` and ``self_interested`` first, then by name."""
    folder = game_dir(name) / "walkthroughs"
    files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
    first = {"caring": 0, "self_interested": 1}
    files.sort(key=lambda p: (first.get(p.stem, 2), p.stem))
    return {p.stem: p for p in files}


__all__ = [
    "ANNOTATION_COLUMNS",
    "MARKER_RE",
    "SOURCE_DIR",
    "ValueEvent",
    "Walkthrough",
    "annotations_file",
    "check_markers",
    "game_dir",
    "load_annotations",
    "load_walkthrough",
    "own_game_names",
    "source_file",
    "source_markers",
    "split_markers",
    "walkthrough_files",
]
