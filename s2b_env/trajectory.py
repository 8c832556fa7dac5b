"""Trajectory format v1: JSON Lines, append-only, one object per step.

A trajectory file starts with one header object and continues with step objects::

    {"type": "header", "format": "s2b-trajectory", "version": "1.1", "s2b_version": "0.1.0",
     "run_id": "...", "env_id": "s2b/jericho-zork1-v0", "game": "zork1",
     "game_checksum": "sha256:...", "created": "2026-11-24T17:00:00+00:00", "config": {...}}
    {"type": "step", "run_id": "...", "episode_id": 0, "env_id": "...", "seed": 7, "step": 0,
     "action": null, "observation": "...", "reward": 0.0, "score": 0, "terminated": false,
     "truncated": false, "info": {...}}

Step 0 of each episode is the reset (``action`` is ``null``). ``info`` holds the env's whole info
dict (its extras included). Since version 1.1 a step may carry ``"choice"``: what the agent
considered (``candidates``, ``probabilities``, ``chosen``, ``extra``; see
:class:`agents.base.AgentChoice`). Each finished episode ends with an ``{"type": "episode", ...}``
record holding its result and metrics. Every line is flushed when written, so a crash loses at most the step
being written. Compatibility: readers accept every ``1.x`` file and refuse other major versions;
later versions add fields and never remove or change one.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from s2b_env.errors import DataError

FORMAT_NAME = "s2b-trajectory"
FORMAT_VERSION = "1.1"
MAJOR_VERSION = 1
STEP_FIELDS = (
    "run_id", "episode_id", "env_id", "seed", "step", "action", "observation", "reward", "score",
    "terminated", "truncated", "info",
)  # fmt: skip


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, dataclasses, paths, sets and objects with ``to_dict()``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "to_dict"):
        return to_jsonable(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return to_jsonable(value.tolist())
    if isinstance(value, Path):
        return str(value)
    return repr(value)


class TrajectoryWriter:
    """Appends steps to a trajectory file, flushing each line.

    Opening an existing file appends to it after checking its header matches (same format major
    version and run id); a new file gets a header first.

    Args:
        path: The ``.jsonl`` file.
        run_id: Identifies the run; every step carries it.
        env_id: The environment id.
        header: More header fields (``game``, ``game_checksum``, ``config``...).
    """

    def __init__(
        self, path: str | Path, *, run_id: str, env_id: str, header: dict[str, Any] | None = None
    ) -> None:
        from s2b import __version__

        self.path = Path(path)
        self.run_id = run_id
        self.env_id = env_id
        self.path.parent.mkdir(parents=True, exist_ok=True)
        exists = self.path.exists() and self.path.stat().st_size > 0
        if exists:
            existing = read_header(self.path)
            if existing.get("run_id") != run_id:
                raise ValueError(
                    f"{self.path} belongs to run {existing.get('run_id')!r}, not {run_id!r}; "
                    "choose another output path"
                )
            _drop_partial_last_line(self.path)
        self._file: IO[str] = self.path.open("a", encoding="utf-8")
        if not exists:
            record = {
                "type": "header",
                "format": FORMAT_NAME,
                "version": FORMAT_VERSION,
                "s2b_version": __version__,
                "run_id": run_id,
                "env_id": env_id,
                "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                **(header or {}),
            }
            self._write(record)

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(to_jsonable(record), ensure_ascii=False) + "\n")
        self._file.flush()

    def write_step(
        self,
        *,
        episode_id: int,
        seed: int | None,
        step: int,
        action: str | None,
        observation: str,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: dict[str, Any],
        **extra: Any,
    ) -> None:
        """Append one step (``step=0``, ``action=None`` for the reset)."""
        record = {
            "type": "step",
            "run_id": self.run_id,
            "episode_id": episode_id,
            "env_id": self.env_id,
            "seed": seed,
            "step": step,
            "action": action,
            "observation": observation,
            "reward": float(reward),
            "score": info.get("score"),
            "terminated": bool(terminated),
            "truncated": bool(truncated),
            "info": info,
            **extra,
        }
        self._write(record)

    def write_episode_end(self, *, episode_id: int, summary: dict[str, Any]) -> None:
        """Append the end-of-episode record (its metrics) so a resumed run can skip the episode."""
        self._write({"type": "episode", "run_id": self.run_id, "episode_id": episode_id, **summary})

    def close(self) -> None:
        """Close the file."""
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> TrajectoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Episode:
    """One episode read back: its steps (step 0 is the reset) and its end record, if written."""

    episode_id: int
    steps: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        """Whether the episode's end record was written."""
        return self.summary is not None

    @property
    def actions(self) -> list[str]:
        """The actions taken, in order."""
        return [s["action"] for s in self.steps if s["action"] is not None]

    @property
    def total_reward(self) -> float:
        """Sum of the rewards."""
        return float(sum(s["reward"] for s in self.steps))


@dataclass
class Trajectory:
    """A trajectory file read back."""

    header: dict[str, Any]
    episodes: list[Episode]
    partial_last_line: bool = False


def _check_header(path: Path, record: Any) -> dict[str, Any]:
    if not isinstance(record, dict) or record.get("type") != "header":
        raise DataError(path, "expected a header object first", line=1, field="type")
    if record.get("format") != FORMAT_NAME:
        raise DataError(
            path, f"expected format {FORMAT_NAME!r}, got {record.get('format')!r}", line=1,
            field="format",
        )  # fmt: skip
    version = str(record.get("version", ""))
    try:
        major = int(version.split(".")[0])
    except ValueError:
        raise DataError(path, f"expected a version like '1.0', got {version!r}", line=1,
                        field="version") from None  # fmt: skip
    if major != MAJOR_VERSION:
        raise DataError(
            path,
            f"this s2b reads trajectory format {MAJOR_VERSION}.x, the file is version {version}",
            line=1,
            field="version",
            fix="read it with the s2b release that wrote it (header field s2b_version: "
            f"{record.get('s2b_version')})",
        )
    return record


def read_header(path: str | Path) -> dict[str, Any]:
    """Read and check a trajectory file's header line."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        first = handle.readline()
    try:
        record = json.loads(first)
    except json.JSONDecodeError as exc:
        raise DataError(path, f"header is not JSON ({exc.msg})", line=1) from None
    return _check_header(path, record)


def _lines(path: Path) -> Iterator[tuple[int, str, bool]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            yield number, line, line.endswith("\n")


def _drop_partial_last_line(path: Path) -> None:
    """Cut an unterminated last line (a write interrupted by a crash) before appending."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


def read_trajectory(path: str | Path) -> Trajectory:
    """Load a trajectory file back into episodes.

    An unterminated last line (the process died mid-write) is skipped and reported through
    ``Trajectory.partial_last_line``; any other malformed line is an error.

    Raises:
        DataError: Naming the line and field: not JSON, a missing step field, a header of another
            major version.
    """
    path = Path(path)
    header: dict[str, Any] | None = None
    episodes: dict[int, Episode] = {}
    partial = False
    for number, line, terminated in _lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            if not terminated:
                partial = True
                break
            raise DataError(path, f"not valid JSON ({exc.msg})", line=number) from None
        if header is None:
            header = _check_header(path, record)
            continue
        kind = record.get("type") if isinstance(record, dict) else None
        if kind == "step":
            missing = [k for k in STEP_FIELDS if k not in record]
            if missing:
                raise DataError(path, "step record lacks a field", line=number, field=missing[0])
            episode = episodes.setdefault(record["episode_id"], Episode(record["episode_id"]))
            episode.steps.append(record)
        elif kind == "episode":
            episode = episodes.setdefault(record["episode_id"], Episode(record["episode_id"]))
            episode.summary = record
        else:
            raise DataError(
                path, f"expected type 'step' or 'episode', got {kind!r}", line=number, field="type"
            )
    if header is None:
        raise DataError(path, "the file is empty; expected a header line", line=1)
    ordered = [episodes[k] for k in sorted(episodes)]
    return Trajectory(header=header, episodes=ordered, partial_last_line=partial)


def keep_complete_episodes(path: str | Path) -> list[int]:
    """Rewrite a trajectory so it holds only episodes whose end record was written.

    Used to resume a run: an episode cut short by a crash is dropped and played again from its
    seed. The rewrite goes to a temporary file that replaces the original, so an interruption here
    loses nothing.

    Returns:
        The ids of the complete episodes kept.
    """
    path = Path(path)
    trajectory = read_trajectory(path)
    complete = {e.episode_id for e in trajectory.episodes if e.complete}
    kept: list[str] = []
    for number, line, terminated in _lines(path):
        if not terminated:
            break
        if number == 1:
            kept.append(line)
            continue
        if line.strip() and json.loads(line).get("episode_id") in complete:
            kept.append(line)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(kept), encoding="utf-8")
    tmp.replace(path)
    return sorted(complete)
