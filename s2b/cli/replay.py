"""``s2b replay RUN_DIR``: a saved trajectory shown step by step in the live view's panel.

In a terminal it shows one step and waits for a key: ``n``/space/Enter/right arrow for the next
step, ``p``/``b``/left arrow for the previous one, ``q`` to quit. ``--follow`` prints every step
from ``--step`` on. When the output is not a terminal (piped to a file) or the terminal is narrower
than 60 columns, the steps are printed as plain lines instead.

When the run was judged (``s2b score RUN_DIR`` wrote RUN_DIR/value_scores.jsonl, or --scores
names a file), each step also shows the judge's scores: the probabilities that the action harms
another or the actor and the values it moved most.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

TRAJECTORY_FILE = "trajectory.jsonl"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="show a saved run's trajectory step by step, as the live view showed it",
        description=(__doc__ or "").replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                        help="the run's output folder (s2b run --out), or its trajectory.jsonl")  # fmt: skip
    parser.add_argument("--episode", type=int, default=None,
                        help="episode id to show (default: the first in the file)")  # fmt: skip
    parser.add_argument("--step", type=int, default=1, help="step to start at (from 1; default 1)")
    parser.add_argument("--follow", action="store_true",
                        help="print every step from --step on instead of waiting for keys")  # fmt: skip
    parser.add_argument(
        "--scores",
        type=Path,
        default=None,
        help="the judge's scores to show beside the steps (default: RUN_DIR/value_scores.jsonl "
        "when s2b score wrote one)",
    )
    parser.set_defaults(handler=replay)


def trajectory_path(run_dir: Path) -> Path:
    """The trajectory file of a run folder (or the file itself).

    Raises:
        ConfigError: There is no such file.
    """
    from s2b_env.errors import ConfigError

    path = run_dir / TRAJECTORY_FILE if run_dir.is_dir() else run_dir
    if not path.is_file():
        raise ConfigError(
            f"{run_dir}: no {TRAJECTORY_FILE} there; give the folder an `s2b run --out` wrote"
        )
    return path


def load_scores(
    path: Path, explicit: bool, trajectory_header: dict[str, Any], console: Console
) -> dict[tuple[int, int], dict[str, Any]]:
    """The judge's records of ``path`` by (episode, step); empty when there is no such file and
    none was asked for.

    Raises:
        ConfigError: ``--scores`` names no file.
        DataError: The file is malformed, of another format version, or of another run.
    """
    from agents.judge.score_run import read_scores
    from s2b_env.errors import ConfigError, DataError

    if not path.is_file():
        if explicit:
            raise ConfigError(f"--scores {path}: no such file; run `s2b score RUN_DIR` first")
        return {}
    header, records = read_scores(path)
    if header.get("run_id") != trajectory_header.get("run_id"):
        raise DataError(path, f"the scores are of run {header.get('run_id')!r}, the trajectory "
                        f"is run {trajectory_header.get('run_id')!r}", line=1, field="run_id",
                        fix="give the scores file of this run with --scores")  # fmt: skip
    if path.read_bytes()[-1:] not in (b"\n", b""):
        console.print(f"[yellow]note:[/] {path}: the last line is torn (an interrupted "
                      "s2b score); steps without a record show no judge", highlight=False)  # fmt: skip
    return {(int(r["episode_id"]), int(r["step"])): r for r in records}


def episode_views(
    header: dict[str, Any],
    steps: list[dict[str, Any]],
    scores: dict[tuple[int, int], dict[str, Any]] | None = None,
) -> list[Any]:
    """The :class:`~s2b.cli.view.StepView` of each step of one episode's records (step 0, the
    reset, gives the first observation); ``scores`` (by episode and step) add the judge's."""
    from s2b.cli.view import judge_event, step_view

    views = []
    total = 0.0
    previous: dict[str, Any] | None = None
    for record in steps:
        if record.get("action") is None:  # the reset
            previous, total = record, 0.0
            continue
        total += float(record.get("reward") or 0.0)
        views.append(
            step_view(
                env_id=str(header.get("env_id", record.get("env_id", ""))),
                episode_id=int(record["episode_id"]),
                step=int(record["step"]),
                observation=str(previous["observation"]) if previous else "",
                action=str(record["action"]),
                choice=record.get("choice"),
                reward=float(record.get("reward") or 0.0),
                info=record.get("info") or {},
                total_reward=total,
                terminated=bool(record.get("terminated")),
                truncated=bool(record.get("truncated")),
            )
        )
        judged = (scores or {}).get((int(record["episode_id"]), int(record["step"])))
        if judged is not None:
            views[-1].events.append(judge_event(judged))
        previous = record
    return views


def replay(args: argparse.Namespace, console: Console) -> int:
    from s2b.cli.view import MIN_WIDTH, plain_step_line, render_step
    from s2b_env.errors import ConfigError
    from s2b_env.trajectory import read_trajectory

    path = trajectory_path(args.run_dir)
    trajectory = read_trajectory(path)
    if trajectory.partial_last_line:
        console.print(f"[yellow]note:[/] {path}: the last line is torn (an interrupted write); "
                      "showing what came before it", highlight=False)  # fmt: skip
    episodes = {e.episode_id: e for e in trajectory.episodes}
    if not episodes:
        raise ConfigError(f"{path}: the run recorded no episode yet")
    episode_id = min(episodes) if args.episode is None else args.episode
    if episode_id not in episodes:
        raise ConfigError(
            f"--episode {episode_id}: {path} has episodes {_ranges(sorted(episodes))}; "
            "choose one of those"
        )
    from agents.judge.score_run import SCORES_FILE

    scores_path = args.scores or path.parent / SCORES_FILE
    scores = load_scores(scores_path, args.scores is not None, trajectory.header, console)
    views = episode_views(trajectory.header, episodes[episode_id].steps, scores)
    if not views:
        raise ConfigError(f"{path}: episode {episode_id} has no step after its reset")
    if not 1 <= args.step <= len(views):
        raise ConfigError(
            f"--step {args.step}: episode {episode_id} has steps 1-{len(views)}; choose one of those"
        )
    start = args.step - 1
    plain = not console.is_terminal or console.width < MIN_WIDTH
    if plain:
        why = "not a terminal" if not console.is_terminal else f"narrower than {MIN_WIDTH} columns"
        console.print(f"(output {why}: plain lines)", highlight=False, markup=False)
        for view in views[start:]:
            console.print(plain_step_line(view), highlight=False, markup=False, soft_wrap=True)
        return 0
    if args.follow or not sys.stdin.isatty():
        for view in views[start:]:
            console.print(render_step(view))
        return 0
    return _browse(console, views, start)


def _browse(console: Console, views: list[Any], index: int) -> int:
    """Show one step at a time and move with keys."""
    from s2b.cli.view import render_step

    while True:
        console.clear()
        console.print(render_step(views[index]))
        console.print(
            f"[dim]step {index + 1}/{len(views)}   n/space/-> next   p/<- back   q quit[/]"
        )
        key = _read_key()
        if key in ("q", "\x1b", "\x03", "\x04"):
            return 0
        if key in ("n", " ", "\r", "\n", "right", "j") and index + 1 < len(views):
            index += 1
        elif key in ("p", "b", "left", "k") and index > 0:
            index -= 1


def _read_key() -> str:
    """One key press from the terminal (arrows as ``left``/``right``)."""
    import os
    import select
    import termios
    import tty

    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        # os.read, not sys.stdin.read: a buffered read would swallow the rest of an arrow's
        # escape sequence and leave nothing for select() to see
        key = os.read(fd, 1).decode(errors="replace")
        if key == "\x1b":
            if not select.select([fd], [], [], 0.05)[0]:
                return key  # Escape alone
            more = os.read(fd, 2).decode(errors="replace")
            return {"[C": "right", "[D": "left"}.get(more, "")
        return key
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)


def _ranges(ids: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2, 5"``."""
    parts: list[str] = []
    start = prev = ids[0]
    for i in [*ids[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ", ".join(parts)
