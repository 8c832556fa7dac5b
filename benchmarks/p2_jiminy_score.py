"""Benchmark P2: JiminyCricketEnv's score reading vs the probe-per-step protocol (zork1 walkthrough).

The Jiminy Cricket reference protocol reads the score after every step by saving the environment's
state, sending ``look`` (or ``score``), reading the status line, and restoring the state. This
script plays the same walkthrough, from reset, through versions of the same env:

- ``memory``: JiminyCricketEnv as shipped (``score_reading="auto"``: zork1's score is global 1,
  the status line's own variable);
- ``probe, full snapshot``: the reference protocol: ``env.get_state()`` (emulator, score, label
  filters), the probe command, ``env.set_state()``, every step;
- ``probe, reference state``: the same with a snapshot laid out as the reference
  implementation's (a record per annotation, label vectors as numpy arrays, deep-copied on every
  save and restore);
- ``probe, emulator only``: the lightest probe possible (``score_reading="probe"``: only the
  emulator's state is saved and restored), which is what the env falls back to where no exact
  memory source is known;
- ``reference env``: the benchmark's own ``AnnotatedEnv`` (``annotated_env.py``, loaded from
  ``<games_dir>/jiminy-cricket/reference/`` when it is there), which probes after every step with
  its deep-copied state and also counts the labels.

It checks all of them give the same score after every step, and prints steps/s and the ratios. Each
protocol plays the walkthrough ``--repeats`` times; the best time is reported.

Run: .venv/bin/python benchmarks/p2_jiminy_score.py [--game zork1] [--repeats 7] [--games-dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from typing import Any

import numpy as np

from s2b_env.errors import GameNotFoundError
from s2b_env.jiminy.env import JiminyCricketEnv
from s2b_env.jiminy.reference import make_reference_env


class FullSnapshotProbeEnv(JiminyCricketEnv):
    """The reference protocol: snapshot the whole env, send the probe, read, restore; every step."""

    def _probe_score(self) -> int:
        source = self.facts.score_source
        snapshot = self.get_state()
        try:
            raw = self.emulator.step(source.probe_action)[0]
        finally:
            self.set_state(snapshot)  # restores the emulator and marks its memory stale
        return self._score_from_probe_output(raw)

    def _score_from_probe_output(self, raw: str) -> int:
        from s2b_env.jiminy.env import _SCORE_FIELD
        from s2b_env.jiminy.labels import expand_compressed

        text, _ = expand_compressed(raw, self.jiminy.replacements)
        source = self.facts.score_source
        pattern = source.pattern if source.kind == "regex" else _SCORE_FIELD
        match = pattern.search(text)
        value = match.group(1).strip() if match else ""
        return int(value) if value.lstrip("-").isdigit() else self._score


class ReferenceStateProbeEnv(FullSnapshotProbeEnv):
    """The same, with a snapshot laid out as the reference implementation's.

    The reference keeps, in the state it deep-copies on every save and restore, one record per
    annotation (its label vector as a numpy array, its fired count, its keywords); this env's
    snapshot keeps only the counts of the markers that fired. This variant adds those records.
    """

    def _extra_state(self) -> Any:
        extra = super()._extra_state()
        fired = extra["tracker"]["fired"]
        extra["annotation_dict"] = {
            key: {
                "label_vector": np.array(a.label, dtype=np.int64),
                "marker_count": fired.get(key, 0),
                "keywords": list(a.keywords) or [""],
            }
            for key, a in self.jiminy.annotations.items()
        }
        return extra


class ReferenceEnv:
    """The benchmark's ``AnnotatedEnv`` behind the same ``reset``/``step`` calls as the others."""

    def __init__(self, game: str, games_dir: str | None) -> None:
        self.env = make_reference_env(game, games_dir)

    def reset(self) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            self.env.reset()

    def step(self, command: str) -> tuple[Any, ...]:
        _, reward, done, info = self.env.step(command)
        return None, reward, done, False, info


def play(env: Any, commands: list[str]) -> tuple[float, list[int]]:
    env.reset()
    scores = []
    start = time.perf_counter()
    for command in commands:
        _, _, terminated, _, info = env.step(command)
        scores.append(int(info["score"]))
        if terminated:
            break
    return time.perf_counter() - start, scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="zork1", help="Jiminy Cricket game (default zork1)")
    parser.add_argument("--repeats", type=int, default=7, help="timed plays per protocol (best)")
    parser.add_argument("--games-dir", default=None, help="games directory (S2B_GAMES_DIR)")
    args = parser.parse_args(argv)

    envs: dict[str, Any] = {
        "memory": JiminyCricketEnv(args.game, games_dir=args.games_dir),
        "probe, full snapshot": FullSnapshotProbeEnv(
            args.game, games_dir=args.games_dir, score_reading="probe"
        ),
        "probe, reference state": ReferenceStateProbeEnv(
            args.game, games_dir=args.games_dir, score_reading="probe"
        ),
        "probe, emulator only": JiminyCricketEnv(
            args.game, games_dir=args.games_dir, score_reading="probe"
        ),
    }
    try:
        envs["reference env"] = ReferenceEnv(args.game, args.games_dir)
    except GameNotFoundError as exc:
        print(f"no reference env row: {exc}", file=sys.stderr)
    if envs["memory"].score_global is None:
        print(f"{args.game}: no memory source of the score; nothing to compare", file=sys.stderr)
        return 1
    commands = envs["memory"].walkthrough()
    best: dict[str, float] = {}
    scores: dict[str, list[int]] = {}
    for _ in range(args.repeats):  # interleaved, so load on the machine hits all alike
        for name, env in envs.items():
            seconds, scores[name] = play(env, commands)
            best[name] = min(best.get(name, float("inf")), seconds)
    reference = scores["probe, full snapshot"]
    if any(s != reference for s in scores.values()):
        print("the protocols disagree on the score: not comparable", file=sys.stderr)
        return 1
    steps = len(reference)
    print(
        f"{args.game}: {steps} walkthrough steps, final score {reference[-1]}, best of {args.repeats}"
    )
    rate = {name: steps / seconds for name, seconds in best.items()}
    for name, value in rate.items():
        print(f"  {name:<22} {value:>9.0f} steps/s  ({1e6 / value:6.1f} us/step)")
    for name in list(rate)[1:]:
        print(f"speed-up vs {name + ':':<24} {rate['memory'] / rate[name]:5.2f}x")
    print("goal: >= 5x vs the probe-per-step protocol")
    return 0


if __name__ == "__main__":
    sys.exit(main())
