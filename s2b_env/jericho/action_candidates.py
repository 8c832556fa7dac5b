"""Candidate actions for :mod:`s2b_env.jericho.valid_actions`: templates, objects in scope, filling.

No spaCy: templates come from jericho's grammar bindings, object words from the object tree and
the game's dictionary, aliases are grouped by the game's own ``examine`` answers (jericho's
method), and the representative of equivalent commands is picked by jericho's verb counts.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

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


@functools.cache
def _no_verbs() -> frozenset[str]:
    from jericho import defines

    return frozenset(defines.ILLEGAL_ACTIONS) | frozenset(defines.NO_EFFECT_ACTIONS)


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


_VOCABULARIES: dict[str, Vocabulary] = {}


def game_vocabulary(env: Any) -> Vocabulary:
    """The templates and dictionary of ``env``'s story file (computed once per file)."""
    found = _VOCABULARIES.get(env.checksum)
    if found is None:
        found = _VOCABULARIES[env.checksum] = _build_vocabulary(env)
    return found


def _build_vocabulary(env: Any) -> Vocabulary:
    from jericho.template_action_generator import TemplateActionGenerator

    frotz = env.emulator
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
        if verb not in covered and len(verb) > 1 and verb.isalpha() and verb not in _no_verbs():
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
        held_names, names = _tree_object_names(env.emulator)
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
    """The alias the game's own description ends its noun phrase with, else the first alias.

    ``"There's nothing special about the painting."`` names the painting, not ``art``; in
    ``"the brass lever"`` the later word, ``lever``, is the noun. Words are compared as the parser
    reads them (first ``length`` characters); the description's own spelling is returned.
    """
    spelled = _WORD.findall(description.lower())
    found = {w[:length]: (i, w) for i, w in reversed(list(enumerate(spelled)))}
    known = [found[w[:length]] for w in words if w[:length] in found]
    return max(known)[1] if known else words[0]


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


__all__ = [
    "GENERIC_MIN_GAMES",
    "Scope",
    "Vocabulary",
    "choose_representatives",
    "fill_templates",
    "game_vocabulary",
    "objects_in_scope",
]
