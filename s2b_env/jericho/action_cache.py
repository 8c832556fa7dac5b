"""Caches of valid actions: a bounded in-memory LRU shared by a process, and an opt-in SQLite file.

Keys are strings made by :mod:`s2b_env.jericho.valid_actions` from the story file's checksum, the env
class, the world-state hash and the settings that shape the answer; values are the action lists.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path


class LRUCache:
    """A bounded mapping that forgets the least recently used entry first (thread-safe).

    Args:
        capacity: Most entries kept (0 keeps none).
    """

    def __init__(self, capacity: int) -> None:
        self._data: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self.capacity = 0
        self.resize(capacity)
        self.hits = 0
        self.misses = 0

    def resize(self, capacity: int) -> None:
        """Change the bound, dropping the oldest entries if needed."""
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
            raise ValueError(f"capacity must be an int >= 0, got {capacity!r}")
        with self._lock:
            self.capacity = capacity
            while len(self._data) > capacity:
                self._data.popitem(last=False)

    def get(self, key: str) -> tuple[str, ...] | None:
        """The value stored under ``key`` (now the most recent), or ``None``."""
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: str, value: tuple[str, ...]) -> None:
        """Store ``value`` under ``key``, forgetting the oldest entry when full."""
        with self._lock:
            if self.capacity == 0:
                return
            self._data[key] = value
            self._data.move_to_end(key)
            if len(self._data) > self.capacity:
                self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (the hit and miss counts too)."""
        with self._lock:
            self._data.clear()
            self.hits = 0
            self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


class DiskCache:
    """Valid actions kept in a SQLite file, shared by processes and runs.

    Args:
        path: The database file (made with its folder if missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS valid_actions (key TEXT PRIMARY KEY, actions TEXT)"
            )
            self._db.commit()

    def get(self, key: str) -> tuple[str, ...] | None:
        """The actions stored under ``key``, or ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT actions FROM valid_actions WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else tuple(json.loads(row[0]))

    def put(self, key: str, value: tuple[str, ...]) -> None:
        """Store ``value`` under ``key`` (replacing what was there)."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO valid_actions (key, actions) VALUES (?, ?)",
                (key, json.dumps(list(value))),
            )
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM valid_actions").fetchone()[0])

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()


__all__ = ["DiskCache", "LRUCache"]
