"""The one walkthrough reader: a text file of commands, one a line.

Blank lines are skipped and lines starting with ``#`` are comments. :func:`walkthrough_lines` gives
every other line with its number (and, with ``comments=True``, the comment lines too, for formats
that put directives there, like the own games' ``# score: 12``, see :mod:`s2b_env.inform.data`);
:func:`read_walkthrough` gives just the commands. Both read the file as UTF-8 (a leading byte-order mark
is dropped) and refuse control characters, naming the line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from s2b_env.errors import DataError, read_text


def walkthrough_lines(path: str | Path, *, comments: bool = False) -> Iterator[tuple[int, str]]:
    """The non-blank lines of a walkthrough file, stripped, with their 1-based numbers.

    Args:
        path: The file.
        comments: Also give the ``#`` lines (by default they are skipped).

    Raises:
        FileNotFoundError: The file does not exist.
        DataError: The file is not UTF-8, or a line holds a control character (names the line).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"walkthrough file {str(path)!r} does not exist")
    text = read_text(path, encoding="utf-8-sig")  # a leading byte-order mark is dropped
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or (line.startswith("#") and not comments):
            continue
        if any(ord(ch) < 32 and ch != "\t" for ch in line):
            raise DataError(path, "expected a plain-text command", line=number, field="command")
        yield number, line


def read_walkthrough(path: str | Path) -> list[str]:
    """The commands of a walkthrough file, in order (blank lines and ``#`` comments skipped).

    Raises:
        FileNotFoundError: The file does not exist.
        DataError: The file is not UTF-8, is empty, or a line holds a control character.
    """
    commands = [line for _, line in walkthrough_lines(path)]
    if not commands:
        raise DataError(path, "expected one command per line, found none")
    return commands


__all__ = ["read_walkthrough", "walkthrough_lines"]
