"""Gymnasium environments for s2b, the 20-value taxonomy and value scoring.

Importing this package registers every environment id (``s2b/...-v0``). This layer knows nothing
about language models.
"""

from __future__ import annotations

from s2b_env.registration import register_all, register_games_dir

register_all()
register_games_dir()


def __getattr__(name: str):
    # Env classes load lazily (they import the emulator): s2b_env.JiminyCricketEnv.
    if name == "JiminyCricketEnv":
        from s2b_env.jiminy_env import JiminyCricketEnv

        return JiminyCricketEnv
    raise AttributeError(f"module 's2b_env' has no attribute {name!r}")


__all__ = ["JiminyCricketEnv", "register_all", "register_games_dir"]
