"""Building s2b's own Inform 6 games from source, and listing them.

The games' sources ship with s2b under ``games/inform/<name>/<name>.inf``; their story files are
never shipped or committed. They are compiled with Debian's ``inform6-compiler`` and
``inform6-library`` into a cache directory:

* :func:`s2b_env.cache.cache_dir` (``S2B_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/s2b``, else
  ``~/.cache/s2b``);
* each game goes to ``<cache>/games/<name>/<name>.z5`` with ``<name>.json`` beside it, holding
  the build key and what the env needs from the compiler's debug file (``-k``): the addresses of
  the ``score``, ``turns`` and ``deadflag`` globals, ``MAX_SCORE``, the serial and the story
  file's checksum. Jericho does not know our story files, so the env reads score and end state
  straight from the emulator's memory at those addresses.

The build key hashes the source, the compiler's version, the library's files and the compiler
switches: a game is rebuilt only when one of them changed (or with ``force=True``). Builds are
deterministic: every game sets ``Serial``, so the same inputs give the same bytes.

Settings: ``S2B_INFORM6`` (the compiler program, default ``inform6`` on ``PATH``) and
``S2B_INFORM6_LIB`` (the library folder, default ``/usr/share/inform6/library``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from s2b_env.cache import cache_dir
from s2b_env.errors import GameNotFoundError, S2BError
from s2b_env.inform.data import (
    SOURCE_DIR,
    annotations_file,
    game_dir,
    own_game_names,
    source_file,
    walkthrough_files,
)

#: Where the own games' sources live.
#: How to install the compiler and library.
INSTALL_HINT = (
    "install them with: sudo apt-get install inform6-compiler inform6-library "
    "(or run scripts/setup.sh)"
)
#: Library folders tried when ``S2B_INFORM6_LIB`` is not set.
LIBRARY_DIRS = (
    "/usr/share/inform6/library",
    "/usr/local/share/inform6/library",
    "/usr/share/inform6/lib",
)
#: Compiler switches: Z-machine version 5, write the debug file ``gameinfo.dbg``.
SWITCHES = ("-v5", "-k")
#: Bump when the build recipe or the metadata format changes.
BUILD_FORMAT = 1
#: Globals the env reads from memory.
REQUIRED_GLOBALS = ("score", "turns", "deadflag")

_GLOBAL_RE = re.compile(
    r"<global-variable><identifier>(\w+)</identifier><address>\s*(\d+)\s*</address>"
)
_CONSTANT_RE = re.compile(r"<constant><identifier>(\w+)</identifier><value>\s*(-?\d+)\s*</value>")
_STORY_CONSTANT_RE = re.compile(r'^\s*Constant\s+(Story|Headline)\s+"([^"]*)"', re.MULTILINE)


class InformToolsMissingError(S2BError, FileNotFoundError):
    """The Inform 6 compiler or its library is not installed."""


class InformBuildError(S2BError):
    """The compiler rejected a game's source, or its output is unusable."""


@dataclass(frozen=True)
class StoryInfo:
    """What the env needs to know about a built own game.

    Attributes:
        name: The game's name.
        story_file: The compiled ``.z5`` file.
        addresses: Byte addresses of the globals in :data:`REQUIRED_GLOBALS`.
        max_score: The game's ``MAX_SCORE`` constant, if it has one.
        serial: The story file's serial (``YYMMDD``).
        checksum: ``"sha256:<hex>"`` of the story file.
        key: The build key the file was built with.
        compiler: The compiler's version line.
    """

    name: str
    story_file: Path
    addresses: dict[str, int]
    max_score: int | None
    serial: str
    checksum: str
    key: str
    compiler: str

    def to_json(self) -> dict:
        return {
            "format": BUILD_FORMAT,
            "name": self.name,
            "story_file": self.story_file.name,
            "addresses": self.addresses,
            "max_score": self.max_score,
            "serial": self.serial,
            "checksum": self.checksum,
            "key": self.key,
            "compiler": self.compiler,
        }

    @classmethod
    def from_json(cls, data: dict, folder: Path) -> StoryInfo:
        return cls(
            name=data["name"],
            story_file=folder / data["story_file"],
            addresses={k: int(v) for k, v in data["addresses"].items()},
            max_score=data["max_score"],
            serial=data["serial"],
            checksum=data["checksum"],
            key=data["key"],
            compiler=data["compiler"],
        )


@dataclass(frozen=True)
class BuildResult:
    """The outcome of building one game.

    Attributes:
        name: The game's name.
        info: The built story file and its metadata.
        built: ``True`` if it was compiled now, ``False`` if the cached build was up to date.
        seconds: Time taken.
        warnings: The compiler's warnings (our games compile without any).
    """

    name: str
    info: StoryInfo
    built: bool
    seconds: float
    warnings: tuple[str, ...] = ()

    @property
    def story_file(self) -> Path:
        return self.info.story_file


@dataclass(frozen=True)
class OwnGame:
    """One of s2b's own games, as listed by ``s2b games list``.

    Attributes:
        name: Folder name under ``games/inform``, e.g. ``"lastferry"``.
        env_id: Its Gymnasium id, ``s2b/s2b-<name>-v0``.
        title: The ``Story`` constant of the source.
        headline: The ``Headline`` constant, without newlines.
        source: The ``.inf`` file.
        annotations: The annotations file.
        routes: Names of its walkthroughs.
        story_file: The built story file, or ``None`` if it has not been built.
        up_to_date: Whether the built file matches the current source and compiler (``None``
            when the compiler is not installed, so it cannot be checked).
    """

    name: str
    env_id: str
    title: str
    headline: str
    source: Path
    annotations: Path
    routes: tuple[str, ...]
    story_file: Path | None
    up_to_date: bool | None


def build_dir(name: str, cache: str | Path | None = None) -> Path:
    """Where an own game's build goes: ``<cache>/games/<name>``."""
    return Path(cache or cache_dir()) / "games" / name


def find_compiler() -> Path:
    """The Inform 6 compiler program.

    Raises:
        InformToolsMissingError: It is not installed (the message says how to install it).
    """
    wanted = os.environ.get("S2B_INFORM6") or "inform6"
    found = shutil.which(wanted)
    if found is None:
        raise InformToolsMissingError(
            f"the Inform 6 compiler ({wanted!r}) was not found, and s2b's own games are built "
            f"from source with it; {INSTALL_HINT}"
        )
    return Path(found)


def find_library() -> Path:
    """The Inform 6 library folder (the one holding ``parser.h``).

    Raises:
        InformToolsMissingError: It is not installed (the message says how to install it).
    """
    explicit = os.environ.get("S2B_INFORM6_LIB")
    candidates = [explicit] if explicit else list(LIBRARY_DIRS)
    for folder in candidates:
        path = Path(folder)
        if (path / "parser.h").is_file() or (path / "Parser.h").is_file():
            return path
    raise InformToolsMissingError(
        f"the Inform 6 library (parser.h) was not found in {', '.join(candidates)}; "
        f"{INSTALL_HINT}" + ("" if explicit else ", or set S2B_INFORM6_LIB to its folder")
    )


@functools.lru_cache(maxsize=8)
def _compiler_version(path: str, mtime: float) -> str:
    done = subprocess.run([path, "-V"], capture_output=True, text=True, timeout=30, check=False)
    line = (done.stdout or done.stderr).strip().splitlines()
    if not line or not line[0].startswith("Inform"):
        raise InformToolsMissingError(
            f"{path} does not look like the Inform 6 compiler ('-V' printed {line[:1]}); "
            f"{INSTALL_HINT}"
        )
    return line[0]


def compiler_version(compiler: Path | None = None) -> str:
    """The compiler's version line, e.g. ``"Inform 6.41 (22nd July 2022)"``."""
    compiler = compiler or find_compiler()
    return _compiler_version(str(compiler), compiler.stat().st_mtime)


def _library_digest(library: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(library.iterdir()):
        if path.suffix.lower() == ".h" and path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_key(source: Path, compiler: str, library_digest: str) -> str:
    """The hash that decides whether a build is up to date."""
    digest = hashlib.sha256()
    for part in (str(BUILD_FORMAT), " ".join(SWITCHES), compiler, library_digest):
        digest.update(part.encode() + b"\0")
    digest.update(source.read_bytes())
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _read_info(folder: Path, name: str) -> StoryInfo | None:
    meta = folder / f"{name}.json"
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        if data.get("format") != BUILD_FORMAT:
            return None
        info = StoryInfo.from_json(data, folder)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not info.story_file.is_file() or _sha256(info.story_file) != info.checksum:
        return None
    return info


# --------------------------------------------------------------------------- building


def parse_debug_file(
    text: str, path: str | Path = "gameinfo.dbg"
) -> tuple[dict[str, int], int | None]:
    """Read the globals' addresses and ``MAX_SCORE`` from a compiler debug file (``-k``).

    Returns:
        ``({global: address} for REQUIRED_GLOBALS, MAX_SCORE or None)``.

    Raises:
        InformBuildError: A required global is missing.
    """
    found = {m.group(1): int(m.group(2)) for m in _GLOBAL_RE.finditer(text)}
    missing = [g for g in REQUIRED_GLOBALS if g not in found]
    if missing:
        raise InformBuildError(
            f"{path}: the debug file names no global {', '.join(missing)}; expected a game "
            "built with the standard Inform 6 library"
        )
    constants = {m.group(1): int(m.group(2)) for m in _CONSTANT_RE.finditer(text)}
    return {g: found[g] for g in REQUIRED_GLOBALS}, constants.get("MAX_SCORE")


def build_game(name: str, *, force: bool = False, cache: str | Path | None = None) -> BuildResult:
    """Build one own game into the cache unless an up-to-date build is there.

    Args:
        name: The game's name (a folder under ``games/inform``).
        force: Rebuild even if the cached build is up to date.
        cache: The cache folder (default :func:`cache_dir`).

    Raises:
        GameNotFoundError: No such own game.
        InformToolsMissingError: The compiler or library is not installed.
        InformBuildError: The compiler failed (its messages are included).
    """
    start = time.perf_counter()
    source = source_file(name)
    compiler = find_compiler()
    library = find_library()
    version = compiler_version(compiler)
    key = build_key(source, version, _library_digest(library))
    folder = build_dir(name, cache)
    if not force:
        info = _read_info(folder, name)
        if info is not None and info.key == key:
            return BuildResult(name, info, built=False, seconds=time.perf_counter() - start)

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".build-{name}-", dir=folder) as tmp:
        work = Path(tmp)
        out = work / f"{name}.z5"
        command = [str(compiler), *SWITCHES, f"+include_path={library}", str(source), str(out)]
        try:
            done = subprocess.run(
                command, cwd=work, capture_output=True, text=True, timeout=300, check=False
            )
        except subprocess.TimeoutExpired:
            raise InformBuildError(f"compiling {source} took over 300 s; gave up") from None
        messages = [
            line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()
        ]
        errors = [m for m in messages if "Error" in m or "Fatal" in m]
        if done.returncode != 0 or not out.is_file() or errors:
            detail = "; ".join(errors or messages[-5:]) or f"exit status {done.returncode}"
            raise InformBuildError(f"the Inform 6 compiler failed on {source}: {detail}")
        warnings = tuple(m for m in messages if "Warning" in m)
        debug = work / "gameinfo.dbg"
        if not debug.is_file():
            raise InformBuildError(
                f"the compiler wrote no debug file ({debug.name}) for {source}; s2b needs the "
                "-k switch to find the score and end-state globals"
            )
        addresses, max_score = parse_debug_file(
            debug.read_text(encoding="utf-8", errors="replace"), debug
        )
        data = out.read_bytes()
        story = folder / out.name
        info = StoryInfo(
            name=name,
            story_file=story,
            addresses=addresses,
            max_score=max_score,
            serial=data[0x12:0x18].decode("ascii", errors="replace"),
            checksum="sha256:" + hashlib.sha256(data).hexdigest(),
            key=key,
            compiler=version,
        )
        os.replace(out, story)
        meta_tmp = work / "meta.json"
        meta_tmp.write_text(json.dumps(info.to_json(), indent=2) + "\n", encoding="utf-8")
        os.replace(meta_tmp, folder / f"{name}.json")
    return BuildResult(
        name, info, built=True, seconds=time.perf_counter() - start, warnings=warnings
    )


def build_all_games(
    force: bool = False,
    progress: Callable[[BuildResult], None] | None = None,
    *,
    cache: str | Path | None = None,
) -> list[BuildResult]:
    """Build every own game (skipping up-to-date ones); what ``s2b games build`` runs.

    Args:
        force: Rebuild every game.
        progress: Called with each game's result as soon as it is done.
        cache: The cache folder (default :func:`cache_dir`).

    Raises:
        InformToolsMissingError: The compiler or library is not installed.
        InformBuildError: A game failed to build.
    """
    results = []
    for name in own_game_names():
        result = build_game(name, force=force, cache=cache)
        if progress is not None:
            progress(result)
        results.append(result)
    return results


def built_story(name: str, cache: str | Path | None = None) -> StoryInfo | None:
    """The cached build of an own game, whether or not it is up to date (``None`` if absent)."""
    source_file(name)  # raises for unknown names
    return _read_info(build_dir(name, cache), name)


def _constants(source: Path) -> dict[str, str]:
    text = source.read_text(encoding="utf-8", errors="replace")
    return {k: v.replace("^", " ").strip() for k, v in _STORY_CONSTANT_RE.findall(text)}


def list_own_games(cache: str | Path | None = None) -> list[OwnGame]:
    """Every own game with its build status; needs no games directory and builds nothing."""
    from s2b_env.registration import env_id

    try:
        compiler = find_compiler()
        version = compiler_version(compiler)
        library_digest = _library_digest(find_library())
    except InformToolsMissingError:
        version = library_digest = None
    games = []
    for name in own_game_names():
        source = source_file(name)
        info = built_story(name, cache)
        if info is None:
            up_to_date: bool | None = False
        elif version is None or library_digest is None:
            up_to_date = None
        else:
            up_to_date = info.key == build_key(source, version, library_digest)
        constants = _constants(source)
        games.append(
            OwnGame(
                name=name,
                env_id=env_id("s2b", name),
                title=constants.get("Story", name),
                headline=constants.get("Headline", ""),
                source=source,
                annotations=annotations_file(name),
                routes=tuple(walkthrough_files(name)),
                story_file=info.story_file if info is not None else None,
                up_to_date=up_to_date,
            )
        )
    return games


__all__ = [
    "SOURCE_DIR",
    "BuildResult",
    "GameNotFoundError",
    "InformBuildError",
    "InformToolsMissingError",
    "OwnGame",
    "StoryInfo",
    "annotations_file",
    "build_all_games",
    "build_game",
    "built_story",
    "cache_dir",
    "find_compiler",
    "find_library",
    "game_dir",
    "list_own_games",
    "own_game_names",
    "source_file",
    "walkthrough_files",
]
