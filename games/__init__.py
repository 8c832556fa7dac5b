"""Data shipped with s2b: our own Inform 6 game sources, scenario files and the value survey.

Nothing here is a story file from elsewhere: Jericho and Jiminy Cricket games are read from a
directory given by ``S2B_GAMES_DIR`` or ``--games-dir``.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent


def data_path(*parts: str) -> Path:
    """Return the path of a file or folder shipped under ``games/``.

    Args:
        *parts: Path components below ``games/``, e.g. ``("scenarios", "judgments.jsonl")``.

    Returns:
        The absolute path (it may not exist).
    """
    return DATA_DIR.joinpath(*parts)
