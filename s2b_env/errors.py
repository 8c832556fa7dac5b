"""Error types shared across s2b.

Every error a user can cause by bad input says what was expected, what was found, and how to fix
it. Data-file errors also name the file, the line and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class S2BError(Exception):
    """Base class of s2b's own errors; the CLI prints these without a traceback."""


class GameNotFoundError(S2BError, FileNotFoundError):
    """A game or story file could not be found where s2b looked for it."""


class StoryFileError(S2BError, ValueError):
    """A file exists but is not a Z-machine story file s2b can run."""


class ConfigError(S2BError, ValueError):
    """A setting (a command-line option, a config field, a keyword) has a bad value; the message
    names the setting, what was expected and what was given."""


class DataError(S2BError, ValueError):
    """A data file (annotations, scenarios, survey, walkthrough...) has a bad record.

    Args:
        path: The file that holds the bad record.
        message: What is wrong: expected vs got.
        line: 1-based line number, when the record has one.
        field: The field (column, key) that is wrong, when one is.
        fix: How to fix it, when that is not obvious from the message.
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.field = field
        self.message = message
        self.fix = fix
        where = str(self.path)
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field {field!r}"
        text = f"{where}: {message}"
        if fix:
            text += f" (fix: {fix})"
        super().__init__(text)


def read_text(path: str | Path, *, encoding: str = "utf-8") -> str:
    """Read a UTF-8 data file; a byte that is not UTF-8 is a :class:`DataError`, not a bare one.

    Args:
        path: The file.
        encoding: ``"utf-8"``, or ``"utf-8-sig"`` to drop a leading byte-order mark.

    Returns:
        The file's text (newlines as :meth:`pathlib.Path.read_text` gives them).

    Raises:
        DataError: The file is not UTF-8; names the file, the line and the offending byte.
        FileNotFoundError: The file does not exist (callers check that with their own message).
    """
    path = Path(path)
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise DataError(
            path,
            f"expected UTF-8 text, got byte 0x{exc.object[exc.start]:02x} ({exc.reason})",
            line=line,
            fix="save the file as UTF-8",
        ) from None


class MissingDependencyError(S2BError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, module: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the Python package {module!r}, which is not installed. "
            f"Install it with: pip install 's2b[{extra}]'"
        )


def require(module: str, extra: str, purpose: str):
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra to install.

    Args:
        module: Importable module name, e.g. ``"torch"``.
        extra: The s2b extra that provides it, e.g. ``"llm"``.
        purpose: What needs it, for the message, e.g. ``"The transformers backend"``.

    Returns:
        The imported module.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module, extra, purpose) from exc


def parse_json(path: str | Path, text: str) -> Any:
    """Parse a JSON data file's text: bad JSON is a :class:`DataError` naming line and column.

    Args:
        path: The file the text came from (for the message).
        text: Its text, e.g. from :func:`read_text` (callers may keep it to find lines later).

    Returns:
        The parsed value.

    Raises:
        DataError: The text is not valid JSON, or is nested too deeply to parse.
    """
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            path, f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
        ) from None
    except RecursionError:
        line = text[: len(text) - len(text.lstrip())].count("\n") + 1
        raise DataError(
            path, "JSON nested too deeply to read", line=line, fix="write it as plain JSON data"
        ) from None
