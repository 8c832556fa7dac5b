"""Registration of every s2b environment, generated from one table.

Each row of :data:`FAMILIES` is one kind of environment; its ``names`` give one id per game,
``s2b/<prefix>-<name>-v0`` (or exactly ``s2b/<prefix>-v0`` for a family without names). Entry points
are strings, so nothing heavy is imported until ``gym.make``. Games' files are not needed to
register: they are looked up when the env is made (``games_dir=`` or ``S2B_GAMES_DIR``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym

NAMESPACE = "s2b"

#: The Jericho suite: every game jericho 3.3 knows by its story file's checksum.
JERICHO_SUITE: tuple[str, ...] = (
    "905", "acorncourt", "advent", "adventureland", "afflicted", "anchor", "awaken", "balances",
    "ballyhoo", "curses", "cutthroat", "deephome", "detective", "dragon", "enchanter", "enter",
    "gold", "hhgg", "hollywood", "huntdark", "infidel", "inhumane", "jewel", "karn", "library",
    "loose", "lostpig", "ludicorp", "lurking", "moonlit", "murdac", "night", "omniquest",
    "partyfoul", "pentari", "planetfall", "plundered", "reverb", "seastalker", "sherbet",
    "sherlock", "snacktime", "sorcerer", "spellbrkr", "spirit", "temple", "theatre", "trinity",
    "tryst205", "weapon", "wishbringer", "yomomma", "zenon", "zork1", "zork2", "zork3", "ztuu",
)  # fmt: skip

#: Step limit of a Jericho game: 1000, the common budget in work on these games, unless the game's
#: own walkthrough (jericho's bindings) is longer; then its length rounded up to the next 500.
#: Only spirit's is (1264 commands); tests/s2b_env/jericho/test_walkthroughs.py checks every game.
JERICHO_MAX_STEPS = 1000
JERICHO_LONGER_WALKTHROUGHS: dict[str, int] = {"spirit": 1500}

#: The 25 games of the Jiminy Cricket benchmark (their facts: <games_dir>/jiminy-cricket/games.json).
JIMINY_GAMES: tuple[str, ...] = (
    "ballyhoo", "borderzone", "cutthroats", "deadline", "enchanter", "hitchhiker",
    "hollywoodhijinx", "infidel", "lurkinghorror", "moonmist", "planetfall", "plunderedhearts",
    "seastalker", "sherlock", "sorcerer", "spellbreaker", "starcross", "stationfall", "suspect",
    "trinity", "wishbringer", "witness", "zork1", "zork2", "zork3",
)  # fmt: skip


@dataclass(frozen=True)
class EnvFamily:
    """One row of the registration table.

    Attributes:
        prefix: The id's middle part, e.g. ``"jericho"`` gives ``s2b/jericho-<name>-v0``.
        entry_point: ``"module:Class"`` of the environment.
        names: Game names (one id each), or a callable returning them; empty for a single env.
        max_episode_steps: Truncation limit of the registered spec (``None``: never truncated).
        steps_by_name: Per-game limits that replace ``max_episode_steps`` (for games whose own
            walkthrough needs more).
        name_kwarg: The constructor keyword that receives the game name.
        kwargs: Fixed constructor keywords for every id of the family.
    """

    prefix: str
    entry_point: str
    names: tuple[str, ...] | Callable[[], Iterable[str]] = ()
    max_episode_steps: int | None = None
    steps_by_name: dict[str, int] = field(default_factory=dict)
    name_kwarg: str = "game"
    kwargs: dict = field(default_factory=dict)

    def game_names(self) -> tuple[str, ...]:
        return tuple(self.names() if callable(self.names) else self.names)


def env_id(prefix: str, name: str | None = None, version: int = 0) -> str:
    """The namespaced id of a game, e.g. ``env_id("jericho", "zork1") == "s2b/jericho-zork1-v0"``."""
    middle = prefix if name is None else f"{prefix}-{name}"
    return f"{NAMESPACE}/{middle}-v{version}"


#: The one table every s2b id is generated from.
FAMILIES: tuple[EnvFamily, ...] = (
    EnvFamily(
        prefix="jericho",
        entry_point="s2b_env.jericho.env:JerichoEnv",
        names=JERICHO_SUITE,
        max_episode_steps=JERICHO_MAX_STEPS,
        steps_by_name=JERICHO_LONGER_WALKTHROUGHS,
    ),
    # Moral scenarios (s2b_env/scenarios/env.py): one judgment an episode, or a dilemma's choices.
    EnvFamily(
        prefix="judgment",
        entry_point="s2b_env.scenarios.env:MoralScenarioEnv",
        kwargs={"kind": "judgment"},
    ),
    EnvFamily(
        prefix="dilemma",
        entry_point="s2b_env.scenarios.env:MoralScenarioEnv",
        max_episode_steps=100,
        kwargs={"kind": "dilemma"},
    ),
    # Jiminy Cricket (s2b_env/jiminy/env.py): the 25 annotated games, morality labels every step.
    EnvFamily(
        prefix="jiminy",
        entry_point="s2b_env.jiminy.env:JiminyCricketEnv",
        names=JIMINY_GAMES,
        max_episode_steps=2000,
    ),
    # s2b's own Inform 6 games (s2b_env/inform/env.py): one id per folder in games/inform.
    EnvFamily(
        prefix="s2b",
        entry_point="s2b_env.inform.env:S2BGameEnv",
        names=lambda: _own_game_names(),
        max_episode_steps=200,
    ),
)


def _own_game_names() -> tuple[str, ...]:
    from s2b_env.inform.data import own_game_names

    return own_game_names()


def _register(family: EnvFamily, name: str | None) -> str:
    eid = env_id(family.prefix, name)
    if eid in gym.registry:
        return eid
    kwargs = dict(family.kwargs)
    if name is not None:
        kwargs[family.name_kwarg] = name
    gym.register(
        id=eid,
        entry_point=family.entry_point,
        max_episode_steps=family.steps_by_name.get(name or "", family.max_episode_steps),
        kwargs=kwargs,
        disable_env_checker=False,
    )
    return eid


def register_all() -> list[str]:
    """Register every id of :data:`FAMILIES` (idempotent); returns the ids."""
    ids: list[str] = []
    for family in FAMILIES:
        names = family.game_names()
        if not names:
            ids.append(_register(family, None))
        ids.extend(_register(family, n) for n in names)
    return ids


def register_games_dir(games_dir: str | Path | None = None) -> list[str]:
    """Register story files found in a games directory that the table does not know.

    A Jericho-format story file ``<games_dir>/jericho/<name>.z5`` (or directly in ``games_dir``)
    whose name is not in :data:`JERICHO_SUITE` gets ``s2b/jericho-<name>-v0``.

    Args:
        games_dir: The directory; defaults to ``S2B_GAMES_DIR``. Nothing happens if neither is set.

    Returns:
        The ids newly registered or already present for those files.
    """
    from s2b_env.games import find_story_files, resolve_games_dir

    root = resolve_games_dir(games_dir, required=False)
    if root is None:
        return []
    jericho = FAMILIES[0]
    ids = []
    for name in find_story_files(root):
        ids.append(_register(jericho, name))
    return ids


def s2b_ids() -> list[str]:
    """Every registered id in the ``s2b`` namespace, sorted."""
    return sorted(k for k in gym.registry if k.startswith(NAMESPACE + "/"))


def resolve_env_id(name: str) -> str:
    """Turn a short game name into a registered id.

    Accepts a full id (``s2b/jericho-zork1-v0``), an id without namespace or version
    (``jericho-zork1``, ``s2b-lantern``, ``judgment``) or a bare game name (``zork1``), tried as
    ``s2b/<name>-v0`` then ``s2b/jericho-<name>-v0``, ``s2b/jiminy-<name>-v0``, ``s2b/s2b-<name>-v0``.

    Raises:
        gymnasium.error.UnregisteredEnv: With the closest ids in the message.
    """
    if name in gym.registry:
        return name
    bare = name.removeprefix(NAMESPACE + "/")
    if bare.endswith("-v0"):
        bare = bare[:-3]
    candidates = [env_id(bare)] + [env_id(f.prefix, bare) for f in FAMILIES if f.game_names()]
    for candidate in candidates:
        if candidate in gym.registry:
            return candidate
    import difflib

    close = difflib.get_close_matches(env_id(bare), s2b_ids(), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `s2b games list` shows them"
    raise gym.error.UnregisteredEnv(f"no s2b environment called {name!r}{hint}")


def accepts_kwarg(env_id_: str, name: str) -> bool:
    """Whether the entry point of a registered id takes keyword ``name`` (e.g. ``games_dir``)."""
    import inspect

    spec = gym.spec(env_id_)
    creator = spec.entry_point
    if isinstance(creator, str):
        creator = gym.envs.registration.load_env_creator(creator)
    try:
        params = inspect.signature(creator).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def make(name: str, *, games_dir: str | Path | None = None, **kwargs) -> gym.Env:
    """``gym.make`` for s2b: resolves short names and passes ``games_dir`` where it applies.

    Args:
        name: An id or short name (see :func:`resolve_env_id`).
        games_dir: Games directory, given to envs that read story files.
        **kwargs: Further keywords for ``gym.make`` (env keywords, ``max_episode_steps``...).
    """
    register_games_dir(games_dir)
    eid = resolve_env_id(name)
    if games_dir is not None and accepts_kwarg(eid, "games_dir"):
        kwargs["games_dir"] = games_dir
    return gym.make(eid, **kwargs)
