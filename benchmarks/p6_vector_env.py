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
    # Episode k picks its actions from its own generator, seeded k, whichever worker plays it:
    # one worker and two play the same episodes with the same commands, so they do the same work.
    episode_of = list(range(workers))
    rngs = [np.random.default_rng(k) for k in episode_of]
    next_episode = workers
    try:
        _, infos = envs.reset(seed=list(range(workers)))
        done = 0
        restarting = [False] * workers
        start = time.perf_counter()
        while done < episodes:
            actions = []
            for i in range(workers):
                if workload == "valid":
                    choices = list(infos["valid_actions"][i]) or ["look"]
                else:
                    choices = COMPASS
                # On an autoreset step the action is ignored: draw nothing for it.
                actions.append("look" if restarting[i] else str(rngs[i].choice(choices)))
            _, _, terminated, truncated, infos = envs.step(actions)
            ended = terminated | truncated
            for i in range(workers):
                restarting[i] = bool(ended[i])
                if ended[i]:
                    done += 1
                    episode_of[i] = next_episode
                    rngs[i] = np.random.default_rng(next_episode)
                    next_episode += 1
        return time.perf_counter() - start
    finally:
        envs.close()


def lockstep_bound(env_id: str, episodes: int, steps: int, workload: str, games_dir: str) -> float:
    """Best two-worker speed-up Gymnasium's lockstep vector step allows for these episodes.

    Plays the same episodes in one process and times every step. A vector step waits for the
    slower of the two workers, so two workers take the sum over paired steps of the larger time;
    one worker takes the sum of all times.
    """
    import gymnasium as gym
    import numpy as np

    import s2b_env  # noqa: F401  (registers the ids)

    kwargs = {"games_dir": games_dir, "max_episode_steps": steps}
    if workload == "valid":
        kwargs["valid_actions"] = {"cache_size": 0, "workers": 0}
    env = gym.make(env_id, **kwargs)
    times: list[list[float]] = []
    try:
        for k in range(episodes):
            rng = np.random.default_rng(k)
            start = time.perf_counter()
            _, info = env.reset(seed=k)
            episode = [time.perf_counter() - start]
            while True:
                choices = (
                    (list(info["valid_actions"]) or ["look"]) if workload == "valid" else COMPASS
                )
                action = str(rng.choice(choices))
                start = time.perf_counter()
                _, _, terminated, truncated, info = env.step(action)
                episode.append(time.perf_counter() - start)
                if terminated or truncated:
                    break
            times.append(episode)
    finally:
        env.close()
    serial = sum(sum(t) for t in times)
    paired = 0.0
    for a, b in zip(times[0::2], times[1::2], strict=False):
        n = max(len(a), len(b))
        a, b = a + [0.0] * (n - len(a)), b + [0.0] * (n - len(b))
        paired += sum(max(x, y) for x, y in zip(a, b, strict=True))
    if len(times) % 2:
        paired += sum(times[-1])
    return serial / paired


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="zork1")
    parser.add_argument("--workload", choices=["valid", "plain"], default="valid")
    parser.add_argument("--episodes", type=int, default=8, help="episodes per measurement")
    parser.add_argument("--steps", type=int, default=10, help="commands per episode")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs of each")
    parser.add_argument("--games-dir", default=os.environ.get("S2B_GAMES_DIR", "../shared/games"))
    args = parser.parse_args(argv)

    env_id = f"s2b/jericho-{args.game}-v0"
    seconds: dict[int, float] = {1: float("inf"), 2: float("inf")}
    for _ in range(args.repeats):  # interleaved, so both see the same machine
        for workers in (1, 2):
            took = run(env_id, workers, args.episodes, args.steps, args.workload, args.games_dir)
            seconds[workers] = min(seconds[workers], took)
    rates = {workers: args.episodes / took for workers, took in seconds.items()}
    print(
        f"P6 {args.game}, workload {args.workload}: {args.episodes} episodes of {args.steps} "
        f"steps, best of {args.repeats}"
    )
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for workers, rate in rates.items():
        print(f"{workers} worker(s): {rate:8.3f} episodes/s")
    print(f"two workers vs one: {rates[2] / rates[1]:.2f}x (goal >= 1.7x)")
    bound = lockstep_bound(env_id, args.episodes, args.steps, args.workload, args.games_dir)
    print(f"lockstep bound for these episodes: {bound:.2f}x (slower worker of each step)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
