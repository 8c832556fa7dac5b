"""Benchmark P1: JerichoEnv.step vs raw jericho FrotzEnv.step, same game, same commands.

Plays the game's walkthrough from reset through a raw ``FrotzEnv`` and through ``JerichoEnv``
(as shipped, and with the step watchdog on), interleaved, ``--repeats`` times, and reports the
best time per step of each and the ratios. Both sides get the same commands; the raw side also
reads the score, moves and end state the way ``FrotzEnv.step`` does itself.

Run: .venv/bin/python benchmarks/p1_env_step.py [--game zork1] [--repeats 20] [--clock cpu]
(``--clock cpu`` times with ``time.process_time``: steadier than wall time on a loaded machine).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="zork1", help="a Jericho game with a walkthrough")
    parser.add_argument("--repeats", type=int, default=20, help="timed plays of each (best kept)")
    parser.add_argument("--games-dir", default=os.environ.get("S2B_GAMES_DIR", "../shared/games"))
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall", help="perf_counter or process_time"
    )
    args = parser.parse_args(argv)

    import jericho

    from s2b_env.jericho.env import JerichoEnv

    warnings.simplefilter("ignore")
    env = JerichoEnv(args.game, games_dir=args.games_dir)
    guarded = JerichoEnv(args.game, games_dir=args.games_dir, step_timeout=60)
    raw = jericho.FrotzEnv(str(env.story_path))
    commands = env.walkthrough()
    if not commands:
        print(f"{args.game} has no walkthrough", file=sys.stderr)
        return 2

    clock = time.perf_counter if args.clock == "wall" else time.process_time

    def play_raw() -> float:
        raw.reset()
        start = clock()
        for command in commands:
            raw.step(command)
        return clock() - start

    def play(e: JerichoEnv) -> float:
        e.reset()
        start = clock()
        for command in commands:
            e.step(command)
        return clock() - start

    best = {"raw": float("inf"), "env": float("inf"), "env+watchdog": float("inf")}
    for _ in range(args.repeats):
        best["raw"] = min(best["raw"], play_raw())
        best["env"] = min(best["env"], play(env))
        best["env+watchdog"] = min(best["env+watchdog"], play(guarded))
    per_step = {k: v / len(commands) * 1e6 for k, v in best.items()}
    load = os.getloadavg()[0]
    print(
        f"P1 {args.game}: {len(commands)} walkthrough commands, best of {args.repeats} "
        f"({args.clock} clock)"
    )
    print(f"load average {load:.2f} on {os.cpu_count()} cores")
    print(f"{'':24}{'us/step':>10}{'vs raw':>10}")
    for name, us in per_step.items():
        print(f"{name:24}{us:10.1f}{us / per_step['raw']:9.2f}x")
    print("goal: env overhead <= 1.15x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
