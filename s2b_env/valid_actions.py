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
   :mod:`s2b_env.probe_pool`); the ones that change the world are kept and grouped by their world
   diff; one command stands for each group (the most used verb, jericho's rule; ``wait`` for the
   group of commands that only let time pass).

The game never advances. Results are cached by the world-state hash (jericho's object tree and
special RAM where jericho knows the game, a hash of all dynamic RAM elsewhere) together with the
story file's checksum: a bounded LRU shared by every env of the process, and, opt-in, a SQLite file
under the s2b cache folder shared by runs.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from s2b_env.action_cache import DiskCache, LRUCache
from s2b_env.probe_pool import (
    Prober,
    ProbeResult,
    can_start_workers,
    default_workers,
    shared_pool,
)
from s2b_env.watchdog import check_timeout

#: Bump when the way valid actions are found changes (old disk-cache entries then miss).
FORMAT = 1
#: Capacity of the process-wide LRU until a config asks for more.
DEFAULT_CACHE_SIZE = 4096
#: How many games' grammars a template must appear in to join the generic set.
GENERIC_MIN_GAMES = 3

_DIRECTIONS = frozenset(
    "north south east west northeast northwest southeast southwest up down in out "
    "n s e w ne nw se sw u d".split()
)
_NOT_OBJECTS = _DIRECTIONS | frozenset(
    "all everything me myself self yourself you it them him her here there a an the this that "
    "some of to with on at from into onto".split()
)
_WORD = re.compile(r"[a-z][a-z'-]*")


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
        for name in ("batch_size", "max_objects", "cache_size"):
            value = getattr(self, name)
            low = 0 if name == "cache_size" else 1
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


@dataclass(frozen=True)
class Vocabulary:
    """What a game's parser understands, for building candidates.

    Attributes:
        templates: Action templates, ``OBJ`` marking each object slot.
        words: Dictionary words as stored (cut to ``word_length`` characters).
        nouns: The dictionary words flagged as nouns.
        word_length: Characters of a word the parser reads.
        source: Where the templates came from (for documentation and tests).
    """

    templates: tuple[str, ...]
    words: frozenset[str]
    nouns: frozenset[str]
    word_length: int
    source: str

    def knows(self, word: str) -> bool:
        """Whether the parser knows ``word``."""
        return word[: self.word_length] in self.words

    def object_word(self, word: str) -> bool:
        """Whether ``word`` can name an object: a dictionary noun that is no direction or pronoun."""
        return word not in _NOT_OBJECTS and word[: self.word_length] in self.nouns


@dataclass
class FoundActions:
    """The valid actions of one state, and what went wrong while finding them."""

    actions: list[str]
    warnings: list[str] = field(default_factory=list)
    cached: bool = False


#: The process-wide cache of valid actions, shared by every env and episode.
MEMORY_CACHE = LRUCache(DEFAULT_CACHE_SIZE)
_DISK_CACHES: dict[Path, DiskCache] = {}
_VOCABULARIES: dict[str, Vocabulary] = {}


class ValidActionFinder:
    """Finds the valid actions of a :class:`~s2b_env.jericho_env.JerichoEnv`'s current state.

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
        if env._ended:
            return FoundActions([])
        key = cache_key(env, self.config)
        use_memory = self.config.cache_size > 0
        hit = MEMORY_CACHE.get(key) if use_memory else None
        if hit is None and self.disk is not None:
            hit = self.disk.get(key)
            if hit is not None and use_memory:
                MEMORY_CACHE.put(key, hit)
        if hit is not None:
            return FoundActions(list(hit), cached=True)
        vocabulary = game_vocabulary(env)
        scope = objects_in_scope(env, vocabulary, self.config.max_objects)
        commands = [c for c in fill_templates(vocabulary.templates, scope) if _allowed(env, c)]
        result = self._probe(env, commands)
        actions = choose_representatives(result.changed, vocabulary.word_length)
        warnings = _warnings(result, self.config.probe_timeout)
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
        if workers >= 1 and can_start_workers():
            pool = shared_pool(workers)
            return pool.probe(
                str(env.story_path),
                env._frotz.get_state(),
                commands,
                timeout=config.probe_timeout,
                batch_size=config.batch_size,
            )
        if self._prober is None or self._prober_of is not env._frotz:
            self._prober = Prober(env._frotz)
            self._prober_of = env._frotz
        try:
            return self._prober.probe(
                commands, timeout=config.probe_timeout, batch_size=config.batch_size
            )
        finally:
            env._memory.stale = True


def cache_key(env: Any, config: ValidActionConfig) -> str:
    """The cache key of ``env``'s state: story checksum, env class, state hash, settings."""
    parts = (FORMAT, env.checksum, type(env).__name__, state_hash(env), config.max_objects)
    return "|".join(str(p) for p in parts)


def state_hash(env: Any) -> str:
    """Jericho's world hash where jericho knows the game, else a hash of all dynamic RAM."""
    if env.known:
        return "w" + env._memory.world_hash()
    return "r" + hashlib.blake2b(env._memory.refresh().data, digest_size=16).hexdigest()


def world_signature(env: Any) -> str:
    """A hash of the world's objects: equal after commands with the same effect.

    Where jericho knows the game this is its world hash (object tree, attributes and the game's
    special RAM, less the noise jericho filters out). Elsewhere it hashes the object table (tree
    and attributes), found from the story header; global variables are left out, since they
    also hold the parser's last verb and the move counter.
    """
    if env.known:
        return env._memory.world_hash()
    ram = env._memory.refresh()
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


def game_vocabulary(env: Any) -> Vocabulary:
    """The templates and dictionary of ``env``'s story file (computed once per file)."""
    found = _VOCABULARIES.get(env.checksum)
    if found is None:
        found = _VOCABULARIES[env.checksum] = _build_vocabulary(env)
    return found


def _build_vocabulary(env: Any) -> Vocabulary:
    from jericho.template_action_generator import TemplateActionGenerator

    frotz = env._frotz
    dictionary = frotz.get_dictionary()
    words = frozenset(str(w.word) for w in dictionary)
    nouns = frozenset(str(w.word) for w in dictionary if w.is_noun)
    verbs = [str(w.word) for w in dictionary if w.is_verb]
    bindings = frotz.bindings or {}
    if bindings and getattr(frotz, "act_gen", None) is not None:
        length = int(bindings["max_word_length"])
        templates = _spelled_out(frotz.act_gen.templates, length)
        return Vocabulary(templates, words, nouns, length, "jericho")
    length = 6 if env.header.version <= 3 else 9
    vocab = Vocabulary((), words, nouns, length, "")
    same_name = _bindings_by_name().get(env.game)
    if same_name is not None:
        templates = TemplateActionGenerator(same_name).templates
        kept = [t for t in templates if _template_known(t, vocab)]
        return Vocabulary(_spelled_out(kept, length), words, nouns, length, f"jericho:{env.game}")
    kept = [t for t in _generic_templates() if _template_known(t, vocab)]
    covered = {t.split()[0][:length] for t in kept}
    for verb in sorted(verbs):
        if verb not in covered and verb.isalpha() and verb not in _NOT_OBJECTS:
            kept.extend([verb, f"{verb} OBJ"])
    return Vocabulary(_spelled_out(kept, length), words, nouns, length, "generic")


def _spelled_out(templates: list[str] | tuple[str, ...], length: int) -> tuple[str, ...]:
    """Templates with words the dictionary cut short (``examin``) written out (``examine``).

    A cut word becomes the most used verb of ClubFloyd's transcripts (jericho's verb counts) that
    starts with it; the parser reads only the first ``length`` characters, so both mean the same.
    """
    full = _full_words(length)
    out = []
    for template in templates:
        out.append(" ".join(full.get(w, w) if len(w) == length else w for w in template.split()))
    return tuple(dict.fromkeys(out))


@functools.cache
def _full_words(length: int) -> dict[str, str]:
    """Prefix of ``length`` characters -> the most used ClubFloyd verb that starts with it."""
    import json
    from importlib.resources import files

    counts = json.loads((files("jericho") / "clubfloyd_verb_counts.json").read_text())
    best: dict[str, tuple[int, str]] = {}
    for verb, count in counts.items():
        if len(verb) > length and verb.isalpha():
            prefix = verb[:length]
            if prefix not in best or (count, verb) > best[prefix]:
                best[prefix] = (count, verb)
    return {prefix: verb for prefix, (_, verb) in best.items()}


def _template_known(template: str, vocab: Vocabulary) -> bool:
    return all(vocab.knows(w) for w in template.split() if w != "OBJ")


@functools.cache
def _bindings_by_name() -> dict[str, dict]:
    from jericho import defines

    return {b["name"]: b for b in defines.BINDINGS_DICT.values()}


@functools.cache
def _generic_templates() -> tuple[str, ...]:
    """Templates in at least :data:`GENERIC_MIN_GAMES` of jericho's games' grammars, by use."""
    from jericho.template_action_generator import TemplateActionGenerator

    counts: dict[str, int] = {}
    for bindings in _bindings_by_name().values():
        for template in set(TemplateActionGenerator(bindings).templates):
            counts[template] = counts.get(template, 0) + 1
    common = [t for t, n in counts.items() if n >= GENERIC_MIN_GAMES]
    return tuple(sorted(common, key=lambda t: (-counts[t], t)))


@dataclass
class Scope:
    """The words naming the objects around the player; ``held`` are those carried."""

    objects: list[str]
    held: set[str]


def objects_in_scope(env: Any, vocabulary: Vocabulary, limit: int) -> Scope:
    """Words naming the objects around the player, at most ``limit``, one per object, and ``all``.

    The object tree's objects come first where jericho knows the game; then the nouns of the
    game's answers to ``inventory`` and ``look`` (which also name the room's fixtures that the
    tree keeps elsewhere, such as doors and windows shared by two rooms). A word is kept if the
    game recognises ``examine <word>`` (probed; jericho's list of "not understood" answers), and
    words the game describes alike are one object (jericho's grouping of aliases), named by the
    alias its description uses.
    """
    from jericho.util import clean, recognized

    held_names: list[str] = []
    names: list[str] = []
    if env.known:
        held_names, names = _tree_object_names(env._frotz)
    inventory = env.probe("inventory")
    held_names += _WORD.findall(inventory.lower())
    names = held_names + names + _WORD.findall(env.probe("look").lower())
    held_words = {_object_word(n, vocabulary) for n in held_names}
    groups: dict[str, list[str]] = {}  # examine answer -> the words giving it (aliases)
    seen: set[str] = set()
    for name in names:
        word = _object_word(name, vocabulary)
        if word is None or word[: vocabulary.word_length] in seen:
            continue
        seen.add(word[: vocabulary.word_length])
        description = clean(env.probe(f"examine {word}"))
        if recognized(description):
            groups.setdefault(description, []).append(word)
            if len(groups) == limit:
                break
    length = vocabulary.word_length
    chosen = [_best_alias(words, d, length) for d, words in groups.items()]
    held = {_best_alias(words, d, length) for d, words in groups.items() if set(words) & held_words}
    if vocabulary.knows("all"):
        chosen.append("all")
        held.add("all")
    return Scope(chosen, held)


def _best_alias(words: list[str], description: str, length: int) -> str:
    """The alias the game's own description uses (``painting``, not ``art``), else the first.

    Words are compared as the parser reads them (first ``length`` characters); the description's
    own spelling is returned.
    """
    used = {w[:length]: w for w in reversed(_WORD.findall(description.lower()))}
    return next((used[w[:length]] for w in words if w[:length] in used), words[0])


def _tree_object_names(frotz: Any) -> tuple[list[str], list[str]]:
    """Names of the objects the player holds, and of the others under the player's room."""
    objects = frotz.get_world_objects()
    player = frotz.player_obj_num
    if not 0 < player < len(objects):
        return [], []
    room = objects[player].parent
    if not 0 < room < len(objects):
        return [], []
    held = _subtree(objects, objects[player].child, {player, room})
    around = _subtree(objects, objects[room].child, {player, room})
    held_set = set(held)
    return (
        [objects[n].name for n in held],
        [objects[n].name for n in around if n not in held_set],
    )


def _subtree(objects: Any, first: int, skip: set[int]) -> list[int]:
    """Object numbers reached from ``first`` through child and sibling links (``skip`` left out)."""
    found: list[int] = []
    stack = [first]
    seen = set(skip)
    while stack:
        number = stack.pop()
        if not 0 < number < len(objects) or number in seen:
            continue
        seen.add(number)
        if objects[number].name:
            found.append(number)
        stack.extend([objects[number].sibling, objects[number].child])
    return found


def _object_word(name: str, vocabulary: Vocabulary) -> str | None:
    """The word that names an object: its last dictionary noun, else its last known word."""
    words = [w for w in _WORD.findall(name.lower()) if w not in _NOT_OBJECTS]
    for word in reversed(words):
        if vocabulary.object_word(word):
            return word
    return None


def fill_templates(templates: tuple[str, ...] | list[str], scope: Scope) -> list[str]:
    """Every template with its ``OBJ`` slots filled from ``scope``.

    One-object templates take every object; two-object templates every ordered pair of distinct
    objects of which at least one is held (``put X in Y``, ``unlock X with Y``: what is moved or
    used is carried, or ``all``), which keeps the count near linear in the objects.
    """
    objects, held = scope.objects, scope.held
    commands: list[str] = []
    for template in templates:
        holes = template.count("OBJ")
        if holes == 0:
            commands.append(template)
        elif holes == 1:
            commands.extend(template.replace("OBJ", o) for o in objects)
        elif holes == 2:
            commands.extend(
                template.replace("OBJ", a, 1).replace("OBJ", b, 1)
                for a in objects
                for b in objects
                if a != b and (a in held or b in held)
            )
    return list(dict.fromkeys(commands))


def _allowed(env: Any, command: str) -> bool:
    return bool(command) and ";" not in command and command.isascii() and not env._refusal(command)


def choose_representatives(changed: list[tuple[str, bytes]], word_length: int) -> list[str]:
    """One command per world diff, sorted.

    ``wait`` stands for its group; otherwise a command naming its objects beats one saying
    ``all``, then the most used verb wins (jericho's rule), then the shorter command.
    """
    from jericho.util import verb_usage_count

    groups: dict[bytes, list[str]] = {}
    for command, diff in changed:
        groups.setdefault(diff, []).append(command)
    chosen = []
    for group in groups.values():
        if "wait" in group:
            chosen.append("wait")
            continue
        chosen.append(
            min(
                group,
                key=lambda c: (
                    "all" in c.split(),
                    -verb_usage_count(c, word_length),
                    len(c),
                    c,
                ),
            )
        )
    return sorted(set(chosen))


def _warnings(result: ProbeResult, timeout: float) -> list[str]:
    notes = [
        f"valid actions: skipped {c!r}: the game was still busy after {timeout:g} s (stopped)"
        for c in result.hung
    ]
    notes += [f"valid actions: skipped {c!r}: it halted the emulator" for c in result.halted]
    if result.unprobed:
        notes.append(
            f"valid actions: {len(result.unprobed)} candidates not probed: a probe worker "
            "stalled and was restarted; this list is incomplete and was not cached"
        )
    return notes


def _disk_cache(config: ValidActionConfig) -> DiskCache:
    if config.cache_file is not None:
        path = Path(config.cache_file).expanduser()
    else:
        from s2b_env.inform_build import cache_dir

        path = cache_dir() / "valid_actions.sqlite"
    path = path.resolve()
    if path not in _DISK_CACHES:
        _DISK_CACHES[path] = DiskCache(path)
    return _DISK_CACHES[path]


__all__ = [
    "DEFAULT_CACHE_SIZE",
    "MEMORY_CACHE",
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
    "world_signature",
]
