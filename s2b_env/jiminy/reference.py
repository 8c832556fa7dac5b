"""Step-by-step comparison of :class:`~s2b_env.jiminy.env.JiminyCricketEnv` with the benchmark's
own reference environment (``annotated_env.py`` of hendrycks/jiminy-cricket).

The reference code is not part of s2b: it is loaded, when asked, from a folder the user has (the
shared games directory keeps it in ``jiminy-cricket/reference/``, with ``game_info.py`` beside it).
It needs jericho and numpy. Both environments play the same walkthrough lines from the same start;
each step is recorded as a :class:`StepRecord` (the markers that counted, the summed label vector,
the score, the end flag) and :func:`differences` lists where two plays disagree.

Typical use (tests, ``scripts/jiminy_reference.py``)::

    ref = play_reference("zork1", games_dir)               # the benchmark's numbers
    ours = play_s2b("zork1", games_dir)                    # label_rules="reference" by default
    assert differences(ref.steps, ours.steps) == []
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s2b_env.errors import GameNotFoundError
from s2b_env.jiminy.data import fast_forward_length, game_folder, read_walkthrough_lines

#: Where the reference code sits in a games directory.
REFERENCE_FOLDER = Path("jiminy-cricket") / "reference"


@dataclass(frozen=True)
class StepRecord:
    """One step of a play, as both environments can report it.

    Attributes:
        command: The walkthrough line sent.
        markers: ``(key, prso, prsi)`` of the markers that counted, in the env's order (``""``
            for an object the marker does not name).
        label: The step's label vector, ``[bad_others, bad_self, good_others, good_self]``.
        score: The score after the step.
        done: Whether the episode ended on this step.
    """

    command: str
    markers: tuple[tuple[str, str, str], ...]
    label: tuple[int, int, int, int]
    score: int
    done: bool


@dataclass
class Play:
    """A play of a walkthrough from one start.

    Attributes:
        game: The game's name.
        start: The starting percentage.
        start_score: The score after the fast-forward (before the first recorded step).
        skipped: How many walkthrough lines the fast-forward played.
        steps: One record per step after the start, up to the end of the game.
    """

    game: str
    start: int
    start_score: int
    skipped: int
    steps: list[StepRecord] = field(default_factory=list)

    def label_sums(self) -> list[int]:
        """The label vectors of :attr:`steps`, summed."""
        total = [0, 0, 0, 0]
        for step in self.steps:
            total = [a + b for a, b in zip(total, step.label, strict=True)]
        return total


def reference_dir(games_dir: str | Path | None = None) -> Path:
    """``<games_dir>/jiminy-cricket/reference``, checked to hold ``annotated_env.py``.

    Raises:
        GameNotFoundError: The folder or the file is missing.
    """
    folder = game_folder("reference", games_dir)
    if not (folder / "annotated_env.py").is_file():
        raise GameNotFoundError(
            f"no reference environment at {str(folder / 'annotated_env.py')!r}; put the "
            "benchmark's annotated_env.py and game_info.py there (see its README)"
        )
    return folder


def reference_env_class(games_dir: str | Path | None = None) -> Any:
    """The reference's ``AnnotatedEnv`` class, imported from :func:`reference_dir`."""
    folder = str(reference_dir(games_dir))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its regexes' invalid escape sequences
        return importlib.import_module("annotated_env").AnnotatedEnv


def make_reference_env(game: str, games_dir: str | Path | None = None, start: int = 0) -> Any:
    """The reference env of ``game`` with the benchmark's seed 1, started at ``start`` percent."""
    cls = reference_env_class(games_dir)
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jericho: "not fully supported" (annotated rebuilds)
        return cls(str(game_folder(game, games_dir)), seed=1, starting_percentage=start)


def _ref_marker(marker: tuple) -> tuple[str, str, str]:
    objects = [*marker[1:3], "", ""]
    return (marker[0], objects[0], objects[1])


def play_reference(
    game: str,
    games_dir: str | Path | None = None,
    start: int = 0,
    *,
    limit: int | None = None,
    commands: list[str] | None = None,
) -> Play:
    """Play the walkthrough's lines from ``start`` percent through the reference env.

    Every line after the fast-forward is sent, blank ones too, until the game ends (or ``limit``
    steps); ``commands`` are sent instead when given.
    """
    env = make_reference_env(game, games_dir, start)
    lines = read_walkthrough_lines(game_folder(game, games_dir) / f"{game}_walkthrough.txt")
    skipped = len(env.fast_forward_actions)
    play = Play(game, start, int(env.get_starting_score()), skipped)
    for command in (lines[skipped:] if commands is None else commands)[:limit]:
        _, _, done, info = env.step(command)
        label = [0, 0, 0, 0]
        for vector in info["label_vectors"]:
            label = [a + int(b) for a, b in zip(label, vector, strict=True)]
        play.steps.append(
            StepRecord(
                command=command,
                markers=tuple(_ref_marker(m) for m in info["markers"]),
                label=(label[0], label[1], label[2], label[3]),
                score=int(info["score"]),
                done=bool(done),
            )
        )
        if done:
            break
    env.env.close()
    return play


def play_s2b(
    game: str,
    games_dir: str | Path | None = None,
    start: int = 0,
    *,
    limit: int | None = None,
    commands: list[str] | None = None,
    **env_kwargs: Any,
) -> Play:
    """Play the walkthrough's lines from ``start`` percent through ``JiminyCricketEnv``.

    As :func:`play_reference`; ``env_kwargs`` go to the env (e.g. ``label_rules="documented"``).
    """
    from s2b_env.jiminy.env import JiminyCricketEnv

    env = JiminyCricketEnv(game, games_dir=games_dir, **env_kwargs)
    try:
        _, info = env.reset(options={"starting_percentage": start})
        lines = env.jiminy.walkthrough_lines
        skipped = fast_forward_length(len(lines), start)
        play = Play(game, start, int(info["score"]), skipped)
        for command in (lines[skipped:] if commands is None else commands)[:limit]:
            _, _, terminated, truncated, info = env.step(command)
            play.steps.append(
                StepRecord(
                    command=command,
                    markers=tuple(
                        (e["key"], e["prso"], e["prsi"]) for e in info["morality_events"]
                    ),
                    label=tuple(info["morality"]),  # type: ignore[arg-type]
                    score=int(info["score"]),
                    done=bool(terminated or truncated),
                )
            )
            if terminated or truncated:
                break
    finally:
        env.close()
    return play


def differences(expected: list[StepRecord], got: list[StepRecord], *, limit: int = 10) -> list[str]:
    """Where two plays of the same lines disagree, one line each (at most ``limit``)."""
    found: list[str] = []
    for i, (a, b) in enumerate(zip(expected, got, strict=False)):
        for name in ("markers", "label", "score", "done"):
            if getattr(a, name) != getattr(b, name):
                found.append(
                    f"step {i + 1} {a.command!r}: {name} {getattr(a, name)} != {getattr(b, name)}"
                )
        if len(found) >= limit:
            return found[:limit]
    if len(expected) != len(got):
        found.append(f"{len(expected)} steps != {len(got)} steps")
    return found[:limit]


__all__ = [
    "REFERENCE_FOLDER",
    "Play",
    "StepRecord",
    "differences",
    "make_reference_env",
    "play_reference",
    "play_s2b",
    "reference_dir",
    "reference_env_class",
]
