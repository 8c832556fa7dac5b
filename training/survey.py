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

:func:`training.survey_io.load_survey` reads and validates both; every problem is a :class:`~s2b_env.errors.DataError`
naming the file, the line and the field. This module is the survey's model; reading files into it
lives one layer up, in :mod:`training.survey_io` (``load_survey``, ``load_items``,
``load_phrasings``). This module imports nothing heavy.

Example:
    >>> from training.survey_io import load_survey
    >>> survey = load_survey()
    >>> item = survey.select("heldout", ["hedonism"])[0]
    >>> messages = survey.phrasings[0].messages(item)
    >>> messages[-1]["role"]
    'user'
"""

from __future__ import annotations

import difflib
import re
import string
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2b_env.values import VALUE_IDS
from training.value_ids import check_value_ids, value_id_problem

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
            wanted = set(check_value_ids(values, "values"))
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


# --- checks shared by the dataclasses and the loaders --------------------------------------------


def _id_problem(item_id: str) -> str | None:
    if not _ID_RE.fullmatch(item_id):
        return (
            f"expected an id of letters, digits and _ . : - (starting with a letter or digit), "
            f"got {item_id!r}"
        )
    return None


def _value_problem(value: str) -> str | None:
    return value_id_problem(value)


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
