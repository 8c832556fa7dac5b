"""The judge's score cache: in memory, optionally backed by an append-only JSON Lines file.

A score is keyed by (judge id, prompt version, context, action, outcome): the same action in the
same situation judged by the same judge with the same prompts is never scored twice, in one run or
across runs. The file holds one ``{"key": ..., "score": {...}}`` object per line, flushed as it is
written; a torn last line (a killed process) is dropped when the file is opened again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import IO, Any

from s2b_env.errors import DataError


def cache_key(judge: str, version: str, context: str, action: str, outcome: str | None) -> str:
    """The cache key of one judgment (a sha256 hex digest)."""
    data = json.dumps([judge, version, context, action, outcome], ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


class ScoreCache:
    """Scores by key, in memory and (with ``path``) on disk.

    Args:
        path: The JSON Lines file to load and append to; ``None`` keeps scores in memory only.

    Raises:
        DataError: A line of the file (other than a torn last line) is not a cache record.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._scores: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self.hits = 0
        self.misses = 0
        if self.path is not None:
            self._load(self.path)

    def _load(self, path: Path) -> None:
        if not path.exists():
            return
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):  # a write cut by a crash: drop it
            data = data[: data.rfind(b"\n") + 1]
            path.write_bytes(data)
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key, score = record["key"], record["score"]
            except (ValueError, KeyError, TypeError):
                raise DataError(
                    path,
                    "expected a judge cache record {'key': ..., 'score': {...}}",
                    line=number,
                    fix="delete the cache file; it only saves time",
                ) from None
            if not isinstance(key, str) or not isinstance(score, dict):
                raise DataError(path, "expected a string key and a score object", line=number,
                                fix="delete the cache file; it only saves time")  # fmt: skip
            self._scores[key] = score

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored score of ``key``, or ``None`` (counted as a hit or a miss)."""
        with self._lock:
            score = self._scores.get(key)
            if score is None:
                self.misses += 1
            else:
                self.hits += 1
            return score

    def put(self, key: str, score: dict[str, Any]) -> None:
        """Store a score (and append it to the file, flushed)."""
        with self._lock:
            if key in self._scores:
                return
            self._scores[key] = score
            if self.path is not None:
                if self._file is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._file = self.path.open("a", encoding="utf-8")
                self._file.write(json.dumps({"key": key, "score": score}) + "\n")
                self._file.flush()

    def __len__(self) -> int:
        return len(self._scores)

    def __contains__(self, key: object) -> bool:
        return key in self._scores

    def close(self) -> None:
        """Close the file (the scores stay in memory)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
