"""Fixtures shared by the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.s2b_env.watchdog_room import build_watchdog_room


@pytest.fixture(scope="module")
def room_games(tmp_path_factory) -> Path:
    """A games folder holding the watchdog room (a game whose ``spin lever`` never returns)."""
    games = tmp_path_factory.mktemp("games")
    (games / "jericho").mkdir()
    build_watchdog_room(games / "jericho")
    return games
