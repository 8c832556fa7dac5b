"""Shared pieces of s2b's text environments: spaces, action cleaning, status lines, end text.

Everything here is pure text handling, shared by every environment over a Z-machine game.
"""

from __future__ import annotations

import os
import re
import string
import time
import unicodedata
from dataclasses import dataclass, field

from gymnasium import spaces

#: Frotz's input buffer holds 200 bytes; 2 are the newline and the terminator (as in jericho).
MAX_ACTION_LENGTH = 198
#: Longest observation kept; longer game output is cut with a warning in ``info``.
MAX_OBSERVATION_LENGTH = 32_768

#: Characters an action may hold: printable ASCII (letters, digits, punctuation, space), except
#: the backslash, which Frotz's terminal layer reads as an escape (``\Q`` quits, ``\U`` undoes...).
ACTION_CHARSET = "".join(sorted(set(string.printable) - set("\t\n\r\x0b\x0c\\")))
#: Characters an observation may hold: printable ASCII, newline and tab, and Latin-1 letters.
OBSERVATION_CHARSET = ACTION_CHARSET + "\\\n\t" + "".join(chr(c) for c in range(0xA0, 0x100))
_OBS_ALLOWED = frozenset(OBSERVATION_CHARSET)


def action_space() -> spaces.Text:
    """The action space of every text-game env: free text up to Frotz's input limit."""
    return spaces.Text(min_length=0, max_length=MAX_ACTION_LENGTH, charset=ACTION_CHARSET)


def observation_space(max_length: int = MAX_OBSERVATION_LENGTH) -> spaces.Text:
    """The observation space of the text envs: game text with newlines."""
    return spaces.Text(min_length=0, max_length=max_length, charset=OBSERVATION_CHARSET)


@dataclass
class CleanAction:
    """An agent's action after cleaning, with what was changed.

    Attributes:
        text: What will be sent to the game (may be empty).
        warnings: One line per change made (truncation, dropped characters).
    """

    text: str
    warnings: list[str] = field(default_factory=list)


def clean_action(action: object) -> CleanAction:
    """Turn an agent's action into a command Frotz accepts.

    Non-ASCII letters are folded to ASCII where they have an equivalent (``é`` -> ``e``), other
    non-printable characters (newlines, control characters, emoji) and backslashes (Frotz's escape
    character) become spaces, runs of spaces collapse, and text past :data:`MAX_ACTION_LENGTH` is
    cut. Every change is reported.

    Raises:
        TypeError: ``action`` is not a string.
    """
    if not isinstance(action, str):
        raise TypeError(f"an action must be a str, got {type(action).__name__}: {action!r:.80}")
    warnings: list[str] = []
    text = action
    if not text.isascii():
        folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
        warnings.append("non-ASCII characters were folded to ASCII or dropped")
        text = folded
    if "\\" in text:
        warnings.append("backslashes were removed (Frotz reads them as interpreter escapes)")
        text = text.replace("\\", " ")
    # printable ASCII without a backslash is all in ACTION_CHARSET: no per-character pass needed
    if not text.isprintable():
        cleaned = "".join(ch if ch in ACTION_CHARSET else " " for ch in text)
        warnings.append("control characters (newlines, tabs, ...) were replaced by spaces")
        text = cleaned
    text = " ".join(text.split())
    if not text:
        warnings.append(EMPTY_ACTION_NOTE)
    if len(text) > MAX_ACTION_LENGTH:
        warnings.append(
            f"action was {len(text)} characters; cut to the game's limit of {MAX_ACTION_LENGTH}"
        )
        text = text[:MAX_ACTION_LENGTH].rstrip()
    return CleanAction(text=text, warnings=warnings)


#: Commands that control the interpreter or the story file rather than the story. They never
#: reach the emulator: saving, restoring, restarting or quitting would desynchronise the env's
#: state, and transcripts write files.
META_COMMANDS = frozenset(
    {
        "q", "quit", "restart", "save", "restore", "script", "unscript", "noscript",
        "transcript", "notranscript", "undo", "recording", "replay", "playback",
        "purloin", "gonear", "abstract", "showobj", "routines", "timers", "daemons",
    }
)  # fmt: skip
#: Word beginnings that also mark a meta-command (``restarting``, ``restore game``, ``scripting``).
META_PREFIXES = ("restar", "restor", "script", "unscript", "transcri", "$", "#", "@")
_SEGMENT_SPLIT = re.compile(r"[.,;!?]|\bthen\b", re.IGNORECASE)

#: The fixed reply to a refused meta-command.
META_REFUSAL = "[That command controls the game program, not the story, and is not available here.]"
#: The note in ``info["warnings"]`` when an empty action is sent: games that wait for a key
#: press ("[Press RETURN to continue]") need it, so it reaches the game as a bare Enter.
EMPTY_ACTION_NOTE = "the action is empty: the game received an empty line (Enter)"
#: The fixed reply to any action after the game has ended.
ENDED_REFUSAL = "[The game is over. Reset the environment to play again.]"
#: The observation of a command the step watchdog stopped (the game is as it was before it).
TIMEOUT_REFUSAL = "[The game did not answer in time; the command was stopped and nothing happened.]"


def is_meta_command(command: str) -> bool:
    """Whether any sentence of ``command`` starts with a meta-command word.

    ``"n. save"`` and ``"take lamp then quit"`` count: the parser would run each part.
    """
    for segment in _SEGMENT_SPLIT.split(command.lower()):
        words = segment.split()
        if words and (words[0] in META_COMMANDS or words[0].startswith(META_PREFIXES)):
            return True
    return False


# A status line as Frotz prints it for games jericho does not know. Version 3 games get a line
# padded to the screen width ("> Room      Score: 0    Moves: 1", or a time game's "Time: 9:00
# am"), anywhere in the output and possibly followed by text on the same line. Version 5+ games
# draw theirs in the upper window, which jericho's Frotz appends after the prompt with the padding
# between fields lost: ">          RoomScore: 0Moves: 1" at the very end.
_FIELDS = (
    r"(?:Score:[ \t]*(?P<score>-?\d+)[ \t]*(?:Moves|Turns):[ \t]*(?P<moves>\d+)"
    r"|Time:[ \t]*\d{1,2}:\d{2}(?:[ \t]*[ap]\.?m\.?)?)"
)
_STATUS_LINE = re.compile(
    r"^[ \t>]*(?P<location>[^\n]*?)[ \t]{3,}" + _FIELDS + r"[ \t]*\n?",
    re.MULTILINE | re.IGNORECASE,
)
_PROMPT_STATUS_LINE = re.compile(
    r">[ \t]{3,}(?P<location>[^\n]*?)[ \t]*" + _FIELDS + r"[ \t]*\Z", re.IGNORECASE
)


@dataclass(frozen=True)
class StatusLine:
    """The fields of a removed status line."""

    location: str
    score: int | None
    moves: int | None


def split_status_line(text: str) -> tuple[str, StatusLine | None]:
    """Remove status lines from game output (Frotz prints one per screen redraw, anywhere).

    Returns:
        The text without status lines and without leading blank lines, and the last status line
        parsed (``None`` if there was none).
    """
    if "core:" not in text and "ime:" not in text and "CORE:" not in text and "IME:" not in text:
        return text, None  # the common case, decided without a regular expression
    status = None
    trailing = _PROMPT_STATUS_LINE.search(text)
    if trailing:
        status = _status(trailing)
        text = text[: trailing.start()]
    matches = list(_STATUS_LINE.finditer(text))
    if matches:
        status = status or _status(matches[-1])
        text = _STATUS_LINE.sub("", text).lstrip("\n")
    return text, status


def _status(match: re.Match) -> StatusLine:
    score = match.group("score")
    moves = match.group("moves")
    return StatusLine(
        location=match.group("location").strip(),
        score=int(score) if score is not None else None,
        moves=int(moves) if moves is not None else None,
    )


# How games announce their end. Infocom: "****  You have died  ****"; Inform: "*** You have won ***".
_DEATH = re.compile(r"\*{2,}\s*You have (died|been killed|lost)\b", re.IGNORECASE)
_VICTORY = re.compile(r"\*{2,}\s*You have (won|triumphed|succeeded)\b", re.IGNORECASE)
_END_PROMPT = re.compile(
    r"(would you like to|do you (wish|want) to)\s+restart,?\s+restore", re.IGNORECASE
)


def detect_end(text: str) -> tuple[bool, bool]:
    """Detect the end of a game from its output, for story files jericho does not know.

    Returns:
        ``(game_over, victory)``: whether the game ended, and whether it was won.
    """
    if _VICTORY.search(text):
        return True, True
    if _DEATH.search(text) or _END_PROMPT.search(text):
        return True, False
    return False, False


#: jericho's Frotz returns at most this many characters of a step's output; the rest is lost.
FROTZ_OUTPUT_LIMIT = 8191


def raw_output_warnings(raw: str) -> list[str]:
    """A warning for ``info`` when the emulator's output filled jericho's buffer (and was cut)."""
    if len(raw) < FROTZ_OUTPUT_LIMIT:
        return []
    return [
        f"the game printed more than jericho's {FROTZ_OUTPUT_LIMIT}-character output buffer "
        "holds; the text after that was lost"
    ]


def clean_observation(text: str, limit: int = MAX_OBSERVATION_LENGTH) -> tuple[str, list[str]]:
    """Make game output fit the observation space.

    Carriage returns are dropped, characters outside :data:`OBSERVATION_CHARSET` become ``?``, and
    text past ``limit`` is cut. Returns the text and one warning per change.
    """
    warnings: list[str] = []
    text = text.replace("\r", "")
    if not _OBS_ALLOWED.issuperset(text):
        text = "".join(ch if ch in _OBS_ALLOWED else "?" for ch in text)
        warnings.append("characters outside the observation charset were replaced by '?'")
    if len(text) > limit:
        warnings.append(f"observation was {len(text)} characters; cut to {limit}")
        text = text[:limit]
    return text, warnings


#: What Frotz names the files it writes in the working directory: saves, transcripts, command
#: records, and auxiliary tables a game saves with ``@save`` and arguments.
FROTZ_FILE_SUFFIXES = (".qzl", ".scr", ".rec", ".aux")


#: How far a directory's modification time must lie in the past before an unchanged time proves
#: nothing was written since: file times come from the kernel's coarse clock, which lags the
#: wall clock by a tick (milliseconds), and some file systems keep whole seconds or two.
MTIME_SETTLE_NS = 2_000_000_000


def _cwd_mtime() -> int | None:
    try:
        return os.stat(".").st_mtime_ns
    except OSError:
        return None


def _file_key(entry: os.DirEntry[str]) -> tuple[int, int, int] | None:
    try:
        if not entry.is_file(follow_symlinks=False):
            return None
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class StrayFileGuard:
    """Removes files a game writes by itself into the working directory.

    Meta-commands never reach the emulator, but a story can still run the Z-machine's ``@save``
    from its own code (Frotz then writes ``<story>.qzl`` into the current directory) or open a
    transcript (Frotz's terminal layer then takes the pending command line as the file's name).

    The guard lists the directory when it is made. A file counts as the game's when its name is
    one Frotz gives (``<story>.qzl``, ``.scr``, ``.rec``, any ``.aux``, or a command line just
    sent) and it is new since then or changed (another inode, time or size); files that were
    there and are untouched are never removed. Timestamps are only compared with themselves,
    never with the clock, because file times come from a coarser clock than ``time.time_ns``.
    After a step the guard costs one ``stat`` of the directory: an unchanged modification time
    that had settled (:data:`MTIME_SETTLE_NS`) when it was read means nothing was written.

    Args:
        stem: The story file's name without extension (Frotz's default file name).
    """

    def __init__(self, stem: str) -> None:
        self.stem = stem
        self._mtime, self._settled = self._read_mtime()
        self._before: dict[str, tuple[int, int, int] | None] = {}
        try:
            entries = list(os.scandir("."))
        except OSError:
            entries = []
        for entry in entries:
            self._before[entry.name] = (
                _file_key(entry) if self._named_by_frotz(entry.name) else None
            )

    @staticmethod
    def _read_mtime() -> tuple[int | None, bool]:
        mtime = _cwd_mtime()
        settled = mtime is not None and time.time_ns() - mtime > MTIME_SETTLE_NS
        return mtime, settled

    def _named_by_frotz(self, name: str) -> bool:
        stem, suffix = os.path.splitext(name)
        suffix = suffix.lower()
        return suffix in FROTZ_FILE_SUFFIXES and (suffix == ".aux" or stem == self.stem)

    def _is_stray(self, entry: os.DirEntry[str], commands: tuple[str, ...]) -> bool:
        name = entry.name
        if self._named_by_frotz(name):
            if name not in self._before:
                return True
            key = _file_key(entry)
            return key is not None and key != self._before[name]
        return name in commands and name not in self._before

    def sweep(self, *commands: str) -> list[str]:
        """Remove the game's stray files; returns one warning per file removed.

        Args:
            *commands: The command lines just sent (a transcript file takes one as its name).
        """
        mtime = _cwd_mtime()
        if mtime is not None and mtime == self._mtime and self._settled:
            return []
        names = tuple(c.strip() for c in commands if c.strip())
        warnings: list[str] = []
        try:
            entries = list(os.scandir("."))
        except OSError:
            entries = []
        for entry in entries:
            try:
                if not self._is_stray(entry, names) or not entry.is_file(follow_symlinks=False):
                    continue
                os.unlink(entry.path)
            except OSError:
                continue
            self._before.pop(entry.name, None)
            warnings.append(
                f"the game wrote the file {entry.name!r} by itself (a save or transcript); removed"
            )
        self._mtime, self._settled = self._read_mtime()
        return warnings
