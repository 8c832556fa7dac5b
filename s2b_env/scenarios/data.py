"""The moral-scenario schema (version 1): records, validation, loading and the fixed split.

Scenario files are JSON Lines: one record a line, blank lines allowed. Every record has
``schema_version`` (``1``), ``kind`` (``"judgment"`` or ``"dilemma"``) and a unique ``id``. The full
schema is documented in ``docs/scenarios.md``; in short:

* **judgment**: ``title``, ``text`` (a first-person account), optional ``question``, ``values`` (the
  values in tension: ``{"value": <taxonomy id>, "side": "narrator" | "other"}``), optional
  ``verdicts`` (reference distribution over ``YTA``/``NTA``/``ESH``/``NAH`` summing to 1), optional
  ``votes`` (raw counts), ``domain``, ``source``, ``split`` and free-form ``meta``.
* **dilemma**: ``title``, ``intro``, ``start`` (a node id) and ``nodes`` (node id to
  ``{"text", "options"}``); each option has ``label``, ``effects`` (value id to an integer -3..+3,
  missing ids are 0, or a list of 20 integers in taxonomy order), ``next`` (a node id, or ``null`` for
  a leaf) and optional ``outcome`` text. A dilemma has 2-6 nodes, each with 2-5 options, forms no
  cycle and reaches every node from ``start``.

The split of a record is its ``split`` field if given, otherwise derived from a hash of its id
(:func:`split_of`), so ids never move between splits when files are edited or reordered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s2b_env.errors import DataError
from s2b_env.scenarios.records import (
    DEFAULT_QUESTION,
    Dilemma,
    DilemmaNode,
    DilemmaOption,
    JudgmentItem,
    Scenario,
    ValueTension,
)
from s2b_env.scenarios.verdicts import VERDICT_MEANINGS, VERDICTS, parse_verdict
from s2b_env.values import EFFECT_MAX, EFFECT_MIN, VALUE_IDS, value_id_problem

SCHEMA_VERSION = 1
KINDS: tuple[str, ...] = ("judgment", "dilemma")
SIDES: tuple[str, ...] = ("narrator", "other")
DOMAINS: tuple[str, ...] = (
    "family", "work", "money", "friends", "strangers", "animals", "environment", "rules", "online",
)  # fmt: skip
SPLITS: tuple[str, ...] = ("train", "validation", "test")
#: Percent of ids (by hash) in each split, in :data:`SPLITS` order.
SPLIT_PERCENT: tuple[int, ...] = (70, 15, 15)
MIN_NODES, MAX_NODES = 2, 6
MIN_OPTIONS, MAX_OPTIONS = 2, 5


_COMMON_FIELDS = ("schema_version", "kind", "id", "title", "domain", "source", "split", "meta")
_JUDGMENT_FIELDS = (*_COMMON_FIELDS, "text", "question", "values", "verdicts", "votes")
_DILEMMA_FIELDS = (*_COMMON_FIELDS, "intro", "start", "nodes")
__all__ = [
    "SCHEMA_VERSION", "VALUE_IDS", "VERDICTS", "VERDICT_MEANINGS", "Dilemma", "DilemmaNode",
    "DilemmaOption", "JudgmentItem", "LineReport", "ValueTension", "default_paths",
    "load_scenarios", "parse_record", "parse_verdict", "split_of", "validate_files",
]  # fmt: skip


def split_of(item_id: str) -> str:
    """The split an id belongs to by default: a fixed function of the id's SHA-256.

    Args:
        item_id: A record id.

    Returns:
        ``"train"`` (70%), ``"validation"`` (15%) or ``"test"`` (15%).
    """
    bucket = int(hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    edge = 0
    for name, percent in zip(SPLITS, SPLIT_PERCENT, strict=True):
        edge += percent
        if bucket < edge:
            return name
    return SPLITS[-1]  # pragma: no cover - percents sum to 100


# --- parsing ------------------------------------------------------------------------------------


class _Checker:
    """Field checks that raise :class:`DataError` naming the file, line and field."""

    def __init__(self, path: Path, line: int | None) -> None:
        self.path = path
        self.line = line

    def fail(self, field_name: str, message: str, fix: str | None = None) -> DataError:
        return DataError(self.path, message, line=self.line, field=field_name, fix=fix)

    def get(self, obj: Mapping[str, Any], key: str, where: str, tp: type | tuple, *, required=True):
        name = f"{where}.{key}" if where else key
        if key not in obj or obj[key] is None:
            if required:
                raise self.fail(name, f"missing required field {name!r}")
            return None
        value = obj[key]
        if not isinstance(value, tp) or (isinstance(value, bool) and bool not in _types(tp)):
            raise self.fail(
                name, f"expected {_type_name(tp)}, got {type(value).__name__} {_short(value)}"
            )
        return value

    def text(self, obj: Mapping[str, Any], key: str, where: str = "", *, required=True):
        value = self.get(obj, key, where, str, required=required)
        if value is not None and not value.strip():
            raise self.fail(f"{where}.{key}" if where else key, "expected non-empty text, got ''")
        return value

    def no_unknown(self, obj: Mapping[str, Any], known: Sequence[str], where: str) -> None:
        for key in obj:
            if key not in known:
                name = f"{where}.{key}" if where else key
                raise self.fail(
                    name,
                    f"unknown field {key!r}; expected one of {', '.join(known)}",
                    fix="put free-form data under 'meta'",
                )

    def choice(self, value: str, allowed: Sequence[str], name: str) -> str:
        if value not in allowed:
            raise self.fail(name, f"expected one of {', '.join(allowed)}, got {value!r}")
        return value

    def value_id(self, value: Any, name: str) -> str:
        problem = value_id_problem(value)
        if problem:
            raise self.fail(name, problem)
        return value


def _types(tp: type | tuple) -> tuple:
    return tp if isinstance(tp, tuple) else (tp,)


def _type_name(tp: type | tuple) -> str:
    names = {str: "text", int: "an integer", float: "a number", dict: "an object", list: "a list"}
    return " or ".join(names.get(t, t.__name__) for t in _types(tp))


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _verdict_map(c: _Checker, obj: Mapping[str, Any], key: str, tp: type | tuple) -> dict | None:
    raw = c.get(obj, key, "", dict, required=False)
    if raw is None:
        return None
    out: dict[str, Any] = {}
    for verdict, number in raw.items():
        name = f"{key}.{verdict}"
        c.choice(verdict, VERDICTS, name)
        if not isinstance(number, tp) or isinstance(number, bool):
            raise c.fail(name, f"expected {_type_name(tp)}, got {_short(number)}")
        if number < 0:
            raise c.fail(name, f"expected a non-negative number, got {number}")
        out[verdict] = number
    return out


def _common(c: _Checker, obj: Mapping[str, Any]) -> dict[str, Any]:
    item_id = c.text(obj, "id")
    domain = c.get(obj, "domain", "", str, required=False)
    if domain is not None:
        c.choice(domain, DOMAINS, "domain")
    split = c.get(obj, "split", "", str, required=False)
    if split is not None:
        c.choice(split, SPLITS, "split")
    return {
        "id": item_id,
        "title": c.text(obj, "title"),
        "domain": domain,
        "source": c.get(obj, "source", "", str, required=False),
        "split": split or split_of(item_id),
        "meta": dict(c.get(obj, "meta", "", dict, required=False) or {}),
    }


def _judgment(c: _Checker, obj: Mapping[str, Any]) -> JudgmentItem:
    c.no_unknown(obj, _JUDGMENT_FIELDS, "")
    common = _common(c, obj)
    text = c.text(obj, "text")
    question = c.text(obj, "question", required=False) or DEFAULT_QUESTION
    tensions: list[ValueTension] = []
    for i, entry in enumerate(c.get(obj, "values", "", list, required=False) or []):
        where = f"values[{i}]"
        if not isinstance(entry, dict):
            raise c.fail(where, f"expected an object with 'value' and 'side', got {_short(entry)}")
        c.no_unknown(entry, ("value", "side"), where)
        value = c.value_id(c.get(entry, "value", where, str), f"{where}.value")
        side = c.choice(c.get(entry, "side", where, str), SIDES, f"{where}.side")
        tensions.append(ValueTension(value, side))
    verdicts = _verdict_map(c, obj, "verdicts", (int, float))
    if verdicts is not None:
        total = sum(verdicts.values())
        if abs(total - 1.0) > 0.01:
            raise c.fail(
                "verdicts",
                f"expected probabilities summing to 1, got a sum of {total:.3f}",
                fix="put raw counts under 'votes' and their shares under 'verdicts'",
            )
        verdicts = {v: float(verdicts.get(v, 0.0)) / total for v in VERDICTS}
    votes = _verdict_map(c, obj, "votes", int)
    if votes is not None:
        votes = {v: int(votes.get(v, 0)) for v in VERDICTS}
    return JudgmentItem(
        text=text, question=question, values=tuple(tensions), verdicts=verdicts, votes=votes,
        **common,
    )  # fmt: skip


def _effects(c: _Checker, raw: Any, name: str) -> tuple[int, ...]:
    if isinstance(raw, list):
        if len(raw) != len(VALUE_IDS):
            raise c.fail(name, f"expected a list of {len(VALUE_IDS)} integers, got {len(raw)}")
        pairs = list(zip(VALUE_IDS, raw, strict=True))
    elif isinstance(raw, dict):
        pairs = [(c.value_id(k, f"{name}.{k}"), v) for k, v in raw.items()]
    else:
        raise c.fail(name, f"expected an object of value id -> integer, got {_short(raw)}")
    vector = dict.fromkeys(VALUE_IDS, 0)
    for value, number in pairs:
        if not isinstance(number, int) or isinstance(number, bool):
            raise c.fail(f"{name}.{value}", f"expected an integer, got {_short(number)}")
        if not EFFECT_MIN <= number <= EFFECT_MAX:
            raise c.fail(
                f"{name}.{value}", f"expected an integer {EFFECT_MIN}..{EFFECT_MAX}, got {number}"
            )
        vector[value] = number
    return tuple(vector[v] for v in VALUE_IDS)


def _dilemma(c: _Checker, obj: Mapping[str, Any]) -> Dilemma:
    c.no_unknown(obj, _DILEMMA_FIELDS, "")
    common = _common(c, obj)
    intro = c.text(obj, "intro")
    start = c.text(obj, "start")
    raw_nodes = c.get(obj, "nodes", "", dict)
    if not MIN_NODES <= len(raw_nodes) <= MAX_NODES:
        raise c.fail("nodes", f"expected {MIN_NODES}-{MAX_NODES} nodes, got {len(raw_nodes)}")
    nodes: dict[str, DilemmaNode] = {}
    for node_id, raw in raw_nodes.items():
        where = f"nodes.{node_id}"
        if not isinstance(raw, dict):
            raise c.fail(where, f"expected an object with 'text' and 'options', got {_short(raw)}")
        c.no_unknown(raw, ("text", "options"), where)
        text = c.text(raw, "text", where)
        raw_options = c.get(raw, "options", where, list)
        if not MIN_OPTIONS <= len(raw_options) <= MAX_OPTIONS:
            raise c.fail(
                f"{where}.options",
                f"expected {MIN_OPTIONS}-{MAX_OPTIONS} options, got {len(raw_options)}",
            )
        options = []
        for i, opt in enumerate(raw_options):
            ow = f"{where}.options[{i}]"
            if not isinstance(opt, dict):
                raise c.fail(ow, f"expected an object, got {_short(opt)}")
            c.no_unknown(opt, ("label", "effects", "next", "outcome"), ow)
            label = c.text(opt, "label", ow)
            if "effects" not in opt:
                raise c.fail(f"{ow}.effects", f"missing required field '{ow}.effects'")
            effects = _effects(c, opt["effects"], f"{ow}.effects")
            if "next" not in opt:
                raise c.fail(f"{ow}.next", "missing required field (a node id, or null for a leaf)")
            nxt = c.get(opt, "next", ow, str, required=False)
            if nxt is not None and nxt not in raw_nodes:
                raise c.fail(
                    f"{ow}.next",
                    f"dangling edge: node {nxt!r} does not exist; nodes are {', '.join(raw_nodes)}",
                    fix="name an existing node, or use null to end the story",
                )
            outcome = c.get(opt, "outcome", ow, str, required=False) or ""
            options.append(DilemmaOption(label, effects, nxt, outcome))
        nodes[node_id] = DilemmaNode(node_id, text, tuple(options))
    if start not in nodes:
        raise c.fail("start", f"expected one of the node ids {', '.join(nodes)}, got {start!r}")
    _check_graph(c, start, nodes)
    return Dilemma(intro=intro, start=start, nodes=nodes, **common)


def _check_graph(c: _Checker, start: str, nodes: Mapping[str, DilemmaNode]) -> None:
    """Reject cycles and unreachable nodes (every path must end at a leaf)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node_id: str) -> None:
        state[node_id] = 1
        for i, option in enumerate(nodes[node_id].options):
            nxt = option.next
            if nxt is None:
                continue
            if state.get(nxt) == 1:
                raise c.fail(
                    f"nodes.{node_id}.options[{i}].next",
                    f"cycle: option {i} of node {node_id!r} leads back to {nxt!r}",
                    fix="every path through a dilemma must end at a leaf (next: null)",
                )
            if nxt not in state:
                visit(nxt)
        state[node_id] = 2

    visit(start)
    for node_id in nodes:
        if node_id not in state:
            raise c.fail(f"nodes.{node_id}", f"node {node_id!r} cannot be reached from {start!r}")


def parse_record(obj: Any, *, path: str | Path = "<record>", line: int | None = None) -> Scenario:
    """Check one decoded record against schema version 1 and build it.

    Args:
        obj: The decoded JSON value of one line.
        path: The file it came from, for messages.
        line: Its 1-based line number, for messages.

    Returns:
        A :class:`JudgmentItem` or :class:`Dilemma`.

    Raises:
        DataError: The record breaks the schema (names file, line and field).
    """
    c = _Checker(Path(path), line)
    if not isinstance(obj, dict):
        raise c.fail("", f"expected a JSON object, got {type(obj).__name__}")
    version = c.get(obj, "schema_version", "", int)
    if version != SCHEMA_VERSION:
        raise c.fail("schema_version", f"expected {SCHEMA_VERSION}, got {version}")
    kind = c.choice(c.get(obj, "kind", "", str), KINDS, "kind")
    return _judgment(c, obj) if kind == "judgment" else _dilemma(c, obj)


# --- files -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineReport:
    """The status of one non-blank line of a scenario file.

    Attributes:
        path: The file.
        line: 1-based line number.
        record: The parsed record when the line is valid, else ``None``.
        error: What is wrong with it, else ``None``.
    """

    path: Path
    line: int
    record: Scenario | None = None
    error: DataError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def item_id(self) -> str | None:
        return self.record.id if self.record is not None else None


def validate_files(paths: Iterable[str | Path]) -> list[LineReport]:
    """Check every non-blank line of every file; bad lines never hide the status of good ones.

    A repeated id (in the same or an earlier file) is an error on the later line.

    Lines are decoded one at a time, so a line that is not UTF-8, or is nested too deeply to parse,
    is reported on its own line and the rest of the file is still checked.

    Args:
        paths: JSON Lines scenario files.

    Returns:
        One report per non-blank line, in file and line order.

    Raises:
        FileNotFoundError: A file does not exist.
    """
    reports: list[LineReport] = []
    seen: dict[str, tuple[Path, int]] = {}
    for raw_path in paths:
        path = Path(raw_path)
        if not path.is_file():
            raise FileNotFoundError(f"scenario file {str(path)!r} does not exist")
        # bytes.splitlines splits on \n, \r and \r\n, as text-mode reading did: same line numbers.
        for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                error = DataError(
                    path,
                    f"not UTF-8 text: expected UTF-8, got byte 0x{raw[exc.start]:02x} at byte "
                    f"{exc.start + 1} of the line ({exc.reason})",
                    line=number,
                    fix="save the file as UTF-8",
                )
                reports.append(LineReport(path, number, error=error))
                continue
            if not text.strip():
                continue
            reports.append(_check_line(path, number, text, seen))
    return reports


def _check_line(path: Path, number: int, text: str, seen: dict[str, tuple[Path, int]]):
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        error = DataError(path, f"not valid JSON: {exc.msg} at column {exc.colno}", line=number)
        return LineReport(path, number, error=error)
    except RecursionError:
        return LineReport(path, number, error=_too_deep(path, number))
    try:
        record = parse_record(obj, path=path, line=number)
    except DataError as exc:
        return LineReport(path, number, error=exc)
    except RecursionError:
        return LineReport(path, number, error=_too_deep(path, number))
    if record.id in seen:
        first_path, first_line = seen[record.id]
        where = f"line {first_line}" + ("" if first_path == path else f" of {first_path}")
        error = DataError(path, f"duplicate id {record.id!r}, first used on {where}", line=number,
                          field="id", fix="give every record its own id")  # fmt: skip
        return LineReport(path, number, error=error)
    seen[record.id] = (path, number)
    return LineReport(path, number, record=record)


def _too_deep(path: Path, number: int) -> DataError:
    return DataError(
        path,
        "nested too deeply: expected one flat scenario record, got JSON nested beyond Python's "
        "recursion limit",
        line=number,
        fix="write each record as one JSON object of the documented schema",
    )


def load_scenarios(paths: str | Path | Iterable[str | Path], kind: str | None = None):
    """Load valid records from scenario files, failing on the first bad line.

    Args:
        paths: One file or several.
        kind: Keep only ``"judgment"`` or ``"dilemma"`` records; ``None`` keeps both.

    Returns:
        The records, in file order.

    Raises:
        DataError: A line is bad (the message names file, line and field; run
            ``s2b scenarios validate`` to see every bad line at once).
        FileNotFoundError: A file does not exist.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)} or None, got {kind!r}")
    paths = [paths] if isinstance(paths, str | Path) else list(paths)
    records: list[Scenario] = []
    for report in validate_files(paths):
        if report.error is not None:
            raise report.error
        assert report.record is not None  # ok reports always carry their record
        if kind is None or report.record.kind == kind:
            records.append(report.record)
    return records


def default_paths(kind: str) -> list[Path]:
    """The scenario files shipped with s2b for ``kind``."""
    from games import data_path

    name = {"judgment": "judgments.jsonl", "dilemma": "dilemmas.jsonl"}.get(kind)
    if name is None:
        raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    return [data_path("scenarios", name)]
