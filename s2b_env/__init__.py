"""Gymnasium environments for s2b, the 20-value taxonomy, trajectories and episode metrics.

Importing this package registers every environment id (``s2b/...-v0``). This layer knows nothing
about language models. The layout:

* the core, used by every family: :mod:`~s2b_env.taxonomy` (the 20 values and the one value-id
  check), :mod:`~s2b_env.values` (``ValueVector``, and the taxonomy re-exported),
  :mod:`~s2b_env.trajectory` (the trajectory file format), :mod:`~s2b_env.metrics` (every episode
  metric), :mod:`~s2b_env.walkthrough` (the walkthrough-file reader), :mod:`~s2b_env.cache` (the
  cache root), :mod:`~s2b_env.registration` (the ids, from one table), :mod:`~s2b_env.catalog` and
  :mod:`~s2b_env.games` (finding games on disk), :mod:`~s2b_env.errors` (s2b's exception types)
  and :mod:`~s2b_env.vector` (parallel episodes);
* one subpackage per family of environments: :mod:`s2b_env.jericho` (any Z-machine story file),
  :mod:`s2b_env.jiminy` (Jiminy Cricket, with morality labels), :mod:`s2b_env.inform` (our own
  Inform 6 games, with value events) and :mod:`s2b_env.scenarios` (judgments and dilemmas).

The environment classes and the most used names are importable from here
(``s2b_env.JerichoEnv``, ``s2b_env.ValueVector``, ...); env classes load lazily, since they import
the emulator.
"""

from __future__ import annotations

import importlib

from s2b_env.registration import make, register_all, register_games_dir

register_all()
register_games_dir()

#: Public name -> the module that defines it (imported on first access).
_LAZY = {
    "JerichoEnv": "s2b_env.jericho.env",
    "EnvState": "s2b_env.jericho.env",
    "JiminyCricketEnv": "s2b_env.jiminy.env",
    "S2BGameEnv": "s2b_env.inform.env",
    "MoralScenarioEnv": "s2b_env.scenarios.env",
    "ValidActionConfig": "s2b_env.jericho.valid_actions",
    "VALUE_IDS": "s2b_env.values",
    "ValueVector": "s2b_env.values",
    "check_value_id": "s2b_env.values",
    "TrajectoryWriter": "s2b_env.trajectory",
    "read_trajectory": "s2b_env.trajectory",
    "list_games": "s2b_env.catalog",
    "S2BError": "s2b_env.errors",
    "DataError": "s2b_env.errors",
    "GameNotFoundError": "s2b_env.errors",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 's2b_env' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["make", "register_all", "register_games_dir", *_LAZY]
