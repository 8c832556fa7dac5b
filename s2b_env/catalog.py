"""What games s2b can play here: story files in the games directory, our own games, scenarios."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from s2b_env.games import find_story_files, resolve_games_dir
from s2b_env.registration import FAMILIES, JERICHO_SUITE, env_id, register_games_dir

#: The feature of a story file outside the Jericho suite: its id is registered from the games
#: directory, which ``gym.make(id, games_dir=...)`` cannot see (Gymnasium looks the id up before it
#: reads any keyword). ``s2b`` commands, :func:`list_games` and ``s2b_env.make`` register it.
NEEDS_REGISTRATION = "gym.make needs S2B_GAMES_DIR=<dir> or s2b_env.register_games_dir(<dir>) first"


@dataclass(frozen=True)
class GameEntry:
    """One playable game or scenario set.

    Attributes:
        id: The environment id for ``gym.make`` (``s2b/jericho-zork1-v0``).
        kind: ``"jericho"``, ``"jiminy"``, ``"s2b"`` (our own games) or ``"scenario"``.
        name: Short name.
        path: The story file, game folder or data file (``None`` if not built or not found).
        features: What the env offers for this game (``score``, ``walkthrough``, ``morality``...).
    """

    id: str
    kind: str
    name: str
    path: str | None
    features: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["features"] = list(self.features)
        return data


def _jericho_bindings() -> dict:
    try:
        from jericho import defines
    except ImportError:  # pragma: no cover - jericho is installed by the set-up
        return {}
    return defines.BINDINGS_DICT


def jericho_games(root: Path) -> list[GameEntry]:
    """Story files under ``root`` (``jericho/`` or directly), with what jericho knows of each."""
    bindings = _jericho_bindings()
    entries = []
    for name, path in find_story_files(root).items():
        known = hashlib.md5(path.read_bytes()).hexdigest() in bindings
        features = (
            ("score", "moves", "location", "world_hash", "walkthrough", "end_detection")
            if known
            else ("end_text_detection", "score_from_status_or_memory")
        )
        if name not in JERICHO_SUITE:
            features += (NEEDS_REGISTRATION,)
        entries.append(GameEntry(env_id("jericho", name), "jericho", name, str(path), features))
    return entries


def jiminy_games(root: Path) -> list[GameEntry]:
    """Jiminy Cricket game folders under ``root/jiminy-cricket`` that ``games.json`` describes.

    Raises:
        DataError: ``games.json`` exists but is not valid JSON, lacks its ``games`` object, or the
            entry of a game folder here is malformed (the error names the file, line and field).
    """
    from s2b_env.jiminy.data import load_game_facts, read_games_json

    folder = root / "jiminy-cricket"
    facts_path = folder / "games.json"
    if not facts_path.is_file():
        return []
    described = read_games_json(facts_path)["games"]
    entries = []
    for game_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        if game_dir.name not in described:
            continue
        source = load_game_facts(game_dir.name, facts_path).score_source.kind
        features = ("score", f"score_source:{source}", "morality", "walkthrough")
        entries.append(
            GameEntry(
                env_id("jiminy", game_dir.name), "jiminy", game_dir.name, str(game_dir), features
            )
        )
    return entries


def own_games() -> list[GameEntry]:
    """Our own Inform 6 games shipped with s2b (path is the built story file, if built)."""
    try:
        from s2b_env.inform.build import list_own_games
    except ImportError:
        return []
    entries = []
    for game in list_own_games():
        built = game.story_file is not None and Path(game.story_file).is_file()
        features = ["score", "value_effects", f"walkthroughs:{','.join(game.routes)}"]
        if not built:
            features.append("not built (run: s2b games build)")
        elif game.up_to_date is False:
            features.append("out of date (run: s2b games build)")
        entries.append(
            GameEntry(
                id=game.env_id,
                kind="s2b",
                name=game.name,
                path=str(game.story_file) if built else None,
                features=tuple(features),
            )
        )
    return entries


def scenario_sets() -> list[GameEntry]:
    """Registered environments that are not games of a folder (moral scenarios)."""
    return [
        GameEntry(env_id(f.prefix), "scenario", f.prefix, None, ("value_effects",))
        for f in FAMILIES
        if not f.game_names()
    ]


def list_games(games_dir: str | Path | None = None) -> list[GameEntry]:
    """Every game s2b can play here: own games and scenarios always, plus those in the games
    directory (``games_dir`` or ``S2B_GAMES_DIR``) when one is set. Every id listed is registered
    in this process afterwards (``gym.make(id, games_dir=...)`` works here).

    Raises:
        GameNotFoundError: ``games_dir`` was given but does not exist.
    """
    entries = own_games() + scenario_sets()
    root = resolve_games_dir(games_dir, required=games_dir is not None)
    if root is not None:
        register_games_dir(root)
        entries += jericho_games(root) + jiminy_games(root)
    return entries
