"""Loaders that turn users' judgment data into s2b scenario records (schema version 1).

Two input formats are read:

* **AITA-style CSV** (``aita-csv``): a header row with ``id``, ``title``, ``body`` and ``verdict``,
  plus optional vote-count columns ``yta``, ``nta``, ``esh``, ``nah`` (also spelled ``votes_yta``
  or ``yta_votes``; case does not matter). The verdict may be a code (``NTA``) or a flair text
  (``Not the A-hole``, ``Asshole``, ``Everyone Sucks``, ``No A-holes here``). With vote counts the
  reference distribution is their shares; without, it is all on the verdict.
* **Scruples-style anecdotes JSONL** (``scruples``): one object a line with ``id``, ``title``,
  ``text`` and, for the reference, ``label_scores`` (counts for ``AUTHOR``, ``OTHER``,
  ``EVERYBODY``, ``NOBODY``, ``INFO``), else ``label``, else ``binarized_label_scores``
  (``RIGHT``/``WRONG``) or ``binarized_label``. ``AUTHOR`` maps to YTA, ``OTHER`` to NTA,
  ``EVERYBODY`` to ESH and ``NOBODY`` to NAH; ``INFO`` votes (more information needed) are left out.
  Binarized scores only tell right from wrong, so ``RIGHT`` counts as NTA and ``WRONG`` as YTA.
  ``post_type`` ``HYPOTHETICAL`` asks "Would I be the asshole?"; ``post_id``, ``post_type`` and
  the action description are kept under ``meta``.

Every input row gets a :class:`RowReport`; a row that cannot become a valid record (no text, no
verdict, an ``INFO``-only verdict...) is reported with the reason, never dropped silently. Imported
items have no values in tension (``values: []``) and no domain; their split comes from their id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2b_env.errors import DataError
from s2b_env.scenarios.csv_rows import read_csv_rows
from s2b_env.scenarios.data import SCHEMA_VERSION, VERDICTS, parse_record, parse_verdict

FORMATS: tuple[str, ...] = ("aita-csv", "scruples")
SCRUPLES_LABELS: dict[str, str] = {
    "AUTHOR": "YTA", "OTHER": "NTA", "EVERYBODY": "ESH", "NOBODY": "NAH",
}  # fmt: skip
SCRUPLES_BINARY: dict[str, str] = {"WRONG": "YTA", "RIGHT": "NTA"}
_INFO_WORDS = ("info", "not enough info", "more info needed", "need more info")


@dataclass(frozen=True)
class RowReport:
    """What became of one input row.

    Attributes:
        line: 1-based line of the row in the input (for CSV, the line its record starts on).
        source_id: The row's own id, when it has one.
        record: The scenario record (a dict ready for JSON) when the row imported.
        error: Why it did not, else ``None``.
    """

    line: int
    source_id: str | None
    record: dict[str, Any] | None = None
    error: DataError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class ImportResult:
    """The reports of one import, in input order."""

    path: Path
    format: str
    rows: list[RowReport] = field(default_factory=list)

    @property
    def records(self) -> list[dict[str, Any]]:
        return [r.record for r in self.rows if r.record is not None]

    @property
    def failed(self) -> list[RowReport]:
        return [r for r in self.rows if not r.ok]

    def write_jsonl(self, out: str | Path, *, replace: bool = False) -> int:
        """Write the imported records to ``out`` (JSON Lines); returns how many were written.

        The records go to a temporary file beside ``out``, renamed over it only once all are
        written: a failed write leaves ``out`` as it was.

        Args:
            out: The file to write.
            replace: Replace an existing ``out``; without it an existing file is an error.

        Raises:
            S2BError: ``out`` exists (and ``replace`` is false), is a folder, or cannot be made
                because a file stands where a folder is needed.
        """
        from s2b_env.safe_io import atomic_write_lines

        lines = (json.dumps(record, ensure_ascii=False) + "\n" for record in self.records)
        return atomic_write_lines(out, lines, replace=replace)


def _distribution(counts: Mapping[str, float]) -> dict[str, float] | None:
    total = sum(counts.values())
    if total <= 0:
        return None
    return {v: counts.get(v, 0) / total for v in VERDICTS}


def _record(
    path: Path,
    line: int,
    *,
    item_id: str,
    title: str,
    text: str,
    verdicts: dict[str, float],
    votes: dict[str, int] | None,
    source: str,
    question: str | None = None,
    meta: dict[str, Any] | None = None,
    text_field: str = "text",
) -> dict[str, Any]:
    if not text.strip():
        raise DataError(path, "expected the account's text, got ''", line=line, field=text_field)
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "judgment",
        "id": item_id,
        "title": title.strip() or text.strip().split("\n")[0][:80],
        "text": text.strip(),
        "values": [],
        "verdicts": verdicts,
        "source": source,
    }
    if question:
        record["question"] = question
    if votes is not None:
        record["votes"] = votes
    if meta:
        record["meta"] = meta
    parse_record(record, path=path, line=line)  # raises DataError naming the field
    return record


def _rows(result: ImportResult, items: Iterator[tuple[int, Any]], convert) -> ImportResult:
    seen: dict[str, int] = {}
    for line, raw in items:
        try:
            record = convert(line, raw)
        except DataError as exc:
            sid = raw.get("id") if isinstance(raw, dict) else None
            result.rows.append(RowReport(line, str(sid) if sid is not None else None, error=exc))
            continue
        if record["id"] in seen:
            error = DataError(
                result.path, f"duplicate id {record['id']!r}, first on line {seen[record['id']]}",
                line=line, field="id",
            )  # fmt: skip
            result.rows.append(RowReport(line, record["id"], error=error))
            continue
        seen[record["id"]] = line
        result.rows.append(RowReport(line, record["id"], record=record))
    return result


def import_aita_csv(path: str | Path, *, id_prefix: str = "") -> ImportResult:
    """Read an AITA-style CSV (see the module docstring).

    Args:
        path: The CSV file.
        id_prefix: Put before every id (e.g. ``"aita-"``) to keep ids apart from other files.

    Returns:
        One report per data row.

    Raises:
        FileNotFoundError: The file does not exist.
        DataError: The header lacks a required column.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"AITA CSV {str(path)!r} does not exist")
    names, csv_rows = read_csv_rows(path, looks_like_row=_aita_line_is_row)
    header = {name.strip().lower(): name for name in names}
    for column in ("id", "title", "body", "verdict"):
        if column not in header:
            raise DataError(
                path, f"missing column {column!r}; got columns {', '.join(header) or 'none'}",
                line=1, field=column, fix="the header must have id,title,body,verdict",
            )  # fmt: skip
    position = {name: i for i, name in enumerate(names)}
    vote_columns: dict[str, str] = {}
    for verdict in VERDICTS:
        for name in (verdict.lower(), f"votes_{verdict.lower()}", f"{verdict.lower()}_votes"):
            if name in header:
                vote_columns[verdict] = header[name]
                break

    def convert(line: int, fields: list[str]) -> dict[str, Any]:
        if len(fields) != len(names):
            raise DataError(
                path, f"expected {len(names)} fields ({','.join(names)}), got {len(fields)}",
                line=line, fix="put a field that holds a comma in double quotes",
            )  # fmt: skip

        def col(name: str) -> str:
            return fields[position[header[name]]].strip()

        item_id = col("id")
        if not item_id:
            raise DataError(path, "expected a non-empty id, got ''", line=line, field="id")
        votes = None
        if vote_columns:
            votes = {}
            for verdict, name in vote_columns.items():
                votes[verdict] = _vote_count(path, line, name, fields[position[name]])
            votes = {v: votes.get(v, 0) for v in VERDICTS}
        verdicts = _distribution(votes) if votes else None
        if verdicts is None:
            said = col("verdict")
            verdict = parse_verdict(said)
            if verdict is None:
                why = "an INFO verdict (more information needed) has no s2b equivalent" if (
                    said.lower() in _INFO_WORDS) else f"expected a verdict such as NTA, got {said!r}"  # fmt: skip
                raise DataError(path, why, line=line, field=header["verdict"])
            verdicts = {v: float(v == verdict) for v in VERDICTS}
        return _record(
            path, line, item_id=id_prefix + item_id, title=col("title"), text=col("body"),
            verdicts=verdicts, votes=votes, source=f"aita-csv:{path.name}",
            text_field=header["body"],
        )  # fmt: skip

    rows = ((row.line, row.fields) for row in csv_rows)
    return _rows(ImportResult(path, "aita-csv"), rows, convert)


def _aita_line_is_row(header: list[str], fields: list[str]) -> bool:
    """Whether a line a quoted field swallowed reads as a row: a verdict where the verdict goes."""
    names = [name.strip().lower() for name in header]
    if "verdict" not in names:
        return True
    said = fields[names.index("verdict")].strip()
    return parse_verdict(said) is not None or said.lower() in _INFO_WORDS


def _vote_count(path: Path, line: int, name: str, cell: str) -> int:
    """A vote-count cell: a whole number >= 0 (``3``, ``3.0``; empty is 0), never rounded."""
    raw = cell.strip() or "0"
    try:
        number = float(raw)
    except ValueError:
        raise DataError(
            path, f"expected a vote count, got {raw!r}", line=line, field=name
        ) from None
    if not number.is_integer():
        raise DataError(path, f"expected a whole vote count, got {raw}", line=line, field=name)
    if number < 0:
        raise DataError(path, f"expected a count >= 0, got {raw}", line=line, field=name)
    return int(number)


def import_scruples(path: str | Path, *, id_prefix: str = "") -> ImportResult:
    """Read Scruples-style anecdotes JSONL (see the module docstring).

    Args:
        path: The JSONL file.
        id_prefix: Put before every id.

    Returns:
        One report per non-blank line.

    Raises:
        FileNotFoundError: The file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Scruples file {str(path)!r} does not exist")

    def convert(line: int, raw: Any) -> dict[str, Any]:
        if isinstance(raw, DataError):
            raise raw
        if not isinstance(raw, dict):
            raise DataError(path, f"expected a JSON object, got {type(raw).__name__}", line=line)
        item_id = raw.get("id")
        if not isinstance(item_id, str | int) or str(item_id) == "":
            raise DataError(path, f"expected an id, got {item_id!r}", line=line, field="id")
        verdicts, votes = _scruples_reference(path, line, raw)
        post_type = raw.get("post_type")
        action = raw.get("action")
        meta = {
            "post_id": raw.get("post_id"),
            "post_type": post_type,
            "action": action.get("description") if isinstance(action, dict) else None,
        }
        text = raw.get("text")
        if not isinstance(text, str):
            raise DataError(path, f"expected text, got {text!r}", line=line, field="text")
        return _record(
            path, line, item_id=id_prefix + str(item_id), title=str(raw.get("title") or ""),
            text=text, verdicts=verdicts, votes=votes, source=f"scruples:{path.name}",
            question="Would I be the asshole?" if post_type == "HYPOTHETICAL" else None,
            meta={k: v for k, v in meta.items() if v is not None},
        )  # fmt: skip

    def rows() -> Iterator[tuple[int, Any]]:
        # Each line is decoded on its own: a bad byte or a deeply nested line is that row's error.
        for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                yield number, DataError(
                    path, f"expected UTF-8 text, got byte 0x{raw[exc.start]:02x} ({exc.reason})",
                    line=number, fix="save the file as UTF-8",
                )  # fmt: skip
                continue
            if not text.strip():
                continue
            try:
                yield number, json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, DataError(path, f"not valid JSON: {exc.msg}", line=number)
            except RecursionError:
                yield number, DataError(
                    path, "nested too deeply: expected one flat JSON object", line=number,
                    fix="write each anecdote as one JSON object",
                )  # fmt: skip

    return _rows(ImportResult(path, "scruples"), rows(), convert)


def _scruples_reference(path: Path, line: int, raw: Mapping[str, Any]):
    scores = raw.get("label_scores")
    if isinstance(scores, dict) and scores:
        votes = {}
        for key, verdict in SCRUPLES_LABELS.items():
            count = scores.get(key, 0)
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise DataError(path, f"expected a count >= 0, got {count!r}", line=line,
                                field=f"label_scores.{key}")  # fmt: skip
            votes[verdict] = count
        verdicts = _distribution(votes)
        if verdicts is not None:
            return verdicts, votes
    label = raw.get("label")
    if isinstance(label, str) and label in SCRUPLES_LABELS:
        return {v: float(v == SCRUPLES_LABELS[label]) for v in VERDICTS}, None
    binary = raw.get("binarized_label_scores")
    if isinstance(binary, dict):
        counts = {SCRUPLES_BINARY[k]: v for k, v in binary.items() if k in SCRUPLES_BINARY}
        if all(isinstance(v, int) and v >= 0 for v in counts.values()):
            verdicts = _distribution(counts)
            if verdicts is not None:
                return verdicts, None
    blabel = raw.get("binarized_label")
    if isinstance(blabel, str) and blabel in SCRUPLES_BINARY:
        return {v: float(v == SCRUPLES_BINARY[blabel]) for v in VERDICTS}, None
    field_name = "label_scores" if "label_scores" in raw else "label"
    got = raw.get(field_name)
    raise DataError(
        path,
        f"expected label_scores with votes, a label (AUTHOR, OTHER, EVERYBODY, NOBODY) or "
        f"binarized_label(_scores), got {field_name}={got!r}",
        line=line, field=field_name,
    )  # fmt: skip


def import_file(path: str | Path, fmt: str, *, id_prefix: str = "") -> ImportResult:
    """Import ``path`` in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "aita-csv":
        return import_aita_csv(path, id_prefix=id_prefix)
    if fmt == "scruples":
        return import_scruples(path, id_prefix=id_prefix)
    raise ValueError(f"format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
