"""Gymnasium environments for s2b, the 20-value taxonomy and value scoring.

Importing this package registers every environment id (``s2b/...-v0``). This layer knows nothing
about language models.
"""

from __future__ import annotations

from s2b_env.registration import register_all, register_games_dir

register_all()
register_games_dir()

__all__ = ["register_all", "register_games_dir"]
