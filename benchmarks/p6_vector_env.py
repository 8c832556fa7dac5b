"""Benchmark P6: episodes/s with two AsyncVectorEnv workers vs one, and with the bench's pool.

Runs ``--episodes`` episodes of ``--steps`` commands each on a game through
:func:`s2b_env.vector.make_async` with one worker, then with two, and reports episodes/s and
the ratio. Then the same number of episodes as units of ``s2b bench`` in its asynchronous process
pool (:class:`agents.bench.executor.LocalExecutor`, a random agent, one unit per episode, a worker
takes the next unit as soon as it finishes one), with one worker and with two, timed from the first
unit handed to a started worker (process start-up excluded, as the vector env's is). Two workloads:

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


def run_pool(
    game: str, workers: int, episodes: int, steps: int, workload: str, games_dir: str
) -> float:
    """Seconds for the bench's asynchronous pool to play ``episodes`` episodes with ``workers``.

    Episode k is a unit with seed k (the random agent picks among ``info["valid_actions"]`` in
    the ``valid`` workload), so one worker and two play the same episodes.
    """
    from agents.bench.config import BenchConfig
    from agents.bench.executor import LocalExecutor
    from agents.bench.units import plan_units

    kwargs = {"valid_actions": {"cache_size": 0, "workers": 0}} if workload == "valid" else {}
    config = BenchConfig.from_dict({
        "name": "p6",
        "agents": [{"name": "random", "kind": "random"}],
        "envs": [{"name": game, "id": f"jericho-{game}", "kwargs": kwargs, "max_steps": steps}],
        "seeds": list(range(episodes)),
        "workers": workers,
        "games_dir": games_dir,
    })  # fmt: skip
    executor = LocalExecutor(workers, threads=1)
    records: list[dict] = []
    executor.run(config, plan_units(config), records.append)
    took = time.monotonic() - (executor.first_unit_at or time.monotonic())
    failed = [r["unit_id"] for r in records if r["status"] != "ok"]
    if failed or len(records) != episodes:
        raise RuntimeError(f"the pool did not play every episode (failed: {failed})")
    return took


def lockstep_bound(
    env_id: str, episodes: int, steps: int, workload: str, games_dir: str
) -> tuple[float, float]:
    """Best two-worker speed-ups these episodes allow: in lockstep, and in an asynchronous pool.

    Plays the same episodes in one process and times every step. A vector step waits for the
    slower of the two workers, so two lockstep workers take the sum over paired steps of the
    larger time; two pool workers, each taking the next episode when it finishes one, take the
    later of the two workers' finishing times; one worker takes the sum of all times.
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
    free = [0.0, 0.0]  # when each pool worker is free again
    for episode in times:
        free[free.index(min(free))] += sum(episode)
    return serial / paired, serial / max(free)


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
    pool: dict[int, float] = {1: float("inf"), 2: float("inf")}
    for _ in range(args.repeats):  # interleaved, so both see the same machine
        for workers in (1, 2):
            took = run(env_id, workers, args.episodes, args.steps, args.workload, args.games_dir)
            seconds[workers] = min(seconds[workers], took)
            took = run_pool(
                args.game, workers, args.episodes, args.steps, args.workload, args.games_dir
            )
            pool[workers] = min(pool[workers], took)
    rates = {workers: args.episodes / took for workers, took in seconds.items()}
    pool_rates = {workers: args.episodes / took for workers, took in pool.items()}
    print(
        f"P6 {args.game}, workload {args.workload}: {args.episodes} episodes of {args.steps} "
        f"steps, best of {args.repeats}"
    )
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for workers, rate in rates.items():
        print(f"{workers} worker(s): {rate:8.3f} episodes/s")
    print(f"two workers vs one: {rates[2] / rates[1]:.2f}x (goal >= 1.7x)")
    for workers, rate in pool_rates.items():
        print(f"bench pool, {workers} worker(s): {rate:8.3f} episodes/s")
    print(f"bench pool, two workers vs one: {pool_rates[2] / pool_rates[1]:.2f}x (goal >= 1.8x)")
    bound, pool_bound = lockstep_bound(
        env_id, args.episodes, args.steps, args.workload, args.games_dir
    )
    print(f"lockstep bound for these episodes: {bound:.2f}x (slower worker of each step)")
    print(f"pool bound for these episodes: {pool_bound:.2f}x (each worker takes the next episode)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
