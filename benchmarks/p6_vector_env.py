"""Benchmark P6: episodes/s with two AsyncVectorEnv workers vs one.

Runs ``--episodes`` episodes of ``--steps`` commands each on a game through
:func:`s2b_env.vector.make_async` with one worker, then with two, and reports episodes/s and
the ratio. Two workloads:

- ``valid``: the agent picks at random among ``info["valid_actions"]`` (found in each worker's
  own process, cache off so both runs do the same work), the way an LLM agent choosing among
  valid actions runs;
- ``plain``: the agent picks at random among the eight compass directions and ``look``; the
  episode's work is then mostly the pipes between the processes.

Run: .venv/bin/python benchmarks/p6_vector_env.py [--game zork1] [--workload valid]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

COMPASS = ["north", "south", "east", "west", "northeast", "northwest", "up", "down", "look"]


def run(
    env_id: str, workers: int, episodes: int, steps: int, workload: str, games_dir: str
) -> float:
    """Seconds to finish ``episodes`` episodes with ``workers`` envs in parallel."""
    import numpy as np

    from s2b_env.vector import make_async

    kwargs = {"games_dir": games_dir, "max_episode_steps": steps}
    if workload == "valid":
        # No cache: one worker would reuse more of its own results than each of two does, and
        # the two runs would not do the same work.
        kwargs["valid_actions"] = {"cache_size": 0}
    envs = make_async(env_id, workers, **kwargs)
    rng = np.random.default_rng(0)
    try:
        _, infos = envs.reset(seed=list(range(workers)))
        done = 0
        start = time.perf_counter()
        while done < episodes:
            if workload == "valid":
                actions = [str(rng.choice(list(v) or ["look"])) for v in infos["valid_actions"]]
            else:
                actions = [str(rng.choice(COMPASS)) for _ in range(workers)]
            _, _, terminated, truncated, infos = envs.step(actions)
            done += int(np.sum(terminated | truncated))
        return time.perf_counter() - start
    finally:
        envs.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="zork1")
    parser.add_argument("--workload", choices=["valid", "plain"], default="valid")
    parser.add_argument("--episodes", type=int, default=8, help="episodes per measurement")
    parser.add_argument("--steps", type=int, default=10, help="commands per episode")
    parser.add_argument("--games-dir", default=os.environ.get("S2B_GAMES_DIR", "../shared/games"))
    args = parser.parse_args(argv)

    env_id = f"s2b/jericho-{args.game}-v0"
    rates = {}
    for workers in (1, 2):
        seconds = run(env_id, workers, args.episodes, args.steps, args.workload, args.games_dir)
        rates[workers] = args.episodes / seconds
    print(
        f"P6 {args.game}, workload {args.workload}: {args.episodes} episodes of {args.steps} steps"
    )
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for workers, rate in rates.items():
        print(f"{workers} worker(s): {rate:8.3f} episodes/s")
    print(f"two workers vs one: {rates[2] / rates[1]:.2f}x (goal >= 1.7x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
