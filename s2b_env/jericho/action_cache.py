"""Caches of valid actions: a bounded in-memory LRU shared by a process, and an opt-in SQLite file.

Keys are strings made by :mod:`s2b_env.jericho.valid_actions` from the story file's checksum, the env
class, the world-state hash and the settings that shape the answer; values are the action lists.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import OrderedDict
from pathlib import Path

from s2b_env.errors import DataError


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

    A file that is not a SQLite database, or a corrupt one, is moved aside (to
    ``NAME.corrupt-TIMESTAMP``) and a fresh cache is made in its place; the move is reported once
    through :meth:`take_warnings` (the env puts it in ``info["warnings"]``). An entry that does not
    decode is a miss.

    Args:
        path: The database file (made with its folder if missing).

    Raises:
        DataError: The file cannot be opened at all (a folder, no permission).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._warnings: list[str] = []
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise DataError(
                    self.path, f"cannot open the valid-actions cache ({exc})",
                    fix="choose another cache_file, or remove this one",
                ) from None  # fmt: skip
            self._db = self._recover(exc)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS valid_actions (key TEXT PRIMARY KEY, actions TEXT)"
            )
            db.execute("SELECT COUNT(*) FROM valid_actions").fetchone()
            db.commit()
        except BaseException:
            db.close()
            raise
        return db

    def _recover(self, exc: Exception) -> sqlite3.Connection:
        """Move a corrupt file (and its WAL files) aside and start a fresh cache."""
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        for suffix in ("", "-wal", "-shm"):
            part = self.path.with_name(self.path.name + suffix)
            if part.exists():
                part.replace(aside.with_name(aside.name + suffix))
        self._warnings.append(
            f"the valid-actions cache {self.path} was corrupt ({exc}); moved aside to {aside} and "
            "started afresh"
        )
        return self._open()

    def take_warnings(self) -> list[str]:
        """Warnings not yet reported (each is given once)."""
        with self._lock:
            taken, self._warnings = self._warnings, []
        return taken

    def get(self, key: str) -> tuple[str, ...] | None:
        """The actions stored under ``key``, or ``None``."""
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT actions FROM valid_actions WHERE key = ?", (key,)
                ).fetchone()
            except sqlite3.DatabaseError as exc:
                if not _is_corrupt(exc):
                    raise
                self._db.close()
                self._db = self._recover(exc)
                return None
        if row is None:
            return None
        try:
            actions = json.loads(row[0])
        except (TypeError, ValueError, RecursionError):
            return None
        if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
            return None
        return tuple(actions)

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


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    """Whether SQLite's error means the file's content is bad (not: locked, busy, no access)."""
    text = str(exc).lower()
    return not isinstance(exc, sqlite3.OperationalError) or any(
        word in text for word in ("not a database", "malformed", "corrupt")
    )


__all__ = ["DiskCache", "LRUCache"]
