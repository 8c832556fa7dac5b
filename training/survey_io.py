"""Reading survey files: the items (JSON Lines or CSV) and phrasings (JSON) loaders.

The survey's model (:class:`~training.survey.SurveyItem`, :class:`~training.survey.Phrasing`, the
scale and the record checks) lives in :mod:`training.survey`; this module turns files into those
objects, and every problem is a :class:`~s2b_env.errors.DataError` naming the file, the line and the
field. :func:`load_survey` reads both files of a survey (the shipped ones by default).

Example:
    >>> from training.survey_io import load_items
    >>> from training.survey import default_items_path
    >>> len(load_items(default_items_path())) >= 240
    True
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from s2b_env.errors import DataError, parse_json, read_text
from s2b_env.values import VALUE_IDS
from training.survey import (
    ITEM_FIELDS,
    MIN_HELDOUT_PER_VALUE,
    MIN_TRAIN_PER_VALUE,
    PHRASING_OPTIONAL,
    PHRASING_REQUIRED,
    SPLITS,
    Phrasing,
    Survey,
    SurveyItem,
    _id_problem,
    _split_problem,
    _system_problem,
    _text_problem,
    _user_problem,
    _value_problem,
    default_items_path,
    default_phrasings_path,
    normalize_text,
)


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


def load_items(path: str | Path, *, every_value: bool = True) -> tuple[SurveyItem, ...]:
    """Read and validate an items file (JSON Lines, or CSV with the columns id,value,text,split).

    Besides each record, checks that ids and normalised texts are unique and, with
    ``every_value``, that every one of the 20 values has at least :data:`MIN_HELDOUT_PER_VALUE`
    held-out and :data:`MIN_TRAIN_PER_VALUE` training items.

    Args:
        path: The file.
        every_value: Check the coverage of the whole taxonomy (the shipped survey). A user's
            own survey (``--items-file``) may cover any values with any split; the commands check
            what they need (``s2b align``: training items of the trained values, held-out items
            of the moved ones).

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
    if every_value:
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
    data = parse_json(path, text)
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


# --- reading ---------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    if not path.exists():
        raise DataError(
            path, "no such file", fix="check the path, or leave it out to use the shipped survey"
        )
    if not path.is_file():
        raise DataError(path, "expected a file, got a directory")
    return read_text(path, encoding="utf-8-sig")


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
        except RecursionError:
            raise DataError(
                path, "JSON nested too deeply: expected one flat item object", line=number,
                fix="write each item as one JSON object with the documented fields",
            ) from None  # fmt: skip
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


def load_custom_survey(
    items_path: str | Path | None = None, phrasings_path: str | Path | None = None
) -> Survey:
    """The survey with a user's own items and/or phrasings file (``--items-file``,
    ``--phrasings-file``), the shipped file for the one not given.

    A user's items file is validated record by record like the shipped one (errors name file,
    line and field; value ids are checked against the taxonomy with a did-you-mean), but it may
    cover any of the 20 values with any split: a profile reports the values the file has.

    Raises:
        DataError: A file is missing or has a bad record.
    """
    items = (
        load_items(default_items_path())
        if items_path is None
        else load_items(items_path, every_value=False)
    )
    phrasings = load_phrasings(
        default_phrasings_path() if phrasings_path is None else phrasings_path
    )
    return Survey(items=items, phrasings=phrasings)
