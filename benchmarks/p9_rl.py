"""Benchmark P9: the value-shaping wrapper's cost per step, and DRRN training throughput.

1. Wrapper cost (P1-style): an own game's walkthrough routes played through the bare env and
   through ``ValueShapingWrapper(ActionSetWrapper(env))`` with two weights, interleaved,
   ``--repeats`` times; best time per step of each and the ratio (goal: under 1.05x).
2. Training throughput: env steps per second of ``DRRNTrainer`` (one update per step) with 1
   worker, then with 2 workers (two processes training two seeds at once; total steps/s).

Run: .venv/bin/python benchmarks/p9_rl.py [--game lastferry] [--repeats 20] [--steps 300]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor


def _train(game: str, steps: int, seed: int, encoder: str) -> tuple[int, float]:
    import gymnasium as gym
    import torch

    import s2b_env  # noqa: F401
    from agents.drrn.agent import DRRNAgent
    from agents.drrn.model import DRRNNetConfig
    from agents.drrn.trainer import DRRNTrainer, TrainConfig
    from s2b_env.wrappers.action_set import ActionSetWrapper, walkthrough_actions
    from s2b_env.wrappers.shaping import ValueShapingWrapper

    torch.set_num_threads(1)
    env = gym.make(f"s2b/s2b-{game}-v0")
    env = ValueShapingWrapper(ActionSetWrapper(env, walkthrough_actions(env)), "+1 x humility")
    trainer = DRRNTrainer(
        DRRNAgent(DRRNNetConfig(encoder=encoder), seed=seed),
        TrainConfig(steps=steps, max_episode_steps=40),
        seed,
    )
    start = time.perf_counter()
    trainer.train(env)
    return steps, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="lastferry", help="an own game (s2b-<game>)")
    parser.add_argument("--repeats", type=int, default=20, help="timed plays of each (best kept)")
    parser.add_argument("--steps", type=int, default=300, help="training steps per worker")
    parser.add_argument("--encoder", default="bag", choices=("bag", "gru"), help="DRRN encoders")
    parser.add_argument("--skip-wrapper", action="store_true", help="only the training part")
    args = parser.parse_args(argv)

    import gymnasium as gym

    import s2b_env  # noqa: F401
    from s2b_env.wrappers.action_set import ActionSetWrapper, walkthrough_actions
    from s2b_env.wrappers.shaping import ValueShapingWrapper

    warnings.simplefilter("ignore")
    bare = gym.make(f"s2b/s2b-{args.game}-v0")
    inner = gym.make(f"s2b/s2b-{args.game}-v0")
    wrapped = ValueShapingWrapper(
        ActionSetWrapper(inner, walkthrough_actions(inner)),
        "+1 x benevolence_caring, -1 x power_resources",
    )
    inner2 = gym.make(f"s2b/s2b-{args.game}-v0")
    shaped_only = ValueShapingWrapper(inner2, "+1 x benevolence_caring, -1 x power_resources")
    routes = [bare.unwrapped.walkthrough(r) for r in bare.unwrapped.walkthrough_routes()]
    n_steps = sum(len(r) for r in routes)

    def play(env: gym.Env) -> float:
        total = 0.0
        for commands in routes:
            env.reset(seed=0)
            start = time.perf_counter()
            for command in commands:
                env.step(command)
            total += time.perf_counter() - start
        return total

    if not args.skip_wrapper:
        envs = {"bare env": bare, "shaped": shaped_only, "shaped + action set": wrapped}
        best = dict.fromkeys(envs, float("inf"))
        for _ in range(args.repeats):
            for name, env in envs.items():
                best[name] = min(best[name], play(env))
        per_step = {k: v / n_steps * 1e6 for k, v in best.items()}
        load = os.getloadavg()[0]
        print(
            f"P9 {args.game}: {n_steps} walkthrough steps over all routes, best of {args.repeats}"
        )
        print(f"load average {load:.2f} on {os.cpu_count()} cores")
        print(f"{'':24}{'us/step':>10}{'vs bare':>10}")
        for name, us in per_step.items():
            print(f"{name:24}{us:10.1f}{us / per_step['bare env']:9.3f}x")
        print("goal: wrapper overhead < 1.05x")

    for workers in (1, 2):
        start = time.perf_counter()
        with ProcessPoolExecutor(max_workers=workers) as pool:
            done = list(pool.map(_train, [args.game] * workers, [args.steps] * workers,
                                 range(workers), [args.encoder] * workers))  # fmt: skip
        wall = time.perf_counter() - start
        steps = sum(s for s, _ in done)
        each = ", ".join(f"{s / t:.1f}" for s, t in done)
        print(
            f"DRRN ({args.encoder}) training, {workers} worker(s): {steps} steps in {wall:.1f} s wall "
            f"(process start included) = {steps / wall:.1f} steps/s; per worker {each} steps/s; "
            f"load {os.getloadavg()[0]:.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
