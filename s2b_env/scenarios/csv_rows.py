"""Reading a CSV file's rows so that a stray quote can never merge rows silently.

Python's :mod:`csv` reader, left to itself, reads a quote that is never closed as a field that runs
to the end of the file, and a quote that closes a few lines later as one field holding those lines:
the rows in between vanish into another row's text. :func:`read_csv_rows` reads strictly and checks
what the reader found against the file's lines:

* a quote that is never closed is an error at the line where it opens;
* a quoted field that closes with more text after it (``"text" more``) is an error there too;
* a quoted field that runs over whole lines which would read as rows of their own (as many fields
  as the header, a verdict where the verdict goes) is an error naming the line the quote opens on
  and the first swallowed line (the line where the quote closes is not judged: it holds the rest
  of the row, so it reads like a row even when the quote is right);
* a field over the reader's size limit (128 KiB) is an error naming its row;
* a file that is not UTF-8 is an error naming the line of the first bad byte.

Harmless variants are read as they are: quoted fields over several lines that hold prose, doubled
quotes inside quoted fields, a quote inside an unquoted field (``5" of snow``), a byte-order mark,
Windows line ends and blank lines.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from s2b_env.errors import DataError, read_text

_QUOTE_FIX = 'close the quote, or write a quote inside a quoted field as two ("")'


@dataclass(frozen=True)
class CsvRow:
    """One data row.

    Attributes:
        line: The 1-based line its record starts on.
        end: The line it ends on (greater than ``line`` when a quoted field spans lines).
        fields: Its fields, as the reader split them.
    """

    line: int
    end: int
    fields: list[str]


def read_csv_rows(
    path: Path,
    looks_like_row: Callable[[list[str], list[str]], bool] | None = None,
) -> tuple[list[str], list[CsvRow]]:
    """Read a CSV file's header and data rows, refusing rows that merge (see the module docstring).

    Args:
        path: The CSV file (UTF-8, a leading byte-order mark allowed).
        looks_like_row: Given the header and the fields of one physical line, says whether the
            line reads as a row of its own (asked only of lines with as many fields as the
            header). Lines swallowed by a quoted
            field that it accepts make the file an error. ``None``: any line with as many fields
            as the header reads as a row.

    Returns:
        The header's fields and the data rows (blank lines skipped).

    Raises:
        DataError: The file is not UTF-8, is empty, or a quote merges or swallows rows; the
            message names the line where the quote opens.
    """
    text = read_text(path, encoding="utf-8-sig")
    lines = text.split("\n")
    reader = csv.reader(io.StringIO(text), strict=True)
    rows: list[CsvRow] = []
    start = 1
    try:
        header = next(reader, None)
        while True:
            start = reader.line_num + 1
            fields = next(reader, None)
            if fields is None:
                break
            if fields:
                rows.append(CsvRow(start, reader.line_num, fields))
    except csv.Error as exc:
        raise _reader_error(path, lines, start, reader.line_num, exc) from None
    if not header:
        raise DataError(path, "expected a header row, got an empty file", line=1)
    for row in rows:
        if row.end > row.line:
            _check_swallowed(path, lines, header, row, looks_like_row)
    return header, rows


def _reader_error(path: Path, lines: list[str], start: int, end: int, exc: csv.Error) -> DataError:
    message = str(exc)
    opened = (_last_open_quote(lines, start, end) or (None, 0))[0]
    if "field larger than field limit" in message:
        limit = csv.field_size_limit()
        hint = (
            f"; the quote opened on line {opened} may never close"
            if opened is not None and opened != start
            else ""
        )
        return DataError(
            path,
            f"a field of the row starting here is over {limit} characters (the CSV reader's "
            f"limit){hint}",
            line=start,
            fix="shorten the text to under 128 KiB, or " + _QUOTE_FIX,
        )
    if "unexpected end of data" in message:
        return DataError(
            path,
            "a quote opened on this line is never closed: the rest of the file would be one field",
            line=opened or start,
            fix=_QUOTE_FIX,
        )
    if "expected after" in message:
        where = opened or start
        span = f"; lines {where + 1}-{end} were read into it" if end > where else ""
        return DataError(
            path,
            f"the quoted field opened on line {where} closes on line {end} with more text after "
            f"the closing quote{span}",
            line=where,
            fix=_QUOTE_FIX,
        )
    return DataError(path, f"not valid CSV: {message}", line=opened or start)


def _last_open_quote(lines: list[str], start: int, end: int) -> tuple[int, int] | None:
    """Where the last quoted field of the record on lines ``start..end`` opens: its line and its
    0-based field index, or ``None`` when no field there is quoted."""
    found: tuple[int, int] | None = None
    in_quote, at_start, index = False, True, 0
    for number in range(start, min(end, len(lines)) + 1):
        text = lines[number - 1]
        i = 0
        while i < len(text):
            ch = text[i]
            if in_quote:
                if ch == '"':
                    if text[i + 1 : i + 2] == '"':
                        i += 1
                    else:
                        in_quote = False
            elif ch == '"' and at_start:
                in_quote, found = True, (number, index)
            elif ch == ",":
                index += 1
            at_start = not in_quote and ch == ","
            i += 1
        if not in_quote:  # a line end outside quotes ends the record
            in_quote, at_start, index = False, True, 0
    return found


def _check_swallowed(
    path: Path,
    lines: list[str],
    header: list[str],
    row: CsvRow,
    looks_like_row: Callable[[list[str], list[str]], bool] | None,
) -> None:
    # Only the lines wholly inside the quoted text: the closing line holds the row's own remaining
    # fields, so it reads like a row even when the quote is right.
    for number in range(row.line + 1, row.end):
        try:
            fields = next(csv.reader([lines[number - 1]]), [])
        except csv.Error:
            continue
        if len(fields) != len(header) or not fields[0].strip():
            continue
        if looks_like_row is not None and not looks_like_row(header, fields):
            continue
        opened, index = _last_open_quote(lines, row.line, number - 1) or (row.line, -1)
        column = header[index].strip() if 0 <= index < len(header) else None
        raise DataError(
            path,
            f"the quoted text opened on line {opened} runs over line {number}, which reads as a "
            f"row of its own (id {fields[0].strip()!r}): a quote is left open",
            line=opened,
            field=column,
            fix=_QUOTE_FIX,
        )
