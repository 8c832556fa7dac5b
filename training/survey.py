"""The value survey: portrait statements, the 6-point scale, prompt phrasings, and their loader.

The survey is the instrument of the method: a model rates how much each statement is "like" it on
:data:`SCALE`, and its ratings, grouped by value, are its value profile. Two files make a survey
(both documented in ``docs/survey.md``):

* **items** (``games/survey/items.jsonl``): one statement a line, ``{"id", "value", "text",
  "split"}``; ``value`` is one of the 20 taxonomy ids, ``split`` is ``"train"`` or ``"heldout"``. The
  split is stored in the data so it never moves; held-out items are never used for training. A CSV
  file with the same four columns works too.
* **phrasings** (``games/survey/phrasings.json``): ``{"phrasings": [...]}``, each with ``id``,
  ``user`` (a template holding ``{statement}`` and optionally ``{scale}``), optional ``system``
  (may hold ``{scale}``), ``assistant_prefix`` (text the assistant turn starts with, so that the
  next token is the digit) and ``note``.

:func:`load_survey` reads and validates both; every problem is a :class:`~s2b_env.errors.DataError`
naming the file, the line and the field. This module imports nothing heavy.

Example:
    >>> from training.survey import load_survey
    >>> survey = load_survey()
    >>> item = survey.select("heldout", ["hedonism"])[0]
    >>> messages = survey.phrasings[0].messages(item)
    >>> messages[-1]["role"]
    'user'
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
import string
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2b_env.errors import DataError
from s2b_env.values import VALUE_IDS

#: The answer scale: rating -> label. Ratings are the digits a model answers with.
SCALE: dict[int, str] = {
    1: "not like me at all",
    2: "not like me",
    3: "a little like me",
    4: "moderately like me",
    5: "like me",
    6: "very much like me",
}
#: The answer digits as strings, in rating order ("1" .. "6").
SCALE_DIGITS: tuple[str, ...] = tuple(str(k) for k in SCALE)
#: The splits an item can belong to.
SPLITS: tuple[str, ...] = ("train", "heldout")
#: What :meth:`Survey.select` accepts as ``split``.
SELECT_SPLITS: tuple[str, ...] = ("all", *SPLITS)
#: Every value of a survey file needs at least this many held-out items ...
MIN_HELDOUT_PER_VALUE = 4
#: ... and at least this many training items.
MIN_TRAIN_PER_VALUE = 1
#: Longest statement accepted, in characters.
MAX_TEXT_CHARS = 400
#: The fields of an item record, in file order.
ITEM_FIELDS: tuple[str, ...] = ("id", "value", "text", "split")
#: Required and optional keys of a phrasing record.
PHRASING_REQUIRED: tuple[str, ...] = ("id", "user")
PHRASING_OPTIONAL: tuple[str, ...] = ("system", "assistant_prefix", "note")
#: Placeholders a template may use; ``{statement}`` only in the user template.
PLACEHOLDERS: tuple[str, ...] = ("statement", "scale")

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
_DEFAULT_ITEMS = ("survey", "items.jsonl")
_DEFAULT_PHRASINGS = ("survey", "phrasings.json")


def normalize_text(text: str) -> str:
    """Reduce a statement to a comparison key: NFKC, case-folded, punctuation to spaces, one space.

    Two statements with the same key are duplicates (the loader rejects them), so punctuation,
    case and spacing cannot hide a repeated item, e.g. a held-out statement copied into training.

    Args:
        text: A statement.

    Returns:
        The normalised text.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w]+|_", " ", text).split())


def format_scale(separator: str = "\n") -> str:
    """The scale as text, one ``"<digit> = <label>"`` entry per rating (what ``{scale}`` renders).

    Args:
        separator: What joins the six entries.

    Returns:
        E.g. ``"1 = not like me at all\\n2 = not like me\\n..."``.
    """
    return separator.join(f"{k} = {label}" for k, label in SCALE.items())


def template_problem(
    template: str, *, allowed: Sequence[str], required: Sequence[str]
) -> str | None:
    """Check a prompt template's placeholders.

    Args:
        template: A ``str.format`` template; literal braces are written ``{{`` and ``}}``.
        allowed: Placeholder names the template may use.
        required: Placeholder names it must use.

    Returns:
        ``None`` if the template is fine, else what is wrong (expected vs got).
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"malformed template ({exc}); write literal braces as '{{{{' and '}}}}'"
    used: set[str] = set()
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed or spec or conversion:
            shown = (
                "{"
                + name
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            expected = ", ".join("{" + a + "}" for a in allowed) or "none"
            return f"unknown placeholder {shown}: expected only {expected}"
        used.add(name)
    missing = [r for r in required if r not in used]
    if missing:
        return f"template lacks the placeholder {{{missing[0]}}}"
    return None


@dataclass(frozen=True)
class SurveyItem:
    """One survey statement.

    Attributes:
        id: Unique, stable id, e.g. ``"hedonism.07"``.
        value: The taxonomy id of the one value the statement expresses.
        text: The portrait statement, e.g. ``"This person ..."``.
        split: ``"train"`` (may be used to fine-tune) or ``"heldout"`` (never trained on).
    """

    id: str
    value: str
    text: str
    split: str

    def __post_init__(self) -> None:
        for name in ITEM_FIELDS:
            got = getattr(self, name)
            if not isinstance(got, str):
                raise TypeError(f"SurveyItem.{name} must be a str, got {type(got).__name__}")
        problem = (
            _id_problem(self.id)
            or _value_problem(self.value)
            or _split_problem(self.split)
            or _text_problem(self.text)
        )
        if problem:
            raise ValueError(f"SurveyItem {self.id!r}: {problem}")


@dataclass(frozen=True)
class Phrasing:
    """One way of asking the survey question.

    Attributes:
        id: Unique name, e.g. ``"portrait"``.
        user: The user-turn template; holds ``{statement}`` and may hold ``{scale}``.
        system: Optional system-turn template; may hold ``{scale}``.
        assistant_prefix: Text the assistant turn starts with (e.g. ``"Answer: "``) so that the next
            token is the digit. Not part of :meth:`messages`: backends append it after the chat
            template's generation prompt.
        note: What the phrasing is for; documentation only.
    """

    id: str
    user: str
    system: str | None = None
    assistant_prefix: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        for name in ("id", "user", "assistant_prefix", "note"):
            got = getattr(self, name)
            if not isinstance(got, str):
                raise TypeError(f"Phrasing.{name} must be a str, got {type(got).__name__}")
        if self.system is not None and not isinstance(self.system, str):
            raise TypeError(
                f"Phrasing.system must be a str or None, got {type(self.system).__name__}"
            )
        problem = (
            _id_problem(self.id)
            or _user_problem(self.user)
            or (None if self.system is None else _system_problem(self.system))
        )
        if problem:
            raise ValueError(f"Phrasing {self.id!r}: {problem}")

    def messages(self, item: SurveyItem | str) -> list[dict[str, str]]:
        """The chat messages asking about one statement: the system turn (if any), then the user turn.

        Args:
            item: The item (or a bare statement text) to ask about.

        Returns:
            ``[{"role": "system", "content": ...}, {"role": "user", "content": ...}]``, without the
            system message when :attr:`system` is ``None``. :attr:`assistant_prefix` is not included.
        """
        if isinstance(item, SurveyItem):
            statement = item.text
        elif isinstance(item, str):
            statement = item
        else:
            raise TypeError(f"item must be a SurveyItem or str, got {type(item).__name__}")
        scale = format_scale()
        messages = []
        if self.system is not None:
            messages.append({"role": "system", "content": self.system.format(scale=scale)})
        messages.append(
            {"role": "user", "content": self.user.format(statement=statement, scale=scale)}
        )
        return messages


@dataclass(frozen=True)
class Survey:
    """The survey items and phrasings; build it with :func:`load_survey`.

    The constructor checks the structure (types, unique ids); :func:`load_survey` also checks the
    coverage of a survey file (every value, enough held-out items).

    Attributes:
        items: The statements, in file order.
        phrasings: The prompt phrasings, in file order.
    """

    items: tuple[SurveyItem, ...]
    phrasings: tuple[Phrasing, ...]
    _by_id: dict[str, SurveyItem] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", _tuple_of(self.items, SurveyItem, "items"))
        object.__setattr__(self, "phrasings", _tuple_of(self.phrasings, Phrasing, "phrasings"))
        by_id: dict[str, SurveyItem] = {}
        for item in self.items:
            if item.id in by_id:
                raise ValueError(f"duplicate item id {item.id!r}: expected unique ids")
            by_id[item.id] = item
        seen: set[str] = set()
        for phrasing in self.phrasings:
            if phrasing.id in seen:
                raise ValueError(f"duplicate phrasing id {phrasing.id!r}: expected unique ids")
            seen.add(phrasing.id)
        object.__setattr__(self, "_by_id", by_id)

    @property
    def values(self) -> tuple[str, ...]:
        """The value ids that have items, in taxonomy order."""
        present = {item.value for item in self.items}
        return tuple(v for v in VALUE_IDS if v in present)

    def select(
        self, split: str = "all", values: Sequence[str] | str | None = None
    ) -> tuple[SurveyItem, ...]:
        """Items of one split and some values, in file order.

        Args:
            split: ``"all"``, ``"train"`` or ``"heldout"``.
            values: Value ids to keep (a single id may be given as a str); ``None`` keeps all.

        Returns:
            The matching items.
        """
        if split not in SELECT_SPLITS:
            raise ValueError(f"unknown split {split!r}: expected one of {', '.join(SELECT_SPLITS)}")
        wanted: set[str] | None = None
        if values is not None:
            chosen = [values] if isinstance(values, str) else list(values)
            for v in chosen:
                if v not in VALUE_IDS:
                    raise ValueError(
                        f"unknown value id {v!r}: expected one of {', '.join(VALUE_IDS)}"
                    )
            wanted = set(chosen)
        return tuple(
            item
            for item in self.items
            if (split == "all" or item.split == split) and (wanted is None or item.value in wanted)
        )

    def item(self, item_id: str) -> SurveyItem:
        """The item with this id.

        Raises:
            KeyError: No item has this id.
        """
        try:
            return self._by_id[item_id]
        except KeyError:
            close = difflib.get_close_matches(str(item_id), self._by_id, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise KeyError(f"no survey item with id {item_id!r}{hint}") from None

    def phrasing(self, phrasing_id: str) -> Phrasing:
        """The phrasing with this id.

        Raises:
            KeyError: No phrasing has this id.
        """
        for phrasing in self.phrasings:
            if phrasing.id == phrasing_id:
                return phrasing
        ids = ", ".join(p.id for p in self.phrasings)
        raise KeyError(f"no phrasing with id {phrasing_id!r}: expected one of {ids}")

    def counts(self) -> dict[str, dict[str, int]]:
        """Number of items per value and split: ``{value: {"train": n, "heldout": m}}``."""
        out = {v: dict.fromkeys(SPLITS, 0) for v in self.values}
        for item in self.items:
            out[item.value][item.split] += 1
        return out


def default_items_path() -> Path:
    """The shipped items file."""
    from games import data_path

    return data_path(*_DEFAULT_ITEMS)


def default_phrasings_path() -> Path:
    """The shipped phrasings file."""
    from games import data_path

    return data_path(*_DEFAULT_PHRASINGS)


def load_survey(
    items_path: str | Path | None = None, phrasings_path: str | Path | None = None
) -> Survey:
    """Read and validate a survey.

    Args:
        items_path: A ``.jsonl`` or ``.csv`` items file; default: the shipped
            ``games/survey/items.jsonl``.
        phrasings_path: A phrasings ``.json`` file; default: the shipped
            ``games/survey/phrasings.json``.

    Returns:
        The survey.

    Raises:
        DataError: A file is missing or has a bad record; the error names file, line and field.
    """
    items = load_items(default_items_path() if items_path is None else items_path)
    phrasings = load_phrasings(
        default_phrasings_path() if phrasings_path is None else phrasings_path
    )
    return Survey(items=items, phrasings=phrasings)


def load_items(path: str | Path) -> tuple[SurveyItem, ...]:
    """Read and validate an items file (JSON Lines, or CSV with the columns id,value,text,split).

    Besides each record, checks that ids and normalised texts are unique and that every one of the
    20 values has at least :data:`MIN_HELDOUT_PER_VALUE` held-out and :data:`MIN_TRAIN_PER_VALUE`
    training items.

    Args:
        path: The file.

    Returns:
        The items, in file order.

    Raises:
        DataError: Naming the file, line and field of the first problem found.
    """
    path = Path(path)
    text = _read_text(path)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        records = _jsonl_records(path, text)
    elif suffix == ".csv":
        records = _csv_records(path, text)
    else:
        raise DataError(
            path, f"expected a .jsonl or .csv items file, got {path.suffix or 'no suffix'!r}"
        )
    items: list[SurveyItem] = []
    id_lines: dict[str, int] = {}
    text_lines: dict[str, tuple[int, str]] = {}
    for line, record in records:
        item = _item_from_record(path, line, record)
        if item.id in id_lines:
            raise DataError(
                path,
                f"duplicate id {item.id!r}, first used on line {id_lines[item.id]}",
                line=line,
                field="id",
            )
        key = normalize_text(item.text)
        if key in text_lines:
            first_line, first_id = text_lines[key]
            raise DataError(
                path,
                f"the same statement as item {first_id!r} on line {first_line} (compared case-, "
                "punctuation- and space-insensitively)",
                line=line,
                field="text",
                fix="every statement must be distinct, so a held-out text never appears in training",
            )
        id_lines[item.id] = line
        text_lines[key] = (line, item.id)
        items.append(item)
    if not items:
        raise DataError(path, "no items: expected one record per line")
    _check_coverage(path, items)
    return tuple(items)


def load_phrasings(path: str | Path) -> tuple[Phrasing, ...]:
    """Read and validate a phrasings file: ``{"phrasings": [{"id", "user", ...}, ...]}``.

    Args:
        path: The ``.json`` file.

    Returns:
        The phrasings, in file order.

    Raises:
        DataError: Naming the file, field (e.g. ``phrasings[1].user``) and, where it can be found, the
            line.
    """
    path = Path(path)
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
        ) from None
    if not isinstance(data, dict):
        raise DataError(path, f'expected a JSON object {{"phrasings": [...]}}, got {_kind(data)}')
    for key in data:
        if key not in ("phrasings", "note"):
            raise DataError(
                path, f"unknown key {key!r}: expected 'phrasings' and optional 'note'", field=key
            )
    if "phrasings" not in data:
        raise DataError(path, "missing the list of phrasings", field="phrasings")
    records = data["phrasings"]
    if not isinstance(records, list):
        raise DataError(path, f"expected a list, got {_kind(records)}", field="phrasings")
    if not records:
        raise DataError(
            path, "expected at least one phrasing, got an empty list", field="phrasings"
        )
    spans = _element_spans(text, records)
    phrasings: list[Phrasing] = []
    seen: dict[str, int] = {}
    for i, record in enumerate(records):
        span = spans[i] if spans else None

        def fail(
            message: str, key: str | None = None, fix: str | None = None, _i: int = i, _s=span
        ):
            name = f"phrasings[{_i}]" + (f".{key}" if key else "")
            return DataError(path, message, line=_line_of(text, _s, key), field=name, fix=fix)

        if not isinstance(record, dict):
            raise fail(f"expected a JSON object, got {_kind(record)}")
        for key in record:
            if key not in PHRASING_REQUIRED + PHRASING_OPTIONAL:
                allowed = ", ".join(PHRASING_REQUIRED + PHRASING_OPTIONAL)
                raise fail(f"unknown key {key!r}: expected only {allowed}", key)
        for key in PHRASING_REQUIRED:
            if key not in record:
                raise fail("missing", key)
        for key in ("id", "user", "assistant_prefix", "note"):
            if key in record and not isinstance(record[key], str):
                raise fail(f"expected a string, got {_kind(record[key])}", key)
        system = record.get("system")
        if system is not None and not isinstance(system, str):
            raise fail(f"expected a string or null, got {_kind(system)}", "system")
        problem = _id_problem(record["id"])
        if problem:
            raise fail(problem, "id")
        if record["id"] in seen:
            raise fail(
                f"duplicate id {record['id']!r}, first used by phrasings[{seen[record['id']]}]",
                "id",
            )
        problem = _user_problem(record["user"])
        if problem:
            raise fail(
                problem, "user", fix="the user template must hold {statement}; it may hold {scale}"
            )
        if system is not None:
            problem = _system_problem(system)
            if problem:
                raise fail(problem, "system", fix="the system template may hold only {scale}")
        seen[record["id"]] = i
        phrasings.append(
            Phrasing(
                id=record["id"],
                user=record["user"],
                system=system,
                assistant_prefix=record.get("assistant_prefix", ""),
                note=record.get("note", ""),
            )
        )
    return tuple(phrasings)


# --- checks shared by the dataclasses and the loaders --------------------------------------------


def _id_problem(item_id: str) -> str | None:
    if not _ID_RE.fullmatch(item_id):
        return (
            f"expected an id of letters, digits and _ . : - (starting with a letter or digit), "
            f"got {item_id!r}"
        )
    return None


def _value_problem(value: str) -> str | None:
    if value in VALUE_IDS:
        return None
    close = difflib.get_close_matches(value, VALUE_IDS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown value id {value!r}{hint}: expected one of {', '.join(VALUE_IDS)}"


def _split_problem(split: str) -> str | None:
    if split in SPLITS:
        return None
    return f"unknown split {split!r}: expected one of {', '.join(SPLITS)}"


def _text_problem(text: str) -> str | None:
    if not text.strip():
        return "empty statement"
    if text != text.strip():
        return "the statement has leading or trailing whitespace"
    if "\n" in text or "\r" in text:
        return "expected a one-line statement, got a line break"
    if len(text) > MAX_TEXT_CHARS:
        return f"expected at most {MAX_TEXT_CHARS} characters, got {len(text)}"
    return None


def _user_problem(template: str) -> str | None:
    return template_problem(template, allowed=PLACEHOLDERS, required=("statement",))


def _system_problem(template: str) -> str | None:
    return template_problem(template, allowed=("scale",), required=())


def _tuple_of(items: Any, kind: type, name: str) -> tuple[Any, ...]:
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Sequence):
        raise TypeError(
            f"Survey.{name} must be a sequence of {kind.__name__}, got {type(items).__name__}"
        )
    for x in items:
        if not isinstance(x, kind):
            raise TypeError(
                f"Survey.{name} must hold {kind.__name__} objects, got {type(x).__name__}"
            )
    return tuple(items)


# --- reading ---------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    if not path.exists():
        raise DataError(
            path, "no such file", fix="check the path, or leave it out to use the shipped survey"
        )
    if not path.is_file():
        raise DataError(path, "expected a file, got a directory")
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            path, f"not UTF-8 text ({exc.reason} at byte {exc.start})", line=line
        ) from None


def _kind(x: object) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }
    for t, name in names.items():
        if type(x) is t:
            return name
    return "a number" if isinstance(x, (int, float)) else type(x).__name__


def _jsonl_records(path: Path, text: str) -> list[tuple[int, Any]]:
    records = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            records.append((number, json.loads(raw)))
        except json.JSONDecodeError as exc:
            raise DataError(
                path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=number
            ) from None
    return records


def _csv_records(path: Path, text: str) -> list[tuple[int, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return []
    except csv.Error as exc:
        raise DataError(path, f"invalid CSV: {exc}", line=1) from None
    header = [h.strip() for h in header]
    for name in header:
        if name not in ITEM_FIELDS:
            raise DataError(
                path,
                f"unknown column {name!r}: expected the columns {', '.join(ITEM_FIELDS)}",
                line=1,
                field=name,
            )
    for name in ITEM_FIELDS:
        if name not in header:
            raise DataError(path, "missing column", line=1, field=name)
    if len(set(header)) != len(header):
        raise DataError(path, "a column appears twice in the header", line=1)
    records = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                raise DataError(path, f"expected {len(header)} cells, got {len(row)}", line=line)
            records.append((line, dict(zip(header, row, strict=False))))
    except csv.Error as exc:
        raise DataError(path, f"invalid CSV: {exc}", line=reader.line_num) from None
    return records


def _item_from_record(path: Path, line: int, record: Any) -> SurveyItem:
    if not isinstance(record, dict):
        raise DataError(path, f"expected a JSON object, got {_kind(record)}", line=line)
    for key in record:
        if key not in ITEM_FIELDS:
            raise DataError(
                path,
                f"unknown field {key!r}: expected only {', '.join(ITEM_FIELDS)}",
                line=line,
                field=str(key),
            )
    for key in ITEM_FIELDS:
        if key not in record:
            raise DataError(path, "missing", line=line, field=key)
        if not isinstance(record[key], str):
            raise DataError(
                path, f"expected a string, got {_kind(record[key])}", line=line, field=key
            )
    checks = (
        ("id", _id_problem),
        ("value", _value_problem),
        ("split", _split_problem),
        ("text", _text_problem),
    )
    for key, check in checks:
        problem = check(record[key])
        if problem:
            raise DataError(path, problem, line=line, field=key)
    return SurveyItem(
        id=record["id"], value=record["value"], text=record["text"], split=record["split"]
    )


def _check_coverage(path: Path, items: Sequence[SurveyItem]) -> None:
    counts = {v: dict.fromkeys(SPLITS, 0) for v in VALUE_IDS}
    for item in items:
        counts[item.value][item.split] += 1
    for value, n in counts.items():
        if n["heldout"] < MIN_HELDOUT_PER_VALUE:
            raise DataError(
                path,
                f"value {value!r} has {n['heldout']} held-out items; expected at least "
                f"{MIN_HELDOUT_PER_VALUE}",
                field="split",
                fix=f'mark more of its items "split": "heldout" (every value needs {MIN_HELDOUT_PER_VALUE})',
            )
        if n["train"] < MIN_TRAIN_PER_VALUE:
            raise DataError(
                path,
                f"value {value!r} has {n['train']} training items; expected at least {MIN_TRAIN_PER_VALUE}",
                field="split",
                fix='every value needs items with "split": "train"',
            )


def _element_spans(text: str, records: list[Any]) -> list[tuple[int, int]] | None:
    """Character spans of the elements of the top-level ``"phrasings"`` list, or None if not found."""
    match = re.search(r'"phrasings"\s*:\s*\[', text)
    if match is None:
        return None
    decoder = json.JSONDecoder()
    spans: list[tuple[int, int]] = []
    pos = match.end()
    try:
        for record in records:
            while text[pos] in " \t\r\n,":
                pos += 1
            value, end = decoder.raw_decode(text, pos)
            if value != record:
                return None
            spans.append((pos, end))
            pos = end
    except (ValueError, IndexError):
        return None
    return spans


def _line_of(text: str, span: tuple[int, int] | None, key: str | None) -> int | None:
    """1-based line of ``key`` inside the element at ``span`` (or of the element's start)."""
    if span is None:
        return None
    start, end = span
    if key is not None:
        found = text.find(json.dumps(key), start, end)
        if found >= 0:
            start = found
    return text.count("\n", 0, start) + 1
