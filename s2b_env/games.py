"""Finding games on disk and checking story files before the emulator sees them.

Story files are never shipped with s2b. They are found under a games directory given by the
``games_dir=`` keyword, the ``--games-dir`` option or the ``S2B_GAMES_DIR`` setting. A games directory
holds ``jericho/<name>.z5`` files (story files may also sit directly in it) and, for the Jiminy
Cricket games, ``jiminy-cricket/<game>/`` folders.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from s2b_env.errors import GameNotFoundError, StoryFileError

STORY_SUFFIXES: tuple[str, ...] = tuple(f".z{v}" for v in range(1, 9))
HOW_TO_POINT = (
    "point s2b at a games directory with games_dir=... (Python), --games-dir DIR (CLI) "
    "or the S2B_GAMES_DIR setting; it should hold jericho/<game>.z5 files"
)


def resolve_games_dir(games_dir: str | Path | None = None, *, required: bool = True) -> Path | None:
    """Return the games directory to use.

    Args:
        games_dir: An explicit directory; wins over ``S2B_GAMES_DIR``.
        required: Raise when neither is given (otherwise return ``None``).

    Raises:
        GameNotFoundError: No directory was given, or the given one does not exist.
    """
    value = games_dir if games_dir not in (None, "") else os.environ.get("S2B_GAMES_DIR") or None
    if value is None:
        if required:
            raise GameNotFoundError(f"no games directory is set: {HOW_TO_POINT}")
        return None
    root = Path(value).expanduser()
    if not root.is_dir():
        if required:
            raise GameNotFoundError(f"games directory {str(root)!r} does not exist: {HOW_TO_POINT}")
        return None
    return root.resolve()


def _story_dirs(root: Path) -> list[Path]:
    return [d for d in (root / "jericho", root) if d.is_dir()]


def find_story_files(root: str | Path) -> dict[str, Path]:
    """Map game name (file stem) to story file for every story file in a games directory."""
    found: dict[str, Path] = {}
    for folder in _story_dirs(Path(root)):
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in STORY_SUFFIXES and path.is_file():
                found.setdefault(path.stem, path)
    return found


def find_story_file(game: str, games_dir: str | Path | None = None) -> Path:
    """Find the story file of ``game`` in the games directory.

    Raises:
        GameNotFoundError: Naming the directories searched and how to point s2b at games.
    """
    root = resolve_games_dir(games_dir)
    assert root is not None  # required=True
    files = find_story_files(root)
    if game in files:
        return files[game]
    searched = ", ".join(str(d) for d in _story_dirs(root)) or str(root)
    known = ", ".join(sorted(files)[:8]) + (" ..." if len(files) > 8 else "") if files else "none"
    raise GameNotFoundError(
        f"no story file for game {game!r} ({game}.z1 ... {game}.z8) in {searched} "
        f"(story files there: {known}); {HOW_TO_POINT}"
    )


@dataclass(frozen=True)
class StoryHeader:
    """The parts of a Z-machine header s2b uses."""

    version: int
    release: int
    serial: str
    globals_address: int
    status_is_time: bool
    length: int


def read_story_header(path: str | Path) -> StoryHeader:
    """Check that ``path`` is a Z-machine story file Frotz can run, and read its header.

    Frotz aborts the whole process on some malformed files, so s2b checks the header first:
    version 1-8, and every table address inside the file.

    Raises:
        GameNotFoundError: The file does not exist.
        StoryFileError: The file is not a Z-machine story file (says what was found).
    """
    path = Path(path)
    if not path.is_file():
        raise GameNotFoundError(f"story file {str(path)!r} does not exist; {HOW_TO_POINT}")
    data = path.read_bytes()
    what = f"{str(path)!r} is not a Z-machine story file"
    if len(data) < 64:
        raise StoryFileError(f"{what}: expected at least a 64-byte header, got {len(data)} bytes")
    if data[:4] == b"FORM":
        raise StoryFileError(f"{what}: it is a Blorb/IFF archive; extract its .z5/.z8 story file")
    version = data[0]
    if not 1 <= version <= 8:
        raise StoryFileError(f"{what}: expected Z-machine version 1-8 in byte 0, got {version}")

    def word(at: int) -> int:
        return (data[at] << 8) | data[at + 1]

    checks = {
        "high memory base": word(0x04),
        "initial program counter": word(0x06),
        "dictionary address": word(0x08),
        "object table address": word(0x0A),
        "globals address": word(0x0C),
        "static memory base": word(0x0E),
    }
    for name, address in checks.items():
        if not 64 <= address < len(data):
            raise StoryFileError(
                f"{what}: its {name} is {address:#06x}, outside the file's {len(data)} bytes"
            )
    if checks["static memory base"] < checks["globals address"] + 480:
        raise StoryFileError(f"{what}: its global variables do not fit below static memory")
    serial_bytes = data[0x12:0x18]
    if not all(0x20 <= b < 0x7F for b in serial_bytes):
        raise StoryFileError(f"{what}: its serial number (bytes 0x12-0x17) is not printable text")
    scale = 2 if version <= 3 else 4 if version <= 5 else 8
    declared = word(0x1A) * scale
    if declared and declared > len(data):
        raise StoryFileError(
            f"{what}: its header declares {declared} bytes but the file has {len(data)} "
            "(truncated download?)"
        )
    return StoryHeader(
        version=version,
        release=word(0x02),
        serial=serial_bytes.decode("ascii"),
        globals_address=checks["globals address"],
        status_is_time=version <= 3 and bool(data[1] & 0x02),
        length=len(data),
    )


def file_checksum(path: str | Path) -> str:
    """The SHA-256 of a file, as ``"sha256:<hex>"``."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return f"sha256:{digest}"
