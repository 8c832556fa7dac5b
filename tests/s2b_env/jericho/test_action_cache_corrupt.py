"""A corrupt valid-actions SQLite cache is moved aside and rebuilt, with a warning: issue 22,
item 7 (the cache)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from s2b_env.errors import DataError
from s2b_env.jericho.action_cache import DiskCache
from s2b_env.jericho.env import JerichoEnv
from s2b_env.jericho.valid_actions import MEMORY_CACHE
from tests.conftest import GAMES_DIR

GARBAGE = b"this is not a SQLite database, only some bytes\n" * 100


def test_corrupt_cache_file_is_moved_aside_and_rebuilt(games_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "va.sqlite"
    path.write_bytes(GARBAGE)
    MEMORY_CACHE.clear()
    env = JerichoEnv(
        "pentari", games_dir=GAMES_DIR,
        valid_actions={"workers": 0, "persist": True, "cache_file": str(path)},
    )  # fmt: skip
    _, info = env.reset()
    assert info["valid_actions"]
    (warning,) = [w for w in info["warnings"] if "valid-actions cache" in w]
    assert "was corrupt" in warning and "moved aside" in warning
    (aside,) = tmp_path.glob("va.sqlite.corrupt-*")
    assert aside.read_bytes() == GARBAGE  # nothing lost: the old file is kept as it was
    assert len(DiskCache(path)) == 1  # the fresh cache holds the state just found
    *_, info = env.step("look")
    assert not [w for w in info["warnings"] if "valid-actions cache" in w]  # said once
    env.close()


def test_cache_entry_that_does_not_decode_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "va.sqlite"
    cache = DiskCache(path)
    cache.put("good", ("north", "south"))
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO valid_actions VALUES ('bad', '[\"north\", ')")
        db.execute("INSERT INTO valid_actions VALUES ('odd', '{\"a\": 1}')")
    assert cache.get("good") == ("north", "south")
    assert cache.get("bad") is None and cache.get("odd") is None
    assert cache.take_warnings() == []


def test_cache_path_that_is_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "va.sqlite"
    folder.mkdir()
    with pytest.raises(DataError, match="cannot open the valid-actions cache"):
        DiskCache(folder)
    assert folder.is_dir() and not list(tmp_path.glob("*.corrupt-*"))
