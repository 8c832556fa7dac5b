"""Valid actions without spaCy: candidates from the game's grammar, kept if they change the world.

jericho's ``FrotzEnv.get_valid_actions`` needs spaCy and its English model (to find nouns and to
group object names); nothing here imports spaCy. The steps:

1. **Templates** (``"put OBJ in OBJ"``): the game's own grammar from jericho's bindings where jericho
   knows the story file; else the grammar of the jericho game of the same name (a rebuilt Jiminy
   Cricket story); else a generic set: the templates shared by at least three of jericho's 57
   games whose words are all in this game's dictionary, plus ``"<verb>"`` and ``"<verb> OBJ"`` for
   the dictionary's other verbs.
2. **Objects in scope**: where jericho knows the game, the object tree under the player's room
   (the inventory included), one dictionary word per object; then the nouns of the game's answers
   to ``look`` and ``inventory`` (dictionary words flagged as nouns), both probed from a saved
   state; and ``all``, as jericho does.
3. **Candidates**: every template filled with every object (two-object templates with every
   ordered pair of which one object is carried), less those the env would refuse (meta commands,
   a game's banned actions).
4. **Probes**: each candidate is sent from the current state, which is restored after it (see
   :mod:`s2b_env.jericho.probe_pool`); the ones that change the world are kept and grouped by their world
   diff; one command stands for each group (the most used verb, jericho's rule; ``wait`` for the
   group of commands that only let time pass).

The game never advances. Results are cached by the world-state hash (jericho's object tree and
special RAM where jericho knows the game, a hash of all dynamic RAM elsewhere) together with the
story file's checksum: a bounded LRU shared by every env of the process, and, opt-in, a SQLite file
under the s2b cache folder shared by runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from s2b_env.jericho.action_cache import DiskCache, LRUCache
from s2b_env.jericho.action_candidates import (
    Scope,
    Vocabulary,
    choose_representatives,
    fill_templates,
    game_vocabulary,
    objects_in_scope,
)
from s2b_env.jericho.probe_pool import (
    Prober,
    ProbeResult,
    can_start_workers,
    default_workers,
    shared_pool,
)
from s2b_env.jericho.watchdog import check_timeout

#: Bump when the way valid actions are found changes (old disk-cache entries then miss).
FORMAT = 1
#: Capacity of the process-wide LRU until a config asks for more.
DEFAULT_CACHE_SIZE = 4096


@dataclass
class ValidActionConfig:
    """How valid actions are found; pass to ``gym.make(id, valid_actions=config)``."""

    workers: int | None = field(
        default=None,
        metadata={
            "help": "worker processes probing candidates; default: one per CPU core; 0: probe in "
            "this process (also used inside daemonic processes such as vector-env workers)"
        },
    )
    parallel_from: int = field(
        default=1500,
        metadata={
            "help": "fewest candidates worth sending to the workers; fewer are probed in this "
            "process (sending the state costs about as much as a few hundred probes)"
        },
    )
    probe_timeout: float = field(
        default=5.0,
        metadata={
            "help": "seconds a batch of probes may run before it is stopped; the candidate that "
            "hung is skipped and reported in info['warnings']"
        },
    )
    batch_size: int = field(
        default=64, metadata={"help": "candidates probed per call into the emulator"}
    )
    max_objects: int = field(
        default=24, metadata={"help": "most objects in scope used to fill templates"}
    )
    cache_size: int = field(
        default=DEFAULT_CACHE_SIZE,
        metadata={
            "help": "entries of the process-wide LRU cache (it grows to the largest size any env "
            "asks for); 0: do not use the memory cache"
        },
    )
    persist: bool = field(
        default=False,
        metadata={"help": "also keep results in a SQLite file shared by processes and runs"},
    )
    cache_file: str | None = field(
        default=None,
        metadata={
            "help": "the SQLite file for persist=True (default: <s2b cache>/valid_actions.sqlite)"
        },
    )

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_objects", "cache_size", "parallel_from"):
            value = getattr(self, name)
            low = 0 if name in ("cache_size", "parallel_from") else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if self.workers is not None and (
            isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 0
        ):
            raise ValueError(f"workers must be None or an int >= 0, got {self.workers!r}")
        self.probe_timeout = check_timeout(self.probe_timeout, "probe_timeout")
        if not isinstance(self.persist, bool):
            raise TypeError(f"persist must be a bool, got {type(self.persist).__name__}")
        if self.cache_file is not None and not isinstance(self.cache_file, str | Path):
            raise TypeError(f"cache_file must be a path or None, got {self.cache_file!r}")

    @classmethod
    def coerce(cls, value: Any) -> ValidActionConfig | None:
        """``True`` -> defaults, ``False``/``None`` -> off, a dict -> its fields, a config -> itself.

        Raises:
            TypeError: Anything else.
        """
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = sorted(set(value) - {f.name for f in fields(cls)})
            if unknown:
                raise TypeError(f"unknown ValidActionConfig field(s) {unknown}")
            return cls(**value)
        raise TypeError(
            f"valid_actions must be a bool, a dict or a ValidActionConfig, got "
            f"{type(value).__name__}: {value!r}"
        )


@dataclass
class FoundActions:
    """The valid actions of one state, and what went wrong while finding them."""

    actions: list[str]
    warnings: list[str] = field(default_factory=list)
    cached: bool = False


#: The process-wide cache of valid actions, shared by every env and episode.
MEMORY_CACHE = LRUCache(DEFAULT_CACHE_SIZE)
_DISK_CACHES: dict[Path, DiskCache] = {}


class ValidActionFinder:
    """Finds the valid actions of a :class:`~s2b_env.jericho.env.JerichoEnv`'s current state.

    One per env (made by ``JerichoEnv.set_valid_actions``); the caches and worker processes it uses
    are shared by the process.
    """

    def __init__(self, config: ValidActionConfig | None = None) -> None:
        self.config = config or ValidActionConfig()
        if self.config.cache_size > MEMORY_CACHE.capacity:
            MEMORY_CACHE.resize(self.config.cache_size)
        self.disk = _disk_cache(self.config) if self.config.persist else None
        self._prober: Prober | None = None
        self._prober_of: Any = None

    def find(self, env: Any) -> FoundActions:
        """The valid actions from ``env``'s current state (which is left as it was)."""
        if env.ended:
            return FoundActions([])
        key = cache_key(env, self.config)
        use_memory = self.config.cache_size > 0
        hit = MEMORY_CACHE.get(key) if use_memory else None
        if hit is None and self.disk is not None:
            hit = self.disk.get(key)
            if hit is not None and use_memory:
                MEMORY_CACHE.put(key, hit)
        noted = self.disk.take_warnings() if self.disk is not None else []
        if hit is not None:
            return FoundActions(list(hit), noted, cached=True)
        vocabulary = game_vocabulary(env)
        scope = objects_in_scope(env, vocabulary, self.config.max_objects)
        commands = [c for c in fill_templates(vocabulary.templates, scope) if _allowed(env, c)]
        result = self._probe(env, commands)
        actions = choose_representatives(result.changed, vocabulary.word_length)
        warnings = noted + _warnings(result, self.config.probe_timeout)
        if not result.unprobed:  # complete: worth keeping
            value = tuple(actions)
            if use_memory:
                MEMORY_CACHE.put(key, value)
            if self.disk is not None:
                self.disk.put(key, value)
        return FoundActions(actions, warnings)

    def _probe(self, env: Any, commands: list[str]) -> ProbeResult:
        config = self.config
        workers = default_workers() if config.workers is None else config.workers
        if workers >= 1 and len(commands) >= config.parallel_from and can_start_workers():
            pool = shared_pool(workers)
            return pool.probe(
                str(env.story_path),
                env.emulator.get_state(),
                commands,
                timeout=config.probe_timeout,
                batch_size=config.batch_size,
            )
        # probing() restores the game, marks its memory stale and removes files a story wrote
        with env.probing(*commands) as emulator:
            if self._prober is None or self._prober_of is not emulator:
                self._prober = Prober(emulator)
                self._prober_of = emulator
            return self._prober.probe(
                commands, timeout=config.probe_timeout, batch_size=config.batch_size
            )


def cache_key(env: Any, config: ValidActionConfig) -> str:
    """The cache key of ``env``'s state: story checksum, env class, state hash, settings."""
    parts = (FORMAT, env.checksum, type(env).__name__, state_hash(env), config.max_objects)
    return "|".join(str(p) for p in parts)


def state_hash(env: Any) -> str:
    """Jericho's world hash where jericho knows the game, else a hash of all dynamic RAM."""
    if env.known:
        return "w" + env.memory.world_hash()
    return "r" + hashlib.blake2b(env.memory.refresh().data, digest_size=16).hexdigest()


def world_signature(env: Any) -> str:
    """A hash of the world's objects: equal after commands with the same effect.

    Where jericho knows the game this is its world hash (object tree, attributes and the game's
    special RAM, less the noise jericho filters out). Elsewhere it hashes the object table (tree
    and attributes), found from the story header; global variables are left out, since they
    also hold the parser's last verb and the move counter.
    """
    if env.known:
        return env.memory.world_hash()
    ram = env.memory.refresh()
    start, end = object_table_bounds(ram, env.header.version)
    return hashlib.blake2b(ram[start:end].tobytes(), digest_size=16).hexdigest()


def object_table_bounds(ram: Any, version: int) -> tuple[int, int]:
    """``(start, end)`` of the object entries in dynamic memory ``ram`` of a version-N story."""
    small = version <= 3
    table = (int(ram[0x0A]) << 8) | int(ram[0x0B])
    start = table + (31 if small else 63) * 2
    entry, prop_at = (9, 7) if small else (14, 12)
    end, lowest = start, len(ram)
    while end + entry <= lowest:
        prop = (int(ram[end + prop_at]) << 8) | int(ram[end + prop_at + 1])
        if prop:
            lowest = min(lowest, prop)
        end += entry
    return start, end


def _allowed(env: Any, command: str) -> bool:
    return (
        bool(command) and ";" not in command and command.isascii() and env.refusal(command) is None
    )


def _warnings(result: ProbeResult, timeout: float) -> list[str]:
    notes = [
        f"valid actions: skipped {c!r}: the game was still busy after {timeout:g} s (stopped)"
        for c in sorted(result.hung)
    ]
    notes += [
        f"valid actions: skipped {c!r}: it halted the emulator" for c in sorted(result.halted)
    ]
    if result.unprobed:
        notes.append(
            f"valid actions: {len(result.unprobed)} candidates not probed: a probe worker "
            "stalled and was restarted; this list is incomplete and was not cached"
        )
    return notes


@dataclass
class Coverage:
    """How often a walkthrough's next command (or one with the same effect) was a valid action.

    Attributes:
        steps: Walkthrough commands played.
        covered: Commands found among the valid actions, or matched by a valid action that leaves
            the same :func:`world_signature` after the step.
        changing: Commands that changed the world signature (the others cannot be matched: valid
            actions are the ones that change it).
        missed: ``(index, command)`` of the commands not covered.
        seconds: Time spent finding valid actions.
    """

    steps: int = 0
    covered: int = 0
    changing: int = 0
    missed: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Covered share of all steps."""
        return self.covered / self.steps if self.steps else 0.0


def walkthrough_coverage(
    env: Any, commands: list[str], *, finder: ValidActionFinder | None = None
) -> Coverage:
    """Play ``commands`` from ``env``'s current state, checking each against the valid actions.

    ``env`` is a reset :class:`~s2b_env.jericho.env.JerichoEnv`; it ends after the commands.
    """
    import time

    saved_config = env.valid_action_config
    finder = finder or ValidActionFinder(saved_config)
    env.set_valid_actions(False)  # the probing steps below need no info lists
    coverage = Coverage()
    try:
        for index, command in enumerate(commands):
            state, before = env.get_state(), world_signature(env)
            start = time.perf_counter()
            actions = finder.find(env).actions
            coverage.seconds += time.perf_counter() - start
            *_, terminated, truncated, _ = env.step(command)
            after = world_signature(env)
            covered = " ".join(command.lower().split()) in actions
            tried = False
            for action in [] if covered else actions:
                env.set_state(state)
                env.step(action)
                tried = True
                if world_signature(env) == after:
                    covered = True
                    break
            if not covered:
                coverage.missed.append((index, command))
            if tried:  # back on the walkthrough's own path (equal signatures, not equal states)
                env.set_state(state)
                *_, terminated, truncated, _ = env.step(command)
            coverage.steps += 1
            coverage.covered += covered
            coverage.changing += after != before
            if terminated or truncated:
                break
    finally:
        env.set_valid_actions(saved_config or False)
    return coverage


def _disk_cache(config: ValidActionConfig) -> DiskCache:
    if config.cache_file is not None:
        path = Path(config.cache_file).expanduser()
    else:
        from s2b_env.cache import cache_dir

        path = cache_dir() / "valid_actions.sqlite"
    path = path.resolve()
    if path not in _DISK_CACHES:
        _DISK_CACHES[path] = DiskCache(path)
    return _DISK_CACHES[path]


__all__ = [
    "DEFAULT_CACHE_SIZE",
    "MEMORY_CACHE",
    "Coverage",
    "FoundActions",
    "Scope",
    "ValidActionConfig",
    "ValidActionFinder",
    "Vocabulary",
    "cache_key",
    "choose_representatives",
    "fill_templates",
    "game_vocabulary",
    "object_table_bounds",
    "objects_in_scope",
    "state_hash",
    "walkthrough_coverage",
    "world_signature",
]
