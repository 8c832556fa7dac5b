"""Judging a finished run: ``RUN/trajectory.jsonl`` in, ``RUN/value_scores.jsonl`` out.

The trajectory is only read, never rewritten. The scores file is JSON Lines, append-only, one
flushed line per judged step, after one header line::

    {"type": "header", "format": "s2b-value-scores", "version": "1.0", "run_id": "run-...",
     "trajectory": "trajectory.jsonl", "judge": "smollm2-135m-instruct",
     "prompt_version": "judge-v1", "created": "2026-12-01T00:00:00+00:00"}
    {"type": "score", "episode_id": 0, "step": 1, "action": "open mailbox",
     "values": {"self_direction_thought": -0.12, ... 20 value ids ...},
     "harm_others": 0.31, "harm_self": 0.12, "label_mass": 0.02,
     "judge": "smollm2-135m-instruct", "prompt_version": "judge-v1"}

Every step that has an action (step >= 1) gets one record: ``values`` are the expected effects on
the 20 values (-3..+3), ``harm_others``/``harm_self`` probabilities; the judge saw the observation
before the step (its context), the action and the observation after it (its outcome).

Scoring again resumes: a torn last line (the process was killed) is dropped, steps already in the
file are skipped, so each step has exactly one record. A file written by another judge, prompt
version or run is refused rather than mixed.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.judge.judge import JudgeInput, ValueJudge
from s2b_env.errors import ConfigError, DataError
from s2b_env.trajectory import read_trajectory

FORMAT_NAME = "s2b-value-scores"
FORMAT_VERSION = "1.0"
SCORES_FILE = "value_scores.jsonl"
TRAJECTORY_FILE = "trajectory.jsonl"

#: ``progress(done, total, scored_now, elapsed_seconds)`` after each batch (``done`` counts the
#: steps scored before this call too, ``scored_now`` only this call's).
Progress = Callable[[int, int, int, float], None]


@dataclass(frozen=True)
class StepToJudge:
    """One step of a trajectory with what the judge sees."""

    episode_id: int
    step: int
    action: str
    item: JudgeInput


@dataclass(frozen=True)
class ScoreRunResult:
    """What :func:`score_run` did."""

    path: Path
    steps: int  # steps with an action in the trajectory
    already: int  # records found in the file before this call
    scored: int  # records written by this call
    seconds: float
    cache_hits: int


def trajectory_of(run_dir: str | Path) -> Path:
    """``RUN/trajectory.jsonl`` for a run folder; a file path is taken as the trajectory."""
    path = Path(run_dir)
    return path if path.is_file() else path / TRAJECTORY_FILE


def judge_steps(trajectory_path: Path) -> tuple[dict[str, Any], list[StepToJudge]]:
    """The trajectory's header and every step that has an action, in file order.

    Raises:
        DataError: The trajectory is missing, of another format version, or malformed.
    """
    if not trajectory_path.is_file():
        raise DataError(trajectory_path, "no such trajectory file",
                        fix="give the folder of a finished `s2b run --out DIR`")  # fmt: skip
    trajectory = read_trajectory(trajectory_path)
    steps: list[StepToJudge] = []
    for episode in trajectory.episodes:
        previous: dict[str, Any] | None = None
        for record in sorted(episode.steps, key=lambda r: r["step"]):
            action = record.get("action")
            if action is not None:
                context = str(previous["observation"]) if previous is not None else ""
                item = JudgeInput(context, str(action), str(record.get("observation") or ""))
                steps.append(
                    StepToJudge(episode.episode_id, int(record["step"]), str(action), item)
                )
            previous = record
    return trajectory.header, steps


def _read_existing(path: Path, expected: dict[str, Any]) -> set[tuple[int, int]]:
    """The (episode, step) pairs already scored in ``path``, after checking its header.

    A torn last line is cut from the file first.
    """
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        path.write_bytes(data)
    lines = data.decode("utf-8", errors="replace").splitlines()
    if not lines:
        return set()
    try:
        header = json.loads(lines[0])
    except ValueError:
        raise DataError(path, "expected a header line", line=1,
                        fix=f"delete {path.name} to score the run again") from None  # fmt: skip
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise DataError(path, f"expected format {FORMAT_NAME!r}", line=1, field="format",
                        fix=f"delete {path.name} to score the run again")  # fmt: skip
    major = str(header.get("version", "")).split(".")[0]
    if major != FORMAT_VERSION.split(".")[0]:
        raise DataError(path, f"this s2b writes version {FORMAT_VERSION}, the file is "
                        f"version {header.get('version')}", line=1, field="version",
                        fix="score into another file with --out")  # fmt: skip
    for key in ("run_id", "judge", "prompt_version"):
        if header.get(key) != expected[key]:
            raise DataError(
                path,
                f"the file holds scores of {key} {header.get(key)!r}, not {expected[key]!r}",
                line=1,
                field=key,
                fix="score into another file with --out, or delete it to score again",
            )
    done: set[tuple[int, int]] = set()
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            done.add((int(record["episode_id"]), int(record["step"])))
        except (ValueError, KeyError, TypeError):
            raise DataError(path, "expected a score record with episode_id and step",
                            line=number, fix=f"delete {path.name} to score again") from None  # fmt: skip
    return done


def _batches(items: list[StepToJudge], size: int) -> Iterator[list[StepToJudge]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def score_run(
    run_dir: str | Path,
    judge: ValueJudge,
    *,
    out: str | Path | None = None,
    batch: int = 8,
    limit: int | None = None,
    progress: Progress | None = None,
) -> ScoreRunResult:
    """Judge every step of ``RUN/trajectory.jsonl`` into ``RUN/value_scores.jsonl`` (resumable).

    Args:
        run_dir: A run's folder (or its trajectory file).
        judge: The judge.
        out: The scores file (default: ``value_scores.jsonl`` beside the trajectory).
        batch: Steps judged per call to the judge (written together).
        limit: Judge at most this many new steps in this call.
        progress: Called after each batch with (done, total, scored now, elapsed seconds).

    Raises:
        DataError: The trajectory or an existing scores file is unreadable or belongs to another
            run, judge or prompt version.
    """
    trajectory_path = trajectory_of(run_dir)
    out_path = Path(out) if out is not None else trajectory_path.parent / SCORES_FILE
    if out_path.resolve() == trajectory_path.resolve():
        raise ConfigError(f"--out {out_path}: that is the trajectory; it is never rewritten")
    if batch < 1:
        raise ConfigError(f"batch: expected >= 1, got {batch}")
    header, steps = judge_steps(trajectory_path)
    expected = {"run_id": header.get("run_id"), "judge": judge.name,
                "prompt_version": judge.prompt_version}  # fmt: skip
    done = _read_existing(out_path, expected) if out_path.exists() else set()
    todo = [s for s in steps if (s.episode_id, s.step) not in done]
    if limit is not None:
        todo = todo[:limit]
    started = time.perf_counter()
    hits_before = judge.cache.hits
    written = 0
    with out_path.open("a", encoding="utf-8") as handle:
        if out_path.stat().st_size == 0:
            record = {"type": "header", "format": FORMAT_NAME, "version": FORMAT_VERSION,
                      **expected, "trajectory": trajectory_path.name,
                      "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}  # fmt: skip
            handle.write(json.dumps(record) + "\n")
            handle.flush()
        total = len(done) + len(todo)
        for chunk in _batches(todo, batch):
            scores = judge.score_many([s.item for s in chunk])
            lines = []
            for step, score in zip(chunk, scores, strict=True):
                record = {"type": "score", "episode_id": step.episode_id, "step": step.step,
                          "action": step.action, **score.to_dict()}  # fmt: skip
                lines.append(json.dumps(record, ensure_ascii=False) + "\n")
            handle.write("".join(lines))
            handle.flush()
            written += len(chunk)
            if progress is not None:
                progress(len(done) + written, total, written, time.perf_counter() - started)
    return ScoreRunResult(
        path=out_path,
        steps=len(steps),
        already=len(done),
        scored=written,
        seconds=time.perf_counter() - started,
        cache_hits=judge.cache.hits - hits_before,
    )


def read_scores(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A scores file's header and records (a torn last line is skipped).

    Raises:
        DataError: A line other than the last is not JSON or not a record, or the header is not
            a scores header of this major version.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if text and not text.endswith("\n"):
        lines = lines[:-1]
    if not lines:
        raise DataError(path, "the file is empty; expected a header line", line=1)
    records = []
    for number, line in enumerate(lines, start=1):
        try:
            records.append(json.loads(line))
        except ValueError:
            raise DataError(path, "not valid JSON", line=number) from None
    header = records[0]
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise DataError(path, f"expected format {FORMAT_NAME!r}", line=1, field="format")
    major = str(header.get("version", "")).split(".")[0]
    if major != FORMAT_VERSION.split(".")[0]:
        raise DataError(path, f"this s2b reads version {FORMAT_VERSION.split('.')[0]}.x, the "
                        f"file is version {header.get('version')}", line=1, field="version")  # fmt: skip
    for number, record in enumerate(records[1:], start=2):
        if not isinstance(record, dict) or not {"episode_id", "step"} <= set(record):
            raise DataError(path, "expected a score record with episode_id and step",
                            line=number)  # fmt: skip
    return header, records[1:]
